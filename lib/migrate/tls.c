/* silo: TLS 1.3 for the migration connection (GnuTLS, loaded on demand).
 *
 * Every byte after the TCP connect is inside TLS 1.3, mutually authenticated:
 *   - by default with a pre-shared key derived from the token file,
 *       PSK = HMAC-SHA256(token, "silo-migrate/1 tls-psk\n"), identity "silo-migrate",
 *     in (EC)DHE-PSK mode (psk_dhe_ke: forward secret); a peer with another token
 *     fails the handshake (bad record MAC / decrypt error) and learns nothing;
 *   - or with X.509 certificates (--tls-cert, --tls-key, --tls-ca on both ends):
 *     each end presents its certificate and verifies the peer's against the CA.
 * The HELLO / CHALLENGE / AUTH handshake of proto.c then runs inside TLS as before
 * (with certificates it is the second factor: the token is still required).
 *
 * GnuTLS is dlopen'ed, as lib/base/archive.c does for libarchive: only the two
 * migration commands load it, every other command starts as before and `ldd silo`
 * does not list it.  The transport functions are silo's own (send/recv on the
 * non-blocking socket) so that the raw bytes count against the receiver's
 * pre-authentication limits (lib/migrate/listen.c): the TLS handshake runs inside
 * the 10 s deadline and the byte cap.
 */
#include <dlfcn.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/base/base.h"
#include "lib/migrate/migrate.h"

#define GNUTLS_SONAME "libgnutls.so.30"
#define PSK_IDENTITY  "silo-migrate"
#define PSK_LABEL     "silo-migrate/1 tls-psk\n"
/* TLS 1.3 only; AES-GCM first (GnuTLS otherwise picked ChaCha20-Poly1305 here,
 * at a tenth of AES-GCM's speed with AES-NI: `gnutls-cli --benchmark-ciphers`);
 * for the PSK, the modes with an (EC)DHE exchange (forward secrecy). */
#define PRIO_BASE                                                                                  \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"
#define PRIO_PSK  PRIO_BASE ":+ECDHE-PSK:+DHE-PSK"
#define PRIO_X509 PRIO_BASE

static struct {
  int (*init)(gnutls_session_t *, unsigned);
  void (*deinit)(gnutls_session_t);
  int (*priority_set_direct)(gnutls_session_t, const char *, const char **);
  int (*credentials_set)(gnutls_session_t, gnutls_credentials_type_t, void *);
  void (*transport_set_ptr)(gnutls_session_t, gnutls_transport_ptr_t);
  void (*transport_set_push_function)(gnutls_session_t, gnutls_push_func);
  void (*transport_set_pull_function)(gnutls_session_t, gnutls_pull_func);
  void (*transport_set_pull_timeout_function)(gnutls_session_t, gnutls_pull_timeout_func);
  void (*session_set_ptr)(gnutls_session_t, void *);
  void *(*session_get_ptr)(gnutls_session_t);
  int (*handshake)(gnutls_session_t);
  ssize_t (*record_send)(gnutls_session_t, const void *, size_t);
  ssize_t (*record_recv)(gnutls_session_t, void *, size_t);
  size_t (*record_check_pending)(gnutls_session_t);
  int (*record_get_direction)(gnutls_session_t);
  int (*bye)(gnutls_session_t, gnutls_close_request_t);
  const char *(*strerror)(int);
  int (*psk_allocate_client_credentials)(gnutls_psk_client_credentials_t *);
  int (*psk_set_client_credentials)(gnutls_psk_client_credentials_t, const char *,
                                    const gnutls_datum_t *, gnutls_psk_key_flags);
  void (*psk_free_client_credentials)(gnutls_psk_client_credentials_t);
  int (*psk_allocate_server_credentials)(gnutls_psk_server_credentials_t *);
  void (*psk_set_server_credentials_function)(gnutls_psk_server_credentials_t,
                                              gnutls_psk_server_credentials_function *);
  void (*psk_free_server_credentials)(gnutls_psk_server_credentials_t);
  int (*certificate_allocate_credentials)(gnutls_certificate_credentials_t *);
  int (*certificate_set_x509_key_file)(gnutls_certificate_credentials_t, const char *, const char *,
                                       gnutls_x509_crt_fmt_t);
  int (*certificate_set_x509_trust_file)(gnutls_certificate_credentials_t, const char *,
                                         gnutls_x509_crt_fmt_t);
  void (*certificate_free_credentials)(gnutls_certificate_credentials_t);
  void (*certificate_server_set_request)(gnutls_session_t, gnutls_certificate_request_t);
  void (*session_set_verify_cert)(gnutls_session_t, const char *, unsigned);
  unsigned (*session_get_verify_cert_status)(gnutls_session_t);
  int (*certificate_verification_status_print)(unsigned, gnutls_certificate_type_t,
                                               gnutls_datum_t *, unsigned);
  gnutls_alert_description_t (*alert_get)(gnutls_session_t);
  int (*alert_send_appropriate)(gnutls_session_t, int);
  const char *(*alert_get_name)(gnutls_alert_description_t);
  gnutls_free_function *free; /* the library's variables (function pointers) */
  gnutls_alloc_function *malloc;
} g;
static bool loaded;

