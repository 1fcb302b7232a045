/* silo start: let a created container's process run its program. */
#include <stdio.h>

#include "cmd/cmd.h"

static const char usage[] = "Usage: silo [global options] start ID\n"
                            "\n"
                            "Starts the user process of the created container ID.\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help   show this help\n";

int
cmd_start(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {0}};
  int c;
  while ((c = cmd_getopt(argc, argv, "+h", longs)) != -1) {
    if (c == 'h') return cmd_help(usage);
    return cmd_bad_option("start");
  }
  if (cmd_need_args("start", argc, 1, "container ID")) return 1;
  struct silo_error err = {0};
  return silo_start(ctx, argv[optind], &err) < 0 ? cmd_fail(&err) : 0;
}
