/* silo: the container's root filesystem, set up by the container process in its
 * own mount namespace.
 *
 * Safety rules kept throughout:
 *  - "/" is made rslave first, so nothing mounted here propagates back to the host;
 *  - every destination is resolved inside the rootfs (fs_open_in_root) and the mount
 *    goes onto that fd (/proc/self/fd/N or move_mount), so a symlink in the image
 *    cannot redirect a mount onto the host (CVE-2021-30465);
 *  - after pivot_root the old root is detached, so no host path stays reachable.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "oci/oci.h"

static uint64_t
ms_to_attr(unsigned long f)
{
  uint64_t a = 0;
  if (f & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (f & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (f & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (f & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (f & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (f & MS_NOATIME) a |= MOUNT_ATTR_NOATIME;
  if (f & MS_STRICTATIME) a |= MOUNT_ATTR_STRICTATIME;
  return a;
}

/* Flags the kernel keeps locked on a bind mount made in a user namespace: a remount
 * must repeat them or it fails with EPERM. */
static unsigned long
locked_flags(const char *path)
{
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) < 0) return 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

/* Remounts the mount at p (its root) with flags, keeping locked flags. */
static int
remount_path(const char *p, unsigned long flags, unsigned long clear, struct silo_error *err)
{
  unsigned long f = (locked_flags(p) & ~clear) | flags;
  if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | (f & ~MS_REMOUNT), NULL) < 0)
    return silo_err(err, errno, "remount");
  return 0;
}

/* Remounts the mount at fd (its root), through /proc/self/fd. */
static int
remount_fd(int fd, unsigned long flags, unsigned long clear, struct silo_error *err)
{
  char p[PROC_FD_PATH_MAX];
  return remount_path(fs_proc_fd_path(p, fd), flags, clear, err);
}

static int
set_propagation(int rootfd, const char *dest, unsigned long prop, struct silo_error *err)
{
  if (!prop) return 0;
  /* Re-resolve: the fd we mounted onto refers to the covered directory, not the
   * new mount on top of it. */
  _cleanup_close_ int fd = fs_open_in_root(rootfd, dest, O_PATH, 0, err);
  if (fd < 0) return -1;
  char p[PROC_FD_PATH_MAX];
  if (mount(NULL, fs_proc_fd_path(p, fd), NULL, prop, NULL) < 0)
    return silo_err(err, errno, "set propagation");
  return 0;
}

int
rootfs_bind_tree(const struct mount_plan *p, struct silo_error *err)
{
  unsigned tflags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (p->recursive ? AT_RECURSIVE : 0);
  _cleanup_close_ int tree = open_tree(AT_FDCWD, p->source, tflags);
  if (tree < 0) return silo_err(err, errno, "open bind source `%s`", p->source);
  if (p->remount_ro_bind || p->clear) {
    struct mount_attr a = {.attr_set = ms_to_attr(p->flags), .attr_clr = ms_to_attr(p->clear)};
    if (a.attr_set & (MOUNT_ATTR_NOATIME | MOUNT_ATTR_STRICTATIME)) a.attr_clr |= MOUNT_ATTR__ATIME;
    /* The top mount only, as runc does: "rbind,ro" leaves the submounts as they
     * are; rro (below) is what reaches them. */
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
      return silo_err(err, errno, "set attributes of bind mount of `%s`", p->source);
  }
  if (p->rec_set || p->rec_clr) {
    struct mount_attr a = {.attr_set = p->rec_set, .attr_clr = p->rec_clr};
    if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
      return silo_err(err, errno, "set recursive attributes (rro, ...) of bind mount of `%s`",
                      p->source);
  }
  /* An idmapped mount: files show up with the ids the mount's mapping gives them.
   * Only possible on a detached tree, hence here, before move_mount. */
  if (p->idmap) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)p->idmap_fd};
    if (mount_setattr(tree, "", AT_EMPTY_PATH | (p->idmap_recursive ? AT_RECURSIVE : 0), &a,
                      sizeof a) < 0)
      return silo_err(err, errno, "idmap the mount of `%s`", p->source);
  }
  return steal_fd(&tree);
}

