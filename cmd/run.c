/* silo run: create and start a container; in the foreground, wait for it. */
#include <stdio.h>

#include "cmd.h"

static const char usage[] =
    "Usage: silo [global options] run [options] ID\n"
    "\n"
    "Creates and starts the container ID.  In the foreground silo forwards signals to\n"
    "it, relays its terminal, deletes it when it exits and exits with its exit code\n"
    "(128+N when killed by signal N).\n"
    "\n"
    "Options:\n"
    "  -b, --bundle DIR          bundle directory (default: the current directory)\n"
    "      --config FILE         config file (default: BUNDLE/config.json)\n"
    "  -d, --detach              start it and return at once\n"
    "      --keep                do not delete the container when it exits\n"
    "      --pid-file FILE       write the container process's pid to FILE\n"
    "      --console-socket SOCK send the pty master of a terminal container to SOCK\n"
    "      --preserve-fds N      pass N extra fds (3 .. 3+N-1) to the container\n"
    "      --no-pivot            use MS_MOVE + chroot instead of pivot_root\n"
    "      --no-new-keyring      keep the caller's session keyring\n"
    "      --network MODE        silo's own networking: none (default) or bridge\n"
    "  -p, --publish [IP:]HOST:CTR[/PROTO]  publish a port (with --network bridge)\n"
    "  -h, --help                show this help\n";

int cmd_parse_create_opts(const char *cmd, int argc, char **argv, struct silo_create_opts *o,
                          bool is_run, const char *help);

int
cmd_run(struct silo_context *ctx, int argc, char **argv)
{
  struct silo_create_opts o = {0};
  int r = cmd_parse_create_opts("run", argc, argv, &o, true, usage);
  if (r) return r < 0 ? 0 : r;
  struct silo_error err = {0};
  int code = 0;
  if (silo_run(ctx, &o, &code, &err) < 0) return cmd_fail(&err);
  return code;
}
