/* silo: `migrate`, the source side.
 *
 * The steps and the failure rules are described in lib/migrate/migrate.c, which
 * runs them.  Here: the checks, the handshake, the rootfs, the pre-dumps, the cold
 * switch and the fallback, and the pieces the postcopy switch (lib/migrate/lazy.c)
 * uses too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "lib/base/base.h"
#include "lib/migrate/migrate.h"
#include "lib/network/network.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* "<error>; <what happened then>" */
int src_err_then(struct silo_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int
src_err_then(struct silo_error *err, const char *fmt, ...)
{
  if (err->errnum) { /* its text goes before what follows */
    char buf[SILO_ERROR_MSG_MAX];
    silo_err_str(err, buf, sizeof buf);
    snprintf(err->msg, sizeof err->msg, "%s", buf);
    err->errnum = 0;
  }
  size_t n = strlen(err->msg);
  if (n + 3 < sizeof err->msg) {
    memcpy(err->msg + n, "; ", 3);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n + 2, sizeof err->msg - n - 2, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* ---- progress ---- */

static void
show_progress(void *arg)
{
  struct src *s = arg;
  if (!s->o->progress) return;
  double now = time_mono_s();
  uint64_t b = s->c.sent;
  double rate = now > s->rate_at ? (double)(b - s->rate_bytes) / (now - s->rate_at) : 0;
  if (now - s->rate_at > 1) s->rate_at = now, s->rate_bytes = b;
  fprintf(stderr, "\r\033[K[%s] %s: %.1f MiB sent (%.0f MiB/s), %.1f s", s->rep->strategy, s->phase,
          (double)s->c.sent / 1048576.0, rate / 1048576.0, now - s->t0);
  fflush(stderr);
}

void src_progress_line(struct src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void
src_progress_line(struct src *s, const char *fmt, ...)
{
  if (!s->o->progress) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "\r\033[K[%s] ", s->rep->strategy);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---- the container ---- */

int
src_load_container(struct src *s, struct silo_error *err)
{
  _cleanup_close_ int rootfd = state_root_open(s->ctx, err);
  if (rootfd < 0 || state_validate_id(s->o->id, err) < 0) return -1;
  _cleanup_close_ int dirfd = state_dir_lock(rootfd, s->o->id, err);
  if (dirfd < 0 || state_read(dirfd, &s->st, err) < 0) return -1;
  enum oci_status status = state_status(dirfd, &s->st);
  if (status != OCI_STATUS_RUNNING)
    return silo_err(err, EINVAL, "the container is %s: only a running container migrates",
                    oci_status_name(status));
  if (!s->st.detached)
    return silo_err(err, EINVAL,
                    "the container runs in the foreground of a `silo run`: only "
                    "detached containers (create/start, run -d) migrate");
  /* silo's own network moves with the container: its lease goes in the OFFER. */
  if (network_move_offer(dirfd, &s->net, err) < 0) return -1;
  if (fs_read_file_at(dirfd, "config.json", &s->config, &s->config_len, err) < 0) return -1;
  struct oci_config *cfg = oci_config_parse(s->config, s->config_len, err);
  if (!cfg) return silo_err_wrap(err, "config.json of the container");
  bool tty = cfg->process && cfg->process->terminal;
  s->readonly_root = cfg->root_readonly;
  oci_config_free(cfg);
  if (tty) return silo_err(err, ENOTSUP, "containers with a terminal cannot migrate");
  return 0;
}

bool
src_container_running(struct src *s)
{
  struct silo_error e = {0};
  _cleanup_close_ int rootfd = state_root_open(s->ctx, &e);
  _cleanup_close_ int dirfd = rootfd >= 0 ? state_dir_lock(rootfd, s->st.id, &e) : -1;
  struct silo_state st;
  if (dirfd < 0 || state_read(dirfd, &st, &e) < 0) return false;
  bool running = state_status(dirfd, &st) == OCI_STATUS_RUNNING;
  state_free(&st);
  return running;
}

/* ---- helpers: CRIU in a child ---- */

/* The downtime counts from the freeze: silo stops the tasks at CRIU's "pre-dump"
 * notification, and the dump helper records the time there (*frozen_at).  What
 * comes before it (the fork, CRIU's start) is not downtime.  Without that record
 * (no notification came), CRIU's log says when it began "Dumping processes",
 * relative to its own start. */
void
src_adjust_freeze(struct src *s, const char *work)
{
  if (s->frozen_at && *s->frozen_at > 0) {
    silo_log_debug("migrate: the tasks froze %.3f s after the dump helper started",
                   *s->frozen_at - s->t_freeze);
    s->t_freeze = *s->frozen_at;
    return;
  }
  _cleanup_free_ char *path = xasprintf("%s/dump.log", work);
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  char line[512];
  double t;
  while (f && fgets(line, sizeof line, f)) {
    if (!strstr(line, "Dumping processes")) continue;
    if (sscanf(line, "(%lf)", &t) == 1 && t > 0 && t < 10) {
      s->t_freeze += t;
      silo_log_debug("migrate: CRIU froze the container %.3f s after it started", t);
    }
    return;
  }
}

/* Whether the container's network namespace holds a TCP socket that is not
 * listening (one a dump must lock: CRIU's network lock keeps the peer from
 * seeing a reset while the connection is in flight).  Unsure: true. */
static bool
netns_has_tcp(pid_t pid)
{
  static const char *const files[] = {"tcp", "tcp6"};
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    _cleanup_free_ char *path = xasprintf("/proc/%d/net/%s", (int)pid, files[i]);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f) {
      if (errno == ENOENT && i == 1) continue; /* no IPv6 */
      return true;
    }
    char line[512];
    unsigned st;
    if (!fgets(line, sizeof line, f)) continue; /* the header */
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "%*s %*s %*s %x", &st) == 1 && st != 0x0A) return true;
  }
  return false;
}

