/* silo: the state directory.
 *
 *   <root>/                 0700, default /run/silo
 *   <root>/<id>/            one per container; flock()ed by every command that changes it
 *   <root>/.create.RANDOM/  a state directory being made: renamed to <id> once locked
 *   <root>/<id>/state.json  written atomically (rename): first as an intent record
 *                           ("creating": true, before the cgroup is made), again with
 *                           the pid once the process exists, last complete
 *   <root>/<id>/hook.pid    the process group of the hook running (hooks.c)
 *   <root>/<id>/config.json the config as it was at create (for poststop hooks, exec)
 *   <root>/<id>/exec.fifo   exists between create and start (see container.c)
 *
 * The status is never stored: it is derived from the process (pid + start time, so
 * a recycled pid is not mistaken for the container) and from exec.fifo.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

int
state_validate_id(const char *id, struct silo_error *err)
{
  size_t n = id ? strlen(id) : 0;
  if (n == 0) return silo_err(err, EINVAL, "container id is empty");
  if (n > 1024) return silo_err(err, EINVAL, "container id is longer than 1024 characters");
  /* Names starting with a dot are silo's own (.seccomp, .network, .sandbox). */
  if (id[0] == '.') return silo_err(err, EINVAL, "invalid container id `%s`: starts with `.`", id);
  for (const char *p = id; *p; p++) {
    char ch = *p;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.' || ch == '+';
    if (!ok)
      return silo_err(err, EINVAL, "invalid container id `%s`: only [A-Za-z0-9_.+-] allowed", id);
  }
  return 0;
}

int
state_root_open(struct silo_context *ctx, struct silo_error *err)
{
  const char *root = ctx->root;
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT) {
    if (fd < 0) return silo_err(err, errno, "open state root `%s`", root);
    return fd;
  }
  /* mkdir -p: the root's parents may not exist yet ($XDG_RUNTIME_DIR/silo...). */
  if (fs_mkdir_p(root, 0711, 0700, err) < 0) return silo_err_wrap(err, "create state root");
  fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "open state root `%s`", root);
  return fd;
}

static int
lock_dir(int fd, const char *id, struct silo_error *err)
{
  /* Blocks while another silo command holds this container; flock is released
   * automatically if that command dies, so a crash never wedges the container. */
  while (flock(fd, LOCK_EX) < 0) {
    if (errno != EINTR) return silo_err(err, errno, "lock container `%s`", id);
  }
  return 0;
}

/* The old way, for a filesystem without RENAME_NOREPLACE: mkdir then lock, with a
 * window in which a delete can lock and remove the new directory (state_dir_remove
 * keeps that from costing another container its directory). */
static int
state_dir_create_plain(int rootfd, const char *id, struct silo_error *err)
{
  if (mkdirat(rootfd, id, 0700) < 0) {
    if (errno == EEXIST) return silo_err(err, EEXIST, "container `%s` already exists", id);
    return silo_err(err, errno, "create state directory for `%s`", id);
  }
  _cleanup_close_ int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return silo_err(err, errno, "open state directory of `%s`", id);
  if (lock_dir(fd, id, err) < 0) return -1;
  return steal_fd(&fd);
}

int
state_dir_create(int rootfd, const char *id, struct silo_error *err)
{
  /* The directory is made and locked under a private name, then renamed to <id>
   * with RENAME_NOREPLACE: <id> never exists unlocked.  Made as <id> and locked
   * after, a delete could lock it in between, find no state.json and remove it,
   * and this create would then go on in a deleted directory (and, failing, remove
   * <id> by name: maybe a newer container's).  Dot names are never ids and `list`
   * skips them; nobody else knows the name, so the lock is taken at once. */
  char tmp[NAME_MAX + 1];
  _cleanup_close_ int fd = -1;
  for (int tries = 0; fd < 0; tries++) {
    snprintf(tmp, sizeof tmp, ".create.%016llx", (unsigned long long)fs_random_u64());
    if (mkdirat(rootfd, tmp, 0700) < 0) {
      if (errno == EEXIST && tries < 100) continue;
      return silo_err(err, errno, "create state directory for `%s`", id);
    }
    fd = openat(rootfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      int e = errno;
      unlinkat(rootfd, tmp, AT_REMOVEDIR);
      return silo_err(err, e, "open state directory of `%s`", id);
    }
  }
  if (lock_dir(fd, id, err) < 0) {
    unlinkat(rootfd, tmp, AT_REMOVEDIR);
    return -1;
  }
  if (renameat2(rootfd, tmp, rootfd, id, RENAME_NOREPLACE) < 0) {
    int e = errno;
    unlinkat(rootfd, tmp, AT_REMOVEDIR);
    if (e == EINVAL || e == ENOSYS) return state_dir_create_plain(rootfd, id, err);
    if (e == EEXIST) return silo_err(err, EEXIST, "container `%s` already exists", id);
    return silo_err(err, e, "create state directory for `%s`", id);
  }
  return steal_fd(&fd);
}

