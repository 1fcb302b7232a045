/* silo: `restore` — bring a checkpointed container back with CRIU.
 *
 *   1. (--import) unpack the archive: images, config.json, rootfs (import_archive)
 *   2. check the images (inventory.img, silo-checkpoint.json) against the bundle's
 *      config, and the config itself (container_prepare: no side effects yet)
 *   3. state dir, config.json, cgroup (as create makes them); from here on any
 *      failure goes through container_abort: no state, cgroup or process remains
 *   4. in a private mount namespace of silo's, the rootfs is bound at
 *      <state>/criu-root (CRIU's --root must be a mount point); the bind mounts'
 *      mount points are made in the rootfs
 *   5. criu restore (restore_child: the restored init becomes silo's child), with
 *      the external mounts mapped to the config's sources, joined namespaces and
 *      the stdio handed back by --inherit-fd, the cgroup as --cgroup-root
 *   6. state.json (running) and the pid file; --detach returns, else silo waits
 *      like `run` and deletes the container when it exits
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
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* The manifest checkpoint wrote.  Images of runc have descriptors.json instead
 * (the init's fds 0-2 as links: "pipe:[N]", "/dev/null"): its pipes become the
 * manifest's stdio.  NULL when neither is there. */
static json_t *
load_manifest(int images_fd)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  struct silo_error e = {0};
  json_error_t je;
  if (fs_read_file_at(images_fd, CKPT_MANIFEST, &buf, &len, &e) == 0)
    return json_loadb(buf, len, 0, &je);
  if (fs_read_file_at(images_fd, "descriptors.json", &buf, &len, &e) < 0) {
    silo_log_debug("restore: neither %s nor descriptors.json in the images", CKPT_MANIFEST);
    return NULL;
  }
  json_t *fds = json_loadb(buf, len, 0, &je), *stdio = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(fds, i, v)
  {
    const char *link = json_string_value(v);
    if (i < 3 && link && strncmp(link, "pipe:", 5) == 0)
      json_array_append_new(
          stdio, json_pack("{s:i, s:s, s:s}", "fd", (int)i, "type", "pipe", "key", link));
  }
  if (fds) json_decref(fds);
  return json_pack("{s:o}", "stdio", stdio);
}

/* An image belongs to a config when process.args, the mount destinations and
 * process.terminal agree; the bundle's path and the id may differ. */
static int
check_fingerprint(json_t *manifest, const struct oci_config *cfg, const char *images,
                  struct silo_error *err)
{
  json_t *had = json_object_get(manifest, "config");
  if (!had) return 0;
  json_t *now = ckpt_config_fingerprint(cfg);
  static const char *const keys[] = {"args", "mounts", "terminal"};
  static const char *const what[] = {"process.args", "the mounts", "process.terminal"};
  int r = 0;
  for (size_t i = 0; i < ARRAY_SIZE(keys) && r == 0; i++) {
    if (json_equal(json_object_get(had, keys[i]), json_object_get(now, keys[i]))) continue;
    const char *id = json_string_value(json_object_get(manifest, "id"));
    const char *bundle = json_string_value(json_object_get(manifest, "bundle"));
    r = silo_err(err, EINVAL,
                 "the checkpoint in `%s` is of container `%s` (bundle %s), whose config differs "
                 "from this bundle's (%s): refusing to restore it here",
                 images, id ? id : "?", bundle ? bundle : "?", what[i]);
  }
  json_decref(now);
  return r;
}

/* A new pty for a restored terminal: CRIU gets the slave (by --inherit-fd), the
 * console socket (or silo's foreground relay) the master. */
static int
new_pty(int *master, int *slave, struct silo_error *err)
{
  *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0 || grantpt(*master) < 0 || unlockpt(*master) < 0)
    return silo_err(err, errno, "open a pty");
  const char *name = ptsname(*master);
  /* Not close-on-exec: CRIU (a child of ours) takes it by number. */
  *slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
  if (*slave < 0) return silo_err(err, errno, "open the pty slave");
  return 0;
}

/* Hands the init's stdio back: pipes and host files to silo's own fds 0-2; a
 * terminal to a new pty (master to the console socket, or relayed in the
 * foreground) or, as a shell job, to silo's own terminal. */
