/* silo cmd/: the command-line interface.  Each command is one small file that parses
 * its flags and calls lib/ (silo.h); nothing here knows how containers are made. */
#ifndef SILO_CMD_H
#define SILO_CMD_H

#include <getopt.h>
#include <stdbool.h>

#include "lib/silo.h"

struct command {
  const char *name;
  int (*run)(struct silo_context *ctx, int argc, char **argv);
  const char *summary;
};

/* Every command: parses argv (argv[0] is the command's name) and returns the exit code. */
int cmd_create(struct silo_context *ctx, int argc, char **argv);
int cmd_start(struct silo_context *ctx, int argc, char **argv);
int cmd_run(struct silo_context *ctx, int argc, char **argv);
int cmd_state(struct silo_context *ctx, int argc, char **argv);
int cmd_kill(struct silo_context *ctx, int argc, char **argv);
int cmd_delete(struct silo_context *ctx, int argc, char **argv);
int cmd_list(struct silo_context *ctx, int argc, char **argv);
int cmd_spec(struct silo_context *ctx, int argc, char **argv);
int cmd_exec(struct silo_context *ctx, int argc, char **argv);
int cmd_pause(struct silo_context *ctx, int argc, char **argv);
int cmd_resume(struct silo_context *ctx, int argc, char **argv);
int cmd_ps(struct silo_context *ctx, int argc, char **argv);
int cmd_update(struct silo_context *ctx, int argc, char **argv);
int cmd_features(struct silo_context *ctx, int argc, char **argv);
int cmd_events(struct silo_context *ctx, int argc, char **argv);

/* Shared helpers (util.c). */
/* Reports a failed command (stderr + --log) and returns its exit code, 1. */
int cmd_fail(const struct silo_error *err);
/* "silo CMD: <msg>" usage error, exit code 1 (runc uses 1 for bad usage too). */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a command's usage text and returns 0. */
int cmd_help(const char *usage);
/* Exactly n positional arguments remain after the flags. */
int cmd_need_args(const char *cmd, int argc, int n, const char *what);
/* getopt_long_only over argv with optind reset, "+" (stop at the first positional). */
int cmd_getopt(int argc, char **argv, const char *shorts, const struct option *longs);
bool cmd_parse_uint(const char *s, unsigned *out);

#endif
