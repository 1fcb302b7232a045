/* silo kill: send a signal to a container's process (or all of them). */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] kill [--all] ID [SIGNAL]\n"
    "\n"
    "Sends SIGNAL (default TERM) to the container's process.  SIGNAL is a name\n"
    "(TERM, SIGTERM, RTMIN+2) or a number; 0 sends nothing and only checks that the\n"
    "container is running.\n"
    "\n"
    "Options:\n"
    "  -a, --all    send it to every process in the container's cgroup\n"
    "  -h, --help   show this help\n";

int
cmd_kill(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {0}};
  bool all = false;
  int c;
  while ((c = cmd_getopt(argc, argv, "+ah", longs)) != -1) {
    if (c == 'a')
      all = true;
    else if (c == 'h')
      return cmd_help(usage);
    else
      return cmd_bad_option("kill");
  }
  int left = argc - optind;
  if (left < 1) return cmd_usage_error("kill", "missing container ID");
  if (left > 2)
    return cmd_usage_error("kill", "unexpected argument `%s` (too many arguments)",
                           argv[optind + 2]);
  struct silo_error err = {0};
  int sig = 15;
  /* Signal 0 probes the container (an error when it is not running), as runc takes it. */
  if (left == 2 && strcmp(argv[optind + 1], "0") == 0)
    sig = 0;
  else if (left == 2 && silo_parse_signal(argv[optind + 1], &sig, &err) < 0)
    return cmd_fail(&err);
  return silo_kill(ctx, argv[optind], sig, all, &err) < 0 ? cmd_fail(&err) : 0;
}
