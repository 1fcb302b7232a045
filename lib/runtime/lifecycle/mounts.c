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
 *    above the root, is refused with the mount's JSON path.  silo's mount namespace
 *    is never changed, and the helper dies with silo (PR_SET_PDEATHSIG).
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
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/base/base.h"
#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "oci/oci.h"

#define RECORD     "mounts.json"
#define RECORD_MAX (4 << 20)

/* ---- the record: what `add` attached, by destination and mount id ---- */

struct added {
  char *dest; /* lexically clean */
  uint64_t id;
};

struct record {
  struct added *v;
  size_t n;
};

static void
record_free(struct record *r)
{
  for (size_t i = 0; i < r->n; i++) free(r->v[i].dest);
  free(r->v);
  r->v = NULL;
  r->n = 0;
}

static void
record_push(struct record *r, const char *dest, uint64_t id)
{
  r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
  r->v[r->n++] = (struct added){xstrdup(dest), id};
}

/* Drops the entry of mount id (the last one with it). */
static void
record_drop(struct record *r, uint64_t id)
{
  for (size_t i = r->n; i-- > 0;) {
    if (r->v[i].id != id) continue;
    free(r->v[i].dest);
    memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof *r->v);
    r->n--;
    return;
  }
}

/* A missing file is an empty record; anything unreadable is an error (never guessed). */
static int
record_read(int dirfd, struct record *r, struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  struct silo_error e = {0};
  if (fs_read_regular_in_root(dirfd, RECORD, RECORD_MAX, &buf, &len, &e) < 0) {
    if (e.errnum == ENOENT) return 0;
    *err = e;
    return -1;
  }
  json_error_t je;
  json_t *j = json_loadb(buf, len, 0, &je);
  size_t i;
  json_t *v;
  if (!j || !json_is_array(j)) goto bad;
  json_array_foreach(j, i, v)
  {
    json_t *d = json_object_get(v, "destination"), *id = json_object_get(v, "mntId");
    if (!json_is_string(d) || !json_is_integer(id)) goto bad;
    record_push(r, json_string_value(d), (uint64_t)json_integer_value(id));
  }
  json_decref(j);
  return 0;
bad:
  json_decref(j);
  return silo_err(err, EINVAL, "%s in the state directory is damaged", RECORD);
}

static int
record_write(int dirfd, const struct record *r, struct silo_error *err)
{
  if (r->n == 0) {
    if (unlinkat(dirfd, RECORD, 0) < 0 && errno != ENOENT)
      return silo_err(err, errno, "remove %s", RECORD);
    return 0;
  }
  json_t *j = json_array();
  for (size_t i = 0; i < r->n; i++)
    json_array_append_new(
        j, json_pack("{s:s, s:I}", "destination", r->v[i].dest, "mntId", (json_int_t)r->v[i].id));
  _cleanup_free_ char *txt = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  if (!txt) return silo_err(err, ENOMEM, "build %s", RECORD);
  return fs_write_file_atomic(dirfd, RECORD, txt, strlen(txt), err);
}

/* ---- the helper, in the container's mount namespace ---- */

/* What the parent hands the helper.  add: the helper attaches trees[i] at
 * plans[i].dest and reports SYNC_ACK (pid = i) for each; remove: it takes away,
 * for each dests[i], the mount there if the record has it (that destination, that
 * mount id) and reports SYNC_ACK (pid = its index in rec).  Then SYNC_READY or
 * SYNC_ERROR. */
struct job {
  bool add;
  size_t n;
  const struct mount_plan *plans; /* add: the decoded mounts */
  const int *trees;               /* add: their detached trees */
  const char *const *dests;       /* remove: the destinations as written */
  const struct record *rec;       /* remove: what `add` recorded */
  int pidfd, rootfd;              /* the container's process and its root */
  int statefds[2];                /* silo's state directories: closed in the helper */
  bool userns;
};

/* Where dest leads inside the root, refused when it would climb above it (only a
 * symlink of the container can make it: a written `..` was refused before). */
