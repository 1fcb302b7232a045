/* silo: `events` — a running container's cgroup statistics and OOM kills, as the
 * JSON lines runc prints (types/events.go of runc: same field names).
 *
 * --stats prints one {"type":"stats",...} object.  Otherwise a poll loop over
 * three fds prints a stats object every interval (timerfd), an {"type":"oom"}
 * object as soon as the cgroup's oom_kill count grows (the OOM fd of cgroup/ says
 * when to look), and ends when the container's init exits (pidfd).
 *
 * The state is read without the container's lock (like `state` and `kill`): the
 * loop may run for hours and must not block `delete`.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "lib/base/error.h"
#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* ---- JSON ----
 *
 * jansson integers are int64; cgroup values reach UINT64_MAX (v2 "max").  Such a
 * value goes in as the marker string "\u0000<digits>" and dump() turns it back into
 * a bare number, so the output has the exact uint64 as runc's does. */

static json_t *
u64(uint64_t v)
{
  if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%c%" PRIu64, '\0', v);
  return json_stringn(buf, (size_t)n);
}

/* Compact JSON of j, with the u64() markers unquoted.  malloc'ed. */
static char *
dump(const json_t *j)
{
  char *s = json_dumps(j, JSON_COMPACT);
  if (!s) return NULL;
  size_t w = 0;
  bool in_str = false;
  for (size_t r = 0; s[r];) {
    if (in_str) {
      if (s[r] == '\\') {
        s[w++] = s[r++];
        if (s[r]) s[w++] = s[r++];
        continue;
      }
      if (s[r] == '"') in_str = false;
      s[w++] = s[r++];
      continue;
    }
    if (s[r] == '"') {
      /* A marker: "\u0000" then digits up to the closing quote. */
      size_t d = r + 7, e = d;
      if (strncmp(s + r + 1, "\\u0000", 6) == 0) {
        while (s[e] >= '0' && s[e] <= '9') e++;
        if (e > d && s[e] == '"') {
          memmove(s + w, s + d, e - d);
          w += e - d;
          r = e + 1;
          continue;
        }
      }
      in_str = true;
    }
    s[w++] = s[r++];
  }
  s[w] = '\0';
  return s;
}

static json_t *
mem_entry(const struct cgroup_mem_entry *e)
{
  json_t *o = json_object();
  json_object_set_new(o, "limit", u64(e->limit));
  json_object_set_new(o, "usage", u64(e->usage));
  json_object_set_new(o, "max", u64(e->max));
  json_object_set_new(o, "failcnt", u64(e->failcnt));
  return o;
}

static json_t *
blkio_list(const struct cgroup_blkio_entry *e, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_object();
    json_object_set_new(o, "major", u64(e[i].major));
    json_object_set_new(o, "minor", u64(e[i].minor));
    json_object_set_new(o, "op", json_string(e[i].op));
    json_object_set_new(o, "value", u64(e[i].value));
    json_array_append_new(a, o);
  }
  return a;
}

