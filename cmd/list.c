/* silo list: the containers under the state root. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const char usage[] = "Usage: silo [global options] list [options]\n"
                            "\n"
                            "Lists the containers in the state root.\n"
                            "\n"
                            "Options:\n"
                            "  -f, --format table|json   output format (default: table)\n"
                            "  -q, --quiet               print only the ids\n"
                            "  -h, --help                show this help\n";

int
cmd_list(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {{"format", required_argument, NULL, 'f'},
                                        {"quiet", no_argument, NULL, 'q'},
                                        {"help", no_argument, NULL, 'h'},
                                        {0}};
  enum silo_list_format fmt = SILO_LIST_TABLE;
  bool quiet = false;
  int c;
  while ((c = cmd_getopt(argc, argv, "+f:qh", longs)) != -1) {
    switch (c) {
    case 'f':
      if (strcmp(optarg, "json") == 0)
        fmt = SILO_LIST_JSON;
      else if (strcmp(optarg, "table") == 0)
        fmt = SILO_LIST_TABLE;
      else
        return cmd_usage_error("list", "--format: `%s` is not table or json", optarg);
      break;
    case 'q':
      quiet = true;
      break;
    case 'h':
      return cmd_help(usage);
    default:
      return cmd_bad_option("list");
    }
  }
  if (cmd_need_args("list", argc, 0, "")) return 1;
  struct silo_error err = {0};
  return silo_list(ctx, quiet ? SILO_LIST_QUIET : fmt, &err) < 0 ? cmd_fail(&err) : 0;
}
