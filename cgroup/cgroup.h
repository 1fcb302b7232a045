/* silo cgroup/: one interface over cgroup v2 (unified), v1 (legacy) and hybrid hosts.
 *
 * The whole API of the module.  lib/ creates a container's cgroup before the
 * container process exists, clones the process straight into it where the kernel
 * allows (clone3 CLONE_INTO_CGROUP on the v2 side), places it in the v1 hierarchies
 * otherwise, and removes everything on delete.
 *
 * Rules: silo only ever touches cgroups it created; it never mounts, unmounts or
 * rewires the host's cgroup hierarchies.
 */
#ifndef SILO_CGROUP_H
#define SILO_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/base/error.h"
#include "oci/oci.h"

enum cgroup_mode {
  CGROUP_MODE_UNIFIED, /* /sys/fs/cgroup is cgroup2 */
  CGROUP_MODE_LEGACY,  /* v1 controllers only */
  CGROUP_MODE_HYBRID,  /* v1 controllers plus a cgroup2 mount (/sys/fs/cgroup/unified) */
};

enum cgroup_manager {
  CGROUP_MANAGER_CGROUPFS,
  CGROUP_MANAGER_SYSTEMD,
  CGROUP_MANAGER_DISABLED, /* no cgroup at all (crun's --cgroup-manager disabled) */
};

/* One mounted hierarchy of the host, as the container's `cgroup` mount must mirror it. */
struct cgroup_hierarchy {
  const char *mountpoint; /* "/sys/fs/cgroup/cpu,cpuacct" or "/sys/fs/cgroup/unified" */
  const char *name;       /* last path component: "cpu,cpuacct", "unified", "systemd" */
  const char *options;    /* v1 mount data: "cpu,cpuacct" or "none,name=systemd"; NULL for v2 */
  bool v2;
};

/* Mode of this host, detected once per process (cheap: one statfs, cached). */
int cgroup_detect(enum cgroup_mode *mode, struct silo_error *err);
/* The host's hierarchies (cached; owned by the module). */
int cgroup_hierarchies(const struct cgroup_hierarchy **h, size_t *n, struct silo_error *err);

struct cgroup; /* opaque */

struct cgroup_config {
  const char *id;   /* container id */
  const char *path; /* linux.cgroupsPath; NULL: "/<id>" (as runc/crun); relative: under "/silo" */
  enum cgroup_manager manager;
  const struct oci_resources *resources; /* may be NULL */
};

/* The path cgroup_create will give the container's cgroup (NULL for `disabled`),
 * without side effects: recorded before the cgroup is made, so that a crashed
 * create can be cleaned up (see docs/reliability.md).  A bad path fails here. */
int cgroup_plan_path(const struct cgroup_config *cfg, char **out, struct silo_error *err);
/* Creates the container's cgroup in every hierarchy (refusing paths that escape
 * with ".."); on failure removes whatever it made.  *out is NULL for the
 * `disabled` manager. */
int cgroup_create(const struct cgroup_config *cfg, struct cgroup **out, struct silo_error *err);
/* The number of processes cgroup_create found in a directory that existed before
 * (runc 1.1 warns about them and goes on; a frozen one fails the create), and that
 * directory in *dir; 0 when there were none. */
int cgroup_busy(const struct cgroup *cg, const char **dir);
/* An O_PATH|O_DIRECTORY fd of the v2 cgroup directory for clone3's
 * CLONE_INTO_CGROUP, or -1 when there is none.  Owned by the handle. */
int cgroup_clone_fd(const struct cgroup *cg);
/* Self-placement on v1 hierarchies (see cgroup.c): the parent opens the files
 * before cloning, the child calls cgroup_self_enter first thing, and the
 * parent's cgroup_enter then leaves those hierarchies to the child. */
int cgroup_self_enter_open(struct cgroup *cg, struct silo_error *err);
int cgroup_self_enter(struct cgroup *cg, struct silo_error *err);
/* Puts pid in the container's cgroups; `in_v2` says clone3 already placed it
 * on the v2 side.  v1 cpuset is initialised from its parent before use. */
int cgroup_enter(struct cgroup *cg, pid_t pid, bool in_v2, struct silo_error *err);
/* Applies linux.resources (create and `update`). */
int cgroup_apply(struct cgroup *cg, const struct oci_resources *r, struct silo_error *err);
/* The path to keep in the state file, e.g. "/silo/abc". */
const char *cgroup_path(const struct cgroup *cg);
/* Re-opens the cgroup of an existing container (for kill --all, ps, delete). */
int cgroup_open(const char *path, enum cgroup_manager manager, struct cgroup **out,
                struct silo_error *err);
