/* silo: the postcopy (and hybrid) switch of `silo migrate`.
 *
 * CRIU dumps everything but the memory (--lazy-pages) and then serves the pages
 * from the frozen tasks, its page server listening on the source's 127.0.0.1.
 * silo connects to it and carries its traffic through the tunnel (lib/migrate/pump.c)
 * to the receiver's lazy-pages daemon.  RESTORED ends the downtime; DONE (every
 * page is there) lets CRIU see the end of the transfer, after which it kills the
 * frozen tasks and silo_checkpoint deletes the container here.  Any failure
 * before DONE makes the lazy dump fail instead, which resumes the tasks here,
 * after the receiver was told to delete its copy (or lost the connection).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/migrate/migrate.h"
#include "lib/silo.h"

/* Postcopy, silo gone while CRIU serves pages: a clean EOF would make CRIU kill the
 * tasks as if every page had moved.  Before DONE the lazy dump is made to fail
 * (CRIU resumes the tasks here; the receiver deletes its copy as the connection
 * ends), after it CRIU gets its EOF. */
static int
guard_lazy(void *arg)
{
  struct src *s = arg;
  if (s->lazy_shared->done) {
    shutdown(4, SHUT_WR);
    char buf[4096];
    while (read(4, buf, sizeof buf) > 0) {
    }
  } else {
    mig_poison_fd(4, s->lazy_shared->written);
    src_net_quiet(s, false);
    silo_log_warn("migrate `%s`: silo was gone before every page had moved: the container "
                  "resumes on the source",
                  s->st.id);
  }
  src_remove_work(s->work); /* CRIU is done with it once it closed the connection */
  return 0;
}

static int
lazy_tick(void *arg, struct silo_error *err)
{
  struct src *s = arg;
  if (!mig_child_exited(&s->dump)) return 0;
  if (s->pump) s->pump->extra_fd = -1; /* its pidfd stays readable */
  if (mig_child_wait(&s->dump, 0, err) < 0) {
    /* CRIU failed, and resumed the tasks here: the destination's copy must go. */
    silo_err_wrap(err, "the lazy dump failed");
    return -1;
  }
  s->dump_ok = true; /* every page served: the container is the destination's */
  return 1;
}

/* Did the lazy dump fail for want of room on the staging tmpfs?  It is full,
 * or CRIU said so (it may have removed what it could not finish). */
static bool
stage_full(struct src *s, const char *work)
{
  if (s->stage.fd < 0) return false;
  if (!mig_stage_room(s->stage.fd, 0)) return true;
  struct silo_error e = {0};
  _cleanup_close_ int wfd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_free_ char *log = NULL;
  size_t len;
  return wfd >= 0 && fs_read_file_at(wfd, "dump.log", &log, &len, &e) == 0 &&
         strstr(log, "No space left on device");
}

