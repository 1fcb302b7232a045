/* Unit tests of `silo sandbox`'s pure parts (lib/sandbox/opts.c, lib/sandbox/seccomp.c,
 * lib/sandbox/rootless.c): durations, sizes, CPUs, binds, capability names, ids, the
 * rendering of Docker's seccomp profile for a capability set, /etc/subuid ranges
 * and the delegated-cgroup check of rootless sandboxes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lib/base/base.h"
#include "lib/image/image.h"
#include "lib/sandbox/sandbox.h"

#define UNUSED __attribute__((unused))

static void
dur(const char *s, uint64_t want)
{
  uint64_t ms = 12345;
  struct silo_error err = {0};
  if (sandbox_parse_duration(s, &ms, &err) < 0) fail_msg("`%s`: %s", s, err.msg);
  if (ms != want)
    fail_msg("`%s`: %llu ms, expected %llu", s, (unsigned long long)ms, (unsigned long long)want);
}

static void
dur_bad(const char *s)
{
  uint64_t ms;
  struct silo_error err = {0};
  assert_int_equal(sandbox_parse_duration(s, &ms, &err), -1);
  assert_non_null(strstr(err.msg, "is not a duration"));
}

static void
test_duration(void UNUSED **state)
{
  dur("10", 10000);
  dur("0", 0);
  dur("1.5", 1500);
  dur("1s", 1000);
  dur("1.5s", 1500);
  dur(".5s", 500);
  dur("500ms", 500);
  dur("2m", 120000);
  dur("1h", 3600000);
  dur("1d", 86400000);
  dur("1h30m", 5400000);
  dur("1m30s", 90000);
  dur("1m500ms", 60500);
  dur("0.0005s", 1); /* rounded to the millisecond */
  dur_bad("");
  dur_bad("s");
  dur_bad("-1");
  dur_bad("1x");
  dur_bad("10 s");
  dur_bad("1s10"); /* a bare number only on its own */
  dur_bad("1.2.3s");
  dur_bad("0x10");
  dur_bad("1e3");
  dur_bad("inf");
  dur_bad("1mss");
  dur_bad("99999999999999999999d");
}

static void
fmt(uint64_t ms, const char *want)
{
  char buf[64];
  sandbox_format_duration(ms, buf, sizeof buf);
  assert_string_equal(buf, want);
}

static void
test_format_duration(void UNUSED **state)
{
  fmt(0, "0ms");
  fmt(250, "250ms");
  fmt(1000, "1s");
  fmt(1500, "1.5s");
  fmt(60000, "1m");
  fmt(90000, "1m30s");
  fmt(5400000, "1h30m");
  fmt(3600500, "1h0.5s");
}

static void
size(const char *s, int64_t want)
{
  int64_t b = 0;
  struct silo_error err = {0};
  if (sandbox_parse_size(s, &b, &err) < 0) fail_msg("`%s`: %s", s, err.msg);
  assert_int_equal(b, want);
}

static void
size_bad(const char *s)
{
  int64_t b;
  struct silo_error err = {0};
  assert_int_equal(sandbox_parse_size(s, &b, &err), -1);
}

static void
test_size(void UNUSED **state)
{
  size("1048576", 1048576);
  size("1024k", 1048576);
  size("512m", 512LL << 20);
  size("512M", 512LL << 20);
  size("1g", 1LL << 30);
  size("1.5g", 3LL << 29);
  size("2GiB", 2LL << 30);
  size("10MB", 10LL << 20);
  size("1t", 1LL << 40);
  size_bad("");
  size_bad("0");
  size_bad("-1");
  size_bad("1x");
  size_bad("m");
  size_bad("1gg");
  size_bad("100000000000t");
}

static void
test_cpus(void UNUSED **state)
{
  int64_t quota;
  uint64_t period;
  struct silo_error err = {0};
  assert_int_equal(sandbox_parse_cpus("1.5", &quota, &period, &err), 0);
  assert_int_equal(quota, 150000);
  assert_int_equal(period, 100000);
  assert_int_equal(sandbox_parse_cpus("2", &quota, &period, &err), 0);
  assert_int_equal(quota, 200000);
  assert_int_equal(sandbox_parse_cpus("0.01", &quota, &period, &err), 0);
  assert_int_equal(quota, 1000);
  assert_int_equal(sandbox_parse_cpus("0.001", &quota, &period, &err), -1);
  assert_non_null(strstr(err.msg, "at least 0.01"));
  assert_int_equal(sandbox_parse_cpus("0", &quota, &period, &err), -1);
  assert_int_equal(sandbox_parse_cpus("x", &quota, &period, &err), -1);
  assert_int_equal(sandbox_parse_cpus("1,5", &quota, &period, &err), -1);
}

