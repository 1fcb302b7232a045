/* silo lib/: `silo sandbox` (private to lib/).  The public entry points are
 * silo_sandbox() and silo_sandbox_prune() in silo.h.
 *
 *   sandbox.c          the flow: check everything, make the root, run, clean up
 *   lib/sandbox/opts.c     option values: durations, sizes, cpus, binds, capabilities
 *   lib/sandbox/mount.c    the private mount namespace, idmapped layers, the overlay
 *   lib/sandbox/config.c   the generated config.json (process from the image's config)
 *   lib/sandbox/seccomp.c  Docker's default seccomp profile, rendered for a container
 *   lib/sandbox/clean.c    the watchdog, stale sandboxes, the bundle, --prune
 *   lib/sandbox/rootless.c an unprivileged user's sandbox: its user namespace, cache, cgroup
 *
 * On disk, under the state root:
 *   <root>/.sandbox/layers/           the layer cache (image.h), layers.lock beside it
 *   <root>/.sandbox/images/           the images' index records (lib/image/cache.c)
 *                                     (rootless: $XDG_CACHE_HOME/silo/sandbox/layers-*,
 *                                     see lib/sandbox/rootless.c)
 *   <root>/.sandbox/run/<id>/         one sandbox's bundle:
 *       owner                           "<pid> <start time>" of the silo that runs it
 *       config.json, rootfs/ (overlay)  the bundle silo_run is given
 *       l/<n>/                          mount points of the lower layers
 *       w/                              mount point of the tmpfs: upper/, work/
 *   <root>/<id>/                      the container's state, as for any container
 * with <id> = sandbox-<pid>-<random>.  Mounts are only ever made in the sandbox's
 * private mount namespace, so on the host these are plain (empty) directories, and
 * they are removed one by one with rmdir, never recursively.
 */
#ifndef SILO_SANDBOX_H
#define SILO_SANDBOX_H

#include <jansson.h>
#include <stdint.h>

#include "lib/base/error.h"
#include "lib/image/image.h"
#include "lib/silo.h"
#include "oci/oci.h"

#define SANDBOX_ID_PREFIX "sandbox-"

/* ---- lib/sandbox/opts.c (pure; tests/unit/lib/sandbox/test_sandbox_opts.c) ---- */
/* "10" (seconds), "1.5s", "500ms", "2m", "1h30m", "1d": a sum of NUMBER[UNIT] parts. */
int sandbox_parse_duration(const char *s, uint64_t *ms, struct silo_error *err);
/* Back to text for messages: "1s", "1m30s", "250ms". */
void sandbox_format_duration(uint64_t ms, char *buf, size_t len);
/* "512m", "1g", "1024k", "1073741824", "2GiB", "10MB" (binary multiples). */
int sandbox_parse_size(const char *s, int64_t *bytes, struct silo_error *err);
/* "1.5" -> quota 150000 for period 100000. */
int sandbox_parse_cpus(const char *s, int64_t *quota, uint64_t *period, struct silo_error *err);
struct sandbox_bind {
  char *src, *dst;
  bool ro;
};
/* SRC:DST[:ro|rw] (DST absolute; SRC as given, made absolute by the caller). */
int sandbox_parse_bind(const char *s, struct sandbox_bind *b, struct silo_error *err);
/* "net_admin", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL"; NULL (err) if unknown. */
char *sandbox_cap_name(const char *s, struct silo_error *err);

/* ---- the plan ---- */
struct sandbox {
  struct silo_context *ctx;
  const struct silo_sandbox_opts *o;
  char id[64];
  int rootfd;
  char *dir;    /* <root>/.sandbox */
  char *run;    /* <root>/.sandbox/run/<id> */
  char *cache;  /* <root>/.sandbox, or the user's cache (rootless): layers.lock */
  char *layers; /* <cache>/layers, or <cache>/layers-<mapping> (rootless) */
  int lock_fd;

  /* rootless (lib/sandbox/rootless.c) */
  bool rootless;
  struct silo_context rctx;              /* the context used then: no cgroup manager... */
  struct oci_idmap uidmap[2], gidmap[2]; /* the sandbox's user namespace */
  size_t n_maps;
  char *cgroup_parent; /* with limits: the delegated cgroup the container's goes in */

  /* checked options */
  uint64_t timeout_ms;
  int64_t memory, cpu_quota, pids;
  uint64_t cpu_period;
  struct sandbox_bind *binds;
  size_t n_binds;
  char **caps; /* the container's capability set */
  size_t n_caps;
  json_t *seccomp; /* linux.seccomp, NULL: unconfined */
  char *rootfs;    /* --rootfs made absolute */
  char *keep;      /* --keep-changes made absolute */