/* With a user namespace, the container process could neither reach every source
 * (a directory only the host's root may search) nor idmap a mount (that needs
 * CAP_SYS_ADMIN where the source's filesystem was mounted: the host).  So the
 * parent, still the host's root in silo's mount namespace, makes the detached
 * trees before the clone, which hands copies of the fds to the child; the child
 * attaches each onto a destination it resolved inside the rootfs.  A source is
 * opened once, here, by the path the config gave: nothing of the container exists
 * yet that could swap it.  Where the parent cannot (an unprivileged silo has no
 * CAP_SYS_ADMIN to clone a tree; Linux before 5.2), the child binds as before and
 * reports what fails. */
void
rootfs_open_bind_sources(struct container_plan *c)
{
  if (!c->userns && c->join_fd[OCI_NS_USER] < 0) return;
  for (size_t i = 0; i < c->n_mounts; i++) {
    struct mount_plan *p = &c->mounts[i];
    if (!p->bind) continue;
    struct silo_error e = {0};
    p->tree_fd = rootfs_bind_tree(p, &e);
    if (p->tree_fd < 0)
      silo_log_debug("container `%s`: mounts[%zu]: the container process binds it: %s", c->id, i,
                     e.msg);
  }
}

/* Parent, after the clone: the child holds its own copies. */
void
rootfs_close_bind_sources(struct container_plan *c)
{
  for (size_t i = 0; i < c->n_mounts; i++) close_fd(&c->mounts[i].tree_fd);
}

/* A bind mount: the detached tree (the parent's, or made now) attached onto the
 * destination fd; mount(2) before Linux 5.2. */
