/* silo run: create and start a container; in the foreground, wait for it. */
#include <stdio.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] run [options] ID\n"
    "\n"
    "Creates and starts the container ID.  In the foreground silo forwards signals to\n"
    "it, relays its terminal, deletes it when it exits and exits with its exit code\n"
    "(128+N when killed by signal N).\n"
    "\n"
    "Options:\n"
    "  -d, --detach              start it and return at once\n"
    "      --keep                do not delete the container when it exits\n"
    "      --no-subreaper        do not adopt the container's orphans (foreground)\n" CREATE_OPTIONS_HELP;

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