int
src_dump_fn(void *arg, struct silo_error *err)
{
  struct dump_args *a = arg;
  struct silo_checkpoint_opts co = {
      .id = a->s->st.id, .status_fd = a->status_fd, .pre_dump = a->pre, .parent_path = a->parent};
  co.criu.image_path = a->images;
  co.criu.work_path = a->work;
  co.criu.tcp_established = !a->pre;
  if (!a->pre) co.frozen_at = a->s->frozen_at;
  /* Checked the moment before the freeze: a connection made in between is dumped
   * (--tcp-established) without the lock. */
  if (!a->pre && !netns_has_tcp(a->s->st.pid)) {
    co.criu.no_network_lock = true;
    silo_log_debug("migrate: no TCP connection: no network lock");
  }
  co.criu.timeout = a->s->o->criu_timeout;
  co.ext_netns = a->s->net != NULL; /* re-created by the receiver, not dumped */
  if (a->lazy) {
    co.criu.lazy_pages = true;
    co.page_server = a->ps;
  }
  return silo_checkpoint(a->s->ctx, &co, err);
}

static int
child_tick(void *arg, struct silo_error *err)
{
  (void)err;
  return mig_child_exited(&((struct src *)arg)->dump) ? 1 : 0;
}

int
src_frame_unexpected(void *arg, const struct mig_frame *f, struct silo_error *err)
{
  struct src *s = arg;
  if (f->type == MIG_ERROR || f->type == MIG_ABORT) return mig_frame_error(f, s->c.peer, err);
  return silo_err(err, EPROTO, "%s sent %s unexpectedly", s->c.peer, mig_type_name(f->type));
}

/* Waits for the dump helper, keeping the connection alive.  A broken connection is
 * recorded (s->conn_broken), the helper is still waited for: its result counts. */
static int
run_dump(struct src *s, struct dump_args *a, struct silo_error *err)
{
  const int null_stdio[3] = {-1, -1, -1};
  if (mig_child_start(&s->dump, src_dump_fn, a, null_stdio, err) < 0) return -1;
  struct mig_pump p;
  mig_pump_init(&p, &s->c, -1);
  p.on_tick = child_tick;
  p.on_frame = src_frame_unexpected;
  p.arg = s;
  p.extra_fd = s->dump.pidfd;
  if (!s->conn_broken && mig_pump_run(&p, &s->conn_err) < 0) s->conn_broken = true;
  mig_pump_free(&p);
  int r = mig_child_wait(&s->dump, -1, err);
  mig_child_close(&s->dump);
  return r;
}

