/* silo: the tmpfs mounts the runtime made, external to CRIU (issue #17).
 *
 * CRIU dumps a tmpfs by running `tar --create --gzip` over it, and restores it
 * with `tar --extract`: a fork and an exec each way for every tmpfs of the
 * container (/dev, /dev/shm, the tmpfs over each masked directory,
 * /sys/fs/cgroup on a v1 or hybrid host), all of it while the tasks are frozen.
 * What the runtime put there is only directories, symlinks, device nodes and
 * empty files, which silo can make again itself:
 *
 *   dump     every tmpfs of the container's init at a config tmpfs destination,
 *            a masked directory or a cgroup destination, whose root is its
 *            filesystem's, private (no peer or master), holding nothing but
 *            directories, symlinks, the device nodes the runtime makes and
 *            empty files (one link each), is listed (ckpt_tmpfs_collect:
 *            options, flags, entries) and declared external (key = its mount
 *            point).  It is looked at through a non-recursive clone of the
 *            mount (made inside the container's mount namespace, where
 *            open_tree may clone it): what lies beneath its submounts (/dev/shm,
 *            /dev/pts...) is seen and listed as well.  A name or link target
 *            jansson refuses (not UTF-8) leaves the mount to CRIU.  The list goes
 *            into silo-checkpoint.json.  Anything else there (a file with
 *            data: a container wrote into /dev/shm; a FIFO, a socket, a hard
 *            link) leaves that mount to CRIU's tar, as before.
 *   freeze   the list is checked again once the cgroup is frozen
 *            (ckpt_tmpfs_unchanged, at CRIU's pre-dump notification): entries,
 *            options, flags and propagation.  A container that wrote there, or
 *            remounted, between the first look and the freeze makes the dump
 *            start again with those mounts left to CRIU.
 *   restore  the list is checked against the config first (tmpfs_restore.c:
 *            it comes from an image or a peer), then each listed tmpfs is made
 *            again (same options and flags) in silo's private mount namespace,
 *            filled from the list, and handed to CRIU as the external mount's
 *            source (ckpt_tmpfs_make).
 *
 * Nothing a container wrote is lost: a tmpfs is external only when the list
 * describes all of it.  Not in a user namespace (CRIU makes those mounts from
 * inside it), not idmapped, not without silo's early freeze.  Times of the entries are not kept
 * (tar kept mtimes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* ---- dump: what a tmpfs holds ---- */

static uint64_t
mnt_id_at(int dirfd, const char *name, struct stat *st)
{
  struct statx sx;
  int flags = AT_SYMLINK_NOFOLLOW | (name[0] ? 0 : AT_EMPTY_PATH);
  if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_MNT_ID, &sx) < 0 ||
      !(sx.stx_mask & STATX_MNT_ID))
    return 0;
  st->st_mode = sx.stx_mode;
  st->st_uid = sx.stx_uid;
  st->st_gid = sx.stx_gid;
  st->st_size = (off_t)sx.stx_size;
  st->st_nlink = sx.stx_nlink;
  st->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
  return sx.stx_mnt_id;
}

/* e appended to out; 1 (not representable) when e or the append failed: jansson
 * refuses a name or link target that is not UTF-8 (json_pack gives NULL). */
static int
put(json_t *out, json_t *e)
{
  return e && json_array_append_new(out, e) == 0 ? 0 : 1;
}

struct walk {
  const struct oci_config *cfg;
  const char *key; /* the tmpfs's mount point in the container */
  uint64_t mnt;    /* the clone's mount id: every entry is on it */
  json_t *out;
};

static int walk(struct walk *w, int dirfd, const char *rel, int depth);

