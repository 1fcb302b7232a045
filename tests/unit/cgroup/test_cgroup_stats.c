/* Unit tests of cgroup/stats.c and cgroup/oom.c: the parsers of the v1 and v2 file
 * formats (fed from strings), the per-controller readers on fake v1 and v2
 * directories (so a pure v2 host is covered on any host), then, as root, a real
 * cgroup with a child that allocates memory, and one that gets OOM-killed.
 *
 * Live tests use "/silo-unittest-stats-<pid>"; the teardown kills the child and
 * removes the cgroup from every hierarchy.  Fake directories live under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/internal.h"

/* ---- parsers ---- */

static void
test_parse_u64(void **state)
{
  uint64_t v = 0;
  (void)state;
  assert_int_equal(cgroup_parse_u64("123", &v), 0);
  assert_int_equal(v, 123);
  assert_int_equal(cgroup_parse_u64("  42\n", &v), 0);
  assert_int_equal(v, 42);
  assert_int_equal(cgroup_parse_u64("max", &v), 0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(cgroup_parse_u64("18446744073709551615", &v), 0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(cgroup_parse_u64("9223372036854771712", &v), 0);
  assert_true(v == 9223372036854771712ull);
  const char *bad[] = {"", "\n", "abc", "12x", "-1", "18446744073709551616", "1 2"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    assert_int_equal(cgroup_parse_u64(bad[i], &v), -EINVAL);
}

static void
test_parse_key(void **state)
{
  /* v1 cpu.stat, v2 cpu.stat, v1 memory.oom_control, v2 memory.events */
  const char *cpu_v1 = "nr_periods 10\nnr_throttled 3\nthrottled_time 123456\nnr_bursts 0\n";
  const char *cpu_v2 = "usage_usec 58309\nuser_usec 14577\nsystem_usec 43732\nnice_usec 0\n"
                       "nr_periods 7\nnr_throttled 2\nthrottled_usec 900";
  const char *oom_v1 = "oom_kill_disable 0\nunder_oom 1\noom_kill 4\n";
  const char *events = "low 0\nhigh 5\nmax 17\noom 3\noom_kill 2\noom_group_kill 1\n";
  uint64_t v = 0;
  (void)state;
  assert_int_equal(cgroup_parse_key(cpu_v1, "nr_periods", &v), 0);
  assert_int_equal(v, 10);
  assert_int_equal(cgroup_parse_key(cpu_v1, "throttled_time", &v), 0);
  assert_int_equal(v, 123456);
  assert_int_equal(cgroup_parse_key(cpu_v2, "usage_usec", &v), 0);
  assert_int_equal(v, 58309);
  assert_int_equal(cgroup_parse_key(cpu_v2, "throttled_usec", &v), 0); /* last line, no \n */
  assert_int_equal(v, 900);
  assert_int_equal(cgroup_parse_key(oom_v1, "oom_kill", &v), 0);
  assert_int_equal(v, 4);
  /* keys that are prefixes of others match only the whole key */
  assert_int_equal(cgroup_parse_key(events, "oom", &v), 0);
  assert_int_equal(v, 3);
  assert_int_equal(cgroup_parse_key(events, "oom_kill", &v), 0);
  assert_int_equal(v, 2);
  assert_int_equal(cgroup_parse_key(events, "max", &v), 0);
  assert_int_equal(v, 17);
  assert_int_equal(cgroup_parse_key(events, "oom_k", &v), -ENOENT);
  assert_int_equal(cgroup_parse_key(cpu_v1, "usage_usec", &v), -ENOENT);
  assert_int_equal(cgroup_parse_key("", "x", &v), -ENOENT);
  assert_int_equal(cgroup_parse_key("x abc\n", "x", &v), -EINVAL);
}

static void
test_parse_kv(void **state)
{
  struct cgroup_kv_u64 *kv = NULL;
  size_t n = 0;
  uint64_t v;
  (void)state;
  const char *stat = "cache 4096\nrss 53248\nbroken\nbad x\nhierarchical_memory_limit "
                     "9223372036854771712\n\ntotal_cache 8192";
  assert_int_equal(cgroup_parse_kv(stat, &kv, &n), 4);
  assert_int_equal(n, 4);
  assert_string_equal(kv[0].key, "cache");
  assert_int_equal(kv[0].value, 4096);
  assert_string_equal(kv[3].key, "total_cache");
  assert_true(cgroup_kv_get(kv, n, "hierarchical_memory_limit", &v));
  assert_true(v == 9223372036854771712ull);
  assert_true(cgroup_kv_get(kv, n, "rss", &v));
  assert_int_equal(v, 53248);
  assert_false(cgroup_kv_get(kv, n, "broken", &v));
  /* appends */
  assert_int_equal(cgroup_parse_kv("file 1\n", &kv, &n), 1);
  assert_int_equal(n, 5);
  for (size_t i = 0; i < n; i++) free(kv[i].key);
  free(kv);
}

static void
test_parse_u64_list(void **state)
{
  uint64_t *v = NULL;
  size_t n = 9;
  (void)state;
  assert_int_equal(cgroup_parse_u64_list("47029303 11280163 \n", &v, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(v[0], 47029303);
  assert_int_equal(v[1], 11280163);
  free(v);
  assert_int_equal(cgroup_parse_u64_list("", &v, &n), 0);
  assert_int_equal(n, 0);
  assert_null(v);
  assert_int_equal(cgroup_parse_u64_list("1 x 3", &v, &n), -EINVAL);
  assert_null(v);
  assert_int_equal(n, 0);
}

static void
test_parse_blkio_v1(void **state)
{
  const char *text = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n"
                     "8:0 Discard 0\n8:0 Total 12288\n253:1 Read 1\nTotal 12289\n";
  struct cgroup_blkio_entry *e = NULL;
  size_t n = 0;
  (void)state;
  assert_int_equal(cgroup_parse_blkio_v1(text, &e, &n), 7);
  assert_int_equal(n, 7);
  assert_int_equal(e[0].major, 8);
  assert_int_equal(e[0].minor, 0);
  assert_string_equal(e[0].op, "Read");
  assert_int_equal(e[0].value, 4096);
  assert_string_equal(e[5].op, "Total");
  assert_int_equal(e[6].major, 253);
  assert_int_equal(e[6].minor, 1);
  for (size_t i = 0; i < n; i++) free(e[i].op);
  free(e);
  e = NULL;
  n = 0;
  /* an idle cgroup: only the device-less total */
  assert_int_equal(cgroup_parse_blkio_v1("Total 0\n", &e, &n), 0);
  assert_int_equal(cgroup_parse_blkio_v1("", &e, &n), 0);
  assert_int_equal(cgroup_parse_blkio_v1("8:x Read 1\n8:0 Read\n", &e, &n), 0);
  assert_null(e);
}

static void
test_parse_io_stat(void **state)
{
  const char *text = "8:0 rbytes=1024 wbytes=2048 rios=3 wios=4 dbytes=5 dios=6\n"
                     "253:2 rbytes=7 wbytes=0 rios=1 wios=0 dbytes=0 dios=0 cost.usage=9\n"
                     "garbage\n";
  struct cgroup_stats st = {0};
  (void)state;
  assert_int_equal(cgroup_parse_io_stat(text, &st), 12);
  assert_int_equal(st.blkio.n_service_bytes, 6);
  assert_int_equal(st.blkio.n_serviced, 6);
  const struct cgroup_blkio_entry *b = st.blkio.service_bytes, *s = st.blkio.serviced;
  assert_string_equal(b[0].op, "Read");
  assert_int_equal(b[0].value, 1024);
  assert_string_equal(b[1].op, "Write");
  assert_int_equal(b[1].value, 2048);
  assert_string_equal(b[2].op, "Discard");
  assert_int_equal(s[0].value, 3);
  assert_string_equal(s[1].op, "Write");
  assert_int_equal(s[1].value, 4);
  assert_int_equal(b[3].major, 253);
  assert_int_equal(b[3].minor, 2);
  assert_int_equal(b[3].value, 7);
  cgroup_stats_free(&st);
  assert_null(st.blkio.service_bytes);
  assert_int_equal(cgroup_parse_io_stat("", &st), 0);
}

static void
test_hugetlb_names(void **state)
{
  char size[16];
  (void)state;
  assert_true(cgroup_hugetlb_pagesize("hugetlb.2MB.usage_in_bytes", false, size, sizeof size));
  assert_string_equal(size, "2MB");
  assert_true(cgroup_hugetlb_pagesize("hugetlb.1GB.current", true, size, sizeof size));
  assert_string_equal(size, "1GB");
  assert_false(cgroup_hugetlb_pagesize("hugetlb.2MB.current", false, size, sizeof size));
  assert_false(cgroup_hugetlb_pagesize("hugetlb.2MB.usage_in_bytes", true, size, sizeof size));
  assert_false(cgroup_hugetlb_pagesize("hugetlb.2MB.rsvd.current", true, size, sizeof size));
  assert_false(cgroup_hugetlb_pagesize("hugetlb.2MB.max", true, size, sizeof size));
  assert_false(cgroup_hugetlb_pagesize("hugetlb..current", true, size, sizeof size));
  assert_false(cgroup_hugetlb_pagesize("memory.current", true, size, sizeof size));
  assert_false(cgroup_hugetlb_pagesize("hugetlb.2MB.current", true, size, 3)); /* too small */
}

static void
test_ticks(void **state)
{
  (void)state;
  assert_true(cgroup_ticks_to_ns(4, 100) == 40000000ull);
  assert_true(cgroup_ticks_to_ns(1, 1000) == 1000000ull);
  assert_true(cgroup_ticks_to_ns(3, 0) == 30000000ull); /* unknown HZ: 100 */
}

/* ---- readers on fake directories ---- */

struct fake {
  char dir[64];
};

static void
put(const char *dir, const char *file, const char *text)
{
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", dir, file);
  FILE *f = fopen(p, "w");
  if (!f) fail_msg("create %s: %s", p, strerror(errno));
  fputs(text, f);
  fclose(f);
}

static int
fake_setup(void **state)
{
  struct fake *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/silo-unittest-stats-XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  *state = f;
  return 0;
}

static int
fake_teardown(void **state)
{
  struct fake *f = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  if (system(cmd) != 0) return -1;
  free(f);
  return 0;
}

static void
test_fake_v1(void **state)
{
  struct fake *f = *state;
  const char *d = f->dir;
  struct silo_error err = {0};
  struct cgroup_stats st = {0};
  long hz = sysconf(_SC_CLK_TCK);

  put(d, "cpuacct.usage", "58309466\n");
  put(d, "cpuacct.usage_percpu", "47029303 11280163 \n");
  put(d, "cpuacct.stat", "user 1\nsystem 4\n");
  put(d, "cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 123456\n");
  put(d, "memory.usage_in_bytes", "303104\n");
  put(d, "memory.max_usage_in_bytes", "6778880\n");
  put(d, "memory.limit_in_bytes", "9223372036854771712\n");
  put(d, "memory.failcnt", "2\n");
  put(d, "memory.memsw.usage_in_bytes", "303105\n");
  put(d, "memory.memsw.limit_in_bytes", "16777216\n");
  put(d, "memory.kmem.usage_in_bytes", "249856\n");
  put(d, "memory.kmem.tcp.failcnt", "7\n");
  put(d, "memory.stat", "cache 4096\nrss 53248\ntotal_cache 4096\n");
  put(d, "pids.current", "3\n");
  put(d, "pids.max", "max\n");
  put(d, "blkio.throttle.io_service_bytes_recursive", "Total 0\n");
  put(d, "blkio.bfq.io_service_bytes_recursive", "8:0 Read 512\n8:0 Write 0\nTotal 512\n");
  put(d, "blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\nTotal 3\n");
  put(d, "hugetlb.2MB.usage_in_bytes", "2097152\n");
  put(d, "hugetlb.2MB.max_usage_in_bytes", "4194304\n");
  put(d, "hugetlb.2MB.failcnt", "1\n");
  put(d, "hugetlb.2MB.limit_in_bytes", "4194304\n");
  put(d, "hugetlb.1GB.usage_in_bytes", "0\n");

  assert_int_equal(cgroup_stats_cpu_v1(d, d, &st, &err), 0);
  assert_int_equal(cgroup_stats_memory_v1(d, &st, &err), 0);
  assert_int_equal(cgroup_stats_pids(d, &st, &err), 0);
  assert_int_equal(cgroup_stats_blkio_v1(d, &st, &err), 0);
  assert_int_equal(cgroup_stats_hugetlb(d, false, &st, &err), 0);

  assert_true(st.has_cpu && st.has_memory && st.has_pids && st.has_blkio);
  assert_int_equal(st.cpu.total, 58309466);
  assert_int_equal(st.cpu.n_percpu, 2);
  assert_int_equal(st.cpu.percpu[1], 11280163);
  assert_true(st.cpu.user == 1 * (1000000000ull / (uint64_t)hz));
  assert_true(st.cpu.kernel == 4 * (1000000000ull / (uint64_t)hz));
  assert_int_equal(st.cpu.periods, 10);
  assert_int_equal(st.cpu.throttled_periods, 3);
  assert_int_equal(st.cpu.throttled_time, 123456);

  assert_int_equal(st.memory.usage.usage, 303104);
  assert_int_equal(st.memory.usage.max, 6778880);
  assert_true(st.memory.usage.limit == 9223372036854771712ull);
  assert_int_equal(st.memory.usage.failcnt, 2);
  assert_int_equal(st.memory.swap.usage, 303105);
  assert_int_equal(st.memory.swap.limit, 16777216);
  assert_int_equal(st.memory.swap.max, 0); /* missing file: skipped */
  assert_int_equal(st.memory.kernel.usage, 249856);
  assert_int_equal(st.memory.kernel_tcp.failcnt, 7);
  assert_int_equal(st.memory.cache, 4096);
  assert_int_equal(st.memory.n_raw, 3);

  assert_int_equal(st.pids.current, 3);
  assert_int_equal(st.pids.limit, 0); /* "max" */

  /* service bytes: the throttle file is empty, the BFQ one is used */
  assert_int_equal(st.blkio.n_service_bytes, 2);
  assert_int_equal(st.blkio.service_bytes[0].value, 512);
  assert_int_equal(st.blkio.n_serviced, 2);
  assert_int_equal(st.blkio.serviced[1].value, 2);

  assert_int_equal(st.n_hugetlb, 2); /* sorted by name */
  assert_string_equal(st.hugetlb[0].pagesize, "1GB");
  assert_string_equal(st.hugetlb[1].pagesize, "2MB");
  assert_int_equal(st.hugetlb[1].usage, 2097152);
  assert_int_equal(st.hugetlb[1].max, 4194304);
  assert_int_equal(st.hugetlb[1].failcnt, 1);
  cgroup_stats_free(&st);
  assert_null(st.hugetlb);
  assert_int_equal(st.n_hugetlb, 0);

  /* A value that is not a number is an error naming the file. */
  put(d, "pids.current", "lots\n");
  assert_int_equal(cgroup_stats_pids(d, &st, &err), -1);
  assert_non_null(strstr(err.msg, "pids.current"));
  cgroup_stats_free(&st);
}

static void
test_fake_v2(void **state)
{
  struct fake *f = *state;
  const char *d = f->dir;
  struct silo_error err = {0};
  struct cgroup_stats st = {0};

  put(d, "cpu.stat",
      "usage_usec 58309\nuser_usec 14577\nsystem_usec 43732\nnice_usec 0\n"
      "nr_periods 7\nnr_throttled 2\nthrottled_usec 900\n");
  put(d, "memory.current", "1048576\n");
  put(d, "memory.max", "16777216\n");
  put(d, "memory.peak", "2097152\n");
  put(d, "memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
  put(d, "memory.swap.current", "4096\n");
  put(d, "memory.swap.max", "8388608\n");
  put(d, "memory.swap.events", "high 0\nmax 0\nfail 3\n");
  put(d, "memory.stat", "anon 8192\nfile 12288\nkernel 4096\n");
  put(d, "pids.current", "2\n");
  put(d, "pids.max", "100\n");
  put(d, "io.stat", "8:0 rbytes=1024 wbytes=2048 rios=3 wios=4 dbytes=0 dios=0\n");
  put(d, "hugetlb.2MB.current", "2097152\n");
  put(d, "hugetlb.2MB.max", "4194304\n");
  put(d, "hugetlb.2MB.events", "max 6\n");
  put(d, "hugetlb.2MB.rsvd.current", "99\n");

  assert_int_equal(cgroup_stats_cpu_v2(d, &st, &err), 0);
  assert_int_equal(cgroup_stats_memory_v2(d, &st, &err), 0);
  assert_int_equal(cgroup_stats_pids(d, &st, &err), 0);
  assert_int_equal(cgroup_stats_io_v2(d, &st, &err), 0);
  assert_int_equal(cgroup_stats_hugetlb(d, true, &st, &err), 0);

  assert_true(st.has_cpu && st.has_memory && st.has_pids && st.has_blkio);
  assert_int_equal(st.cpu.total, 58309000);
  assert_int_equal(st.cpu.user, 14577000);
  assert_int_equal(st.cpu.kernel, 43732000);
  assert_int_equal(st.cpu.n_percpu, 0);
  assert_null(st.cpu.percpu);
  assert_int_equal(st.cpu.periods, 7);
  assert_int_equal(st.cpu.throttled_periods, 2);
  assert_int_equal(st.cpu.throttled_time, 900000);

  assert_int_equal(st.memory.usage.usage, 1048576);
  assert_int_equal(st.memory.usage.limit, 16777216);
  assert_int_equal(st.memory.usage.max, 2097152);
  assert_int_equal(st.memory.usage.failcnt, 5);
  /* swap as v1's memsw: memory + swap */
  assert_int_equal(st.memory.swap.usage, 1048576 + 4096);
  assert_int_equal(st.memory.swap.limit, 16777216 + 8388608);
  assert_int_equal(st.memory.swap.failcnt, 3);
  assert_int_equal(st.memory.cache, 12288); /* "file" */
  assert_int_equal(st.memory.n_raw, 3);

  assert_int_equal(st.pids.current, 2);
  assert_int_equal(st.pids.limit, 100);
  assert_int_equal(st.blkio.n_service_bytes, 3);
  assert_int_equal(st.blkio.service_bytes[1].value, 2048);
  assert_int_equal(st.blkio.n_serviced, 3);

  assert_int_equal(st.n_hugetlb, 1); /* rsvd.current is not a page size */
  assert_string_equal(st.hugetlb[0].pagesize, "2MB");
  assert_int_equal(st.hugetlb[0].usage, 2097152);
  assert_int_equal(st.hugetlb[0].max, 0); /* v2 keeps no max usage */
  assert_int_equal(st.hugetlb[0].failcnt, 6);
  cgroup_stats_free(&st);

  /* Unlimited: "max" stays UINT64_MAX, also for memory + swap. */
  put(d, "memory.max", "max\n");
  put(d, "memory.swap.max", "max\n");
  assert_int_equal(cgroup_stats_memory_v2(d, &st, &err), 0);
  assert_true(st.memory.usage.limit == UINT64_MAX);
  assert_true(st.memory.swap.limit == UINT64_MAX);
  cgroup_stats_free(&st);
  put(d, "memory.max", "16777216\n");
  assert_int_equal(cgroup_stats_memory_v2(d, &st, &err), 0);
  assert_true(st.memory.swap.limit == UINT64_MAX);
  cgroup_stats_free(&st);
}

/* Missing files and directories are skipped, not errors. */
static void
test_fake_missing(void **state)
{
  struct fake *f = *state;
  struct silo_error err = {0};
  struct cgroup_stats st = {0};
  char gone[128];
  snprintf(gone, sizeof gone, "%s/gone", f->dir);
  const char *dirs[] = {f->dir, gone};
  for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
    const char *d = dirs[i];
    assert_int_equal(cgroup_stats_cpu_v1(d, d, &st, &err), 0);
    assert_int_equal(cgroup_stats_cpu_v2(d, &st, &err), 0);
    assert_int_equal(cgroup_stats_memory_v1(d, &st, &err), 0);
    assert_int_equal(cgroup_stats_memory_v2(d, &st, &err), 0);
    assert_int_equal(cgroup_stats_pids(d, &st, &err), 0);
    assert_int_equal(cgroup_stats_blkio_v1(d, &st, &err), 0);
    assert_int_equal(cgroup_stats_io_v2(d, &st, &err), 0);
    assert_int_equal(cgroup_stats_hugetlb(d, false, &st, &err), 0);
    assert_int_equal(cgroup_stats_hugetlb(d, true, &st, &err), 0);
    assert_false(st.has_cpu || st.has_memory || st.has_pids || st.has_blkio);
    assert_int_equal(st.n_hugetlb, 0);
    assert_int_equal(st.memory.n_raw, 0);
  }
  cgroup_stats_free(&st);
  cgroup_stats_free(NULL);
}

/* ---- live tests ---- */

struct live {
  char path[64];
  struct cgroup *cg;
  pid_t child;
  int go; /* write end of the child's start pipe */
};

static int
live_setup(void **state)
{
  struct live *l = calloc(1, sizeof *l);
  snprintf(l->path, sizeof l->path, "/silo-unittest-stats-%d", (int)getpid());
  l->child = -1;
  l->go = -1;
  *state = l;
  return 0;
}

static int
live_teardown(void **state)
{
  struct live *l = *state;
  struct silo_error err = {0};
  const struct cgroup_hierarchy *h;
  size_t n;
  char p[256];
  if (l->go >= 0) close(l->go);
  if (l->child > 0) {
    kill(l->child, SIGKILL);
    waitpid(l->child, NULL, 0);
  }
  if (l->cg) {
    cgroup_destroy(l->cg, &err);
    cgroup_free(l->cg);
  }
  if (cgroup_hierarchies(&h, &n, &err) == 0)
    for (size_t i = 0; i < n; i++) {
      snprintf(p, sizeof p, "%s%s", h[i].mountpoint, l->path);
      (void)rmdir(p);
    }
  free(l);
  return 0;
}

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

/* A child that waits for a byte on a pipe, then touches `bytes` of memory and
 * sleeps.  Entered into the cgroup before it allocates anything. */
static void
start_child(struct live *l, size_t bytes)
{
  struct silo_error err = {0};
  int p[2];
  assert_int_equal(pipe(p), 0);
  l->child = fork();
  assert_true(l->child >= 0);
  if (l->child == 0) {
    char c;
    close(p[1]);
    if (read(p[0], &c, 1) != 1) _exit(1);
    char *m = malloc(bytes);
    if (!m) _exit(2);
    for (size_t i = 0; i < bytes; i += 4096) m[i] = 1;
    for (;;) pause();
  }
  close(p[0]);
  l->go = p[1];
  if (cgroup_enter(l->cg, l->child, false, &err) < 0) fail_msg("enter: %s", err.msg);
  assert_int_equal(write(l->go, "x", 1), 1);
}

static void
test_live_stats(void **state)
{
  struct live *l = *state;
  struct silo_error err = {0};
  struct cgroup_stats st;
  require_cgroups();
  struct cgroup_config cfg = {.id = "s", .path = l->path, .manager = CGROUP_MANAGER_CGROUPFS};
  if (cgroup_create(&cfg, &l->cg, &err) < 0) fail_msg("create: %s", err.msg);
  start_child(l, 8 << 20);

  /* The child touches 8 MiB: wait until the cgroup is charged for some of it. */
  for (int i = 0; i < 200; i++) {
    if (cgroup_stats(l->cg, &st, &err) < 0) fail_msg("stats: %s", err.msg);
    bool done = st.memory.usage.usage >= (4 << 20);
    cgroup_stats_free(&st);
    if (done) break;
    usleep(10000);
  }
  if (cgroup_stats(l->cg, &st, &err) < 0) fail_msg("stats: %s", err.msg);
  if (!st.has_memory || !st.has_pids) {
    cgroup_stats_free(&st);
    skip(); /* no memory or pids controller on this host */
  }
  assert_true(st.memory.usage.usage > 0);
  assert_true(st.memory.n_raw > 0);
  assert_true(st.pids.current >= 1);
  assert_true(st.has_cpu);
  cgroup_stats_free(&st);

  /* The OOM interfaces work on a cgroup without any OOM. */
  uint64_t kills = 99;
  assert_int_equal(cgroup_oom_count(l->cg, &kills, NULL), 0);
  assert_int_equal(kills, 0);
  int fd = cgroup_oom_fd(l->cg, &err);
  if (fd < 0) fail_msg("oom fd: %s", err.msg);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 0), 0);
  close(fd);
}

/* A child that outgrows a 16 MiB limit: the fd fires and the count goes up. */
static void
test_live_oom(void **state)
{
  struct live *l = *state;
  struct silo_error err = {0};
  require_cgroups();
  struct oci_memory mem = {
      .has_limit = true, .limit = 16 << 20, .has_swap = true, .swap = 16 << 20};
  struct oci_resources res = {.memory = &mem};
  struct cgroup_config cfg = {
      .id = "s", .path = l->path, .manager = CGROUP_MANAGER_CGROUPFS, .resources = &res};
  if (cgroup_create(&cfg, &l->cg, &err) < 0) {
    if (err.errnum == ENOTSUP || err.errnum == ENOENT) skip(); /* no memory controller */
    fail_msg("create: %s", err.msg);
  }
  uint64_t before;
  if (cgroup_oom_count(l->cg, &before, NULL) < 0) skip();
  int fd = cgroup_oom_fd(l->cg, &err);
  if (fd < 0) fail_msg("oom fd: %s", err.msg);

  start_child(l, 64 << 20);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 20000), 1);
  int status;
  assert_int_equal(waitpid(l->child, &status, 0), l->child);
  l->child = -1;
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  uint64_t after = 0;
  assert_int_equal(cgroup_oom_count(l->cg, &after, NULL), 0);
  assert_true(after > before);
  close(fd);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_u64),
      cmocka_unit_test(test_parse_key),
      cmocka_unit_test(test_parse_kv),
      cmocka_unit_test(test_parse_u64_list),
      cmocka_unit_test(test_parse_blkio_v1),
      cmocka_unit_test(test_parse_io_stat),
      cmocka_unit_test(test_hugetlb_names),
      cmocka_unit_test(test_ticks),
      cmocka_unit_test_setup_teardown(test_fake_v1, fake_setup, fake_teardown),
      cmocka_unit_test_setup_teardown(test_fake_v2, fake_setup, fake_teardown),
      cmocka_unit_test_setup_teardown(test_fake_missing, fake_setup, fake_teardown),
      cmocka_unit_test_setup_teardown(test_live_stats, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_oom, live_setup, live_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
