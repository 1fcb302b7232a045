/* Unit tests of cgroup/'s pure parts: weights, swap, device rules, formats, path
 * resolution, mountinfo, validation (no cgroup is touched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "cgroup/internal.h"

/* ---- pure functions ---- */

static void
test_weights(void **state)
{
  /* shares -> cpu.weight: 1024 (v1 default) is 39; out of range is clamped. */
  static const uint64_t sh[][2] = {{0, 0},          {2, 1}, {1024, 39},
                                   {262144, 10000}, {1, 1}, {1000000, 10000}};
  /* blkio weight -> io.weight */
  static const uint64_t bw[][2] = {{0, 0}, {10, 1}, {500, 4950}, {1000, 10000}};
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(sh); i++)
    assert_int_equal(cgroup_shares_to_weight(sh[i][0]), sh[i][1]);
  for (size_t i = 0; i < ARRAY_SIZE(bw); i++)
    assert_int_equal(cgroup_blkio_to_io_weight(bw[i][0]), bw[i][1]);
}

static void
test_swap_v2(void **state)
{
  /* {limit, memory+swap, return, memory.swap.max (-1 = "max")} */
  static const int64_t t[][4] = {
      {100, 300, 0, 200},    {100, 100, 0, 0}, {-1, 0, 0, -1},
      {INT64_MAX, 0, 0, -1}, {100, -1, 0, -1}, {100, 0, 1, 0},
      {100, 50, -1, 0},      {-1, 100, -1, 0}, {0, 100, -1, 0},
  };
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
    int64_t out = 0;
    const char *why = NULL;
    assert_int_equal(cgroup_swap_v2(t[i][0], t[i][1], &out, &why), t[i][2]);
    if (t[i][2] == 0) assert_int_equal(out, t[i][3]);
    if (t[i][2] < 0) assert_non_null(why);
  }
}

static void
test_device_rule(void **state)
{
  static const struct {
    struct oci_device_cgroup d;
    const char *want; /* NULL: invalid */
  } t[] = {
      {{true, 'c', true, true, 1, 3, "rwm"}, "c 1:3 rwm"},
      {{true, 'c', true, false, 136, 0, "rwm"}, "c 136:* rwm"},
      {{true, 'b', true, false, -1, 0, "r"}, "b *:* r"},
      {{false, 'a', false, false, 0, 0, NULL}, "a"},
      {{false, 0, false, false, 0, 0, "rwm"}, "a"}, /* absent type means all */
      {{true, 'c', true, true, 1, 3, "rwx"}, NULL},
      {{true, 'c', true, true, 1, 3, ""}, NULL},
      {{true, 'c', true, true, 1, 3, "rr"}, NULL},
      {{true, 'u', true, true, 1, 3, "m"}, NULL},
  };
  char b[64];
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
    int r = cgroup_device_rule(&t[i].d, b, sizeof b);
    if (!t[i].want) {
      assert_int_equal(r, -1);
      continue;
    }
    assert_int_equal(r, 0);
    assert_string_equal(b, t[i].want);
  }
}

static void
test_formats(void **state)
{
  char cm[64];
  (void)state;
  /* io.max: one line per device, the keys given for it */
  struct oci_throttle_device rbps[] = {{8, 0, 1048576}, {8, 16, 0}};
  struct oci_throttle_device wiops[] = {{8, 0, 100}};
  struct oci_blkio b = {.throttle_read_bps = rbps,
                        .n_throttle_read_bps = 2,
                        .throttle_write_iops = wiops,
                        .n_throttle_write_iops = 1};
  char **v = cgroup_io_max_lines(&b);
  assert_string_equal(v[0], "8:0 rbps=1048576 wiops=100");
  assert_string_equal(v[1], "8:16 rbps=max");
  assert_null(v[2]);
  silo_strvfreep(&v);
  struct oci_blkio empty = {0};
  v = cgroup_io_max_lines(&empty);
  assert_null(v[0]);
  silo_strvfreep(&v);
  /* cpu.max keeps the current part that is not given */
  cgroup_cpu_max(cm, sizeof cm, true, 50000, true, 100000, NULL);
  assert_string_equal(cm, "50000 100000");
  cgroup_cpu_max(cm, sizeof cm, false, 0, true, 100000, "20000 50000");
  assert_string_equal(cm, "20000 100000");
  cgroup_cpu_max(cm, sizeof cm, true, -1, false, 0, NULL);
  assert_string_equal(cm, "max 100000");
  cgroup_cpu_max(cm, sizeof cm, true, 50000, false, 0, "max 250000");
  assert_string_equal(cm, "50000 250000");
}