static int
bind_mount(int rootfd, const struct mount_plan *p, int destfd, struct silo_error *err)
{
  _cleanup_close_ int own = -1;
  int tree = p->tree_fd;
  if (tree < 0) tree = own = rootfs_bind_tree(p, err);
  if (tree >= 0) {
    if (move_mount(tree, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return silo_err(err, errno, "bind `%s`", p->source);
  } else if (err->errnum == ENOSYS && !p->idmap && !p->rec_set && !p->rec_clr) {
    silo_err_clear(err);
    char dp[PROC_FD_PATH_MAX];
    if (mount(p->source, fs_proc_fd_path(dp, destfd), NULL, MS_BIND | (p->recursive ? MS_REC : 0),
              NULL) < 0)
      return silo_err(err, errno, "bind `%s`", p->source);
    if (p->remount_ro_bind) {
      _cleanup_close_ int top = fs_open_in_root(rootfd, p->dest, O_PATH, 0, err);
      if (top < 0 || remount_fd(top, p->flags, p->clear, err) < 0) return -1;
    }
  } else {
    return -1;
  }
  return set_propagation(rootfd, p->dest, p->propagation, err);
}

/* cgroup mounts mirror the host's hierarchies.  With a cgroup namespace each one is
 * mounted fresh (the kernel shows the namespace root); without one, the
 * container's own cgroup directory is bind-mounted so the rest stays hidden. */
static int
mount_cgroup_tree(struct container_plan *c, const struct mount_plan *p, int destfd,
                  struct silo_error *err)
{
  enum cgroup_mode mode;
  const struct cgroup_hierarchy *h;
  size_t n;
  char dp[PROC_FD_PATH_MAX];
  bool own_ns = (c->clone_flags & CLONE_NEWCGROUP) || c->late_cgroupns ||
                (c->unshare_flags & CLONE_NEWCGROUP);
  const char *cgpath = c->cg ? cgroup_path(c->cg) : "/";
  unsigned long flags = (p->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC) & ~MS_REMOUNT;

  if (cgroup_detect(&mode, err) < 0 || cgroup_hierarchies(&h, &n, err) < 0) return -1;
  fs_proc_fd_path(dp, destfd);
  if (mode == CGROUP_MODE_UNIFIED) {
    if (own_ns) {
      if (mount("cgroup2", dp, "cgroup2", flags, NULL) < 0)
        return silo_err(err, errno, "mount cgroup2");
      return 0;
    }
    _cleanup_free_ char *src = xasprintf("/sys/fs/cgroup%s", cgpath);
    if (mount(src, dp, NULL, MS_BIND | MS_REC, NULL) < 0)
      return silo_err(err, errno, "bind `%s`", src);
    _cleanup_close_ int top = fs_open_in_root(c->rootfd, p->dest, O_PATH, 0, err);
    return top < 0 ? -1 : remount_fd(top, flags, 0, err);
  }

  /* v1 / hybrid: a tmpfs holding one directory per hierarchy. */
  if (mount("tmpfs", dp, "tmpfs", (flags & ~MS_RDONLY), "mode=755") < 0)
    return silo_err(err, errno, "mount tmpfs for cgroups");
  _cleanup_close_ int top = fs_open_in_root(c->rootfd, p->dest, O_PATH | O_DIRECTORY, 0, err);
  if (top < 0) return -1;
  char tp[PROC_FD_PATH_MAX];
  fs_proc_fd_path(tp, top);
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *sub = xasprintf("%s/%s", tp, h[i].name);
    if (mkdir(sub, 0755) < 0 && errno != EEXIST) return silo_err(err, errno, "mkdir `%s`", sub);
    int r;
    if (own_ns)
      r = h[i].v2 ? mount("cgroup2", sub, "cgroup2", flags, NULL)
                  : mount("cgroup", sub, "cgroup", flags, h[i].options);
    else
      r = -1, errno = EPERM;
    if (r < 0) {
      /* No namespace (or not allowed to mount one): bind our own directory. */
      _cleanup_free_ char *src = xasprintf("%s%s", h[i].mountpoint, cgpath);
      if (access(src, F_OK) < 0) {
        free(src);
        src = xstrdup(h[i].mountpoint);
      }
      if (mount(src, sub, NULL, MS_BIND | MS_REC, NULL) < 0)
        return silo_err(err, errno, "bind `%s`", src);
      if (mount(NULL, sub, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
        return silo_err(err, errno, "remount `%s`", sub);
    }
    /* Co-mounted controllers ("cpu,cpuacct") get their names as symlinks. */
    if (strchr(h[i].name, ',')) {
      _cleanup_free_ char *names = xstrdup(h[i].name);
      char *save = NULL;
      for (char *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        _cleanup_free_ char *link = xasprintf("%s/%s", tp, t);
        if (symlink(h[i].name, link) < 0 && errno != EEXIST)
          return silo_err(err, errno, "symlink `%s`", link);
      }
    }
  }
  if (p->flags & MS_RDONLY) return remount_fd(top, flags | MS_RDONLY, 0, err);
  return 0;
}

/* proc and sysfs go only onto a directory of the rootfs itself.  Through a symlink
 * (/proc -> /var/p) they would land where the link points, which a volume shared
 * with another container can change between silo's steps, and every later check
 * of "/proc" would look at something else (CVE-2019-19921).  O_NOFOLLOW on the last
 * component: the link itself is seen, and refused. */
static int
open_fs_dest(struct container_plan *c, const struct mount_plan *p, size_t index,
             struct silo_error *err)
{
  int fd = fs_open_in_root(c->rootfd, p->dest, O_PATH | O_NOFOLLOW, 0, err);
  if (fd < 0 && err->errnum == ENOENT) {
    silo_err_clear(err);
    _cleanup_close_ int made = fs_mkdir_in_root(c->rootfd, p->dest, 0755, err);
    if (made < 0) return -1;
    /* Opened again without following: a symlink swapped in meanwhile is seen. */
    fd = fs_open_in_root(c->rootfd, p->dest, O_PATH | O_NOFOLLOW, 0, err);
  }
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    return silo_err(err, e, "stat `%s`", p->dest);
  }
  if (S_ISDIR(st.st_mode)) return fd;
  close(fd);
  if (S_ISLNK(st.st_mode))
    return silo_err(err, ELOOP,
                    "mounts[%zu].destination: `%s` is a symlink in the rootfs: %s is only "
                    "mounted on a directory",
                    index, p->dest, p->type);
  return silo_err(err, ENOTDIR, "mounts[%zu].destination: `%s` is not a directory in the rootfs",
                  index, p->dest);
}

/* rro, rnosuid...: on every mount of the tree now at p->dest (non-bind mounts; a bind
 * gets them on its detached tree).  mount_setattr only: mount(2) has no recursive
 * attributes, and a kernel before 5.12 fails with ENOSYS, named. */
static int
set_rec_attrs(int rootfd, const struct mount_plan *p, struct silo_error *err)
{
  if (!p->rec_set && !p->rec_clr) return 0;
  /* Re-resolved: the mount is on top of the fd mounted onto. */
  _cleanup_close_ int top = fs_open_in_root(rootfd, p->dest, O_PATH, 0, err);
  if (top < 0) return -1;
  struct mount_attr a = {.attr_set = p->rec_set, .attr_clr = p->rec_clr};
  if (mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
    return silo_err(err, errno, "set recursive attributes (rro, ...)");
  return 0;
}

/* A tmpfs as runc makes it, once mounted (read-write) on dest: tmpcopyup seeds it
 * with what the covered directory below holds (below: an fd of that directory
 * opened before the mount, so the copy reads exactly what was resolved inside the
 * rootfs, and copy_tree follows no symlink out of it); its root takes the mode of
 * the covered directory unless mode= was given (mode: 0 when silo made the
 * directory, which keeps tmpfs' default, as in runc); then ro. */
static int
tmpfs_finish(int rootfd, const struct mount_plan *p, int below, mode_t mode, struct silo_error *err)
{
  bool chmod_top = mode && !p->has_mode, ro_now = p->ro_late && !p->is_dev;
  if (below < 0 && !chmod_top && !ro_now) return 0; /* nothing to do on it: not opened */
  _cleanup_close_ int top = fs_open_in_root(rootfd, p->dest, O_RDONLY | O_DIRECTORY, 0, err);
  if (top < 0) return -1;
  if (below >= 0 && fs_copy_tree_at(below, top, err) < 0) return silo_err_wrap(err, "tmpcopyup");
  if (chmod_top && fchmod(top, mode) < 0)
    return silo_err(err, errno, "chmod the tmpfs like its mount point");
  /* Not /dev: that one waits for what is mounted under it (rootfs_prepare). */
  if (ro_now && remount_fd(top, p->flags | MS_RDONLY, p->clear, err) < 0)
    return silo_err_wrap(err, "make the tmpfs read-only");
  return 0;
}

/* The destination of a tmpfs, and what tmpfs_finish needs of the directory it is
 * about to cover: its mode (0 if silo creates it) and, for tmpcopyup, a readable
 * fd of it (*below). */
static int
open_tmpfs_dest(struct container_plan *c, const struct mount_plan *p, mode_t *mode, int *below,
                struct silo_error *err)
{
  *mode = 0;
  int fd = fs_open_in_root(c->rootfd, p->dest, O_PATH, 0, err);
  if (fd < 0 && err->errnum != ENOENT) return -1;
  if (fd < 0) {
    silo_err_clear(err);
    return fs_mkpath_in_root(c->rootfd, p->dest, true, err);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    return silo_err(err, e, "stat `%s`", p->dest);
  }
  if (S_ISDIR(st.st_mode)) *mode = st.st_mode & 07777;
  if (p->tmpcopyup && S_ISDIR(st.st_mode)) {
    *below = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*below < 0) {
      int e = errno;
      close(fd);
      return silo_err(err, e, "open `%s` for tmpcopyup", p->dest);
    }
  }
  return fd;
}

int
rootfs_check_dest_fs(const struct mount_plan *p, int destfd, size_t index, struct silo_error *err)
{
  /* The parent judged the destination as written (mountopts_dest_check); a symlink of
   * the image can still lead it into the container's /proc (/lnk -> /proc, then
   * /lnk/self/attr).  Where it resolved to decides. */
  struct statfs sf;
  if (!p->in_proc && fstatfs(destfd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC)
    return silo_err(err, EPERM,
                    "mounts[%zu].destination: `%s` leads into procfs through a symlink of the "
                    "rootfs: only a few files inside /proc may be mounted over",
                    index, p->dest);
  return 0;
}

static int
mount_one(struct container_plan *c, const struct mount_plan *p, struct silo_error *err)
{
  size_t index = (size_t)(p - c->mounts);
  bool fs = !p->bind && (strcmp(p->type, "proc") == 0 || strcmp(p->type, "sysfs") == 0);
  bool tmpfs = !p->bind && strcmp(p->type, "tmpfs") == 0;
  mode_t mode = 0;
  _cleanup_close_ int below = -1;
  _cleanup_close_ int destfd = fs      ? open_fs_dest(c, p, index, err)
                               : tmpfs ? open_tmpfs_dest(c, p, &mode, &below, err)
                                       : fs_mkpath_in_root(c->rootfd, p->dest, p->is_dir, err);
  if (destfd < 0) return -1;
  if (rootfs_check_dest_fs(p, destfd, index, err) < 0) return -1;
  if (p->bind) return bind_mount(c->rootfd, p, destfd, err);
  if (strcmp(p->type, "cgroup") == 0 || strcmp(p->type, "cgroup2") == 0) {
    /* Needs our cgroup namespace, which exists only once we were placed. */
    if (sync_await_go(c, err) < 0) return -1;
    if (mount_cgroup_tree(c, p, destfd, err) < 0) return -1;
    return set_rec_attrs(c->rootfd, p, err);
  }

  char dp[PROC_FD_PATH_MAX];
  fs_proc_fd_path(dp, destfd);
  if (mount(p->source ? p->source : p->type, dp, p->type, p->flags, p->data) < 0) {
    int e = errno;
    /* sysfs and mqueue cannot be mounted in a user namespace that does not own the
     * network / ipc namespace: bind the host's instead, read-only, as runc does. */
    if (e == EPERM && (strcmp(p->type, "sysfs") == 0 || strcmp(p->type, "mqueue") == 0)) {
      const char *src = p->type[0] == 's' ? "/sys" : "/dev/mqueue";
      if (mount(src, dp, NULL, MS_BIND | MS_REC, NULL) < 0)
        return silo_err(err, errno, "bind `%s`", src);
      _cleanup_close_ int top = fs_open_in_root(c->rootfd, p->dest, O_PATH, 0, err);
      return top < 0 ? -1 : remount_fd(top, p->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err);
    }
    return silo_err(err, e, "mount %s", p->type);
  }
  if (tmpfs && tmpfs_finish(c->rootfd, p, below, mode, err) < 0) return -1;
  /* mqueue takes no context= option: its root is labelled instead. */
  if (c->mount_label && strcmp(p->type, "mqueue") == 0 &&
      lsm_label_path(c->rootfd, p->dest, c->mount_label, err) < 0)
    return -1;
  if (set_rec_attrs(c->rootfd, p, err) < 0) return -1;
  return set_propagation(c->rootfd, p->dest, p->propagation, err);
}

int
rootfs_prepare(struct container_plan *c, struct silo_error *err)
{
  /* 1. Nothing we mount may reach the host: every mount becomes a slave. */
  if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return silo_err(err, errno, "make `/` rslave");

  /* 2. The rootfs must be a mount point for pivot_root: bind it onto itself. */
  if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return silo_err(err, errno, "bind rootfs `%s`", c->rootfs);
  c->rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c->rootfd < 0) return silo_err(err, errno, "open rootfs `%s`", c->rootfs);

  /* 3. The config's mounts, in order. */
  for (size_t i = 0; i < c->n_mounts; i++) {
    if (mount_one(c, &c->mounts[i], err) < 0)
      return silo_err_wrap(err, "mount `%s`", c->mounts[i].dest);
    close_fd(&c->mounts[i].tree_fd);
  }

  /* 4. Device nodes and the standard links, unless /dev is a bind mount: then it is
   * the directory the config gave (a host's), and silo makes nothing in it (runc's
   * rule, which also leaves linux.devices to it). */
  bool dev_bind = false;
  for (size_t i = 0; i < c->n_mounts; i++)
    if (c->mounts[i].is_dev && c->mounts[i].bind) dev_bind = true;
  if (!dev_bind && devices_create(c, c->rootfd, err) < 0) return -1;

  /* 5. A read-only /dev, now that everything under it is in place (its ro was held
   * back so that the mount points of devpts, shm... and the nodes could be made).
   * The top mount is re-resolved: the last mount on /dev is the one the config
   * asked read-only. */
  for (size_t i = 0; i < c->n_mounts; i++) {
    const struct mount_plan *p = &c->mounts[i];
    if (!p->is_dev || !p->ro_late) continue;
    _cleanup_close_ int top = fs_open_in_root(c->rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);
    if (top < 0 || remount_fd(top, p->flags | MS_RDONLY, p->clear, err) < 0)
      return silo_err_wrap(err, "make `/dev` read-only");
  }

  /* 6. A missing process.cwd is made (runc and crun do), after the mounts, which
   * may hold it, and before the root may become read-only; inside the root (a
   * symlink on the way cannot lead out), 0755 and root's, as runc's. */
  struct silo_error e = {0};
  _cleanup_close_ int cwd = fs_open_in_root(c->rootfd, c->proc->cwd, O_PATH, 0, &e);
  if (cwd < 0 && e.errnum == ENOENT) {
    cwd = fs_mkdir_in_root(c->rootfd, c->proc->cwd, 0755, err);
    if (cwd < 0) return silo_err_wrap(err, "process.cwd: create `%s`", c->proc->cwd);
  }
  return 0;
}

int
rootfs_enter(struct container_plan *c, struct silo_error *err)
{
  if (fchdir(c->rootfd) < 0) return silo_err(err, errno, "chdir to rootfs");
  if (c->opts->no_pivot) {
    /* MS_MOVE + chroot: for roots pivot_root cannot handle (e.g. an initramfs). */
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) return silo_err(err, errno, "move rootfs to `/`");
    if (chroot(".") < 0) return silo_err(err, errno, "chroot");
  } else {
    /* pivot_root(".", "."): the old root ends up mounted on top of the new one;
     * detaching it leaves only the container's tree.  It is made rslave first so
     * the unmount does not propagate to the host. */
    if (syscall(SYS_pivot_root, ".", ".") < 0) return silo_err(err, errno, "pivot_root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
      return silo_err(err, errno, "make old root rslave");
    if (umount2(".", MNT_DETACH) < 0) return silo_err(err, errno, "detach old root");
  }
  if (chdir("/") < 0) return silo_err(err, errno, "chdir `/`");
  close(c->rootfd);
  c->rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c->rootfd < 0) return silo_err(err, errno, "open new root");
  return 0;
}

/* /proc inside must be the root of a real procfs, not reached through a symlink,
 * before we mask it or write sysctls: an image cannot pre-empt it with a bind
 * mount of something else.  Without a private procfs (procfs.c), this verified
 * /proc is the one silo's writes go through. */
int
rootfs_check_proc(struct container_plan *c, struct silo_error *err)
{
  const struct oci_linux *l = c->cfg->linux;
  if (!l || !(l->n_masked_paths || l->n_readonly_paths || l->n_sysctl)) return 0;
  /* Without a mount at or inside /proc the container has no procfs to verify (runc
   * and crun run such a container): the masked and read-only paths then apply to
   * whatever the image has there, and the sysctls go through the private procfs
   * (procfs_handle verifies the fallback itself when there is none). */
  bool proc_mounted = false;
  for (size_t i = 0; i < c->n_mounts; i++) proc_mounted |= c->mounts[i].in_proc;
  if (!proc_mounted) return 0;
  int fd = procfs_open_root(c->rootfd, err);
  if (fd < 0) return -1;
  if (c->procfd < 0)
    c->procfd = fd;
  else
    close(fd);
  return 0;
}

/* The bind source of masked files: the container's /dev/null, opened once without
 * following a symlink and checked to be the null device.  Resolved by path at each
 * mount, it could have been swapped (by a hook, or a process sharing /dev) for a
 * symlink to /proc/sys/kernel/core_pattern, which masking would then bind, writable,
 * over the masked path (CVE-2025-31133). */
static int
open_dev_null(int rootfd, struct silo_error *err)
{
  _cleanup_close_ int fd = fs_open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0, err);
  if (fd < 0) return silo_err_wrap(err, "linux.maskedPaths");
  struct stat st;
  if (fstat(fd, &st) < 0) return silo_err(err, errno, "stat `/dev/null`");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    return silo_err(err, EINVAL,
                    "linux.maskedPaths: `/dev/null` in the container is not the null device "
                    "(1:3): refusing to mask with it");
  return steal_fd(&fd);
}