static int
map_stdio(json_t *manifest, struct container_plan *c, struct criu_req *r, int *pty_slave,
          struct silo_error *err)
{
  bool done = false, *console_done = &done;
  json_t *stdio = manifest ? json_object_get(manifest, "stdio") : NULL;
  size_t i;
  json_t *d;
  json_array_foreach(stdio, i, d)
  {
    int fd = (int)json_integer_value(json_object_get(d, "fd"));
    const char *type = json_string_value(json_object_get(d, "type"));
    const char *key = json_string_value(json_object_get(d, "key"));
    if (!type || !key || !key[0] || fd < 0 || fd > 2) continue;
    if (strcmp(type, "tty") == 0) {
      const char *console = NULL;
      if (c->opts->console_socket || (!c->opts->detach && !isatty(fd))) {
        if (*pty_slave < 0 && new_pty(&c->pty_master, pty_slave, err) < 0) return -1;
        criu_req_inherit(r, *pty_slave, key);
        console = ptsname(c->pty_master);
      } else if (isatty(fd)) {
        criu_req_inherit(r, fd, key);
        console = ttyname(fd);
      } else {
        return silo_err(err, EINVAL, "the checkpoint has a terminal: --console-socket is required");
      }
      /* The container's /dev/console (a bind of its pty, external to the image):
       * the new terminal, once. */
      if (console && !*console_done) {
        criu_req_mount(r, "/dev/console", console);
        *console_done = true;
      }
      continue;
    }
    if (strcmp(type, "pipe") != 0 && strcmp(type, "file") != 0) continue;
    if (fcntl(fd, F_GETFD) < 0)
      return silo_err(err, EBADF, "the checkpoint's fd %d was a %s: silo's fd %d is closed", fd,
                      type, fd);
    criu_req_inherit(r, fd, key);
  }
  return 0;
}

/* The mount points of the bind mounts must exist in the rootfs for CRIU; those
 * under another (tmpfs, proc...) mount are made by CRIU inside that mount. */
static int
make_mountpoints(struct container_plan *c, struct silo_error *err)
{
  _cleanup_close_ int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return silo_err(err, errno, "open rootfs `%s`", c->rootfs);
  for (size_t i = 0; i < c->n_mounts; i++) {
    const struct mount_plan *p = &c->mounts[i];
    if (!p->bind) continue;
    bool nested = false;
    for (size_t k = 0; k < c->n_mounts && !nested; k++) {
      const char *d = c->mounts[k].dest;
      size_t n = strlen(d);
      nested = k != i && !c->mounts[k].bind && strncmp(p->dest, d, n) == 0 &&
               (p->dest[n] == '/' || (n == 1 && d[0] == '/'));
    }
    if (nested) continue;
    int fd = fs_mkpath_in_root(rootfd, p->dest, p->is_dir, err);
    if (fd < 0) return silo_err_wrap(err, "mount point `%s`", p->dest);
    close(fd);
  }
  return 0;
}

/* At CRIU's "setup-namespaces": the restored init exists, in the container's
 * cgroup.  It goes into the intent record first (with its start time, as create
 * records its child), so that a delete after a crash from here on kills it and
 * everything in the cgroup; then the hooks run. */
static int
on_restored_init(void *arg, pid_t pid)
{
  struct container_plan *c = arg;
  struct silo_error e = {0};
  if (fs_proc_stat(pid, NULL, &c->start_time) < 0) {
    silo_log_error("restore `%s`: the restored process %d is gone", c->id, (int)pid);
    return -1;
  }
  c->pid = pid;
  if (container_write_intent(c, &e) < 0) {
    silo_log_error("restore `%s`: %s", c->id, e.msg);
    return -1;
  }
  const struct oci_config *cfg = c->cfg;
  if (!cfg->hooks.n[OCI_HOOK_PRESTART] && !cfg->hooks.n[OCI_HOOK_CREATE_RUNTIME]) return 0;
  struct silo_state s = {.id = (char *)c->id,
                         .bundle = c->bundle,
                         .rootfs = c->rootfs,
                         .created = c->created,
                         .pid = pid};
  _cleanup_free_ char *json = state_json(&s, cfg, OCI_STATUS_CREATING, false);
  /* Each hook recorded in hook.pid while it runs, as create's. */
  if (hooks_run_io(cfg, OCI_HOOK_PRESTART, json, c->hook_io, c->statefd, &e) < 0 ||
      hooks_run_io(cfg, OCI_HOOK_CREATE_RUNTIME, json, c->hook_io, c->statefd, &e) < 0) {
    silo_log_error("restore `%s`: %s", c->id, e.msg);
    return -1;
  }
  return 0;
}

