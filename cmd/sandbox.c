/* silo sandbox: run one command in a throw-away container from an image or a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] sandbox [options] (--image IMAGE | --rootfs DIR)\n"
    "                                    [--] [CMD [ARG...]]\n"
    "       silo [global options] sandbox --prune\n"
    "\n"
    "Runs CMD in a throw-away container and exits with its exit code.  The root is an\n"
    "overlay of the image's layers (or of DIR) with a private writable layer on top:\n"
    "the image is never modified, and everything made for the sandbox is gone when CMD\n"
    "exits, also when silo itself is killed.  Without CMD, the image's Entrypoint and\n"
    "Cmd run.  Hardened by default: all namespaces (with a user namespace when the\n"
    "layers can be idmapped), Docker's capability set and seccomp profile,\n"
    "no_new_privs.  Exit codes of its own: 124 timed out, 125 silo failed, 126 CMD not\n"
    "executable, 127 CMD not found.\n"
    "\n"
    "Unprivileged users get a rootless sandbox: a user namespace mapping them to root\n"
    "(and their /etc/subuid range, through newuidmap), state in $XDG_RUNTIME_DIR/silo,\n"
    "layers cached in $XDG_CACHE_HOME/silo (~/.cache/silo); limits need a delegated\n"
    "cgroup v2, and --network bridge is root only (see silo-sandbox(8)).\n"
    "\n"
    "Options:\n"
    "      --image IMAGE         an OCI image layout or a docker/podman save archive (tar,\n"
    "                            optionally gzip/zstd; or such a directory)\n"
    "      --rootfs DIR          a directory as the read-only lower layer\n"
    "      --keep-changes DIR    keep the writable layer in DIR/upper (default: a tmpfs)\n"
    "      --bind SRC:DST[:ro]   bind-mount a host path (repeatable)\n"
    "      --tmpfs DST           mount a tmpfs (repeatable)\n"
    "  -e, --env K=V|K           set an environment variable (K alone: the caller's value)\n"
    "  -w, --workdir DIR         working directory (default: the image's, or /)\n"
    "  -u, --user UID[:GID]      user (names are looked up in the image; default: the image's)\n"
    "      --hostname NAME       host name (default: sandbox)\n"
    "  -m, --memory SIZE         memory limit (e.g. 512m, 1g)\n"
    "      --cpus N              CPU quota (e.g. 1.5)\n"
    "      --pids N              maximum number of tasks\n"
    "      --network MODE        none (default: a network namespace of its own, no\n"
    "                            interface but lo) or bridge (silo's bridge network)\n"
    "      --timeout DURATION    kill CMD after DURATION (e.g. 30, 1.5s, 2m) and exit 124\n"
    "      --cap-add CAP         add a capability (repeatable; ALL for all)\n"
    "      --cap-drop CAP        drop a capability (repeatable; ALL for all)\n"
    "      --seccomp PROFILE     default, unconfined, or a profile file (OCI or Docker format)\n"
    "      --no-userns           no user namespace: root in the sandbox is the host's root\n"
    "                            (still with the reduced capabilities)\n"
    "      --prune               remove the cached layers of every image (the user's own,\n"
    "                            rootless)\n"
    "  -h, --help                show this help\n";

enum {
  OPT_IMAGE = 256,
  OPT_ROOTFS,
  OPT_KEEP,
  OPT_BIND,
  OPT_TMPFS,
  OPT_HOSTNAME,
  OPT_CPUS,
  OPT_PIDS,
  OPT_NETWORK,
  OPT_TIMEOUT,
  OPT_CAP_ADD,
  OPT_CAP_DROP,
  OPT_SECCOMP,
  OPT_NO_USERNS,
  OPT_PRUNE,
};

struct list {
  const char **v;
  size_t n;
};

static void
push(struct list *l, const char *s)
{
  l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
  l->v[l->n++] = s;
}

static int
prune(struct silo_context *ctx)
{
  struct silo_error err = {0};
  size_t n = 0;
  if (silo_sandbox_prune(ctx, &n, &err) < 0) return cmd_fail(&err);
  printf("removed %zu cached layer%s\n", n, n == 1 ? "" : "s");
  return 0;
}

int
cmd_sandbox(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      {"image", required_argument, NULL, OPT_IMAGE},
      {"rootfs", required_argument, NULL, OPT_ROOTFS},
      {"keep-changes", required_argument, NULL, OPT_KEEP},
      {"bind", required_argument, NULL, OPT_BIND},
      {"tmpfs", required_argument, NULL, OPT_TMPFS},
      {"env", required_argument, NULL, 'e'},
      {"workdir", required_argument, NULL, 'w'},
      {"user", required_argument, NULL, 'u'},
      {"hostname", required_argument, NULL, OPT_HOSTNAME},
      {"memory", required_argument, NULL, 'm'},
      {"cpus", required_argument, NULL, OPT_CPUS},
      {"pids", required_argument, NULL, OPT_PIDS},
      {"network", required_argument, NULL, OPT_NETWORK},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"cap-add", required_argument, NULL, OPT_CAP_ADD},
      {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
      {"seccomp", required_argument, NULL, OPT_SECCOMP},
      {"no-userns", no_argument, NULL, OPT_NO_USERNS},
      {"prune", no_argument, NULL, OPT_PRUNE},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  struct silo_sandbox_opts o = {0};
  struct list binds = {0}, tmpfs = {0}, env = {0}, add = {0}, drop = {0};
  bool do_prune = false;
  int c, ret = -1;
  while (ret < 0 && (c = cmd_getopt_upto(argc, argv, "+e:w:u:m:h", longs, 0, false)) != -1) {
    switch (c) {
    case OPT_IMAGE:
      o.image = optarg;
      break;
    case OPT_ROOTFS:
      o.rootfs = optarg;
      break;
    case OPT_KEEP:
      o.keep_changes = optarg;
      break;
    case OPT_BIND:
      push(&binds, optarg);
      break;
    case OPT_TMPFS:
      push(&tmpfs, optarg);
      break;
    case 'e':
      push(&env, optarg);
      break;
    case 'w':
      o.workdir = optarg;
      break;
    case 'u':
      o.user = optarg;
      break;
    case OPT_HOSTNAME:
      o.hostname = optarg;
      break;
    case 'm':
      o.memory = optarg;
      break;
    case OPT_CPUS:
      o.cpus = optarg;
      break;
    case OPT_PIDS:
      o.pids = optarg;
      break;
    case OPT_NETWORK:
      o.network = optarg;
      break;
    case OPT_TIMEOUT:
      o.timeout = optarg;
      break;
    case OPT_CAP_ADD:
      push(&add, optarg);
      break;
    case OPT_CAP_DROP:
      push(&drop, optarg);
      break;
    case OPT_SECCOMP:
      o.seccomp = optarg;
      break;
    case OPT_NO_USERNS:
      o.no_userns = true;
      break;
    case OPT_PRUNE:
      do_prune = true;
      break;
    case 'h':
      ret = cmd_help(usage);
      break;
    default:
      ret = cmd_bad_option("sandbox");
      break;
    }
  }
  if (ret < 0 && do_prune) {
    ret = optind < argc || o.image || o.rootfs
              ? cmd_usage_error("sandbox", "--prune takes no other arguments")
              : prune(ctx);
  }
  if (ret < 0) {
    o.args = (const char *const *)argv + optind;
    o.n_args = (size_t)(argc - optind);
    o.binds = binds.v, o.n_binds = binds.n;
    o.tmpfs = tmpfs.v, o.n_tmpfs = tmpfs.n;
    o.env = env.v, o.n_env = env.n;
    o.cap_add = add.v, o.n_cap_add = add.n;
    o.cap_drop = drop.v, o.n_cap_drop = drop.n;
    struct silo_error err = {0};
    int code = SILO_SANDBOX_FAILED;
    if (silo_sandbox(ctx, &o, &code, &err) < 0) {
      silo_log_failure(&err);
      if (code == 0) code = SILO_SANDBOX_FAILED;
    }
    ret = code;
  }
  free(binds.v), free(tmpfs.v), free(env.v), free(add.v), free(drop.v);
  return ret;
}
