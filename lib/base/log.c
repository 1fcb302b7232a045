/* silo: logging to stderr and to --log FILE, as text or as the JSON lines
 * ({"level","msg","time"}) that Podman (conmon) and containerd read back. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/silo.h"

static int log_fd = -1;
static enum silo_log_format log_format;
static bool log_debug;

int
silo_log_open(struct silo_context *ctx, struct silo_error *err)
{
  log_format = ctx->log_format;
  log_debug = ctx->debug;
  if (ctx->log_path == NULL || ctx->log_path[0] == '\0') return 0;
  /* O_CLOEXEC: the container process must never inherit the runtime's log. */
  log_fd = open(ctx->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log_fd < 0) return silo_err(err, errno, "open log file `%s`", ctx->log_path);
  return 0;
}

static void
json_escape(char *out, size_t len, const char *in)
{
  size_t o = 0;
  for (; *in && o + 7 < len; in++) {
    unsigned char ch = (unsigned char)*in;
    if (ch == '"' || ch == '\\') {
      out[o++] = '\\';
      out[o++] = (char)ch;
    } else if (ch == '\n') {
      out[o++] = '\\';
      out[o++] = 'n';
    } else if (ch < 0x20) {
      o += (size_t)snprintf(out + o, len - o, "\\u%04x", ch);
    } else {
      out[o++] = (char)ch;
    }
  }
  out[o] = '\0';
}

/* One record in runc's (logrus's) form: `time="..." level=... msg="..."`, or one JSON
 * object per line with --log-format json. */
static void
log_record(int fd, const char *level, const char *msg)
{
  char ts[64], esc[(SILO_ERROR_MSG_MAX + 256) * 2];
  time_rfc3339(ts, sizeof ts);
  json_escape(esc, sizeof esc, msg);
  if (log_format == SILO_LOG_JSON)
    dprintf(fd, "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n", level, esc, ts);
  else
    dprintf(fd, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, esc);
}

#define IOV_LIT(s) ((struct iovec){(void *)(s), sizeof(s) - 1})

void
log_error_heapless(const char *const *parts)
{
  /* write(2) only, no printf (glibc's dprintf may allocate a buffer): the caller's
   * heap may be half-updated.  The parts are silo's own text and an id, which
   * state_validate_id keeps to characters that need no JSON escape. */
  struct iovec v[16];
  int n = 0, np = 0;
  while (np < 8 && parts[np]) np++;
  for (int i = 0; i < np; i++) v[n++] = (struct iovec){(void *)parts[i], strlen(parts[i])};
  v[n++] = IOV_LIT("\n");
  if (writev(2, v, n) < 0) { /* nowhere left to say it */
  }
  if (log_fd < 0) return;
  char ts[64];
  time_rfc3339(ts, sizeof ts); /* snprintf of integers into ts: no allocation */
  n = 0;
  if (log_format == SILO_LOG_JSON) {
    v[n++] = IOV_LIT("{\"level\":\"error\",\"msg\":\"");
  } else {
    v[n++] = IOV_LIT("time=\"");
    v[n++] = (struct iovec){ts, strlen(ts)};
    v[n++] = IOV_LIT("\" level=error msg=\"");
  }
  for (int i = 0; i < np; i++) v[n++] = (struct iovec){(void *)parts[i], strlen(parts[i])};
  if (log_format == SILO_LOG_JSON) {
    v[n++] = IOV_LIT("\",\"time\":\"");
    v[n++] = (struct iovec){ts, strlen(ts)};
    v[n++] = IOV_LIT("\"}\n");
  } else {
    v[n++] = IOV_LIT("\"\n");
  }
  if (writev(log_fd, v, n) < 0) {
  }
}

static void
log_write(const char *level, const char *fmt, va_list ap)
{
  char msg[SILO_ERROR_MSG_MAX + 256];
  bool is_debug = strcmp(level, "debug") == 0;
  /* Without --debug a debug line goes nowhere: not even formatted (every command
   * has a few, and exec is measured against nsenter's CPU time). */
  if (is_debug && !log_debug) return;
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (is_debug) {
    /* --debug: records as runc writes them, to --log, else to stderr. */
    log_record(log_fd >= 0 ? log_fd : 2, level, msg);
    return;
  }
  /* Errors and warnings as text on stderr always reach the user, whatever --log
   * says; the log gets the record too. */
  dprintf(2, "%s%s\n", strcmp(level, "error") == 0 ? "" : "warning: ", msg);
  if (log_fd >= 0) log_record(log_fd, level, msg);
}

#define LOG_FN(name, level)                                                                        \
  void name(const char *fmt, ...)                                                                  \
  {                                                                                                \
    va_list ap;                                                                                    \
    va_start(ap, fmt);                                                                             \
    log_write(level, fmt, ap);                                                                     \
    va_end(ap);                                                                                    \
  }

LOG_FN(silo_log_error, "error")
LOG_FN(silo_log_warn, "warning")
LOG_FN(silo_log_debug, "debug")

void
silo_log_failure(const struct silo_error *err)
{
  char buf[SILO_ERROR_MSG_MAX + 128];
  silo_log_error("silo: %s", silo_err_str(err, buf, sizeof buf));
}
