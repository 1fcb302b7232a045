/* Unit tests of lib/migrate_*.c without CRIU: HMAC-SHA256 (RFC 4231 vectors), the
 * framing over a socketpair, the frame limit before authentication, the handshake
 * with right and wrong tokens (whole and a frame at a time), peer path and name
 * checks, directories opened beneath the bundle, the stdio device allow-list, and
 * a rootfs sync between two directories (only differing files move,
 * extras go, links and modes arrive; a second pass with nothing changed sends
 * nothing).
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
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/migrate/migrate.h"

static void
hmac_hex(const char *key, size_t kl, const char *msg, size_t ml, char out[65])
{
  unsigned char mac[32];
  sha256_hmac(key, kl, msg, ml, mac);
  mig_hex(mac, 32, out);
}

static void
test_hmac_rfc4231(void **state)
{
  (void)state;
  char out[65], key[131];
  memset(key, 0x0b, 20);
  hmac_hex(key, 20, "Hi There", 8, out);
  assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  hmac_hex("Jefe", 4, "what do ya want for nothing?", 28, out);
  assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  memset(key, 0xaa, 131); /* a key longer than the block: hashed first */
  const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
  hmac_hex(key, 131, m, strlen(m), out);
  assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void
test_paths(void **state)
{
  (void)state;
  assert_true(mig_path_ok("a"));
  assert_true(mig_path_ok("a/b/c.img"));
  assert_true(mig_path_ok("..a/b.."));
  assert_false(mig_path_ok(""));
  assert_false(mig_path_ok("/etc/passwd"));
  assert_false(mig_path_ok("a/../b"));
  assert_false(mig_path_ok(".."));
  assert_false(mig_path_ok("a//b"));
  assert_false(mig_path_ok("a/"));
  assert_false(mig_path_ok("./a"));
}

/* What a peer names as one path component (root.path, a tree): one clean name. */
static void
test_names(void **state)
{
  (void)state;
  assert_true(mig_name_ok("rootfs"));
  assert_true(mig_name_ok("..a"));
  assert_true(mig_name_ok(".migrate-not"));
  assert_false(mig_name_ok(NULL));
  assert_false(mig_name_ok(""));
  assert_false(mig_name_ok("."));
  assert_false(mig_name_ok(".."));
  assert_false(mig_name_ok("../../victim"));
  assert_false(mig_name_ok("sub/../../victim"));
  assert_false(mig_name_ok("a/b"));
  assert_false(mig_name_ok("/"));
  assert_false(mig_name_ok("/etc"));
  assert_false(mig_name_ok("a/"));
}

/* Symlinks in image trees stay beneath .migrate (the tree is one level down). */
static void
test_image_links(void **state)
{
  (void)state;
  assert_true(mig_link_ok("parent", "../pre-1"));
  assert_true(mig_link_ok("parent", "pages-1.img"));
  assert_true(mig_link_ok("a/b", "../../x/y"));
  assert_true(mig_link_ok("parent", ".."));
  assert_false(mig_link_ok("parent", "../.."));
  assert_false(mig_link_ok("a/b", "../../../x"));
  assert_false(mig_link_ok("parent", "/etc/shadow"));
  assert_false(mig_link_ok("parent", "x/../../.."));
  assert_false(mig_link_ok("parent", "d/.."));
  assert_false(mig_link_ok("parent", "./x"));
  assert_false(mig_link_ok("parent", "x//y"));
  assert_false(mig_link_ok("parent", ""));
  assert_false(mig_link_ok("parent", NULL));
}