int
src_postcopy_switch(struct src *s, struct silo_error *err)
{
  /* the page server (CRIU, lazy dump) on the source's loopback */
  int port = mig_free_port(err);
  if (port < 0) return -1;
  int sp[2];
  if (pipe2(sp, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
  _cleanup_free_ char *images = src_images_path(s, "final"), *work = src_work_path(s, "work-final");
  struct silo_error e = {0};
  _cleanup_close_ int dfd = ckpt_open_dir(images, true, &e);
  json_t *man = json_pack("{s:i, s:s, s:o, s:o}", "format", 1, "id", s->st.id, "stdio",
                          ckpt_describe_stdio(s->st.pid, NULL), "config", json_null());
  _cleanup_free_ char *txt = json_dumps(man, JSON_INDENT(2));
  json_decref(man);
  if (dfd < 0 || fs_write_file_atomic(dfd, CKPT_MANIFEST, txt, strlen(txt), err) < 0) {
    close(sp[0]), close(sp[1]);
    return dfd < 0 ? silo_err(err, e.errnum, "%s", e.msg) : -1;
  }
  struct dump_args a = {.s = s,
                        .images = images,
                        .work = work,
                        .parent = s->parent,
                        .lazy = true,
                        .status_fd = sp[1]};
  snprintf(a.ps, sizeof a.ps, "127.0.0.1:%d", port);
  const int null_stdio[3] = {-1, -1, -1};
  /* The veth down from the freeze on: nothing reaches the frozen sockets, no
   * reset leaves the namespace; up again if the tasks resume here. */
  src_net_quiet(s, true);
  s->t_freeze = time_mono_s();
  s->phase = "dump";
  int r = mig_child_start(&s->dump, src_dump_fn, &a, null_stdio, err);
  close(sp[1]);
  if (r < 0) return close(sp[0]), -1;
  /* status-ready: everything but the memory is dumped, the page server listens */
  struct pollfd pf[2] = {{.fd = sp[0], .events = POLLIN}, {.fd = s->dump.pidfd, .events = POLLIN}};
  while (poll(pf, 2, 1000) >= 0 && !pf[0].revents && !pf[1].revents && !mig_interrupted)
    mig_queue(&s->c, MIG_PING, NULL, 0), mig_try_flush(&s->c, &e);
  char zero;
  bool ready = read(sp[0], &zero, 1) == 1;
  close(sp[0]);
  if (ready) src_adjust_freeze(s, work);
  s->rep->dump_s = time_mono_s() - s->t_freeze;
  silo_log_debug("migrate: lazy dump ready after %.3f s", s->rep->dump_s);
  if (!ready) {
    r = mig_child_wait(&s->dump, -1, err);
    mig_child_close(&s->dump);
    if (stage_full(s, work)) {
      /* The images did not fit the staging tmpfs (its cap, MIG_STAGE_MAX): CRIU
       * failed and resumed the tasks; dumped again, on disk (the new freeze is
       * the downtime's start). */
      silo_log_warn("migrate: postcopy's images over the staging tmpfs's limit: dumped again "
                    "on disk");
      src_net_quiet(s, false);
      mig_stage_close(&s->stage);
      s->images = NULL;
      silo_err_clear(err);
      return src_postcopy_switch(s, err);
    }
    return r < 0 ? silo_err_wrap(err, "dump") : silo_err(err, EPROTO, "dump: no status");
  }
  int ps = -1;
  for (int i = 0; i < 100 && ps < 0; i++) {
    ps = mig_connect(a.ps, 2000, &e);
    if (ps < 0) usleep(20000);
  }
  struct mig_pump p;
  mig_pump_init(&p, &s->c, ps);
  p.on_frame = src_switch_frame;
  p.on_tick = lazy_tick;
  p.arg = s;
  p.extra_fd = s->dump.pidfd;
  p.eof_hold = true; /* CRIU sees the end only after DONE */
  s->pump = &p;
  s->lazy_shared =
      mmap(NULL, sizeof *s->lazy_shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s->lazy_shared == MAP_FAILED) s->lazy_shared = NULL;
  if (ps >= 0 && s->lazy_shared) {
    p.shared_written = &s->lazy_shared->written;
    struct silo_error gerr = {0};
    if (mig_guard_arm(&s->guard, guard_lazy, s, ps, &gerr) < 0)
      silo_log_warn("migrate: no guardian: %s", gerr.msg);
  }
  r = ps < 0 ? silo_err(err, e.errnum, "page server: %s", e.msg) : 0;
  if (r == 0 && !s->readonly_root) r = src_sync_rootfs(s, true, err);
  if (r == 0) r = src_send_images(s, "final", err);
  if (r == 0)
    r = mig_send_json(
        &s->c, MIG_RESTORE,
        json_pack("{s:s, s:b, s:o}", "images", "final", "lazy", 1, "stdio", mig_stdio_now(images)),
        err);
  s->phase = "restore";
  if (r == 0) s->t_restore = time_mono_s();
  silo_log_debug("migrate: images sent, RESTORE at %.3f s after the freeze",
                 time_mono_s() - s->t_freeze);
  if (r == 0) r = mig_pump_run(&p, err);
  s->rep->page_bytes += p.to_peer;
  s->pump = NULL;
  if (s->dest_done || s->dump_ok) {
    /* Every page moved: CRIU gets the rest of the tunnel (its close) and ends the
     * dump, which kills the tasks here.  No way back from here. */
    mig_pump_drain_local(&p, 10000);
    r = 0;
  } else if (mig_child_exited(&s->dump)) {
    /* CRIU ended on its own (its error is err) and resumed the tasks */
    src_tell_abort(s, err->msg);
  } else {
    /* Make CRIU give up: it resumes the frozen tasks here.  After the switch the
     * destination deletes its copy when it hears of it (or loses us) first. */
    src_tell_abort(s, err->msg);
    if (s->restored) sleep(2);
    mig_guard_release(&s->guard);
    mig_pump_poison(&p);
  }
  mig_pump_free(&p);
  struct silo_error derr = {0};
  int dr = mig_child_wait(&s->dump, -1, &derr);
  mig_child_close(&s->dump);
  mig_guard_release(&s->guard);
  if (s->lazy_shared) munmap(s->lazy_shared, sizeof *s->lazy_shared);
  s->lazy_shared = NULL;
  if (r == 0 && dr < 0) {
    /* The destination has it all; CRIU failed at the very end and may have resumed
     * the tasks here: they must not run twice. */
    silo_log_warn("migrate `%s`: the lazy dump failed after every page had moved (%s): "
                  "deleting the copy on the source",
                  s->st.id, derr.msg);
    struct silo_error e2 = {0};
    silo_delete(s->ctx, s->st.id, true, &e2);
  }
  if (r == 0 && !s->dest_done) {
    /* the last DONE may still be on its way */
    struct mig_frame f;
    struct silo_error e2 = {0};
    s->c.idle_ms = 5000;
    if (mig_recv(&s->c, &f, &e2) == 0 && f.type == MIG_DONE) s->dest_done = true;
  }
  if (r < 0 && src_container_running(s)) {
    src_net_quiet(s, false);
    s->rep->resumed_on_source = true;
    src_err_then(err, "the container runs on the source again");
  }
  return r;
}
