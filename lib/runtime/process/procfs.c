/* silo: the one way silo writes into a container's /proc.
 *
 * The LSM label (attr/.../exec), oom_score_adj and the sysctls are written by the
 * container process into procfs files.  Written by path, through the container's
 * /proc, each write could be redirected: a mount over /proc/<pid>/attr turns the
 * label into a plain file and the process runs unconfined (CVE-2019-16884); a
 * /proc that is a symlink moves procfs somewhere a shared volume controls
 * (CVE-2019-19921); a bind of another procfs file (/proc/self/sched) over the
 * target passes a PROC_SUPER_MAGIC check and swallows the write (CVE-2025-52881).
 *
 * So every such write goes through procfs_write():
 *  - the procfs is a private, detached instance (fsopen("proc") + fsmount), made by
 *    the container process once it is in the container's pid namespace and before
 *    any of the container's mounts exist.  It is in no mount namespace: nothing the
 *    container mounts or binds can cover anything in it;
 *  - the target is resolved beneath it with openat2(RESOLVE_BENEATH |
 *    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV): no "..", no
 *    symlink ("self" and "thread-self" are spelled as numbers instead), no mount
 *    crossed; and the opened file is checked to be on a procfs.
 * Where fsopen is refused (kernels before 5.2; a user namespace whose mount
 * namespace has no fully visible procfs, "mount too revealing") the container's own
 * /proc is used after it was verified: the root of a procfs (statfs and inode),
 * reached without a symlink; RESOLVE_NO_XDEV then still refuses any bind over the
 * target, and mountopts_dest_check refuses config mounts inside /proc.
 *
 * The parent's writes (uid_map, gid_map, setgroups, timens_offsets) go through the
 * host's /proc, in silo's own mount namespace, which the container cannot reach.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"

/* The root directory of every procfs instance (fs/proc/root.c). */
#define PROC_ROOT_INO 1

static int
check_on_procfs(int fd, const char *what, struct silo_error *err)
{
  struct statfs sf;
  if (fstatfs(fd, &sf) < 0) return silo_err(err, errno, "statfs `%s`", what);
  if (sf.f_type != PROC_SUPER_MAGIC) return silo_err(err, EXDEV, "`%s` is not on a procfs", what);
  return 0;
}

int
procfs_open_private(struct silo_error *err)
{
  /* A new instance shows the pid namespace of its creator: ours, the container's. */
  _cleanup_close_ int fs = fsopen("proc", FSOPEN_CLOEXEC);
  if (fs < 0) return silo_err(err, errno, "fsopen proc");
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return silo_err(err, errno, "create a procfs instance");
  /* Detached (attached nowhere): only this fd reaches it. */
  _cleanup_close_ int mnt =
      fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mnt < 0) return silo_err(err, errno, "fsmount proc");
  if (check_on_procfs(mnt, "the private procfs", err) < 0) return -1;
  return steal_fd(&mnt);
}

int
procfs_open_root(int rootfd, struct silo_error *err)
{
  /* O_NOFOLLOW: /proc itself must not be a symlink (a procfs mounted elsewhere). */
  _cleanup_close_ int fd = fs_open_in_root(rootfd, "/proc", O_PATH | O_NOFOLLOW, 0, err);
  if (fd < 0) return -1;
  struct statfs sf;
  struct stat st;
  if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0) return silo_err(err, errno, "stat `/proc`");
  if (S_ISLNK(st.st_mode)) return silo_err(err, ELOOP, "`/proc` is a symlink");
  /* A procfs, and its root: a bind of some directory inside one (or of anything
   * else) over /proc is refused, it would make masking and every check theatre. */
  if (sf.f_type != PROC_SUPER_MAGIC) return silo_err(err, EINVAL, "`/proc` is not a procfs");
  if (st.st_ino != PROC_ROOT_INO)
    return silo_err(err, EINVAL, "`/proc` is a procfs but not its root (inode %llu)",
                    (unsigned long long)st.st_ino);
  return steal_fd(&fd);
}

