/* Unit tests of cgroup/bpf_devices.c: the eBPF device filter built from device
 * rules.  The programs are checked three ways: their size (which blocks were
 * emitted), their verdicts (run by a small interpreter of the instructions the
 * builder uses), and, as root where a cgroup2 hierarchy is mounted, for real:
 * loaded, attached to a throwaway cgroup, replaced, and enforced on a child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/magic.h>

#include "cgroup/internal.h"

#define ANY -1
#define RULE(al, t, maj, min, acc)                                                                 \
  {                                                                                                \
    .allow = (al), .type = (t), .has_major = (maj) >= 0, .major = (maj), .has_minor = (min) >= 0,  \
    .minor = (min), .access = (acc)                                                                \
  }

static size_t
count(const struct oci_device_cgroup *r, size_t n)
{
  struct bpf_insn *p;
  size_t k;
  struct silo_error err = {0};
  if (cgroup_bpf_devices_build(r, n, &p, &k, &err) < 0) fail_msg("build: %s", err.msg);
  free(p);
  return k;
}

/* Block sizes: 6 (prologue), per rule 2 (verdict) + 1 per tested field (type,
 * major, minor) + 3 for an access test, 2 for the final deny. */
static void
test_instruction_counts(void **state)
{
  (void)state;
  assert_int_equal(count(NULL, 0), 6 + 2);
  struct oci_device_cgroup deny_all[] = {RULE(false, 'a', ANY, ANY, "rwm")};
  assert_int_equal(count(deny_all, 1), 6 + 2); /* unconditional: no final deny */
  struct oci_device_cgroup one[] = {RULE(false, 'a', ANY, ANY, NULL), RULE(true, 'c', 1, 3, "rwm")};
  assert_int_equal(count(one, 2), 6 + 5 + 2);
  struct oci_device_cgroup partial[] = {RULE(true, 'c', 1, 3, "rw")};
  assert_int_equal(count(partial, 1), 6 + 8 + 2);
  /* a wildcard last hides everything before it */
  struct oci_device_cgroup hidden[] = {RULE(true, 'c', 1, 3, "rwm"), RULE(true, 'b', 8, ANY, "r"),
                                       RULE(true, 'a', ANY, ANY, "rwm")};
  assert_int_equal(count(hidden, 3), 6 + 2);
  /* silo's default list (lib/runtime/rootfs/devices.c) behind the spec's "deny all" */
  struct oci_device_cgroup defaults[] = {
      RULE(false, 'a', ANY, ANY, "rwm"), RULE(true, 'c', ANY, ANY, "m"),
      RULE(true, 'b', ANY, ANY, "m"),    RULE(true, 'c', 1, 3, "rwm"),
      RULE(true, 'c', 1, 5, "rwm"),      RULE(true, 'c', 1, 7, "rwm"),
      RULE(true, 'c', 1, 8, "rwm"),      RULE(true, 'c', 1, 9, "rwm"),
      RULE(true, 'c', 5, 0, "rwm"),      RULE(true, 'c', 5, 1, "rwm"),
      RULE(true, 'c', 5, 2, "rwm"),      RULE(true, 'c', 136, ANY, "rwm"),
      RULE(true, 'c', 10, 200, "rwm")};
  assert_int_equal(count(defaults, ARRAY_SIZE(defaults)), 6 + 2 * 6 + 8 * 5 + 4 + 5 + 2);
}

static void
test_invalid_rules(void **state)
{
  struct bpf_insn *p = NULL;
  size_t k;
  struct silo_error err = {0};
  (void)state;
  struct oci_device_cgroup type[] = {RULE(true, 'x', 1, 3, "rwm")};
  assert_int_equal(cgroup_bpf_devices_build(type, 1, &p, &k, &err), -1);
  assert_non_null(strstr(err.msg, "type"));
  struct oci_device_cgroup acc[] = {RULE(true, 'c', 1, 3, "rwx")};
  assert_int_equal(cgroup_bpf_devices_build(acc, 1, &p, &k, &err), -1);
  assert_non_null(strstr(err.msg, "access"));
  assert_null(p);
}