char *
src_work_path(struct src *s, const char *name)
{
  return xasprintf("%s/%s", s->work, name);
}

char *
src_images_path(struct src *s, const char *name)
{
  return xasprintf("%s/%s", s->images ? s->images : s->work, name);
}

/* ---- the local restore (fallback, guardian) ---- */

void
src_remove_work(const char *work)
{
  _cleanup_free_ char *parent = xstrdup(work);
  *strrchr(parent, '/') = '\0';
  _cleanup_close_ int pfd = open(*parent ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd >= 0) fs_rm_rf_at(pfd, strrchr(work, '/') + 1, NULL);
}

void
src_net_quiet(struct src *s, bool quiet)
{
  if (!s->net) return;
  struct silo_error e = {0};
  _cleanup_close_ int rootfd = state_root_open(s->ctx, &e);
  _cleanup_close_ int dirfd =
      rootfd >= 0 ? openat(rootfd, s->st.id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
  if (dirfd >= 0 && network_move_quiet(dirfd, quiet, &e) == 0) return;
  silo_log_warn("migrate `%s`: %s: %s", s->st.id, quiet ? "veth down" : "veth up",
                e.msg[0] ? e.msg : strerror(errno));
}

/* silo's own network, which the cold dump's delete took down: made again as a
 * receiver makes it (same lease, namespace, veth), for the local restore. */
static int
local_network(struct src *s, struct network_move **m, char **pin, struct silo_error *err)
{
  _cleanup_close_ int rootfd = state_root_open(s->ctx, err);
  if (rootfd < 0) return -1;
  struct oci_config *cfg = oci_config_parse(s->config, s->config_len, err);
  if (!cfg) return -1;
  *pin = src_work_path(s, "netns");
  int r = network_move_in(rootfd, s->st.id, cfg, s->net, *pin, m, err);
  oci_config_free(cfg);
  if (r == 0) r = network_move_up(*m, err);
  return r < 0 ? silo_err_wrap(err, "the container's network") : 0;
}

static int
local_restore(struct src *s, struct silo_error *err)
{
  _cleanup_free_ char *images = src_images_path(s, "final"),
                      *work = src_work_path(s, "work-restore");
  _cleanup_free_ char *pin = NULL;
  struct network_move *net = NULL;
  if (s->net && local_network(s, &net, &pin, err) < 0) {
    network_move_free(net);
    return -1;
  }
  struct mig_restore r = {.ctx = s->ctx,
                          .id = s->st.id,
                          .bundle = s->st.bundle,
                          .images = images,
                          .work = work,
                          .timeout = s->o->criu_timeout,
                          .netns_path = pin};
  int fds[3];
  mig_stdio_reopen(images, fds);
  struct mig_child ch;
  int ret = mig_child_start(&ch, mig_restore_fn, &r, fds, err);
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0) close(fds[i]);
  if (ret == 0) {
    ret = mig_child_wait(&ch, -1, err);
    mig_child_close(&ch);
  }
  if (net && ret == 0) {
    _cleanup_close_ int rootfd = state_root_open(s->ctx, err);
    _cleanup_close_ int dirfd = rootfd >= 0 ? state_dir_lock(rootfd, s->st.id, err) : -1;
    if (dirfd < 0 || network_move_adopt(net, dirfd, err) < 0)
      ret = silo_err_wrap(err, "the restored container's network");
    struct silo_error e = {0};
    if (ret == 0 && network_move_announce(net, &e) < 0) silo_log_warn("migrate: %s", e.msg);
  }
  network_move_undo(net); /* not adopted: what was made goes */
  network_move_free(net);
  return ret;
}

