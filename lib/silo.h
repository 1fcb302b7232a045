/* silo lib/: the runtime core.  This header is the whole API that cmd/ uses, and
 * libsilo's public API: `make install` installs it as <silo/silo.h> (including
 * <silo/error.h>), and its SILO_API functions are all that libsilo.so exports
 * (docs/libsilo.md).
 *
 * Every call takes the global context (state root, logging, cgroup manager) and a
 * `struct silo_error` to fill on failure (see error.h for the convention).
 */
#ifndef SILO_H
#define SILO_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/base/error.h"

#ifdef __cplusplus /* a C++ program links the C names */
extern "C" {
#endif

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
SILO_API int silo_log_open(struct silo_context *ctx, struct silo_error *err);
SILO_API void silo_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
SILO_API void silo_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
SILO_API void silo_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs a command's final error ("silo: create `web`: ...") to stderr and the log. */
SILO_API void silo_log_failure(const struct silo_error *err);

/* main() hands its argv over, for the sealed re-exec (see lib/runtime/create/cloned.c):
 * a container that could ptrace its runtime makes silo_create, silo_run, silo_exec
 * and silo_sandbox execute the program again, from a sealed copy, with this argv
 * (from main()).  A program that never calls it gets such containers refused. */
SILO_API void silo_save_argv(char **argv);

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
  /* --ipv6: IPv6 too (on the default ULA /64 unless subnet6); --subnet6 PREFIX
   * implies it */
  bool ipv6;
  const char *subnet6;
  /* run only */
  bool detach, keep;
};

SILO_API int silo_create(struct silo_context *ctx, const struct silo_create_opts *o,
                         struct silo_error *err);
SILO_API int silo_start(struct silo_context *ctx, const char *id, struct silo_error *err);
/* Runs a container; in the foreground *exit_code gets the container's exit code
 * (128+N when killed by signal N). */
SILO_API int silo_run(struct silo_context *ctx, const struct silo_create_opts *o, int *exit_code,
                      struct silo_error *err);
/* The state JSON (malloc'ed, pretty). */
SILO_API int silo_state(struct silo_context *ctx, const char *id, char **json,
                        struct silo_error *err);
SILO_API int silo_kill(struct silo_context *ctx, const char *id, int sig, bool all,
                       struct silo_error *err);
SILO_API int silo_delete(struct silo_context *ctx, const char *id, bool force,
                         struct silo_error *err);
/* Deletes every container whose id matches the POSIX extended regular expression
 * (crun's `delete --regex`), each as silo_delete would; one that cannot be deleted
 * does not stop the others (a warning), the first failure is the error.  No match is
 * no error. */
SILO_API int silo_delete_regex(struct silo_context *ctx, const char *regex, bool force,
                               struct silo_error *err);

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
  bool ignore_paused;              /* exec into a paused container (runc's --ignore-paused) */
  const uint32_t *additional_gids; /* --additional-gids: added to the process's groups */
  size_t n_additional_gids;
  const char *pid_file, *console_socket, *cgroup;
  const char *apparmor, *process_label; /* instead of the config's */
  unsigned preserve_fds;
  /* The `silo` command's own choice, not for other programs: the process's set-up
   * runs in the caller's memory, which the caller lends it until its execve (cheaper
   * than a copy, docs/design.md).  If it is killed during that set-up (the
   * container's root can kill it), the caller's heap may be half-updated, so the call
   * ends the calling process at once with _exit(255) (an error line on stderr and the
   * log first).  Only for a single-threaded program with nothing else to do. */
  bool shared_memory_child;
};
/* Runs a process in a running container; in the foreground *exit_code is its code. */
SILO_API int silo_exec(struct silo_context *ctx, const struct silo_exec_opts *o, int *exit_code,
                       struct silo_error *err);

