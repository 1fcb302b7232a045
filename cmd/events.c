/* silo events: a container's resource statistics and OOM kills as JSON lines. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] events [--stats] [--interval DURATION] ID\n"
    "\n"
    "Prints the cgroup statistics of the container ID as JSON, one object per line:\n"
    "a {\"type\":\"stats\",...} object every interval and an {\"type\":\"oom\",...} object\n"
    "as soon as the kernel OOM-kills a process of the container.  Ends when the\n"
    "container stops.\n"
    "\n"
    "Options:\n"
    "      --stats                print the statistics once and exit\n"
    "      --interval DURATION    time between two statistics (default 5s; Go-style\n"
    "                             durations: 500ms, 5s, 1m, 1h30m)\n"
    "  -h, --help                 show this help\n";

/* A Go time.Duration string ("300ms", "1.5s", "1h30m", "0") in milliseconds, rounded
 * up so that a positive duration never becomes 0.  False when malformed or too big. */
static bool
parse_duration(const char *s, unsigned *ms)
{
  static const struct {
    const char *unit;
    double ms;
  } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"\xce\xbcs", 1e-3},
               {"ms", 1},    {"s", 1e3},   {"m", 6e4},          {"h", 3.6e6}};
  double total = 0;
  if (*s == '+') s++;
  if (strcmp(s, "0") == 0) {
    *ms = 0;
    return true;
  }
  if (!*s) return false;
  while (*s) {
    size_t n = strspn(s, "0123456789"), f = 0;
    if (s[n] == '.') f = 1 + strspn(s + n + 1, "0123456789");
    if (n == 0 && f <= 1) return false; /* no digits at all */
    char num[64];
    if (n + f >= sizeof num) return false;
    memcpy(num, s, n + f);
    num[n + f] = '\0';
    double v = strtod(num, NULL);
    s += n + f;
    size_t ulen = 0;
    double scale = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
      size_t l = strlen(units[i].unit);
      /* the longest unit that matches ("ms" before "m") */
      if (l > ulen && strncmp(s, units[i].unit, l) == 0) {
        ulen = l;
        scale = units[i].ms;
      }
    }
    if (!ulen) return false; /* a number without a unit */
    s += ulen;
    total += v * scale;
  }
  if (total > UINT_MAX) return false;
  unsigned whole = (unsigned)total;
  *ms = (double)whole < total ? whole + 1 : whole; /* round up, without libm's ceil */
  return true;
}

int
cmd_events(struct silo_context *ctx, int argc, char **argv)
{
  enum { OPT_STATS = 256, OPT_INTERVAL };
  static const struct option longs[] = {{"stats", no_argument, NULL, OPT_STATS},
                                        {"interval", required_argument, NULL, OPT_INTERVAL},
                                        {"help", no_argument, NULL, 'h'},
                                        {0}};
  bool stats = false;
  unsigned interval_ms = 5000;
  int c;
  while ((c = cmd_getopt(argc, argv, "+h", longs)) != -1) {
    switch (c) {
    case OPT_STATS:
      stats = true;
      break;
    case OPT_INTERVAL:
      if (!parse_duration(optarg, &interval_ms))
        return cmd_usage_error("events", "--interval: `%s` is not a duration (e.g. 5s, 500ms)",
                               optarg);
      if (interval_ms == 0)
        return cmd_usage_error("events", "--interval: the duration must be greater than 0");
      break;
    case 'h':
      return cmd_help(usage);
    default:
      return cmd_bad_option("events");
    }
  }
  if (cmd_need_args("events", argc, 1, "container ID")) return 1;
  struct silo_error err = {0};
  return silo_events(ctx, argv[optind], stats, interval_ms, &err) < 0 ? cmd_fail(&err) : 0;
}
