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
int cmd_mounts(struct silo_context *ctx, int argc, char **argv);
int cmd_features(struct silo_context *ctx, int argc, char **argv);
int cmd_sandbox(struct silo_context *ctx, int argc, char **argv);
int cmd_checkpoint(struct silo_context *ctx, int argc, char **argv);
int cmd_restore(struct silo_context *ctx, int argc, char **argv);
int cmd_migrate(struct silo_context *ctx, int argc, char **argv);
int cmd_migrate_receive(struct silo_context *ctx, int argc, char **argv);

/* The CRIU flags checkpoint and restore share (checkpoint.c). */
/* clang-format off */
enum { OPT_CRIU_IMAGE = 350, OPT_CRIU_WORK, OPT_CRIU_TCP, OPT_CRIU_EXT_UNIX, OPT_CRIU_SHELL,
       OPT_CRIU_LOCKS, OPT_CRIU_LAZY, OPT_CRIU_DEDUP, OPT_CRIU_CGMODE, OPT_CRIU_EMPTY_NS,
       OPT_CRIU_TIMEOUT };
#define CMD_CRIU_OPTIONS                                                                           \
  {"image-path", required_argument, NULL, OPT_CRIU_IMAGE},                                         \
      {"work-path", required_argument, NULL, OPT_CRIU_WORK},                                       \
      {"tcp-established", no_argument, NULL, OPT_CRIU_TCP},                                        \
      {"ext-unix-sk", no_argument, NULL, OPT_CRIU_EXT_UNIX},                                       \
      {"shell-job", no_argument, NULL, OPT_CRIU_SHELL},                                            \
      {"file-locks", no_argument, NULL, OPT_CRIU_LOCKS},                                           \
      {"lazy-pages", no_argument, NULL, OPT_CRIU_LAZY},                                            \
      {"auto-dedup", no_argument, NULL, OPT_CRIU_DEDUP},                                           \
      {"manage-cgroups-mode", required_argument, NULL, OPT_CRIU_CGMODE},                           \
      {"empty-ns", required_argument, NULL, OPT_CRIU_EMPTY_NS},                                    \
      {"criu-timeout", required_argument, NULL, OPT_CRIU_TIMEOUT}
/* clang-format on */
#define CMD_CRIU_TIMEOUT 300 /* seconds */
/* Handles one of CMD_CRIU_OPTIONS: 0 done, -1 not one of them, >0 an exit code. */
int cmd_criu_opt(const char *cmd, int c, const char *arg, struct silo_criu_opts *o);
int cmd_events(struct silo_context *ctx, int argc, char **argv);

/* Flags create and run share (their parsing: cmd_parse_create_opts in create.c). */
#define CREATE_OPTIONS_HELP                                                                        \
  "  -b, --bundle DIR          bundle directory (default: the current directory)\n"                \
  "      --config FILE         config file (default: BUNDLE/config.json)\n"                        \
  "      --pid-file FILE       write the container process's pid to FILE\n"                        \
  "      --console-socket SOCK send the pty master of a terminal container to SOCK\n"              \
  "      --preserve-fds N      pass N extra fds (3 .. 3+N-1) to the container\n"                   \
  "      --no-pivot            use MS_MOVE + chroot instead of pivot_root\n"                       \
  "      --no-new-keyring      keep the caller's session keyring\n"                                \
  "      --network MODE        silo's own networking: none (default) or bridge\n"                  \
  "  -p, --publish [IP:]HOST:CTR[/PROTO]  publish a port (with --network bridge)\n"                \
  "      --ipv6                IPv6 too (with --network bridge), on fd88::/64 by default\n"        \
  "      --subnet6 PREFIX      the bridge's IPv6 subnet, /64 to /126 (implies --ipv6)\n"           \
  "  -h, --help                show this help\n"
int cmd_parse_create_opts(const char *cmd, int argc, char **argv, struct silo_create_opts *o,
                          bool is_run, const char *help);

/* Shared helpers (util.c). */
/* Reports a failed command (stderr + --log) and returns its exit code, 1. */
int cmd_fail(const struct silo_error *err);
/* "silo CMD: <msg>" usage error, exit code 1 (runc uses 1 for bad usage too). */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a command's usage text and returns 0. */
int cmd_help(const char *usage);
/* Exactly n positional arguments remain after the flags (else the error names the first
 * unexpected one). */
int cmd_need_args(const char *cmd, int argc, int n, const char *what);
/* getopt_long_only over a command's argv (main() resets optind to 0 first), with options
 * accepted anywhere before "--", as runc (urfave/cli) accepts them: `update ID --memory 1g`.
 * The positional arguments passed over are moved after the options, so that when it
 * returns -1 they are argv[optind..].  An option error returns '?' with the message kept
 * for cmd_bad_option (getopt prints nothing). */
int cmd_getopt(int argc, char **argv, const char *shorts, const struct option *longs);
/* The same, for commands whose trailing arguments are data (exec ID CMD ARGS..., ps ID
 * PS-ARGS..., sandbox CMD...): parsing stops at the positional argument after the first
 * max; with rest_at_unknown, also at an unknown option after them (`ps ID -ef`). */
int cmd_getopt_upto(int argc, char **argv, const char *shorts, const struct option *longs, int max,
                    bool rest_at_unknown);
/* Reports the option error cmd_getopt returned '?' for; exit code 1. */
int cmd_bad_option(const char *cmd);
bool cmd_parse_uint(const char *s, unsigned *out);

#endif
