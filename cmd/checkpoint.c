/* silo checkpoint: dump a running container with CRIU (runc's flags). */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] checkpoint [options] ID\n"
    "\n"
    "Checkpoints the running container ID with CRIU (the binary is --criu, $CRIU or\n"
    "criu in PATH).  Without --leave-running the container is stopped and deleted.\n"
    "\n"
    "Options:\n"
    "      --image-path DIR      where the images go (default: ./checkpoint)\n"
    "      --work-path DIR       CRIU's work directory and dump.log (default: the image path)\n"
    "      --leave-running       keep the container running after the dump\n"
    "      --tcp-established     dump established TCP connections\n"
    "      --ext-unix-sk         allow external unix sockets\n"
    "      --shell-job           the container is a shell job (its terminal is the caller's)\n"
    "      --file-locks          dump file locks\n"
    "      --pre-dump            only dump the memory (iterative migration; needs soft-dirty)\n"
    "      --parent-path DIR     a pre-dump to build on, relative to the image path\n"
    "      --page-server A:P     send the memory pages to a `criu page-server` at A:P\n"
    "      --lazy-pages          leave the pages for a lazy restore (needs --page-server)\n"
    "      --status-fd FD        write \\0 to FD once lazy pages can be served\n"
    "      --manage-cgroups-mode soft|full|strict|ignore  how CRIU handles the cgroups\n"
    "      --empty-ns network    do not dump the network namespace's contents\n"
    "      --auto-dedup          free the pages of the parent that this dump replaces\n"
    "      --export FILE         also write one archive (images, config, manifest,\n"
    "                            a writable rootfs) that `restore --import` takes\n"
    "      --criu-timeout SECS   kill CRIU after SECS seconds (default 300; 0: never)\n"
    "  -h, --help                show this help\n";

int
cmd_criu_opt(const char *cmd, int c, const char *arg, struct silo_criu_opts *o)
{
  switch (c) {
  case OPT_CRIU_IMAGE:
    o->image_path = arg;
    return 0;
  case OPT_CRIU_WORK:
    o->work_path = arg;
    return 0;
  case OPT_CRIU_TCP:
    o->tcp_established = true;
    return 0;
  case OPT_CRIU_EXT_UNIX:
    o->ext_unix_sk = true;
    return 0;
  case OPT_CRIU_SHELL:
    o->shell_job = true;
    return 0;
  case OPT_CRIU_LOCKS:
    o->file_locks = true;
    return 0;
  case OPT_CRIU_LAZY:
    o->lazy_pages = true;
    return 0;
  case OPT_CRIU_DEDUP:
    o->auto_dedup = true;
    return 0;
  case OPT_CRIU_CGMODE:
    if (strcmp(arg, "soft") && strcmp(arg, "full") && strcmp(arg, "strict") &&
        strcmp(arg, "ignore"))
      return cmd_usage_error(cmd,
                             "--manage-cgroups-mode: `%s` is not soft, full, strict or "
                             "ignore",
                             arg);
    o->manage_cgroups_mode = arg;
    return 0;
  case OPT_CRIU_EMPTY_NS:
    if (strcmp(arg, "network") && strcmp(arg, "net"))
      return cmd_usage_error(cmd, "--empty-ns: only `network` is supported, not `%s`", arg);
    o->empty_netns = true;
    return 0;
  case OPT_CRIU_TIMEOUT:
    if (!cmd_parse_uint(arg, &o->timeout))
      return cmd_usage_error(cmd, "--criu-timeout: `%s` is not a number of seconds", arg);
    return 0;
  }
  return -1;
}

enum { OPT_LEAVE = 400, OPT_PRE_DUMP, OPT_PARENT, OPT_PAGE_SERVER, OPT_STATUS_FD, OPT_EXPORT };

int
cmd_checkpoint(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      CMD_CRIU_OPTIONS,
      {"leave-running", no_argument, NULL, OPT_LEAVE},
      {"pre-dump", no_argument, NULL, OPT_PRE_DUMP},
      {"parent-path", required_argument, NULL, OPT_PARENT},
      {"page-server", required_argument, NULL, OPT_PAGE_SERVER},
      {"status-fd", required_argument, NULL, OPT_STATUS_FD},
      {"export", required_argument, NULL, OPT_EXPORT},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  struct silo_checkpoint_opts o = {.status_fd = -1, .criu.timeout = CMD_CRIU_TIMEOUT};
  unsigned fd;
  int c;
  while ((c = cmd_getopt(argc, argv, "+h", longs)) != -1) {
    switch (c) {
    case OPT_LEAVE:
      o.leave_running = true;
      break;
    case OPT_PRE_DUMP:
      o.pre_dump = true;
      break;
    case OPT_PARENT:
      o.parent_path = optarg;
      break;
    case OPT_PAGE_SERVER:
      o.page_server = optarg;
      break;
    case OPT_EXPORT:
      o.export_path = optarg;
      break;
    case OPT_STATUS_FD:
      if (!cmd_parse_uint(optarg, &fd) || fd > 1 << 20)
        return cmd_usage_error("checkpoint", "--status-fd: `%s` is not an fd", optarg);
      o.status_fd = (int)fd;
      break;
    case 'h':
      return cmd_help(usage);
    default: {
      int r = cmd_criu_opt("checkpoint", c, optarg, &o.criu);
      if (r < 0) return cmd_bad_option("checkpoint");
      if (r > 0) return r;
    }
    }
  }
  if (cmd_need_args("checkpoint", argc, 1, "container ID")) return 1;
  o.id = argv[optind];
  if (o.pre_dump && o.export_path)
    return cmd_usage_error("checkpoint", "--pre-dump and --export do not go together");
  struct silo_error err = {0};
  return silo_checkpoint(ctx, &o, &err) < 0 ? cmd_fail(&err) : 0;
}