/* mig_mkdir_beneath: made or found, never through a symlink or out of dirfd. */
static void
test_mkdir_beneath(void **state)
{
  (void)state;
  char dir[] = "/tmp/silo-test-beneath-XXXXXX";
  assert_non_null(mkdtemp(dir));
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(dfd >= 0);
  struct silo_error err = {0};
  bool created = false;
  int fd = mig_mkdir_beneath(dfd, "x", 0700, &created, &err);
  assert_true(fd >= 0);
  assert_true(created);
  close(fd);
  fd = mig_mkdir_beneath(dfd, "x", 0700, &created, &err);
  assert_true(fd >= 0);
  assert_false(created);
  close(fd);
  assert_int_equal(symlinkat("/tmp", dfd, "l"), 0);
  assert_int_equal(mig_mkdir_beneath(dfd, "l", 0700, NULL, &err), -1);
  assert_int_equal(err.errnum, ELOOP);
  assert_int_equal(mig_mkdir_beneath(dfd, "..", 0700, NULL, &err), -1);
  assert_int_equal(mig_mkdir_beneath(dfd, "x/../../y", 0700, NULL, &err), -1);
  assert_int_equal(err.errnum, EINVAL);
  unlinkat(dfd, "l", 0);
  unlinkat(dfd, "x", AT_REMOVEDIR);
  close(dfd);
  rmdir(dir);
}

/* Stdio a peer names: only the harmless character devices are opened. */
static void
test_stdio_devices(void **state)
{
  (void)state;
  struct silo_error err = {0};
  int fd = mig_stdio_dev_open("/dev/null", O_WRONLY, &err);
  assert_true(fd >= 0);
  close(fd);
  char dir[] = "/tmp/silo-test-stdio-XXXXXX", p[96];
  assert_non_null(mkdtemp(dir));
  /* a file (as /etc/shadow would be), a FIFO (which would block an open), a
   * symlink to /dev/null, another device, a relative path */
  snprintf(p, sizeof p, "%s/file", dir);
  close(open(p, O_WRONLY | O_CREAT, 0600));
  assert_int_equal(mig_stdio_dev_open(p, O_RDONLY, &err), -1);
  assert_non_null(strstr(err.msg, "not allowed"));
  unlink(p);
  snprintf(p, sizeof p, "%s/fifo", dir);
  assert_int_equal(mkfifo(p, 0600), 0);
  assert_int_equal(mig_stdio_dev_open(p, O_RDONLY, &err), -1);
  assert_non_null(strstr(err.msg, "not allowed"));
  unlink(p);
  snprintf(p, sizeof p, "%s/link", dir);
  assert_int_equal(symlink("/dev/null", p), 0);
  assert_int_equal(mig_stdio_dev_open(p, O_WRONLY, &err), -1);
  unlink(p);
  rmdir(dir);
  assert_int_equal(mig_stdio_dev_open("/dev/tty", O_WRONLY, &err), -1);
  assert_int_equal(mig_stdio_dev_open("dev/null", O_WRONLY, &err), -1);
}

static void
conn_pair(struct mig_conn *a, struct mig_conn *b)
{
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  mig_conn_init(a, sv[0]);
  mig_conn_init(b, sv[1]);
  a->idle_ms = b->idle_ms = 5000;
  strcpy(a->peer, "b");
  strcpy(b->peer, "a");
}

