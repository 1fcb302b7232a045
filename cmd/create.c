/* silo create: make a container and leave its process waiting for `start`. */
#include <stdio.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] create [options] ID\n"
    "\n"
    "Creates the container ID from the bundle: namespaces, cgroup, root filesystem and\n"
    "process are set up, and the process waits until `silo start ID`.\n"
    "\n"
    "Options:\n" CREATE_OPTIONS_HELP;

enum {
  OPT_NETWORK = 300,
  OPT_IPV6,
  OPT_SUBNET6,
  OPT_CONFIG = 256,
  OPT_PID_FILE,
  OPT_CONSOLE,
  OPT_PRESERVE,
  OPT_NO_PIVOT,
  OPT_NO_KEYRING,
  OPT_NO_SUBREAPER,
  OPT_DETACH,
  OPT_KEEP
};

/* create and run share their flags; run adds --detach and --keep. */
int
cmd_parse_create_opts(const char *cmd, int argc, char **argv, struct silo_create_opts *o,
                      bool is_run, const char *help)
{
  static const struct option longs[] = {
      {"bundle", required_argument, NULL, 'b'},
      {"config", required_argument, NULL, OPT_CONFIG},
      {"pid-file", required_argument, NULL, OPT_PID_FILE},
      {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
      {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
      {"no-new-keyring", no_argument, NULL, OPT_NO_KEYRING},
      {"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
      {"detach", no_argument, NULL, 'd'},
      {"keep", no_argument, NULL, OPT_KEEP},
      {"network", required_argument, NULL, OPT_NETWORK},
      {"publish", required_argument, NULL, 'p'},
      {"ipv6", no_argument, NULL, OPT_IPV6},
      {"subnet6", required_argument, NULL, OPT_SUBNET6},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  int c;
  /* --publish may repeat: at most one per argument. */
  static const char *publish[64];
  o->publish = publish;
  while ((c = cmd_getopt(argc, argv, is_run ? "+b:dp:h" : "+b:p:h", longs)) != -1) {
    switch (c) {
    case OPT_NETWORK:
      o->network = optarg;
      break;
    case OPT_IPV6:
      o->ipv6 = true;
      break;
    case OPT_SUBNET6:
      o->subnet6 = optarg;
      break;
    case 'p':
      if (o->n_publish == sizeof publish / sizeof publish[0])
        return cmd_usage_error(cmd, "too many --publish");
      publish[o->n_publish++] = optarg;
      break;
    case 'b':
      o->bundle = optarg;
      break;
    case OPT_CONFIG:
      o->config_path = optarg;
      break;
    case OPT_PID_FILE:
      o->pid_file = optarg;
      break;
    case OPT_CONSOLE:
      o->console_socket = optarg;
      break;
    case OPT_PRESERVE:
      if (!cmd_parse_uint(optarg, &o->preserve_fds))
        return cmd_usage_error(cmd, "--preserve-fds: `%s` is not a number", optarg);
      break;
    case OPT_NO_PIVOT:
      o->no_pivot = true;
      break;
    case OPT_NO_KEYRING:
      o->no_new_keyring = true;
      break;
    case OPT_NO_SUBREAPER:
      o->no_subreaper = true;
      break;
    case 'd':
      if (!is_run) return cmd_usage_error(cmd, "unknown option --detach");
      o->detach = true;
      break;
    case OPT_KEEP:
      if (!is_run) return cmd_usage_error(cmd, "unknown option --keep");
      o->keep = true;
      break;
    case 'h':
      cmd_help(help);
      return -1;
    default:
      return cmd_bad_option(cmd);
    }
  }
  if (cmd_need_args(cmd, argc, 1, "container ID")) return 1;
  o->id = argv[optind];
  return 0;
}

int
cmd_create(struct silo_context *ctx, int argc, char **argv)
{
  struct silo_create_opts o = {0};
  int r = cmd_parse_create_opts("create", argc, argv, &o, false, usage);
  if (r) return r < 0 ? 0 : r;
  struct silo_error err = {0};
  return silo_create(ctx, &o, &err) < 0 ? cmd_fail(&err) : 0;
}
