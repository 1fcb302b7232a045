/* silo cgroup/: the file-system level — controller names, small cgroup files
 * (open/read|write/close, no stdio), reading pid lists and removing cgroup trees.
 * Nothing here knows about containers; cgroup.c does.
 */
#include "cgroup/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- controller names ---- */

static const struct {
  const char *name;
  unsigned bit;
} ctl_names[] = {
    {"cpu", CG_CPU},
    {"cpuacct", CG_CPUACCT},
    {"cpuset", CG_CPUSET},
    {"memory", CG_MEMORY},
    {"devices", CG_DEVICES},
    {"freezer", CG_FREEZER},
    {"blkio", CG_BLKIO},
    {"io", CG_IO},
    {"pids", CG_PIDS},
    {"hugetlb", CG_HUGETLB},
    {"net_cls", CG_NET_CLS},
    {"net_prio", CG_NET_PRIO},
    {"perf_event", CG_PERF_EVENT},
    {"rdma", CG_RDMA},
    {"misc", CG_MISC},
    {"debug", CG_DEBUG},
    {"dmem", CG_DMEM},
};

unsigned
cgroup_ctl_bit(const char *name, size_t len)
{
  for (size_t i = 0; i < ARRAY_SIZE(ctl_names); i++)
    if (strlen(ctl_names[i].name) == len && memcmp(ctl_names[i].name, name, len) == 0)
      return ctl_names[i].bit;
  return 0;
}

const char *
cgroup_ctl_name(unsigned bit)
{
  for (size_t i = 0; i < ARRAY_SIZE(ctl_names); i++)
    if (ctl_names[i].bit == bit) return ctl_names[i].name;
  return NULL;
}

unsigned
cgroup_ctl_parse_list(const char *s)
{
  unsigned mask = 0;
  while (*s) {
    size_t n = strcspn(s, " \t\n");
    if (n) mask |= cgroup_ctl_bit(s, n);
    s += n;
    s += strspn(s, " \t\n");
  }
  return mask;
}

/* ---- small files ---- */

static int
join(char *buf, size_t len, const char *dir, const char *file)
{
  int n = snprintf(buf, len, "%s/%s", dir, file);
  return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

ssize_t
cgroup_read(const char *dir, const char *file, char *buf, size_t len)
{
  char p[PATH_MAX];
  size_t got = 0;

  if (join(p, sizeof p, dir, file) < 0) return -ENAMETOOLONG;
  _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  while (got + 1 < len) {
    ssize_t r = read(fd, buf + got, len - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -errno;
    if (r == 0) break;
    got += (size_t)r;
  }
  while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' ')) got--;
  buf[got] = '\0';
  return (ssize_t)got;
}