static void
test_frames(void **state)
{
  (void)state;
  struct mig_conn a, b;
  struct silo_error err = {0};
  conn_pair(&a, &b);
  static unsigned char big[3 << 20];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 7);
  assert_int_equal(mig_send(&a, MIG_PING, NULL, 0, &err), 0);
  assert_int_equal(mig_send_json(&a, MIG_OFFER, json_pack("{s:s}", "id", "x"), &err), 0);
  pid_t pid = fork();
  if (pid == 0) { /* a big frame needs a reader on the other side */
    struct silo_error e = {0};
    _exit(mig_send(&a, MIG_DATA, big, sizeof big, &e) < 0);
  }
  json_t *j = NULL;
  assert_int_equal(mig_recv_json(&b, MIG_OFFER, &j, &err), 0); /* the PING is skipped */
  assert_string_equal(json_string_value(json_object_get(j, "id")), "x");
  json_decref(j);
  struct mig_frame f;
  assert_int_equal(mig_recv(&b, &f, &err), 0);
  assert_int_equal(f.type, MIG_DATA);
  assert_int_equal(f.len, sizeof big);
  assert_memory_equal(f.data, big, sizeof big);
  int st;
  waitpid(pid, &st, 0);
  assert_int_equal(st, 0);
  /* an ERROR frame becomes the receiver's error */
  assert_int_equal(mig_send_json(&a, MIG_ERROR, json_pack("{s:s}", "message", "no room"), &err), 0);
  assert_int_equal(mig_recv_json(&b, MIG_ACCEPT, &j, &err), -1);
  assert_non_null(strstr(err.msg, "no room"));
  /* garbage is refused */
  assert_int_equal(write(a.fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
  assert_int_equal(mig_recv(&b, &f, &err), -1);
  mig_conn_close(&a);
  mig_conn_close(&b);
}

/* Before authentication a frame over 64 KiB is refused on its header, at once. */
static void
test_frame_limit(void **state)
{
  (void)state;
  struct mig_conn a, b;
  struct silo_error err = {0};
  conn_pair(&a, &b);
  b.max_payload = MIG_AUTH_MAX_PAYLOAD;
  static unsigned char payload[MIG_AUTH_MAX_PAYLOAD];
  assert_int_equal(mig_send(&a, MIG_HELLO, payload, sizeof payload, &err), 0);
  struct mig_frame f;
  assert_int_equal(mig_recv(&b, &f, &err), 0); /* 64 KiB: fine */
  assert_int_equal(f.len, sizeof payload);
  /* only the header of a 1 MiB frame: no waiting for its payload */
  unsigned char h[MIG_HDR_LEN] = {MIG_HELLO, 0, 0, 0, 0, 0x10, 0, 0};
  assert_int_equal(write(a.fd, h, sizeof h), (ssize_t)sizeof h);
  double t = time_mono_s();
  assert_int_equal(mig_recv(&b, &f, &err), -1);
  assert_true(time_mono_s() - t < 1.0);
  assert_int_equal(err.errnum, EMSGSIZE);
  assert_non_null(strstr(err.msg, "over the limit of 65536 before authentication"));
  mig_conn_close(&a);
  mig_conn_close(&b);
}

/* The receiver's handshake one frame at a time: anything but HELLO, then AUTH,
 * is refused with an ERROR for the peer. */
static void
test_auth_steps(void **state)
{
  (void)state;
  struct mig_conn a, b;
  struct silo_error err = {0};
  conn_pair(&a, &b);
  struct mig_token t = {.len = 20};
  memcpy(t.key, "0123456789abcdef-tok", 20);
  struct mig_auth st = {0};
  const char *offer = "{\"id\": \"x\"}";
  struct mig_frame f = {
      .type = MIG_OFFER, .data = (const unsigned char *)offer, .len = strlen(offer)};
  assert_int_equal(mig_auth_receiver_step(&b, &st, &t, &f, &err), -1);
  assert_non_null(strstr(err.msg, "sent OFFER before authenticating"));
  assert_int_equal(mig_flush(&b, &err), 0);
  json_t *j = NULL;
  assert_int_equal(mig_recv_json(&a, MIG_CHALLENGE, &j, &err), -1);
  assert_non_null(strstr(err.msg, "before authenticating"));
  /* a HELLO gets a CHALLENGE; an AUTH with a wrong MAC is refused */
  char hello[128];
  snprintf(hello, sizeof hello, "{\"proto\": 1, \"nonce\": \"%064d\"}", 0);
  f = (struct mig_frame){
      .type = MIG_HELLO, .data = (const unsigned char *)hello, .len = strlen(hello)};
  assert_int_equal(mig_auth_receiver_step(&b, &st, &t, &f, &err), 0);
  assert_int_equal(mig_flush(&b, &err), 0);
  assert_int_equal(mig_recv_json(&a, MIG_CHALLENGE, &j, &err), 0);
  json_decref(j);
  char auth[128];
  snprintf(auth, sizeof auth, "{\"mac\": \"%064d\"}", 0);
  f = (struct mig_frame){
      .type = MIG_AUTH, .data = (const unsigned char *)auth, .len = strlen(auth)};
  assert_int_equal(mig_auth_receiver_step(&b, &st, &t, &f, &err), -1);
  assert_int_equal(err.errnum, EACCES);
  mig_conn_close(&a);
  mig_conn_close(&b);
}

static void
auth_pair(const char *ktx, const char *krx, int *src_r, int *rx_r)
{
  struct mig_conn a, b;
  conn_pair(&a, &b);
  struct mig_token ts = {.len = strlen(ktx)}, tr = {.len = strlen(krx)};
  memcpy(ts.key, ktx, ts.len);
  memcpy(tr.key, krx, tr.len);
  pid_t pid = fork();
  if (pid == 0) {
    struct silo_error e = {0};
    mig_conn_close(&a);
    _exit(mig_auth_receiver(&b, &tr, &e) < 0 ? 1 : 0);
  }
  mig_conn_close(&b);
  struct silo_error err = {0};
  *src_r = mig_auth_source(&a, &ts, &err);
  mig_conn_close(&a);
  int st;
  waitpid(pid, &st, 0);
  *rx_r = WEXITSTATUS(st);
}

static void
test_handshake(void **state)
{
  (void)state;
  int s, r;
  auth_pair("0123456789abcdef-same", "0123456789abcdef-same", &s, &r);
  assert_int_equal(s, 0);
  assert_int_equal(r, 0);
  auth_pair("0123456789abcdef-mine", "0123456789abcdef-else", &s, &r);
  assert_int_equal(s, -1);
  assert_int_equal(r, 1);
}

static void
test_token_file(void **state)
{
  (void)state;
  char path[] = "/tmp/silo-test-token-XXXXXX";
  int fd = mkstemp(path);
  struct mig_token t;
  struct silo_error err = {0};
  assert_int_equal(write(fd, "short\n", 6), 6);
  assert_int_equal(mig_token_load(path, &t, &err), -1);
  assert_non_null(strstr(err.msg, "at least 16"));
  assert_int_equal(ftruncate(fd, 0), 0);
  assert_int_equal(pwrite(fd, "a-long-enough-token\n", 20, 0), 20);
  assert_int_equal(mig_token_load(path, &t, &err), 0);
  assert_int_equal(t.len, 19); /* the newline is not part of it */
  close(fd);
  unlink(path);
  assert_int_equal(mig_token_load(NULL, &t, &err), -1);
}

/* ---- rootfs sync between two directories ---- */

static char tmpdir[64];

static void
put(const char *rel, const char *text, mode_t mode)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  fchmod(fd, mode);
  close(fd);
}

