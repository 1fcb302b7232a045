/* silo lib/: the runtime core.  This header is the whole API that cmd/ uses.
 *
 * Every call takes the global context (state root, logging, cgroup manager) and a
 * `struct silo_error` to fill on failure (see error.h for the convention).
 */
#ifndef SILO_H
#define SILO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

enum silo_log_format { SILO_LOG_TEXT, SILO_LOG_JSON };
enum silo_cgroup_manager { SILO_CGROUP_CGROUPFS, SILO_CGROUP_SYSTEMD, SILO_CGROUP_DISABLED };

struct silo_context {
  const char *root; /* state directory, default /run/silo */
  const char *log_path;
  enum silo_log_format log_format;
  bool debug;
  enum silo_cgroup_manager cgroup_manager;
  const char *criu; /* --criu or $CRIU */
};

/* ---- logging: stderr plus --log FILE (text or JSON lines) ---- */
int silo_log_open(struct silo_context *ctx, struct silo_error *err);
void silo_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void silo_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void silo_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs a command's final error ("silo: create `web`: ...") to stderr and the log. */
void silo_log_failure(const struct silo_error *err);

/* main() hands its argv over, for the sealed re-exec (see lib/cloned.c). */
void silo_save_argv(char **argv);

/* ---- lifecycle ---- */
struct silo_create_opts {
  const char *id;
  const char *bundle;      /* default "." */
  const char *config_path; /* --config: default <bundle>/config.json */
  const char *pid_file;
  const char *console_socket;
  unsigned preserve_fds;
  bool no_pivot, no_new_keyring, no_subreaper;
  /* silo's own networking: "none" (default) or "bridge"; published ports
   * "[IP:]HOSTPORT:CTRPORT[/tcp|udp]" */
  const char *network;
  const char **publish;
  size_t n_publish;
  /* run only */
  bool detach, keep;
};

int silo_create(struct silo_context *ctx, const struct silo_create_opts *o, struct silo_error *err);
int silo_start(struct silo_context *ctx, const char *id, struct silo_error *err);
/* Runs a container; in the foreground *exit_code gets the container's exit code
 * (128+N when killed by signal N). */
int silo_run(struct silo_context *ctx, const struct silo_create_opts *o, int *exit_code,
             struct silo_error *err);
/* The state JSON (malloc'ed, pretty). */
int silo_state(struct silo_context *ctx, const char *id, char **json, struct silo_error *err);
int silo_kill(struct silo_context *ctx, const char *id, int sig, bool all, struct silo_error *err);
int silo_delete(struct silo_context *ctx, const char *id, bool force, struct silo_error *err);

struct silo_exec_opts {
  const char *id;
  const char *process_path; /* --process: a process.json; else the fields below */
  const char **args;
  size_t n_args;
  const char **env; /* added to the config's */
  size_t n_env;
  const char **caps; /* added to every capability set */
  size_t n_caps;
  const char *cwd, *user; /* user: "UID[:GID]" */
  bool tty, detach, no_new_privs;
  const char *pid_file, *console_socket, *cgroup;
  unsigned preserve_fds;
};
/* Runs a process in a running container; in the foreground *exit_code is its code. */
int silo_exec(struct silo_context *ctx, const struct silo_exec_opts *o, int *exit_code,
              struct silo_error *err);

/* ---- a running container's cgroup ---- */
int silo_pause(struct silo_context *ctx, const char *id, struct silo_error *err);
int silo_resume(struct silo_context *ctx, const char *id, struct silo_error *err);
/* json: the pids as a JSON array; else the host's `ps` (ps_args, default -ef)
 * filtered to the container's processes. */
int silo_ps(struct silo_context *ctx, const char *id, bool json, char *const *ps_args,
            struct silo_error *err);

struct silo_update_opts {
  const char *id;
  const char *resources; /* a linux.resources JSON file, or "-" for stdin */
  /* runc's flags (NULL when not given); sizes take k/m/g suffixes */
  const char *memory, *memory_reservation, *memory_swap, *kernel_memory, *kernel_memory_tcp;
  const char *cpu_shares, *cpu_quota, *cpu_period, *cpu_rt_period, *cpu_rt_runtime;
  const char *cpuset_cpus, *cpuset_mems, *pids_limit, *blkio_weight;
};
int silo_update(struct silo_context *ctx, const struct silo_update_opts *o, struct silo_error *err);
/* `events`: the container's cgroup statistics as runc-style JSON lines on stdout.
 * stats_once: one {"type":"stats"} object; else one every interval_ms, plus an
 * {"type":"oom"} object at each OOM kill, until the container stops. */
int silo_events(struct silo_context *ctx, const char *id, bool stats_once, unsigned interval_ms,
                struct silo_error *err);

/* The OCI features document (runtime-spec features.md), malloc'ed JSON. */
char *silo_features(void);

enum silo_list_format { SILO_LIST_TABLE, SILO_LIST_JSON, SILO_LIST_QUIET };
/* Writes the list to stdout. */
int silo_list(struct silo_context *ctx, enum silo_list_format fmt, struct silo_error *err);

/* `silo spec`: writes <bundle>/config.json (refuses to overwrite). */
int silo_spec(const char *bundle, bool rootless, struct silo_error *err);

/* "TERM", "SIGTERM", "15", "SIGRTMIN+3" -> signal number. */
int silo_parse_signal(const char *s, int *sig, struct silo_error *err);

/* The feature line for --version ("+SECCOMP +CAP ..."). */
const char *silo_feature_line(void);

#endif
