/* silo exec: run a new process inside a running container. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] exec [options] ID [COMMAND [ARG...]]\n"
    "\n"
    "Runs a process in the running container ID, in all its namespaces, its cgroup, and\n"
    "under its seccomp filter and capabilities.  In the foreground silo waits for it\n"
    "and exits with its exit code; when silo itself fails, it exits 255 (as runc).\n"
    "Options go before COMMAND: everything from COMMAND on belongs to it.\n"
    "\n"
    "Options:\n"
    "  -p, --process FILE        the process as an OCI process.json (replaces COMMAND)\n"
    "  -e, --env K=V             add an environment variable (repeatable)\n"
    "      --cwd DIR             working directory inside the container\n"
    "  -u, --user UID[:GID]      run as this user\n"
    "  -g, --additional-gids GID add a supplementary group (repeatable)\n"
    "  -c, --cap CAP             add a capability (repeatable)\n"
    "  -t, --tty                 allocate a pseudo-terminal\n"
    "  -d, --detach              do not wait for the process\n"
    "      --pid-file FILE       write the process's pid to FILE\n"
    "      --console-socket SOCK send the pty master to SOCK\n"
    "      --no-new-privs        set no_new_privs for the process\n"
    "      --preserve-fds N      pass N extra fds (3 .. 3+N-1)\n"
    "      --cgroup PATH         an existing sub-cgroup of the container to run in\n"
    "      --ignore-paused       exec even when the container is paused (the process,\n"
    "                            and silo with it, waits for `silo resume`)\n"
    "      --apparmor PROFILE    the AppArmor profile to run under\n"
    "      --process-label LABEL the SELinux label to run under\n"
    "  -h, --help                show this help\n";

enum {
  OPT_CWD = 256,
  OPT_PID_FILE,
  OPT_CONSOLE,
  OPT_NNP,
  OPT_PRESERVE,
  OPT_CGROUP,
  OPT_APPARMOR,
  OPT_LABEL,
  OPT_IGNORE_PAUSED
};

/* What exec returns when silo itself fails (bad usage, no such container, a paused one):
 * 255, as runc, so that a caller can tell it from the command's own exit code. */
#define EXEC_FAILED 255

/* One --additional-gids value: a number, as runc's (strconv.ParseInt, base 0) reads it. */
static bool
parse_gid(const char *s, uint32_t *out)
{
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 0);
  if (errno || end == s || *end || v < 0 || v > UINT32_MAX) return false;
  *out = (uint32_t)v;
  return true;
}

int
cmd_exec(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      {"process", required_argument, NULL, 'p'},
      {"env", required_argument, NULL, 'e'},
      {"cwd", required_argument, NULL, OPT_CWD},
      {"user", required_argument, NULL, 'u'},
      {"cap", required_argument, NULL, 'c'},
      {"tty", no_argument, NULL, 't'},
      {"detach", no_argument, NULL, 'd'},
      {"pid-file", required_argument, NULL, OPT_PID_FILE},
      {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"no-new-privs", no_argument, NULL, OPT_NNP},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
      {"cgroup", required_argument, NULL, OPT_CGROUP},
      {"process-label", required_argument, NULL, OPT_LABEL},
      {"apparmor", required_argument, NULL, OPT_APPARMOR},
      {"ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED},
      {"additional-gids", required_argument, NULL, 'g'},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  struct silo_exec_opts o = {0};
  const char **env = calloc((size_t)argc, sizeof *env);
  const char **caps = calloc((size_t)argc, sizeof *caps);
  uint32_t *gids = calloc((size_t)argc, sizeof *gids);
  int c, r = 0;
  if (!env || !caps || !gids) {
    r = EXEC_FAILED;
    goto out;
  }
  o.env = env;
  o.caps = caps;
  o.additional_gids = gids;
  while ((c = cmd_getopt_upto(argc, argv, "+p:e:u:g:c:tdh", longs, 1, false)) != -1) {
    switch (c) {
    case 'p':
      o.process_path = optarg;
      break;
    case 'e':
      env[o.n_env++] = optarg;
      break;
    case OPT_CWD:
      o.cwd = optarg;
      break;
    case 'u':
      o.user = optarg;
      break;
    case 'g':
      if (!parse_gid(optarg, &gids[o.n_additional_gids++]))
        r = cmd_usage_error(
            "exec", "--additional-gids: `%s` is not a gid (one per flag: -g 1 -g 2)", optarg);
      break;
    case 'c':
      caps[o.n_caps++] = optarg;
      break;
    case 't':
      o.tty = true;
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
    case OPT_NNP:
      o.no_new_privs = true;
      break;
    case OPT_PRESERVE:
      if (!cmd_parse_uint(optarg, &o.preserve_fds))
        r = cmd_usage_error("exec", "--preserve-fds: `%s` is not a number", optarg);
      break;
    case OPT_CGROUP:
      o.cgroup = optarg;
      break;
    case OPT_APPARMOR:
      o.apparmor = optarg;
      break;
    case OPT_LABEL:
      o.process_label = optarg;
      break;
    case OPT_IGNORE_PAUSED:
      o.ignore_paused = true;
      break;
    case 'h':
      r = cmd_help(usage) - 1;
      break;
    default:
      r = cmd_bad_option("exec");
      break;
    }
    if (r) goto out; /* r < 0: --help, exit 0; else a usage error */
  }
  if (optind >= argc) {
    r = cmd_usage_error("exec", "missing container ID");
    goto out;
  }
  o.id = argv[optind++];
  o.args = (const char **)argv + optind;
  o.n_args = (size_t)(argc - optind);
  if (!o.process_path && !o.n_args) {
    r = cmd_usage_error("exec", "missing COMMAND (or --process)");
    goto out;
  }
  /* silo is single-threaded and exits after the call: the cheaper child that
   * borrows its memory (silo.h; a killed one ends silo with EXEC_FAILED). */
  o.shared_memory_child = true;
  struct silo_error err = {0};
  int code = 0;
  r = silo_exec(ctx, &o, &code, &err) < 0 ? (cmd_fail(&err), EXEC_FAILED) : code;
  goto done;
out:
  r = r < 0 ? 0 : EXEC_FAILED; /* --help, or a failure of silo's own */
done:
  free(env);
  free(caps);
  free(gids);
  return r;
}