static char *
get(const char *rel)
{
  static char buf[256];
  char p[256];
  snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
  int fd = open(p, O_RDONLY | O_NOFOLLOW);
  if (fd < 0) return NULL;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = '\0';
  return buf;
}

/* A receiver in a child, for as many passes as the parent sends on one connection. */
struct rx {
  struct mig_conn a;
  pid_t pid;
};

static void
rx_start(struct rx *r, const char *dst)
{
  struct mig_conn b;
  conn_pair(&r->a, &b);
  r->pid = fork();
  if (r->pid == 0) {
    mig_conn_close(&r->a);
    struct mig_manifest known = {0};
    mkdir(dst, 0755);
    int rootfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) _exit(1);
    for (;;) {
      struct silo_error e = {0};
      struct mig_frame f;
      uint64_t n = 0;
      if (mig_recv(&b, &f, &e) < 0) _exit(0); /* the parent closed */
      if (mig_sync_rootfs_recv(&b, &f, rootfd, &known, &n, &e) < 0) {
        fprintf(stderr, "recv: %s\n", e.msg);
        _exit(1);
      }
    }
  }
  mig_conn_close(&b);
}

static uint64_t
rx_sync(struct rx *r, const char *src, struct mig_manifest *prev)
{
  struct mig_manifest m = {0};
  struct silo_error err = {0};
  if (mig_manifest_build(src, prev, &m, &err) < 0) fail_msg("manifest: %s", err.msg);
  uint64_t bytes = 0;
  if (mig_sync_rootfs_send(&r->a, src, &m, &bytes, &err) < 0) fail_msg("send: %s", err.msg);
  mig_manifest_free(prev);
  *prev = m;
  return bytes;
}

