/* silo: `mounts add` and `mounts remove` (crun's extension, which Podman uses):
 * bind mounts attached to, or taken away from, a container that is running.
 *
 * Who decides what, and why it is safe:
 *  - silo parses the file and decodes every mount with the code of config mounts
 *    (mountopts_parse: the same options, the same /proc rules), then makes each
 *    bind's detached tree (rootfs_bind_tree: open_tree(OPEN_TREE_CLONE) + its
 *    attributes) from silo's own view of paths: the source is the host's, as the
 *    caller wrote it, and a detached tree is attached nowhere: it dies with its fd.
 *  - A helper process (a fork of silo, never silo itself) joins the container's
 *    mount namespace and attaches each tree with move_mount onto a destination it
 *    resolved beneath the container's root with openat2(RESOLVE_IN_ROOT): a symlink
 *    of the container cannot redirect it to the host; one that leads into procfs, or
 *    above the root, is refused with the mount's JSON path, and the fd move_mount
 *    uses is judged itself (not the root, not on sysfs).  Missing components are
 *    made with the fs credentials of the container's process and without the
 *    capabilities of files (only where it could make them itself), one level at a
 *    time, never through a symlink.  silo's mount namespace is never changed, and
 *    the helper dies with silo (PR_SET_PDEATHSIG).
 *  - Never given: a procfs or sysfs source (the host's), a destination that covers
 *    /proc, /sys, or a path the config masks or makes read-only.
 *  - What was added is recorded in the state directory (mounts.json: destination and
 *    mount id) before it is attached; `remove` takes away only a mount that is, by
 *    its id, one `add` made, so neither a mistake nor a container that moved things
 *    around makes it unmount the config's mounts or the masked paths.  A record whose
 *    mount never came (a killed add) matches nothing and is harmless.
 *  - Everything runs under the container's lock (state_dir_lock), as update and
 *    pause do: two `mounts add` on one container are serialized.
 */
#include <errno.h>
#include <fcntl.h>
#include <cap-ng.h>
#include <grp.h>
#include <jansson.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/fsuid.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/base/base.h"
#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* FILE is read whole: a config's mounts are far smaller. */
#define FILE_MAX (4 << 20)

/* ---- the helper, in the container's mount namespace ---- */

/* What the parent hands the helper.  add: the helper attaches trees[i] at
 * plans[i].dest and reports SYNC_ACK (pid = i) for each; remove: it takes away,
 * for each dests[i], the mount there if the record has it (that destination, that
 * mount id) and reports SYNC_ACK (pid = its index in rec).  Then SYNC_READY or
 * SYNC_ERROR.  First, both report the entries of rec whose mount is no longer in
 * the namespace (add: SYNC_ACK n + index, remove: SYNC_ACK index), which then
 * leave the record (report_gone). */
struct job {
  bool add;
  size_t n;
  const struct mount_plan *plans; /* add: the decoded mounts */
  const int *trees;               /* add: their detached trees */
  const char *const *dests;       /* remove: the destinations as written */
  const struct record *rec;       /* what `add` recorded (add: the entries before it) */
  int pidfd, rootfd;              /* the container's process and its root */
  int statefds[2];                /* silo's state directories: closed in the helper */
  bool userns;
  pid_t pid;                    /* add: the process whose fs credentials make dests */
  const struct oci_config *cfg; /* add: its maskedPaths and readonlyPaths */
  bool lenient;                 /* remove: skip what is not there (an add's rollback) */
};

/* Where dest leads inside the root, refused when it would climb above it (only a
 * symlink of the container can make it: a written `..` was refused before). */
static int
check_dest(int rootfd, const char *dest, size_t index, char canon[PATH_MAX], struct silo_error *err)
{
  bool climbed;
  if (fs_canonical_in_root(rootfd, dest, canon, &climbed, err) < 0)
    return silo_err_wrap(err, "mounts[%zu].destination", index);
  if (climbed)
    return silo_err(err, EXDEV,
                    "mounts[%zu].destination: `%s` leads above the container's root through a "
                    "symlink in the container",
                    index, dest);
  if (!canon[0])
    return silo_err(err, EINVAL,
                    "mounts[%zu].destination: `%s` leads to the container's root through a "
                    "symlink in the container",
                    index, dest);
  return 0;
}

