/* silo: `migrate-receive` — the destination of `silo migrate`.
 *
 * One connection at a time: authenticate (a peer without the token is refused and
 * the receiver goes on listening), check the OFFER before the source freezes
 * anything (arch, id free, CRIU, lazy-pages support, the namespaces and bind
 * sources the config needs), then take what comes: the rootfs into
 * BUNDLE_DIR/<id>/rootfs, image trees into BUNDLE_DIR/<id>/.migrate/, and RESTORE.
 *
 * A restored container is the receiver's only after COMMIT: until then a guardian
 * process deletes it if the source goes away, aborts, or this receiver dies.
 * Postcopy: CRIU's lazy-pages daemon gets its pages through the tunnel; if it
 * fails before it has every page, the container (whose memory is then incomplete)
 * is deleted and the source resumes its frozen copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/migrate/migrate.h"
#include "lib/network/network.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

struct dst {
  struct silo_context *ctx;
  const struct silo_migrate_receive_opts *o;
  struct mig_token tok;
  struct mig_conn c;
  char *id, *bundle, *migdir, *rootfs, *strategy;
  /* BUNDLE_DIR/<id>, its rootfs and .migrate: opened beneath BUNDLE_DIR without
   * symlinks; everything the receiver writes goes through them */
  int bfd, rootfd, migfd;
  /* where the image trees go: migfd, or postcopy's private tmpfs (imgdir its path) */
  int imgfd;
  const char *imgdir;
  struct mig_stage stage;
  bool bundle_created, lazy, restored, committed, daemon_done;
  int ps_local; /* postcopy: our end of the lazy-pages daemon's page-server socket */
  struct mig_manifest known;
  struct mig_child restore, daemon;
  struct mig_guard guard;
  struct mig_pump *pump;
  struct network_move *net; /* silo's own network, made before the freeze */
  char *netns_pin;          /* its namespace until the restored container's state holds it */
  uint64_t rootfs_bytes, image_bytes;
  double t0, t_restore;
};

static void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
info(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("silo migrate-receive: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static const char *
bundle_dir(const struct dst *d)
{
  return d->o->bundle_dir ? d->o->bundle_dir : "/var/lib/silo/migrate";
}

/* ---- the offer ---- */

static int
check_config(struct dst *d, const struct oci_config *cfg, struct silo_error *err)
{
  if (cfg->process && cfg->process->terminal)
    return silo_err(err, ENOTSUP, "containers with a terminal cannot migrate");
  const struct oci_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->n_namespaces; i++) {
    const char *p = l->namespaces[i].path;
    if (p && access(p, F_OK) < 0)
      return silo_err(err, errno,
                      "the container joins the namespace `%s`, which this host lacks (make it, "
                      "with the same addresses, before migrating)",
                      p);
  }
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    bool bind = m->type && strcmp(m->type, "bind") == 0;
    for (size_t k = 0; k < m->n_options && !bind; k++)
      bind = !strcmp(m->options[k], "bind") || !strcmp(m->options[k], "rbind");
    if (!bind || !m->source) continue;
    if (m->source[0] != '/')
      return silo_err(err, ENOTSUP,
                      "bind mount `%s` has the relative source `%s`: migrated "
                      "containers need absolute bind sources",
                      m->destination, m->source);
    if (access(m->source, F_OK) < 0)
      return silo_err(err, errno,
                      "bind mount `%s`: its source `%s` is missing here (volumes do "
                      "not move: provide them on this host)",
                      m->destination, m->source);
  }
  (void)d;
  return 0;
}

/* The rootfs's name in the bundle: the config's relative root.path, which must be
 * one clean name (the peer chooses it: `../../x` would be a directory anywhere on
 * this host, which the sync empties), and none of the receiver's own files; an
 * absolute (or no) root.path becomes `rootfs`. */
