/* silo: the error convention (see error.h). */
#include "lib/base/base.h"

#include <errno.h>
#include <string.h>

int
silo_verr(struct silo_error *e, int errnum, const char *fmt, va_list ap)
{
  if (e == NULL) return -1;
  e->errnum = errnum;
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  return -1;
}

int
silo_err(struct silo_error *e, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  silo_verr(e, errnum, fmt, ap);
  va_end(ap);
  return -1;
}

int
silo_err_wrap(struct silo_error *e, const char *fmt, ...)
{
  char prefix[512], old[SILO_ERROR_MSG_MAX];
  va_list ap;

  if (e == NULL) return -1;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, e->msg, sizeof old);
  /* Truncation is fine (the message stays readable); tell the compiler we know. */
  int n = snprintf(e->msg, sizeof e->msg, "%s%s", prefix, old[0] ? ": " : "");
  if (n > 0 && (size_t)n < sizeof e->msg)
    snprintf(e->msg + n, sizeof e->msg - (size_t)n, "%.*s", (int)(sizeof e->msg - (size_t)n - 1),
             old);
  return -1;
}

const char *
silo_err_str(const struct silo_error *e, char *buf, size_t len)
{
  if (e->errnum)
    snprintf(buf, len, "%s: %s", e->msg, strerror(e->errnum));
  else
    snprintf(buf, len, "%s", e->msg);
  return buf;
}

void
silo_err_clear(struct silo_error *e)
{
  e->errnum = 0;
  e->msg[0] = '\0';
}

static void __attribute__((noreturn)) oom(void)
{
  static const char m[] = "silo: out of memory\n";
  if (write(2, m, sizeof m - 1) < 0) { /* nothing more we can do */
  }
  _exit(1);
}

void *
xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p) oom();
  return p;
}

void *
xcalloc(size_t n, size_t m)
{
  void *p = calloc(n ? n : 1, m ? m : 1);
  if (!p) oom();
  return p;
}

void *
xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (!p) oom();
  return p;
}

char *
xstrdup(const char *s)
{
  char *p = strdup(s);
  if (!p) oom();
  return p;
}

char *
xasprintf(const char *fmt, ...)
{
  char *p;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&p, fmt, ap);
  va_end(ap);
  if (r < 0) oom();
  return p;
}