int
state_dir_lock(int rootfd, const char *id, struct silo_error *err)
{
  if (state_validate_id(id, err) < 0) return -1;
  _cleanup_close_ int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return silo_err(err, ENOENT, "container `%s` does not exist", id);
    return silo_err(err, errno, "open state directory of `%s`", id);
  }
  if (lock_dir(fd, id, err) < 0) return -1;
  /* The holder we waited for may have deleted the container. */
  struct stat st;
  if (fstat(fd, &st) < 0) return silo_err(err, errno, "stat state directory of `%s`", id);
  if (st.st_nlink == 0) return silo_err(err, ENOENT, "container `%s` does not exist", id);
  return steal_fd(&fd);
}

int
state_write(int dirfd, const struct silo_state *s, struct silo_error *err)
{
  json_t *j =
      json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:s*, s:i, s:b, s:b}", "id", s->id, "pid",
                (int)s->pid, "start_time", (json_int_t)s->start_time, "bundle", s->bundle, "rootfs",
                s->rootfs, "created", s->created, "cgroup_path", s->cgroup_path, "cgroup_manager",
                s->cgroup_manager, "new_pidns", s->new_pidns, "detached", s->detached);
  if (!j) return silo_err(err, ENOMEM, "build state");
  if (s->creating &&
      (json_object_set_new(j, "creating", json_true()) < 0 ||
       json_object_set_new(j, "creator_pid", json_integer(s->creator_pid)) < 0 ||
       json_object_set_new(j, "creator_start", json_integer((json_int_t)s->creator_start)) < 0)) {
    json_decref(j);
    return silo_err(err, ENOMEM, "build state");
  }
  _cleanup_free_ char *txt = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  if (!txt) return silo_err(err, ENOMEM, "serialise state");
  return fs_write_file_atomic(dirfd, "state.json", txt, strlen(txt), err);
}

static char *
dup_or_null(const char *s)
{
  return s ? xstrdup(s) : NULL;
}

int
state_read(int dirfd, struct silo_state *s, struct silo_error *err)
{
  memset(s, 0, sizeof *s);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  if (fs_read_file_at(dirfd, "state.json", &buf, &len, err) < 0) return -1;
  json_error_t je;
  json_t *j = json_loadb(buf, len, 0, &je);
  if (!j) return silo_err(err, EINVAL, "state.json: %s", je.text);
  const char *id = NULL, *bundle = NULL, *rootfs = NULL, *created = NULL, *cg = NULL;
  int pid = 0, mgr = 0, pidns = 0, detached = 0, creating = 0, creator = 0;
  json_int_t st = 0, creator_st = 0;
  int r = json_unpack_ex(
      j, &je, 0, "{s:s, s:i, s:I, s:s, s:s, s:s, s?s, s:i, s:b, s:b, s?b, s?i, s?I}", "id", &id,
      "pid", &pid, "start_time", &st, "bundle", &bundle, "rootfs", &rootfs, "created", &created,
      "cgroup_path", &cg, "cgroup_manager", &mgr, "new_pidns", &pidns, "detached", &detached,
      "creating", &creating, "creator_pid", &creator, "creator_start", &creator_st);
  if (r == 0) {
    s->id = xstrdup(id);
    s->pid = pid;
    s->start_time = (unsigned long long)st;
    s->bundle = xstrdup(bundle);
    s->rootfs = xstrdup(rootfs);
    s->created = xstrdup(created);
    s->cgroup_path = dup_or_null(cg);
    s->cgroup_manager = mgr;
    s->new_pidns = pidns;
    s->detached = detached;
    s->creating = creating;
    s->creator_pid = creator;
    s->creator_start = (unsigned long long)creator_st;
  }
  json_decref(j);
  if (r < 0) return silo_err(err, EINVAL, "state.json: %s", je.text);
  return 0;
}

