/* silo lib/: rootless sandboxes — `silo sandbox` run by an unprivileged user.
 *
 * The whole sandbox runs in a user namespace of its own, entered before anything
 * is made (sandbox_rootless_enter), in which silo is root:
 *   ids  0 -> the user's uid and gid; 1..N -> the first range of the user's entry in
 *        /etc/subuid and /etc/subgid (N: the smaller of the two), written by
 *        newuidmap / newgidmap (setuid root, package uidmap).  Without such a range
 *        or helpers, or when they fail, only 0 -> the user's own ids, which the
 *        kernel lets anyone map (setgroups is then denied in the namespace).
 * From there every step of a root sandbox runs unchanged, with no more privilege on
 * the host than the user has: the layers are unpacked by root of the namespace (an
 * image's owners 0..N land on the host as the user and the subordinate ids; others
 * become the user, see lib/image/layer.c), the private mount namespace, the tmpfs and
 * the overlay (in userxattr mode: Linux 5.11 or later) are mounted there, and
 * silo_run creates the container there: its other namespaces (pid, net, ipc, uts,
 * mount, cgroup) are owned by this user namespace, which the container shares, as
 * with `podman run` rootless (its /proc/self/uid_map shows the user's ids); its
 * root has Docker's capability set there, under the seccomp profile and
 * no_new_privs, and device nodes are bind-mounted from the host (devices.c: mknod
 * is refused in a user namespace).  The watchdog is forked in the namespace too: it
 * can remove files owned by the subordinate ids, which the user on the host cannot.
 *
 * Where things live:
 *   state root   --root, by default $XDG_RUNTIME_DIR/silo (as for any command);
 *   layer cache  $XDG_CACHE_HOME/silo/sandbox, or ~/.cache/silo/sandbox: layers are
 *                bulky, reproducible data that should outlive a login session, and
 *                $XDG_RUNTIME_DIR is a small tmpfs emptied at logout.  Without a
 *                usable home, the state root's .sandbox as for root.  The owners on
 *                disk depend on the id mapping, so there is one layers directory
 *                per mapping: layers-<subuid>-<subgid>-<N>, or layers-own.
 * Cgroups: none (the sandbox's ctx gets --cgroup-manager disabled), unless a limit
 * is asked for (--memory, --cpus, --pids): then the caller must run in a delegated
 * cgroup v2 (sandbox_cgroup_delegated), and the container's cgroup is made next to
 * the caller's own; a limit that cannot be enforced is an error, never ignored.
 */
#include <errno.h>
#include <pwd.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/runtime/create/create.h"
#include "lib/sandbox/sandbox.h"
#include "lib/silo.h"
#include "oci/oci.h"

#define CGROUP2_MNT "/sys/fs/cgroup"

bool
sandbox_subid_range(const char *content, const char *name, unsigned long id, uint32_t *start,
                    uint32_t *count)
{
  char num[32];
  snprintf(num, sizeof num, "%lu", id);
  for (const char *l = content; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    size_t len = strcspn(l, ":\n");
    if (l[len] != ':') continue;
    bool mine = (name && strlen(name) == len && strncmp(l, name, len) == 0) ||
                (strlen(num) == len && strncmp(l, num, len) == 0);
    unsigned long s, c;
    if (!mine || sscanf(l + len + 1, "%lu:%lu", &s, &c) != 2 || c == 0 || s + c > UINT32_MAX)
      continue;
    *start = (uint32_t)s;
    *count = (uint32_t)c;
    return true;
  }
  return false;
}

/* Is `prog` an executable in $PATH (as execvp would find it)? */
static bool
in_path(const char *prog)
{
  const char *path = getenv("PATH");
  _cleanup_free_ char *dirs = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    _cleanup_free_ char *p = xasprintf("%s/%s", *d ? d : ".", prog);
    if (access(p, X_OK) == 0) return true;
  }
  return false;
}