char *
cgroup_read_all(const char *dir, const char *file)
{
  char p[PATH_MAX];
  size_t cap = 4096, got = 0;

  if (join(p, sizeof p, dir, file) < 0) {
    errno = ENAMETOOLONG;
    return NULL;
  }
  _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  char *buf = xmalloc(cap);
  for (;;) {
    if (got + 1 >= cap) buf = xrealloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + got, cap - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      errno = e;
      return NULL;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  buf[got] = '\0';
  return buf;
}

int
cgroup_write(const char *dir, const char *file, const char *val)
{
  char p[PATH_MAX];
  size_t len = strlen(val);

  if (join(p, sizeof p, dir, file) < 0) return -ENAMETOOLONG;
  /* No O_CREAT: cgroup files exist or the controller is missing; never create. */
  _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  /* The kernel parses each write(2) as one value, so one call, not a loop. */
  ssize_t r = write(fd, val, len);
  if (r < 0) return -errno;
  return (size_t)r == len ? 0 : -EIO;
}

int
cgroup_set(const char *dir, const char *file, const char *val, struct silo_error *err)
{
  int r = cgroup_write(dir, file, val);
  if (r < 0) return silo_err(err, -r, "write %s/%s \"%s\"", dir, file, val);
  return 0;
}

int
cgroup_setf(const char *dir, const char *file, struct silo_error *err, const char *fmt, ...)
{
  char val[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(val, sizeof val, fmt, ap);
  va_end(ap);
  return cgroup_set(dir, file, val, err);
}

int
cgroup_setj(const char *json, const char *dir, const char *file, struct silo_error *err,
            const char *fmt, ...)
{
  char val[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(val, sizeof val, fmt, ap);
  va_end(ap);
  if (cgroup_set(dir, file, val, err) < 0) return silo_err_wrap(err, "%s", json);
  return 0;
}

int
cgroup_read_i64(const char *dir, const char *file, int64_t *v)
{
  char buf[64], *end;
  ssize_t r = cgroup_read(dir, file, buf, sizeof buf);
  if (r < 0) return (int)r;
  if (strcmp(buf, "max") == 0) {
    *v = INT64_MAX;
    return 0;
  }
  errno = 0;
  long long x = strtoll(buf, &end, 10);
  if (end == buf || errno) return -EINVAL;
  *v = x;
  return 0;
}

bool
cgroup_exists(const char *dir, const char *file)
{
  char p[PATH_MAX];
  return join(p, sizeof p, dir, file) == 0 && access(p, F_OK) == 0;
}

/* ---- pid lists ---- */

void
cgroup_pidset_add(struct cg_pidset *s, pid_t p)
{
  if (s->n == s->cap) s->v = xrealloc(s->v, (s->cap = s->cap ? s->cap * 2 : 64) * sizeof *s->v);
  s->v[s->n++] = p;
}

static int
pid_cmp(const void *a, const void *b)
{
  pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
  return (x > y) - (x < y);
}

void
cgroup_pidset_sort(struct cg_pidset *s)
{
  size_t w = 0;
  if (s->n > 1) qsort(s->v, s->n, sizeof *s->v, pid_cmp);
  for (size_t i = 0; i < s->n; i++)
    if (w == 0 || s->v[w - 1] != s->v[i]) s->v[w++] = s->v[i];
  s->n = w;
}

bool
cgroup_pidset_has(const struct cg_pidset *s, pid_t p)
{
  return s->n && bsearch(&p, s->v, s->n, sizeof p, pid_cmp);
}

/* A child cgroup (kernfs fills d_type; cgroup dirs may start with a dot). */
static bool
is_subdir(const struct dirent *e)
{
  const char *n = e->d_name;
  return e->d_type == DT_DIR && !(n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')));
}

/* cgroup.procs of dir and of every cgroup below it (a container may make its own). */
int
cgroup_collect_pids(const char *dir, struct cg_pidset *s, int depth, struct silo_error *err)
{
  char *text = cgroup_read_all(dir, "cgroup.procs");
  if (!text) {
    if (errno == ENOENT || errno == ENODEV) return 0; /* removed meanwhile */
    return silo_err(err, errno, "read %s/cgroup.procs", dir);
  }
  for (char *s2 = text, *end; *s2; s2 = end) {
    long v = strtol(s2, &end, 10);
    if (end == s2) break;
    if (v > 0 && v <= INT_MAX) cgroup_pidset_add(s, (pid_t)v);
  }
  free(text);
  if (depth >= 32) return 0;
  DIR *dd = opendir(dir);
  if (!dd) return 0;
  int r = 0;
  for (struct dirent *e; r == 0 && (e = readdir(dd));) {
    if (!is_subdir(e)) continue;
    _cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
    r = cgroup_collect_pids(sub, s, depth + 1, err);
  }
  closedir(dd);
  return r;
}

/* ---- removal ---- */

static bool
before(const struct timespec *deadline)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec < deadline->tv_sec ||
         (now.tv_sec == deadline->tv_sec && now.tv_nsec < deadline->tv_nsec);
}

/* rmdir of a cgroup and, first, of any cgroup the container made below it.  EBUSY
 * means tasks are still leaving (exit is asynchronous): retry with short sleeps
 * until the deadline.  Only directories are removed; cgroupfs has no other kind
 * of entry a user can create. */
int
cgroup_rmdir_tree(const char *dir, const struct timespec *deadline, int depth)
{
  long delay_us = 500;

  for (;;) {
    if (rmdir(dir) == 0 || errno == ENOENT) return 0;
    if (errno != EBUSY && errno != ENOTEMPTY) return -errno;
    if (depth < 32) {
      DIR *dd = opendir(dir);
      if (dd) {
        for (struct dirent *e; (e = readdir(dd));) {
          if (!is_subdir(e)) continue;
          _cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
          (void)cgroup_rmdir_tree(sub, deadline, depth + 1);
        }
        closedir(dd);
      }
      if (rmdir(dir) == 0 || errno == ENOENT) return 0;
      if (errno != EBUSY && errno != ENOTEMPTY) return -errno;
    }
    if (!before(deadline)) return -EBUSY;
    struct timespec ts = {0, delay_us * 1000};
    nanosleep(&ts, NULL);
    if (delay_us < 16000) delay_us *= 2;
  }
}