static int
tls_load(struct silo_error *err)
{
  if (loaded) return 0;
  void *h = dlopen(GNUTLS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return silo_err(err, ENOENT, "migration needs GnuTLS (%s, Debian package libgnutls30): %s",
                    GNUTLS_SONAME, dlerror());
  struct {
    const char *name;
    void **slot;
  } syms[] = {
#define SYM(n) {"gnutls_" #n, (void **)&g.n}
      SYM(init),
      SYM(deinit),
      SYM(priority_set_direct),
      SYM(credentials_set),
      SYM(transport_set_ptr),
      SYM(transport_set_push_function),
      SYM(transport_set_pull_function),
      SYM(transport_set_pull_timeout_function),
      SYM(session_set_ptr),
      SYM(session_get_ptr),
      SYM(handshake),
      SYM(record_send),
      SYM(record_recv),
      SYM(record_check_pending),
      SYM(record_get_direction),
      SYM(bye),
      SYM(strerror),
      SYM(psk_allocate_client_credentials),
      SYM(psk_set_client_credentials),
      SYM(psk_free_client_credentials),
      SYM(psk_allocate_server_credentials),
      SYM(psk_set_server_credentials_function),
      SYM(psk_free_server_credentials),
      SYM(certificate_allocate_credentials),
      SYM(certificate_set_x509_key_file),
      SYM(certificate_set_x509_trust_file),
      SYM(certificate_free_credentials),
      SYM(certificate_server_set_request),
      SYM(session_set_verify_cert),
      SYM(session_get_verify_cert_status),
      SYM(certificate_verification_status_print),
      SYM(alert_get),
      SYM(alert_send_appropriate),
      SYM(alert_get_name),
      SYM(free),
      SYM(malloc),
#undef SYM
  };
  for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
    *syms[i].slot = dlsym(h, syms[i].name);
    if (!*syms[i].slot) {
      silo_err(err, ENOENT, "%s: missing symbol %s", GNUTLS_SONAME, syms[i].name);
      dlclose(h);
      return -1;
    }
  }
  loaded = true;
  return 0;
}

struct mig_tls_creds {
  bool server, x509;
  unsigned char psk[32];
  gnutls_psk_client_credentials_t psk_client;
  gnutls_psk_server_credentials_t psk_server;
  gnutls_certificate_credentials_t cert;
};

struct mig_tls {
  gnutls_session_t s;
  const struct mig_tls_creds *cr;
  int fd;
  bool done;                /* handshake complete */
  bool send_pending;        /* a record_send returned EAGAIN: call again with NULL, 0 */
  bool more;                /* more records follow at once: MSG_MORE */
  uint64_t raw_in, raw_out; /* bytes on the wire, TLS records included */
};

void
mig_tls_psk(const struct mig_token *t, unsigned char out[32])
{
  sha256_hmac(t->key, t->len, PSK_LABEL, sizeof PSK_LABEL - 1, out);
}

void
mig_tls_creds_free(struct mig_tls_creds *cr)
{
  if (!cr) return;
  if (cr->psk_client) g.psk_free_client_credentials(cr->psk_client);
  if (cr->psk_server) g.psk_free_server_credentials(cr->psk_server);
  if (cr->cert) g.certificate_free_credentials(cr->cert);
  explicit_bzero(cr->psk, sizeof cr->psk);
  free(cr);
}

/* The receiver's PSK for the identity the client named: ours, or none. */
static int
psk_lookup(gnutls_session_t s, const char *user, gnutls_datum_t *key)
{
  struct mig_tls *t = g.session_get_ptr(s);
  if (!t || strcmp(user, PSK_IDENTITY) != 0) return -1;
  key->data = (*g.malloc)(sizeof t->cr->psk);
  if (!key->data) return -1;
  memcpy(key->data, t->cr->psk, sizeof t->cr->psk);
  key->size = sizeof t->cr->psk;
  return 0;
}