/* --paused (a migration's receiver until the source commits): the cgroup is
 * frozen before CRIU lets the restored tasks go, so not one instruction of the
 * program runs before silo_resume. */
static int
freeze_before_resume(void *arg)
{
  struct container_plan *c = arg;
  struct silo_error e = {0};
  if (cgroup_freeze_request(c->cg, &e) < 0) {
    silo_log_error("restore `%s`: freeze before resume: %s", c->id, e.msg);
    return -1;
  }
  return 0;
}

/* State dir and cgroup, as container_spawn makes them: the intent record
 * ("creating", with our pid and start time, the cgroup about to be made) is
 * written under the state directory's lock before anything else, so that a
 * restore killed from here on is listed and `delete` undoes it
 * (docs/reliability.md).  on_restored_init adds the restored init. */
static int
make_state(struct container_plan *c, struct silo_error *err)
{
  c->rootdirfd = state_root_open(c->ctx, err);
  if (c->rootdirfd < 0) return -1;
  c->statefd = state_dir_create(c->rootdirfd, c->id, err);
  if (c->statefd < 0) return -1;
  if (fs_proc_stat(getpid(), NULL, &c->creator_start) < 0)
    return silo_err(err, errno, "read our own start time");
  if (container_write_intent(c, err) < 0) return -1;
  if (fs_write_file_atomic(c->statefd, "config.json", c->config_buf, c->config_len, err) < 0)
    return -1;
  return container_make_cgroup(c, err);
}

/* Privileged: a mount namespace of silo's own (slave of the host's, so nothing
 * propagates back) for the rootfs bind CRIU restores into and CRIU's own mounts
 * (its cgroup yard in the work dir).  It goes away with silo; the restored
 * container gets a namespace of its own from CRIU.  Made before any directory
 * CRIU works in is opened: CRIU mounts on them, which the kernel only allows in
 * the namespace the fd's mount belongs to. */
static int
private_mount_ns(struct silo_error *err)
{
  if (unshare(CLONE_NEWNS) < 0) return silo_err(err, errno, "unshare the mount namespace");
  if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return silo_err(err, errno, "make `/` rslave");
  return 0;
}

static int
bind_criu_root(struct container_plan *c, char **root, struct silo_error *err)
{
  if (mkdirat(c->statefd, "criu-root", 0700) < 0 && errno != EEXIST)
    return silo_err(err, errno, "mkdir criu-root");
  /* Absolute: CRIU works from its work directory (--root may be relative). */
  _cleanup_free_ char *rel = xasprintf("%s/%s/criu-root", c->ctx->root, c->id);
  if (!(*root = realpath(rel, NULL))) return silo_err(err, errno, "`%s`", rel);
  if (mount(c->rootfs, *root, NULL, MS_BIND | MS_REC, NULL) < 0)
    return silo_err(err, errno, "bind rootfs `%s` to `%s`", c->rootfs, *root);
  return 0;
}

/* The generated /etc/hosts and /etc/resolv.conf the images carry (silo's own
 * network): into the new state directory, bound again from there. */
static int
net_files_restore(struct container_plan *c, int images_fd, struct criu_req *r,
                  struct silo_error *err)
{
  for (size_t i = 0; i < ARRAY_SIZE(ckpt_net_files); i++) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    struct silo_error e = {0};
    if (fs_read_file_at(images_fd, ckpt_net_files[i].image, &buf, &len, &e) < 0) continue;
    if (fs_write_file_atomic(c->statefd, ckpt_net_files[i].state, buf, len, err) < 0 ||
        fchmodat(c->statefd, ckpt_net_files[i].state, 0644, 0) < 0)
      return silo_err_wrap(err, "%s", ckpt_net_files[i].dest);
    _cleanup_free_ char *rel = xasprintf("%s/%s/%s", c->ctx->root, c->id, ckpt_net_files[i].state);
    _cleanup_free_ char *abs = realpath(rel, NULL);
    if (!abs) return silo_err(err, errno, "`%s`", rel);
    criu_req_mount(r, ckpt_net_files[i].dest, abs);
  }
  return 0;
}

