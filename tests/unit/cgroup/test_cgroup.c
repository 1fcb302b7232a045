/* Unit tests of cgroup/ on a live host (as root, with cgroups): real create -> enter
 * -> pids -> signal -> destroy round trips.  The pure conversions and parsers are in
 * test_cgroup_parse.c.
 *
 * The live tests use "/silo-unittest-<pid>/..." and a teardown that removes it from
 * every hierarchy and kills the test's child, so a failed assertion leaves nothing.
 */
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

/* ---- live tests ---- */

struct live {
  char parent[64], path[96];
  struct cgroup *cg;
  pid_t child;
};

static bool
dir_exists(const char *mp, const char *path)
{
  char p[512];
  struct stat st;
  snprintf(p, sizeof p, "%s%s", mp, path);
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
live_setup(void **state)
{
  struct live *l = calloc(1, sizeof *l);
  snprintf(l->parent, sizeof l->parent, "/silo-unittest-%d", (int)getpid());
  snprintf(l->path, sizeof l->path, "%s/c1", l->parent);
  l->child = -1;
  *state = l;
  return 0;
}

static void
rmdir_in_all(const char *path)
{
  const struct cgroup_hierarchy *h;
  size_t n;
  struct silo_error err;
  char p[512];
  if (cgroup_hierarchies(&h, &n, &err) < 0) return;
  for (size_t i = 0; i < n; i++) {
    snprintf(p, sizeof p, "%s%s", h[i].mountpoint, path);
    (void)rmdir(p);
  }
}

/* Runs whatever the test got to: no child, no cgroup left behind. */
static int
live_teardown(void **state)
{
  struct live *l = *state;
  struct silo_error err;
  if (l->child > 0) {
    kill(l->child, SIGKILL);
    waitpid(l->child, NULL, 0);
  }
  if (l->cg) {
    cgroup_destroy(l->cg, &err);
    cgroup_free(l->cg);
  }
  rmdir_in_all(l->path);
  rmdir_in_all(l->parent);
  /* The default-path test's /silo: goes only when empty (others may share it). */
  if (strncmp(l->path, CG_DEFAULT_PARENT "/", 6) == 0) rmdir_in_all(CG_DEFAULT_PARENT);
  free(l);
  return 0;
}

/* Skips unless we are root on a host where a cgroup can really be made. */
static void
require_cgroups(void)
{
  const struct cgroup_hierarchy *h;
  size_t n;
  struct silo_error err = {0};
  if (geteuid() != 0) skip();
  if (cgroup_hierarchies(&h, &n, &err) < 0 || n == 0) skip();
  if (access(h[0].mountpoint, W_OK) < 0) skip();
}

static void
fs_read_file(const char *mp, const char *path, const char *file, char *buf, size_t len)
{
  char p[512];
  snprintf(p, sizeof p, "%s%s", mp, path);
  ssize_t r = cgroup_read(p, file, buf, len);
  if (r < 0) fail_msg("read %s/%s: %s", p, file, strerror((int)-r));
}

static pid_t
sleeper(void)
{
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  assert_true(pid > 0);
  return pid;
}

static const char *
find_v1(unsigned ctl)
{
  struct silo_error err;
  const struct cg_host *host;
  if (cgroup_host_get(&host, &err) < 0) return NULL;
  for (size_t i = 0; i < host->n; i++)
    if (!host->m[i].v2 && (host->m[i].ctl & ctl)) return host->m[i].mountpoint;
  return NULL;
}

static void
test_live_round_trip(void **state)
{
  struct live *l = *state;
  struct silo_error err = {0};
  const struct cgroup_hierarchy *h;
  const struct cg_host *host;
  size_t n;
  char buf[256];
  require_cgroups();
  assert_int_equal(cgroup_hierarchies(&h, &n, &err), 0);
  assert_int_equal(cgroup_host_get(&host, &err), 0);

  /* Limits only for the controllers this host has (v1 or on its v2 side). */
  unsigned have = host->v1_ctl | (host->v2 >= 0 ? host->m[host->v2].ctl : 0);
  struct oci_memory mem = {.has_limit = true, .limit = 64 << 20};
  struct oci_cpu cpu = {.has_shares = true, .shares = 512};
  struct oci_resources res = {.memory = (have & CG_MEMORY) ? &mem : NULL,
                              .cpu = (have & CG_CPU) ? &cpu : NULL,
                              .has_pids_limit = (have & CG_PIDS) != 0,
                              .pids_limit = 100};
  struct cgroup_config cfg = {
      .id = "c1", .path = l->path, .manager = CGROUP_MANAGER_CGROUPFS, .resources = &res};
  if (cgroup_create(&cfg, &l->cg, &err) < 0)
    fail_msg("create: %s (%s)", err.msg, strerror(err.errnum));
  assert_string_equal(cgroup_path(l->cg), l->path);
  for (size_t i = 0; i < n; i++)
    if (!dir_exists(h[i].mountpoint, l->path)) fail_msg("%s%s missing", h[i].mountpoint, l->path);
  if (host->v2 >= 0) assert_true(cgroup_clone_fd(l->cg) >= 0);

  /* The applied limits are visible in the files. */
  const char *v2dir = host->v2 >= 0 ? host->m[host->v2].mountpoint : NULL;
  if (have & CG_MEMORY) {
    if (find_v1(CG_MEMORY))
      fs_read_file(find_v1(CG_MEMORY), l->path, "memory.limit_in_bytes", buf, sizeof buf);
    else
      fs_read_file(v2dir, l->path, "memory.max", buf, sizeof buf);
    assert_string_equal(buf, "67108864");
  }
  if (have & CG_PIDS) {
    fs_read_file(find_v1(CG_PIDS) ? find_v1(CG_PIDS) : v2dir, l->path, "pids.max", buf, sizeof buf);
    assert_string_equal(buf, "100");
  }
  if ((have & CG_CPU) && !find_v1(CG_CPU)) {
    fs_read_file(v2dir, l->path, "cpu.weight", buf, sizeof buf);
    assert_string_equal(buf, "20"); /* 1 + (510 * 9999) / 262142 */
  }

  /* A child enters, shows up, is killed, and the cgroup goes away. */
  l->child = sleeper();
  if (cgroup_enter(l->cg, l->child, false, &err) < 0) fail_msg("enter: %s", err.msg);
  pid_t *pids;
  size_t np;
  assert_int_equal(cgroup_pids(l->cg, &pids, &np, &err), 0);
  assert_int_equal(np, 1);
  assert_int_equal(pids[0], l->child);
  free(pids);

  /* Re-opened from the stored path, as `kill --all` and `delete` do. */
  struct cgroup *again;
  assert_int_equal(cgroup_open(l->path, CGROUP_MANAGER_CGROUPFS, &again, &err), 0);
  assert_int_equal(cgroup_signal_all(again, SIGKILL, &err), 0);
  int status;
  assert_int_equal(waitpid(l->child, &status, 0), l->child);
  l->child = -1;
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  if (cgroup_destroy(again, &err) < 0) fail_msg("destroy: %s", err.msg);
  cgroup_free(again);
  for (size_t i = 0; i < n; i++)
    if (dir_exists(h[i].mountpoint, l->path)) fail_msg("%s%s left", h[i].mountpoint, l->path);
  /* Destroying again is fine: missing dirs are not an error. */
  assert_int_equal(cgroup_destroy(l->cg, &err), 0);
}

/* clone3(CLONE_INTO_CGROUP) with the handle's fd, then the v1 side by enter. */
static void
test_live_clone_into(void **state)
{
  struct live *l = *state;
  struct silo_error err = {0};
  const struct cg_host *host;
  require_cgroups();
  assert_int_equal(cgroup_host_get(&host, &err), 0);
  if (host->v2 < 0) skip();
  struct cgroup_config cfg = {.id = "c1", .path = l->path, .manager = CGROUP_MANAGER_CGROUPFS};
  if (cgroup_create(&cfg, &l->cg, &err) < 0) fail_msg("create: %s", err.msg);

  struct clone_args args = {.flags = CLONE_INTO_CGROUP,
                            .exit_signal = SIGCHLD,
                            .cgroup = (uint64_t)cgroup_clone_fd(l->cg)};
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) skip();
  if (pid == 0) {
    for (;;) pause();
  }
  assert_true(pid > 0);
  l->child = (pid_t)pid;
  if (cgroup_enter(l->cg, l->child, true, &err) < 0) fail_msg("enter: %s", err.msg);
  char p[64], cg[4096];
  snprintf(p, sizeof p, "/proc/%d", l->child);
  assert_true(cgroup_read(p, "cgroup", cg, sizeof cg) > 0);
  /* One line per hierarchy silo manages ends with our path ("4:memory:/silo-u..."),
   * the v2 one ("0::...") included, which clone3 set. */
  size_t ours = 0, pl = strlen(l->path);
  bool v2 = false;
  for (char *s = cg, *e; s && *s; s = e ? e + 1 : NULL) {
    e = strchr(s, '\n');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    bool mine = len >= pl && memcmp(s + len - pl, l->path, pl) == 0;
    ours += mine;
    v2 |= mine && strncmp(s, "0::", 3) == 0;
  }
  assert_int_equal(ours, host->n);
  assert_true(v2);

  /* A signal other than SIGKILL goes pid by pid. */
  assert_int_equal(cgroup_signal_all(l->cg, SIGTERM, &err), 0);
  int status;
  assert_int_equal(waitpid(l->child, &status, 0), l->child);
  l->child = -1;
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  assert_int_equal(cgroup_destroy(l->cg, &err), 0);
}

