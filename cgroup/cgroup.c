/* silo cgroup/: host detection, cgroup paths, the container cgroup's life cycle
 * (create, enter, pids, signal, destroy) and the dispatch of linux.resources.
 *
 * A container's cgroup is one directory per mounted hierarchy: every v1 hierarchy
 * of a legacy or hybrid host plus the cgroup2 one (all of a unified host, the
 * /sys/fs/cgroup/unified mount of a hybrid host).  The handle keeps those paths;
 * every file operation is an open/read|write/close of a small file (files.c).
 *
 * Safety rules every function below keeps: silo writes only inside directories it
 * created (or that the caller named as the container's cgroup), never mounts or
 * unmounts anything, and on a failed create removes exactly the directories it made.
 */
#include "cgroup/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

/* ---- the host ---- */

static int cached_mode = -1;
static struct cg_host host;
static bool host_loaded;

int
cgroup_detect(enum cgroup_mode *mode, struct silo_error *err)
{
  struct statfs s;

  if (cached_mode >= 0) {
    *mode = (enum cgroup_mode)cached_mode;
    return 0;
  }
  if (statfs(CG_ROOT, &s) < 0) return silo_err(err, errno, "statfs %s", CG_ROOT);
  if (s.f_type == CGROUP2_SUPER_MAGIC)
    *mode = CGROUP_MODE_UNIFIED;
  else if (s.f_type == TMPFS_MAGIC || s.f_type == CGROUP_SUPER_MAGIC)
    *mode = statfs(CG_HYBRID_V2, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC ? CGROUP_MODE_HYBRID
                                                                             : CGROUP_MODE_LEGACY;
  else
    return silo_err(err, 0, "%s is neither cgroup2 nor a tmpfs of v1 hierarchies (f_type %#lx)",
                    CG_ROOT, (unsigned long)s.f_type);
  cached_mode = (int)*mode;
  return 0;
}

int
cgroup_host_get(const struct cg_host **out, struct silo_error *err)
{
  enum cgroup_mode mode;
  struct cg_host h = {.v2 = -1};
  char buf[512];

  if (host_loaded) {
    *out = &host;
    return 0;
  }
  if (cgroup_detect(&mode, err) < 0) return -1;
  h.mode = mode;
  if (mode == CGROUP_MODE_UNIFIED) {
    /* One hierarchy: no need to read mountinfo at all (the fast, common case). */
    h.n = 1;
    h.m = xcalloc(1, sizeof *h.m);
    h.pub = xcalloc(1, sizeof *h.pub);
    h.m[0].mountpoint = xstrdup(CG_ROOT);
    h.m[0].v2 = true;
    h.pub[0] = (struct cgroup_hierarchy){h.m[0].mountpoint, "cgroup", NULL, true};
    h.v2 = 0;
  } else {
    char *text = cgroup_read_all("/proc/self", "mountinfo");
    if (!text) return silo_err(err, errno, "read /proc/self/mountinfo");
    int r = cgroup_parse_mountinfo(text, &h, err);
    free(text);
    if (r < 0) return -1;
  }
  if (h.v2 >= 0 && cgroup_read(h.m[h.v2].mountpoint, "cgroup.controllers", buf, sizeof buf) >= 0)
    h.m[h.v2].ctl = cgroup_ctl_parse_list(buf);
  host = h;
  host_loaded = true;
  *out = &host;
  return 0;
}

int
cgroup_hierarchies(const struct cgroup_hierarchy **hs, size_t *n, struct silo_error *err)
{
  const struct cg_host *h;
  if (cgroup_host_get(&h, err) < 0) return -1;
  *hs = h->pub;
  *n = h->n;
  return 0;
}

/* ---- paths ---- */

int
cgroup_path_resolve(const char *id, const char *path, char **out, bool *is_default,
                    struct silo_error *err)
{
  const char *what = "linux.cgroupsPath";
  _cleanup_free_ char *full = NULL;

  *out = NULL;
  if (!path || !*path) {
    if (!id || !*id) return silo_err(err, 0, "cgroup: no container id for the default path");
    if (strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
      return silo_err(err, 0, "container id \"%s\" cannot name a cgroup", id);
    /* Flat "/<id>", as runc and crun do: one directory level per hierarchy. */
    full = xasprintf("/%s", id);
  } else if (path[0] == '/') {
    full = xstrdup(path);
  } else {
    full = xasprintf(CG_DEFAULT_PARENT "/%s", path); /* relative: under silo's parent */
  }

  /* Normalise into a fresh buffer component by component; the result is never
   * longer than the input. */
  char *res = xmalloc(strlen(full) + 2), *w = res;
  for (const char *s = full; *s;) {
    size_t n = strcspn(s, "/");
    if (n == 2 && s[0] == '.' && s[1] == '.') {
      free(res);
      return silo_err(err, 0, "%s \"%s\": \"..\" components are not allowed", what, path);
    }
    if (memchr(s, '\n', n)) {
      free(res);
      return silo_err(err, 0, "%s: newline in a cgroup name", what);
    }
    if (n && !(n == 1 && s[0] == '.')) {
      *w++ = '/';
      memcpy(w, s, n);
      w += n;
    }
    s += n;
    s += strspn(s, "/");
  }
  *w = '\0';
  if (w == res) {
    free(res);
    return silo_err(err, 0, "%s \"%s\" names the root cgroup", what, path ? path : "");
  }
  *out = res;
  *is_default = strncmp(res, CG_DEFAULT_PARENT "/", sizeof CG_DEFAULT_PARENT) == 0;
  return 0;
}

/* ---- handles ---- */

static struct cgroup *
cg_new(const struct cg_host *h, char *path, enum cgroup_manager manager, bool is_default)
{
  struct cgroup *cg = xcalloc(1, sizeof *cg);
  cg->path = path;
  cg->manager = manager;
  cg->host = h;
  cg->is_default = is_default;
  cg->n = h->n;
  cg->d = xcalloc(h->n ? h->n : 1, sizeof *cg->d);
  for (size_t i = 0; i < h->n; i++) {
    cg->d[i].m = &h->m[i];
    cg->d[i].dir = xasprintf("%s%s", h->m[i].mountpoint, path);
    cg->d[i].created_from = -1;
    cg->d[i].self_fd = -1;
  }
  cg->v2 = h->v2;
  cg->v2_fd = -1;
  return cg;
}

void
cgroup_free(struct cgroup *cg)
{
  if (!cg) return;
  for (size_t i = 0; i < cg->n; i++) {
    free(cg->d[i].dir);
    close_fd(&cg->d[i].self_fd);
  }
  free(cg->d);
  if (cg->v2_fd >= 0) close(cg->v2_fd);
  cgroup_systemd_free(cg->sd);
  free(cg->path);
  free(cg);
}

const char *
cgroup_path(const struct cgroup *cg)
{
  return cg ? cg->path : NULL;
}

int
cgroup_clone_fd(const struct cgroup *cg)
{
  return cg ? cg->v2_fd : -1;
}

const char *
cgroup_v1_dir(const struct cgroup *cg, unsigned ctl)
{
  for (size_t i = 0; i < cg->n; i++)
    if (!cg->d[i].m->v2 && (cg->d[i].m->ctl & ctl)) return cg->d[i].dir;
  return NULL;
}

/* mkdir -p of the cgroup path inside one hierarchy.  Records the first level this
 * call created, so that a failed create removes exactly those.  Returns -ENOENT
 * when a parent vanished under it (a concurrent destroy removed an empty /silo):
 * the caller starts over. */
static int
mkdir_levels(struct cg_dir *d, struct silo_error *err)
{
  char *p = d->dir;
  size_t mlen = strlen(d->m->mountpoint);
  int level = 0, leaf = 0;

  for (const char *s = p + mlen + 1; *s; s++) leaf += *s == '/';
  /* Fast path: the parents usually exist (/silo with other containers in it).
   * 0755: only root may write cgroup files; silo runs as root. */
  if (mkdir(p, 0755) == 0) {
    if (d->created_from < 0 || leaf < d->created_from) d->created_from = leaf;
    return 0;
  }
  if (errno == EEXIST) {
    if (d->created_from < 0) d->existed = true;
    return 0;
  }
  if (errno != ENOENT) return silo_err(err, errno, "mkdir %s", p);

  for (char *s = p + mlen + 1;; s++) {
    if (*s != '/' && *s != '\0') continue;
    char c = *s;
    *s = '\0';
    int r = mkdir(p, 0755), e = errno;
    *s = c;
    if (r == 0) {
      if (d->created_from < 0 || level < d->created_from) d->created_from = level;
    } else if (e == EEXIST) {
      if (c == '\0' && d->created_from < 0) d->existed = true;
    } else if (e == ENOENT) {
      return -ENOENT;
    } else {
      return silo_err(err, e, "mkdir %.*s", (int)(s - p), p);
    }
    if (c == '\0') return 0;
    level++;
  }
}

/* Removes the levels [created_from, leaf] of one hierarchy, leaf first.  Errors
 * are ignored: a concurrent create may own a child of a level we made. */
static void
rollback_dir(const struct cg_dir *d)
{
  char p[PATH_MAX];
  size_t mlen = strlen(d->m->mountpoint);
  int levels = 0;

  if (d->created_from < 0 || snprintf(p, sizeof p, "%s", d->dir) >= (int)sizeof p) return;
  for (const char *s = p + mlen; *s; s++) levels += *s == '/';
  for (int lv = levels - 1; lv >= d->created_from; lv--) {
    (void)rmdir(p);
    *strrchr(p, '/') = '\0';
  }
}

/* A directory of a pre-existing cgroup that is frozen or freezing: v1 freezer.state
 * other than THAWED, v2 cgroup.freeze 1. */
static bool
cgroup_dir_frozen(const struct cg_dir *d)
{
  char buf[32];
  if (d->m->v2) return cgroup_read(d->dir, "cgroup.freeze", buf, sizeof buf) > 0 && buf[0] == '1';
  if (!(d->m->ctl & CG_FREEZER)) return false;
  return cgroup_read(d->dir, "freezer.state", buf, sizeof buf) > 0 && strcmp(buf, "THAWED") != 0;
}

int
cgroup_busy(const struct cgroup *cg, const char **dir)
{
  if (dir) *dir = cg && cg->busy ? cg->d[cg->busy_dir].dir : NULL;
  return cg ? cg->busy : 0;
}

static int
count_procs(const char *dir)
{
  _cleanup_free_ char *text = cgroup_read_all(dir, "cgroup.procs");
  int n = 0;
  if (!text) return 0;
  for (const char *s = text; *s; s++) n += *s == '\n';
  return n;
}

/* Index of the k-th directory to create: the v2 one first, then the others. */
static size_t
create_order(const struct cgroup *cg, size_t k)
{
  if (cg->v2 < 0) return k;
  if (k == 0) return (size_t)cg->v2;
  return k <= (size_t)cg->v2 ? k - 1 : k;
}

static int apply_resources(struct cgroup *cg, const struct oci_resources *res,
                           struct silo_error *err);

int
cgroup_plan_path(const struct cgroup_config *cfg, char **out, struct silo_error *err)
{
  _cleanup_free_ char *unit = NULL, *slice = NULL;
  bool is_default;

  *out = NULL;
  if (cfg->manager == CGROUP_MANAGER_DISABLED) return 0;
  /* The same names cgroup_create derives (systemd: a slice must land where its
   * name says, or cgroup_systemd_start fails), computed without touching anything. */
  if (cfg->manager == CGROUP_MANAGER_SYSTEMD)
    return cgroup_systemd_parse(cfg->id, cfg->path, &unit, &slice, out, err);
  return cgroup_path_resolve(cfg->id, cfg->path, out, &is_default, err);
}

int
cgroup_create(const struct cgroup_config *cfg, struct cgroup **out, struct silo_error *err)
{
  const struct cg_host *h = &host; /* any non-NULL; set by cgroup_host_get */
  char *path;
  bool is_default;
  struct cg_systemd *sd = NULL;

  *out = NULL;
  if (cfg->manager == CGROUP_MANAGER_DISABLED) return 0;
  if (cfg->manager != CGROUP_MANAGER_SYSTEMD &&
      cgroup_path_resolve(cfg->id, cfg->path, &path, &is_default, err) < 0)
    return -1;
  /* Refuse a bad config before the first mkdir: nothing to undo then. */
  if (cfg->resources && cgroup_resources_validate(cfg->resources, err) < 0) {
    if (cfg->manager != CGROUP_MANAGER_SYSTEMD) free(path);
    return -1;
  }
  /* systemd: the unit is the cgroup; the dirs below then exist already. */
  if (cfg->manager == CGROUP_MANAGER_SYSTEMD) {
    if (cgroup_systemd_start(cfg->id, cfg->path, &sd, &path, err) < 0) return -1;
    is_default = false;
  }
  if (cgroup_host_get(&h, err) < 0 || h->n == 0) {
    if (h->n == 0) silo_err(err, ENOENT, "no cgroup hierarchy mounted under %s", CG_ROOT);
    silo_err_wrap(err, "cgroup %s", path);
    cgroup_systemd_free(sd);
    free(path);
    return -1;
  }
  struct cgroup *cg = cg_new(h, path, cfg->manager, is_default);
  cg->sd = sd;

  /* The v2 directory first (its fd is what clone3 needs), then each v1 one. */
  for (size_t k = 0; k < cg->n; k++) {
    struct cg_dir *d = &cg->d[create_order(cg, k)];
    int r;
    for (int tries = 0; (r = mkdir_levels(d, err)) == -ENOENT && tries < 8; tries++) {
    }
    if (r == -ENOENT) silo_err(err, ENOENT, "mkdir %s: a parent keeps vanishing", d->dir);
    if (r < 0) goto fail;
    /* A pre-existing cgroup with processes in it is accepted, as runc 1.1 does (it
     * warns; the caller does too, from cgroup_busy): a systemd scope has its
     * placeholder anyway.  Nothing of those processes is touched here. */
    int np = d->existed && !cg->sd ? count_procs(d->dir) : 0;
    if (np > 0 && cg->busy == 0) {
      cg->busy = np;
      cg->busy_dir = (size_t)(d - cg->d);
    }
    /* A frozen one is refused before anything is placed in it (runc 1.1 too): the
     * container process would stop at its first instruction and create would wait
     * for it forever.  Only read, never thawed: it is not ours. */
    if (d->existed && cgroup_dir_frozen(d)) {
      silo_err(err, EBUSY, "container's cgroup unexpectedly frozen (%s)", d->dir);
      goto fail;
    }
    if (!d->m->v2 && (d->m->ctl & CG_CPUSET) && cgroup_v1_cpuset_prepare(cg, d, err) < 0) goto fail;
  }

  if (cg->v2 >= 0) {
    /* O_PATH: the fd only names the directory for CLONE_INTO_CGROUP (the kernel
     * takes it with fget_raw) and cannot be used to read or write anything. */
    cg->v2_fd = open(cgroup_v2_dir(cg), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cg->v2_fd < 0) {
      silo_err(err, errno, "open %s", cgroup_v2_dir(cg));
      goto fail;
    }
    /* Unified host: enable the usual controllers down to our parent now, best
     * effort (a parent with processes in it cannot delegate; a resource that
     * needs a missing controller fails later with a clear error).  On a hybrid
     * host controllers are enabled only when a resource needs one. */
    if (h->mode == CGROUP_MODE_UNIFIED && cgroup_v2_enable(cg, CG_V2_WANTED, true, err) < 0)
      goto fail;
  }
  if (cfg->resources && apply_resources(cg, cfg->resources, err) < 0) goto fail;
  *out = cg;
  return 0;

fail:
  for (size_t i = cg->n; i-- > 0;) rollback_dir(&cg->d[i]);
  if (cg->sd) {
    struct silo_error e = {0};
    (void)cgroup_systemd_stop(cg->sd, &e);
  }
  silo_err_wrap(err, "cgroup %s", cg->path);
  cgroup_free(cg);
  return -1;
}

int
cgroup_open(const char *path, enum cgroup_manager manager, struct cgroup **out,
            struct silo_error *err)
{
  const struct cg_host *h;
  char *p;
  bool is_default;

  *out = NULL;
  if (manager == CGROUP_MANAGER_DISABLED) return 0;
  if (!path || !*path) return silo_err(err, 0, "cgroup: no path to open");
  if (cgroup_path_resolve(NULL, path, &p, &is_default, err) < 0) return -1;
  if (cgroup_host_get(&h, err) < 0) {
    free(p);
    return -1;
  }
  struct cgroup *cg = cg_new(h, p, manager, is_default);
  if (manager == CGROUP_MANAGER_SYSTEMD) cg->sd = cgroup_systemd_open(p);
  if (cg->v2 >= 0) {
    /* Missing is fine (already deleted); anything else is worth reporting. */
    cg->v2_fd = open(cgroup_v2_dir(cg), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cg->v2_fd < 0 && errno != ENOENT) {
      silo_err(err, errno, "open %s", cgroup_v2_dir(cg));
      cgroup_free(cg);
      return -1;
    }
  }
  *out = cg;
  return 0;
}

int
cgroup_check_exists(const struct cgroup *cg, struct silo_error *err)
{
  for (size_t i = 0; cg && i < cg->n; i++) {
    struct stat st;
    if (stat(cg->d[i].dir, &st) < 0) return silo_err(err, errno, "%s", cg->d[i].dir);
  }
  return 0;
}

/* On v1, moving another process (its pid into cgroup.procs) write-locks the
 * kernel's global threadgroup semaphore, and the first write-lock after a quiet
 * spell waits for an RCU grace period: 5-15 ms, the largest single cost of a
 * container start on a v1 or hybrid host.  A task that writes "0" to `tasks`
 * moves only itself, which the kernel does without that lock.  So the parent
 * opens the files (the kernel checks the opener's credentials, which lets a
 * child in a new user namespace write them too) and the child moves itself. */
int
cgroup_self_enter_open(struct cgroup *cg, struct silo_error *err)
{
  if (!cg) return 0;
  for (size_t i = 0; i < cg->n; i++) {
    struct cg_dir *d = &cg->d[i];
    if (d->m->v2 || d->self_fd >= 0) continue;
    _cleanup_free_ char *p = xasprintf("%s/tasks", d->dir);
    d->self_fd = open(p, O_WRONLY | O_CLOEXEC);
    if (d->self_fd < 0) return silo_err(err, errno, "open %s", p);
  }
  return 0;
}

/* In the child, single-threaded, before it does anything else.  The fds are
 * closed but their numbers stay in *cg: exec's child shares silo's memory
 * (spawn_child_shared), and silo's cgroup_enter must still see, and close, its own
 * copies instead of writing the pid to cgroup.procs again. */
int
cgroup_self_enter(struct cgroup *cg, struct silo_error *err)
{
  if (!cg) return 0;
  for (size_t i = 0; i < cg->n; i++) {
    struct cg_dir *d = &cg->d[i];
    if (d->self_fd < 0) continue;
    if (write(d->self_fd, "0", 1) != 1) {
      int e = errno;
      return silo_err(err, e, "enter %s%s", d->dir,
                      e == ENOSPC ? " (empty cpuset.cpus or cpuset.mems?)" : "");
    }
    close(d->self_fd);
  }
  return 0;
}

int
cgroup_enter(struct cgroup *cg, pid_t pid, bool in_v2, struct silo_error *err)
{
  char buf[24];

  if (!cg) return 0;
  snprintf(buf, sizeof buf, "%d", (int)pid);
  for (size_t i = 0; i < cg->n; i++) {
    struct cg_dir *d = &cg->d[i];
    if (d->m->v2 && in_v2) continue;
    if (d->self_fd >= 0) { /* the child enters this one itself */
      close_fd(&d->self_fd);
      continue;
    }
    /* Writing cgroup.procs moves the whole thread group; the pid is our own child. */
    int r = cgroup_write(d->dir, "cgroup.procs", buf);
    if (r < 0) {
      silo_err(err, -r, "add pid %d to %s/cgroup.procs%s", (int)pid, d->dir,
               r == -ENOSPC ? " (empty cpuset.cpus or cpuset.mems?)" : "");
      return -1;
    }
  }
  cgroup_systemd_release(cg->sd); /* the scope has the container now */
  return 0;
}

/* ---- pids, signals ---- */

static int
all_pids(const struct cgroup *cg, struct cg_pidset *s, struct silo_error *err)
{
  for (size_t i = 0; i < cg->n; i++)
    if (cgroup_collect_pids(cg->d[i].dir, s, 0, err) < 0) return -1;
  cgroup_pidset_sort(s);
  return 0;
}

int
cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n, struct silo_error *err)
{
  struct cg_pidset s = {0};
  *pids = NULL;
  *n = 0;
  if (!cg) return 0;
  if (all_pids(cg, &s, err) < 0) {
    free(s.v);
    return silo_err_wrap(err, "cgroup %s", cg->path);
  }
  *pids = s.v;
  *n = s.n;
  return 0;
}

int
cgroup_signal_all(const struct cgroup *cg, int sig, struct silo_error *err)
{
  struct cg_pidset done = {0};
  int rounds = sig == SIGKILL ? 8 : 1;

  if (!cg) return 0;
  if (sig == SIGKILL && cg->v2 >= 0) {
    /* cgroup.kill kills the whole subtree atomically, forks included. */
    int r = cgroup_v2_kill(cg, err);
    if (r < 0) return silo_err_wrap(err, "cgroup %s", cg->path);
    if (r == 1 && cg->host->mode == CGROUP_MODE_UNIFIED) return 0;
  }
  /* Otherwise signal the listed pids; for SIGKILL repeat while new ones appear
   * (children forked between the read and the kill).  The pids come from this
   * container's own cgroup, so only its processes are signalled. */
  for (int round = 0; round < rounds; round++) {
    struct cg_pidset now = {0};
    size_t fresh = 0;
    if (all_pids(cg, &now, err) < 0) {
      free(now.v);
      free(done.v);
      return silo_err_wrap(err, "cgroup %s", cg->path);
    }
    for (size_t i = 0; i < now.n; i++) {
      if (cgroup_pidset_has(&done, now.v[i])) continue;
      if (kill(now.v[i], sig) < 0 && errno != ESRCH) {
        silo_err(err, errno, "kill %d", (int)now.v[i]);
        free(now.v);
        free(done.v);
        return -1;
      }
      cgroup_pidset_add(&done, now.v[i]);
      fresh++;
    }
    free(now.v);
    cgroup_pidset_sort(&done);
    if (fresh == 0) break;
  }
  free(done.v);
  return 0;
}

/* ---- destroy ---- */

int
cgroup_destroy(struct cgroup *cg, struct silo_error *err)
{
  struct timespec deadline;
  int ret = 0;

  if (!cg) return 0;
  if (cg->sd && cgroup_systemd_stop(cg->sd, err) < 0) ret = -1; /* systemd removes its dirs */
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += 1;
  for (size_t i = 0; i < cg->n; i++) {
    int r = cgroup_rmdir_tree(cg->d[i].dir, &deadline, 0);
    if (r < 0 && ret == 0) ret = silo_err(err, -r, "rmdir %s", cg->d[i].dir);
  }
  if (cg->is_default) {
    /* The shared parent goes when it is empty; a concurrent create keeps it busy
     * (EBUSY/ENOTEMPTY) or recreates it (fs_mkdir_p retries on ENOENT). */
    for (size_t i = 0; i < cg->n; i++) {
      _cleanup_free_ char *p = xasprintf("%s" CG_DEFAULT_PARENT, cg->d[i].m->mountpoint);
      (void)rmdir(p);
    }
  }
  return ret < 0 ? silo_err_wrap(err, "cgroup %s", cg->path) : 0;
}

/* ---- resources ---- */

/* Where a controller lives: the v1 hierarchy carrying it, else the v2 directory
 * (after enabling the controller down to it).  1 found, 0 not available, -1 error. */
static int
pick(struct cgroup *cg, unsigned v1ctl, unsigned v2ctl, const char **dir, bool *v2,
     struct silo_error *err)
{
  if (v1ctl && (*dir = cgroup_v1_dir(cg, v1ctl))) {
    *v2 = false;
    return 1;
  }
  if (v2ctl && cg->v2 >= 0 && (cg->d[cg->v2].m->ctl & v2ctl)) {
    if (cgroup_v2_enable(cg, v2ctl, false, err) < 0) return -1;
    *dir = cgroup_v2_dir(cg);
    *v2 = true;
    return 1;
  }
  return 0;
}

/* Whether a section asks for anything (0 is "unset" for most fields). */
static bool
memory_set(const struct oci_memory *m)
{
  return m->has_limit || m->has_reservation || (m->has_swap && m->swap) || m->has_kernel_tcp ||
         (m->has_swappiness && m->swappiness != UINT64_MAX) ||
         (m->has_disable_oom_killer && m->disable_oom_killer);
}

static bool
cpu_set(const struct oci_cpu *c)
{
  return (c->has_shares && c->shares) || (c->has_quota && c->quota) ||
         (c->has_period && c->period) || c->has_burst || c->has_idle ||
         (c->has_realtime_runtime && c->realtime_runtime) ||
         (c->has_realtime_period && c->realtime_period);
}

static bool
blkio_set(const struct oci_blkio *b)
{
  return (b->has_weight && b->weight) || (b->has_leaf_weight && b->leaf_weight) ||
         b->n_weight_device || b->n_throttle_read_bps || b->n_throttle_write_bps ||
         b->n_throttle_read_iops || b->n_throttle_write_iops;
}

/* Sets dir/v2 for a controller; a missing one is an error when `needed`, else
 * the section is skipped (r == 0). */
#define PICK(v1ctl, v2ctl, json, needed)                                                           \
  do {                                                                                             \
    r = pick(cg, v1ctl, v2ctl, &dir, &v2, err);                                                    \
    if (r < 0) goto fail;                                                                          \
    if (r == 0 && (needed)) {                                                                      \
      silo_err(err, ENOTSUP, "%s: the %s controller is not available", json,                       \
               cgroup_ctl_name(v1ctl ? v1ctl : v2ctl));                                            \
      goto fail;                                                                                   \
    }                                                                                              \
  } while (0)

static int
apply_resources(struct cgroup *cg, const struct oci_resources *res, struct silo_error *err)
{
  const char *dir;
  bool v2;
  int r;

  if (res->memory) {
    PICK(CG_MEMORY, CG_MEMORY, "linux.resources.memory", memory_set(res->memory));
    if (r && (v2 ? cgroup_v2_memory : cgroup_v1_memory)(dir, res->memory, err) < 0) goto fail;
  }
  if (res->cpu && cpu_set(res->cpu)) {
    PICK(CG_CPU, CG_CPU, "linux.resources.cpu", true);
    if ((v2 ? cgroup_v2_cpu : cgroup_v1_cpu)(dir, res->cpu, err) < 0) goto fail;
  }
  if (res->cpu && ((res->cpu->cpus && *res->cpu->cpus) || (res->cpu->mems && *res->cpu->mems))) {
    PICK(CG_CPUSET, CG_CPUSET, "linux.resources.cpu.cpus", true);
    if (cgroup_cpuset(dir, res->cpu, err) < 0) goto fail;
  }
  if (res->has_pids_limit) {
    PICK(CG_PIDS, CG_PIDS, "linux.resources.pids", true);
    if (cgroup_pids_limit(dir, res->pids_limit, err) < 0) goto fail;
  }
  if (res->blkio && blkio_set(res->blkio)) {
    PICK(CG_BLKIO, CG_IO, "linux.resources.blockIO", true);
    if ((v2 ? cgroup_v2_io : cgroup_v1_blkio)(dir, res->blkio, err) < 0) goto fail;
  }
  if (res->n_hugepage_limits) {
    PICK(CG_HUGETLB, CG_HUGETLB, "linux.resources.hugepageLimits", true);
    if (cgroup_hugetlb(dir, v2, res, err) < 0) goto fail;
  }
  if (res->n_rdma) {
    PICK(CG_RDMA, CG_RDMA, "linux.resources.rdma", true);
    if (cgroup_rdma(dir, res, err) < 0) goto fail;
  }
  /* Devices: the v1 controller, or on a unified host an eBPF filter (bpf_devices.c);
   * net_cls/net_prio: v1 only, v2 has no equivalent. */
  if (res->n_devices && (dir = cgroup_v1_dir(cg, CG_DEVICES))) {
    if (cgroup_v1_devices(dir, res, err) < 0) goto fail;
  } else if (res->n_devices && cg->v2 >= 0 && cg->host->mode == CGROUP_MODE_UNIFIED) {
    if (cgroup_v2_devices(cgroup_v2_dir(cg), res->devices, res->n_devices, err) < 0) goto fail;
  } else if (res->n_devices && cg->v2 < 0) {
    silo_err(err, ENOTSUP, "linux.resources.devices: the devices controller is not available");
    goto fail;
  }
  if (res->has_net_class_id && (dir = cgroup_v1_dir(cg, CG_NET_CLS)) &&
      cgroup_v1_net_cls(dir, res->net_class_id, err) < 0)
    goto fail;
  if (res->n_net_priorities && (dir = cgroup_v1_dir(cg, CG_NET_PRIO)) &&
      cgroup_v1_net_prio(dir, res, err) < 0)
    goto fail;
  /* Last, so that explicit files override what the typed fields wrote. */
  if (res->n_unified && cgroup_v2_unified(cg, res, err) < 0) goto fail;
  return 0;
fail:
  return -1;
}

int
cgroup_apply(struct cgroup *cg, const struct oci_resources *res, struct silo_error *err)
{
  if (!cg || !res) return 0;
  if (cgroup_resources_validate(res, err) < 0 || apply_resources(cg, res, err) < 0)
    return silo_err_wrap(err, "cgroup %s", cg->path);
  return 0;
}
