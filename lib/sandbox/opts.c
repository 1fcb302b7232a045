/* silo lib/: the values of `silo sandbox` options, checked before anything is made.
 * Pure functions (tests/unit/lib/sandbox/test_sandbox_opts.c). */
#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lib/base/error.h"
#include "lib/sandbox/sandbox.h"

/* A non-negative decimal number at *p ("12", "1.5", ".5"); advances *p. */
static bool
number(const char **p, double *v)
{
  const char *s = *p;
  double r = 0, scale = 1;
  bool digits = false, dot = false;
  for (; isdigit((unsigned char)*s) || (*s == '.' && !dot); s++) {
    if (*s == '.') {
      dot = true;
      continue;
    }
    digits = true;
    if (dot)
      r += (scale /= 10) * (*s - '0');
    else if ((r = r * 10 + (*s - '0')) > 1e18)
      return false;
  }
  if (!digits) return false;
  *v = r;
  *p = s;
  return true;
}

int
sandbox_parse_duration(const char *s, uint64_t *ms, struct silo_error *err)
{
  static const struct {
    const char *unit;
    double ms;
  } units[] = {{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}};
  const char *p = s;
  double total = 0;
  int parts = 0;
  while (p && *p) {
    double v;
    if (!number(&p, &v)) goto bad;
    size_t u;
    for (u = 0; u < ARRAY_SIZE(units); u++) {
      size_t n = strlen(units[u].unit);
      /* "m" must not eat the "ms" of "1ms". */
      if (strncmp(p, units[u].unit, n) == 0 && !isalpha((unsigned char)p[n])) break;
    }
    if (u == ARRAY_SIZE(units)) {
      /* A bare number is seconds, as timeout(1) takes it, but only on its own. */
      if (*p || parts) goto bad;
      total += v * 1e3;
    } else {
      total += v * units[u].ms;
      p += strlen(units[u].unit);
    }
    parts++;
  }
  if (!parts || total > 1e15) goto bad;
  *ms = (uint64_t)(total + 0.5);
  return 0;
bad:
  return silo_err(err, EINVAL, "`%s` is not a duration (e.g. 30, 1.5s, 500ms, 2m, 1h30m)", s);
}

void
sandbox_format_duration(uint64_t ms, char *buf, size_t len)
{
  if (ms < 1000) {
    snprintf(buf, len, "%llums", (unsigned long long)ms);
    return;
  }
  unsigned long long h = ms / 3600000, m = ms / 60000 % 60;
  double sec = (double)(ms % 60000) / 1e3;
  size_t o = 0;
  if (h) o += (size_t)snprintf(buf + o, len - o, "%lluh", h);
  if (m && o < len) o += (size_t)snprintf(buf + o, len - o, "%llum", m);
  if ((sec > 0 || o == 0) && o < len) snprintf(buf + o, len - o, "%gs", sec);
}

int
sandbox_parse_size(const char *s, int64_t *bytes, struct silo_error *err)
{
  const char *p = s;
  double v;
  if (!number(&p, &v)) goto bad;
  double mult = 1;
  if (*p) {
    const char *units = "kmgt";
    const char *u = strchr(units, tolower((unsigned char)*p));
    if (u) {
      for (const char *k = units; k <= u; k++) mult *= 1024;
      p++;
      if (*p == 'i' || *p == 'I') p++;
    }
    if (*p == 'b' || *p == 'B') p++;
    if (*p) goto bad;
  }
  v *= mult;
  if (v < 1 || v > 9.2e18) goto bad;
  *bytes = (int64_t)v;
  return 0;
bad:
  return silo_err(err, EINVAL, "`%s` is not a size (e.g. 512m, 1g, 1048576)", s);
}

int
sandbox_parse_cpus(const char *s, int64_t *quota, uint64_t *period, struct silo_error *err)
{
  const char *p = s;
  double v;
  if (!number(&p, &v) || *p)
    return silo_err(err, EINVAL, "`%s` is not a number of CPUs (e.g. 1, 0.5, 2.5)", s);
  *period = 100000; /* 100 ms, the kernel's default */
  if (v > 1e6) return silo_err(err, EINVAL, "`%s`: too many CPUs", s);
  *quota = (int64_t)(v * (double)*period + 0.5);
  if (*quota < 1000) return silo_err(err, EINVAL, "`%s`: at least 0.01 CPU", s);
  return 0;
}

int
sandbox_parse_bind(const char *s, struct sandbox_bind *b, struct silo_error *err)
{
  memset(b, 0, sizeof *b);
  const char *c1 = strchr(s, ':');
  if (!c1 || c1 == s) goto bad;
  const char *dst = c1 + 1, *c2 = strchr(dst, ':');
  size_t dlen = c2 ? (size_t)(c2 - dst) : strlen(dst);
  if (dlen == 0 || dst[0] != '/') goto bad;
  if (c2) {
    if (strcmp(c2 + 1, "ro") == 0)
      b->ro = true;
    else if (strcmp(c2 + 1, "rw") != 0)
      goto bad;
  }
  b->src = xasprintf("%.*s", (int)(c1 - s), s);
  b->dst = xasprintf("%.*s", (int)dlen, dst);
  return 0;
bad:
  return silo_err(err, EINVAL, "`%s` is not SRC:DST[:ro] with an absolute DST", s);
}

char *
sandbox_cap_name(const char *s, struct silo_error *err)
{
  const char *bare = strncasecmp(s, "CAP_", 4) == 0 ? s + 4 : s;
  if (strcasecmp(bare, "ALL") == 0) return xstrdup("ALL");
  char low[64];
  size_t n = strlen(bare);
  if (n == 0 || n >= sizeof low) goto bad;
  for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)bare[i]);
  if (capng_name_to_capability(low) < 0) goto bad;
  char *r = xasprintf("CAP_%s", low);
  for (char *p = r + 4; *p; p++) *p = (char)toupper((unsigned char)*p);
  return r;
bad:
  silo_err(err, EINVAL, "unknown capability `%s`", s);
  return NULL;
}
