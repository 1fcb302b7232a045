/* silo cgroup/: statistics of a container's cgroup, for `events --stats`.
 *
 * Each controller is read from where the host has it: its v1 hierarchy when one
 * carries it, else the cgroup2 directory (a hybrid host keeps hugetlb there).  A
 * file that is missing (controller absent or not enabled, older kernel, cgroup gone
 * meanwhile) is skipped; only a real read error is an error.
 *
 * The parsers at the top take text and touch no file (tests/unit/cgroup/test_cgroup_stats.c
 * feeds them strings); the cg_stats_* readers take a directory, so the tests also run
 * them on fake v1 and v2 directories.
 */
#include "cgroup/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- parsers ---- */

/* An unsigned decimal at *s (after blanks); "max" is UINT64_MAX.  Advances *s. */
static bool
scan_u64(const char **s, uint64_t *v)
{
  const char *p = *s;
  while (*p == ' ' || *p == '\t') p++;
  if (strncmp(p, "max", 3) == 0) {
    *v = UINT64_MAX;
    *s = p + 3;
    return true;
  }
  if (*p < '0' || *p > '9') return false;
  uint64_t x = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *v = x;
  *s = p;
  return true;
}

static bool
at_end(const char *s)
{
  return s[strspn(s, " \t\n")] == '\0';
}

int
cgroup_parse_u64(const char *text, uint64_t *v)
{
  const char *s = text;
  return scan_u64(&s, v) && at_end(s) ? 0 : -EINVAL;
}

int
cgroup_parse_key(const char *text, const char *key, uint64_t *v)
{
  size_t klen = strlen(key);
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    if (strncmp(line, key, klen) == 0 && (line[klen] == ' ' || line[klen] == '\t')) {
      const char *s = line + klen;
      uint64_t x;
      if (!scan_u64(&s, &x) || (*s != '\n' && *s != '\0' && *s != ' ')) return -EINVAL;
      *v = x;
      return 0;
    }
    line = nl ? nl + 1 : NULL;
  }
  return -ENOENT;
}

size_t
cgroup_parse_kv(const char *text, struct cgroup_kv_u64 **kv, size_t *n)
{
  size_t added = 0;
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t klen = strcspn(line, " \t\n");
    const char *s = line + klen;
    uint64_t v;
    if (klen && (*s == ' ' || *s == '\t') && scan_u64(&s, &v) && (*s == '\n' || *s == '\0')) {
      *kv = xrealloc(*kv, (*n + 1) * sizeof **kv);
      (*kv)[*n].key = xasprintf("%.*s", (int)klen, line);
      (*kv)[(*n)++].value = v;
      added++;
    }
    line = nl ? nl + 1 : NULL;
  }
  return added;
}

bool
cgroup_kv_get(const struct cgroup_kv_u64 *kv, size_t n, const char *key, uint64_t *v)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(kv[i].key, key) == 0) {
      *v = kv[i].value;
      return true;
    }
  return false;
}

int
cgroup_parse_u64_list(const char *text, uint64_t **v, size_t *n)
{
  const char *s = text;
  *v = NULL;
  *n = 0;
  while (!at_end(s)) {
    uint64_t x;
    s += strspn(s, " \t\n");
    if (!scan_u64(&s, &x) || (*s && !strchr(" \t\n", *s))) {
      free(*v);
      *v = NULL;
      *n = 0;
      return -EINVAL;
    }
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = x;
  }
  return 0;
}

static void
blkio_add(struct cgroup_blkio_entry **e, size_t *n, uint64_t major, uint64_t minor, const char *op,
          size_t oplen, uint64_t value)
{
  *e = xrealloc(*e, (*n + 1) * sizeof **e);
  (*e)[*n] = (struct cgroup_blkio_entry){major, minor, xasprintf("%.*s", (int)oplen, op), value};
  (*n)++;
}

/* "MAJ:MIN" at *s; advances past it. */
static bool
scan_dev(const char **s, uint64_t *major, uint64_t *minor)
{
  if (!scan_u64(s, major) || **s != ':') return false;
  (*s)++;
  return scan_u64(s, minor) && (**s == ' ' || **s == '\t');
}