/* ---- an interpreter of the builder's instruction subset ---- */

static int
run(const struct bpf_insn *p, size_t n, int type, unsigned access, uint32_t major, uint32_t minor)
{
  struct bpf_cgroup_dev_ctx ctx = {(access << 16) | (unsigned)type, major, minor};
  uint64_t r[11] = {0};
  for (size_t pc = 0; pc < n; pc++) {
    const struct bpf_insn *i = &p[pc];
    uint32_t k = (uint32_t)i->imm;
    switch (i->code) {
    case BPF_LDX | BPF_W | BPF_MEM:
      assert_int_equal(i->src_reg, 1);
      assert_true(i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
      uint32_t v;
      memcpy(&v, (const char *)&ctx + i->off, 4);
      r[i->dst_reg] = v;
      break;
    case BPF_ALU | BPF_AND | BPF_K:
      r[i->dst_reg] = (uint32_t)r[i->dst_reg] & k;
      break;
    case BPF_ALU | BPF_RSH | BPF_K:
      r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> k;
      break;
    case BPF_ALU | BPF_MOV | BPF_X:
      r[i->dst_reg] = (uint32_t)r[i->src_reg];
      break;
    case BPF_ALU64 | BPF_MOV | BPF_K:
      r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
      break;
    case BPF_JMP | BPF_JNE | BPF_K:
      if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm) pc += (size_t)i->off;
      break;
    case BPF_JMP | BPF_JEQ | BPF_K:
      if (r[i->dst_reg] == (uint64_t)(int64_t)i->imm) pc += (size_t)i->off;
      break;
    case BPF_JMP | BPF_EXIT:
      return (int)r[0];
    default:
      fail_msg("unexpected opcode %#x at %zu", i->code, pc);
    }
    assert_true(pc < n); /* jumps stay inside the program */
  }
  fail_msg("fell off the end of the program");
  return -1;
}

enum { C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK };
enum { R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD };

static void
test_verdicts(void **state)
{
  struct bpf_insn *p;
  size_t n;
  struct silo_error err = {0};
  (void)state;
  struct oci_device_cgroup rules[] = {
      RULE(false, 'a', ANY, ANY, "rwm"), RULE(true, 'c', ANY, ANY, "m"),
      RULE(true, 'c', 1, 3, "rwm"),      RULE(true, 'c', 1, 11, "w"),
      RULE(false, 'c', 1, 3, "w"),       RULE(true, 'b', 8, ANY, "r"),
      RULE(true, 'c', 136, ANY, NULL)};
  assert_int_equal(cgroup_bpf_devices_build(rules, ARRAY_SIZE(rules), &p, &n, &err), 0);
  assert_int_equal(run(p, n, C, R, 1, 3), 1);     /* allowed, deny w does not touch r */
  assert_int_equal(run(p, n, C, W, 1, 3), 0);     /* last match wins */
  assert_int_equal(run(p, n, C, R | W, 1, 3), 0); /* any denied bit denies */
  assert_int_equal(run(p, n, C, M, 1, 3), 1);
  assert_int_equal(run(p, n, C, W, 1, 11), 1);
  assert_int_equal(run(p, n, C, R, 1, 11), 0); /* allow needs every requested bit */
  assert_int_equal(run(p, n, C, R | W, 1, 11), 0);
  assert_int_equal(run(p, n, C, M, 4, 64), 1); /* mknod of any char device */
  assert_int_equal(run(p, n, C, R, 4, 64), 0);
  assert_int_equal(run(p, n, B, M, 8, 0), 0); /* ... but not of block devices */
  assert_int_equal(run(p, n, B, R, 8, 17), 1);
  assert_int_equal(run(p, n, B, W, 8, 17), 0);
  assert_int_equal(run(p, n, B, R, 1, 3), 0); /* the type counts */
  assert_int_equal(run(p, n, C, R | W | M, 136, 4), 1);
  free(p);

  /* No rule at all denies everything; an allow-all last allows everything. */
  assert_int_equal(cgroup_bpf_devices_build(NULL, 0, &p, &n, &err), 0);
  assert_int_equal(run(p, n, C, R, 1, 3), 0);
  free(p);
  struct oci_device_cgroup all[] = {RULE(false, 'c', 1, 3, "rwm"), RULE(true, 0, ANY, ANY, "")};
  assert_int_equal(cgroup_bpf_devices_build(all, 2, &p, &n, &err), 0);
  assert_int_equal(run(p, n, C, R | W, 1, 3), 1);
  assert_int_equal(run(p, n, B, M, 7, 0), 1);
  free(p);
}