/* Binds the file of fd onto the file of destfd: a clone of exactly that file
 * (open_tree), attached onto exactly that target (move_mount); mount(2) through
 * /proc/self/fd on kernels before 5.2.  Neither side is a path resolved again. */
static int
bind_fd(int fd, int destfd)
{
  _cleanup_close_ int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree >= 0)
    return move_mount(tree, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  if (errno != ENOSYS) return -1;
  char src[PROC_FD_PATH_MAX], dst[PROC_FD_PATH_MAX];
  return mount(fs_proc_fd_path(src, fd), fs_proc_fd_path(dst, destfd), NULL, MS_BIND, NULL);
}

/* process.terminal: /dev/console is the container's pty, as runc and crun make it.
 * The target is an empty file silo creates itself in the container's /dev
 * (O_EXCL, never following a symlink), after removing whatever was there: a
 * symlink left by the image or planted by a process sharing /dev (towards, say,
 * /proc/sys/kernel/core_pattern) is removed, never mounted through
 * (CVE-2025-52565).  A read-only /dev keeps no console, as before. */
int
rootfs_console(int slave, struct silo_error *err)
{
  _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return silo_err(err, errno, "open `/`");
  _cleanup_close_ int dev =
      fs_open_in_root(root, "/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, err);
  if (dev < 0) return silo_err_wrap(err, "/dev/console");
  if (unlinkat(dev, "console", 0) < 0 && errno != ENOENT) {
    if (errno == EROFS) return 0;
    return silo_err(err, errno, "/dev/console: remove what is there");
  }
  _cleanup_close_ int target =
      openat(dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (target < 0) {
    if (errno == EROFS) return 0;
    return silo_err(err, errno, "/dev/console: create");
  }
  if (bind_fd(slave, target) < 0) return silo_err(err, errno, "/dev/console: bind the pty");
  return 0;
}

static int
mask_path(int rootfd, const char *path, const char *mount_label, int *nullfd,
          struct silo_error *err)
{
  /* O_NOFOLLOW: a masked path that is a symlink would mask whatever it points to;
   * such entries are skipped. */
  _cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0, err);
  if (fd < 0) {
    if (err->errnum == ENOENT || err->errnum == ELOOP) return silo_err_clear(err), 0;
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) return silo_err(err, errno, "stat `%s`", path);
  if (S_ISLNK(st.st_mode)) return 0;
  if (S_ISDIR(st.st_mode)) {
    /* Onto the directory of fd as the working directory ("."), not through
     * /proc/self/fd: the container may have no /proc.  Either way the target is the
     * directory resolved above, never a path of the image resolved again. */
    _cleanup_free_ char *data = lsm_mount_data("size=0", mount_label);
    if (fchdir(fd) < 0) return silo_err(err, errno, "mask `%s`: chdir", path);
    int r = mount("tmpfs", ".", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, data);
    int e = errno;
    if (fchdir(rootfd) < 0) return silo_err(err, errno, "chdir `/`");
    if (r < 0) return silo_err(err, e, "mask `%s`", path);
    return 0;
  }
  if (*nullfd < 0 && (*nullfd = open_dev_null(rootfd, err)) < 0) return -1;
  if (bind_fd(*nullfd, fd) < 0) return silo_err(err, errno, "mask `%s`", path);
  return 0;
}

static int
readonly_path(int rootfd, const char *path, struct silo_error *err)
{
  _cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_PATH, 0, err);
  if (fd < 0) {
    if (err->errnum == ENOENT) return silo_err_clear(err), 0;
    return -1;
  }
  char p[PROC_FD_PATH_MAX];
  fs_proc_fd_path(p, fd);
  if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) return silo_err(err, errno, "bind `%s`", path);
  _cleanup_close_ int top = fs_open_in_root(rootfd, path, O_PATH, 0, err);
  if (top < 0) return -1;
  if (remount_fd(top, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err) < 0)
    return silo_err_wrap(err, "make `%s` read-only", path);
  return 0;
}