/* runc's types.Stats, in its field order; fields always present. */
static json_t *
stats_json(const struct cgroup_stats *st)
{
  json_t *usage = json_object(), *thr = json_object(), *percpu = json_array();
  for (size_t i = 0; i < st->cpu.n_percpu; i++)
    json_array_append_new(percpu, u64(st->cpu.percpu[i]));
  json_object_set_new(usage, "total", u64(st->cpu.total));
  json_object_set_new(usage, "percpu", percpu);
  json_object_set_new(usage, "kernel", u64(st->cpu.kernel));
  json_object_set_new(usage, "user", u64(st->cpu.user));
  json_object_set_new(thr, "periods", u64(st->cpu.periods));
  json_object_set_new(thr, "throttledPeriods", u64(st->cpu.throttled_periods));
  json_object_set_new(thr, "throttledTime", u64(st->cpu.throttled_time));

  json_t *mem = json_object(), *raw = json_object();
  for (size_t i = 0; i < st->memory.n_raw; i++)
    json_object_set_new(raw, st->memory.raw[i].key, u64(st->memory.raw[i].value));
  json_object_set_new(mem, "cache", u64(st->memory.cache));
  json_object_set_new(mem, "usage", mem_entry(&st->memory.usage));
  json_object_set_new(mem, "swap", mem_entry(&st->memory.swap));
  json_object_set_new(mem, "kernel", mem_entry(&st->memory.kernel));
  json_object_set_new(mem, "kernelTCP", mem_entry(&st->memory.kernel_tcp));
  json_object_set_new(mem, "raw", raw);

  json_t *huge = json_object();
  for (size_t i = 0; i < st->n_hugetlb; i++) {
    const struct cgroup_hugetlb_stats *h = &st->hugetlb[i];
    json_object_set_new(huge, h->pagesize,
                        json_pack("{s:o, s:o, s:o}", "usage", u64(h->usage), "max", u64(h->max),
                                  "failcnt", u64(h->failcnt)));
  }

  return json_pack("{s:{s:o, s:o}, s:o, s:{s:o, s:o}, s:{s:o, s:o}, s:o}", "cpu", "usage", usage,
                   "throttling", thr, "memory", mem, "pids", "current", u64(st->pids.current),
                   "limit", u64(st->pids.limit), "blkio", "ioServiceBytesRecursive",
                   blkio_list(st->blkio.service_bytes, st->blkio.n_service_bytes),
                   "ioServicedRecursive", blkio_list(st->blkio.serviced, st->blkio.n_serviced),
                   "hugetlb", huge);
}

/* One line on stdout: {"type":TYPE,"id":ID[,"data":DATA]} (data's reference taken). */
static int
emit(const char *type, const char *id, json_t *data, struct silo_error *err)
{
  json_t *ev = json_pack("{s:s, s:s}", "type", type, "id", id);
  if (ev && data)
    json_object_set_new(ev, "data", data);
  else if (data)
    json_decref(data);
  _cleanup_free_ char *line = ev ? dump(ev) : NULL;
  json_decref(ev);
  if (!line) return silo_err(err, ENOMEM, "encode the %s event", type);
  if (puts(line) == EOF || fflush(stdout) == EOF) return silo_err(err, errno, "write the event");
  return 0;
}

static int
emit_stats(const struct cgroup *cg, const char *id, struct silo_error *err)
{
  struct cgroup_stats st;
  if (cgroup_stats(cg, &st, err) < 0) return -1;
  json_t *data = stats_json(&st);
  cgroup_stats_free(&st);
  if (!data) return silo_err(err, ENOMEM, "encode the statistics");
  return emit("stats", id, data, err);
}

/* ---- the loop ---- */

struct watch {
  const struct cgroup *cg;
  const char *id;
  uint64_t kills; /* oom_kill count last seen */
  bool counting;  /* the count can be read */
  bool pending;   /* the OOM fd fired, the count has not moved yet */
  struct timespec pending_until;
};

/* One "oom" line when the oom_kill count grew since last time. */
static int
check_oom(struct watch *w, struct silo_error *err)
{
  uint64_t n;
  if (!w->counting || cgroup_oom_count(w->cg, &n, NULL) < 0) return 0;
  if (n <= w->kills) return 0;
  w->kills = n;
  w->pending = false;
  return emit("oom", w->id, NULL, err);
}

