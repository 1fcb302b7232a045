/* silo: the receiver's listening socket — handshakes of unauthenticated peers.
 *
 * `migrate-receive` listens as root on the network, so whoever can reach the port
 * can talk to it before proving anything.  What such a peer can cost the receiver
 * is bounded here:
 *   - time: a hard deadline of MIG_AUTH_DEADLINE_MS from accept, which traffic does
 *     not reset (a peer trickling one byte a second is cut off like a silent one);
 *   - memory: frames of at most MIG_AUTH_MAX_PAYLOAD, refused on their header, at
 *     most two such frames' worth of bytes in all (HELLO and AUTH are ~100 bytes),
 *     and socket buffers of that size (4 MiB once authenticated);
 *   - the others' turn: handshakes run side by side in one poll loop, so a slow
 *     peer never delays an honest one; at most MIG_PENDING_MAX are pending, and one
 *     more connection cuts the oldest off (a flood from many addresses can still
 *     delay an honest source, never wedge the receiver).
 * The TLS handshake (lib/migrate/tls.c) comes first and runs under the same limits.
 * Every refusal is reported with the peer's address.  Once a peer authenticates
 * its connection is handed to the caller, which serves that one migration; the
 * others wait (their deadlines run on), and so do new connections in the backlog.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/base/base.h"
#include "lib/migrate/migrate.h"

struct mig_pending {
  struct mig_conn c;
  struct mig_auth a;
  double deadline;
};

void
mig_listener_init(struct mig_listener *l, int fd)
{
  memset(l, 0, sizeof *l);
  l->fd = fd;
  /* accept in a loop until EAGAIN, never block in accept */
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Cuts pending peer i off: the reason to whoever listens, a queued ERROR frame to
 * the peer if the socket takes it now (no waiting for a peer we refuse). */
static void
drop(struct mig_listener *l, size_t i, const char *why)
{
  struct mig_pending *p = l->p[i];
  size_t n = strlen(p->c.peer);
  /* "PEER closed the connection": the caller names the peer already */
  if (why && strncmp(why, p->c.peer, n) == 0 && why[n] == ' ') why += n + 1;
  if (why && l->refused) l->refused(l->arg, p->c.peer, why);
  struct silo_error e = {0};
  mig_try_flush(&p->c, &e);
  mig_conn_close(&p->c);
  free(p);
  memmove(&l->p[i], &l->p[i + 1], (l->n - i - 1) * sizeof l->p[0]);
  l->n--;
}

void
mig_listener_close(struct mig_listener *l)
{
  while (l->n) drop(l, l->n - 1, NULL);
}

static void
peer_name(const struct sockaddr_storage *sa, char *out, size_t len)
{
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    port = ntohs(in->sin6_port);
  }
  snprintf(out, len, sa->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

/* What the backlog holds becomes pending handshakes: at most MIG_PENDING_MAX a
 * turn, so that a connection storm cannot keep the loop from serving them. */
static int
accept_all(struct mig_listener *l, struct silo_error *err)
{
  for (int k = 0; k < MIG_PENDING_MAX; k++) {
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    int fd = accept4(l->fd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR) return 0;
      if (errno == ECONNABORTED) continue;
      return silo_err(err, errno, "accept");
    }
    if (l->n == MIG_PENDING_MAX) {
      char why[96];
      snprintf(why, sizeof why, "cut off: %d newer peers were authenticating", MIG_PENDING_MAX);
      drop(l, 0, why);
    }
    struct mig_pending *p = xcalloc(1, sizeof *p);
    mig_conn_init(&p->c, fd);
    if (mig_tls_start(&p->c, l->creds, err) < 0) {
      mig_conn_close(&p->c);
      free(p);
      return -1;
    }
    /* Nobody reads a pending peer while a migration is served: what it sends
     * meanwhile must not fill megabytes of kernel memory (4 MiB once it is in). */
    mig_conn_buffers(&p->c, 2 * (MIG_AUTH_MAX_PAYLOAD + MIG_HDR_LEN));
    peer_name(&sa, p->c.peer, sizeof p->c.peer);
    p->c.max_payload = MIG_AUTH_MAX_PAYLOAD;
    p->deadline = time_mono_s() + MIG_AUTH_DEADLINE_MS / 1000.0;
    l->p[l->n++] = p;
  }
  return 0;
}

