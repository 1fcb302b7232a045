/* silo lib/runtime/lifecycle/: a container after create — the state directory, hooks,
 * the foreground loop of run/exec/restore, and the commands of lib/silo.h (start,
 * kill, delete, state, list, exec, pause, resume, ps, update, events, features). */
#ifndef SILO_LIFECYCLE_H
#define SILO_LIFECYCLE_H

#include "lib/runtime/plan.h"

/* ---- state.c: the state directory <root>/<id>/ ---- */
struct silo_state {
  char *id, *bundle, *rootfs, *created, *cgroup_path;
  pid_t pid;
  unsigned long long start_time; /* guards against pid reuse */
  int cgroup_manager;            /* enum cgroup_manager */
  bool new_pidns;                /* killing init kills everything */
  bool detached;                 /* created with create/run -d (no parent waits) */
};
int validate_id(const char *id, struct silo_error *err);
int state_root_open(struct silo_context *ctx, struct silo_error *err);
/* mkdir <root>/<id> (an existing id is an error) and lock it; returns its fd. */
int state_dir_create(int rootfd, const char *id, struct silo_error *err);
/* Opens and locks an existing container's dir; ENOENT -> "container `id` does not exist". */
int state_dir_lock(int rootfd, const char *id, struct silo_error *err);
int state_write(int dirfd, const struct silo_state *s, struct silo_error *err);
int state_read(int dirfd, struct silo_state *s, struct silo_error *err);
void state_free(struct silo_state *s);
/* Status from the saved state and the process's liveness (pid + start time). */
enum oci_status state_status(int dirfd, const struct silo_state *s);
int state_dir_remove(int rootfd, const char *id);
/* Loads the config.json saved at create time. */
struct oci_config *state_load_config(int dirfd, struct silo_error *err);
/* Fills an oci_state for hooks/`state` output. */
char *state_json(const struct silo_state *s, const struct oci_config *cfg, enum oci_status st,
                 bool pretty);

/* ---- hooks.c ---- */
int hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json,
              struct silo_error *err);

/* ---- run.c: the foreground loop shared by run, exec and restore ---- */
void foreground_signals(sigset_t *mask);
/* Puts our terminal in raw mode when the container has a pty of ours. */
void foreground_tty(struct container_plan *c);
/* Forwards signals, relays the terminal, reaps; *exit_code as a shell reports it. */
int foreground_wait(struct container_plan *c, int sfd, int *exit_code, struct silo_error *err);
/* The tail of run and restore: unlocks the state dir (so state, kill and exec
 * work from other shells), foreground_wait, then puts the terminal and our
 * signal mask (`old`) back. */
int foreground_finish(struct container_plan *c, int sfd, const sigset_t *old, int *exit_code,
                      struct silo_error *err);

#endif