static int
check_dest(int rootfd, const char *dest, size_t index, struct silo_error *err)
{
  char canon[PATH_MAX];
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
  if (check_dest(rootfd, dest, index, err) < 0) return -1;
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

/* Unmounts exactly the mount fd is the root of.  A directory becomes our working
 * directory and "." is unmounted: the mount found by id, no name looked up again.
 * A file is unmounted by its name in the directory that holds it, opened again and
 * checked by id just before: a mount point cannot be renamed (EBUSY), so the name
 * still means that mount.  MNT_DETACH: processes of the container using it do not
 * make the removal fail; it goes once they let go. */
static int
unmount_added(int rootfd, int fd, const char *dest, uint64_t id, struct silo_error *err)
{
  struct stat st;
  if (fstat(fd, &st) < 0) return silo_err(err, errno, "stat `%s`", dest);
  if (S_ISDIR(st.st_mode)) {
    if (fchdir(fd) < 0) return silo_err(err, errno, "chdir `%s`", dest);
    int r = umount2(".", MNT_DETACH);
    int e = errno;
    if (fchdir(rootfd) < 0) return silo_err(err, errno, "chdir `/`");
    return r < 0 ? silo_err(err, e, "unmount `%s`", dest) : 0;
  }
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
  if (fchdir(dir) < 0) return silo_err(err, errno, "chdir to the directory of `%s`", dest);
  int r = umount2(slash + 1, MNT_DETACH | UMOUNT_NOFOLLOW);
  int e = errno;
  if (fchdir(rootfd) < 0) return silo_err(err, errno, "chdir `/`");
  return r < 0 ? silo_err(err, e, "unmount `%s`", dest) : 0;
}

static int
helper_add(const struct job *j, int sock, struct silo_error *err)
{
  for (size_t i = 0; i < j->n; i++) {
    const struct mount_plan *p = &j->plans[i];
    if (check_dest(j->rootfd, p->dest, i, err) < 0) return -1;
    /* Made if missing, as at create: beneath the root, never through a symlink
     * planted meanwhile (fs_mkpath_in_root). */
    _cleanup_close_ int destfd = fs_mkpath_in_root(j->rootfd, p->dest, p->is_dir, err);
    if (destfd < 0) return silo_err_wrap(err, "mounts[%zu].destination", i);
    if (rootfs_check_dest_fs(p, destfd, i, err) < 0) return -1;
    /* Exactly the tree silo made onto exactly the fd resolved above.  We are in the
     * container's mount namespace, which the kernel requires of the target. */
    if (move_mount(j->trees[i], "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
        0)
      return silo_err(err, errno, "mounts[%zu]: attach `%s` at `%s`", i, p->source, p->dest);
    if (sync_send(sock, SYNC_ACK, (int)i, -1, err) < 0) return -1;
  }
  return 0;
}

static int
helper_remove(const struct job *j, int sock, struct silo_error *err)
{
  /* Every one checked before any is touched: a refused one leaves all in place. */
  _cleanup_free_ int *fds = xcalloc(j->n ? j->n : 1, sizeof *fds);
  _cleanup_free_ size_t *ks = xcalloc(j->n ? j->n : 1, sizeof *ks);
  int r = 0;
  for (size_t i = 0; i < j->n; i++) fds[i] = -1;
  for (size_t i = 0; i < j->n && r == 0; i++)
    if ((fds[i] = open_added(j->rootfd, j->rec, j->dests[i], i, &ks[i], err)) < 0) r = -1;
  for (size_t i = 0; i < j->n && r == 0; i++) {
    if (unmount_added(j->rootfd, fds[i], j->dests[i], j->rec->v[ks[i]].id, err) < 0)
      r = silo_err_wrap(err, "mounts[%zu]", i);
    else if (sync_send(sock, SYNC_ACK, (int)ks[i], -1, err) < 0)
      r = -1;
  }
  for (size_t i = 0; i < j->n; i++) close_fd(&fds[i]);
  return r;
}

static void __attribute__((noreturn)) helper_main(const struct job *j, int sock, pid_t parent)
{
  struct silo_error err = {0};
  /* Dies with silo, so a killed command leaves no process; not dumpable, so
   * nothing of the container (were it to see us) can take our fds: the trees hold
   * host directories until they are attached. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || prctl(PR_SET_DUMPABLE, 0) < 0)
    _exit(1);
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

/* Runs the helper; done[] (n entries for add, rec->n for remove) marks what it
 * reports done, whatever the outcome. */
static int
run_helper(const struct job *j, bool *done, struct silo_error *err)
{
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
    if (m.type == SYNC_ACK && m.pid >= 0 && (size_t)m.pid < (j->add ? j->n : j->rec->n)) {
      done[m.pid] = true;
    } else if (m.type == SYNC_READY) {
      r = 0;
      break;
    } else if (m.type == SYNC_ERROR) {
      silo_err(err, m.errnum, "%s", m.msg);
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

/* A destination `mounts` may name: absolute, without `..`, not the root. */
static int
check_written_dest(const char *dest, size_t index, struct silo_error *err)
{
  if (dest[0] != '/')
    return silo_err(err, EINVAL, "mounts[%zu].destination: `%s` is not an absolute path", index,
                    dest);
  for (const char *p = dest; (p = strstr(p, "..")); p += 2)
    if ((p == dest || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
      return silo_err(err, EINVAL, "mounts[%zu].destination: `%s`: `..` is not allowed", index,
                      dest);
  _cleanup_free_ char *clean = mountopts_path_clean(dest);
  if (strcmp(clean, "/") == 0)
    return silo_err(err, EINVAL, "mounts[%zu].destination: cannot be the container's root", index);
  return 0;
}

/* Decodes one mount to add with the config's rules; only what a running container
 * can be given is kept: bind mounts, with the options a bind takes. */
static int
plan_mount(const struct oci_mount *m, size_t i, const char *bundle, struct mount_plan *p,
           struct silo_error *err)
{
  if (check_written_dest(m->destination, i, err) < 0) return -1;
  if (mountopts_parse(m, i, bundle, p, err) < 0) return -1;
  if (!p->bind)
    return silo_err(err, EINVAL,
                    "mounts[%zu].type: `%s`: only bind mounts (type `bind`, or option `bind` or "
                    "`rbind`) can be added to a running container",
                    i, m->type ? m->type : "");
  if (p->data)
    return silo_err(err, EINVAL, "mounts[%zu].options: `%s`: not an option of a bind mount", i,
                    p->data);
  if (p->idmap || m->n_uid_mappings || m->n_gid_mappings)
    return silo_err(err, EINVAL, "mounts[%zu].options: idmapped mounts cannot be added", i);
  return 0;
}

/* A clone of a shared host mount is a peer of it: a mount the container then made
 * inside it would appear on the host.  So every mount of the tree becomes a slave
 * first (it still receives the host's mounts, and sends none back), as the config's
 * binds are, made after `/` became rslave; then the propagation the options ask
 * for.  On the detached tree, where it changes nothing else. */
static int
tree_propagation(int tree, unsigned long prop, struct silo_error *err)
{
  struct mount_attr a = {.propagation = MS_SLAVE};
  if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
    return silo_err(err, errno, "make the tree rslave");
  if (!prop) return 0;
  a.propagation = prop & ~(unsigned long)MS_REC;
  if (mount_setattr(tree, "", AT_EMPTY_PATH | (prop & MS_REC ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
    return silo_err(err, errno, "set it");
  return 0;
}

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
  /* The pidfd first, then the root through /proc, then the start time: a pid reused
   * meanwhile is seen, and both name the process that was checked. */
  t->pidfd = (int)syscall(SYS_pidfd_open, t->s.pid, 0);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", (int)t->s.pid);
  t->rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  unsigned long long start;
  if (t->pidfd < 0 || t->rootfd < 0 || fs_proc_stat(t->s.pid, NULL, &start) < 0 ||
      start != t->s.start_time)
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
  _cleanup_free_ bool *done = xcalloc(n ? n : 1, sizeof *done);
  for (size_t i = 0; i < n; i++) trees[i] = -1;
  for (size_t i = 0; i < n; i++)
    if (check_written_dest(doc->mounts[i].destination, i, err) < 0) return -1;
  int r = target_open(ctx, id, &t, err);
  /* 1. Every mount decoded and its tree made before the container is touched. */
  for (size_t i = 0; i < n && r == 0; i++) {
    r = plan_mount(&doc->mounts[i], i, t.s.bundle, &plans[i], err);
    dests[i] = doc->mounts[i].destination;
    if (r == 0 && (trees[i] = rootfs_bind_tree(&plans[i], err)) < 0)
      r = silo_err_wrap(err, "mounts[%zu]", i);
    if (r == 0 && tree_propagation(trees[i], plans[i].propagation, err) < 0)
      r = silo_err_wrap(err, "mounts[%zu].options: propagation", i);
    if (r == 0) r = fs_mount_id(trees[i], &ids[i], err);
  }
  /* 2. The intent: recorded before anything is attached (see the top). */
  if (r == 0) r = record_read(t.dirfd, &rec, err);
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
                    .userns = oci_config_namespace(t.cfg, OCI_NS_USER) != NULL};
    r = run_helper(&j, done, err);
    if (r < 0) {
      struct silo_error e = {0};
      struct record attached = {0};
      size_t k = 0;
      while (k < n && done[k]) k++; /* attached in order: the first k */
      for (size_t i = 0; i < k; i++) record_push(&attached, plans[i].dest, ids[i]);
      _cleanup_free_ bool *gone = xcalloc(k ? k : 1, sizeof *gone);
      struct job undo = {.n = k,
                         .dests = dests,
                         .rec = &attached,
                         .pidfd = t.pidfd,
                         .rootfd = t.rootfd,
                         .statefds = {t.dirfd, t.rootdirfd},
                         .userns = j.userns};
      if (k && run_helper(&undo, gone, &e) < 0)
        silo_log_warn("mounts add `%s`: taking the mounts attached so far away: %s", id, e.msg);
      for (size_t i = 0; i < n; i++)
        if (i >= k || gone[i]) record_drop(&rec, ids[i]);
      record_free(&attached);
      if (record_write(t.dirfd, &rec, &e) < 0) silo_log_warn("mounts add `%s`: %s", id, e.msg);
    }
  }
  for (size_t i = 0; i < n; i++) {
    close_fd(&trees[i]);
    plan_mount_free(&plans[i]);
  }
  record_free(&rec);
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
    if (check_written_dest(dests[i], i, err) < 0) return -1;
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
    r = run_helper(&j, done, err);
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
  if (fs_read_file(file, &buf, &len, err) < 0)
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