static int
root_name(const struct oci_config *cfg, const char **out, struct silo_error *err)
{
  static const char *const own[] = {".migrate",   "config.json", "stdin",
                                    "stdout.log", "stderr.log",  "container.log"};
  const char *p = cfg->root_path;
  *out = !p || p[0] == '/' ? "rootfs" : p;
  if (!mig_name_ok(*out) || strlen(*out) > NAME_MAX)
    return silo_err(err, EINVAL,
                    "root.path: `%s` is not one relative name (no `/`, `.` or `..`): the rootfs "
                    "is received into BUNDLE_DIR/<id>/<root.path>",
                    p);
  for (size_t i = 0; i < ARRAY_SIZE(own); i++)
    if (strcmp(*out, own[i]) == 0)
      return silo_err(err, EINVAL, "root.path: `%s` is a file of the receiver's own bundle", p);
  return 0;
}

/* config.json for this host: rootfs under the bundle, the cgroup parent. */
static char *
local_config(struct dst *d, const char *text, size_t len, const char *root)
{
  json_error_t je;
  json_t *j = json_loadb(text, len, 0, &je);
  if (!j) return NULL;
  d->rootfs = xasprintf("%s/%s", d->bundle, root);
  json_t *r = json_object_get(j, "root");
  if (json_is_object(r)) json_object_set_new(r, "path", json_string(root));
  if (d->o->cgroup_parent) {
    json_t *l = json_object_get(j, "linux");
    if (!json_is_object(l)) json_object_set_new(j, "linux", l = json_object());
    json_object_set_new(l, "cgroupsPath", json_sprintf("%s/%s", d->o->cgroup_parent, d->id));
  }
  char *out = json_dumps(j, JSON_INDENT(2));
  json_decref(j);
  return out;
}

static int undo(void *arg);

/* silo's own network (the OFFER's "network": the lease, checked as the peer's):
 * made before the source freezes anything — a namespace with the container's
 * veth, MAC and addresses, its host end down until the switch. */
static int
make_network(struct dst *d, int rootfd, const char *text, size_t len, json_t *net,
             struct silo_error *err)
{
  struct oci_config *cfg = oci_config_parse(text, len, err);
  if (!cfg) return silo_err_wrap(err, "the container's config");
  const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_NETWORK);
  int r = 0;
  if (!ns || ns->path)
    r = silo_err(err, EINVAL,
                 "network: the container has silo's network, and its config no network "
                 "namespace of its own");
  d->netns_pin = xasprintf("%s/netns", d->migdir);
  if (r == 0) r = network_move_in(rootfd, d->id, cfg, net, d->netns_pin, &d->net, err);
  oci_config_free(cfg);
  return r;
}