static void
test_path_resolve(void **state)
{
  static const struct {
    const char *id, *in, *want; /* want NULL: error */
    bool def;
    const char *needle; /* in the error message */
  } t[] = {
      {"abc", NULL, "/abc", false, NULL}, /* default: flat, as runc and crun */
      {"abc", "", "/abc", false, NULL},
      {"abc", "/foo//bar/", "/foo/bar", false, NULL},
      {"abc", "/a/./b", "/a/b", false, NULL},
      {"abc", "rel/x", "/silo/rel/x", true, NULL}, /* relative: under /silo */
      {NULL, "/silo/x", "/silo/x", true, NULL},
      {NULL, "/silo", "/silo", false, NULL},
      {NULL, "/silo-x/y", "/silo-x/y", false, NULL},
      {NULL, "/system.slice:docker:1", "/system.slice:docker:1", false, NULL},
      {"abc", "/a/../b", NULL, false, "linux.cgroupsPath \"/a/../b\": \"..\""},
      {"abc", "..", NULL, false, "\"..\""},
      {"abc", "x/..", NULL, false, "\"..\""},
      {"abc", "/", NULL, false, "root cgroup"},
      {"abc", "//./", NULL, false, "root cgroup"},
      {"a/b", NULL, NULL, false, "container id"},
      {"..", NULL, NULL, false, "container id"},
      {NULL, NULL, NULL, false, "no container id"},
  };
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
    struct silo_error err = {0};
    char *out = NULL;
    bool def = !t[i].def;
    int r = cgroup_path_resolve(t[i].id, t[i].in, &out, &def, &err);
    if (!t[i].want) {
      assert_int_equal(r, -1);
      assert_null(out);
      if (!strstr(err.msg, t[i].needle)) fail_msg("\"%s\" lacks \"%s\"", err.msg, t[i].needle);
      continue;
    }
    assert_int_equal(r, 0);
    assert_string_equal(out, t[i].want);
    assert_int_equal(def, t[i].def);
    free(out);
  }
}

/* cgroup_plan_path names, without side effects, the path cgroup_create makes:
 * what the intent record of a create holds before the cgroup exists. */
static void
test_plan_path(void **state)
{
  static const struct {
    const char *id, *in;
    enum cgroup_manager mgr;
    const char *want; /* NULL: an error (or no path for `disabled`) */
  } t[] = {
      {"abc", NULL, CGROUP_MANAGER_CGROUPFS, "/abc"},
      {"abc", "x/y", CGROUP_MANAGER_CGROUPFS, "/silo/x/y"},
      {"abc", "/a//b/", CGROUP_MANAGER_CGROUPFS, "/a/b"},
      {"abc", "/a/../b", CGROUP_MANAGER_CGROUPFS, NULL},
      {"abc", NULL, CGROUP_MANAGER_SYSTEMD, "/system.slice/silo-abc.scope"},
      {"abc", "machine.slice:p:n", CGROUP_MANAGER_SYSTEMD, "/machine.slice/p-n.scope"},
      {"abc", "bad", CGROUP_MANAGER_SYSTEMD, NULL},
      {"abc", "/whatever", CGROUP_MANAGER_DISABLED, NULL},
  };
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
    struct silo_error err = {0};
    char *out = (char *)"unset";
    struct cgroup_config cfg = {.id = t[i].id, .path = t[i].in, .manager = t[i].mgr};
    int r = cgroup_plan_path(&cfg, &out, &err);
    if (t[i].mgr == CGROUP_MANAGER_DISABLED) {
      assert_int_equal(r, 0);
      assert_null(out);
    } else if (!t[i].want) {
      assert_int_equal(r, -1);
      assert_null(out);
      assert_non_null(strstr(err.msg, "linux.cgroupsPath"));
    } else {
      if (r < 0) fail_msg("%s: %s", t[i].in ? t[i].in : "(default)", err.msg);
      assert_string_equal(out, t[i].want);
    }
    free(out);
  }
}