static int
guard_restore(void *arg)
{
  struct src *s = arg;
  struct silo_error e = {0};
  if (local_restore(s, &e) < 0) {
    silo_log_error("migrate `%s`: silo was gone before the destination confirmed, and the "
                   "local restore failed: %s (images in %s)",
                   s->st.id, e.msg, s->work);
    return -1;
  }
  silo_log_warn("migrate `%s`: silo was gone before the destination confirmed: restored here",
                s->st.id);
  src_remove_work(s->work);
  return 0;
}

void
src_tell_abort(struct src *s, const char *why)
{
  if (s->c.fd < 0 || s->conn_broken) return;
  struct silo_error e = {0};
  unsigned idle = s->c.idle_ms;
  s->c.idle_ms = 2000;
  mig_send_json(&s->c, MIG_ABORT, json_pack("{s:s}", "message", why), &e);
  s->c.idle_ms = idle;
}

/* The final dump is done and the destination did not confirm: back to the source. */
static int
fall_back(struct src *s, struct silo_error *err)
{
  src_tell_abort(s, err->msg);
  mig_conn_close(&s->c);
  /* The receiver deletes an unconfirmed copy as soon as the connection goes. */
  usleep(500 * 1000);
  mig_guard_release(&s->guard);
  struct silo_error rerr = {0};
  if (local_restore(s, &rerr) < 0) {
    s->keep_work = true;
    return src_err_then(err,
                        "and the container could not be restored on the source (%s): its "
                        "images are in %s/final",
                        rerr.msg, s->work);
  }
  s->rep->resumed_on_source = true;
  return src_err_then(err, "the container was restored on the source");
}

/* ---- the steps ---- */

int
src_handshake(struct src *s, struct silo_error *err)
{
  struct mig_token tok;
  if (mig_token_load(s->o->token_file, &tok, err) < 0) return -1;
  struct mig_tls_files tf = {s->o->tls_cert, s->o->tls_key, s->o->tls_ca};
  if (mig_tls_creds_load(&tok, &tf, false, &s->tls, err) < 0) {
    explicit_bzero(&tok, sizeof tok);
    return -1;
  }
  s->phase = "connecting";
  int fd = mig_connect(s->o->dest, 10000, err);
  if (fd < 0) return -1;
  mig_conn_init(&s->c, fd);
  s->c.idle_ms = (s->o->idle_timeout ? s->o->idle_timeout : 30) * 1000;
  snprintf(s->c.peer, sizeof s->c.peer, "%s", s->o->dest);
  s->c.progress = show_progress;
  s->c.progress_arg = s;
  /* TLS 1.3 before anything else: nothing about the container (not even the
   * HELLO) leaves before the receiver proved it holds the PSK or a certificate of
   * the CA, within the receiver's own deadline */
  int r = mig_tls_start(&s->c, s->tls, err);
  if (r == 0) r = mig_tls_handshake(&s->c, MIG_AUTH_DEADLINE_MS, err);
  if (r == 0) r = mig_auth_source(&s->c, &tok, err);
  explicit_bzero(&tok, sizeof tok);
  if (r < 0) return -1;
  struct utsname u;
  uname(&u);
  json_t *offer =
      json_pack("{s:s, s:s, s:s%, s:s, s:s, s:b, s:b}", "id", s->st.id, "strategy",
                s->rep->strategy, "config", s->config, s->config_len, "arch", u.machine, "silo",
                SILO_VERSION, "rootfs_readonly", s->readonly_root, "lazy", s->lazy);
  if (s->net) json_object_set(offer, "network", s->net);
  json_t *acc = NULL;
  if (mig_send_json(&s->c, MIG_OFFER, offer, err) < 0 ||
      mig_recv_json(&s->c, MIG_ACCEPT, &acc, err) < 0)
    return -1;
  /* What the destination made of the network: the address, the ports it publishes. */
  json_t *net = json_object_get(acc, "network");
  const char *ip = json_string_value(json_object_get(net, "ip"));
  if (s->net && ip) {
    char *ports = xstrdup("");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(net, "ports"), i, p)
    {
      char *n =
          xasprintf("%s%s%s", ports, i ? "," : "", json_is_string(p) ? json_string_value(p) : "?");
      free(ports);
      ports = n;
    }
    snprintf(s->rep->network, sizeof s->rep->network,
             "%s, ports published there: %s, left out: %lld", ip, ports[0] ? ports : "none",
             (long long)json_integer_value(json_object_get(net, "ports_dropped")));
    free(ports);
  }
  json_decref(acc);
  return 0;
}