static void
test_bind(void UNUSED **state)
{
  struct sandbox_bind b;
  struct silo_error err = {0};
  assert_int_equal(sandbox_parse_bind("/src:/dst", &b, &err), 0);
  assert_string_equal(b.src, "/src");
  assert_string_equal(b.dst, "/dst");
  assert_false(b.ro);
  free(b.src), free(b.dst);
  assert_int_equal(sandbox_parse_bind("rel/dir:/data:ro", &b, &err), 0);
  assert_string_equal(b.src, "rel/dir");
  assert_true(b.ro);
  free(b.src), free(b.dst);
  assert_int_equal(sandbox_parse_bind("/a:/b:rw", &b, &err), 0);
  assert_false(b.ro);
  free(b.src), free(b.dst);
  const char *bad[] = {"/src", ":/dst", "/src:", "/src:dst", "/src:/dst:rx", "/src:/dst:ro:x"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(sandbox_parse_bind(bad[i], &b, &err), -1);
}

static void
cap(const char *in, const char *want)
{
  struct silo_error err = {0};
  char *c = sandbox_cap_name(in, &err);
  if (!want) {
    assert_null(c);
    assert_non_null(strstr(err.msg, "unknown capability"));
    return;
  }
  assert_non_null(c);
  assert_string_equal(c, want);
  free(c);
}

static void
test_caps(void UNUSED **state)
{
  cap("NET_ADMIN", "CAP_NET_ADMIN");
  cap("net_admin", "CAP_NET_ADMIN");
  cap("CAP_SYS_PTRACE", "CAP_SYS_PTRACE");
  cap("cap_chown", "CAP_CHOWN");
  cap("all", "ALL");
  cap("CAP_ALL", "ALL");
  cap("NET_FOO", NULL);
  cap("", NULL);
  cap("CAP_", NULL);
}

static void
test_ids(void UNUSED **state)
{
  uint32_t u = 1, g = 1;
  bool has;
  assert_int_equal(creds_parse_ids("1000", &u, &g, &has), 0);
  assert_int_equal(u, 1000);
  assert_false(has);
  assert_int_equal(creds_parse_ids("0:5", &u, &g, &has), 0);
  assert_int_equal(u, 0);
  assert_int_equal(g, 5);
  assert_true(has);
  assert_int_equal(creds_parse_ids("4294967295", &u, &g, &has), -1); /* (uid_t)-1 */
  assert_int_equal(creds_parse_ids("", &u, &g, &has), -1);
  assert_int_equal(creds_parse_ids("1:", &u, &g, &has), -1);
  assert_int_equal(creds_parse_ids("root", &u, &g, &has), -1);
  assert_int_equal(creds_parse_ids("-1", &u, &g, &has), -1);
}

/* ---- the seccomp profile ---- */

static bool
allows(json_t *p, const char *name)
{
  size_t i, k;
  json_t *r, *n;
  json_array_foreach(json_object_get(p, "syscalls"), i, r)
  {
    if (strcmp(json_string_value(json_object_get(r, "action")), "SCMP_ACT_ALLOW") != 0) continue;
    if (json_object_get(r, "args")) continue;
    json_array_foreach(json_object_get(r, "names"), k,
                       n) if (strcmp(json_string_value(n), name) == 0) return true;
  }
  return false;
}

static void
test_seccomp_default(void UNUSED **state)
{
  char *caps[] = {"CAP_CHOWN", "CAP_KILL"};
  struct silo_error err = {0};
  json_t *p = sandbox_seccomp_default(caps, 2, &err);
  assert_non_null(p);
  assert_string_equal(json_string_value(json_object_get(p, "defaultAction")), "SCMP_ACT_ERRNO");
  assert_null(json_object_get(p, "archMap"));
  assert_true(json_is_array(json_object_get(p, "architectures")));
  assert_true(allows(p, "read"));
  assert_false(allows(p, "mount"));
  assert_false(allows(p, "reboot"));
  /* No template keys reach the OCI profile. */
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(p, "syscalls"), i, r)
  {
    assert_null(json_object_get(r, "includes"));
    assert_null(json_object_get(r, "excludes"));
    assert_null(json_object_get(r, "comment"));
  }
  if (strcmp(image_host_arch(), "amd64") == 0) {
    assert_true(allows(p, "arch_prctl"));
    assert_int_equal(json_array_size(json_object_get(p, "architectures")), 3);
  }
  json_decref(p);

  char *admin[] = {"CAP_SYS_ADMIN", "CAP_SYS_BOOT"};
  p = sandbox_seccomp_default(admin, 2, &err);
  assert_non_null(p);
  assert_true(allows(p, "mount"));
  assert_true(allows(p, "clone3")); /* not ENOSYS any more */
  assert_true(allows(p, "reboot"));
  json_decref(p);
}

