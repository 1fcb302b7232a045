/* Unit tests of lib/runtime/rootfs/mountopts.c's destination rules: which config
 * mounts may go inside /proc (runc's checkProcMount list), and the lexical
 * clean-up the rules are applied to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/error.h"
#include "lib/runtime/rootfs/rootfs.h"

#define UNUSED __attribute__((unused))

static void
check_clean(const char *in, const char *want)
{
  char *got = mountopts_path_clean(in);
  assert_string_equal(got, want);
  free(got);
}

static void
test_path_clean(void **state UNUSED)
{
  check_clean("/proc", "/proc");
  check_clean("/proc/", "/proc");
  check_clean("//proc/./1//attr", "/proc/1/attr");
  check_clean("/proc/sys/../1/attr", "/proc/1/attr");
  check_clean("/../proc/self/attr", "/proc/self/attr");
  check_clean("/a/b/../../../proc", "/proc");
  check_clean("proc/cpuinfo", "/proc/cpuinfo"); /* relative: from the root, as runc */
  check_clean("/", "/");
  check_clean("", "/");
  check_clean("/..", "/");
}

/* 0: allowed; else the error must name the JSON path. */
static void
check_dest(const char *dest, const char *type, bool bind, bool src_proc, bool allowed)
{
  struct silo_error e = {0};
  int r = mountopts_dest_check(dest, type, bind, src_proc, 3, &e);
  if (allowed) {
    if (r != 0) fail_msg("`%s` (%s) refused: %s", dest, type, e.msg);
    return;
  }
  if (r == 0) fail_msg("`%s` (%s) allowed", dest, type);
  assert_non_null(strstr(e.msg, "mounts[3].destination"));
}

static void
test_inside_proc(void **state UNUSED)
{
  /* the attacks: the LSM attribute files and oom_score_adj, however spelled */
  check_dest("/proc/self/attr", "bind", true, false, false);
  check_dest("/proc/1/attr", "bind", true, false, false);
  check_dest("/proc/1/task/1/attr", "bind", true, false, false);
  check_dest("/proc/thread-self/attr/exec", "bind", true, true, false);
  check_dest("/proc/self/attr/apparmor/exec", "bind", true, true, false);
  check_dest("/proc//1/./attr", "bind", true, false, false);
  check_dest("/proc/sys/../1/attr", "bind", true, false, false);
  check_dest("/../proc/self/oom_score_adj", "bind", true, false, false);
  check_dest("/proc/self/oom_score_adj", "tmpfs", false, false, false);
  check_dest("/proc/sys/kernel", "bind", true, false, false);
  check_dest("/proc/sys", "tmpfs", false, false, false);
  check_dest("/proc/sysrq-trigger", "bind", true, false, false);
  check_dest("/proc/cpuinfo/x", "bind", true, false, false);
  /* runc's list: what lxcfs emulates, and a few more */
  static const char *const ok[] = {
      "/proc/cpuinfo",
      "/proc/diskstats",
      "/proc/meminfo",
      "/proc/stat",
      "/proc/swaps",
      "/proc/uptime",
      "/proc/loadavg",
      "/proc/slabinfo",
      "/proc/net/dev",
      "/proc/sys/kernel/ns_last_pid",
      "/proc/sys/crypto/fips_enabled",
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    check_dest(ok[i], "bind", true, false, true);
  check_dest("//proc/./cpuinfo", "bind", true, false, true);
  check_dest("/proc/meminfo/", "bind", true, false, true);
}

static void
test_proc_itself(void **state UNUSED)
{
  check_dest("/proc", "proc", false, false, true);
  check_dest("/proc/", "proc", false, false, true);
  /* a bind of a procfs, as runc allows; of anything else, no */
  check_dest("/proc", "bind", true, true, true);
  check_dest("/proc", "bind", true, false, false);
  check_dest("/proc", "tmpfs", false, false, false);
  check_dest("/proc/../proc", "sysfs", false, false, false);
}

static void
test_outside_proc(void **state UNUSED)
{
  check_dest("/procfs", "bind", true, false, true);
  check_dest("/proc2/self/attr", "bind", true, false, true);
  check_dest("/tmp/proc/self/attr", "bind", true, false, true);
  check_dest("/sys", "sysfs", false, false, true);
  check_dest("/sys/fs/cgroup", "cgroup", false, false, true);
  check_dest("/sys/kernel/security", "bind", true, false, true);
  check_dest("/dev/shm", "tmpfs", false, false, true);
  check_dest("/", "bind", true, false, true);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_path_clean),
      cmocka_unit_test(test_inside_proc),
      cmocka_unit_test(test_proc_itself),
      cmocka_unit_test(test_outside_proc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