/* 0 when the cgroup opened by cgroup_open exists in every hierarchy; else -1 (ENOENT)
 * naming the first directory that is missing. */
int cgroup_check_exists(const struct cgroup *cg, struct silo_error *err);
/* The pids in the cgroup (malloc'ed array). */
int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n, struct silo_error *err);
/* Sends sig to every process in the cgroup (cgroup.kill for SIGKILL on v2). */
int cgroup_signal_all(const struct cgroup *cg, int sig, struct silo_error *err);
/* Removes the cgroup from every hierarchy (retrying while the last tasks exit);
 * an empty default parent ("/silo") is removed too.  Missing dirs are fine. */
int cgroup_destroy(struct cgroup *cg, struct silo_error *err);
/* Freezes (true) or thaws the cgroup: v2 cgroup.freeze, v1 freezer.state; returns once
 * the kernel reports the new state (v1 FREEZING settles into FROZEN). */
int cgroup_freeze(struct cgroup *cg, bool frozen, struct silo_error *err);
/* Asks for the freeze and returns at once: for tasks that some other party (CRIU)
 * holds stopped and lets go of later; cgroup_freeze(cg, true) then waits for it. */
int cgroup_freeze_request(struct cgroup *cg, struct silo_error *err);

/* ---- trackers (track.c): cgroup2 directories that only hold processes ---- */
/* The path of the tracker NAME (a child of silo's own cgroup2 directory), without
 * side effects: recorded before cgroup_track_enter makes it.  ENOTSUP when the
 * host has no cgroup2. */
int cgroup_track_path(const char *name, char **path, struct silo_error *err);
/* Makes the tracker (if needed) and moves pid into it: what pid forks from then
 * on is in it too, whatever session or process group it moves to. */
int cgroup_track_enter(const char *path, pid_t pid, struct silo_error *err);
/* Kills every process in the tracker, waits for them (a second at most) and
 * removes it.  A missing tracker is fine.  0, or -errno of the rmdir. */
int cgroup_track_kill(const char *path);
/* Moves what is left in the tracker to its parent (silo's cgroup) and removes it. */
int cgroup_track_release(const char *path);

/* ---- statistics (stats.c), for `events --stats` ---- */
struct cgroup_kv_u64 {
  char *key;
  uint64_t value;
};
struct cgroup_blkio_entry {
  uint64_t major, minor;
  char *op; /* "Read", "Write", "Sync", "Async", "Discard", "Total" */
  uint64_t value;
};
struct cgroup_hugetlb_stats {
  char *pagesize; /* "2MB" */
  uint64_t usage, max, failcnt;
};
struct cgroup_mem_entry {
  uint64_t usage, max, limit, failcnt;
};
struct cgroup_stats {
  bool has_cpu, has_memory, has_pids, has_blkio;
  struct {
    uint64_t total, kernel, user; /* nanoseconds */
    uint64_t *percpu;
    size_t n_percpu;
    uint64_t periods, throttled_periods, throttled_time;
  } cpu;
  struct {
    struct cgroup_mem_entry usage, swap, kernel, kernel_tcp;
    uint64_t cache;
    struct cgroup_kv_u64 *raw; /* memory.stat as it is */
    size_t n_raw;
  } memory;
  struct {
    uint64_t current, limit; /* limit 0 = none */
  } pids;
  struct {
    struct cgroup_blkio_entry *service_bytes, *serviced;
    size_t n_service_bytes, n_serviced;
  } blkio;
  struct cgroup_hugetlb_stats *hugetlb;
  size_t n_hugetlb;
};
/* Reads what the host's controllers offer (v1 or v2, both on a hybrid host). */
int cgroup_stats(const struct cgroup *cg, struct cgroup_stats *st, struct silo_error *err);
void cgroup_stats_free(struct cgroup_stats *st);
/* OOM notification: an fd that becomes readable when the kernel OOM-kills in the
 * cgroup (v1: eventfd registered through cgroup.event_control on memory.oom_control;
 * v2: inotify on memory.events), and the cumulative OOM-kill count behind it. */
int cgroup_oom_fd(const struct cgroup *cg, struct silo_error *err);
int cgroup_oom_count(const struct cgroup *cg, uint64_t *count, struct silo_error *err);

/* True when the container's cgroup is frozen (v2 cgroup.freeze / v1 freezer.state). */
bool cgroup_is_frozen(const struct cgroup *cg);
void cgroup_free(struct cgroup *cg);

#endif