int
src_sync_rootfs(struct src *s, bool second, struct silo_error *err)
{
  struct mig_manifest m = {0};
  s->phase = second ? "rootfs (changes)" : "rootfs";
  if (mig_manifest_build(s->st.rootfs, second ? &s->man : NULL, &m, err) < 0) return -1;
  uint64_t bytes = 0;
  int r = mig_sync_rootfs_send(&s->c, s->st.rootfs, &m, &bytes, err);
  s->rep->rootfs_bytes += bytes;
  mig_manifest_free(&s->man);
  s->man = m;
  if (r == 0)
    src_progress_line(s, "rootfs%s: %zu entries, %.1f MiB of files sent",
                      second ? " (changes)" : "", json_object_size(m.entries),
                      (double)bytes / 1048576.0);
  return r;
}

int
src_send_images(struct src *s, const char *name, struct silo_error *err)
{
  _cleanup_free_ char *dir = src_images_path(s, name);
  uint64_t bytes = 0, pages = 0;
  s->phase = "images";
  if (mig_send_tree(&s->c, dir, name, &bytes, &pages, err) < 0) return -1;
  s->rep->page_bytes += pages;
  s->rep->image_bytes += bytes - pages;
  return 0;
}

/* Pre-dump passes until the dirty set stops shrinking (or max); returns the count. */
int
src_predump(struct src *s, unsigned max, struct silo_error *err)
{
  double prev_start = 0;
  uint64_t prev = 0;
  for (unsigned i = 1; i <= max; i++) {
    char name[32], parent[40];
    snprintf(name, sizeof name, "pre-%u", i);
    snprintf(parent, sizeof parent, "../pre-%u", i - 1);
    _cleanup_free_ char *images = src_images_path(s, name), *work = src_work_path(s, "work-pre");
    struct dump_args a = {.s = s,
                          .images = images,
                          .work = work,
                          .pre = true,
                          .parent = i > 1 ? parent : NULL,
                          .status_fd = -1};
    double start = time_mono_s();
    s->phase = "pre-dump";
    if (run_dump(s, &a, err) < 0) return silo_err_wrap(err, "pre-dump %u", i);
    if (s->conn_broken) return silo_err(err, s->conn_err.errnum, "%s", s->conn_err.msg);
    uint64_t bytes = mig_pages_size(images);
    if (src_send_images(s, name, err) < 0) return -1;
    /* pass i holds what was dirtied since pass i-1 cleared the soft-dirty bits */
    double window = i > 1 ? start - prev_start : 0;
    if (i <= SILO_MIGRATE_MAX_ITER) {
      s->rep->iter[i - 1].bytes = bytes;
      s->rep->iter[i - 1].seconds = window;
    }
    s->rep->iterations = i;
    if (i == 1)
      src_progress_line(s, "pass 1: %.1f MiB of pages (all memory)", (double)bytes / 1048576.0);
    else
      src_progress_line(s, "pass %u: %.1f MiB dirtied in %.2f s (%.1f MiB/s)", i,
                        (double)bytes / 1048576.0, window, (double)bytes / 1048576.0 / window);
    free(s->parent);
    s->parent = xasprintf("../%s", name);
    bool small = bytes <= (1u << 20);
    bool not_shrinking = i > 1 && (double)bytes >= 0.9 * (double)prev;
    if (small || not_shrinking || s->o->strategy == SILO_MIGRATE_HYBRID) break;
    prev = bytes;
    prev_start = start;
  }
  return 0;
}