/* ---- checkpoint / restore (CRIU through libcriu, loaded only for these) ---- */
struct silo_criu_opts {   /* what checkpoint and restore share (runc's flags) */
  const char *image_path; /* default "checkpoint" */
  const char *work_path;  /* default: the image path */
  bool tcp_established, ext_unix_sk, shell_job, file_locks, lazy_pages, auto_dedup;
  const char *manage_cgroups_mode; /* soft|full|strict|ignore; NULL: soft */
  bool empty_netns;                /* --empty-ns network */
  bool no_network_lock;            /* dump: nothing to lock (no TCP connection) */
  unsigned timeout;                /* seconds CRIU may take; 0: none */
};
struct silo_checkpoint_opts {
  const char *id;
  struct silo_criu_opts criu;
  const char *parent_path; /* --parent-path, relative to the image path */
  const char *page_server; /* ADDR:PORT */
  bool leave_running, pre_dump;
  int status_fd;           /* -1: none */
  const char *export_path; /* --export FILE */
  /* silo's own network (network.json): its namespace, pinned on <state>/netns, is
   * external to the images (a migration re-creates it on the destination) */
  bool ext_netns;
  /* when set: the CLOCK_MONOTONIC time (time_mono_s) at which the tasks were
   * frozen (MAP_SHARED memory when the dump runs in a helper process) */
  double *frozen_at;
};
SILO_API int silo_checkpoint(struct silo_context *ctx, const struct silo_checkpoint_opts *o,
                             struct silo_error *err);

struct silo_restore_opts {
  const char *id;
  struct silo_criu_opts criu;
  const char *bundle; /* default "." */
  const char *pid_file, *console_socket;
  const char *import_path; /* --import FILE */
  bool detach, no_pivot, no_subreaper, tcp_close;
  bool paused; /* restored frozen, for silo_resume to start (a migration's commit) */
  /* the network namespace (a file that holds one) the images' external one is
   * restored into (a migration made it, with the container's addresses) */
  const char *netns_path;
};
/* Restores a container; in the foreground waits for it like run (*exit_code). */
SILO_API int silo_restore(struct silo_context *ctx, const struct silo_restore_opts *o,
                          int *exit_code, struct silo_error *err);

/* ---- a running container's cgroup ---- */
SILO_API int silo_pause(struct silo_context *ctx, const char *id, struct silo_error *err);
SILO_API int silo_resume(struct silo_context *ctx, const char *id, struct silo_error *err);
/* json: the pids as a JSON array; else the host's `ps` (ps_args, default -ef)
 * filtered to the container's processes. */
SILO_API int silo_ps(struct silo_context *ctx, const char *id, bool json, char *const *ps_args,
                     struct silo_error *err);

struct silo_update_opts {
  const char *id;
  const char *resources; /* a linux.resources JSON file, or "-" for stdin */
  /* runc's flags (NULL when not given); sizes take k/m/g suffixes */
  const char *memory, *memory_reservation, *memory_swap, *kernel_memory, *kernel_memory_tcp;
  const char *cpu_shares, *cpu_quota, *cpu_period, *cpu_rt_period, *cpu_rt_runtime;
  const char *cpuset_cpus, *cpuset_mems, *pids_limit, *blkio_weight;
};
SILO_API int silo_update(struct silo_context *ctx, const struct silo_update_opts *o,
                         struct silo_error *err);
/* crun's `mounts add` / `mounts remove`: the bind mounts of FILE (a JSON array of
 * config.json mounts, or an object with `mounts`) attached to the running container
 * ID, or taken away from it (only mounts `add` made, found by their destination). */
SILO_API int silo_mounts_add(struct silo_context *ctx, const char *id, const char *file,
                             struct silo_error *err);
SILO_API int silo_mounts_remove(struct silo_context *ctx, const char *id, const char *file,
                                struct silo_error *err);
/* `events`: the container's cgroup statistics as runc-style JSON lines on stdout.
 * stats_once: one {"type":"stats"} object; else one every interval_ms, plus an
 * {"type":"oom"} object at each OOM kill, until the container stops. */
