/* silo cgroup/: linux.resources on cgroup v2, and the conversions from the
 * spec's v1-shaped values (shares, blkio weight, memory+swap) to v2 files.
 *
 * The directory is the container's own v2 cgroup, with the needed controller
 * already enabled by the caller (cgroup.c: pick()).
 */
#include "cgroup/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- conversions (pure) ---- */

uint64_t
cgroup_shares_to_weight(uint64_t shares)
{
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  /* Maps [2, 262144] linearly onto [1, 10000]; 1024 (the v1 default) -> 39. */
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
cgroup_blkio_to_io_weight(uint64_t weight)
{
  if (weight == 0) return 0;
  if (weight < 10) weight = 10;
  if (weight > 1000) weight = 1000;
  /* Maps [10, 1000] linearly onto [1, 10000]. */
  return 1 + (weight - 10) * 9999 / 990;
}

int
cgroup_swap_v2(int64_t limit, int64_t swap, int64_t *out, const char **why)
{
  if (limit == INT64_MAX) limit = -1;
  /* Unlimited memory with no swap value: unlimited swap too (v1 behaviour). */
  if (limit == -1 && swap == 0) {
    *out = -1;
    return 0;
  }
  if (swap == 0) return 1;
  if (swap == -1) {
    *out = -1;
    return 0;
  }
  if (limit <= 0) {
    *why = "cannot limit swap without a memory limit";
    return -1;
  }
  if (swap < limit) {
    *why = "must be at least linux.resources.memory.limit (it counts memory+swap)";
    return -1;
  }
  *out = swap - limit; /* v2's memory.swap.max counts swap alone */
  return 0;
}

void
cgroup_cpu_max(char *buf, size_t len, bool has_quota, int64_t quota, bool has_period,
               uint64_t period, const char *cur)
{
  char q[24] = "max";
  unsigned long long p = 100000; /* the kernel's default period */
  if (cur) {
    char cq[24];
    unsigned long long cp;
    int n = sscanf(cur, "%23s %llu", cq, &cp);
    if (n >= 1) snprintf(q, sizeof q, "%s", cq);
    if (n == 2) p = cp;
  }
  if (has_quota && quota != 0) {
    if (quota < 0)
      snprintf(q, sizeof q, "max");
    else
      snprintf(q, sizeof q, "%" PRId64, quota);
  }
  if (has_period && period != 0) p = period;
  snprintf(buf, len, "%s %llu", q, p);
}

struct io_dev {
  int64_t major, minor;
  char line[160];
};

char **
cgroup_io_max_lines(const struct oci_blkio *b)
{
  const struct oci_throttle_device *lists[4] = {b->throttle_read_bps, b->throttle_write_bps,
                                                b->throttle_read_iops, b->throttle_write_iops};
  const size_t ns[4] = {b->n_throttle_read_bps, b->n_throttle_write_bps, b->n_throttle_read_iops,
                        b->n_throttle_write_iops};
  static const char *const keys[4] = {"rbps", "wbps", "riops", "wiops"};
  size_t total = ns[0] + ns[1] + ns[2] + ns[3], n = 0;
  _cleanup_free_ struct io_dev *devs = xcalloc(total ? total : 1, sizeof *devs);

  for (int k = 0; k < 4; k++) {
    for (size_t i = 0; i < ns[k]; i++) {
      const struct oci_throttle_device *t = &lists[k][i];
      size_t d;
      for (d = 0; d < n && !(devs[d].major == t->major && devs[d].minor == t->minor); d++) {
      }
      if (d == n) {
        devs[n].major = t->major;
        devs[n].minor = t->minor;
        snprintf(devs[n].line, sizeof devs[n].line, "%" PRId64 ":%" PRId64, t->major, t->minor);
        n++;
      }
      size_t l = strlen(devs[d].line);
      if (t->rate)
        snprintf(devs[d].line + l, sizeof devs[d].line - l, " %s=%" PRIu64, keys[k], t->rate);
      else
        snprintf(devs[d].line + l, sizeof devs[d].line - l, " %s=max", keys[k]);
    }
  }
  char **v = xcalloc(n + 1, sizeof *v);
  for (size_t d = 0; d < n; d++) v[d] = xstrdup(devs[d].line);
  return v;
}

/* ---- writers ---- */

int
cgroup_v2_memory(const char *dir, const struct oci_memory *m, struct silo_error *err)
{
  const char *p = "linux.resources.memory";
  int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;

  if (m->has_check_before_update && m->check_before_update && limit > 0) {
    int64_t usage;
    if (cgroup_read_i64(dir, "memory.current", &usage) == 0 && usage > limit)
      return silo_err(err, EBUSY, "%s.limit: %" PRId64 " is below the current usage %" PRId64, p,
                      limit, usage);
  }
  if (m->has_limit) {
    if (limit == -1 ? cgroup_setj("linux.resources.memory.limit", dir, "memory.max", err, "max") < 0
                    : cgroup_setj("linux.resources.memory.limit", dir, "memory.max", err,
                                  "%" PRId64, limit) < 0)
      return -1;
  }
  if (swap != 0 || limit == -1) {
    int64_t eff = limit, out = 0;
    const char *why = "";
    /* `update` may give swap alone: the limit in effect is the cgroup's own. */
    if (eff == 0 && cgroup_read_i64(dir, "memory.max", &eff) < 0) eff = 0;
    int r = cgroup_swap_v2(eff, swap, &out, &why);
    if (r < 0) return silo_err(err, 0, "%s.swap: %s", p, why);
    if (r == 0 && !cgroup_exists(dir, "memory.swap.max")) {
      if (out != -1)
        return silo_err(err, ENOTSUP, "%s.swap: swap accounting is off (no memory.swap.max)", p);
    } else if (r == 0) {
      if (out == -1
              ? cgroup_setj("linux.resources.memory.swap", dir, "memory.swap.max", err, "max") < 0
              : cgroup_setj("linux.resources.memory.swap", dir, "memory.swap.max", err, "%" PRId64,
                            out) < 0)
        return -1;
    }
  }
  if (m->has_reservation) {
    if (m->reservation == -1
            ? cgroup_setj("linux.resources.memory.reservation", dir, "memory.low", err, "max") < 0
            : cgroup_setj("linux.resources.memory.reservation", dir, "memory.low", err, "%" PRId64,
                          m->reservation) < 0)
      return -1;
  }
  /* swappiness, disableOOMKiller, kernel, kernelTCP: no v2 equivalent; ignored
   * like runc and crun do. */
  return 0;
}

int
cgroup_v2_cpu(const char *dir, const struct oci_cpu *c, struct silo_error *err)
{
  const char *p = "linux.resources.cpu";
  bool quota = c->has_quota && c->quota != 0, period = c->has_period && c->period != 0;
  bool burst_done = false;

  if ((c->has_realtime_runtime && c->realtime_runtime) ||
      (c->has_realtime_period && c->realtime_period))
    return silo_err(err, ENOTSUP, "%s.realtimeRuntime/realtimePeriod: not supported on cgroup v2",
                    p);
  if (c->has_shares && c->shares &&
      cgroup_setj("linux.resources.cpu.shares", dir, "cpu.weight", err, "%" PRIu64,
                  cgroup_shares_to_weight(c->shares)) < 0)
    return -1;
  if (quota || period) {
    char cur[64], val[64];
    /* The part not given keeps its current value (only a period: quota stays). */
    bool have = cgroup_read(dir, "cpu.max", cur, sizeof cur) >= 0;
    cgroup_cpu_max(val, sizeof val, c->has_quota, c->quota, c->has_period, c->period,
                   have ? cur : NULL);
    int r = cgroup_write(dir, "cpu.max", val);
    /* A lower quota than the burst in place is refused: burst first, then again. */
    if (r == -EINVAL && c->has_burst) {
      if (cgroup_setj("linux.resources.cpu.burst", dir, "cpu.max.burst", err, "%" PRIu64,
                      c->burst) < 0)
        return -1;
      burst_done = true;
      r = cgroup_write(dir, "cpu.max", val);
    }
    if (r < 0)
      return silo_err(err, -r, "%s.quota: write %s/cpu.max \"%s\"%s", p, dir, val,
                      r == -EINVAL ? " (cpu.max.burst must not exceed the quota)" : "");
  }
  if (c->has_burst && !burst_done &&
      cgroup_setj("linux.resources.cpu.burst", dir, "cpu.max.burst", err, "%" PRIu64, c->burst) < 0)
    return -1;
  if (c->has_idle &&
      cgroup_setj("linux.resources.cpu.idle", dir, "cpu.idle", err, "%" PRId64, c->idle) < 0)
    return -1;
  return 0;
}

/* cpuset and pids files have the same names and formats on v1 and v2. */
int
cgroup_cpuset(const char *dir, const struct oci_cpu *c, struct silo_error *err)
{
  if (c->cpus && *c->cpus &&
      cgroup_setj("linux.resources.cpu.cpus", dir, "cpuset.cpus", err, "%s", c->cpus) < 0)
    return -1;
  if (c->mems && *c->mems &&
      cgroup_setj("linux.resources.cpu.mems", dir, "cpuset.mems", err, "%s", c->mems) < 0)
    return -1;
  return 0;
}

int
cgroup_pids_limit(const char *dir, int64_t limit, struct silo_error *err)
{
  if (limit > 0)
    return cgroup_setj("linux.resources.pids.limit", dir, "pids.max", err, "%" PRId64, limit);
  return cgroup_setj("linux.resources.pids.limit", dir, "pids.max", err, "max");
}

int
cgroup_v2_io(const char *dir, const struct oci_blkio *b, struct silo_error *err)
{
  const char *p = "linux.resources.blockIO";
  char json[96];
  /* BFQ takes the v1 range (1-1000) as is; io.weight (iocost) wants 1-10000. */
  bool bfq = cgroup_exists(dir, "io.bfq.weight");

  if (b->has_weight && b->weight) {
    int r = bfq ? cgroup_setj("linux.resources.blockIO.weight", dir, "io.bfq.weight", err, "%u",
                              b->weight)
                : cgroup_setj("linux.resources.blockIO.weight", dir, "io.weight", err,
                              "default %" PRIu64, cgroup_blkio_to_io_weight(b->weight));
    if (r < 0) return -1;
  }
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct oci_weight_device *w = &b->weight_device[i];
    if (!w->has_weight || !w->weight) continue;
    snprintf(json, sizeof json, "%s.weightDevice[%zu]", p, i);
    int r = bfq ? cgroup_setj(json, dir, "io.bfq.weight", err, "%" PRId64 ":%" PRId64 " %u",
                              w->major, w->minor, w->weight)
                : cgroup_setj(json, dir, "io.weight", err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                              w->major, w->minor, cgroup_blkio_to_io_weight(w->weight));
    if (r < 0) return -1;
  }
  /* leafWeight: no v2 equivalent. */
  _cleanup_strv_ char **lines = cgroup_io_max_lines(b);
  for (size_t i = 0; lines[i]; i++)
    if (cgroup_setj("linux.resources.blockIO.throttle*", dir, "io.max", err, "%s", lines[i]) < 0)
      return -1;
  return 0;
}

