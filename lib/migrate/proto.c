/* silo: migration wire protocol — frames over TCP, HMAC-SHA256, the handshake.
 *
 * A frame is an 8-byte header (type, flags = 0, two reserved zero bytes, payload
 * length as a big-endian u32 of at most 16 MiB) and the payload: JSON for control
 * frames, raw bytes for MIG_DATA and MIG_PAGES.  Sockets are non-blocking; every
 * wait is a poll() bounded by the connection's idle time, so a dead peer is
 * noticed, and SIGINT/SIGTERM (mig_interrupted) end any wait.
 *
 * Every byte of the connection is inside TLS 1.3 (lib/migrate/tls.c): the
 * functions below go through mig_tls_flush / mig_tls_read when c->tls is set.
 *
 * Authentication (both ways, before anything else is said, inside TLS):
 *   src -> HELLO     {"proto":1, "nonce": Ns}
 *   dst -> CHALLENGE {"nonce": Nr, "mac": HMAC(K, "silo-migrate/1 receiver\n" Ns Nr)}
 *   src -> AUTH      {"mac": HMAC(K, "silo-migrate/1 sender\n" Nr Ns)}
 *   dst -> AUTH_OK   {}
 * K is the shared token, Ns and Nr 32 random bytes each (hex on the wire), HMAC is
 * HMAC-SHA256 (RFC 2104): sha256_hmac of lib/base/sha256.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "lib/base/base.h"
#include "lib/migrate/migrate.h"
#include "lib/silo.h"

const char *
mig_type_name(int type)
{
  static const struct {
    int type;
    const char *name;
  } names[] = {
      {MIG_HELLO, "HELLO"},       {MIG_CHALLENGE, "CHALLENGE"}, {MIG_AUTH, "AUTH"},
      {MIG_AUTH_OK, "AUTH_OK"},   {MIG_ERROR, "ERROR"},         {MIG_OFFER, "OFFER"},
      {MIG_ACCEPT, "ACCEPT"},     {MIG_MANIFEST, "MANIFEST"},   {MIG_MANIFEST_END, "MANIFEST_END"},
      {MIG_WANT, "WANT"},         {MIG_WANT_END, "WANT_END"},   {MIG_SYNCED, "SYNCED"},
      {MIG_FILE, "FILE"},         {MIG_DATA, "DATA"},           {MIG_FILE_END, "FILE_END"},
      {MIG_TREE_END, "TREE_END"}, {MIG_RESTORE, "RESTORE"},     {MIG_RESTORED, "RESTORED"},
      {MIG_COMMIT, "COMMIT"},     {MIG_DONE, "DONE"},           {MIG_ABORT, "ABORT"},
      {MIG_PAGES, "PAGES"},       {MIG_PAGES_EOF, "PAGES_EOF"}, {MIG_PING, "PING"}};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++)
    if (names[i].type == type) return names[i].name;
  return "unknown";
}

/* ---- addresses ---- */

static int
resolve(const char *spec, bool passive, struct addrinfo **res, struct silo_error *err)
{
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec || !colon[1])
    return silo_err(err, EINVAL, "`%s`: expected HOST:PORT", spec);
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port <= 0 || port > 65535) return silo_err(err, EINVAL, "`%s`: bad port", spec);
  const char *h = spec;
  size_t n = (size_t)(colon - spec);
  if (h[0] == '[' && n >= 2 && h[n - 1] == ']') h++, n -= 2;
  _cleanup_free_ char *host = strndup(h, n);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
  int r = getaddrinfo(host, colon + 1, &hints, res);
  if (r) return silo_err(err, 0, "`%s`: %s", spec, gai_strerror(r));
  return 0;
}

int
mig_listen(const char *spec, struct silo_error *err)
{
  struct addrinfo *res;
  if (resolve(spec, true, &res, err) < 0) return -1;
  int fd = -1, e = 0;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* a backlog for peers arriving while a migration is served (lib/migrate/listen.c) */
    if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 64) < 0) {
      e = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) return silo_err(err, e ? e : EADDRNOTAVAIL, "listen on `%s`", spec);
  return fd;
}