static void
test_mount_options(void **state)
{
  static const struct {
    const char *super, *want;
    unsigned mask;
  } t[] = {
      {"rw,cpu,cpuacct", "cpu,cpuacct", CG_CPU | CG_CPUACCT},
      {"rw,name=systemd", "none,name=systemd", 0},
      {"rw,xattr,name=systemd", "none,xattr,name=systemd", 0},
      {"ro,release_agent=/x/y,cpuset,clone_children", "cpuset,clone_children", CG_CPUSET},
      {"rw,memory", "memory", CG_MEMORY},
  };
  char b[128];
  unsigned m;
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
    cgroup_v1_mount_options(t[i].super, b, sizeof b, &m);
    assert_string_equal(b, t[i].want);
    assert_int_equal(m, t[i].mask);
  }
  assert_int_equal(cgroup_ctl_parse_list("cpuset cpu io memory hugetlb pids rdma misc\n"),
                   CG_CPUSET | CG_CPU | CG_IO | CG_MEMORY | CG_HUGETLB | CG_PIDS | CG_RDMA |
                       CG_MISC);
}

static const char mountinfo[] =
    "23 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    /* the same hierarchy again elsewhere, and a second mount of it: ignored */
    "50 1 0:32 / /mnt/mem rw - cgroup cgroup rw,memory\n"
    "51 31 0:32 / /sys/fs/cgroup/mem2 rw - cgroup cgroup rw,memory\n"
    /* an escaped mountpoint; a deeper one that is not a hierarchy root */
    "52 31 0:40 / /sys/fs/cgroup/net\\040cls rw - cgroup cgroup rw,net_cls\n"
    "53 35 0:32 /x /sys/fs/cgroup/memory/x rw - cgroup cgroup rw,memory\n";