static void
set_maps(struct sandbox *sb, uint32_t ustart, uint32_t gstart, uint32_t n)
{
  sb->uidmap[0] = (struct oci_idmap){.container_id = 0, .host_id = getuid(), .size = 1};
  sb->gidmap[0] = (struct oci_idmap){.container_id = 0, .host_id = getgid(), .size = 1};
  sb->n_maps = 1;
  if (n) {
    sb->uidmap[1] = (struct oci_idmap){.container_id = 1, .host_id = ustart, .size = n};
    sb->gidmap[1] = (struct oci_idmap){.container_id = 1, .host_id = gstart, .size = n};
    sb->n_maps = 2;
  }
  sb->id_count = 1 + n; /* the ids 0..id_count-1 exist in the sandbox */
}

/* The maps of the sandbox's user namespace (see the top of the file). */
static void
plan_ids(struct sandbox *sb)
{
  struct passwd *pw = getpwuid(getuid());
  const char *name = pw ? pw->pw_name : NULL;
  _cleanup_free_ char *subuid = NULL, *subgid = NULL;
  struct silo_error e = {0};
  uint32_t us = 0, uc = 0, gs = 0, gc = 0;
  const char *why = NULL;
  if (fs_read_file("/etc/subuid", &subuid, NULL, &e) < 0 ||
      fs_read_file("/etc/subgid", &subgid, NULL, &e) < 0)
    why = "no /etc/subuid or /etc/subgid";
  else if (!sandbox_subid_range(subuid, name, getuid(), &us, &uc) ||
           !sandbox_subid_range(subgid, name, getuid(), &gs, &gc))
    why = "no range for this user in /etc/subuid and /etc/subgid";
  else if (!in_path("newuidmap") || !in_path("newgidmap"))
    why = "newuidmap / newgidmap not found (package uidmap)";
  if (why) {
    silo_log_debug("sandbox: rootless: %s: only uid %u and gid %u are mapped (to 0)", why,
                   (unsigned)getuid(), (unsigned)getgid());
    set_maps(sb, 0, 0, 0);
    return;
  }
  set_maps(sb, us, gs, uc < gc ? uc : gc);
}

/* The name of the layers directory for the current mapping. */
static char *
layers_name(const struct sandbox *sb)
{
  if (sb->n_maps < 2) return xstrdup("layers-own");
  return xasprintf("layers-%u-%u-%u", sb->uidmap[1].host_id, sb->gidmap[1].host_id,
                   sb->uidmap[1].size);
}

/* $XDG_CACHE_HOME/silo/sandbox or ~/.cache/silo/sandbox; NULL without a usable home. */
static char *
user_cache_dir(void)
{
  const char *x = getenv("XDG_CACHE_HOME");
  if (x && x[0] == '/') return xasprintf("%s/silo/sandbox", x);
  const char *h = getenv("HOME");
  struct stat st;
  if (h && h[0] == '/' && stat(h, &st) == 0 && S_ISDIR(st.st_mode) && access(h, W_OK | X_OK) == 0)
    return xasprintf("%s/.cache/silo/sandbox", h);
  return NULL;
}

/* The nearest existing directory of `path` must be writable: else a clear error now,
 * rather than EACCES half-way. */
static int
check_state_root(const char *root, struct silo_error *err)
{
  _cleanup_free_ char *p = xstrdup(root);
  for (;;) {
    if (access(p, F_OK) == 0) break;
    char *slash = strrchr(p, '/');
    if (!slash || slash == p) {
      p[1] = '\0';
      break;
    }
    *slash = '\0';
  }
  if (access(p, W_OK | X_OK) == 0) return 0;
  return silo_err(err, EACCES,
                  "state root `%s`: `%s` is not writable by uid %u (set XDG_RUNTIME_DIR, or give "
                  "--root DIR)",
                  root, p, (unsigned)getuid());
}

