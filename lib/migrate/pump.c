/* silo: the migration's event loop, and the page-server tunnel in it.
 *
 * Postcopy runs CRIU's page server on the source (the lazy dump, listening on the
 * source's 127.0.0.1) and CRIU's lazy-pages daemon on the destination (given one
 * end of a socketpair with --ps-socket).  Neither talks to the network: their
 * bytes travel as MIG_PAGES frames on the authenticated connection, MIG_PAGES_EOF
 * closing one direction.  The same loop waits for the helpers (dump, restore)
 * while keeping the connection alive: a PING every second, and a peer silent for
 * the idle time is a failure.
 *
 * The source holds the destination's EOF back (eof_hold) until DONE: the lazy-pages
 * daemon closes its end when it fails too, and CRIU's page server takes any clean
 * EOF for "every page is there", after which it kills the dumped tasks.
 *
 * Aborting a lazy dump (mig_pump_poison): CRIU's page server takes a clean EOF
 * between two requests for "all done" and kills the dumped tasks.  An incomplete
 * request followed by EOF is an error instead, after which CRIU resumes the tasks:
 * the container keeps running on the source.  Requests are 24 or 32 bytes (CRIU
 * < 4 / >= 4), both multiples of 8: one or two bytes more than what was written
 * so far, so that the total is not a multiple of 8, always cut a request short.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/base/base.h"
#include "lib/migrate/migrate.h"

#define HIGH_WATER (8u << 20)

void
mig_pump_init(struct mig_pump *p, struct mig_conn *c, int local)
{
  memset(p, 0, sizeof *p);
  p->c = c;
  p->local = local;
  p->extra_fd = -1;
  p->last_rx = p->last_ping = time_mono_s();
}

void
mig_pump_free(struct mig_pump *p)
{
  free(p->out);
  p->out = NULL;
  p->olen = p->ocap = p->opos = 0;
  if (p->local >= 0) close(p->local);
  p->local = -1;
}

static void
out_append(struct mig_pump *p, const unsigned char *d, size_t n)
{
  if (p->opos == p->olen) p->opos = p->olen = 0;
  if (p->opos > 0 && p->olen + n > p->ocap) {
    memmove(p->out, p->out + p->opos, p->olen - p->opos);
    p->olen -= p->opos;
    p->opos = 0;
  }
  if (p->olen + n > p->ocap) {
    p->ocap = p->olen + n > 2 * p->ocap ? p->olen + n : 2 * p->ocap;
    p->out = xrealloc(p->out, p->ocap);
  }
  memcpy(p->out + p->olen, d, n);
  p->olen += n;
}

static void
local_close_write(struct mig_pump *p)
{
  if (p->local >= 0) shutdown(p->local, SHUT_WR);
}

static int
handle_frames(struct mig_pump *p, struct silo_error *err)
{
  struct mig_frame f;
  while (mig_next_frame(p->c, &f)) {
    if (f.type < 0) return silo_err(err, EPROTO, "%s does not speak silo's protocol", p->c->peer);
    if (f.type == MIG_PING) continue;
    if (f.type == MIG_PAGES) {
      p->from_peer += f.len;
      if (p->local >= 0) out_append(p, f.data, f.len);
      continue;
    }
    if (f.type == MIG_PAGES_EOF) {
      p->peer_eof = true;
      if (p->opos == p->olen && !p->eof_hold) local_close_write(p);
      continue;
    }
    int r = p->on_frame ? p->on_frame(p->arg, &f, err)
                        : silo_err(err, EPROTO, "%s sent %s", p->c->peer, mig_type_name(f.type));
    if (r) return r;
  }
  return 0;
}

static int
read_local(struct mig_pump *p)
{
  static unsigned char buf[MIG_CHUNK];
  ssize_t n = recv(p->local, buf, sizeof buf, MSG_DONTWAIT);
  if (n > 0) {
    mig_queue(p->c, MIG_PAGES, buf, (size_t)n);
    p->to_peer += (uint64_t)n;
    return 0;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  /* EOF, or the other side is gone: that direction is over. */
  p->local_eof = true;
  mig_queue(p->c, MIG_PAGES_EOF, NULL, 0);
  return 0;
}