static int
accept_offer(struct dst *d, json_t *offer, struct silo_error *err)
{
  const char *id = json_string_value(json_object_get(offer, "id"));
  const char *strategy = json_string_value(json_object_get(offer, "strategy"));
  const char *arch = json_string_value(json_object_get(offer, "arch"));
  json_t *cj = json_object_get(offer, "config");
  if (!id || !strategy || !arch || !json_is_string(cj))
    return silo_err(err, EPROTO, "malformed OFFER");
  if (state_validate_id(id, err) < 0) return -1;
  d->id = xstrdup(id);
  d->strategy = xstrdup(strategy);
  d->lazy = json_is_true(json_object_get(offer, "lazy"));
  struct utsname u;
  uname(&u);
  if (strcmp(arch, u.machine) != 0)
    return silo_err(err, EINVAL, "the container runs on %s, this host is %s", arch, u.machine);
  _cleanup_close_ int rootfd = state_root_open(d->ctx, err);
  if (rootfd < 0) return -1;
  if (faccessat(rootfd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return silo_err(err, EEXIST, "a container `%s` already exists here", id);
  const char *text = json_string_value(cj);
  size_t len = json_string_length(cj);
  struct oci_config *cfg = oci_config_parse(text, len, err);
  if (!cfg) return silo_err_wrap(err, "the container's config");
  const char *root = NULL;
  int r = root_name(cfg, &root, err);
  if (r == 0) r = check_config(d, cfg, err);
  char version[32];
  if (r == 0 && criu_version(d->ctx->criu, version, sizeof version, err) < 0) r = -1;
  /* CRIU's kernel-probe cache, for the lazy-pages daemon and the restore */
  if (r == 0) criu_prepare(d->ctx->criu && *d->ctx->criu ? d->ctx->criu : NULL);
  if (r == 0 && d->lazy && mig_lazy_pipe_check(err) < 0) r = -1;
  if (r == 0 && d->lazy && !mig_criu_feature(d->ctx, "uffd-noncoop"))
    r = silo_err(err, ENOTSUP,
                 "postcopy needs userfaultfd (`criu check --feature uffd-noncoop` "
                 "fails here)");
  _cleanup_free_ char *conf = NULL;
  if (r == 0) {
    d->bundle = xasprintf("%s/%s", bundle_dir(d), id);
    d->migdir = xasprintf("%s/.migrate", d->bundle);
    conf = local_config(d, text, len, root);
    if (!conf) r = silo_err(err, EINVAL, "the container's config");
  }
  _cleanup_free_ char *root_copy = r == 0 ? xstrdup(root) : NULL;
  oci_config_free(cfg);
  if (r < 0) return -1;
  /* BUNDLE_DIR is the administrator's (the command line): made if missing.  Below
   * it every name comes from the peer, checked to be one clean name (the id by
   * state_validate_id, root.path by root_name), and is opened with RESOLVE_BENEATH |
   * RESOLVE_NO_SYMLINKS: a symlink left there (by a container of an earlier
   * migration, whose rootfs is below) is refused, not followed. */
  if (fs_mkdir_p(bundle_dir(d), 0755, 0755, err) < 0) return -1;
  _cleanup_close_ int pfd = open(bundle_dir(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) return silo_err(err, errno, "bundle directory `%s`", bundle_dir(d));
  d->bfd = mig_mkdir_beneath(pfd, id, 0755, &d->bundle_created, err);
  if (d->bfd < 0) return silo_err_wrap(err, "bundle directory `%s`", bundle_dir(d));
  fs_rm_rf_at(d->bfd, ".migrate", NULL);
  d->migfd = mig_mkdir_beneath(d->bfd, ".migrate", 0700, NULL, err);
  if (d->migfd < 0) return silo_err_wrap(err, "bundle `%s`", d->bundle);
  d->imgfd = d->migfd;
  d->imgdir = d->migdir;
  /* Postcopy's images (no memory in them) on a private tmpfs: nothing of them on
   * disk, and gone with the session (the receiver killed included). */
  struct silo_error serr = {0};
  if (d->lazy && strcmp(strategy, "postcopy") == 0) {
    if (mig_stage_open(&d->stage, &serr) == 0)
      d->imgfd = d->stage.fd, d->imgdir = d->stage.path;
    else
      silo_log_debug("migrate-receive: images on disk: %s", serr.msg);
  }
  d->rootfd = mig_mkdir_beneath(d->bfd, root_copy, 0755, NULL, err);
  if (d->rootfd < 0) return silo_err_wrap(err, "bundle `%s`", d->bundle);
  if (fs_write_file_atomic(d->bfd, "config.json", conf, strlen(conf), err) < 0) return -1;
  json_t *acc = json_pack("{s:s}", "bundle", d->bundle);
  json_t *net = json_object_get(offer, "network");
  if (net && make_network(d, rootfd, text, len, net, err) < 0) {
    json_decref(acc);
    return -1;
  }
  /* From here a receiver that dies takes the network it made with it. */
  if (d->net && mig_guard_arm(&d->guard, undo, d, -1, err) < 0) {
    json_decref(acc);
    return -1;
  }
  if (d->net) json_object_set_new(acc, "network", network_move_summary(d->net));
  info("%s: container `%s` (%s) into %s", d->c.peer, id, strategy, d->bundle);
  return mig_send_json(&d->c, MIG_ACCEPT, acc, err);
}

/* ---- restore ---- */

static bool wait_socket(const char *path, double seconds);

/* Postcopy: CRIU's lazy-pages daemon (it reads the images as it starts). */
static int
start_lazy_daemon(struct dst *d, struct silo_error *err)
{
  _cleanup_free_ char *img = xasprintf("%s/final", d->imgdir);
  _cleanup_free_ char *work = xasprintf("%s/work", d->migdir);
  _cleanup_close_ int ifd = mig_mkdir_beneath(d->imgfd, "final", 0700, NULL, err);
  _cleanup_close_ int wfd = ifd >= 0 ? mig_mkdir_beneath(d->migfd, "work", 0700, NULL, err) : -1;
  if (wfd < 0) return silo_err_wrap(err, "`%s`", d->migdir);
  int ps[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ps) < 0)
    return silo_err(err, errno, "socketpair");
  double t = time_mono_s();
  int r = mig_lazy_daemon_start(d->ctx, img, work, ps[1], &d->daemon, err);
  close(ps[1]);
  _cleanup_free_ char *sock = xasprintf("%s/lazy-pages.socket", work);
  if (r == 0 && !wait_socket(sock, 10)) {
    char lines[1200];
    _cleanup_free_ char *log = xasprintf("%s/lazy-pages.log", work);
    mig_log_errors(log, lines, sizeof lines);
    r = silo_err(err, ETIMEDOUT, "the lazy-pages daemon did not start%s", lines);
  }
  if (r < 0) {
    close(ps[0]);
    return -1;
  }
  silo_log_debug("migrate-receive: lazy-pages daemon up after %.3f s", time_mono_s() - t);
  d->ps_local = ps[0];
  return 0;
}

/* The guardian's action: the container never became ours. */
static int
undo(void *arg)
{
  struct dst *d = arg;
  struct silo_error e = {0};
  if (d->daemon.pid > 0) kill(d->daemon.pid, SIGKILL); /* the receiver's lazy-pages daemon */
  if (silo_delete(d->ctx, d->id, true, &e) < 0 && e.errnum != ENOENT)
    silo_log_warn("migrate-receive: delete `%s`: %s", d->id, e.msg);
  network_move_undo(d->net); /* what the delete did not take (not yet the container's) */
  _cleanup_close_ int bfd = open(d->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (bfd >= 0) fs_rm_rf_at(bfd, ".migrate", NULL);
  _cleanup_close_ int pfd =
      d->bundle_created ? open(bundle_dir(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (pfd >= 0) fs_rm_rf_at(pfd, d->id, NULL);
  return 0;
}

/* The switch: the veth's host end up, once the restored sockets exist (before,
 * the namespace would answer the peers' packets with resets), and the move
 * announced.  Until then the source's veth is down (or gone) too: the peers'
 * packets are dropped, and retransmitted. */
static int
network_switch(struct dst *d, struct silo_error *err)
{
  if (network_move_up(d->net, err) < 0) return -1;
  struct silo_error e = {0};
  if (network_move_announce(d->net, &e) < 0) silo_log_warn("%s", e.msg);
  return 0;
}

/* Restored: the network is the container's (its delete undoes it); postcopy runs
 * already and is announced (cold: once resumed). */
static int
adopt_network(struct dst *d, struct silo_error *err)
{
  _cleanup_close_ int rootfd = state_root_open(d->ctx, err);
  _cleanup_close_ int dirfd = rootfd >= 0 ? state_dir_lock(rootfd, d->id, err) : -1;
  if (dirfd < 0 || network_move_adopt(d->net, dirfd, err) < 0)
    return silo_err_wrap(err, "the restored container's network");
  return d->lazy ? network_switch(d, err) : 0;
}

static int
restore_tick(void *arg, struct silo_error *err)
{
  struct dst *d = arg;
  if (!d->restored && mig_child_exited(&d->restore)) {
    if (d->pump) d->pump->extra_fd = d->lazy ? d->daemon.pidfd : -1;
    int r = mig_child_wait(&d->restore, 0, err);
    mig_child_close(&d->restore);
    if (r < 0) return silo_err_wrap(err, "restore");
    d->restored = true;
    d->t_restore = time_mono_s() - d->t_restore;
    silo_log_debug("migrate-receive: restored in %.3f s", d->t_restore);
    if (d->net && adopt_network(d, err) < 0) return -1;
    /* ours only after COMMIT (restore_frame) */
    return mig_send_json(&d->c, MIG_RESTORED, json_object(), err) < 0 ? -1 : 0;
  }
  if (d->lazy && !d->daemon_done && mig_child_exited(&d->daemon)) {
    if (d->pump) d->pump->extra_fd = -1;
    if (!WIFEXITED(d->daemon.status) || WEXITSTATUS(d->daemon.status) != 0) {
      /* A restore failing takes the daemon with it: its error says more. */
      if (!d->restored && mig_child_wait(&d->restore, 10000, err) < 0 && err->errnum != ETIMEDOUT) {
        mig_child_close(&d->restore);
        return silo_err_wrap(err, "restore");
      }
      char lines[1200];
      _cleanup_free_ char *log = xasprintf("%s/work/lazy-pages.log", d->migdir);
      mig_log_errors(log, lines, sizeof lines);
      return silo_err(err, EIO, "the lazy-pages daemon failed%s", lines);
    }
    d->daemon_done = true;
  }
  if (d->lazy && d->daemon_done && d->committed) return 1;
  return 0;
}

static int
restore_frame(void *arg, const struct mig_frame *f, struct silo_error *err)
{
  struct dst *d = arg;
  if (f->type == MIG_COMMIT && d->restored) {
    d->committed = true;
    return d->lazy && !d->daemon_done ? 0 : 1;
  }
  if (f->type == MIG_ERROR || f->type == MIG_ABORT) return mig_frame_error(f, d->c.peer, err);
  return silo_err(err, EPROTO, "%s sent %s during the restore", d->c.peer, mig_type_name(f->type));
}

/* What the restored init gets as stdio.  The peer describes the source's; nothing
 * of this host is opened on its word but a harmless device (mig_stdio_dev_open:
 * not /etc/shadow, not a FIFO that would block the receiver).  CRIU checks a
 * regular file it replaces by mode and size: a log file of the bundle is made to
 * match (sparse, the output continues at the file's offset), beneath the bundle's
 * fd and never through a symlink; pipes and the rest become BUNDLE/container.log.
 * A refused device refuses the restore, before anything was started. */
static int
stdio_fds(struct dst *d, json_t *info, int fds[3], struct silo_error *err)
{
  static const char *const names[] = {"stdin", "stdout.log", "stderr.log"};
  fds[0] = fds[1] = fds[2] = -1;
  size_t i;
  json_t *e;
  int fd = -1;
  json_array_foreach(info, i, e)
  {
    fd = (int)json_integer_value(json_object_get(e, "fd"));
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *path = json_string_value(json_object_get(e, "path"));
    mode_t mode = (mode_t)json_integer_value(json_object_get(e, "mode"));
    off_t size = (off_t)json_integer_value(json_object_get(e, "size"));
    if (fd < 0 || fd > 2 || fds[fd] >= 0 || !type || strcmp(type, "file") != 0) continue;
    int flags = fd ? O_WRONLY : O_RDONLY;
    if (S_ISCHR(mode)) {
      fds[fd] = mig_stdio_dev_open(path, flags, err);
      if (fds[fd] < 0) goto fail;
    } else if (S_ISREG(mode)) {
      /* the same file for fds that shared one */
      for (int k = 0; k < fd; k++)
        if (fds[k] >= 0 && json_equal(json_object_get(json_array_get(info, (size_t)k), "key"),
                                      json_object_get(e, "key")))
          fds[fd] = fcntl(fds[k], F_DUPFD_CLOEXEC, 3);
      if (fds[fd] >= 0) continue;
      unlinkat(d->bfd, names[fd], 0);
      fds[fd] = openat(d->bfd, names[fd],
                       O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
      /* no set-id bits from the peer; a negative or absurd size fails here */
      if (fds[fd] >= 0 && (fchmod(fds[fd], mode & 0777) < 0 || ftruncate(fds[fd], size) < 0)) {
        close(fds[fd]);
        fds[fd] = -1;
      }
    } /* anything else (a FIFO, a file gone on the source): container.log, as pipes */
  }
  for (fd = 1; fd < 3; fd++)
    if (fds[fd] < 0)
      fds[fd] = openat(d->bfd, "container.log",
                       O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
  return 0;
fail:
  silo_err_wrap(err, "stdio fd %d of the restore", fd);
  for (int k = 0; k < 3; k++)
    if (fds[k] >= 0) close(fds[k]), fds[k] = -1;
  return -1;
}

static bool
wait_socket(const char *path, double seconds)
{
  double end = time_mono_s() + seconds;
  struct stat st;
  while (time_mono_s() < end) {
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) return true;
    usleep(5000);
  }
  return false;
}

static int
do_restore(struct dst *d, json_t *req, struct silo_error *err)
{
  const char *images = json_string_value(json_object_get(req, "images"));
  if (!images || strcmp(images, "final") != 0) return silo_err(err, EPROTO, "bad RESTORE");
  _cleanup_free_ char *work = xasprintf("%s/work", d->migdir);
  _cleanup_free_ char *img = xasprintf("%s/final", d->imgdir);
  _cleanup_close_ int wfd = mig_mkdir_beneath(d->migfd, "work", 0700, NULL, err);
  if (wfd < 0) return silo_err_wrap(err, "`%s`", d->migdir);
  /* the stdio first: a refused one stops the restore before anything runs */
  int stdio[3];
  if (stdio_fds(d, json_object_get(req, "stdio"), stdio, err) < 0) return -1;
  d->t_restore = time_mono_s();
  int ps0 = -1;
  if (d->lazy && start_lazy_daemon(d, err) < 0) goto fail;
  ps0 = d->ps_local;
  d->ps_local = -1;
  /* Armed (again) now that the lazy-pages daemon runs: the guardian kills it too. */
  if (d->guard.pid > 0) mig_guard_release(&d->guard);
  if (mig_guard_arm(&d->guard, undo, d, -1, err) < 0) goto fail;
  struct mig_restore rr = {.netns_path = d->net ? d->netns_pin : NULL,
                           .ctx = d->ctx,
                           .id = d->id,
                           .bundle = d->bundle,
                           .images = img,
                           .work = work,
                           .timeout = d->o->criu_timeout,
                           .lazy = d->lazy,
                           .paused = !d->lazy};
  int r = mig_child_start(&d->restore, mig_restore_fn, &rr, stdio, err);
  for (int i = 0; i < 3; i++)
    if (stdio[i] >= 0) close(stdio[i]), stdio[i] = -1;
  if (r < 0) goto fail;
  struct mig_pump p;
  mig_pump_init(&p, &d->c, ps0);
  p.on_tick = restore_tick;
  p.on_frame = restore_frame;
  p.arg = d;
  p.extra_fd = d->restore.pidfd;
  d->pump = &p;
  r = mig_pump_run(&p, err);
  d->pump = NULL;
  d->image_bytes += p.from_peer;
  mig_pump_free(&p);
  if (r < 0) return -1;
  mig_guard_release(&d->guard);
  /* Cold: restored frozen, so that nothing ran here before the source gave the
   * container up (it may still restore its own copy until COMMIT).  Now it runs. */
  if (!d->lazy && silo_resume(d->ctx, d->id, err) < 0)
    return silo_err_wrap(err, "resume the restored container (it stays paused here)");
  /* Cold: up only now that the source gave it up (a paused container's kernel
   * would acknowledge data its source copy, restored after an abort, never saw). */
  if (d->net && !d->lazy && network_switch(d, err) < 0) return -1;
  return mig_send_json(&d->c, MIG_DONE, json_pack("{s:I}", "pages", (json_int_t)p.from_peer), err);
fail:
  for (int i = 0; i < 3; i++)
    if (stdio[i] >= 0) close(stdio[i]);
  if (ps0 >= 0) close(ps0);
  return -1;
}

/* ---- one session ---- */

static void
rollback(struct dst *d)
{
  /* the daemon first: a lazy restore may be waiting on it */
  if (d->daemon.pid > 0) mig_child_kill(&d->daemon);
  mig_child_close(&d->daemon);
  if (d->restore.pid > 0 && !d->restore.reaped) {
    struct silo_error e = {0};
    mig_child_wait(&d->restore, -1, &e); /* a half-done restore cleans up after itself */
  }
  mig_child_close(&d->restore);
  network_move_undo(d->net); /* unless adopted: then the guardian's delete takes it */
  if (d->guard.pid > 0) {
    mig_guard_fire(&d->guard);
  } else if (d->bfd >= 0) {
    fs_rm_rf_at(d->bfd, ".migrate", NULL);
  }
  if (d->bundle && d->bundle_created) {
    _cleanup_close_ int pfd = open(bundle_dir(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) fs_rm_rf_at(pfd, d->id, NULL);
  }
}

static int
session(struct dst *d, struct silo_error *err)
{
  json_t *j = NULL;
  if (mig_recv_json(&d->c, MIG_OFFER, &j, err) < 0) return -1;
  int r = accept_offer(d, j, err);
  json_decref(j);
  if (r < 0) return -1;
  for (;;) {
    struct mig_frame f;
    if (mig_recv(&d->c, &f, err) < 0) return -1;
    switch (f.type) {
    case MIG_MANIFEST:
    case MIG_MANIFEST_END:
      if (mig_sync_rootfs_recv(&d->c, &f, d->rootfd, &d->known, &d->rootfs_bytes, err) < 0)
        return -1;
      break;
    case MIG_FILE: {
      _cleanup_free_ char *tree = NULL;
      bool spilled = false;
      int rr = mig_recv_tree(&d->c, d->imgfd, d->imgfd == d->migfd ? -1 : d->migfd, &spilled, &f,
                             &tree, &d->image_bytes, err);
      if (spilled) { /* over the staging tmpfs's cap: the trees on disk from now on */
        mig_stage_close(&d->stage);
        d->imgfd = d->migfd, d->imgdir = d->migdir;
      }
      if (rr < 0) return -1;
      break;
    }
    case MIG_RESTORE: {
      j = mig_frame_json(&f);
      r = j ? do_restore(d, j, err) : silo_err(err, EPROTO, "bad RESTORE");
      if (j) json_decref(j);
      return r;
    }
    case MIG_ERROR:
    case MIG_ABORT:
      return mig_frame_error(&f, d->c.peer, err);
    default:
      return silo_err(err, EPROTO, "%s sent %s unexpectedly", d->c.peer, mig_type_name(f.type));
    }
  }
}

static void
session_free(struct dst *d)
{
  mig_conn_close(&d->c);
  mig_manifest_free(&d->known);
  network_move_free(d->net);
  d->net = NULL;
  free(d->netns_pin);
  d->netns_pin = NULL;
  free(d->id), free(d->bundle), free(d->migdir), free(d->rootfs), free(d->strategy);
  d->id = d->bundle = d->migdir = d->rootfs = d->strategy = NULL;
  d->bundle_created = d->lazy = d->restored = d->committed = d->daemon_done = false;
  d->rootfs_bytes = d->image_bytes = 0;
  memset(&d->restore, 0, sizeof d->restore);
  memset(&d->daemon, 0, sizeof d->daemon);
  d->restore.pidfd = d->restore.errfd = d->daemon.pidfd = d->daemon.errfd = -1;
  d->guard.pid = d->guard.fd = -1;
  if (d->ps_local >= 0) close(d->ps_local);
  d->ps_local = -1;
  int *fds[] = {&d->bfd, &d->rootfd, &d->migfd};
  for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
    if (*fds[i] >= 0) close(*fds[i]);
    *fds[i] = -1;
  }
  mig_stage_close(&d->stage); /* the kernel frees it once CRIU is done with it too */
  d->imgfd = -1;
  d->imgdir = NULL;
}

/* One authenticated peer's migration (d->c): 0 migrated, -1 failed. */
static int
serve(struct dst *d, struct silo_error *err)
{
  const char *peer = d->c.peer;
  d->t0 = time_mono_s();
  d->c.idle_ms = (d->o->idle_timeout ? d->o->idle_timeout : 30) * 1000;
  int r = session(d, err);
  if (r < 0) {
    struct silo_error e2 = {0};
    if (d->c.fd >= 0) {
      d->c.idle_ms = 2000;
      mig_send_json(&d->c, MIG_ERROR, json_pack("{s:s}", "message", err->msg), &e2);
    }
    rollback(d);
    info("%s: migration of `%s` failed: %s", peer, d->id ? d->id : "?", err->msg);
  } else {
    info("%s: container `%s` runs here (%s: rootfs %.1f MiB, images and pages %.1f MiB, restore "
         "%.3f s, %.3f s in all)",
         peer, d->id, d->strategy, (double)d->rootfs_bytes / 1048576.0,
         (double)d->image_bytes / 1048576.0, d->t_restore, time_mono_s() - d->t0);
    if (d->bfd >= 0) fs_rm_rf_at(d->bfd, ".migrate", NULL);
  }
  if (r < 0 && d->id) silo_err_wrap(err, "receive `%s`", d->id);
  session_free(d);
  return r;
}

static void
refused(void *arg, const char *peer, const char *why)
{
  (void)arg;
  info("refused %s: %s", peer, why);
}

int
silo_migrate_receive(struct silo_context *ctx, const struct silo_migrate_receive_opts *o,
                     struct silo_error *err)
{
  struct dst d = {.ctx = ctx,
                  .o = o,
                  .c.fd = -1,
                  .ps_local = -1,
                  .bfd = -1,
                  .rootfd = -1,
                  .migfd = -1,
                  .imgfd = -1,
                  .stage.fd = -1};
  session_free(&d);
  if (!o->listen) return silo_err(err, EINVAL, "--listen ADDR:PORT is required");
  /* Its restore helpers create containers: from the sealed copy already, should
   * one need it (cloned.c), before the port is bound */
  if (cloned_ensure_sealed(err) < 0) return -1;
  if (mig_token_load(o->token_file, &d.tok, err) < 0) return -1;
  /* Credentials (the PSK, or the certificates) are checked before listening:
   * a bad file is an error of the command, not of every peer */
  struct mig_tls_files tf = {o->tls_cert, o->tls_key, o->tls_ca};
  struct mig_tls_creds *tls = NULL;
  if (mig_tls_creds_load(&d.tok, &tf, true, &tls, err) < 0) {
    explicit_bzero(&d.tok, sizeof d.tok);
    return -1;
  }
  mig_catch_signals();
  mig_interrupted = 0;
  _cleanup_close_ int lfd = mig_listen(o->listen, err);
  if (lfd < 0) {
    mig_tls_creds_free(tls);
    return -1;
  }
  info("listening on %s (bundles in %s)", o->listen, bundle_dir(&d));
  /* Unauthenticated peers are handled side by side, each with a hard deadline and
   * small frames (lib/migrate/listen.c); one authenticated migration at a time. */
  struct mig_listener l;
  mig_listener_init(&l, lfd);
  l.refused = refused;
  l.creds = tls;
  int ret = 0;
  for (;;) {
    struct silo_error lerr = {0};
    if (mig_listener_next(&l, &d.tok, &d.c, &lerr) < 0) {
      if (!mig_interrupted) *err = lerr, ret = -1;
      break;
    }
    struct silo_error serr = {0};
    int r = serve(&d, &serr);
    if (!o->keep_listening) {
      if (r < 0) *err = serr, ret = -1;
      break;
    }
    if (mig_interrupted) break;
  }
  mig_listener_close(&l);
  mig_tls_creds_free(tls);
  explicit_bzero(&d.tok, sizeof d.tok);
  return ret;
}
