/* silo spec: write a default config.json. */
#include <stdio.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] spec [options] [-- COMMAND [ARG...]]\n"
    "\n"
    "Writes a default config.json (like runc's) into the bundle directory: it runs\n"
    "COMMAND (default: sh) on a terminal.\n"
    "\n"
    "Options:\n"
    "  -b, --bundle DIR   where to write config.json (default: the current directory)\n"
    "      --rootless     a config for an unprivileged user (user namespace, mapped ids)\n"
    "      --no-terminal  no terminal (process.terminal false): for create and run -d\n"
    "                     without --console-socket\n"
    "  -h, --help         show this help\n";

int
cmd_spec(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {{"bundle", required_argument, NULL, 'b'},
                                        {"rootless", no_argument, NULL, 'r'},
                                        {"no-terminal", no_argument, NULL, 'T'},
                                        {"help", no_argument, NULL, 'h'},
                                        {0}};
  struct silo_spec_opts o = {.bundle = "."};
  int c;
  (void)ctx;
  /* Everything from the first argument on is the command (after `--` or not). */
  while ((c = cmd_getopt_upto(argc, argv, "+b:h", longs, 0, false)) != -1) {
    switch (c) {
    case 'b':
      o.bundle = optarg;
      break;
    case 'r':
      o.rootless = true;
      break;
    case 'T':
      o.no_terminal = true;
      break;
    case 'h':
      return cmd_help(usage);
    default:
      return cmd_bad_option("spec");
    }
  }
  if (optind < argc) o.args = (const char *const *)&argv[optind];
  struct silo_error err = {0};
  return silo_spec(&o, &err) < 0 ? cmd_fail(&err) : 0;
}