/* A failing create removes what it made, and only that. */
static void
test_live_rollback(void **state)
{
  struct live *l = *state;
  struct silo_error err = {0};
  const struct cgroup_hierarchy *h;
  size_t n;
  require_cgroups();
  assert_int_equal(cgroup_hierarchies(&h, &n, &err), 0);

  struct oci_cpu cpu = {.cpus = "9999"}; /* valid shape, refused by the kernel */
  struct oci_resources res = {.cpu = &cpu};
  struct cgroup_config cfg = {
      .id = "c1", .path = l->path, .manager = CGROUP_MANAGER_CGROUPFS, .resources = &res};
  struct cgroup *cg = NULL;
  assert_int_equal(cgroup_create(&cfg, &cg, &err), -1);
  assert_null(cg);
  assert_non_null(strstr(err.msg, "linux.resources.cpu.cpus"));
  for (size_t i = 0; i < n; i++) {
    assert_false(dir_exists(h[i].mountpoint, l->path));
    assert_false(dir_exists(h[i].mountpoint, l->parent));
  }

  /* A cgroup with a process in it is accepted, as runc 1.1 does, and reported (the
   * caller warns); its process is left where it is. */
  cfg.resources = NULL;
  assert_int_equal(cgroup_create(&cfg, &l->cg, &err), 0);
  assert_int_equal(cgroup_busy(l->cg, NULL), 0);
  l->child = sleeper();
  assert_int_equal(cgroup_enter(l->cg, l->child, false, &err), 0);
  const char *busy_dir = NULL;
  if (cgroup_create(&cfg, &cg, &err) < 0) fail_msg("create over a busy cgroup: %s", err.msg);
  assert_int_equal(cgroup_busy(cg, &busy_dir), 1);
  assert_non_null(busy_dir);
  assert_non_null(strstr(busy_dir, l->path));
  cgroup_free(cg);
  cg = NULL;
  assert_int_equal(kill(l->child, 0), 0);

  /* A frozen one is refused at once, and the refusal leaves it as it was. */
  if (cgroup_freeze(l->cg, true, &err) == 0) {
    assert_int_equal(cgroup_create(&cfg, &cg, &err), -1);
    assert_null(cg);
    assert_non_null(strstr(err.msg, "frozen"));
    assert_true(cgroup_is_frozen(l->cg));
    for (size_t i = 0; i < n; i++) assert_true(dir_exists(h[i].mountpoint, l->path));
    assert_int_equal(cgroup_freeze(l->cg, false, &err), 0);
  }
  /* An empty existing one is accepted, silently. */
  kill(l->child, SIGKILL);
  waitpid(l->child, NULL, 0);
  l->child = -1;
  struct cgroup *cg2 = NULL;
  if (cgroup_create(&cfg, &cg2, &err) < 0) fail_msg("create over existing: %s", err.msg);
  assert_int_equal(cgroup_busy(cg2, NULL), 0);
  cgroup_free(cg2);
}