/* ---- live: load, attach, replace, enforce ---- */

static char live_dir[256];

static int
live_setup(void **state)
{
  struct statfs s;
  const char *mp = NULL;
  (void)state;
  live_dir[0] = '\0';
  if (geteuid() != 0) return 0;
  if (statfs(CG_ROOT, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
    mp = CG_ROOT;
  else if (statfs(CG_HYBRID_V2, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
    mp = CG_HYBRID_V2;
  if (!mp) return 0;
  snprintf(live_dir, sizeof live_dir, "%s/silo-bpf-unittest-%d", mp, (int)getpid());
  if (mkdir(live_dir, 0755) < 0) live_dir[0] = '\0';
  return 0;
}

static int
live_teardown(void **state)
{
  (void)state;
  if (live_dir[0]) rmdir(live_dir);
  return 0;
}

/* A child that joins the cgroup and tries two opens: exit bit 0 = /dev/null
 * (c 1:3) opened, bit 1 = /dev/zero (c 1:5) refused with EPERM. */
static int
probe(void)
{
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char buf[24];
    int fd = open(live_dir, O_DIRECTORY), r = 0;
    snprintf(buf, sizeof buf, "%d", (int)getpid());
    int procs = openat(fd, "cgroup.procs", O_WRONLY);
    if (procs < 0 || write(procs, buf, strlen(buf)) < 0) _exit(100);
    int a = open("/dev/null", O_RDWR), b = open("/dev/zero", O_RDONLY);
    if (a >= 0) r |= 1;
    if (b < 0 && errno == EPERM) r |= 2;
    _exit(r);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static void
test_live_attach_replace(void **state)
{
  struct silo_error err = {0};
  (void)state;
  if (!live_dir[0]) skip();
  struct oci_device_cgroup rules[] = {RULE(false, 'a', ANY, ANY, "rwm"),
                                      RULE(true, 'c', 1, 3, "rwm")};
  if (cgroup_v2_devices(live_dir, rules, 2, &err) < 0) {
    if (err.errnum == EPERM || err.errnum == ENOSYS) skip(); /* no bpf(2) here */
    fail_msg("attach: %s", err.msg);
  }
  assert_int_equal(cgroup_bpf_devices_count(live_dir, &err), 1);
  assert_int_equal(probe(), 1 | 2);
  /* again, now allowing /dev/zero: replaced, not stacked */
  struct oci_device_cgroup more[] = {RULE(false, 'a', ANY, ANY, "rwm"),
                                     RULE(true, 'c', 1, ANY, "rw")};
  if (cgroup_v2_devices(live_dir, more, 2, &err) < 0) fail_msg("replace: %s", err.msg);
  assert_int_equal(cgroup_bpf_devices_count(live_dir, &err), 1);
  assert_int_equal(probe(), 1);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_instruction_counts),
      cmocka_unit_test(test_invalid_rules),
      cmocka_unit_test(test_verdicts),
      cmocka_unit_test_setup_teardown(test_live_attach_replace, live_setup, live_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
