/* silo ps: the processes of a container. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] ps [--format table|json] ID [PS OPTIONS...]\n"
    "\n"
    "Lists the processes in the container's cgroup: as a JSON array of host pids, or as\n"
    "the host's `ps` output (with PS OPTIONS, default -ef) limited to them.\n"
    "\n"
    "Options:\n"
    "  -f, --format table|json   output format (default: table)\n"
    "  -h, --help                show this help\n";

int
cmd_ps(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
  bool json = false;
  int c;
  while ((c = cmd_getopt_upto(argc, argv, "+f:h", longs, 1, true)) != -1) {
    switch (c) {
    case 'f':
      if (strcmp(optarg, "json") == 0)
        json = true;
      else if (strcmp(optarg, "table") == 0)
        json = false;
      else
        return cmd_usage_error("ps", "--format: `%s` is not table or json", optarg);
      break;
    case 'h':
      return cmd_help(usage);
    default:
      return cmd_bad_option("ps");
    }
  }
  if (optind >= argc) return cmd_usage_error("ps", "missing container ID");
  const char *id = argv[optind];
  struct silo_error err = {0};
  return silo_ps(ctx, id, json, argv + optind + 1, &err) < 0 ? cmd_fail(&err) : 0;
}