/* One entry (name in dirfd, path p); 1: not reproducible. */
static int
walk_entry(struct walk *w, int dirfd, const char *name, const char *p, int depth)
{
  struct stat st;
  if (mnt_id_at(dirfd, name, &st) != w->mnt) return 1;
  /* a hard link (of any type) would come back as two inodes */
  if (!S_ISDIR(st.st_mode) && st.st_nlink != 1) return 1;
  json_int_t m = (json_int_t)(st.st_mode & 07777), u = (json_int_t)st.st_uid,
             g = (json_int_t)st.st_gid;
  if (S_ISDIR(st.st_mode)) {
    if (put(w->out,
            json_pack("{s:s, s:s, s:I, s:I, s:I}", "p", p, "t", "d", "m", m, "u", u, "g", g)))
      return 1;
    _cleanup_close_ int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return sub < 0 ? 1 : walk(w, sub, p, depth + 1);
  }
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, target, sizeof target);
    if (n <= 0 || (size_t)n >= sizeof target) return 1;
    target[n] = '\0';
    return put(w->out, json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "p", p, "t", "l", "m", m, "u", u,
                                 "g", g, "l", target));
  }
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    char t = S_ISCHR(st.st_mode) ? 'c' : 'b';
    /* only the nodes the runtime makes, where and as it makes them (restore
     * accepts no other) */
    _cleanup_free_ char *at = xasprintf("%s/%s", w->key, p);
    if (!devices_known(w->cfg, at, t, major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777,
                       st.st_uid, st.st_gid))
      return 1;
    return put(w->out,
               json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "p", p, "t", t == 'c' ? "c" : "b", "m",
                         m, "u", u, "g", g, "r", (json_int_t)st.st_rdev));
  }
  if (S_ISREG(st.st_mode) && st.st_size == 0)
    return put(w->out,
               json_pack("{s:s, s:s, s:I, s:I, s:I}", "p", p, "t", "f", "m", m, "u", u, "g", g));
  /* data, a FIFO, a socket: the container's, for CRIU's tar */
  return 1;
}

/* Appends the entries below dirfd (path prefix rel) to w->out; 1: not reproducible. */
static int
walk(struct walk *w, int dirfd, const char *rel, int depth)
{
  if (depth > CKPT_TMPFS_MAX_DEPTH) return 1;
  int dup = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
  if (!d) {
    if (dup >= 0) close(dup);
    return 1;
  }
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (json_array_size(w->out) >= CKPT_TMPFS_MAX_ENTRIES) {
      ret = 1;
      break;
    }
    _cleanup_free_ char *p = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
    ret = walk_entry(w, dirfd, de->d_name, p, depth);
  }
  closedir(d);
  return ret;
}

/* The entries of a tmpfs, given as a non-recursive clone of its mount (tree), or
 * NULL when it holds something silo would not make again exactly. */
static json_t *
list_tmpfs(const struct oci_config *cfg, const char *key, int tree)
{
  struct stat st;
  struct walk w = {.cfg = cfg, .key = key, .mnt = tree >= 0 ? mnt_id_at(tree, "", &st) : 0};
  if (!w.mnt) return NULL;
  w.out = json_array();
  if (put(w.out, json_pack("{s:s, s:s, s:I, s:I, s:I}", "p", ".", "t", "d", "m",
                           (json_int_t)(st.st_mode & 07777), "u", (json_int_t)st.st_uid, "g",
                           (json_int_t)st.st_gid)) ||
      walk(&w, tree, "", 0) != 0) {
    json_decref(w.out);
    return NULL;
  }
  return w.out;
}

/* For every mount of list (key: its mount point in pid's root, id: its mount id),
 * a non-recursive clone (fds[i], -1 where none): the tmpfs alone, what lies beneath
 * its submounts visible.  open_tree clones only a mount of the caller's own mount
 * namespace: a child enters the container's and sends the clones back. */
static void
clone_mounts(pid_t pid, unsigned long long start_time, json_t *list, int *fds)
{
  size_t n = json_array_size(list);
  for (size_t i = 0; i < n; i++) fds[i] = -1;
  /* the process (its pidfd: its mount namespace) and its root, proven one */
  struct silo_error pe = {0};
  _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  _cleanup_close_ int rootfd = pidfd < 0 ? -1 : fs_proc_open_root(pid, pidfd, start_time, &pe);
  int sp[2];
  if (rootfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) return;
  pid_t parent = getpid(), child = fork();
  if (child == 0) {
    close(sp[0]);
    /* Privileged (CAP_SYS_ADMIN): this short-lived child joins the container's
     * mount namespace only to clone its tmpfs mounts.  A clone is detached
     * (attached nowhere: no mount table changes), read from by the parent, and
     * gone when its last fd closes.  Each mount is the very one mountinfo named
     * (its id), opened beneath the container's root without following a symlink. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
        setns(pidfd, CLONE_NEWNS) < 0)
      _exit(1);
    for (size_t i = 0; i < n; i++) {
      json_t *m = json_array_get(list, i);
      struct silo_error e = {0};
      struct stat st;
      int fd = fs_open_in_root(rootfd, json_string_value(json_object_get(m, "key")),
                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &e);
      uint64_t id = (uint64_t)json_integer_value(json_object_get(m, "id"));
      int t = fd >= 0 && mnt_id_at(fd, "", &st) == id
                  ? open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)
                  : -1;
      if (fd >= 0) close(fd);
      /* The clone read-only and noatime (its own flags, not the container's
       * mount's): the walk changes nothing the container could see, not even
       * a directory's atime. */
      struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME,
                             .attr_clr = MOUNT_ATTR__ATIME};
      if (t >= 0 && mount_setattr(t, "", AT_EMPTY_PATH, &a, sizeof a) < 0) {
        close(t);
        t = -1;
      }
      if (sync_send(sp[1], 0, (int)i, t, NULL) < 0) _exit(1);
      if (t >= 0) close(t);
    }
    _exit(0);
  }
  close(sp[1]);
  for (size_t k = 0; child > 0 && k < n; k++) {
    struct sync_msg msg;
    struct silo_error e = {0};
    int fd;
    if (sync_recv(sp[0], &msg, &fd, &e) < 0) break;
    if (msg.pid >= 0 && (size_t)msg.pid < n && fds[msg.pid] < 0)
      fds[msg.pid] = fd;
    else if (fd >= 0)
      close(fd);
  }
  close(sp[0]);
  if (child > 0)
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
}

