/* silo cmd/: helpers shared by the command files. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"

int
cmd_fail(const struct silo_error *err)
{
  silo_log_failure(err);
  return 1;
}

int
cmd_usage_error(const char *cmd, const char *fmt, ...)
{
  struct silo_error e = {0};
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  silo_err(&e, 0, "%s: %s (see `silo %s --help`)", cmd, msg, cmd);
  return cmd_fail(&e);
}

int
cmd_help(const char *usage)
{
  fputs(usage, stdout);
  return 0;
}

int
cmd_need_args(const char *cmd, int argc, int n, const char *what)
{
  if (argc - optind < n) return cmd_usage_error(cmd, "missing %s", what);
  if (argc - optind > n) return cmd_usage_error(cmd, "too many arguments");
  return 0;
}

int
cmd_getopt(int argc, char **argv, const char *shorts, const struct option *longs)
{
  return getopt_long_only(argc, argv, shorts, longs, NULL);
}

bool
cmd_parse_uint(const char *s, unsigned *out)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || end == s || v > UINT_MAX || s[0] == '-') return false;
  *out = (unsigned)v;
  return true;
}