/* The default path "/<id>" (flat, as runc and crun), gone after destroy. */
static void
test_live_default_path(void **state)
{
  struct live *l = *state;
  struct silo_error err = {0};
  const struct cgroup_hierarchy *h;
  size_t n;
  char id[64], path[96];
  require_cgroups();
  assert_int_equal(cgroup_hierarchies(&h, &n, &err), 0);
  snprintf(id, sizeof id, "silo-unittest-%d-d", (int)getpid());
  snprintf(path, sizeof path, "/%s", id);
  struct cgroup_config cfg = {.id = id, .manager = CGROUP_MANAGER_CGROUPFS};
  char *planned = NULL;
  assert_int_equal(cgroup_plan_path(&cfg, &planned, &err), 0);
  assert_false(dir_exists(h[0].mountpoint, path)); /* planning made nothing */
  if (cgroup_create(&cfg, &l->cg, &err) < 0) fail_msg("create: %s", err.msg);
  snprintf(l->path, sizeof l->path, "%s", path); /* for the teardown */
  assert_string_equal(cgroup_path(l->cg), path);
  assert_string_equal(planned, path); /* the intent record names what was made */
  free(planned);
  for (size_t i = 0; i < n; i++) assert_true(dir_exists(h[i].mountpoint, path));
  assert_int_equal(cgroup_destroy(l->cg, &err), 0);
  for (size_t i = 0; i < n; i++) assert_false(dir_exists(h[i].mountpoint, path));
}