/* A migrated container of silo's own network: into the namespace its receiver
 * made (not close-on-exec: CRIU, a child of ours, takes it by number). */
static int
restore_netns_path(const struct silo_restore_opts *o, struct criu_req *r, int *fd,
                   struct silo_error *err)
{
  if (!o->netns_path) return 0;
  if (*fd >= 0) return silo_err(err, EINVAL, "the config joins a network namespace by path");
  *fd = open(o->netns_path, O_RDONLY);
  if (*fd < 0) return silo_err(err, errno, "network namespace `%s`", o->netns_path);
  criu_req_inherit(r, *fd, "extRootNetNS");
  return 0;
}

static int
restore(struct container_plan *c, const struct silo_restore_opts *o, const char *images,
        const char *work, struct silo_error *err)
{
  if (private_mount_ns(err) < 0) return -1;
  _cleanup_close_ int images_fd = ckpt_open_dir(images, false, err);
  if (images_fd < 0) return silo_err_wrap(err, "checkpoint images");
  if (faccessat(images_fd, "inventory.img", F_OK, 0) < 0)
    return silo_err(err, ENOENT, "`%s` holds no CRIU checkpoint (no inventory.img)", images);
  json_t *manifest = load_manifest(images_fd);
  int ret = -1, ns_fds[2] = {-1, -1}, pty_slave = -1;
  _cleanup_free_ char *root = NULL, *statedir = NULL;
  /* the runtime's tmpfs mounts the dump left out of the images (tmpfs.c) */
  json_t *tmpfs = manifest ? json_object_get(manifest, "tmpfs") : NULL;
  _cleanup_close_ int work_fd = -1;
  struct criu_req r;
  criu_req_init(&r, CRIU_OP_RESTORE);
  if (container_prepare(c, err) < 0) goto out;
  /* As checkpoint refuses it: such a root is a tree in no namespace (rootfs.c). */
  if (!c->mntns) {
    silo_err(err, ENOTSUP,
             "a container without a mount namespace cannot be restored: its root would be a "
             "mount tree outside every namespace, which CRIU cannot make");
    goto out;
  }
  if (manifest && check_fingerprint(manifest, c->cfg, images, err) < 0) goto out;
  /* from an image or a peer: checked before anything of it is made */
  if (ckpt_tmpfs_check(tmpfs, c->cfg, err) < 0) goto out;
  if ((work_fd = ckpt_open_dir(work, true, err)) < 0) goto out;

  r.criu = c->ctx->criu;
  r.images_fd = images_fd;
  r.work_fd = work_fd;
  r.work_path = work;
  r.log_name = "restore.log";
  r.tcp_established = o->criu.tcp_established;
  r.tcp_close = o->tcp_close;
  r.ext_unix_sk = o->criu.ext_unix_sk;
  r.shell_job = o->criu.shell_job;
  r.file_locks = o->criu.file_locks;
  r.auto_dedup = o->criu.auto_dedup;
  r.lazy_pages = o->criu.lazy_pages;
  r.timeout = o->criu.timeout;
  r.on_setup_ns = on_restored_init;
  r.arg = c;
  if (o->criu.empty_netns) r.empty_ns = CLONE_NEWNET;
  if (o->criu.manage_cgroups_mode && criu_cg_mode_parse(o->criu.manage_cgroups_mode, &r.cg_mode)) {
    silo_err(err, EINVAL, "--manage-cgroups-mode `%s`: not soft, full, strict or ignore",
             o->criu.manage_cgroups_mode);
    goto out;
  }
  if (ckpt_ext_mounts(c->cfg, c->bundle, 0, true, &r, err) < 0 ||
      ckpt_restore_namespaces(c->cfg, &r, ns_fds, err) < 0 ||
      restore_netns_path(o, &r, &ns_fds[0], err) < 0 ||
      ckpt_netns_restore(manifest, c->cfg, &r, &ns_fds[0], err) < 0 ||
      map_stdio(manifest, c, &r, &pty_slave, err) < 0)
    goto out;

  /* Side effects from here: failures are undone by the caller (container_abort). */
  time_rfc3339(c->created, sizeof c->created);
  if (make_state(c, err) < 0 || make_mountpoints(c, err) < 0 || bind_criu_root(c, &root, err) < 0)
    goto out;
  if (o->netns_path && net_files_restore(c, images_fd, &r, err) < 0) goto out;
  r.root = root;
  if (c->cg) r.cg_root = cgroup_path(c->cg);
  /* the cgroup mounts before the tmpfs ones, which must not take their keys */
  if (ckpt_cgroup_mounts(c->cfg, r.cg_root, &r, err) < 0) goto out;
  if (json_array_size(tmpfs)) {
    _cleanup_free_ char *rel = xasprintf("%s/%s", c->ctx->root, c->id);
    if (!(statedir = realpath(rel, NULL))) {
      silo_err(err, errno, "`%s`", rel);
      goto out;
    }
    if (ckpt_tmpfs_make(tmpfs, c->cfg, c->statefd, statedir, &r, err) < 0) goto out;
  }
  if (o->paused) {
    if (!c->cg) {
      silo_err(err, ENOTSUP, "a paused restore needs the container's cgroup (a freezer)");
      goto out;
    }
    r.on_pre_resume = freeze_before_resume;
  }

  pid_t pid = 0;
  silo_log_debug("container `%s`: criu restore from %s", c->id, images);
  int rr = criu_run(&r, &pid, err);
  if (pid > 0) c->pid = pid; /* even on failure: container_abort reaps it */
  if (rr < 0) goto out;
  c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (c->pidfd < 0 || fs_proc_stat(pid, NULL, &c->start_time) < 0) {
    silo_err(err, ESRCH, "the restored process %d is gone", (int)pid);
    goto out;
  }
  if (o->paused && cgroup_freeze(c->cg, true, err) < 0) goto out;
  if (c->pty_master >= 0 && o->console_socket) {
    if (terminal_send(o->console_socket, c->pty_master, err) < 0) goto out;
    close(c->pty_master);
    c->pty_master = -1;
  }
  if (container_write_pid_file(c, err) < 0 || container_write_state(c, err) < 0) goto out;
  silo_log_debug("container `%s`: restored, init %d", c->id, (int)pid);
  ret = 0;
out:
  if (root) {
    umount2(root, MNT_DETACH);
    unlinkat(c->statefd, "criu-root", AT_REMOVEDIR);
  }
  if (statedir) ckpt_tmpfs_unmake(c->statefd, statedir, tmpfs);
  for (int i = 0; i < 2; i++)
    if (ns_fds[i] >= 0) close(ns_fds[i]);
  if (pty_slave >= 0) close(pty_slave);
  criu_req_free(&r);
  if (manifest) json_decref(manifest);
  return ret;
}