static void
remove_at(json_t *list, int *trees, size_t i)
{
  size_t n = json_array_size(list);
  if (trees[i] >= 0) close(trees[i]);
  memmove(trees + i, trees + i + 1, (n - i - 1) * sizeof *trees);
  json_array_remove(list, i);
}

/* The entries of every mount of list, read through its clone trees[i]:
 * "entries" set, or the mount taken out of the list (left to CRIU) and its
 * clone closed. */
static void
fill_entries(const struct oci_config *cfg, json_t *list, int *trees)
{
  for (size_t i = json_array_size(list); i-- > 0;) {
    json_t *m = json_array_get(list, i);
    json_t *entries = list_tmpfs(cfg, json_string_value(json_object_get(m, "key")), trees[i]);
    if (entries && json_object_set_new(m, "entries", entries) == 0) continue;
    silo_log_debug("checkpoint: tmpfs %s holds what only CRIU's tar keeps: left to CRIU",
                   json_string_value(json_object_get(m, "key")));
    remove_at(list, trees, i);
  }
}

bool
ckpt_tmpfs_candidate(const struct oci_config *cfg, const char *mnt, unsigned long *required,
                     const struct oci_mount **mount)
{
  *required = 0;
  if (mount) *mount = NULL;
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    if (!m->type || strcmp(m->destination, mnt) != 0) continue;
    if (strcmp(m->type, "tmpfs") && strcmp(m->type, "cgroup") && strcmp(m->type, "cgroup2"))
      continue;
    /* the flags the config asks for, which a restored mount keeps */
    for (size_t k = 0; k < m->n_options; k++) mountopts_flag(m->options[k], required, NULL);
    *required &= MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount) *mount = m;
    return true;
  }
  const struct oci_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->n_masked_paths; i++) {
    if (strcmp(l->masked_paths[i], mnt) != 0) continue;
    *required = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC; /* rootfs.c's mask */
    return true;
  }
  return false;
}

/* A tmpfs mount as mountinfo shows it: what the list keeps of it, and what the
 * freeze's check compares. */
static json_t *
describe(const struct ckpt_mountinfo *m)
{
  return json_pack("{s:s, s:I, s:s, s:s, s:s}", "key", m->point, "id", (json_int_t)m->id, "source",
                   m->source, "flags", m->opts, "options", m->sopts);
}

struct collect {
  const struct oci_config *cfg;
  const struct criu_req *r;
  json_t *list, *seen; /* seen: mount point -> count */
};

static int
collect_one(const struct ckpt_mountinfo *m, void *arg)
{
  struct collect *c = arg;
  json_object_set_new(c->seen, m->point,
                      json_integer(json_integer_value(json_object_get(c->seen, m->point)) + 1));
  unsigned long required;
  /* a mount with peers or a master (CRIU keeps its propagation), a point the
   * kernel escapes, an idmapped one: CRIU's */
  if (strcmp(m->fstype, "tmpfs") || strcmp(m->root, "/") || m->propagates ||
      strchr(m->point, '\\') || strstr(m->opts, "idmapped") ||
      !ckpt_tmpfs_candidate(c->cfg, m->point, &required, NULL))
    return 0;
  for (size_t i = 0; i < c->r->n_mnts; i++) /* already external (a bind) */
    if (!strcmp(c->r->mnts[i].key, m->point)) return 0;
  put(c->list, describe(m));
  return 0;
}