static bool
procfs_wanted(const struct container_plan *c)
{
  const struct oci_process *p = c->proc;
  const struct oci_linux *l = c->cfg->linux;
  return (l && l->n_sysctl) ||
         (p && (p->has_oom_score_adj || (p->apparmor_profile && p->apparmor_profile[0]) ||
                (p->selinux_label && p->selinux_label[0])));
}

void
procfs_prepare(struct container_plan *c)
{
  struct silo_error e = {0};
  if (!procfs_wanted(c)) return;
  c->procfd = procfs_open_private(&e);
  if (c->procfd < 0)
    silo_log_debug("container `%s`: no private procfs (%s): its verified /proc will do", c->id,
                   e.msg);
}

int
procfs_handle(struct container_plan *c, struct silo_error *err)
{
  if (c->procfd >= 0) return c->procfd;
  /* The fallback: the container's /proc, verified, as "/" shows it now (after
   * pivot_root, or after exec joined the container's mount namespace). */
  _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return silo_err(err, errno, "open `/`");
  c->procfd = procfs_open_root(root, err);
  return c->procfd;
}

/* "self/..." and "thread-self/..." as numbers: both are symlinks, which the
 * resolution below refuses.  Our pid is the one the instance shows: it was made
 * in our pid namespace. */
static int
spell_out(const char *path, char out[PATH_MAX], struct silo_error *err)
{
  int n;
  if (strncmp(path, "self/", 5) == 0)
    n = snprintf(out, PATH_MAX, "%d/%s", (int)getpid(), path + 5);
  else if (strncmp(path, "thread-self/", 12) == 0)
    n = snprintf(out, PATH_MAX, "%d/task/%d/%s", (int)getpid(), (int)gettid(), path + 12);
  else
    n = snprintf(out, PATH_MAX, "%s", path);
  if (n < 0 || n >= PATH_MAX) return silo_err(err, ENAMETOOLONG, "`/proc/%s`", path);
  return 0;
}

/* Kernels without openat2 (before 5.6): one component at a time, never following a
 * symlink, every step on a procfs.  Mount crossings cannot be seen here; the
 * private instance has none to cross. */
static int
open_beneath_fallback(int procfd, const char *rel, int flags, struct silo_error *err)
{
  _cleanup_free_ char *copy = xstrdup(rel);
  _cleanup_close_ int dir = fcntl(procfd, F_DUPFD_CLOEXEC, 3);
  if (dir < 0) return silo_err(err, errno, "dup the procfs fd");
  char *save = NULL, *comp = strtok_r(copy, "/", &save);
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    if (strcmp(comp, "..") == 0 || strcmp(comp, ".") == 0) return silo_err(err, EXDEV, "`..`");
    int fd = openat(dir, comp, (next ? O_PATH | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return silo_err(err, errno, "open");
    close(dir);
    dir = fd;
    if (check_on_procfs(dir, comp, err) < 0) return -1;
    comp = next;
  }
  return steal_fd(&dir);
}

int
procfs_open_at(int procfd, const char *path, int flags, struct silo_error *err)
{
  char rel[PATH_MAX];
  if (spell_out(path, rel, err) < 0) return -1;
  struct open_how how = {
      .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  _cleanup_close_ int fd = (int)syscall(SYS_openat2, procfd, rel, &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) {
    fd = open_beneath_fallback(procfd, rel, flags, err);
    if (fd < 0) return silo_err_wrap(err, "open `/proc/%s`", path);
  } else if (fd < 0) {
    /* EXDEV: a mount covers the target or a directory on the way; ELOOP: a
     * symlink.  Both mean that something was put there. */
    return silo_err(err, errno, "open `/proc/%s`", path);
  }
  if (check_on_procfs(fd, path, err) < 0) return -1;
  return steal_fd(&fd);
}

int
procfs_write(int procfd, const char *path, const char *data, size_t len, struct silo_error *err)
{
  _cleanup_close_ int fd = procfs_open_at(procfd, path, O_WRONLY, err);
  if (fd < 0) return -1;
  ssize_t r = write(fd, data, len);
  if (r < 0) return silo_err(err, errno, "write `/proc/%s`", path);
  if ((size_t)r != len) return silo_err(err, EIO, "short write to `/proc/%s`", path);
  return 0;
}
