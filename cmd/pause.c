/* silo pause / resume: freeze and thaw every process of a container. */
#include <stdio.h>

#include "cmd/cmd.h"

static const char pause_usage[] = "Usage: silo [global options] pause ID\n"
                                  "\n"
                                  "Freezes every process of the running container ID (cgroup\n"
                                  "freezer); its status becomes \"paused\".\n";
static const char resume_usage[] =
    "Usage: silo [global options] resume ID\n"
    "\n"
    "Thaws the paused container ID; its status becomes \"running\".\n";

static int
freeze_cmd(struct silo_context *ctx, int argc, char **argv, bool pause)
{
  static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {0}};
  const char *name = pause ? "pause" : "resume";
  int c;
  while ((c = cmd_getopt(argc, argv, "+h", longs)) != -1) {
    if (c == 'h') return cmd_help(pause ? pause_usage : resume_usage);
    return cmd_bad_option(name);
  }
  if (cmd_need_args(name, argc, 1, "container ID")) return 1;
  struct silo_error err = {0};
  int r = pause ? silo_pause(ctx, argv[optind], &err) : silo_resume(ctx, argv[optind], &err);
  return r < 0 ? cmd_fail(&err) : 0;
}

int
cmd_pause(struct silo_context *ctx, int argc, char **argv)
{
  return freeze_cmd(ctx, argc, argv, true);
}

int
cmd_resume(struct silo_context *ctx, int argc, char **argv)
{
  return freeze_cmd(ctx, argc, argv, false);
}
