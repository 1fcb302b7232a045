/* silo delete: remove a container and everything silo made for it. */
#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] delete [--force] ID\n"
    "       silo [global options] delete [--force] --regex REGEX\n"
    "\n"
    "Deletes the container ID: runs its poststop hooks and removes its cgroup and\n"
    "state.  A running container needs --force, which kills it first (SIGKILL).\n"
    "\n"
    "Options:\n"
    "  -f, --force        kill a running container; a missing one is not an error\n"
    "  -r, --regex REGEX  delete every container whose ID matches the extended\n"
    "                     regular expression REGEX (crun's option)\n"
    "  -h, --help         show this help\n";

int
cmd_delete(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {{"force", no_argument, NULL, 'f'},
                                        {"regex", required_argument, NULL, 'r'},
                                        {"help", no_argument, NULL, 'h'},
                                        {0}};
  bool force = false;
  const char *regex = NULL;
  int c;
  while ((c = cmd_getopt(argc, argv, "+fr:h", longs)) != -1) {
    if (c == 'f')
      force = true;
    else if (c == 'r')
      regex = optarg;
    else if (c == 'h')
      return cmd_help(usage);
    else
      return cmd_bad_option("delete");
  }
  struct silo_error err = {0};
  if (regex) {
    if (optind < argc) return cmd_usage_error("delete", "--regex and a container ID are exclusive");
    return silo_delete_regex(ctx, regex, force, &err) < 0 ? cmd_fail(&err) : 0;
  }
  if (cmd_need_args("delete", argc, 1, "container ID")) return 1;
  return silo_delete(ctx, argv[optind], force, &err) < 0 ? cmd_fail(&err) : 0;
}