size_t
cgroup_parse_blkio_v1(const char *text, struct cgroup_blkio_entry **e, size_t *n)
{
  size_t added = 0;
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    const char *s = line;
    uint64_t major, minor, v;
    /* "8:0 Read 4096"; the last line, "Total N", has no device and is skipped. */
    if (scan_dev(&s, &major, &minor)) {
      s += strspn(s, " \t");
      const char *op = s;
      size_t oplen = strcspn(s, " \t\n");
      s += oplen;
      if (oplen && scan_u64(&s, &v) && (*s == '\n' || *s == '\0' || *s == ' ')) {
        blkio_add(e, n, major, minor, op, oplen, v);
        added++;
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  return added;
}

size_t
cgroup_parse_io_stat(const char *text, struct cgroup_stats *st)
{
  /* v2 io.stat keys -> runc's v1-style entries. */
  static const struct {
    const char *key;
    const char *op;
    bool bytes;
  } keys[] = {
      {"rbytes", "Read", true}, {"wbytes", "Write", true}, {"dbytes", "Discard", true},
      {"rios", "Read", false},  {"wios", "Write", false},  {"dios", "Discard", false},
  };
  size_t added = 0;
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    const char *end = nl ? nl : line + strlen(line);
    const char *s = line;
    uint64_t major, minor;
    if (scan_dev(&s, &major, &minor)) {
      while (s < end) {
        s += strspn(s, " \t");
        size_t klen = strcspn(s, "= \t\n");
        if (s >= end || s[klen] != '=') {
          s += klen;
          continue;
        }
        const char *val = s + klen + 1;
        uint64_t v;
        bool ok = scan_u64(&val, &v);
        for (size_t i = 0; ok && i < ARRAY_SIZE(keys); i++) {
          if (strlen(keys[i].key) != klen || strncmp(keys[i].key, s, klen) != 0) continue;
          if (keys[i].bytes)
            blkio_add(&st->blkio.service_bytes, &st->blkio.n_service_bytes, major, minor,
                      keys[i].op, strlen(keys[i].op), v);
          else
            blkio_add(&st->blkio.serviced, &st->blkio.n_serviced, major, minor, keys[i].op,
                      strlen(keys[i].op), v);
          added++;
        }
        s = val + strcspn(val, " \t\n");
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  return added;
}

bool
cgroup_hugetlb_pagesize(const char *name, bool v2, char *out, size_t len)
{
  const char *suffix = v2 ? "current" : "usage_in_bytes";
  if (strncmp(name, "hugetlb.", 8) != 0) return false;
  const char *size = name + 8, *dot = strchr(size, '.');
  if (!dot || dot == size || strcmp(dot + 1, suffix) != 0) return false;
  size_t n = (size_t)(dot - size);
  if (n >= len) return false;
  memcpy(out, size, n);
  out[n] = '\0';
  return cgroup_valid_pagesize(out);
}

uint64_t
cgroup_ticks_to_ns(uint64_t ticks, long hz)
{
  if (hz <= 0) hz = 100;
  return ticks * (1000000000ull / (uint64_t)hz);
}

/* ---- readers ---- */

/* Errors that mean "not there": the controller, the file or the cgroup is missing. */
static bool
missing(int e)
{
  return e == ENOENT || e == ENODEV || e == ENOTSUP || e == EOPNOTSUPP || e == ENOTDIR;
}

/* A one-number file: 1 read, 0 missing, -1 error. */
static int
read_u64(const char *dir, const char *file, uint64_t *v, struct silo_error *err)
{
  char buf[64];
  ssize_t r = cgroup_read(dir, file, buf, sizeof buf);
  if (r < 0) return missing((int)-r) ? 0 : silo_err(err, (int)-r, "read %s/%s", dir, file);
  if (cgroup_parse_u64(buf, v) < 0)
    return silo_err(err, EINVAL, "%s/%s: not a number: \"%s\"", dir, file, buf);
  return 1;
}

/* A whole file: 1 read (*text malloc'ed), 0 missing, -1 error. */
static int
read_text(const char *dir, const char *file, char **text, struct silo_error *err)
{
  *text = cgroup_read_all(dir, file);
  if (*text) return 1;
  return missing(errno) ? 0 : silo_err(err, errno, "read %s/%s", dir, file);
}

/* The value of key in a "key value" file, 0 when the file or the key is missing. */
static int
read_key(const char *dir, const char *file, const char *key, uint64_t *v, struct silo_error *err)
{
  _cleanup_free_ char *text = NULL;
  int r = read_text(dir, file, &text, err);
  if (r <= 0) return r;
  return cgroup_parse_key(text, key, v) == 0 ? 1 : 0;
}

int
cgroup_stats_cpu_v1(const char *cpuacct, const char *cpu, struct cgroup_stats *st,
                    struct silo_error *err)
{
  uint64_t v;
  int r;
  if (cpuacct) {
    if ((r = read_u64(cpuacct, "cpuacct.usage", &st->cpu.total, err)) < 0) return -1;
    if (r) st->has_cpu = true;
    _cleanup_free_ char *percpu = NULL, *stat = NULL;
    if ((r = read_text(cpuacct, "cpuacct.usage_percpu", &percpu, err)) < 0) return -1;
    if (r) {
      free(st->cpu.percpu);
      if (cgroup_parse_u64_list(percpu, &st->cpu.percpu, &st->cpu.n_percpu) < 0)
        return silo_err(err, EINVAL, "%s/cpuacct.usage_percpu: malformed", cpuacct);
    }
    if ((r = read_text(cpuacct, "cpuacct.stat", &stat, err)) < 0) return -1;
    if (r) {
      long hz = sysconf(_SC_CLK_TCK);
      if (cgroup_parse_key(stat, "user", &v) == 0) st->cpu.user = cgroup_ticks_to_ns(v, hz);
      if (cgroup_parse_key(stat, "system", &v) == 0) st->cpu.kernel = cgroup_ticks_to_ns(v, hz);
    }
  }
  if (cpu) {
    _cleanup_free_ char *stat = NULL;
    if ((r = read_text(cpu, "cpu.stat", &stat, err)) < 0) return -1;
    if (r) {
      st->has_cpu = true;
      if (cgroup_parse_key(stat, "nr_periods", &v) == 0) st->cpu.periods = v;
      if (cgroup_parse_key(stat, "nr_throttled", &v) == 0) st->cpu.throttled_periods = v;
      if (cgroup_parse_key(stat, "throttled_time", &v) == 0) st->cpu.throttled_time = v;
    }
  }
  return 0;
}

int
cgroup_stats_cpu_v2(const char *dir, struct cgroup_stats *st, struct silo_error *err)
{
  _cleanup_free_ char *stat = NULL;
  uint64_t v;
  int r = read_text(dir, "cpu.stat", &stat, err);
  if (r <= 0) return r;
  /* usage_usec, user_usec and system_usec are there even without the cpu controller. */
  if (cgroup_parse_key(stat, "usage_usec", &v) == 0) {
    st->has_cpu = true;
    st->cpu.total = v * 1000;
  }
  if (cgroup_parse_key(stat, "user_usec", &v) == 0) st->cpu.user = v * 1000;
  if (cgroup_parse_key(stat, "system_usec", &v) == 0) st->cpu.kernel = v * 1000;
  if (cgroup_parse_key(stat, "nr_periods", &v) == 0) st->cpu.periods = v;
  if (cgroup_parse_key(stat, "nr_throttled", &v) == 0) st->cpu.throttled_periods = v;
  if (cgroup_parse_key(stat, "throttled_usec", &v) == 0) st->cpu.throttled_time = v * 1000;
  return 0;
}

/* memory.stat into raw; cache is its `key` ("cache" on v1, "file" on v2). */
static int
memory_stat(const char *dir, const char *key, struct cgroup_stats *st, struct silo_error *err)
{
  _cleanup_free_ char *text = NULL;
  int r = read_text(dir, "memory.stat", &text, err);
  if (r <= 0) return r;
  cgroup_parse_kv(text, &st->memory.raw, &st->memory.n_raw);
  cgroup_kv_get(st->memory.raw, st->memory.n_raw, key, &st->memory.cache);
  return 0;
}

int
cgroup_stats_memory_v1(const char *dir, struct cgroup_stats *st, struct silo_error *err)
{
  static const char *const prefix[] = {"memory", "memory.memsw", "memory.kmem", "memory.kmem.tcp"};
  struct cgroup_mem_entry *entry[] = {&st->memory.usage, &st->memory.swap, &st->memory.kernel,
                                      &st->memory.kernel_tcp};
  char f[64];
  int r;
  for (size_t i = 0; i < ARRAY_SIZE(prefix); i++) {
    struct cgroup_mem_entry *e = entry[i];
    snprintf(f, sizeof f, "%s.usage_in_bytes", prefix[i]);
    if ((r = read_u64(dir, f, &e->usage, err)) < 0) return -1;
    if (r && i == 0) st->has_memory = true;
    snprintf(f, sizeof f, "%s.max_usage_in_bytes", prefix[i]);
    if (read_u64(dir, f, &e->max, err) < 0) return -1;
    snprintf(f, sizeof f, "%s.limit_in_bytes", prefix[i]);
    if (read_u64(dir, f, &e->limit, err) < 0) return -1;
    snprintf(f, sizeof f, "%s.failcnt", prefix[i]);
    if (read_u64(dir, f, &e->failcnt, err) < 0) return -1;
  }
  return memory_stat(dir, "cache", st, err);
}

int
cgroup_stats_memory_v2(const char *dir, struct cgroup_stats *st, struct silo_error *err)
{
  struct cgroup_mem_entry *u = &st->memory.usage, *sw = &st->memory.swap;
  int r;
  if ((r = read_u64(dir, "memory.current", &u->usage, err)) < 0) return -1;
  if (r == 0) return 0; /* the memory controller is not enabled here */
  st->has_memory = true;
  if (read_u64(dir, "memory.max", &u->limit, err) < 0) return -1;
  if (read_u64(dir, "memory.peak", &u->max, err) < 0) return -1; /* Linux 5.19+ */
  if (read_key(dir, "memory.events", "max", &u->failcnt, err) < 0) return -1;
  /* v1 reports swap as memory+swap (memsw): so do we, as runc does. */
  if ((r = read_u64(dir, "memory.swap.current", &sw->usage, err)) < 0) return -1;
  if (r) {
    sw->usage += u->usage;
    if (read_u64(dir, "memory.swap.max", &sw->limit, err) < 0) return -1;
    if (sw->limit != UINT64_MAX)
      sw->limit = u->limit == UINT64_MAX || sw->limit > UINT64_MAX - u->limit
                      ? UINT64_MAX
                      : sw->limit + u->limit;
    if (read_key(dir, "memory.swap.events", "fail", &sw->failcnt, err) < 0) return -1;
  }
  return memory_stat(dir, "file", st, err);
}

int
cgroup_stats_pids(const char *dir, struct cgroup_stats *st, struct silo_error *err)
{
  int r = read_u64(dir, "pids.current", &st->pids.current, err);
  if (r <= 0) return r;
  st->has_pids = true;
  if (read_u64(dir, "pids.max", &st->pids.limit, err) < 0) return -1;
  if (st->pids.limit == UINT64_MAX) st->pids.limit = 0; /* "max": no limit */
  return 0;
}

int
cgroup_stats_blkio_v1(const char *dir, struct cgroup_stats *st, struct silo_error *err)
{
  /* The throttle layer counts every bio; the scheduler's (CFQ, BFQ) files are the
   * fallback when it is compiled out or has nothing. */
  static const char *const prefix[] = {"blkio.throttle.", "blkio.", "blkio.bfq."};
  static const char *const kind[] = {"io_service_bytes_recursive", "io_serviced_recursive"};
  struct cgroup_blkio_entry **e[] = {&st->blkio.service_bytes, &st->blkio.serviced};
  size_t *n[] = {&st->blkio.n_service_bytes, &st->blkio.n_serviced};
  char f[64];
  for (size_t k = 0; k < ARRAY_SIZE(kind); k++) {
    for (size_t p = 0; p < ARRAY_SIZE(prefix); p++) {
      _cleanup_free_ char *text = NULL;
      snprintf(f, sizeof f, "%s%s", prefix[p], kind[k]);
      int r = read_text(dir, f, &text, err);
      if (r < 0) return -1;
      if (r == 0) continue;
      st->has_blkio = true;
      if (cgroup_parse_blkio_v1(text, e[k], n[k]) > 0) break;
    }
  }
  return 0;
}

int
cgroup_stats_io_v2(const char *dir, struct cgroup_stats *st, struct silo_error *err)
{
  _cleanup_free_ char *text = NULL;
  int r = read_text(dir, "io.stat", &text, err);
  if (r <= 0) return r;
  st->has_blkio = true;
  cgroup_parse_io_stat(text, st);
  return 0;
}

static int
cmp_hugetlb(const void *a, const void *b)
{
  return strcmp(((const struct cgroup_hugetlb_stats *)a)->pagesize,
                ((const struct cgroup_hugetlb_stats *)b)->pagesize);
}

int
cgroup_stats_hugetlb(const char *dir, bool v2, struct cgroup_stats *st, struct silo_error *err)
{
  DIR *d = opendir(dir);
  if (!d) return missing(errno) ? 0 : silo_err(err, errno, "open %s", dir);
  char size[32], f[96];
  int ret = 0;
  for (struct dirent *de; ret == 0 && (de = readdir(d));) {
    if (!cgroup_hugetlb_pagesize(de->d_name, v2, size, sizeof size)) continue;
    struct cgroup_hugetlb_stats h = {0};
    int r = read_u64(dir, de->d_name, &h.usage, err);
    if (r <= 0) {
      ret = r;
      continue;
    }
    if (v2) {
      /* No max_usage on v2 (hugetlb.<size>.max is the limit); failcnt: events "max". */
      snprintf(f, sizeof f, "hugetlb.%s.events", size);
      ret = read_key(dir, f, "max", &h.failcnt, err);
    } else {
      snprintf(f, sizeof f, "hugetlb.%s.max_usage_in_bytes", size);
      ret = read_u64(dir, f, &h.max, err);
      snprintf(f, sizeof f, "hugetlb.%s.failcnt", size);
      if (ret >= 0) ret = read_u64(dir, f, &h.failcnt, err);
    }
    if (ret < 0) break;
    ret = 0;
    h.pagesize = xstrdup(size);
    st->hugetlb = xrealloc(st->hugetlb, (st->n_hugetlb + 1) * sizeof *st->hugetlb);
    st->hugetlb[st->n_hugetlb++] = h;
  }
  closedir(d);
  if (ret < 0) return -1;
  if (st->n_hugetlb > 1) qsort(st->hugetlb, st->n_hugetlb, sizeof *st->hugetlb, cmp_hugetlb);
  return 0;
}

/* ---- the API ---- */

int
cgroup_stats(const struct cgroup *cg, struct cgroup_stats *st, struct silo_error *err)
{
  const char *v2 = cgroup_v2_dir(cg), *a, *b;
  int r = 0;

  memset(st, 0, sizeof *st);
  a = cgroup_v1_dir(cg, CG_CPUACCT);
  b = cgroup_v1_dir(cg, CG_CPU);
  if (a || b) r = cgroup_stats_cpu_v1(a, b, st, err);
  /* Without v1 cpuacct, usage comes from the v2 cpu.stat (there in every v2 cgroup);
   * a controller is bound to one hierarchy only, so nothing read above is replaced. */
  if (r == 0 && !a && v2) r = cgroup_stats_cpu_v2(v2, st, err);

  if (r == 0 && (a = cgroup_v1_dir(cg, CG_MEMORY)))
    r = cgroup_stats_memory_v1(a, st, err);
  else if (r == 0 && v2)
    r = cgroup_stats_memory_v2(v2, st, err);

  if (r == 0 && (a = cgroup_v1_dir(cg, CG_PIDS)))
    r = cgroup_stats_pids(a, st, err);
  else if (r == 0 && v2)
    r = cgroup_stats_pids(v2, st, err);

  if (r == 0 && (a = cgroup_v1_dir(cg, CG_BLKIO)))
    r = cgroup_stats_blkio_v1(a, st, err);
  else if (r == 0 && v2)
    r = cgroup_stats_io_v2(v2, st, err);

  if (r == 0 && (a = cgroup_v1_dir(cg, CG_HUGETLB)))
    r = cgroup_stats_hugetlb(a, false, st, err);
  else if (r == 0 && v2)
    r = cgroup_stats_hugetlb(v2, true, st, err);

  if (r < 0) {
    cgroup_stats_free(st);
    return silo_err_wrap(err, "statistics of cgroup %s", cg->path);
  }
  return 0;
}

static void
blkio_free(struct cgroup_blkio_entry *e, size_t n)
{
  for (size_t i = 0; i < n; i++) free(e[i].op);
  free(e);
}

void
cgroup_stats_free(struct cgroup_stats *st)
{
  if (!st) return;
  free(st->cpu.percpu);
  for (size_t i = 0; i < st->memory.n_raw; i++) free(st->memory.raw[i].key);
  free(st->memory.raw);
  blkio_free(st->blkio.service_bytes, st->blkio.n_service_bytes);
  blkio_free(st->blkio.serviced, st->blkio.n_serviced);
  for (size_t i = 0; i < st->n_hugetlb; i++) free(st->hugetlb[i].pagesize);
  free(st->hugetlb);
  memset(st, 0, sizeof *st);
}