int
mig_tls_creds_load(const struct mig_token *tok, const struct mig_tls_files *f, bool server,
                   struct mig_tls_creds **out, struct silo_error *err)
{
  int n = !!f->cert + !!f->key + !!f->ca;
  if (n != 0 && n != 3)
    return silo_err(err, EINVAL, "--tls-cert, --tls-key and --tls-ca go together (%s is missing)",
                    !f->cert  ? "--tls-cert"
                    : !f->key ? "--tls-key"
                              : "--tls-ca");
  if (tls_load(err) < 0) return -1;
  struct mig_tls_creds *cr = xcalloc(1, sizeof *cr);
  cr->server = server;
  cr->x509 = n == 3;
  int r;
  if (cr->x509) {
    if ((r = g.certificate_allocate_credentials(&cr->cert)) < 0) goto gnutls_fail;
    r = g.certificate_set_x509_key_file(cr->cert, f->cert, f->key, GNUTLS_X509_FMT_PEM);
    if (r < 0) {
      silo_err(err, EINVAL, "--tls-cert `%s` / --tls-key `%s`: %s", f->cert, f->key, g.strerror(r));
      goto fail;
    }
    r = g.certificate_set_x509_trust_file(cr->cert, f->ca, GNUTLS_X509_FMT_PEM);
    if (r <= 0) {
      silo_err(err, EINVAL, "--tls-ca `%s`: %s", f->ca,
               r == 0 ? "no certificate in it" : g.strerror(r));
      goto fail;
    }
  } else {
    mig_tls_psk(tok, cr->psk);
    if (server) {
      if ((r = g.psk_allocate_server_credentials(&cr->psk_server)) < 0) goto gnutls_fail;
      g.psk_set_server_credentials_function(cr->psk_server, psk_lookup);
    } else {
      gnutls_datum_t key = {.data = cr->psk, .size = sizeof cr->psk};
      if ((r = g.psk_allocate_client_credentials(&cr->psk_client)) < 0 ||
          (r = g.psk_set_client_credentials(cr->psk_client, PSK_IDENTITY, &key,
                                            GNUTLS_PSK_KEY_RAW)) < 0)
        goto gnutls_fail;
    }
  }
  *out = cr;
  return 0;
gnutls_fail:
  silo_err(err, EIO, "GnuTLS: %s", g.strerror(r));
fail:
  mig_tls_creds_free(cr);
  return -1;
}

/* ---- transport: the non-blocking socket, counted ---- */

static ssize_t
push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
  struct mig_tls *t = p;
  /* Records are 16 KiB: with TCP_NODELAY each would leave as a packet of its own
   * (a quarter of what sendfile sends at once); MSG_MORE lets the kernel fill
   * full-sized segments until the last record of what is queued. */
  ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL | (t->more ? MSG_MORE : 0));
  if (n > 0) t->raw_out += (uint64_t)n;
  return n;
}

static ssize_t
pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
  struct mig_tls *t = p;
  ssize_t n = recv(t->fd, buf, len, 0);
  if (n > 0) t->raw_in += (uint64_t)n;
  return n;
}

