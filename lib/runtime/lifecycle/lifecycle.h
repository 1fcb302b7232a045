/* silo lib/runtime/lifecycle/: a container after create — the state directory, hooks,
 * the foreground loop of run/exec/restore, and the commands of lib/silo.h (start,
 * kill, delete, state, list, exec, pause, resume, ps, update, events, features). */
#ifndef SILO_LIFECYCLE_H
#define SILO_LIFECYCLE_H

#include "lib/base/error.h"
#include "lib/runtime/plan.h"

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

/* ---- mounts_record.c: `mounts add`'s record (mounts.json in the state dir) ---- */
/* The record (mounts.json in the container's state directory): what `add`
 * attached, by destination and mount id. */
struct added {
  char *dest; /* lexically clean */
  uint64_t id;
};

struct record {
  struct added *v;
  size_t n;
};

void record_free(struct record *r);
void record_push(struct record *r, const char *dest, uint64_t id);
/* Drops the entry of mount id (the last one with it). */
void record_drop(struct record *r, uint64_t id);
/* A missing file is an empty record; anything unreadable is an error (never guessed). */
int record_read(int dirfd, struct record *r, struct silo_error *err);
/* Replaces the file (or removes it when r is empty). */
int record_write(int dirfd, const struct record *r, struct silo_error *err);

/* ---- mounts_plan.c: what `mounts add` may attach, decided before its helper runs ---- */
/* A destination as written: absolute, without `..`, not the root. */
int mounts_check_written_dest(const char *dest, size_t index, struct silo_error *err);
/* A destination (clean, absolute) covering /proc, /sys, a masked or read-only path. */
int mounts_check_masks(const struct oci_config *cfg, const char *dest, const char *what,
                       size_t index, struct silo_error *err);
/* One mount to add, decoded with the config's rules: bind mounts only. */
int mounts_plan_one(const struct oci_mount *m, size_t i, const struct oci_config *cfg,
                    const char *bundle, struct mount_plan *p, struct silo_error *err);
/* The detached tree made rslave, then the propagation the options ask for. */
int mounts_tree_propagation(int tree, unsigned long prop, struct silo_error *err);
/* A procfs or sysfs source is refused (judged on the tree). */
int mounts_check_source_fs(int tree, const struct mount_plan *p, size_t i, struct silo_error *err);

#endif