/* Hugepage limits and the `unified` map: on a hybrid host both live on the v2 side. */
static void
test_live_hugetlb_unified(void **state)
{
  struct live *l = *state;
  struct silo_error err = {0};
  const struct cg_host *host;
  char buf[64];
  require_cgroups();
  assert_int_equal(cgroup_host_get(&host, &err), 0);
  bool v1 = find_v1(CG_HUGETLB) != NULL;
  bool v2 = host->v2 >= 0 && (host->m[host->v2].ctl & CG_HUGETLB);
  if ((!v1 && !v2) || access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) < 0) skip();

  struct oci_hugepage_limit hp = {.page_size = "2MB", .limit = 4 << 20};
  struct oci_kv kv = {"hugetlb.2MB.max", "6291456"};
  struct oci_resources res = {.hugepage_limits = &hp, .n_hugepage_limits = 1};
  struct cgroup_config cfg = {
      .id = "c1", .path = l->path, .manager = CGROUP_MANAGER_CGROUPFS, .resources = &res};
  if (cgroup_create(&cfg, &l->cg, &err) < 0) fail_msg("create: %s", err.msg);
  if (v1) {
    fs_read_file(find_v1(CG_HUGETLB), l->path, "hugetlb.2MB.limit_in_bytes", buf, sizeof buf);
    assert_string_equal(buf, "4194304");
    return;
  }
  fs_read_file(host->m[host->v2].mountpoint, l->path, "hugetlb.2MB.max", buf, sizeof buf);
  assert_string_equal(buf, "4194304");
  struct oci_resources upd = {.unified = &kv, .n_unified = 1};
  if (cgroup_apply(l->cg, &upd, &err) < 0) fail_msg("apply: %s", err.msg);
  fs_read_file(host->m[host->v2].mountpoint, l->path, "hugetlb.2MB.max", buf, sizeof buf);
  assert_string_equal(buf, "6291456");
  /* A controller this host's v2 side lacks is named in the error. */
  struct oci_kv bad = {"bogus.max", "1"};
  upd.unified = &bad;
  assert_int_equal(cgroup_apply(l->cg, &upd, &err), -1);
  assert_non_null(strstr(err.msg, "linux.resources.unified.bogus.max"));
  assert_int_equal(cgroup_destroy(l->cg, &err), 0);
}

/* v1 devices: deny all, then the rules in order. */
static void
test_live_devices(void **state)
{
  struct live *l = *state;
  struct silo_error err = {0};
  char buf[512];
  require_cgroups();
  const char *devdir = find_v1(CG_DEVICES);
  if (!devdir) skip();
  struct oci_device_cgroup devs[] = {
      {.allow = false, .type = 'a', .access = "rwm"},
      {.allow = true,
       .type = 'c',
       .has_major = true,
       .major = 1,
       .has_minor = true,
       .minor = 3,
       .access = "rwm"},
      {.allow = true, .type = 'c', .has_major = true, .major = 136, .access = "rw"},
  };
  struct oci_resources res = {.devices = devs, .n_devices = 3};
  struct cgroup_config cfg = {
      .id = "c1", .path = l->path, .manager = CGROUP_MANAGER_CGROUPFS, .resources = &res};
  if (cgroup_create(&cfg, &l->cg, &err) < 0) fail_msg("create: %s", err.msg);
  fs_read_file(devdir, l->path, "devices.list", buf, sizeof buf);
  assert_string_equal(buf, "c 1:3 rwm\nc 136:* rw");
  assert_int_equal(cgroup_destroy(l->cg, &err), 0);
}

/* The hierarchies lib/rootfs mounts in a container. */
static void
test_live_hierarchies(void **state)
{
  const struct cgroup_hierarchy *h;
  size_t n;
  struct silo_error err = {0};
  enum cgroup_mode mode;
  (void)state;
  if (cgroup_detect(&mode, &err) < 0) skip();
  assert_int_equal(cgroup_hierarchies(&h, &n, &err), 0);
  assert_true(n > 0);
  for (size_t i = 0; i < n; i++) {
    assert_non_null(h[i].name);
    assert_true(h[i].v2 == (h[i].options == NULL));
    if (!h[i].v2) assert_true(strlen(h[i].options) > 0);
  }
  if (mode == CGROUP_MODE_UNIFIED) {
    assert_int_equal(n, 1);
    assert_string_equal(h[0].mountpoint, CG_ROOT);
  }
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_live_hierarchies),
      cmocka_unit_test_setup_teardown(test_live_round_trip, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_clone_into, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_rollback, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_default_path, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_hugetlb_unified, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_devices, live_setup, live_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