static void
drain(int fd)
{
  char buf[4096];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

static bool
passed(const struct timespec *t)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static int
loop(struct watch *w, int pidfd, unsigned interval_ms, struct silo_error *err)
{
  struct silo_error oerr = {0};
  _cleanup_close_ int oomfd = cgroup_oom_fd(w->cg, &oerr);
  if (oomfd < 0) silo_log_debug("events `%s`: no OOM notification: %s", w->id, oerr.msg);
  uint64_t n;
  w->counting = cgroup_oom_count(w->cg, &n, NULL) == 0;
  w->kills = w->counting ? n : 0;

  _cleanup_close_ int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (tfd < 0) return silo_err(err, errno, "timerfd_create");
  struct itimerspec its = {
      .it_interval = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000},
      .it_value = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000},
  };
  if (timerfd_settime(tfd, 0, &its, NULL) < 0) return silo_err(err, errno, "timerfd_settime");

  struct pollfd p[3] = {{.fd = pidfd, .events = POLLIN},
                        {.fd = tfd, .events = POLLIN},
                        {.fd = oomfd, .events = POLLIN}};
  for (;;) {
    /* After an OOM notification the kill may follow a little later (v1 notifies
     * first): look again every 20 ms for up to a second. */
    int r = poll(p, oomfd >= 0 ? 3 : 2, w->pending ? 20 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return silo_err(err, errno, "poll");
    if (oomfd >= 0 && (p[2].revents & POLLIN)) {
      drain(oomfd);
      w->pending = true;
      clock_gettime(CLOCK_MONOTONIC, &w->pending_until);
      w->pending_until.tv_sec += 1;
    }
    if (w->pending) {
      if (check_oom(w, err) < 0) return -1;
      if (w->pending && passed(&w->pending_until)) w->pending = false;
    }
    if (p[1].revents & POLLIN) {
      drain(tfd);
      struct silo_error serr = {0};
      if (check_oom(w, err) < 0) return -1;
      if (emit_stats(w->cg, w->id, &serr) < 0) {
        if (serr.errnum == EPIPE) return silo_err(err, EPIPE, "write the event");
        silo_log_warn("events `%s`: %s", w->id, serr.msg);
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      /* The init is gone: report a kill that ended it before leaving. */
      return check_oom(w, err);
    }
  }
}

int
silo_events(struct silo_context *ctx, const char *id, bool stats_once, unsigned interval_ms,
            struct silo_error *err)
{
  struct silo_state s = {0};
  struct cgroup *cg = NULL;
  _cleanup_close_ int rootfd = -1, dirfd = -1, pidfd = -1;
  int ret = -1;

  if (!stats_once && interval_ms == 0) {
    silo_err(err, EINVAL, "the interval must be greater than 0");
    goto out;
  }
  if (state_validate_id(id, err) < 0 || (rootfd = state_root_open(ctx, err)) < 0) goto out;
  dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dirfd < 0) {
    if (errno == ENOENT)
      silo_err(err, ENOENT, "container `%s` does not exist", id);
    else
      silo_err(err, errno, "open state of `%s`", id);
    goto out;
  }
  if (state_read(dirfd, &s, err) < 0) {
    if (err->errnum == ENOENT) silo_err(err, ENOENT, "container `%s` does not exist", id);
    goto out;
  }
  /* pidfd first, then the start time: the pid cannot be a recycled one. */
  pidfd = s.pid > 0 ? (int)syscall(SYS_pidfd_open, s.pid, 0) : -1;
  if (pidfd < 0 || state_status(dirfd, &s) == OCI_STATUS_STOPPED) {
    silo_err(err, 0, "container is not running");
    goto out;
  }
  if (!s.cgroup_path || s.cgroup_manager == CGROUP_MANAGER_DISABLED) {
    silo_err(err, ENOTSUP, "the container has no cgroup (--cgroup-manager disabled)");
    goto out;
  }
  if (cgroup_open(s.cgroup_path, s.cgroup_manager, &cg, err) < 0) goto out;
  if (stats_once) {
    ret = emit_stats(cg, id, err);
  } else {
    struct watch w = {.cg = cg, .id = id};
    ret = loop(&w, pidfd, interval_ms, err);
  }
out:
  cgroup_free(cg);
  state_free(&s);
  return ret < 0 ? silo_err_wrap(err, "events `%s`", id) : 0;
}