static void
write_local(struct mig_pump *p)
{
  while (p->opos < p->olen) {
    ssize_t n = send(p->local, p->out + p->opos, p->olen - p->opos, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) p->opos = p->olen; /* reader gone: drop */
      break;
    }
    p->opos += (size_t)n;
    p->local_written += (uint64_t)n;
    if (p->shared_written) *p->shared_written = p->local_written;
  }
  if (p->opos == p->olen && p->peer_eof && !p->eof_hold) local_close_write(p);
}

int
mig_pump_run(struct mig_pump *p, struct silo_error *err)
{
  struct mig_conn *c = p->c;
  for (;;) {
    if (mig_interrupted) return silo_err(err, 0, "interrupted by a signal");
    int r = handle_frames(p, err);
    if (r < 0) return -1;
    if (r == 1) return 0;
    if (p->on_tick) {
      r = p->on_tick(p->arg, err);
      if (r < 0) return -1;
      if (r == 1) return 0;
    }
    double now = time_mono_s();
    if (now - p->last_ping >= 1.0) {
      mig_queue(c, MIG_PING, NULL, 0);
      p->last_ping = now;
    }
    if (mig_try_flush(c, err) < 0) return -1;
    mig_progress_tick(c);

    bool wpending = c->wpos < c->wlen;
    bool opending = p->opos < p->olen;
    struct pollfd fds[3] = {{.fd = c->fd, .events = 0}, {.fd = -1}, {.fd = p->extra_fd}};
    if (p->olen - p->opos < HIGH_WATER) fds[0].events |= POLLIN;
    if (wpending) fds[0].events |= POLLOUT;
    if (p->local >= 0) {
      fds[1].fd = p->local;
      if (!p->local_eof && c->wlen - c->wpos < HIGH_WATER) fds[1].events |= POLLIN;
      if (opending) fds[1].events |= POLLOUT;
    }
    fds[2].events = POLLIN;
    int n = poll(fds, 3, 200);
    if (n < 0 && errno != EINTR) return silo_err(err, errno, "poll");
    if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      uint64_t before = c->received;
      if (mig_try_read(c, err) < 0) {
        /* What arrived before the close still counts (a last ERROR, a DONE). */
        r = handle_frames(p, err);
        if (r == 1) return 0;
        return -1;
      }
      if (c->received != before) p->last_rx = time_mono_s();
    }
    if (n > 0 && p->local >= 0 && (fds[1].revents & POLLOUT)) write_local(p);
    if (n > 0 && p->local >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && !p->local_eof)
      read_local(p);
    if (time_mono_s() - p->last_rx > c->idle_ms / 1000.0)
      return silo_err(err, ETIMEDOUT, "no word from %s for %u s", c->peer, c->idle_ms / 1000);
  }
}

void
mig_pump_drain_local(struct mig_pump *p, int timeout_ms)
{
  static unsigned char buf[65536];
  double end = time_mono_s() + timeout_ms / 1000.0;
  p->eof_hold = false;
  while (p->local >= 0 && time_mono_s() < end) {
    bool pending = p->opos < p->olen;
    if (!pending && p->peer_eof) {
      local_close_write(p);
      return;
    }
    if (!pending) return;
    struct pollfd pf = {.fd = p->local, .events = POLLOUT | POLLIN};
    if (poll(&pf, 1, 200) < 0 && errno != EINTR) return;
    if (pf.revents & POLLIN) (void)!recv(p->local, buf, sizeof buf, MSG_DONTWAIT);
    if (pf.revents & POLLOUT) write_local(p);
  }
}

void
mig_poison_fd(int fd, uint64_t written)
{
  static const unsigned char junk[2] = {0x7f, 0x7f};
  size_t k = written % 8 == 7 ? 2 : 1;
  for (size_t off = 0; off < k;) {
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    if (poll(&pf, 1, 2000) <= 0) break;
    ssize_t n = send(fd, junk + off, k - off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    if (n > 0) off += (size_t)n;
  }
  shutdown(fd, SHUT_WR);
  /* CRIU may still be writing a reply: read until it closes (it then resumes the tasks). */
  static unsigned char buf[65536];
  double end = time_mono_s() + 30;
  while (time_mono_s() < end) {
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, 1000) < 0 && errno != EINTR) break;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
  }
}

void
mig_pump_poison(struct mig_pump *p)
{
  if (p->local < 0) return;
  p->opos = p->olen; /* requests not yet passed on are dropped */
  mig_poison_fd(p->local, p->local_written);
  close(p->local);
  p->local = -1;
}
