/* silo: the command-line entry point — global flags, then one command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"

static const struct command commands[] = {
    {"create", cmd_create, "create a container"},
    {"start", cmd_start, "start a created container"},
    {"run", cmd_run, "create and start a container"},
    {"exec", cmd_exec, "run a process in a running container"},
    {"state", cmd_state, "print the state of a container"},
    {"kill", cmd_kill, "send a signal to a container"},
    {"delete", cmd_delete, "delete a container"},
    {"list", cmd_list, "list containers"},
    {"pause", cmd_pause, "freeze every process of a container"},
    {"resume", cmd_resume, "thaw a paused container"},
    {"ps", cmd_ps, "list the processes of a container"},
    {"update", cmd_update, "change the resource limits of a container"},
    {"mounts", cmd_mounts, "add or remove bind mounts of a running container"},
    {"events", cmd_events, "print resource statistics and OOM events of a container"},
    {"checkpoint", cmd_checkpoint, "checkpoint a running container with CRIU"},
    {"restore", cmd_restore, "restore a container from a checkpoint"},
    {"migrate", cmd_migrate, "move a running container to another host"},
    {"migrate-receive", cmd_migrate_receive, "receive containers from `silo migrate`"},
    {"sandbox", cmd_sandbox, "run a command in a throw-away container"},
    {"spec", cmd_spec, "write a default config.json"},
    {"features", cmd_features, "print the OCI features document"},
};

static void
usage(FILE *out)
{
  fprintf(out, "Usage: silo [global options] COMMAND [options] [ARGS]\n"
               "\n"
               "silo is an OCI container runtime (a drop-in for runc and crun).\n"
               "\n"
               "Commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n"
               "Global options:\n"
               "      --root DIR              state directory (default /run/silo)\n"
               "      --log FILE              also write errors to FILE\n"
               "      --log-format text|json  format of --log (default text)\n"
               "      --debug                 print debug messages\n"
               "      --systemd-cgroup        use the systemd cgroup manager\n"
               "      --cgroup-manager M      cgroupfs, systemd or disabled\n"
               "      --criu PATH             the criu binary (default: $CRIU, or criu in PATH)\n"
               "  -v, --version               print the version\n"
               "  -h, --help                  show this help\n"
               "\n"
               "`silo COMMAND --help` describes a command; man silo(8) has the details.\n");
}

static void
version(void)
{
  printf("silo version %s\nspec: 1.2.0\n%s\n", SILO_VERSION, silo_feature_line());
}

enum {
  OPT_ROOT = 256,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD,
  OPT_MANAGER,
  OPT_CRIU,
  OPT_ROOTLESS
};

int
main(int argc, char **argv)
{
  static const struct option longs[] = {
      {"root", required_argument, NULL, OPT_ROOT},
      {"log", required_argument, NULL, OPT_LOG},
      {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
      {"debug", no_argument, NULL, OPT_DEBUG},
      {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
      {"cgroup-manager", required_argument, NULL, OPT_MANAGER},
      {"criu", required_argument, NULL, OPT_CRIU},
      {"rootless", required_argument, NULL, OPT_ROOTLESS},
      {"version", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  struct silo_context ctx = {.root = NULL, .criu = getenv("CRIU")};
  silo_save_argv(argv);
  int c;
  while ((c = getopt_long_only(argc, argv, "+vh", longs, NULL)) != -1) {
    switch (c) {
    case OPT_ROOT:
      ctx.root = optarg;
      break;
    case OPT_LOG:
      ctx.log_path = optarg;
      break;
    case OPT_LOG_FORMAT:
      if (strcmp(optarg, "json") == 0)
        ctx.log_format = SILO_LOG_JSON;
      else if (strcmp(optarg, "text") == 0)
        ctx.log_format = SILO_LOG_TEXT;
      else
        return fprintf(stderr, "silo: --log-format: `%s` is not text or json\n", optarg), 1;
      break;
    case OPT_DEBUG:
      ctx.debug = true;
      break;
    case OPT_SYSTEMD:
      ctx.cgroup_manager = SILO_CGROUP_SYSTEMD;
      break;
    case OPT_MANAGER:
      if (strcmp(optarg, "cgroupfs") == 0)
        ctx.cgroup_manager = SILO_CGROUP_CGROUPFS;
      else if (strcmp(optarg, "systemd") == 0)
        ctx.cgroup_manager = SILO_CGROUP_SYSTEMD;
      else if (strcmp(optarg, "disabled") == 0)
        ctx.cgroup_manager = SILO_CGROUP_DISABLED;
      else
        return fprintf(stderr,
                       "silo: --cgroup-manager: `%s` is not cgroupfs, systemd or "
                       "disabled\n",
                       optarg),
               1;
      break;
    case OPT_CRIU:
      ctx.criu = optarg;
      break;
    case OPT_ROOTLESS:
      break; /* runc's flag: rootless is detected, the value is accepted */
    case 'v':
      version();
      return 0;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 1;
    }
  }
  /* An unprivileged user's containers live under $XDG_RUNTIME_DIR, like crun's. */
  char *xdg_root = NULL;
  if (!ctx.root) {
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() != 0 && xdg && *xdg)
      ctx.root = xdg_root = xasprintf("%s/silo", xdg);
    else
      ctx.root = "/run/silo";
  }
  struct silo_error err = {0};
  if (silo_log_open(&ctx, &err) < 0) return cmd_fail(&err);
  if (optind >= argc) {
    usage(stderr);
    return 1;
  }
  const char *name = argv[optind];
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(name, commands[i].name) == 0) {
      int sub_argc = argc - optind;
      char **sub_argv = argv + optind;
      optind = 0; /* glibc: a full re-initialisation for the command's own flags */
      int r = commands[i].run(&ctx, sub_argc, sub_argv);
      free(xdg_root);
      return r;
    }
  }
  free(xdg_root);
  silo_err(&err, 0, "unknown command `%s` (see `silo --help`)", name);
  return cmd_fail(&err);
}