void
state_free(struct silo_state *s)
{
  free(s->id);
  free(s->bundle);
  free(s->rootfs);
  free(s->created);
  free(s->cgroup_path);
  memset(s, 0, sizeof *s);
}

/* The process pid started at start_time is alive (not a zombie). */
static bool
alive(pid_t pid, unsigned long long start_time)
{
  char st;
  unsigned long long start;
  if (pid <= 0 || fs_proc_stat(pid, &st, &start) < 0) return false;
  return start == start_time && st != 'Z' && st != 'X';
}

enum oci_status
state_status(int dirfd, const struct silo_state *s)
{
  char st;
  unsigned long long start;
  /* A create under way, or one whose silo died: whatever it made is undone by
   * delete (container_destroy), like a stopped container's. */
  if (s->creating)
    return alive(s->creator_pid, s->creator_start) ? OCI_STATUS_CREATING : OCI_STATUS_STOPPED;
  if (s->pid <= 0) return OCI_STATUS_STOPPED;
  if (fs_proc_stat(s->pid, &st, &start) < 0) return OCI_STATUS_STOPPED;
  if (start != s->start_time || st == 'Z' || st == 'X') return OCI_STATUS_STOPPED;
  if (faccessat(dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0) return OCI_STATUS_CREATED;
  if (s->cgroup_path && s->cgroup_manager != CGROUP_MANAGER_DISABLED) {
    struct cgroup *cg = NULL;
    struct silo_error e = {0};
    bool frozen = false;
    if (cgroup_open(s->cgroup_path, s->cgroup_manager, &cg, &e) == 0 && cg) {
      frozen = cgroup_is_frozen(cg);
      cgroup_free(cg);
    }
    if (frozen) return OCI_STATUS_PAUSED;
  }
  return OCI_STATUS_RUNNING;
}

enum oci_status
state_status_bare(int dirfd)
{
  /* A new open file description: a lock held through dirfd itself would not
   * conflict with it.  Shared and non-blocking: only asks whether a create (or a
   * delete) holds the directory now. */
  _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return OCI_STATUS_STOPPED;
  if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) return OCI_STATUS_CREATING;
  return OCI_STATUS_STOPPED;
}

int
state_dir_remove(int rootfd, const char *id, int dirfd, struct silo_error *err)
{
  /* Only the directory dirfd holds (locked) is removed: its contents through the
   * fd, then the name, and that only while <id> is still that directory.  A newer
   * container's directory at <id> (ours having been removed meanwhile) is left
   * alone; and were it swapped in after the check, rmdir fails on its files. */
  struct stat mine, named;
  if (fstat(dirfd, &mine) < 0) return silo_err(err, errno, "state of `%s`", id);
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    int e = errno;
    if (fd >= 0) close(fd);
    return silo_err(err, e, "state of `%s`", id);
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    fs_rm_rf_at(dirfd, de->d_name, NULL);
  }
  closedir(d);
  if (fstatat(rootfd, id, &named, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : silo_err(err, errno, "state of `%s`", id);
  if (named.st_dev != mine.st_dev || named.st_ino != mine.st_ino) {
    silo_log_debug("container `%s`: state directory replaced meanwhile: not removing it", id);
    return 0;
  }
  if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return silo_err(err, errno, "remove state of `%s`", id);
  return 0;
}

struct oci_config *
state_load_config(int dirfd, struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  if (fs_read_file_at(dirfd, "config.json", &buf, &len, err) < 0) return NULL;
  return oci_config_parse(buf, len, err);
}

char *
state_json(const struct silo_state *s, const struct oci_config *cfg, enum oci_status st,
           bool pretty)
{
  struct oci_state os = {
      .oci_version = OCI_VERSION,
      .id = s->id,
      .status = st,
      .pid = st == OCI_STATUS_STOPPED ? 0 : s->pid,
      .bundle = s->bundle,
      .rootfs = s->rootfs,
      .created = s->created,
      .owner = "",
      .annotations = cfg ? cfg->annotations : NULL,
      .n_annotations = cfg ? cfg->n_annotations : 0,
  };
  return oci_state_to_json(&os, pretty);
}
