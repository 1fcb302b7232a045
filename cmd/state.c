/* silo state: print a container's OCI state as JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"

static const char usage[] = "Usage: silo [global options] state ID\n"
                            "\n"
                            "Prints the state of the container ID as JSON (OCI runtime-spec\n"
                            "state, plus runc's rootfs, created and owner fields).\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help   show this help\n";

int
cmd_state(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {0}};
  int c;
  while ((c = cmd_getopt(argc, argv, "+h", longs)) != -1) {
    if (c == 'h') return cmd_help(usage);
    return cmd_bad_option("state");
  }
  if (cmd_need_args("state", argc, 1, "container ID")) return 1;
  struct silo_error err = {0};
  char *json = NULL;
  if (silo_state(ctx, argv[optind], &json, &err) < 0) return cmd_fail(&err);
  puts(json);
  free(json);
  return 0;
}