/* Huge page limits: hugetlb.<size>.limit_in_bytes on v1, hugetlb.<size>.max on v2. */
int
cgroup_hugetlb(const char *dir, bool v2, const struct oci_resources *r, struct silo_error *err)
{
  const char *limit = v2 ? "max" : "limit_in_bytes";
  const char *rsvd = v2 ? "rsvd.max" : "rsvd.limit_in_bytes";
  char file[96], json[96];
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
    snprintf(json, sizeof json, "linux.resources.hugepageLimits[%zu]", i);
    snprintf(file, sizeof file, "hugetlb.%s.%s", h->page_size, limit);
    if (!cgroup_exists(dir, file))
      return silo_err(err, ENOTSUP, "%s.pageSize: huge page size %s not supported here (no %s)",
                      json, h->page_size, file);
    if (cgroup_setj(json, dir, file, err, "%" PRIu64, h->limit) < 0) return -1;
    /* Reservations (5.7+) get the same limit, as runc does. */
    snprintf(file, sizeof file, "hugetlb.%s.%s", h->page_size, rsvd);
    if (cgroup_exists(dir, file) && cgroup_setj(json, dir, file, err, "%" PRIu64, h->limit) < 0)
      return -1;
  }
  return 0;
}

/* rdma.max has the same format on v1 and v2. */
int
cgroup_rdma(const char *dir, const struct oci_resources *r, struct silo_error *err)
{
  char line[256], json[128];
  for (size_t i = 0; i < r->n_rdma; i++) {
    const struct oci_rdma *d = &r->rdma[i];
    int n = snprintf(line, sizeof line, "%s", d->device);
    if (n < 0 || n > (int)sizeof line - 64)
      return silo_err(err, 0, "linux.resources.rdma: device name too long");
    if (d->has_hca_handles)
      n += snprintf(line + n, sizeof line - (size_t)n, " hca_handle=%u", d->hca_handles);
    if (d->has_hca_objects && n < (int)sizeof line)
      snprintf(line + n, sizeof line - (size_t)n, " hca_object=%u", d->hca_objects);
    if (!d->has_hca_handles && !d->has_hca_objects) continue;
    snprintf(json, sizeof json, "linux.resources.rdma.%s", d->device);
    if (cgroup_setj(json, dir, "rdma.max", err, "%s", line) < 0) return -1;
  }
  return 0;
}