static void
rx_stop(struct rx *r)
{
  mig_conn_close(&r->a);
  int st;
  waitpid(r->pid, &st, 0);
  assert_int_equal(st, 0);
}

static void
test_rootfs_sync(void **state)
{
  (void)state;
  strcpy(tmpdir, "/tmp/silo-test-sync-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  char src[128], dst[128];
  snprintf(src, sizeof src, "%s/src", tmpdir);
  snprintf(dst, sizeof dst, "%s/dst", tmpdir);
  mkdir(src, 0755);
  mkdir(dst, 0755);
  mkdir(strcat(strcpy((char[160]){0}, src), "/etc"), 0750);
  put("src/etc/same", "identical on both\n", 0644);
  put("src/etc/changed", "new text\n", 0600);
  put("src/bin", "#!/bin/sh\n", 04755);
  char l1[160], l2[160];
  snprintf(l1, sizeof l1, "%s/etc/same", src);
  snprintf(l2, sizeof l2, "%s/hard", src);
  assert_int_equal(link(l1, l2), 0);
  snprintf(l2, sizeof l2, "%s/sym", src);
  assert_int_equal(symlink("etc/same", l2), 0);
  /* the destination: one file alike, one different, one extra, a dir in the way */
  mkdir(strcat(strcpy((char[160]){0}, dst), "/etc"), 0755);
  put("dst/etc/same", "identical on both\n", 0644);
  put("dst/etc/changed", "old text\n", 0644);
  put("dst/extra", "must go\n", 0644);
  mkdir(strcat(strcpy((char[160]){0}, dst), "/bin"), 0755);

  struct rx r;
  struct mig_manifest prev = {0};
  rx_start(&r, dst);
  uint64_t sent = rx_sync(&r, src, &prev);
  rx_stop(&r);
  mig_manifest_free(&prev);
  /* etc/changed (9) and bin (10): not etc/same, not the hard link */
  assert_int_equal(sent, 19);
  assert_string_equal(get("dst/etc/changed"), "new text\n");
  assert_string_equal(get("dst/bin"), "#!/bin/sh\n");
  assert_null(get("dst/extra"));
  struct stat a, b;
  char p[200];
  snprintf(p, sizeof p, "%s/bin", dst);
  assert_int_equal(stat(p, &a), 0);
  assert_int_equal(a.st_mode & 07777, 04755);
  snprintf(p, sizeof p, "%s/etc", dst);
  assert_int_equal(stat(p, &a), 0);
  assert_int_equal(a.st_mode & 07777, 0750);
  snprintf(p, sizeof p, "%s/hard", dst);
  char q[200];
  snprintf(q, sizeof q, "%s/etc/same", dst);
  assert_int_equal(stat(p, &a), 0);
  assert_int_equal(stat(q, &b), 0);
  assert_int_equal(a.st_ino, b.st_ino);
  char target[64] = {0};
  snprintf(p, sizeof p, "%s/sym", dst);
  assert_int_equal(readlink(p, target, sizeof target - 1), 8);
  assert_string_equal(target, "etc/same");

  /* passes as a migration makes them: the first finds all there (hashes), the next
   * ones send only what changed in between */
  rx_start(&r, dst);
  assert_int_equal(rx_sync(&r, src, &prev), 0);
  assert_int_equal(rx_sync(&r, src, &prev), 0);
  put("src/etc/changed", "changed again\n", 0600);
  snprintf(p, sizeof p, "%s/bin", src);
  unlink(p);
  assert_int_equal(rx_sync(&r, src, &prev), 14);
  rx_stop(&r);
  assert_string_equal(get("dst/etc/changed"), "changed again\n");
  assert_null(get("dst/bin"));
  mig_manifest_free(&prev);
  int root = open("/tmp", O_RDONLY | O_DIRECTORY);
  fs_rm_rf_at(root, tmpdir + 5, NULL);
  close(root);
}

/* A running container changes its rootfs while a pass is sent: a file deleted or
 * truncated between the manifest and its turn must not fail the pass, and the
 * next pass must leave the destination as the source is then. */
static void
test_rootfs_sync_while_changing(void **state)
{
  (void)state;
  strcpy(tmpdir, "/tmp/silo-test-sync-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  char src[128], dst[128], p[200];
  snprintf(src, sizeof src, "%s/src", tmpdir);
  snprintf(dst, sizeof dst, "%s/dst", tmpdir);
  mkdir(src, 0755);
  mkdir(dst, 0755);
  put("src/gone", "deleted before its turn\n", 0644);
  put("src/short", "this file is truncated before its turn\n", 0644);
  put("src/keep", "kept\n", 0644);

  struct rx r;
  struct mig_manifest prev = {0}, m = {0};
  struct silo_error err = {0};
  rx_start(&r, dst);
  if (mig_manifest_build(src, &prev, &m, &err) < 0) fail_msg("manifest: %s", err.msg);
  snprintf(p, sizeof p, "%s/gone", src);
  assert_int_equal(unlink(p), 0);
  snprintf(p, sizeof p, "%s/short", src);
  assert_int_equal(truncate(p, 4), 0);
  uint64_t bytes = 0;
  if (mig_sync_rootfs_send(&r.a, src, &m, &bytes, &err) < 0) fail_msg("send: %s", err.msg);
  prev = m;
  assert_null(get("dst/gone"));
  assert_string_equal(get("dst/keep"), "kept\n");
  /* the next pass: what the source holds now */
  put("src/gone", "back again\n", 0644);
  rx_sync(&r, src, &prev);
  rx_stop(&r);
  assert_string_equal(get("dst/short"), "this");
  assert_string_equal(get("dst/gone"), "back again\n");
  mig_manifest_free(&prev);
  int root = open("/tmp", O_RDONLY | O_DIRECTORY);
  fs_rm_rf_at(root, tmpdir + 5, NULL);
  close(root);
}

/* The staging tmpfs is bounded in bytes and inodes whatever SILO_MIGRATE_STAGE_MAX
 * says: 0, a non-number or a suffix mean the default (tmpfs reads size=0 as no
 * limit), a positive number is taken.  Needs CAP_SYS_ADMIN (skipped without). */
static void
test_stage_bounded(void **state)
{
  (void)state;
  static const struct {
    const char *env;
    unsigned long long bytes;
  } cases[] = {
      {"0", MIG_STAGE_MAX},  {"abc", MIG_STAGE_MAX}, {"1k", MIG_STAGE_MAX},
      {"-1", MIG_STAGE_MAX}, {"", MIG_STAGE_MAX},    {"1048576", 1048576},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    setenv("SILO_MIGRATE_STAGE_MAX", cases[i].env, 1);
    struct mig_stage st;
    struct silo_error e = {0};
    if (mig_stage_open(&st, &e) < 0) {
      unsetenv("SILO_MIGRATE_STAGE_MAX");
      if (e.errnum == EPERM) skip();
      fail_msg("%s", e.msg);
    }
    struct statfs sf;
    assert_int_equal(fstatfs(st.fd, &sf), 0);
    unsigned long long bytes = (unsigned long long)sf.f_blocks * (unsigned long long)sf.f_bsize;
    if (bytes != cases[i].bytes) fail_msg("`%s`: %llu bytes", cases[i].env, bytes);
    assert_true(sf.f_files > 0 && sf.f_files <= MIG_STAGE_INODES);
    mig_stage_close(&st);
  }
  unsetenv("SILO_MIGRATE_STAGE_MAX");
}

int
main(void)
{
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hmac_rfc4231),
      cmocka_unit_test(test_paths),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_image_links),
      cmocka_unit_test(test_mkdir_beneath),
      cmocka_unit_test(test_stdio_devices),
      cmocka_unit_test(test_frame_limit),
      cmocka_unit_test(test_auth_steps),
      cmocka_unit_test(test_frames),
      cmocka_unit_test(test_handshake),
      cmocka_unit_test(test_token_file),
      cmocka_unit_test(test_rootfs_sync),
      cmocka_unit_test(test_rootfs_sync_while_changing),
      cmocka_unit_test(test_stage_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