static int
pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
  struct mig_tls *t = p;
  struct pollfd pf = {.fd = t->fd, .events = POLLIN};
  return poll(&pf, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

int
mig_tls_start(struct mig_conn *c, const struct mig_tls_creds *cr, struct silo_error *err)
{
  struct mig_tls *t = xcalloc(1, sizeof *t);
  t->cr = cr;
  t->fd = c->fd;
  int r = g.init(&t->s, (cr->server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK |
                            GNUTLS_NO_TICKETS);
  if (r < 0) {
    free(t);
    return silo_err(err, EIO, "GnuTLS: %s", g.strerror(r));
  }
  g.session_set_ptr(t->s, t);
  const char *errpos = NULL;
  r = g.priority_set_direct(t->s, cr->x509 ? PRIO_X509 : PRIO_PSK, &errpos);
  if (r >= 0) {
    if (cr->x509) {
      r = g.credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, cr->cert);
      /* mutual: the receiver asks for the source's certificate and requires it;
       * both verify the peer's chain against --tls-ca (no host name: the CA is the
       * migration's own, every certificate it signed is a silo host) */
      if (cr->server) g.certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
      g.session_set_verify_cert(t->s, NULL, 0);
    } else {
      r = g.credentials_set(t->s, GNUTLS_CRD_PSK,
                            cr->server ? (void *)cr->psk_server : (void *)cr->psk_client);
    }
  }
  if (r < 0) {
    g.deinit(t->s);
    free(t);
    return silo_err(err, EIO, "GnuTLS: %s", g.strerror(r));
  }
  g.transport_set_ptr(t->s, t);
  g.transport_set_push_function(t->s, push);
  g.transport_set_pull_function(t->s, pull);
  g.transport_set_pull_timeout_function(t->s, pull_timeout);
  c->tls = t;
  return 0;
}

static void
count(struct mig_conn *c, uint64_t in0, uint64_t out0)
{
  c->received += c->tls->raw_in - in0;
  c->sent += c->tls->raw_out - out0;
}

/* Why a handshake failed, for the log and the source's error. */
static int
handshake_error(struct mig_conn *c, int r, struct silo_error *err)
{
  struct mig_tls *t = c->tls;
  if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
    gnutls_datum_t why = {0};
    unsigned st = g.session_get_verify_cert_status(t->s);
    g.certificate_verification_status_print(st, GNUTLS_CRT_X509, &why, 0);
    silo_err(err, EACCES, "authentication failed: TLS: %s's certificate: %s", c->peer,
             why.data ? (char *)why.data : "not trusted");
    if (why.data) (*g.free)(why.data);
    return -1;
  }
  const char *hint =
      t->cr->x509 ? "a certificate it does not trust, or no certificate?" : "not the same token?";
  if (r == GNUTLS_E_FATAL_ALERT_RECEIVED) {
    const char *a = g.alert_get_name(g.alert_get(t->s));
    return silo_err(err, EACCES,
                    "authentication failed: %s refused the TLS handshake (alert: %s; %s)", c->peer,
                    a ? a : "unknown", hint);
  }
  if (r == GNUTLS_E_INSUFFICIENT_CREDENTIALS || r == GNUTLS_E_NO_CIPHER_SUITES ||
      r == GNUTLS_E_NO_COMMON_KEY_SHARE)
    return silo_err(err, EACCES,
                    "authentication failed: the TLS handshake with %s failed: %s (the other "
                    "end uses %s: --tls-cert, --tls-key and --tls-ca go on both ends or on "
                    "neither)",
                    c->peer, g.strerror(r), t->cr->x509 ? "the token's PSK" : "certificates");
  if (r == GNUTLS_E_UNEXPECTED_PACKET_LENGTH || r == GNUTLS_E_UNSUPPORTED_VERSION_PACKET ||
      r == GNUTLS_E_UNEXPECTED_PACKET || r == GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET)
    return silo_err(err, EPROTO, "%s does not speak silo's protocol (TLS 1.3: %s)", c->peer,
                    g.strerror(r));
  if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PUSH_ERROR || r == GNUTLS_E_PULL_ERROR)
    return silo_err(err, ECONNRESET, "%s closed the connection during the TLS handshake (%s; %s)",
                    c->peer, g.strerror(r), hint);
  return silo_err(err, EACCES, "authentication failed: the TLS handshake with %s failed: %s (%s)",
                  c->peer, g.strerror(r), hint);
}

int
mig_tls_handshake_step(struct mig_conn *c, struct silo_error *err)
{
  struct mig_tls *t = c->tls;
  if (t->done) return 1;
  uint64_t in0 = t->raw_in, out0 = t->raw_out;
  int r = g.handshake(t->s);
  count(c, in0, out0);
  if (r == GNUTLS_E_SUCCESS) return t->done = true, 1;
  if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) return 0;
  /* the peer learns that it was refused (bad record MAC, unknown CA...), not why
   * in more detail; non-blocking, so a peer that reads nothing costs nothing */
  if (r != GNUTLS_E_FATAL_ALERT_RECEIVED && r != GNUTLS_E_PREMATURE_TERMINATION &&
      r != GNUTLS_E_PUSH_ERROR && r != GNUTLS_E_PULL_ERROR)
    g.alert_send_appropriate(t->s, r);
  int ret = handshake_error(c, r, err);
  count(c, in0, out0);
  return ret;
}

bool
mig_tls_wants_write(const struct mig_conn *c)
{
  return c->tls && !c->tls->done && g.record_get_direction(c->tls->s) == 1;
}