static void
test_subid_range(void UNUSED **state)
{
  const char *subuid = "alice:100000:65536\n"
                       "bob:165536:65536\n"
                       "bad:nope\n"
                       "1003:231072:1000\n"
                       "bob:300000:10\n"
                       "zero:400000:0\n";
  uint32_t start = 0, count = 0;
  assert_true(sandbox_subid_range(subuid, "bob", 1002, &start, &count));
  assert_int_equal(start, 165536); /* the first range */
  assert_int_equal(count, 65536);
  assert_true(sandbox_subid_range(subuid, "carol", 1003, &start, &count)); /* by uid */
  assert_int_equal(start, 231072);
  assert_int_equal(count, 1000);
  assert_true(sandbox_subid_range(subuid, NULL, 1003, &start, &count));
  assert_false(sandbox_subid_range(subuid, "bo", 1, &start, &count));   /* a prefix is not a name */
  assert_false(sandbox_subid_range(subuid, "bad", 2, &start, &count));  /* malformed */
  assert_false(sandbox_subid_range(subuid, "zero", 3, &start, &count)); /* empty range */
  assert_false(sandbox_subid_range("", "alice", 1, &start, &count));
  assert_false(sandbox_subid_range("big:4294967295:2\n", "big", 1, &start, &count));
}

/* A fake cgroup2 tree in a temp dir: <tmp>/a/b (the caller's) under <tmp>/a. */
static void
test_cgroup_delegated(void UNUSED **state)
{
  char tmp[] = "/tmp/silo-unit-cg.XXXXXX";
  assert_non_null(mkdtemp(tmp));
  char path[256];
  snprintf(path, sizeof path, "%s/a", tmp);
  assert_int_equal(mkdir(path, 0755), 0);
  snprintf(path, sizeof path, "%s/a/b", tmp);
  assert_int_equal(mkdir(path, 0755), 0);
  snprintf(path, sizeof path, "%s/a/cgroup.procs", tmp);
  FILE *f = fopen(path, "w");
  fclose(f);
  snprintf(path, sizeof path, "%s/a/cgroup.subtree_control", tmp);
  f = fopen(path, "w");
  fputs("cpu memory pids\n", f);
  fclose(f);

  const char *mem[] = {"memory"}, *all[] = {"memory", "cpu", "pids"}, *io[] = {"io"};
  const char *self = "12:pids:/whatever\n0::/a/b\n";
  char *parent = NULL;
  struct silo_error err = {0};
  assert_int_equal(sandbox_cgroup_delegated(tmp, self, mem, 1, &parent, &err), 0);
  assert_string_equal(parent, "/a");
  free(parent);
  assert_int_equal(sandbox_cgroup_delegated(tmp, self, all, 3, &parent, &err), 0);
  free(parent);
  assert_int_equal(sandbox_cgroup_delegated(tmp, self, io, 1, &parent, &err), -1);
  assert_non_null(strstr(err.msg, "the io controller is not enabled"));
  assert_null(parent);
  /* no cgroup v2 line, or the root cgroup: nothing to share */
  assert_int_equal(sandbox_cgroup_delegated(tmp, "3:memory:/a\n", mem, 1, &parent, &err), -1);
  assert_int_equal(sandbox_cgroup_delegated(tmp, "0::/\n", mem, 1, &parent, &err), -1);
  assert_int_equal(sandbox_cgroup_delegated(tmp, "0::/a\n", mem, 1, &parent, &err), -1);
  /* the parent is missing (or, for a user, not writable) */
  assert_int_equal(sandbox_cgroup_delegated(tmp, "0::/x/y\n", mem, 1, &parent, &err), -1);
  assert_non_null(strstr(err.msg, "is not delegated"));

  snprintf(path, sizeof path, "rm -rf '%s'", tmp);
  assert_int_equal(system(path), 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_duration),    cmocka_unit_test(test_format_duration),
      cmocka_unit_test(test_size),        cmocka_unit_test(test_cpus),
      cmocka_unit_test(test_bind),        cmocka_unit_test(test_caps),
      cmocka_unit_test(test_ids),         cmocka_unit_test(test_seccomp_default),
      cmocka_unit_test(test_subid_range), cmocka_unit_test(test_cgroup_delegated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