/* The mount at dest (resolved inside the root) if the record has it: its fd, and
 * in *k its entry (the latest with that destination and that mount id). */
static int
open_added(int rootfd, const struct record *rec, const char *dest, size_t index, size_t *k,
           struct silo_error *err)
{
  char canon[PATH_MAX];
  if (check_dest(rootfd, dest, index, canon, err) < 0) return -1;
  _cleanup_close_ int fd = fs_open_in_root(rootfd, dest, O_PATH, 0, err);
  if (fd < 0) return silo_err_wrap(err, "mounts[%zu].destination", index);
  uint64_t have;
  if (fs_mount_id(fd, &have, err) < 0) return silo_err_wrap(err, "`%s`", dest);
  _cleanup_free_ char *clean = mountopts_path_clean(dest);
  for (*k = rec->n; (*k)-- > 0;)
    if (rec->v[*k].id == have && strcmp(rec->v[*k].dest, clean) == 0) return steal_fd(&fd);
  return silo_err(err, ENOENT,
                  "mounts[%zu].destination: the mount at `%s` is not one `mounts add` made "
                  "(it was taken away or covered by another)",
                  index, dest);
}

/* Unmounts the mount recorded as id at dest, then checks it is gone.  It is
 * unmounted by its name in the directory that holds it, opened again and checked
 * by id just before: a mount point cannot be renamed (EBUSY).  umount2 takes the
 * TOPMOST mount at that name, so a mount the container stacks there between the
 * check and umount2 is the one taken away (the container's own doing, to itself):
 * hence the check after, by the recorded id (statmount, where ids are unique;
 * before Linux 6.8, by the id on top again), and the record is dropped only when
 * the recorded mount is gone.  MNT_DETACH: processes of the container using it do
 * not make the removal fail; it goes once they let go. */
