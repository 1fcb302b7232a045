/* silo features: what this runtime supports, as the OCI features document. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"

static const char usage[] = "Usage: silo [global options] features\n"
                            "\n"
                            "Prints the OCI runtime features document (JSON): supported OCI\n"
                            "versions, hooks, mount options, namespaces, capabilities, cgroup\n"
                            "and seccomp support.\n";

int
cmd_features(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {0}};
  int c;
  (void)ctx;
  while ((c = cmd_getopt(argc, argv, "+h", longs)) != -1) {
    if (c == 'h') return cmd_help(usage);
    return cmd_bad_option("features");
  }
  if (cmd_need_args("features", argc, 0, "")) return 1;
  char *doc = silo_features();
  if (!doc) return 1;
  puts(doc);
  free(doc);
  return 0;
}