int
mig_tls_handshake(struct mig_conn *c, unsigned timeout_ms, struct silo_error *err)
{
  double end = time_mono_s() + timeout_ms / 1000.0;
  for (;;) {
    int r = mig_tls_handshake_step(c, err);
    if (r) return r < 0 ? -1 : 0;
    if (mig_interrupted) return silo_err(err, 0, "interrupted by a signal");
    double left = end - time_mono_s();
    if (left <= 0)
      return silo_err(err, ETIMEDOUT, "no TLS handshake with %s within %u s", c->peer,
                      timeout_ms / 1000);
    struct pollfd pf = {.fd = c->fd, .events = mig_tls_wants_write(c) ? POLLOUT : POLLIN};
    if (poll(&pf, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
      return silo_err(err, errno, "poll");
  }
}

int
mig_tls_flush(struct mig_conn *c, struct silo_error *err)
{
  struct mig_tls *t = c->tls;
  uint64_t in0 = t->raw_in, out0 = t->raw_out;
  int e = 0;
  while (c->wpos < c->wlen) {
    ssize_t n;
    if (t->send_pending) {
      n = g.record_send(t->s, NULL, 0);
    } else {
      size_t len = c->wlen - c->wpos;
      t->more = len > 16384;
      n = g.record_send(t->s, c->wbuf + c->wpos, len < 16384 ? len : 16384);
    }
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
      /* the record is encrypted and buffered: it goes out with the next call */
      t->send_pending = true;
      break;
    }
    t->send_pending = false;
    if (n < 0) {
      e = (int)n;
      break;
    }
    c->wpos += (size_t)n;
  }
  /* c->sent counts the wire bytes (records), as the plain connection did */
  if (e) {
    /* a receiver that refused our certificate after the handshake (TLS 1.3 checks
     * the client's last) said so in an alert, still in the socket's queue */
    unsigned char scratch[256];
    ssize_t n = g.record_recv(t->s, scratch, sizeof scratch);
    count(c, in0, out0);
    if (n == GNUTLS_E_FATAL_ALERT_RECEIVED) return handshake_error(c, (int)n, err);
    return silo_err(err, EPIPE, "send to %s: TLS: %s", c->peer, g.strerror(e));
  }
  count(c, in0, out0);
  return 0;
}

int
mig_tls_read(struct mig_conn *c, struct silo_error *err)
{
  struct mig_tls *t = c->tls;
  uint64_t in0 = t->raw_in, out0 = t->raw_out;
  int r = 0;
  bool got = false;
  for (;;) {
    /* as a plain recv() fills what the buffer has room for, read records until
     * the socket is empty or the room is; what is decrypted but did not fit
     * (check_pending) is read too, so that nothing waits inside GnuTLS where
     * poll() would not see it */
    size_t room = c->rcap - c->rlen;
    bool pending = g.record_check_pending(t->s) > 0;
    if (room < 16384 && !pending) break;
    if (room < 16384) {
      c->rcap += 65536;
      c->rbuf = xrealloc(c->rbuf, c->rcap);
    }
    ssize_t n = g.record_recv(t->s, c->rbuf + c->rlen, c->rcap - c->rlen);
    if (n > 0) {
      c->rlen += (size_t)n;
      got = true;
      continue;
    }
    if (n == GNUTLS_E_AGAIN) break;
    if (n == GNUTLS_E_INTERRUPTED) {
      if (mig_interrupted) {
        r = silo_err(err, 0, "interrupted by a signal");
        break;
      }
      continue;
    }
    /* as recv(): what arrived before the end or an error is handed out first,
     * the next call reports it (GnuTLS reports it again) */
    if (got) break;
    if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
      r = silo_err(err, ECONNRESET, "%s closed the connection", c->peer);
    else if (n == GNUTLS_E_FATAL_ALERT_RECEIVED)
      r = handshake_error(c, (int)n, err);
    else if (n == GNUTLS_E_PULL_ERROR)
      r = silo_err(err, errno ? errno : EIO, "receive from %s", c->peer);
    else
      r = silo_err(err, EPROTO, "receive from %s: TLS: %s", c->peer, g.strerror((int)n));
    break;
  }
  count(c, in0, out0);
  return r;
}

void
mig_tls_close(struct mig_conn *c)
{
  struct mig_tls *t = c->tls;
  if (!t) return;
  /* close_notify if the socket takes it now (non-blocking: never waits) */
  if (t->done && c->fd >= 0) g.bye(t->s, GNUTLS_SHUT_WR);
  g.deinit(t->s);
  free(t);
  c->tls = NULL;
}