SILO_API int silo_events(struct silo_context *ctx, const char *id, bool stats_once,
                         unsigned interval_ms, struct silo_error *err);

/* The OCI features document (runtime-spec features.md), malloc'ed JSON. */
SILO_API char *silo_features(void);

enum silo_list_format { SILO_LIST_TABLE, SILO_LIST_JSON, SILO_LIST_QUIET };
/* Writes the list to stdout. */
SILO_API int silo_list(struct silo_context *ctx, enum silo_list_format fmt, struct silo_error *err);

/* `silo spec`: writes <bundle>/config.json (refuses to overwrite). */
struct silo_spec_opts {
  const char *bundle;      /* default "." */
  bool rootless;           /* for an unprivileged user: a user namespace, mapped ids */
  bool no_terminal;        /* process.terminal false (for create and run -d) */
  const char *const *args; /* process.args, NULL-terminated; NULL: sh */
};
SILO_API int silo_spec(const struct silo_spec_opts *o, struct silo_error *err);

/* "TERM", "SIGTERM", "15", "SIGRTMIN+3" -> signal number. */
SILO_API int silo_parse_signal(const char *s, int *sig, struct silo_error *err);

/* ---- sandbox: one command in a throw-away container (lib/sandbox*.c, man silo-sandbox) ----
 * The root is an overlay of an image's layers (cached unpacked under
 * <root>/.sandbox/layers, or $XDG_CACHE_HOME/silo/sandbox for an unprivileged
 * caller, whose sandbox runs in a user namespace of its own) or of a directory,
 * with a private writable layer on top; everything made for it is gone when the
 * command ends.  Option values are the command line's strings (NULL: not given);
 * they are all checked before anything is made. */
struct silo_sandbox_opts {
  const char *image;        /* OCI image layout or docker-save archive (file or directory) */
  const char *rootfs;       /* or: a directory as the read-only lower layer */
  const char *keep_changes; /* DIR: the writable layer is DIR/upper (kept), not a tmpfs */
  const char *const *args;  /* the command (n_args 0: the image's Entrypoint + Cmd) */
  size_t n_args;
  const char *const *binds; /* SRC:DST[:ro] */
  size_t n_binds;
  const char *const *tmpfs; /* DST */
  size_t n_tmpfs;
  const char *const *env; /* K=V, or K: the caller's value */
  size_t n_env;
  const char *const *cap_add, *const *cap_drop; /* names, with or without CAP_, or ALL */
  size_t n_cap_add, n_cap_drop;
  const char *workdir, *user, *hostname;
  const char *memory;  /* SIZE: bytes, or k/m/g/t suffixed */
  const char *cpus;    /* N(.N): a CPU quota */
  const char *pids;    /* max number of tasks */
  const char *network; /* none (default) or bridge */
  const char *timeout; /* DURATION: 10, 1.5s, 500ms, 2m, 1h30m */
  const char *seccomp; /* default, unconfined or a profile file */
  bool no_userns;      /* keep the container's root the host's root (dropped caps) */
};
/* Exit codes of a sandbox that are not its command's (as docker run and timeout(1)). */
#define SILO_SANDBOX_TIMEOUT   124 /* --timeout expired: the command was killed */
#define SILO_SANDBOX_FAILED    125 /* silo could not run the command */
#define SILO_SANDBOX_NOT_EXEC  126 /* the command is not executable */
#define SILO_SANDBOX_NOT_FOUND 127 /* the command does not exist */
/* Runs the command; *exit_code is its exit code (128+N when killed by signal N), or
 * one of the codes above.  Returns -1 with err set when silo failed (the command
 * did not run, or the sandbox could not be cleaned up). */
SILO_API int silo_sandbox(struct silo_context *ctx, const struct silo_sandbox_opts *o,
                          int *exit_code, struct silo_error *err);
/* `sandbox --prune`: removes stale sandboxes and every cached layer (refused while a
 * sandbox runs from the cache); *n_layers gets how many layers were removed. */