  /* the root */
  struct image img;
  const char *const *lowers; /* bottom first */
  size_t n_lowers;
  bool userns;
  uint32_t id_base, id_count; /* host ids of the container's 0..count-1 */
  bool mounted_ns;            /* we are in our private mount namespace */
  char *merged;               /* <run>/rootfs */

  /* the process */
  bool terminal;
  char **args, **env;
  size_t n_args, n_env;
  char *cwd;
  uint32_t uid, gid;
  uint32_t *gids;
  size_t n_gids;

  /* the watchdog (lib/sandbox/clean.c) */
  pid_t wd_pid;
  int wd_fd;
  volatile int *timed_out; /* shared with the watchdog */
};

/* ---- lib/sandbox/rootless.c ---- */
/* Step 1 for an unprivileged caller: refuses what cannot work rootless, plans the
 * id maps and the cgroup (nothing is made). */
int sandbox_rootless_check(struct sandbox *sb, struct silo_error *err);
/* Makes the sandbox's user namespace and joins it. */
int sandbox_rootless_enter(struct sandbox *sb, struct silo_error *err);
/* Sets sb->cache and sb->layers (sb->dir set; after the user namespace is entered),
 * and makes them when `make`. */
int sandbox_cache_dirs(struct sandbox *sb, bool make, struct silo_error *err);
/* The first range of the user `name` (or numeric `id`) in the content of /etc/subuid
 * or /etc/subgid (unit tested). */
bool sandbox_subid_range(const char *content, const char *name, unsigned long id, uint32_t *start,
                         uint32_t *count);
/* The delegated cgroup v2 a rootless sandbox's limits can use: the parent of the
 * caller's own (`self` is /proc/self/cgroup, `mnt` the cgroup2 mount), writable,
 * with `controllers` enabled for its children.  *parent gets its path. */
int sandbox_cgroup_delegated(const char *mnt, const char *self, const char *const *controllers,
                             size_t n, char **parent, struct silo_error *err);

/* ---- lib/sandbox/mount.c ---- */
/* Decides on a user namespace, enters a private mount namespace and mounts the
 * root at sb->merged. */
int sandbox_mount(struct sandbox *sb, struct silo_error *err);
/* Unmounts everything sandbox_mount made (in our namespace; best effort). */
void sandbox_umount(struct sandbox *sb);

/* ---- lib/sandbox/config.c ---- */
/* The process: args, env, cwd, user from the options and the image config,
 * resolved in the mounted root; checks the command exists (*exit_code 126/127). */
int sandbox_process(struct sandbox *sb, int *exit_code, struct silo_error *err);
/* config.json for silo_run (malloc'ed). */
char *sandbox_config_json(struct sandbox *sb, struct silo_error *err);

/* ---- lib/sandbox/seccomp.c ---- */
/* Docker's default profile for this host and these capabilities, as linux.seccomp. */
json_t *sandbox_seccomp_default(char *const *caps, size_t n_caps, struct silo_error *err);
/* A profile file: OCI linux.seccomp as is, or Docker's format (archMap,
 * includes/excludes) rendered like the default. */
json_t *sandbox_seccomp_file(const char *path, char *const *caps, size_t n_caps,
                             struct silo_error *err);

/* ---- lib/sandbox/clean.c ---- */
/* Forks the watchdog: when we die it deletes the container and the bundle; it also
 * runs the --timeout clock once told the command starts. */
int sandbox_watchdog_start(struct sandbox *sb, struct silo_error *err);
void sandbox_watchdog_arm(struct sandbox *sb); /* the command starts now */
/* Tells it we are done: it exits (once the container is deleted: what remains, the
 * unmounting and the bundle, the stale cleanup of the next sandbox also removes). */
void sandbox_watchdog_dismiss(struct sandbox *sb);
void sandbox_watchdog_stop(struct sandbox *sb); /* dismisses it and waits for it */
/* Removes a bundle directory <run> entry by entry (rmdir, never recursive). */
int sandbox_remove_run(int rundirfd, const char *id);
/* Deletes the container <id> (if any) and its leftovers (a cgroup of a create that
 * died half-way: <cgroup_parent>/<id>, "/<id>" when NULL).  Best effort. */
void sandbox_delete_container(struct silo_context *ctx, const char *id, const char *cgroup_parent);
/* Cleans the sandboxes whose silo is gone, and their half-unpacked layers (in the
 * layers directory `layers`). */
void sandbox_clean_stale(struct silo_context *ctx, int sandbox_dirfd, const char *layers);

#endif
