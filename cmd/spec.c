/* silo spec: write a default config.json. */
#include <stdio.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] spec [options]\n"
    "\n"
    "Writes a default config.json (like runc's) into the bundle directory.\n"
    "\n"
    "Options:\n"
    "  -b, --bundle DIR   where to write config.json (default: the current directory)\n"
    "      --rootless     a config for an unprivileged user (user namespace, mapped ids)\n"
    "  -h, --help         show this help\n";

int
cmd_spec(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {{"bundle", required_argument, NULL, 'b'},
                                        {"rootless", no_argument, NULL, 'r'},
                                        {"help", no_argument, NULL, 'h'},
                                        {0}};
  const char *bundle = ".";
  bool rootless = false;
  int c;
  (void)ctx;
  while ((c = cmd_getopt(argc, argv, "+b:h", longs)) != -1) {
    switch (c) {
    case 'b':
      bundle = optarg;
      break;
    case 'r':
      rootless = true;
      break;
    case 'h':
      return cmd_help(usage);
    default:
      return cmd_bad_option("spec");
    }
  }
  if (cmd_need_args("spec", argc, 0, "")) return 1;
  struct silo_error err = {0};
  return silo_spec(bundle, rootless, &err) < 0 ? cmd_fail(&err) : 0;
}