static int
wait_fd(int fd, short events, int timeout_ms)
{
  struct pollfd p = {.fd = fd, .events = events};
  int r = poll(&p, 1, timeout_ms);
  if (r < 0) return -1;
  if (r == 0) return errno = ETIMEDOUT, -1;
  return 0;
}

int
mig_connect(const char *spec, unsigned timeout_ms, struct silo_error *err)
{
  struct addrinfo *res;
  if (resolve(spec, false, &res, err) < 0) return -1;
  int fd = -1, e = ECONNREFUSED;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    int r = connect(fd, a->ai_addr, a->ai_addrlen);
    if (r < 0 && errno == EINPROGRESS && wait_fd(fd, POLLOUT, (int)timeout_ms) == 0) {
      socklen_t l = sizeof e;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) == 0 && e == 0) r = 0;
    } else if (r < 0) {
      e = errno;
    }
    if (r < 0) {
      if (errno == ETIMEDOUT || mig_interrupted) e = mig_interrupted ? EINTR : ETIMEDOUT;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) return silo_err(err, e, "connect to `%s`", spec);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* ---- the connection ---- */

void
mig_conn_init(struct mig_conn *c, int fd)
{
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->idle_ms = 30000;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  mig_conn_buffers(c, 4 << 20);
}

void
mig_conn_buffers(struct mig_conn *c, int bytes)
{
  setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

void
mig_conn_close(struct mig_conn *c)
{
  mig_tls_close(c);
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  free(c->rbuf);
  free(c->wbuf);
  c->rbuf = c->wbuf = NULL;
  c->rlen = c->rcap = c->rpos = c->wlen = c->wcap = c->wpos = 0;
}

/* A frame header announcing len bytes, and the first `have` of them. */
static void
queue(struct mig_conn *c, int type, const void *data, size_t have, size_t len)
{
  if (c->wpos == c->wlen) c->wpos = c->wlen = 0;
  if (c->wpos > (1u << 20) && c->wpos > c->wlen / 2) {
    memmove(c->wbuf, c->wbuf + c->wpos, c->wlen - c->wpos);
    c->wlen -= c->wpos;
    c->wpos = 0;
  }
  size_t need = c->wlen + MIG_HDR_LEN + have;
  if (need > c->wcap) {
    c->wcap = need < 2 * c->wcap ? 2 * c->wcap : need;
    c->wbuf = xrealloc(c->wbuf, c->wcap);
  }
  unsigned char *h = c->wbuf + c->wlen;
  h[0] = (unsigned char)type;
  h[1] = h[2] = h[3] = 0;
  h[4] = (unsigned char)(len >> 24), h[5] = (unsigned char)(len >> 16);
  h[6] = (unsigned char)(len >> 8), h[7] = (unsigned char)len;
  if (have) memcpy(h + MIG_HDR_LEN, data, have);
  c->wlen = need;
}

void
mig_queue(struct mig_conn *c, int type, const void *data, size_t len)
{
  queue(c, type, data, len, len);
}

static int
conn_error(struct mig_conn *c, int e, const char *what, struct silo_error *err)
{
  if (mig_interrupted) return silo_err(err, 0, "interrupted by a signal");
  if (e == ETIMEDOUT)
    return silo_err(err, ETIMEDOUT, "%s: no word from %s for %u s", what, c->peer,
                    c->idle_ms / 1000);
  return silo_err(err, e, "%s %s", what, c->peer);
}

int
mig_try_flush(struct mig_conn *c, struct silo_error *err)
{
  if (c->tls) return mig_tls_flush(c, err);
  while (c->wpos < c->wlen) {
    ssize_t n = send(c->fd, c->wbuf + c->wpos, c->wlen - c->wpos, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return 0;
      return conn_error(c, errno, "send to", err);
    }
    c->wpos += (size_t)n;
    c->sent += (uint64_t)n;
  }
  return 0;
}

void
mig_progress_tick(struct mig_conn *c)
{
  if (!c->progress) return;
  double now = time_mono_s();
  if (now - c->progress_at < 0.2) return;
  c->progress_at = now;
  c->progress(c->progress_arg);
}

int
mig_flush(struct mig_conn *c, struct silo_error *err)
{
  mig_progress_tick(c);
  while (c->wpos < c->wlen) {
    if (mig_interrupted) return silo_err(err, 0, "interrupted by a signal");
    if (mig_try_flush(c, err) < 0) return -1;
    if (c->wpos == c->wlen) break;
    if (wait_fd(c->fd, POLLOUT, (int)c->idle_ms) < 0 && errno != EINTR)
      return conn_error(c, errno, "send to", err);
  }
  return 0;
}

int
mig_send(struct mig_conn *c, int type, const void *data, size_t len, struct silo_error *err)
{
  mig_queue(c, type, data, len);
  /* Big queues are flushed; small frames go out at once too (control messages). */
  return mig_flush(c, err);
}

/* Over TLS the payload is read into the send buffer (no sendfile: it is
 * encrypted in user space), behind its header. */
static int
send_fd_tls(struct mig_conn *c, int type, int fd, size_t len, struct silo_error *err)
{
  queue(c, type, NULL, 0, len);
  if (c->wlen + len > c->wcap) {
    c->wcap = c->wlen + len;
    c->wbuf = xrealloc(c->wbuf, c->wcap);
  }
  for (size_t got = 0; got < len;) {
    ssize_t n = read(fd, c->wbuf + c->wlen + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return silo_err(err, errno, "read");
    if (n == 0) return silo_err(err, EIO, "the file shrank while it was sent");
    got += (size_t)n;
  }
  c->wlen += len;
  return mig_flush(c, err);
}

int
mig_send_fd(struct mig_conn *c, int type, int fd, size_t len, struct silo_error *err)
{
  if (c->tls) return send_fd_tls(c, type, fd, len, err);
  queue(c, type, NULL, 0, len);
  if (mig_flush(c, err) < 0) return -1;
  /* the payload straight from the file (no copy through user space) */
  size_t left = len;
  while (left > 0) {
    if (mig_interrupted) return silo_err(err, 0, "interrupted by a signal");
    ssize_t n = sendfile(c->fd, fd, NULL, left);
    if (n > 0) {
      left -= (size_t)n;
      c->sent += (uint64_t)n;
      mig_progress_tick(c);
      continue;
    }
    if (n == 0) return silo_err(err, EIO, "the file shrank while it was sent");
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return conn_error(c, errno, "send to", err);
    if (wait_fd(c->fd, POLLOUT, (int)c->idle_ms) < 0 && errno != EINTR)
      return conn_error(c, errno, "send to", err);
  }
  return 0;
}

int
mig_send_json(struct mig_conn *c, int type, json_t *j, struct silo_error *err)
{
  char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (j) json_decref(j);
  int r = mig_send(c, type, txt ? txt : "{}", txt ? strlen(txt) : 2, err);
  free(txt);
  return r;
}

void
mig_queue_json(struct mig_conn *c, int type, json_t *j)
{
  char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (j) json_decref(j);
  mig_queue(c, type, txt ? txt : "{}", txt ? strlen(txt) : 2);
  free(txt);
}

int
mig_try_read(struct mig_conn *c, struct silo_error *err)
{
  if (c->rpos == c->rlen) c->rpos = c->rlen = 0;
  if (c->rpos > 0 && c->rcap - c->rlen < 65536) {
    memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
    c->rlen -= c->rpos;
    c->rpos = 0;
  }
  if (c->rcap - c->rlen < 65536) {
    /* before authentication the frames are small: so is the first buffer */
    c->rcap = c->rcap ? 2 * c->rcap : c->max_payload ? 2 * c->max_payload : 1 << 18;
    c->rbuf = xrealloc(c->rbuf, c->rcap);
  }
  if (c->tls) return mig_tls_read(c, err);
  for (;;) {
    ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
    if (n > 0) {
      c->rlen += (size_t)n;
      c->received += (uint64_t)n;
      return 0;
    }
    if (n == 0) return silo_err(err, ECONNRESET, "%s closed the connection", c->peer);
    if (errno == EAGAIN) return 0;
    if (errno != EINTR) return conn_error(c, errno, "receive from", err);
    if (mig_interrupted) return silo_err(err, 0, "interrupted by a signal");
  }
}

bool
mig_next_frame(struct mig_conn *c, struct mig_frame *f)
{
  size_t avail = c->rlen - c->rpos;
  if (avail < MIG_HDR_LEN) return false;
  const unsigned char *h = c->rbuf + c->rpos;
  uint32_t len = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
  size_t max = c->max_payload ? c->max_payload : MIG_MAX_PAYLOAD;
  if (h[1] || h[2] || h[3] || len > max) {
    /* Not our protocol, or too long: hand out a frame the callers reject (len: the
     * announced length when the header was otherwise fine), on the header alone. */
    f->type = -1, f->data = h, f->len = h[1] || h[2] || h[3] ? 0 : len;
    c->rpos = c->rlen;
    return true;
  }
  if (avail < MIG_HDR_LEN + (size_t)len) {
    size_t need = c->rpos + MIG_HDR_LEN + len;
    if (need > c->rcap) {
      memmove(c->rbuf, c->rbuf + c->rpos, avail);
      c->rlen = avail;
      c->rpos = 0;
      if (MIG_HDR_LEN + (size_t)len + 65536 > c->rcap) {
        c->rcap = MIG_HDR_LEN + (size_t)len + 65536;
        c->rbuf = xrealloc(c->rbuf, c->rcap);
      }
    }
    return false;
  }
  f->type = h[0];
  f->data = h + MIG_HDR_LEN;
  f->len = len;
  c->rpos += MIG_HDR_LEN + len;
  return true;
}

int
mig_bad_frame(const struct mig_conn *c, const struct mig_frame *f, struct silo_error *err)
{
  size_t max = c->max_payload ? c->max_payload : MIG_MAX_PAYLOAD;
  if (f->len > max)
    return silo_err(err, EMSGSIZE, "%s announced a frame of %zu bytes, over the limit of %zu%s",
                    c->peer, f->len, max, c->max_payload ? " before authentication" : "");
  return silo_err(err, EPROTO, "%s does not speak silo's protocol", c->peer);
}

int
mig_recv(struct mig_conn *c, struct mig_frame *f, struct silo_error *err)
{
  for (;;) {
    while (mig_next_frame(c, f)) {
      if (f->type < 0) return mig_bad_frame(c, f, err);
      if (f->type != MIG_PING) return 0;
    }
    if (mig_interrupted) return silo_err(err, 0, "interrupted by a signal");
    if (mig_try_flush(c, err) < 0) return -1;
    short ev = POLLIN | (c->wpos < c->wlen ? POLLOUT : 0);
    if (wait_fd(c->fd, ev, (int)c->idle_ms) < 0) {
      if (errno == EINTR) continue;
      return conn_error(c, errno, "receive from", err);
    }
    if (mig_try_read(c, err) < 0) return -1;
  }
}

json_t *
mig_frame_json(const struct mig_frame *f)
{
  json_error_t je;
  return json_loadb((const char *)f->data, f->len, 0, &je);
}

int
mig_frame_error(const struct mig_frame *f, const char *who, struct silo_error *err)
{
  json_t *j = mig_frame_json(f);
  const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
  silo_err(err, 0, "%s: %s", who, m ? m : "(no reason given)");
  if (j) json_decref(j);
  return -1;
}

int
mig_recv_json(struct mig_conn *c, int want, json_t **out, struct silo_error *err)
{
  struct mig_frame f;
  if (mig_recv(c, &f, err) < 0) return -1;
  if (f.type == MIG_ERROR || f.type == MIG_ABORT) return mig_frame_error(&f, c->peer, err);
  if (f.type != want)
    return silo_err(err, EPROTO, "%s sent %s, expected %s", c->peer, mig_type_name(f.type),
                    mig_type_name(want));
  *out = mig_frame_json(&f);
  if (!*out || (!json_is_object(*out) && !json_is_array(*out))) {
    if (*out) json_decref(*out);
    return silo_err(err, EPROTO, "%s sent a malformed %s", c->peer, mig_type_name(want));
  }
  return 0;
}

void
mig_explain_failure(struct mig_conn *c, const char *who, struct silo_error *err)
{
  /* What the peer said before it closed: read what is there, without waiting long. */
  struct silo_error e = {0};
  struct mig_frame f;
  for (int i = 0; i < 20; i++) {
    while (mig_next_frame(c, &f)) {
      if (f.type == MIG_ERROR || f.type == MIG_ABORT) {
        mig_frame_error(&f, who, err);
        return;
      }
    }
    if (c->fd < 0 || wait_fd(c->fd, POLLIN, 50) < 0 || mig_try_read(c, &e) < 0) {
      while (mig_next_frame(c, &f))
        if (f.type == MIG_ERROR || f.type == MIG_ABORT) {
          mig_frame_error(&f, who, err);
          return;
        }
      return;
    }
  }
}

/* ---- hex ---- */

void
mig_hex(const unsigned char *in, size_t n, char *out)
{
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) out[2 * i] = d[in[i] >> 4], out[2 * i + 1] = d[in[i] & 15];
  out[2 * n] = '\0';
}

static int
hexval(char ch)
{
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

int
mig_unhex(const char *in, unsigned char *out, size_t n)
{
  if (!in || strlen(in) != 2 * n) return -1;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return 0;
}

/* ---- the token and the handshake ---- */

int
mig_token_load(const char *path, struct mig_token *t, struct silo_error *err)
{
  if (!path)
    return silo_err(err, EINVAL,
                    "--token-file is required: both ends need the same "
                    "secret (e.g. `head -c 32 /dev/urandom | base64 > FILE`)");
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) return silo_err(err, errno, "token file `%s`", path);
  if (!S_ISREG(st.st_mode)) return silo_err(err, EINVAL, "token file `%s`: not a file", path);
  if (st.st_mode & 077)
    silo_log_warn("token file `%s` is readable by others than its owner (chmod 600 it)", path);
  ssize_t n = read(fd, t->key, sizeof t->key);
  if (n < 0) return silo_err(err, errno, "read token file `%s`", path);
  if ((size_t)n == sizeof t->key)
    return silo_err(err, EINVAL, "token file `%s`: longer than %d bytes", path, MIG_KEY_MAX - 1);
  while (n > 0 && (t->key[n - 1] == '\n' || t->key[n - 1] == '\r' || t->key[n - 1] == ' ' ||
                   t->key[n - 1] == '\t'))
    n--;
  t->len = (size_t)n;
  if (t->len < 16)
    return silo_err(err, EINVAL, "token file `%s`: the token has %zu bytes, at least 16 are needed",
                    path, t->len);
  return 0;
}

#define NONCE_LEN 32

static void
auth_mac(const struct mig_token *t, const char *label, const unsigned char *a,
         const unsigned char *b, unsigned char out[32])
{
  unsigned char msg[64 + 2 * NONCE_LEN];
  size_t l = strlen(label);
  memcpy(msg, label, l);
  memcpy(msg + l, a, NONCE_LEN);
  memcpy(msg + l + NONCE_LEN, b, NONCE_LEN);
  sha256_hmac(t->key, t->len, msg, l + 2 * NONCE_LEN, out);
}

static const char label_receiver[] = "silo-migrate/1 receiver\n";
static const char label_sender[] = "silo-migrate/1 sender\n";

static bool
mac_equal(const unsigned char *a, const unsigned char *b)
{
  unsigned char d = 0;
  for (int i = 0; i < 32; i++) d |= a[i] ^ b[i];
  return d == 0;
}

static int
nonce(unsigned char out[NONCE_LEN], struct silo_error *err)
{
  if (getrandom(out, NONCE_LEN, 0) != NONCE_LEN) return silo_err(err, errno, "getrandom");
  return 0;
}

/* {"key": hex of n bytes} */
static int
get_hex(json_t *j, const char *key, unsigned char *out, size_t n)
{
  return mig_unhex(json_string_value(json_object_get(j, key)), out, n);
}

int
mig_auth_source(struct mig_conn *c, const struct mig_token *t, struct silo_error *err)
{
  unsigned char ns[NONCE_LEN], nr[NONCE_LEN], mac[32], want[32];
  char hex[2 * NONCE_LEN + 1];
  if (nonce(ns, err) < 0) return -1;
  mig_hex(ns, NONCE_LEN, hex);
  if (mig_send_json(
          c, MIG_HELLO,
          json_pack("{s:i, s:s, s:s}", "proto", MIG_PROTO, "nonce", hex, "silo", SILO_VERSION),
          err) < 0)
    return -1;
  json_t *j = NULL;
  if (mig_recv_json(c, MIG_CHALLENGE, &j, err) < 0) return -1;
  int bad = get_hex(j, "nonce", nr, NONCE_LEN) | get_hex(j, "mac", mac, 32);
  json_decref(j);
  if (bad) return silo_err(err, EPROTO, "%s sent a malformed challenge", c->peer);
  auth_mac(t, label_receiver, ns, nr, want);
  if (!mac_equal(mac, want))
    return silo_err(err, EACCES,
                    "authentication failed: %s does not hold the same token (nothing was sent)",
                    c->peer);
  auth_mac(t, label_sender, nr, ns, mac);
  mig_hex(mac, 32, hex);
  if (mig_send_json(c, MIG_AUTH, json_pack("{s:s}", "mac", hex), err) < 0) return -1;
  if (mig_recv_json(c, MIG_AUTH_OK, &j, err) < 0) return silo_err_wrap(err, "authentication");
  json_decref(j);
  return 0;
}

/* ERROR {"message"} queued for the peer; the same message into err. */
static int
refuse(struct mig_conn *c, int e, const char *msg, struct silo_error *err)
{
  mig_queue_json(c, MIG_ERROR, json_pack("{s:s}", "message", msg));
  return silo_err(err, e, "%s", msg);
}

int
mig_auth_receiver_step(struct mig_conn *c, struct mig_auth *a, const struct mig_token *t,
                       const struct mig_frame *f, struct silo_error *err)
{
  if (f->type < 0) return mig_bad_frame(c, f, err);
  if (f->type == MIG_PING) return 0; /* as mig_recv does; the byte cap bounds them */
  int want = a->stage == 0 ? MIG_HELLO : MIG_AUTH;
  if (a->stage > 1 || f->type != want) {
    char msg[96];
    snprintf(msg, sizeof msg, "sent %s before authenticating, expected %s", mig_type_name(f->type),
             mig_type_name(want));
    return refuse(c, EPROTO, msg, err);
  }
  json_t *j = mig_frame_json(f);
  if (!json_is_object(j)) {
    if (j) json_decref(j);
    return refuse(c, EPROTO, want == MIG_HELLO ? "malformed HELLO" : "malformed AUTH", err);
  }
  unsigned char mac[32], want_mac[32];
  char hex[2 * NONCE_LEN + 1], mhex[65];
  if (a->stage == 0) {
    int proto = (int)json_integer_value(json_object_get(j, "proto"));
    int bad = get_hex(j, "nonce", a->ns, NONCE_LEN);
    json_decref(j);
    if (bad) return refuse(c, EPROTO, "malformed HELLO", err);
    if (proto != MIG_PROTO) {
      char msg[96];
      snprintf(msg, sizeof msg, "protocol %d is not supported (this receiver speaks %d)", proto,
               MIG_PROTO);
      return refuse(c, EPROTO, msg, err);
    }
    if (nonce(a->nr, err) < 0) return -1;
    auth_mac(t, label_receiver, a->ns, a->nr, mac);
    mig_hex(a->nr, NONCE_LEN, hex);
    mig_hex(mac, 32, mhex);
    mig_queue_json(c, MIG_CHALLENGE, json_pack("{s:s, s:s}", "nonce", hex, "mac", mhex));
    a->stage = 1;
    return 0;
  }
  int bad = get_hex(j, "mac", mac, 32);
  json_decref(j);
  auth_mac(t, label_sender, a->nr, a->ns, want_mac);
  if (bad || !mac_equal(mac, want_mac)) {
    refuse(c, EACCES, "authentication failed", err);
    return silo_err(err, EACCES, "authentication failed (wrong token)");
  }
  mig_queue_json(c, MIG_AUTH_OK, json_object());
  a->stage = 2;
  return 1;
}

int
mig_auth_receiver(struct mig_conn *c, const struct mig_token *t, struct silo_error *err)
{
  struct mig_auth a = {0};
  for (;;) {
    struct mig_frame f;
    if (mig_recv(c, &f, err) < 0) return -1;
    int r = mig_auth_receiver_step(c, &a, t, &f, err);
    struct silo_error e2 = {0};
    if (r < 0) {
      unsigned idle = c->idle_ms;
      c->idle_ms = 2000; /* the ERROR is a courtesy */
      mig_flush(c, &e2);
      c->idle_ms = idle;
      return -1;
    }
    if (mig_flush(c, err) < 0) return -1;
    if (r == 1) return 0;
  }
}