/* ---- --import ---- */

static bool
dir_empty(const char *path)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  DIR *d = fdopendir(steal_fd(&fd));
  if (!d) return false;
  struct dirent *de;
  bool empty = true;
  while (empty && (de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) empty = false;
  closedir(d);
  return empty;
}

/* Unpacks into dir; fills the bundle with config.json and the rootfs when it has none. */
static int
import_archive(const char *file, const char *dir, const char *bundle, struct silo_error *err)
{
  if (ckpt_archive_import(file, dir, err) < 0) return -1;
  _cleanup_free_ char *cfg_path = xasprintf("%s/config.json", bundle);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  if (access(cfg_path, F_OK) < 0) {
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_close_ int bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || bfd < 0) return silo_err(err, errno, "open `%s`", dfd < 0 ? dir : bundle);
    if (fs_read_file_at(dfd, "config.json", &buf, &len, err) < 0 ||
        fs_write_file_atomic(bfd, "config.json", buf, len, err) < 0)
      return silo_err_wrap(err, "bundle `%s`", bundle);
  }
  _cleanup_free_ char *src = xasprintf("%s/rootfs", dir);
  if (access(src, F_OK) < 0) return 0;
  /* Where the config puts the rootfs. */
  struct silo_error cerr = {0};
  free(buf);
  buf = NULL;
  if (fs_read_file(cfg_path, &buf, &len, &cerr) < 0) return 0; /* container_prepare reports it */
  struct oci_config *cfg = oci_config_parse(buf, len, &cerr);
  if (!cfg) return 0;
  _cleanup_free_ char *dst = cfg->root_path[0] == '/' ? xstrdup(cfg->root_path)
                                                      : xasprintf("%s/%s", bundle, cfg->root_path);
  oci_config_free(cfg);
  if (!dir_empty(dst)) {
    silo_log_warn("import: `%s` is not empty: the bundle's rootfs is used, not the archive's", dst);
    return 0;
  }
  rmdir(dst);
  if (rename(src, dst) < 0) return silo_err(err, errno, "move the rootfs to `%s`", dst);
  return 0;
}