/* Reads and answers what peer i sent: 1 when it authenticated (moved to *out), 0
 * when it goes on, -1 when it was cut off. */
static int
serve(struct mig_listener *l, size_t i, const struct mig_token *t, struct mig_conn *out)
{
  struct mig_pending *p = l->p[i];
  struct silo_error e = {0};
  /* TLS first: its bytes count against the cap and its time against the deadline */
  int h = mig_tls_handshake_step(&p->c, &e);
  if (h < 0) {
    drop(l, i, e.msg);
    return -1;
  }
  if (h == 0) {
    if (p->c.received <= 2 * (MIG_AUTH_MAX_PAYLOAD + MIG_HDR_LEN)) return 0;
    drop(l, i, "sent too much during the TLS handshake");
    return -1;
  }
  if (mig_try_flush(&p->c, &e) < 0 || mig_try_read(&p->c, &e) < 0) {
    drop(l, i, e.msg);
    return -1;
  }
  /* HELLO and AUTH are about 100 bytes each: nobody honest comes near this. */
  if (p->c.received > 2 * (MIG_AUTH_MAX_PAYLOAD + MIG_HDR_LEN)) {
    char why[96];
    snprintf(why, sizeof why, "sent more than %u bytes before authenticating",
             2 * (MIG_AUTH_MAX_PAYLOAD + MIG_HDR_LEN));
    drop(l, i, why);
    return -1;
  }
  struct mig_frame f;
  while (mig_next_frame(&p->c, &f)) {
    int r = mig_auth_receiver_step(&p->c, &p->a, t, &f, &e);
    if (r < 0) {
      drop(l, i, e.msg);
      return -1;
    }
    if (r == 1) {
      /* AUTH_OK goes out with the session's first flush if not now */
      mig_try_flush(&p->c, &e);
      *out = p->c;
      out->max_payload = 0;
      mig_conn_buffers(out, 4 << 20);
      free(p);
      memmove(&l->p[i], &l->p[i + 1], (l->n - i - 1) * sizeof l->p[0]);
      l->n--;
      return 1;
    }
  }
  if (mig_try_flush(&p->c, &e) < 0) {
    drop(l, i, e.msg);
    return -1;
  }
  return 0;
}

int
mig_listener_next(struct mig_listener *l, const struct mig_token *t, struct mig_conn *out,
                  struct silo_error *err)
{
  for (;;) {
    if (mig_interrupted) return silo_err(err, EINTR, "interrupted by a signal");
    double now = time_mono_s(), next = -1;
    for (size_t i = l->n; i-- > 0;) {
      if (now >= l->p[i]->deadline) {
        char why[96];
        snprintf(why, sizeof why, "not authenticated within %d s of connecting",
                 MIG_AUTH_DEADLINE_MS / 1000);
        drop(l, i, why);
      } else if (next < 0 || l->p[i]->deadline < next)
        next = l->p[i]->deadline;
    }
    struct pollfd pfd[MIG_PENDING_MAX + 1] = {{.fd = l->fd, .events = POLLIN}};
    for (size_t i = 0; i < l->n; i++) {
      const struct mig_conn *c = &l->p[i]->c;
      bool w = c->wpos < c->wlen || mig_tls_wants_write(c);
      pfd[i + 1] = (struct pollfd){.fd = c->fd, .events = POLLIN | (w ? POLLOUT : 0)};
    }
    size_t n = l->n;
    int timeout = next < 0 ? -1 : (int)((next - now) * 1000) + 1;
    if (poll(pfd, n + 1, timeout) < 0) {
      if (errno == EINTR) continue;
      return silo_err(err, errno, "poll");
    }
    /* from the last: dropping peer i moves only those after it */
    for (size_t i = n; i-- > 0;)
      if (pfd[i + 1].revents && serve(l, i, t, out) == 1) return 0;
    if ((pfd[0].revents & POLLIN) && accept_all(l, err) < 0) return -1;
  }
}
