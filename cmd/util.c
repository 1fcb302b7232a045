/* silo cmd/: helpers shared by the command files. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The state of one command's option parsing (cmd_getopt_upto): main() sets optind to 0
 * before a command, which restarts it.  argv[1 .. 1+npos) holds the positional
 * arguments met so far, moved there as they are passed over; the options already parsed
 * follow them. */
static struct {
  char **argv;
  int npos;
  char msg[256]; /* the last option error, for cmd_bad_option */
} gs;

int
cmd_need_args(const char *cmd, int argc, int n, const char *what)
{
  if (argc - optind < n) return cmd_usage_error(cmd, "missing %s", what);
  if (argc - optind > n && !gs.argv) return cmd_usage_error(cmd, "too many arguments");
  if (argc - optind > n)
    return cmd_usage_error(cmd, "unexpected argument `%s` (too many arguments)",
                           gs.argv[optind + n]);
  return 0;
}

/* Moves argv[from] to argv[to], shifting what lies between by one. */
static void
move_arg(char **argv, int from, int to)
{
  char *a = argv[from];
  if (from > to)
    memmove(argv + to + 1, argv + to, (size_t)(from - to) * sizeof *argv);
  else
    memmove(argv + from, argv + from + 1, (size_t)(to - from) * sizeof *argv);
  argv[to] = a;
}

/* Sets gs.msg for the option argv[at] that getopt refused (c: '?' or ':'). */
static void
option_error(int c, char **argv, int at)
{
  const char *a = argv[at];
  bool printable = optopt > ' ' && optopt < 127;
  if (c == ':')
    snprintf(gs.msg, sizeof gs.msg, "flag needs an argument: %s", a);
  else if (optopt && strchr(a, '='))
    snprintf(gs.msg, sizeof gs.msg, "option `%.*s` takes no value", (int)(strchr(a, '=') - a), a);
  else if (printable && a[0] == '-' && a[1] != '-' && strlen(a) > 2)
    snprintf(gs.msg, sizeof gs.msg, "unknown option -%c (in `%s`)", optopt, a);
  else
    snprintf(gs.msg, sizeof gs.msg, "unknown option `%s`", a);
}

int
cmd_getopt_upto(int argc, char **argv, const char *shorts, const struct option *longs, int max,
                bool rest_at_unknown)
{
  /* "+:": getopt stops at each positional (passed over below) and reports a missing
   * value as ':', not with a message of its own. */
  char sh[64];
  snprintf(sh, sizeof sh, "+:%s", shorts + strspn(shorts, "+:"));
  opterr = 0;
  if (optind == 0 || gs.argv != argv) {
    gs.argv = argv;
    gs.npos = 0;
    gs.msg[0] = '\0';
  }
  for (;;) {
    int at = optind < 1 ? 1 : optind;
    int c = getopt_long_only(argc, argv, sh, longs, NULL);
    if (c == '?' || c == ':') {
      if (rest_at_unknown && c == '?' && max >= 0 && gs.npos >= max) {
        optind = at; /* the first argument that is not ours begins the rest */
        c = -1;
      } else {
        option_error(c, argv, at);
        return '?';
      }
    }
    if (c != -1) return c;
    /* Stopped at a positional argument (not at "--" nor at the end): pass over it,
     * unless it is one past the command's last (then it and all after it are data). */
    bool at_positional = optind == at && optind < argc;
    if (at_positional && (max < 0 || gs.npos < max)) {
      move_arg(argv, optind, 1 + gs.npos++);
      optind++;
      continue;
    }
    /* Done: put the positionals passed over right before the rest, where the commands
     * look for them (argv[optind..]). */
    for (int i = 0; i < gs.npos; i++) move_arg(argv, 1, optind - 1);
    optind -= gs.npos;
    gs.npos = 0;
    return -1;
  }
}

int
cmd_getopt(int argc, char **argv, const char *shorts, const struct option *longs)
{
  return cmd_getopt_upto(argc, argv, shorts, longs, -1, false);
}

int
cmd_bad_option(const char *cmd)
{
  return cmd_usage_error(cmd, "%s", gs.msg[0] ? gs.msg : "unknown option");
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