void
ckpt_tmpfs_collect(const struct oci_config *cfg, pid_t pid, unsigned long long start_time,
                   const struct criu_req *r, struct ckpt_tmpfs *t)
{
  t->list = json_array();
  t->trees = NULL;
  /* In a user namespace CRIU makes the container's mounts from inside it (the
   * tmpfs belong to that namespace): those stay CRIU's. */
  if (oci_config_namespace(cfg, OCI_NS_USER)) return;
  struct collect c = {.cfg = cfg, .r = r, .list = json_array(), .seen = json_object()};
  ckpt_mountinfo_each(pid, collect_one, &c);
  /* a mount point with more than one mount (over-mounted): the key would be
   * ambiguous, CRIU's */
  size_t k;
  json_t *v;
  json_array_foreach(c.list, k, v)
  {
    const char *key = json_string_value(json_object_get(v, "key"));
    if (json_integer_value(json_object_get(c.seen, key)) == 1) json_array_append(t->list, v);
  }
  json_decref(c.list);
  json_decref(c.seen);
  size_t n = json_array_size(t->list);
  t->trees = xcalloc(n ? n : 1, sizeof *t->trees);
  clone_mounts(pid, start_time, t->list, t->trees);
  fill_entries(cfg, t->list, t->trees);
  /* what a restore would refuse (a flag or option off its allow-list, a
   * remount that dropped the config's nodev...) stays CRIU's */
  for (size_t i = json_array_size(t->list); i-- > 0;) {
    struct silo_error e = {0};
    json_t *m = json_array_get(t->list, i);
    if (ckpt_tmpfs_check_mount(cfg, m, &e) == 0) {
      if (ckpt_tmpfs_limits_same(cfg, m)) continue;
      silo_err(&e, 0, "tmpfs `%s`: size limits other than the config's (remounted)",
               json_string_value(json_object_get(m, "key")));
    }
    silo_log_debug("checkpoint: %s: left to CRIU", e.msg);
    remove_at(t->list, t->trees, i);
  }
}

void
ckpt_tmpfs_free(struct ckpt_tmpfs *t)
{
  for (size_t i = 0; t->trees && i < json_array_size(t->list); i++)
    if (t->trees[i] >= 0) close(t->trees[i]);
  free(t->trees);
  if (t->list) json_decref(t->list);
  t->trees = NULL;
  t->list = NULL;
}

struct recheck {
  json_t *m;
  size_t at_key; /* mounts at the key's mount point, whichever */
  bool same;     /* the recorded mount (its id) found, unchanged */
};

/* Every line is read (no early stop): CRIU matches an external mount by its
 * mount point, so the recorded mount must still be the only one there.  A mount
 * stacked on it since the first look would otherwise be replaced at restore by
 * the recorded tmpfs, and what the container wrote into it lost. */
static int
recheck_one(const struct ckpt_mountinfo *mi, void *arg)
{
  struct recheck *c = arg;
  if (!strcmp(mi->point, json_string_value(json_object_get(c->m, "key")))) c->at_key++;
  if (mi->id != (uint64_t)json_integer_value(json_object_get(c->m, "id"))) return 0;
  json_t *now = describe(mi);
  json_t *was = json_deep_copy(c->m);
  json_object_del(was, "entries");
  c->same = now && was && !mi->propagates && !strcmp(mi->fstype, "tmpfs") &&
            !strcmp(mi->root, "/") && json_equal(now, was);
  if (now) json_decref(now);
  if (was) json_decref(was);
  return 0;
}

bool
ckpt_tmpfs_unchanged(const struct oci_config *cfg, const struct ckpt_tmpfs *t, pid_t pid)
{
  size_t i;
  json_t *m;
  json_array_foreach(t->list, i, m)
  {
    const char *key = json_string_value(json_object_get(m, "key"));
    /* the mount itself: options, flags, source, propagation (a remount), the
     * same mount still there (what went on beneath a submount shows in the
     * mount below: a submount unmounted and mounted again is another mount) */
    struct recheck c = {.m = m};
    if (ckpt_mountinfo_each(pid, recheck_one, &c) != 0 || !c.same || c.at_key != 1) {
      silo_log_debug("checkpoint: tmpfs %s remounted or mounted over before the freeze", key);
      return false;
    }
    /* and what it holds, through the clone made at the first look (the same
     * filesystem: no fork, no namespace to enter while the container is frozen) */
    json_t *now = list_tmpfs(cfg, key, t->trees[i]);
    bool same = now && json_equal(now, json_object_get(m, "entries"));
    if (now) json_decref(now);
    if (!same) {
      silo_log_debug("checkpoint: tmpfs %s changed before the freeze", key);
      return false;
    }
  }
  return true;
}