static int
unmount_added(int rootfd, const char *dest, uint64_t id, struct silo_error *err)
{
  char canon[PATH_MAX];
  bool climbed;
  if (fs_canonical_in_root(rootfd, dest, canon, &climbed, err) < 0) return -1;
  char *slash = strrchr(canon, '/');
  if (!slash) return silo_err(err, EINVAL, "unmount `%s`", dest);
  *slash = '\0';
  _cleanup_close_ int dir =
      fs_open_in_root(rootfd, canon[0] ? canon : "/", O_PATH | O_DIRECTORY, 0, err);
  if (dir < 0) return -1;
  _cleanup_close_ int again = openat(dir, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  uint64_t have;
  if (again < 0 || fs_mount_id(again, &have, err) < 0 || have != id)
    return silo_err(err, ENOENT, "unmount `%s`: the mount moved", dest);
  close_fd(&again);
  if (fchdir(dir) < 0) return silo_err(err, errno, "chdir to the directory of `%s`", dest);
  int r = umount2(slash + 1, MNT_DETACH | UMOUNT_NOFOLLOW);
  int e = errno;
  if (fchdir(rootfd) < 0) return silo_err(err, errno, "chdir `/`");
  if (r < 0) return silo_err(err, e, "unmount `%s`", dest);
  struct silo_error se = {0};
  int attached = fs_mount_attached(id, &se);
  if (attached < 0 && se.errnum == ENOSYS) {
    again = openat(dir, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    attached = again >= 0 && fs_mount_id(again, &have, &se) == 0 && have == id;
  }
  if (attached < 0) {
    *err = se;
    return silo_err_wrap(err, "unmount `%s`: is it gone", dest);
  }
  if (attached)
    return silo_err(err, EBUSY,
                    "unmount `%s`: the container stacked a mount on it meanwhile, which was "
                    "taken away instead; the recorded one stays (run remove again)",
                    dest);
  return 0;
}

/* The destination's fd: resolved beneath the root (RESOLVE_IN_ROOT), its missing
 * components made one at a time with the container's fs credentials (helper_main
 * took them): each level is resolved again from the root, and what is missing is
 * created in the directory that level resolved to, by name, never through a
 * symlink (a dangling one is refused). */
static int
open_or_make_dest(int rootfd, const struct mount_plan *p, size_t index, struct silo_error *err)
{
  struct silo_error e = {0};
  int fd = fs_open_in_root(rootfd, p->dest, O_PATH, 0, &e);
  if (fd >= 0 || e.errnum != ENOENT) {
    if (fd < 0) *err = e;
    return fd < 0 ? silo_err_wrap(err, "mounts[%zu].destination", index) : fd;
  }
  _cleanup_free_ char *clean = mountopts_path_clean(p->dest);
  _cleanup_close_ int dir = fs_open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0, err);
  if (dir < 0) return -1;
  for (char *c = clean + 1; *c;) {
    char *slash = strchr(c, '/');
    bool last = !slash;
    if (slash) *slash = '\0';
    silo_err_clear(&e);
    int next = fs_open_in_root(rootfd, clean, O_PATH | (last ? 0 : O_DIRECTORY), 0, &e);
    if (next < 0 && e.errnum != ENOENT) {
      *err = e;
      return silo_err_wrap(err, "mounts[%zu].destination", index);
    }
    if (next < 0) {
      struct stat st;
      if (fstatat(dir, c, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return silo_err(err, S_ISLNK(st.st_mode) ? ELOOP : EEXIST,
                        "mounts[%zu].destination: `%s` is %s in the container: nothing is "
                        "created through it",
                        index, clean, S_ISLNK(st.st_mode) ? "a dangling symlink" : "changing");
      /* As the container's process: refused wherever it could not create. */
      int r = last && !p->is_dir
                  ? openat(dir, c, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)
                  : mkdirat(dir, c, 0755);
      if (r < 0) return silo_err(err, errno, "mounts[%zu].destination: create `%s`", index, clean);
      if (last && !p->is_dir) close(r);
      next = openat(dir, c, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
      if (next < 0) return silo_err(err, errno, "mounts[%zu].destination: open `%s`", index, clean);
    }
    close(dir);
    dir = next;
    if (last) break;
    *slash = '/';
    c = slash + 1;
  }
  return steal_fd(&dir);
}

/* Where destfd is, judged on the fd move_mount then uses: not the container's root
 * (a symlink swapped in after check_dest), not on sysfs, not a covered path. */
static int
check_destfd(int rootfd, int destfd, size_t index, const char *dest, struct silo_error *err)
{
  struct stat a, b;
  uint64_t ida, idb;
  if (fstat(rootfd, &a) < 0 || fstat(destfd, &b) < 0)
    return silo_err(err, errno, "mounts[%zu].destination: stat", index);
  if (fs_mount_id(rootfd, &ida, err) < 0 || fs_mount_id(destfd, &idb, err) < 0) return -1;
  if (ida == idb && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
    return silo_err(err, EXDEV,
                    "mounts[%zu].destination: `%s` leads to the container's root through a "
                    "symlink in the container",
                    index, dest);
  struct statfs sf;
  if (fstatfs(destfd, &sf) < 0) return silo_err(err, errno, "mounts[%zu].destination", index);
  if (sf.f_type == SYSFS_MAGIC)
    return silo_err(err, EPERM, "mounts[%zu].destination: `%s` is on sysfs: not covered", index,
                    dest);
  return 0;
}

/* The entries of the record whose mount is gone from the namespace (unmounted by
 * the container, or never attached by a killed add): reported as SYNC_ACK base +
 * index.  Only where mount ids are unique (statmount, Linux 6.8): an id reused by
 * another mount could otherwise keep a stale entry alive or, worse, look like it. */
static int
report_gone(const struct job *j, int sock, size_t base, struct silo_error *err)
{
  for (size_t k = 0; j->rec && k < j->rec->n; k++) {
    struct silo_error e = {0};
    int a = fs_mount_attached(j->rec->v[k].id, &e);
    if (a < 0) return 0; /* cannot be verified: kept */
    if (a == 0 && sync_send(sock, SYNC_ACK, (int)(base + k), -1, err) < 0) return -1;
  }
  return 0;
}

static int
helper_add(const struct job *j, int sock, struct silo_error *err)
{
  if (report_gone(j, sock, j->n, err) < 0) return -1;
  for (size_t i = 0; i < j->n; i++) {
    const struct mount_plan *p = &j->plans[i];
    char canon[PATH_MAX];
    if (check_dest(j->rootfd, p->dest, i, canon, err) < 0) return -1;
    _cleanup_close_ int destfd = open_or_make_dest(j->rootfd, p, i, err);
    if (destfd < 0) return -1;
    if (rootfs_check_dest_fs(p, destfd, i, err) < 0) return -1;
    /* Where a symlink of the container led: nothing was made there (a masked or
     * read-only path exists, so do its ancestors). */
    if (mounts_check_masks(j->cfg, canon, "through a symlink of the container, ", i, err) < 0)
      return -1;
    if (check_destfd(j->rootfd, destfd, i, p->dest, err) < 0) return -1;
    /* Exactly the tree silo made onto exactly the fd resolved above.  We are in the
     * container's mount namespace, which the kernel requires of the target. */
    if (move_mount(j->trees[i], "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
        0)
      return silo_err(err, errno, "mounts[%zu]: attach `%s` at `%s`", i, p->source, p->dest);
    /* Attached: an unreported attach must never look like a refusal (the
     * parent then keeps the entry and takes the mount away). */
    if (sync_send(sock, SYNC_ACK, (int)i, -1, err) < 0) _exit(1);
  }
  return 0;
}

static int
helper_remove(const struct job *j, int sock, struct silo_error *err)
{
  /* Every one checked before any is touched: a refused one leaves all in place. */
  _cleanup_free_ int *fds = xcalloc(j->n ? j->n : 1, sizeof *fds);
  _cleanup_free_ size_t *ks = xcalloc(j->n ? j->n : 1, sizeof *ks);
  int r = report_gone(j, sock, 0, err);
  for (size_t i = 0; i < j->n; i++) fds[i] = -1;
  for (size_t i = 0; i < j->n && r == 0; i++)
    if ((fds[i] = open_added(j->rootfd, j->rec, j->dests[i], i, &ks[i], err)) < 0) {
      if (!j->lenient)
        r = -1;
      else
        silo_err_clear(err);
    }
  for (size_t i = 0; i < j->n && r == 0; i++) {
    if (fds[i] < 0) continue; /* lenient: not there */
    if (unmount_added(j->rootfd, j->dests[i], j->rec->v[ks[i]].id, err) < 0)
      r = silo_err_wrap(err, "mounts[%zu]", i);
    else if (sync_send(sock, SYNC_ACK, (int)ks[i], -1, err) < 0)
      r = -1;
  }
  for (size_t i = 0; i < j->n; i++) close_fd(&fds[i]);
  return r;
}

/* The helper takes the fs credentials (fsuid, fsgid, supplementary groups) of the
 * container's process pid, as /proc shows them to us (the host's ids): the
 * directories and files it makes for a destination are made as that process would
 * make them, and only where it could.  setfsuid away from 0 also drops the
 * capabilities of files from the effective set; drop_fs_caps does the rest. */
static int
take_fscreds(pid_t pid, int pidfd, struct silo_error *err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  _cleanup_free_ char *buf = NULL;
  if (fs_read_file(path, &buf, NULL, err) < 0) return -1;
  /* Still the process silo checked (its pidfd names it): the pid was not reused. */
  if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
    return silo_err(err, ESRCH, "container is not running");
  unsigned long u[4], g[4];
  gid_t groups[256];
  size_t ng = 0;
  char *l = strstr(buf, "\nUid:"), *gl = strstr(buf, "\nGid:"), *grp = strstr(buf, "\nGroups:");
  if (!l || !gl || !grp || sscanf(l, "\nUid: %lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != 4 ||
      sscanf(gl, "\nGid: %lu %lu %lu %lu", &g[0], &g[1], &g[2], &g[3]) != 4)
    return silo_err(err, EINVAL, "%s: no credentials", path);
  for (char *c = grp + 8; *c && *c != '\n' && ng < ARRAY_SIZE(groups);) {
    char *end;
    unsigned long v = strtoul(c, &end, 10);
    if (end == c) break;
    groups[ng++] = (gid_t)v;
    c = end;
    while (*c == ' ' || *c == '\t') c++;
  }
  /* Groups first, then the fs ids: each needs CAP_SETGID/CAP_SETUID, which
   * setfsuid may take away from the effective set. */
  if (setgroups(ng, groups) < 0) return silo_err(err, errno, "setgroups");
  setfsgid((gid_t)g[3]);
  setfsuid((uid_t)u[3]);
  if ((unsigned long)setfsgid((gid_t)-1) != g[3] || (unsigned long)setfsuid((uid_t)-1) != u[3])
    return silo_err(err, EPERM, "take the container's fs credentials");
  return 0;
}

/* Out of both sets: the capabilities that pass by file permissions and owners
 * (fsuid 0 keeps them, and joining a user namespace grants them there).  What is
 * left the helper needs: CAP_SYS_ADMIN for move_mount and umount2. */
static int
drop_fs_caps(struct silo_error *err)
{
  capng_get_caps_process();
  if (capng_updatev(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_DAC_OVERRIDE,
                    CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_CHOWN, CAP_MKNOD,
                    CAP_LINUX_IMMUTABLE, -1) < 0 ||
      capng_apply(CAPNG_SELECT_CAPS) < 0)
    return silo_err(err, EPERM, "drop the capabilities of files");
  return 0;
}

static void __attribute__((noreturn)) helper_main(const struct job *j, int sock, pid_t parent)
{
  struct silo_error err = {0};
  /* Dies with silo, so a killed command leaves no process; not dumpable, so
   * nothing of the container (were it to see us) can take our fds: the trees hold
   * host directories until they are attached. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || prctl(PR_SET_DUMPABLE, 0) < 0)
    _exit(1);
  /* add: the container's process's fs credentials, for what it creates (read in
   * the host's view, before any namespace is joined). */
  if (j->add && take_fscreds(j->pid, j->pidfd, &err) < 0) goto fail;
  /* Host directories (the state root, the locked state directory) have no business
   * in the container's mount namespace; the lock stays with silo's own fd. */
  close(j->statefds[0]);
  close(j->statefds[1]);
  /* The mount namespace only: mounts need nothing else of the container.  Joined
   * through the pidfd whose start time silo checked.  Host root may join it from
   * here; where that is refused (EPERM) and the container has a user namespace, it
   * is joined too, which grants the rights over mounts owned by it. */
  if (setns(j->pidfd, CLONE_NEWNS) < 0) {
    int e = errno;
    if (!(e == EPERM && j->userns && setns(j->pidfd, CLONE_NEWUSER | CLONE_NEWNS) == 0)) {
      silo_err(&err, e, "join the container's mount namespace");
      goto fail;
    }
  }
  if (j->add && drop_fs_caps(&err) < 0) goto fail;
  /* Our root and cwd are now the namespace's; every path below is resolved beneath
   * j->rootfd, the container process's own root, opened by silo. */
  if (fchdir(j->rootfd) < 0) {
    silo_err(&err, errno, "chdir to the container's root");
    goto fail;
  }
  if ((j->add ? helper_add(j, sock, &err) : helper_remove(j, sock, &err)) < 0) goto fail;
  sync_send(sock, SYNC_READY, 0, -1, NULL);
  _exit(0);
fail:
  sync_send_error(sock, &err);
  _exit(1);
}

/* Runs the helper; done[] (n + rec->n entries for add, rec->n for remove) marks what it
 * reports done, whatever the outcome; *refused (may be NULL) tells a failure the
 * helper reported (it then attached nothing beyond what it reported) from one it
 * could not report (killed: the next one may be attached). */
static int
run_helper(const struct job *j, bool *done, bool *refused, struct silo_error *err)
{
  if (refused) *refused = false;
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return silo_err(err, errno, "socketpair");
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(sp[0]);
    close(sp[1]);
    return silo_err(err, errno, "fork");
  }
  if (pid == 0) {
    close(sp[0]);
    helper_main(j, sp[1], parent);
  }
  close(sp[1]);
  int r = -1;
  for (;;) {
    struct sync_msg m;
    struct silo_error e = {0};
    if (sync_recv(sp[0], &m, NULL, &e) < 0) {
      silo_err(err, e.errnum ? e.errnum : EPIPE, "the helper in the container died");
      break;
    }
    size_t max = (j->add ? j->n : 0) + (j->rec ? j->rec->n : 0);
    if (m.type == SYNC_ACK && m.pid >= 0 && (size_t)m.pid < max) {
      done[m.pid] = true;
    } else if (m.type == SYNC_READY) {
      r = 0;
      break;
    } else if (m.type == SYNC_ERROR) {
      silo_err(err, m.errnum, "%s", m.msg);
      if (refused) *refused = true;
      break;
    } else {
      silo_err(err, EPROTO, "unexpected message %d from the helper", m.type);
      break;
    }
  }
  close(sp[0]);
  if (r < 0) kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  return r;
}

/* ---- the commands ---- */

/* The locked container, its process (pidfd, checked by start time) and its root. */
struct target {
  int rootdirfd, dirfd, pidfd, rootfd;
  struct silo_state s;
  struct oci_config *cfg;
};

static void
target_close(struct target *t)
{
  close_fd(&t->rootfd);
  close_fd(&t->pidfd);
  close_fd(&t->dirfd);
  close_fd(&t->rootdirfd);
  state_free(&t->s);
  if (t->cfg) oci_config_free(t->cfg);
}

static int
target_open(struct silo_context *ctx, const char *id, struct target *t, struct silo_error *err)
{
  memset(t, 0, sizeof *t);
  t->rootdirfd = t->dirfd = t->pidfd = t->rootfd = -1;
  if ((t->rootdirfd = state_root_open(ctx, err)) < 0) return -1;
  /* The container's lock, held to the end: mounts, the record and the other
   * commands that change the container (update, pause, delete) one at a time. */
  if ((t->dirfd = state_dir_lock(t->rootdirfd, id, err)) < 0) return -1;
  if (state_read(t->dirfd, &t->s, err) < 0) return -1;
  enum oci_status st = state_status(t->dirfd, &t->s);
  if (st != OCI_STATUS_RUNNING && st != OCI_STATUS_CREATED && st != OCI_STATUS_PAUSED)
    return silo_err(err, 0, "container is not running");
  if (!(t->cfg = state_load_config(t->dirfd, err))) return -1;
  /* Its root is a tree in no namespace (rootfs_leave_mntns): nothing attaches to it. */
  if (!oci_config_namespace(t->cfg, OCI_NS_MOUNT))
    return silo_err(err, ENOTSUP,
                    "the container has no mount namespace: its root is a mount "
                    "tree in none, onto which nothing can be mounted");
  /* The pidfd, and the root proven to be that process's (the one the state names) */
  t->pidfd = (int)syscall(SYS_pidfd_open, t->s.pid, 0);
  if (t->pidfd < 0 || (t->rootfd = fs_proc_open_root(t->s.pid, t->pidfd, t->s.start_time, err)) < 0)
    return silo_err(err, ESRCH, "container is not running");
  return 0;
}

static int
mounts_add(struct silo_context *ctx, const char *id, const struct oci_mounts_doc *doc,
           struct silo_error *err)
{
  struct target t;
  struct record rec = {0};
  size_t n = doc->n_mounts;
  _cleanup_free_ struct mount_plan *plans = xcalloc(n ? n : 1, sizeof *plans);
  _cleanup_free_ int *trees = xcalloc(n ? n : 1, sizeof *trees);
  _cleanup_free_ uint64_t *ids = xcalloc(n ? n : 1, sizeof *ids);
  _cleanup_free_ const char **dests = xcalloc(n ? n : 1, sizeof *dests);
  _cleanup_free_ bool *done = NULL;
  struct record old = {0}; /* the entries before this add, checked still there */
  for (size_t i = 0; i < n; i++) trees[i] = -1;
  for (size_t i = 0; i < n; i++)
    if (mounts_check_written_dest(doc->mounts[i].destination, i, err) < 0) return -1;
  int r = target_open(ctx, id, &t, err);
  /* 1. Every mount decoded and its tree made before the container is touched. */
  for (size_t i = 0; i < n && r == 0; i++) {
    r = mounts_plan_one(&doc->mounts[i], i, t.cfg, t.s.bundle, &plans[i], err);
    dests[i] = doc->mounts[i].destination;
    if (r == 0 && (trees[i] = rootfs_bind_tree(&plans[i], err)) < 0)
      r = silo_err_wrap(err, "mounts[%zu]", i);
    if (r == 0) r = mounts_check_source_fs(trees[i], &plans[i], i, err);
    if (r == 0 && mounts_tree_propagation(trees[i], plans[i].propagation, err) < 0)
      r = silo_err_wrap(err, "mounts[%zu].options: propagation", i);
    if (r == 0) r = fs_mount_id(trees[i], &ids[i], err);
  }
  /* 2. The intent: recorded before anything is attached (see the top). */
  if (r == 0) r = record_read(t.dirfd, &rec, err);
  for (size_t k = 0; k < rec.n && r == 0; k++) record_push(&old, rec.v[k].dest, rec.v[k].id);
  done = xcalloc(n + old.n + 1, sizeof *done);
  for (size_t i = 0; i < n && r == 0; i++) {
    _cleanup_free_ char *clean = mountopts_path_clean(dests[i]);
    record_push(&rec, clean, ids[i]);
  }
  if (r == 0 && n) r = record_write(t.dirfd, &rec, err);
  /* 3. Attached by the helper; on failure, those it attached are taken away again
   * by a second one (as `remove` would), and what is not attached leaves the record. */
  if (r == 0 && n) {
    struct job j = {.add = true,
                    .n = n,
                    .plans = plans,
                    .trees = trees,
                    .pidfd = t.pidfd,
                    .rootfd = t.rootfd,
                    .statefds = {t.dirfd, t.rootdirfd},
                    .userns = oci_config_namespace(t.cfg, OCI_NS_USER) != NULL,
                    .pid = t.s.pid,
                    .cfg = t.cfg,
                    .rec = &old};
    bool refused, any = false;
    r = run_helper(&j, done, &refused, err);
    for (size_t k = 0; k < old.n; k++)
      if (done[n + k]) {
        record_drop(&rec, old.v[k].id);
        any = true;
      }
    struct silo_error pe = {0};
    if (r == 0 && any && record_write(t.dirfd, &rec, &pe) < 0)
      silo_log_warn("mounts add `%s`: dropping stale entries: %s", id, pe.msg);
    if (r < 0) {
      struct silo_error e = {0};
      struct record attached = {0};
      size_t k = 0;
      while (k < n && done[k]) k++; /* attached in order: the first k */
      /* ... and maybe the next: attached, its report lost (the helper killed
       * between move_mount and the ACK).  Taken away too if it is there; its
       * entry stays unless it is seen gone (a stale one is harmless). */
      size_t tried = k < n && !refused ? k + 1 : k;
      _cleanup_free_ char **clean = xcalloc(tried ? tried : 1, sizeof *clean);
      for (size_t i = 0; i < tried; i++) {
        clean[i] = mountopts_path_clean(dests[i]);
        record_push(&attached, clean[i], ids[i]);
      }
      _cleanup_free_ bool *gone = xcalloc(tried ? tried : 1, sizeof *gone);
      struct job undo = {.n = tried,
                         .dests = (const char *const *)clean,
                         .rec = &attached,
                         .pidfd = t.pidfd,
                         .rootfd = t.rootfd,
                         .statefds = {t.dirfd, t.rootdirfd},
                         .userns = j.userns,
                         .lenient = true};
      if (tried && run_helper(&undo, gone, NULL, &e) < 0)
        silo_log_warn("mounts add `%s`: taking the mounts attached so far away: %s", id, e.msg);
      for (size_t i = 0; i < n; i++)
        if (i >= tried || gone[i]) record_drop(&rec, ids[i]);
      for (size_t i = 0; i < tried; i++) free(clean[i]);
      record_free(&attached);
      if (record_write(t.dirfd, &rec, &e) < 0) silo_log_warn("mounts add `%s`: %s", id, e.msg);
    }
  }
  for (size_t i = 0; i < n; i++) {
    close_fd(&trees[i]);
    plan_mount_free(&plans[i]);
  }
  record_free(&rec);
  record_free(&old);
  target_close(&t);
  return r;
}

static int
mounts_remove(struct silo_context *ctx, const char *id, const struct oci_mounts_doc *doc,
              struct silo_error *err)
{
  struct target t;
  struct record rec = {0};
  size_t n = doc->n_mounts;
  _cleanup_free_ const char **dests = xcalloc(n ? n : 1, sizeof *dests);
  /* Only the destination is read, as crun reads it: the source may be gone. */
  for (size_t i = 0; i < n; i++) {
    dests[i] = doc->mounts[i].destination;
    if (mounts_check_written_dest(dests[i], i, err) < 0) return -1;
  }
  int r = target_open(ctx, id, &t, err);
  if (r == 0) r = record_read(t.dirfd, &rec, err);
  /* Refused at once when nothing was ever added there; the helper then checks that
   * the mount at the destination is, by its id, one that was. */
  for (size_t i = 0; i < n && r == 0; i++) {
    _cleanup_free_ char *clean = mountopts_path_clean(dests[i]);
    bool found = false;
    for (size_t k = 0; k < rec.n && !found; k++) found = strcmp(rec.v[k].dest, clean) == 0;
    if (!found)
      r = silo_err(err, ENOENT,
                   "mounts[%zu].destination: `%s` is not a mount `silo mounts add` made", i,
                   dests[i]);
  }
  if (r == 0 && n) {
    _cleanup_free_ bool *done = xcalloc(rec.n, sizeof *done);
    struct job j = {.n = n,
                    .dests = dests,
                    .rec = &rec,
                    .pidfd = t.pidfd,
                    .rootfd = t.rootfd,
                    .statefds = {t.dirfd, t.rootdirfd},
                    .userns = oci_config_namespace(t.cfg, OCI_NS_USER) != NULL};
    r = run_helper(&j, done, NULL, err);
    /* Those taken away leave the record, whatever happened to the others. */
    struct record left = {0};
    bool any = false;
    for (size_t k = 0; k < rec.n; k++) {
      if (!done[k]) record_push(&left, rec.v[k].dest, rec.v[k].id);
      any |= done[k];
    }
    struct silo_error e = {0};
    if (any && record_write(t.dirfd, &left, r < 0 ? &e : err) < 0 && r == 0) r = -1;
    if (e.msg[0]) silo_log_warn("mounts remove `%s`: %s", id, e.msg);
    record_free(&left);
  }
  record_free(&rec);
  target_close(&t);
  return r;
}

static int
mounts_change(struct silo_context *ctx, const char *id, const char *file, bool add,
              struct silo_error *err)
{
  const char *verb = add ? "add" : "remove";
  if (state_validate_id(id, err) < 0) return silo_err_wrap(err, "mounts %s", verb);
  /* The file is read and parsed before the container is touched. */
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  if (fs_read_regular(file, FILE_MAX, &buf, &len, err) < 0)
    return silo_err_wrap(err, "mounts %s `%s`", verb, id);
  struct oci_mounts_doc *doc = oci_mounts_parse(buf, len, err);
  if (!doc) return silo_err_wrap(err, "mounts %s `%s`: %s", verb, id, file);
  int r = add ? mounts_add(ctx, id, doc, err) : mounts_remove(ctx, id, doc, err);
  oci_mounts_doc_free(doc);
  return r < 0 ? silo_err_wrap(err, "mounts %s `%s`", verb, id) : 0;
}

int
silo_mounts_add(struct silo_context *ctx, const char *id, const char *file, struct silo_error *err)
{
  return mounts_change(ctx, id, file, true, err);
}

int
silo_mounts_remove(struct silo_context *ctx, const char *id, const char *file,
                   struct silo_error *err)
{
  return mounts_change(ctx, id, file, false, err);
}