static int
foreground(struct container_plan *c, int *exit_code, struct silo_error *err)
{
  sigset_t mask, old;
  sigemptyset(&mask);
  foreground_signals(&mask);
  sigprocmask(SIG_BLOCK, &mask, &old);
  _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) return silo_err(err, errno, "signalfd");
  foreground_tty(c);
  return foreground_finish(c, sfd, &old, exit_code, err);
}

int
silo_restore(struct silo_context *ctx, const struct silo_restore_opts *o, int *exit_code,
             struct silo_error *err)
{
  *exit_code = 1;
  if (state_validate_id(o->id, err) < 0) return silo_err_wrap(err, "restore `%s`", o->id);
  /* In the foreground silo adopts the restored container's orphans, as `run` does
   * (see container_spawn), unless --no-subreaper. */
  if (!o->detach && !o->no_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    return silo_err(err, errno, "restore `%s`: prctl(PR_SET_CHILD_SUBREAPER)", o->id);
  struct silo_create_opts copts = {
      .id = o->id,
      .bundle = o->bundle,
      .pid_file = o->pid_file,
      .console_socket = o->console_socket,
      .no_pivot = o->no_pivot,
      .no_subreaper = o->no_subreaper,
      .detach = o->detach,
  };
  const char *images = o->criu.image_path ? o->criu.image_path : "checkpoint";
  const char *work = o->criu.work_path;
  _cleanup_free_ char *tmp = NULL, *tmp_images = NULL, *bundle = NULL;
  int ret = -1;

  if (o->import_path) {
    const char *b = o->bundle ? o->bundle : ".";
    if (ckpt_open_dir(b, true, err) < 0 || !(bundle = realpath(b, NULL))) {
      if (!bundle && !err->msg[0]) silo_err(err, errno, "bundle `%s`", b);
      return silo_err_wrap(err, "restore `%s`", o->id);
    }
    const char *dir;
    if (o->criu.image_path) {
      if (!dir_empty(o->criu.image_path))
        return silo_err(err, EEXIST, "restore `%s`: --import: --image-path `%s` is not empty",
                        o->id, o->criu.image_path);
      int fd = ckpt_open_dir(o->criu.image_path, true, err);
      if (fd < 0) return silo_err_wrap(err, "restore `%s`", o->id);
      close(fd);
      dir = o->criu.image_path;
    } else {
      tmp = xasprintf("%s/.silo-import-XXXXXX", bundle);
      if (!mkdtemp(tmp)) return silo_err(err, errno, "restore `%s`: mkdtemp", o->id);
      dir = tmp;
    }
    if (import_archive(o->import_path, dir, bundle, err) < 0) goto out;
    images = tmp_images = xasprintf("%s/images", dir);
    if (!work) work = bundle;
    copts.bundle = bundle;
  }
  if (!work) work = images;

  struct container_plan c;
  plan_init(&c);
  c.ctx = ctx;
  c.opts = &copts;
  c.mode = MODE_RUN;
  c.id = o->id;
  ret = restore(&c, o, images, work, err);
  if (ret < 0) {
    if (c.statefd >= 0) container_abort(&c);
  } else if (!o->detach) {
    ret = foreground(&c, exit_code, err);
    /* As run: the container is deleted when it exits. */
    struct silo_error derr = {0};
    int dirfd = state_dir_lock(c.rootdirfd, c.id, &derr);
    struct silo_state s = {.id = (char *)c.id,
                           .bundle = c.bundle,
                           .rootfs = c.rootfs,
                           .created = c.created,
                           .pid = c.pid,
                           .start_time = c.start_time};
    if (dirfd < 0 || container_destroy(c.rootdirfd, dirfd, &s, c.cfg, c.cg, &derr) < 0)
      silo_log_warn("%s", derr.msg);
    if (dirfd >= 0) close(dirfd);
  } else {
    *exit_code = 0;
  }
  plan_free(&c);
out:
  if (tmp) {
    _cleanup_close_ int bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bfd >= 0) fs_rm_rf_at(bfd, strrchr(tmp, '/') + 1, NULL);
  }
  return ret < 0 ? silo_err_wrap(err, "restore `%s`", o->id) : 0;
}