/* Waits for RESTORED (and then DONE) in the pump; postcopy passes the pages. */
int
src_switch_frame(void *arg, const struct mig_frame *f, struct silo_error *err)
{
  struct src *s = arg;
  if (f->type == MIG_RESTORED && !s->restored) {
    s->restored = true;
    if (s->lazy) { /* cold: it runs once the receiver has the COMMIT (DONE) */
      s->rep->downtime_s = time_mono_s() - s->t_freeze;
      src_progress_line(s, "running on %s after %.3f s of downtime", s->c.peer, s->rep->downtime_s);
    }
    /* From here the container is the destination's: no local restore any more
     * (postcopy: the frozen tasks stay until every page has moved). */
    if (!s->lazy) mig_guard_release(&s->guard);
    mig_queue(&s->c, MIG_COMMIT, "{}", 2);
    s->phase = "pages";
    return s->lazy ? 0 : 1;
  }
  if (f->type == MIG_DONE && s->restored) {
    s->dest_done = true; /* postcopy: every page is there, the tunnel is over */
    if (s->lazy_shared) s->lazy_shared->done = 1;
    if (s->pump) s->pump->peer_eof = true;
    return 1;
  }
  return src_frame_unexpected(arg, f, err);
}

int
src_cold_switch(struct src *s, struct silo_error *err)
{
  _cleanup_free_ char *images = src_images_path(s, "final"), *work = src_work_path(s, "work-final");
  struct dump_args a = {
      .s = s, .images = images, .work = work, .parent = s->parent, .status_fd = -1};
  /* The veth down from the freeze on: nothing reaches the dumped sockets, and
   * once the dump killed the tasks no reset leaves the namespace before the
   * delete removes it (a fallback makes the network again, up). */
  src_net_quiet(s, true);
  s->t_freeze = time_mono_s();
  s->phase = "dump";
  if (run_dump(s, &a, err) < 0) {
    /* CRIU resumes the tasks when a dump fails */
    if (src_container_running(s)) s->rep->resumed_on_source = true;
    if (s->rep->resumed_on_source) src_net_quiet(s, false);
    src_tell_abort(s, err->msg);
    return silo_err_wrap(err, "dump");
  }
  src_adjust_freeze(s, work);
  s->rep->dump_s = time_mono_s() - s->t_freeze;
  silo_log_debug("migrate: dump done after %.3f s", s->rep->dump_s);
  struct silo_error gerr = {0};
  if (mig_guard_arm(&s->guard, guard_restore, s, -1, &gerr) < 0)
    silo_log_warn("migrate: no guardian: %s", gerr.msg);
  if (s->conn_broken) {
    *err = s->conn_err;
    return fall_back(s, err);
  }
  if ((!s->readonly_root && src_sync_rootfs(s, true, err) < 0) ||
      src_send_images(s, "final", err) < 0 ||
      mig_send_json(&s->c, MIG_RESTORE,
                    json_pack("{s:s, s:b, s:o}", "images", "final", "lazy", 0, "stdio",
                              mig_stdio_now(images)),
                    err) < 0) {
    mig_explain_failure(&s->c, s->c.peer, err);
    return fall_back(s, err);
  }
  s->phase = "restore";
  s->t_restore = time_mono_s();
  silo_log_debug("migrate: images sent, RESTORE at %.3f s after the freeze",
                 time_mono_s() - s->t_freeze);
  struct mig_pump p;
  mig_pump_init(&p, &s->c, -1);
  p.on_frame = src_switch_frame;
  p.arg = s;
  int r = mig_pump_run(&p, err);
  mig_pump_free(&p);
  if (r < 0 && !s->restored) return fall_back(s, err);
  if (r < 0) return -1;
  /* COMMIT is queued: DONE confirms the receiver has it. */
  struct mig_frame f;
  if (mig_flush(&s->c, err) < 0 || mig_recv(&s->c, &f, err) < 0 || f.type != MIG_DONE) {
    s->keep_work = true;
    if (f.type == MIG_ERROR || f.type == MIG_ABORT) mig_frame_error(&f, s->c.peer, err);
    return src_err_then(err,
                        "the destination restored the container, but did not confirm the "
                        "commit: check `%s` there; the images stay in %s/final",
                        s->st.id, s->work);
  }
  s->rep->downtime_s = time_mono_s() - s->t_freeze;
  src_progress_line(s, "running on %s after %.3f s of downtime", s->c.peer, s->rep->downtime_s);
  return 0;
}