static void
test_parse_mountinfo(void **state)
{
  struct silo_error err = {0};
  struct cg_host h = {.mode = CGROUP_MODE_HYBRID, .v2 = -1};
  (void)state;
  assert_int_equal(cgroup_parse_mountinfo(mountinfo, &h, &err), 0);
  assert_int_equal(h.n, 6);
  assert_string_equal(h.pub[0].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  assert_string_equal(h.pub[0].name, "cpu,cpuacct");
  assert_string_equal(h.pub[0].options, "cpu,cpuacct");
  assert_int_equal(h.m[0].ctl, CG_CPU | CG_CPUACCT);
  assert_string_equal(h.pub[3].name, "systemd");
  assert_string_equal(h.pub[3].options, "none,xattr,name=systemd");
  assert_int_equal(h.v2, 4);
  assert_true(h.pub[4].v2);
  assert_null(h.pub[4].options);
  assert_string_equal(h.pub[4].name, "unified");
  assert_string_equal(h.pub[5].mountpoint, "/sys/fs/cgroup/net cls");
  assert_int_equal(h.v1_ctl, CG_CPU | CG_CPUACCT | CG_CPUSET | CG_MEMORY | CG_NET_CLS);
  cgroup_host_clear(&h);

  /* Legacy: a cgroup2 mount is not part of the layout. */
  h.mode = CGROUP_MODE_LEGACY;
  assert_int_equal(cgroup_parse_mountinfo(mountinfo, &h, &err), 0);
  assert_int_equal(h.n, 5);
  assert_int_equal(h.v2, -1);
  cgroup_host_clear(&h);

  /* Hybrid without its cgroup2 mount is an error. */
  h.mode = CGROUP_MODE_HYBRID;
  assert_int_equal(
      cgroup_parse_mountinfo("1 0 0:1 / /sys/fs/cgroup/cpu rw - cgroup c rw,cpu\n", &h, &err), -1);
  cgroup_host_clear(&h);
}

static void
expect_invalid(const struct oci_resources *r, const char *want)
{
  struct silo_error err = {0};
  assert_int_equal(cgroup_resources_validate(r, &err), -1);
  if (!strstr(err.msg, want)) fail_msg("\"%s\" lacks \"%s\"", err.msg, want);
}

static void
test_validate(void **state)
{
  struct silo_error err = {0};
  (void)state;
  struct oci_memory mem = {.has_limit = true, .limit = 0};
  struct oci_resources r = {.memory = &mem};
  expect_invalid(&r, "linux.resources.memory.limit: must be positive or -1");
  mem.limit = -2;
  expect_invalid(&r, "linux.resources.memory.limit: must be positive or -1");
  mem = (struct oci_memory){.has_limit = true, .limit = 1000, .has_swap = true, .swap = 10};
  expect_invalid(&r, "linux.resources.memory.swap: must be at least");
  mem = (struct oci_memory){.has_swappiness = true, .swappiness = 101};
  expect_invalid(&r, "linux.resources.memory.swappiness");
  mem = (struct oci_memory){.has_limit = true, .limit = 1 << 20, .has_swap = true, .swap = 2 << 20};
  assert_int_equal(cgroup_resources_validate(&r, &err), 0);

  struct oci_cpu cpu = {.has_shares = true, .shares = 1};
  r = (struct oci_resources){.cpu = &cpu};
  expect_invalid(&r, "linux.resources.cpu.shares");
  cpu = (struct oci_cpu){.has_quota = true, .quota = -5};
  expect_invalid(&r, "linux.resources.cpu.quota");
  cpu = (struct oci_cpu){.has_period = true, .period = 10};
  expect_invalid(&r, "linux.resources.cpu.period");
  cpu = (struct oci_cpu){.cpus = "0-3;rm"};
  expect_invalid(&r, "linux.resources.cpu.cpus");
  cpu = (struct oci_cpu){.has_idle = true, .idle = 2};
  expect_invalid(&r, "linux.resources.cpu.idle");
  cpu = (struct oci_cpu){.has_shares = true, .shares = 0}; /* Docker's "unset" */
  assert_int_equal(cgroup_resources_validate(&r, &err), 0);

  struct oci_blkio b = {.has_weight = true, .weight = 5};
  r = (struct oci_resources){.blkio = &b};
  expect_invalid(&r, "linux.resources.blockIO.weight");
  struct oci_weight_device wd = {.major = 8, .minor = 0, .has_weight = true, .weight = 2000};
  b = (struct oci_blkio){.weight_device = &wd, .n_weight_device = 1};
  expect_invalid(&r, "linux.resources.blockIO.weightDevice[0].weight");

  struct oci_device_cgroup devs[] = {{.allow = false, .type = 'a', .access = "rwm"},
                                     {.allow = true, .type = 'c', .access = "rwx"}};
  r = (struct oci_resources){.devices = devs, .n_devices = 2};
  expect_invalid(&r, "linux.resources.devices[1]");

  struct oci_hugepage_limit hp = {.page_size = "../2MB", .limit = 1};
  r = (struct oci_resources){.hugepage_limits = &hp, .n_hugepage_limits = 1};
  expect_invalid(&r, "linux.resources.hugepageLimits[0].pageSize");
  hp.page_size = "2MB";
  assert_int_equal(cgroup_resources_validate(&r, &err), 0);

  const char *bad_keys[] = {"../memory.max", "memory/max", "nodot", ".hidden", "memory."};
  for (size_t i = 0; i < ARRAY_SIZE(bad_keys); i++) {
    struct oci_kv kv = {bad_keys[i], "1"};
    char want[64];
    r = (struct oci_resources){.unified = &kv, .n_unified = 1};
    snprintf(want, sizeof want, "linux.resources.unified.%s", bad_keys[i]);
    expect_invalid(&r, want);
  }
  assert_true(cgroup_valid_pagesize("1GB"));
  assert_false(cgroup_valid_pagesize("2MiB"));
  assert_false(cgroup_valid_pagesize("MB"));
}

static void
test_disabled_and_systemd(void **state)
{
  struct silo_error err = {0};
  struct cgroup *cg = (struct cgroup *)1;
  (void)state;
  struct cgroup_config cfg = {.id = "x", .manager = CGROUP_MANAGER_DISABLED};
  assert_int_equal(cgroup_create(&cfg, &cg, &err), 0);
  assert_null(cg);
  cfg.manager = CGROUP_MANAGER_SYSTEMD; /* systemd.c; without a system bus, a clear error */
  if (access("/run/dbus/system_bus_socket", F_OK) < 0 && !getenv("DBUS_SYSTEM_BUS_ADDRESS")) {
    assert_int_equal(cgroup_create(&cfg, &cg, &err), -1);
    assert_non_null(strstr(err.msg, "systemd cgroup manager: no system bus"));
  }
  assert_int_equal(cgroup_clone_fd(NULL), -1);
  assert_int_equal(cgroup_destroy(NULL, &err), 0);
  cgroup_free(NULL);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_weights),       cmocka_unit_test(test_swap_v2),
      cmocka_unit_test(test_device_rule),   cmocka_unit_test(test_formats),
      cmocka_unit_test(test_path_resolve),  cmocka_unit_test(test_plan_path),
      cmocka_unit_test(test_mount_options), cmocka_unit_test(test_parse_mountinfo),
      cmocka_unit_test(test_validate),      cmocka_unit_test(test_disabled_and_systemd),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