int
sandbox_cgroup_delegated(const char *mnt, const char *self, const char *const *controllers,
                         size_t n, char **parent, struct silo_error *err)
{
  *parent = NULL;
  const char *line = NULL;
  for (const char *l = self; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (strncmp(l, "0::", 3) == 0) line = l + 3;
  if (!line) return silo_err(err, ENOENT, "silo is in no cgroup v2");
  _cleanup_free_ char *own = xasprintf("%.*s", (int)strcspn(line, "\n"), line);
  char *slash = strrchr(own, '/');
  if (own[0] != '/' || !slash || slash == own)
    return silo_err(err, EACCES, "silo's own cgroup `%s` has no parent it could share", own);
  *slash = '\0'; /* own is now the parent */
  _cleanup_free_ char *dir = xasprintf("%s%s", mnt, own);
  _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
  if (access(dir, W_OK | X_OK) < 0 || access(procs, W_OK) < 0)
    return silo_err(err, EACCES,
                    "cgroup `%s` is not delegated to uid %u (run silo in a delegated cgroup, "
                    "e.g. under `systemd-run --user --scope -p Delegate=yes`)",
                    dir, (unsigned)getuid());
  _cleanup_free_ char *sub = xasprintf("%s/cgroup.subtree_control", dir), *have = NULL;
  if (fs_read_file(sub, &have, NULL, err) < 0) return -1;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(controllers[i]);
    bool on = false;
    for (const char *p = have; (p = strstr(p, controllers[i])); p += len)
      if ((p == have || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || !p[len])) on = true;
    if (!on)
      return silo_err(err, EACCES, "the %s controller is not enabled in `%s`", controllers[i], sub);
  }
  *parent = xstrdup(own);
  return 0;
}

/* --memory, --cpus, --pids: only in a delegated cgroup v2 (see the top of the file). */
static int
check_limits(struct sandbox *sb, struct silo_error *err)
{
  const char *ctl[3], *opts[3];
  size_t n = 0;
  if (sb->memory) ctl[n] = "memory", opts[n++] = "--memory";
  if (sb->cpu_quota) ctl[n] = "cpu", opts[n++] = "--cpus";
  if (sb->pids) ctl[n] = "pids", opts[n++] = "--pids";
  sb->rctx.cgroup_manager = n ? SILO_CGROUP_CGROUPFS : SILO_CGROUP_DISABLED;
  if (!n) return 0;
  char names[64];
  snprintf(names, sizeof names, "%s%s%s%s%s", opts[0], n > 1 ? ", " : "", n > 1 ? opts[1] : "",
           n > 2 ? ", " : "", n > 2 ? opts[2] : "");
  enum cgroup_mode mode;
  if (cgroup_detect(&mode, err) < 0) return silo_err_wrap(err, "%s", names);
  int r;
  if (mode != CGROUP_MODE_UNIFIED) {
    r = silo_err(err, EPERM,
                 "this host's resource controllers are cgroup v1 ones, which are never "
                 "delegated to users");
  } else {
    _cleanup_free_ char *self = NULL;
    r = fs_read_file("/proc/self/cgroup", &self, NULL, err);
    if (r == 0) r = sandbox_cgroup_delegated(CGROUP2_MNT, self, ctl, n, &sb->cgroup_parent, err);
  }
  if (r < 0)
    return silo_err_wrap(
        err, "%s: a rootless sandbox sets limits only in a cgroup delegated to its user", names);
  silo_log_debug("sandbox: rootless: limits in the delegated cgroup %s", sb->cgroup_parent);
  return 0;
}

int
sandbox_rootless_check(struct sandbox *sb, struct silo_error *err)
{
  const struct silo_sandbox_opts *o = sb->o;
  sb->rootless = true;
  sb->rctx = *sb->ctx;
  sb->ctx = &sb->rctx;
  if (o->no_userns)
    return silo_err(err, EINVAL, "--no-userns: a rootless sandbox always runs in a user namespace");
  if (o->network && strcmp(o->network, "bridge") == 0)
    return silo_err(err, EPERM,
                    "--network bridge: a rootless sandbox cannot make host network "
                    "interfaces (only --network none)");
  if (check_state_root(sb->ctx->root, err) < 0) return -1;
  if (check_limits(sb, err) < 0) return -1;
  plan_ids(sb);
  return 0;
}

