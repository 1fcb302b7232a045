/* silo restore: bring a checkpointed container back with CRIU (runc's flags). */
#include <stdio.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] restore [options] ID\n"
    "\n"
    "Restores the container ID from a checkpoint.  In the foreground silo waits for it\n"
    "as `run` does (and deletes it when it exits); with --detach it returns at once.\n"
    "\n"
    "Options:\n"
    "  -b, --bundle DIR          bundle directory (default: the current directory)\n"
    "      --image-path DIR      the checkpoint's images (default: ./checkpoint)\n"
    "      --work-path DIR       CRIU's work directory and restore.log (default: the image path)\n"
    "      --import FILE         restore from a `checkpoint --export` archive; it fills an\n"
    "                            empty bundle with its config.json and rootfs\n"
    "  -d, --detach              return once the container runs\n"
    "      --pid-file FILE       write the restored process's pid to FILE\n"
    "      --console-socket SOCK send the pty master of a terminal container to SOCK\n"
    "      --tcp-established     restore established TCP connections\n"
    "      --tcp-close           restore TCP connections closed\n"
    "      --ext-unix-sk         allow external unix sockets\n"
    "      --shell-job           the container is a shell job\n"
    "      --file-locks          restore file locks\n"
    "      --lazy-pages          fetch the memory lazily from a `criu lazy-pages` daemon\n"
    "      --manage-cgroups-mode soft|full|strict|ignore  how CRIU handles the cgroups\n"
    "      --empty-ns network    the network namespace was dumped empty\n"
    "      --auto-dedup          free image pages once restored\n"
    "      --no-pivot                    accepted (runc's flag)\n"
    "      --no-subreaper                do not adopt the container's orphans (foreground)\n"
    "      --lsm-profile P, --lsm-mount-context C  accepted and ignored\n"
    "      --criu-timeout SECS   kill CRIU after SECS seconds (default 300; 0: never)\n"
    "  -h, --help                show this help\n";

enum {
  OPT_PID_FILE = 400,
  OPT_CONSOLE,
  OPT_IMPORT,
  OPT_NO_PIVOT,
  OPT_NO_SUBREAPER,
  OPT_TCP_CLOSE,
  OPT_LSM_PROFILE,
  OPT_LSM_MOUNT
};

int
cmd_restore(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      CMD_CRIU_OPTIONS,
      {"bundle", required_argument, NULL, 'b'},
      {"detach", no_argument, NULL, 'd'},
      {"pid-file", required_argument, NULL, OPT_PID_FILE},
      {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"import", required_argument, NULL, OPT_IMPORT},
      {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
      {"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
      {"tcp-close", no_argument, NULL, OPT_TCP_CLOSE},
      {"lsm-profile", required_argument, NULL, OPT_LSM_PROFILE},
      {"lsm-mount-context", required_argument, NULL, OPT_LSM_MOUNT},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  struct silo_restore_opts o = {.criu.timeout = CMD_CRIU_TIMEOUT};
  int c;
  /* A missing value is reported as "flag needs an argument: --X" (cmd_getopt): Podman
   * probes for that text with a bare --lsm-mount-context. */
  while ((c = cmd_getopt(argc, argv, "+b:dh", longs)) != -1) {
    switch (c) {
    case 'b':
      o.bundle = optarg;
      break;
    case 'd':
      o.detach = true;
      break;
    case OPT_PID_FILE:
      o.pid_file = optarg;
      break;
    case OPT_CONSOLE:
      o.console_socket = optarg;
      break;
    case OPT_IMPORT:
      o.import_path = optarg;
      break;
    case OPT_NO_PIVOT:
      o.no_pivot = true;
      break;
    case OPT_NO_SUBREAPER:
      o.no_subreaper = true;
      break;
    case OPT_TCP_CLOSE:
      o.tcp_close = true;
      break;
    case OPT_LSM_PROFILE:
    case OPT_LSM_MOUNT:
      break; /* no LSM support: accepted, as Podman passes them */
    case 'h':
      return cmd_help(usage);
    default: {
      int r = cmd_criu_opt("restore", c, optarg, &o.criu);
      if (r < 0) return cmd_bad_option("restore");
      if (r > 0) return r;
    }
    }
  }
  if (cmd_need_args("restore", argc, 1, "container ID")) return 1;
  o.id = argv[optind];
  struct silo_error err = {0};
  int code = 0;
  if (silo_restore(ctx, &o, &code, &err) < 0) return cmd_fail(&err);
  return code;
}