SILO_API int silo_sandbox_prune(struct silo_context *ctx, size_t *n_layers, struct silo_error *err);

/* ---- migrate: move a running container to another host (lib/migrate*.c,
 * docs/migration.md).  The destination runs `silo migrate-receive`; both ends hold
 * the same token.  A failure before the destination confirms leaves the container
 * running on the source (resumed there when it had been stopped). ---- */
enum silo_migrate_strategy {
  SILO_MIGRATE_COLD,     /* freeze, dump, send, restore */
  SILO_MIGRATE_PRECOPY,  /* pre-dumps while it runs, then a short final dump (soft-dirty) */
  SILO_MIGRATE_POSTCOPY, /* dump without memory, restore at once, pages on demand */
  SILO_MIGRATE_HYBRID,   /* one pre-dump, then postcopy */
};
struct silo_migrate_opts {
  const char *id;
  const char *dest; /* HOST:PORT of a `silo migrate-receive` */
  enum silo_migrate_strategy strategy;
  const char *token_file;
  const char *work_dir;    /* where images are staged (default /var/tmp) */
  unsigned max_iterations; /* precopy: pre-dump passes at most (0: 8) */
  unsigned criu_timeout;   /* seconds per CRIU action (0: none) */
  unsigned idle_timeout;   /* seconds of silence from the peer that end it (0: 30) */
  bool progress;           /* progress on stderr */
  /* TLS 1.3 with X.509 certificates (all three, PEM), instead of the PSK derived
   * from the token (all NULL) */
  const char *tls_cert, *tls_key, *tls_ca;
};
#define SILO_MIGRATE_MAX_ITER 32
struct silo_migrate_report {
  const char *strategy;
  bool migrated;              /* the container runs on the destination, gone from here */
  bool resumed_on_source;     /* it failed, and the container runs here */
  double total_s, downtime_s; /* downtime: freeze to running on the destination */
  /* the downtime's parts, on the same clock: the dump (to its end; postcopy: to
   * CRIU's page server being ready), the transfer (rootfs changes and images, to
   * RESTORE sent), the restore (to RESTORED, cold: DONE) */
  double dump_s, transfer_s, restore_s;
  unsigned long long bytes_sent, rootfs_bytes, image_bytes, page_bytes;
  unsigned iterations; /* pre-dump passes */
  struct {
    unsigned long long bytes; /* pages written by the pass */
    double seconds;           /* since the previous pass began (0 for the first, all memory) */
  } iter[SILO_MIGRATE_MAX_ITER];
  char work_dir[256]; /* images kept here when the container is on neither host */
  char network[256];  /* silo's own network: its address and ports on the destination */
};
SILO_API int silo_migrate(struct silo_context *ctx, const struct silo_migrate_opts *o,
                          struct silo_migrate_report *rep, struct silo_error *err);
/* The report: text lines, or one JSON object (with "error" when err is set); malloc'ed. */
SILO_API char *silo_migrate_report_format(const struct silo_migrate_report *r, bool json,
                                          const struct silo_error *err);

struct silo_migrate_receive_opts {
  const char *listen;     /* ADDR:PORT */
  const char *bundle_dir; /* a received container's bundle is DIR/<id> */
  const char *token_file;
  const char *cgroup_parent; /* cgroupfs: linux.cgroupsPath becomes PARENT/<id> */
  bool keep_listening;       /* else: return after one authenticated migration */
  unsigned criu_timeout, idle_timeout;
  const char *tls_cert, *tls_key, *tls_ca; /* as in silo_migrate_opts */
};
SILO_API int silo_migrate_receive(struct silo_context *ctx,
                                  const struct silo_migrate_receive_opts *o,
                                  struct silo_error *err);

/* The feature line for --version ("+SECCOMP +CAP ..."). */
SILO_API const char *silo_feature_line(void);

#ifdef __cplusplus
}
#endif

#endif
