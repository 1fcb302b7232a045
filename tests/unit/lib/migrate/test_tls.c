/* Unit tests of lib/migrate/tls.c over a socketpair (a forked receiver): the PSK
 * derivation (against python's hmac), a TLS-PSK handshake and frames both ways
 * (control frames, a file sent with mig_send_fd, 3 MiB of DATA that take many
 * records and fill the socket; the wire carries more bytes than the payload), and
 * a wrong token fails the handshake on both ends with "authentication failed".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/error.h"
#include "lib/migrate/migrate.h"

#define BIG (3u << 20)

static void
token(struct mig_token *t, const char *s)
{
  t->len = strlen(s);
  memcpy(t->key, s, t->len);
}

static void
test_psk_derivation(void **state)
{
  (void)state;
  struct mig_token t;
  unsigned char psk[32];
  char hex[65];
  token(&t, "0123456789abcdef-token");
  mig_tls_psk(&t, psk);
  mig_hex(psk, 32, hex);
  /* python3: hmac.new(b'0123456789abcdef-token', b'silo-migrate/1 tls-psk\n', 'sha256') */
  assert_string_equal(hex, "7bb8479a4842c3ff4940fbc9409f427f056a124d9079bc622c075d6009804398");
}

static unsigned char *
pattern(void)
{
  unsigned char *b = xmalloc(BIG);
  for (size_t i = 0; i < BIG; i++) b[i] = (unsigned char)(i * 7 + (i >> 12));
  return b;
}

/* The receiver (child): handshake, then echoes HELLO as AUTH_OK and checks the
 * DATA it gets against the pattern.  Exit 0: all fine, 2: handshake failed. */
static int
receiver(int fd, const char *tok)
{
  struct mig_token t;
  token(&t, tok);
  struct mig_tls_files none = {0};
  struct mig_tls_creds *cr = NULL;
  struct silo_error err = {0};
  struct mig_conn c;
  mig_conn_init(&c, fd);
  snprintf(c.peer, sizeof c.peer, "source");
  if (mig_tls_creds_load(&t, &none, true, &cr, &err) < 0 || mig_tls_start(&c, cr, &err) < 0)
    return 3;
  if (mig_tls_handshake(&c, 5000, &err) < 0) {
    fprintf(stderr, "receiver: %s\n", err.msg);
    return strstr(err.msg, "authentication failed") || strstr(err.msg, "closed") ? 2 : 4;
  }
  struct mig_frame f;
  if (mig_recv(&c, &f, &err) < 0 || f.type != MIG_HELLO) return 5;
  if (mig_send(&c, MIG_AUTH_OK, f.data, f.len, &err) < 0) return 6;
  _cleanup_free_ unsigned char *want = pattern();
  size_t got = 0;
  while (got < 2 * BIG) {
    if (mig_recv(&c, &f, &err) < 0 || f.type != MIG_DATA) return 7;
    if (memcmp(f.data, want + got % BIG, f.len) != 0) return 8;
    got += f.len;
  }
  if (mig_send(&c, MIG_DONE, "{}", 2, &err) < 0) return 9;
  mig_conn_close(&c);
  mig_tls_creds_free(cr);
  return 0;
}

/* Runs the source against a forked receiver; *rstatus: the receiver's exit code,
 * msg: the source's error.  Returns the source's result. */
static int
pair(const char *mine, const char *theirs, int *rstatus, char *msg, size_t msglen)
{
  int sp[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(sp[0]);
    _exit(receiver(sp[1], theirs));
  }
  close(sp[1]);
  struct mig_token t;
  token(&t, mine);
  struct mig_tls_files none = {0};
  struct mig_tls_creds *cr = NULL;
  struct silo_error err = {0};
  struct mig_conn c;
  mig_conn_init(&c, sp[0]);
  snprintf(c.peer, sizeof c.peer, "receiver");
  assert_int_equal(mig_tls_creds_load(&t, &none, false, &cr, &err), 0);
  assert_int_equal(mig_tls_start(&c, cr, &err), 0);
  int ret = mig_tls_handshake(&c, 5000, &err);
  struct mig_frame f;
  if (ret == 0) {
    static const char hello[] = "{\"marker\": \"plaintext-marker-0123456789\"}";
    ret = mig_send(&c, MIG_HELLO, hello, sizeof hello - 1, &err);
    if (ret == 0) ret = mig_recv(&c, &f, &err);
    if (ret == 0) {
      assert_int_equal(f.type, MIG_AUTH_OK);
      assert_memory_equal(f.data, hello, sizeof hello - 1);
      /* twice the pattern: from memory, then from a file (no sendfile over TLS) */
      _cleanup_free_ unsigned char *b = pattern();
      for (size_t off = 0; off < BIG; off += MIG_CHUNK)
        assert_int_equal(mig_send(&c, MIG_DATA, b + off, MIG_CHUNK, &err), 0);
      char path[] = "/tmp/silo-test-tls-XXXXXX";
      int fd = mkstemp(path);
      assert_true(fd >= 0);
      unlink(path);
      assert_int_equal(write(fd, b, BIG), (ssize_t)BIG);
      assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
      for (size_t off = 0; off < BIG; off += MIG_CHUNK)
        assert_int_equal(mig_send_fd(&c, MIG_DATA, fd, MIG_CHUNK, &err), 0);
      close(fd);
      assert_int_equal(mig_recv(&c, &f, &err), 0);
      assert_int_equal(f.type, MIG_DONE);
      /* the wire carried more than the payload: records, not plaintext */
      assert_true(c.sent > 2 * BIG);
    }
  }
  snprintf(msg, msglen, "%s", err.msg);
  mig_conn_close(&c);
  mig_tls_creds_free(cr);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  *rstatus = WIFEXITED(st) ? WEXITSTATUS(st) : 100;
  return ret;
}

static void
test_tls_psk(void **state)
{
  (void)state;
  int r;
  char msg[sizeof((struct silo_error *)0)->msg];
  assert_int_equal(pair("0123456789abcdef-same", "0123456789abcdef-same", &r, msg, sizeof msg), 0);
  assert_int_equal(r, 0);
}

static void
test_tls_wrong_token(void **state)
{
  (void)state;
  int r;
  char msg[sizeof((struct silo_error *)0)->msg];
  assert_int_equal(pair("0123456789abcdef-mine", "0123456789abcdef-else", &r, msg, sizeof msg), -1);
  assert_int_equal(r, 2);
  assert_non_null(strstr(msg, "authentication failed"));
}

static void
test_tls_files_go_together(void **state)
{
  (void)state;
  struct mig_token t;
  token(&t, "0123456789abcdef-token");
  struct mig_tls_files two = {.cert = "/nonexistent.pem", .key = "/nonexistent.key"};
  struct mig_tls_creds *cr = NULL;
  struct silo_error err = {0};
  assert_int_equal(mig_tls_creds_load(&t, &two, false, &cr, &err), -1);
  assert_non_null(strstr(err.msg, "--tls-ca is missing"));
  struct mig_tls_files bad = {"/nonexistent.pem", "/nonexistent.key", "/nonexistent-ca.pem"};
  assert_int_equal(mig_tls_creds_load(&t, &bad, true, &cr, &err), -1);
  assert_non_null(strstr(err.msg, "--tls-cert `/nonexistent.pem`"));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_psk_derivation),
      cmocka_unit_test(test_tls_psk),
      cmocka_unit_test(test_tls_wrong_token),
      cmocka_unit_test(test_tls_files_go_together),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
