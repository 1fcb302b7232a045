/* silo mounts add / remove: crun's command for bind mounts of a running container. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] mounts add|remove ID FILE\n"
    "\n"
    "add:    attaches the bind mounts of FILE to the running container ID\n"
    "remove: takes away mounts that `mounts add` attached, by their destination\n"
    "\n"
    "FILE holds mounts as config.json's `mounts` does: a JSON array of\n"
    "{\"destination\", \"type\", \"source\", \"options\"} objects (crun's form), or an\n"
    "object with that `mounts` member.  Only bind mounts can be added.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

int
cmd_mounts(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {0}};
  int c;
  while ((c = cmd_getopt(argc, argv, "+h", longs)) != -1) {
    if (c == 'h') return cmd_help(usage);
    return cmd_bad_option("mounts");
  }
  if (cmd_need_args("mounts", argc, 3, "add|remove, container ID and FILE")) return 1;
  const char *sub = argv[optind], *id = argv[optind + 1], *file = argv[optind + 2];
  bool add = strcmp(sub, "add") == 0;
  if (!add && strcmp(sub, "remove") != 0)
    return cmd_usage_error("mounts", "unknown subcommand `%s` (add or remove)", sub);
  struct silo_error err = {0};
  int r = add ? silo_mounts_add(ctx, id, file, &err) : silo_mounts_remove(ctx, id, file, &err);
  return r < 0 ? cmd_fail(&err) : 0;
}
