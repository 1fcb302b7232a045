/* silo delete: remove a container and everything silo made for it. */
#include <stdio.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] delete [--force] ID\n"
    "\n"
    "Deletes the container ID: runs its poststop hooks and removes its cgroup and\n"
    "state.  A running container needs --force, which kills it first (SIGKILL).\n"
    "\n"
    "Options:\n"
    "  -f, --force  kill a running container; a missing one is not an error\n"
    "  -h, --help   show this help\n";

int
cmd_delete(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
  bool force = false;
  int c;
  while ((c = cmd_getopt(argc, argv, "+fh", longs)) != -1) {
    if (c == 'f')
      force = true;
    else if (c == 'h')
      return cmd_help(usage);
    else
      return cmd_bad_option("delete");
  }
  if (cmd_need_args("delete", argc, 1, "container ID")) return 1;
  struct silo_error err = {0};
  return silo_delete(ctx, argv[optind], force, &err) < 0 ? cmd_fail(&err) : 0;
}