int
sandbox_rootless_enter(struct sandbox *sb, struct silo_error *err)
{
  /* The only steps that involve privilege, in this order:
   *  1. a child clones itself into a new user namespace (any user may) and waits;
   *  2. its maps are written from here: our own ids directly, which the kernel
   *     allows exactly (setgroups denied first), the subordinate ranges by
   *     newuidmap / newgidmap, setuid helpers that check /etc/subuid and
   *     /etc/subgid themselves: silo never holds a privilege of the host;
   *  3. we join it (setns: we own it) and are its root from then on, with
   *     capabilities over what it owns only, none over the host; files we make
   *     still belong to the user (or the subordinate ids) on the host;
   *  4. the child exits (ns_idmap_userns reaps it). */
  int fd = ns_idmap_userns(sb->uidmap, sb->n_maps, sb->gidmap, sb->n_maps, err);
  if (fd < 0 && sb->n_maps > 1 && err->errnum != EPERM && err->errnum != ENOSPC) {
    silo_log_warn("sandbox: %s: mapping only uid %u and gid %u", err->msg, (unsigned)getuid(),
                  (unsigned)getgid());
    silo_err_clear(err);
    set_maps(sb, 0, 0, 0);
    fd = ns_idmap_userns(sb->uidmap, 1, sb->gidmap, 1, err);
  }
  if (fd < 0 && (err->errnum == EPERM || err->errnum == ENOSPC)) {
    char why[512];
    snprintf(why, sizeof why, "%.500s", err->msg);
    return silo_err(err, err->errnum,
                    "rootless: a user namespace (are unprivileged user namespaces disabled? "
                    "see sysctl user.max_user_namespaces): %s",
                    why);
  }
  if (fd < 0) return silo_err_wrap(err, "rootless: a user namespace");
  int r = setns(fd, CLONE_NEWUSER);
  int e = errno;
  close(fd);
  if (r < 0) return silo_err(err, e, "rootless: enter the sandbox's user namespace");
  silo_log_debug("sandbox: rootless: user namespace with %u id(s): 0 -> %u%s", sb->id_count,
                 sb->uidmap[0].host_id, sb->n_maps > 1 ? " and subordinate ids" : "");
  return 0;
}

int
sandbox_cache_dirs(struct sandbox *sb, bool make, struct silo_error *err)
{
  _cleanup_free_ char *user = sb->rootless ? user_cache_dir() : NULL;
  if (sb->rootless && !user)
    silo_log_debug("sandbox: rootless: no usable $XDG_CACHE_HOME or home: layers cached under %s",
                   sb->dir);
  sb->cache = user ? xstrdup(user) : xstrdup(sb->dir);
  _cleanup_free_ char *name = sb->rootless ? layers_name(sb) : xstrdup("layers");
  sb->layers = xasprintf("%s/%s", sb->cache, name);
  if (!make) return 0;
  /* mkdir -p, private to the user: the cache holds the images' set-id files.  (Not
   * for <root>/.sandbox, which the caller made.) */
  for (char *s = sb->cache + 1; user; s++) {
    if (*s && *s != '/') continue;
    char c = *s;
    *s = '\0';
    bool last = !c;
    if (s == sb->cache + 1 && last) break; /* "/" */
    if (mkdir(sb->cache, 0700) < 0 && errno != EEXIST) {
      int e = errno;
      *s = c;
      return silo_err(err, e, "create the layer cache `%s`", sb->cache);
    }
    *s = c;
    if (last) break;
  }
  if (mkdir(sb->layers, 0700) < 0 && errno != EEXIST)
    return silo_err(err, errno, "create the layer cache `%s`", sb->layers);
  return 0;
}