int
rootfs_finish(struct container_plan *c, struct silo_error *err)
{
  const struct oci_linux *l = c->cfg->linux;
  _cleanup_close_ int nullfd = -1;
  for (size_t i = 0; l && i < l->n_masked_paths; i++)
    if (mask_path(c->rootfd, l->masked_paths[i], c->mount_label, &nullfd, err) < 0) return -1;
  for (size_t i = 0; l && i < l->n_readonly_paths; i++)
    if (readonly_path(c->rootfd, l->readonly_paths[i], err) < 0) return -1;
  /* The root by "/" itself, not through /proc/self/fd: a container may have no /proc
   * (runc and crun run it), and after pivot_root (or the move + chroot) "/" is
   * exactly the root mount, with no path of the image to resolve. */
  if (c->cfg->root_readonly && remount_path("/", MS_RDONLY, 0, err) < 0)
    return silo_err_wrap(err, "make root read-only");
  /* linux.rootfsPropagation applies to the container's root mount; done after
   * pivot_root, which refuses shared mounts. */
  if (c->root_propagation && mount(NULL, "/", NULL, c->root_propagation, NULL) < 0)
    return silo_err(err, errno, "linux.rootfsPropagation");
  return 0;
}

/* A config without a mount namespace: the container's process goes into silo's, as
 * the runtime spec says of a namespace type the config does not list.  Its root is
 * still built in a namespace of its own (cloned with CLONE_NEWNS, all of the above),
 * so that nothing of it is ever mounted in the host's namespace, where a killed silo
 * would leave it behind and every mount would propagate to the host's peers.  Here,
 * with every mount in place, the finished tree is cloned into a detached copy
 * (open_tree), the process returns to silo's namespace (the fd ns_plan opened
 * before the clone) and chroots into that copy.  In this order because setns()
 * resets the root to the namespace's: the copy must be in hand first.  The private
 * namespace then dies with its last member, us; the copy lives as long as a process
 * has its root or cwd in it (a lazily detached tree: its mounts stay connected for
 * those inside), so delete has nothing to undo and a kill nothing to leave.  A
 * detached tree has no parent: ".." at its root stays there, so not even a chroot
 * escape (CAP_SYS_CHROOT) reaches the host's tree.  Mounting onto it from inside
 * fails (EINVAL): its mounts are in no namespace. */
int
rootfs_leave_mntns(struct container_plan *c, struct silo_error *err)
{
  if (c->host_mntns < 0) return 0;
  _cleanup_close_ int tree =
      open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return silo_err(err, errno, "copy the container's mount tree");
  if (setns(c->host_mntns, CLONE_NEWNS) < 0)
    return silo_err(err, errno, "join silo's mount namespace (no mount namespace in the config)");
  close_fd(&c->host_mntns);
  if (fchdir(tree) < 0 || chroot(".") < 0 || chdir("/") < 0)
    return silo_err(err, errno, "enter the container's root");
  close_fd(&c->rootfd);
  c->rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c->rootfd < 0) return silo_err(err, errno, "open new root");
  return 0;
}
