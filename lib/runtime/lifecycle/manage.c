/* silo: commands that act on a running container's cgroup — pause, resume, ps,
 * update. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* The locked state and the opened cgroup of a container. */
struct managed {
  int rootfd, dirfd;
  struct silo_state s;
  struct cgroup *cg;
  enum oci_status status;
};

static void
managed_close(struct managed *m)
{
  if (m->cg) cgroup_free(m->cg);
  state_free(&m->s);
  if (m->dirfd >= 0) close(m->dirfd);
  if (m->rootfd >= 0) close(m->rootfd);
}

static int
managed_open(struct silo_context *ctx, const char *id, struct managed *m, struct silo_error *err)
{
  memset(m, 0, sizeof *m);
  m->rootfd = m->dirfd = -1;
  if (state_validate_id(id, err) < 0) return -1;
  if ((m->rootfd = state_root_open(ctx, err)) < 0) return -1;
  if ((m->dirfd = state_dir_lock(m->rootfd, id, err)) < 0) return -1;
  if (state_read(m->dirfd, &m->s, err) < 0) return -1;
  m->status = state_status(m->dirfd, &m->s);
  if (!m->s.cgroup_path || m->s.cgroup_manager == CGROUP_MANAGER_DISABLED)
    return silo_err(err, ENOTSUP, "the container has no cgroup (--cgroup-manager disabled)");
  return cgroup_open(m->s.cgroup_path, m->s.cgroup_manager, &m->cg, err);
}

static int
set_frozen(struct silo_context *ctx, const char *id, bool frozen, struct silo_error *err)
{
  struct managed m;
  int r = managed_open(ctx, id, &m, err);
  if (r == 0) {
    enum oci_status need = frozen ? OCI_STATUS_RUNNING : OCI_STATUS_PAUSED;
    if (m.status != need)
      r = silo_err(err, 0, "container is %s, not %s", oci_status_name(m.status),
                   oci_status_name(need));
    else
      r = cgroup_freeze(m.cg, frozen, err);
  }
  managed_close(&m);
  return r < 0 ? silo_err_wrap(err, "%s `%s`", frozen ? "pause" : "resume", id) : 0;
}

int
silo_pause(struct silo_context *ctx, const char *id, struct silo_error *err)
{
  return set_frozen(ctx, id, true, err);
}

int
silo_resume(struct silo_context *ctx, const char *id, struct silo_error *err)
{
  return set_frozen(ctx, id, false, err);
}

static int
cmp_pid(const void *a, const void *b)
{
  pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
  return (x > y) - (x < y);
}

/* Table format, like runc: the host's `ps` with the given options, keeping the
 * header and the lines whose PID column belongs to the container. */
static int
ps_table(const pid_t *pids, size_t n, char *const *ps_args, struct silo_error *err)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
  pid_t child = fork();
  if (child < 0) return silo_err(err, errno, "fork");
  if (child == 0) {
    dup2(p[1], 1);
    size_t k = 0;
    const char *argv[64] = {"ps"};
    if (!ps_args || !ps_args[0]) argv[++k] = "-ef";
    for (size_t i = 0; ps_args && ps_args[i] && k < 62; i++) argv[++k] = ps_args[i];
    execvp("ps", (char *const *)argv);
    _exit(127);
  }
  close(p[1]);
  FILE *f = fdopen(p[0], "r");
  if (!f) return silo_err(err, errno, "fdopen");
  char *line = NULL;
  size_t cap = 0;
  int pid_col = -1;
  while (getline(&line, &cap, f) > 0) {
    if (pid_col < 0) {
      /* The header names the columns: find PID. */
      int col = 0;
      char *save = NULL, *copy = xstrdup(line);
      for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
        if (strcmp(t, "PID") == 0) pid_col = col;
      free(copy);
      fputs(line, stdout);
      if (pid_col < 0) break;
      continue;
    }
    char *save = NULL, *copy = xstrdup(line);
    char *t = strtok_r(copy, " \t\n", &save);
    for (int col = 0; t && col < pid_col; col++) t = strtok_r(NULL, " \t\n", &save);
    pid_t pid = t ? (pid_t)atoi(t) : 0;
    if (pid > 0 && bsearch(&pid, pids, n, sizeof *pids, cmp_pid)) fputs(line, stdout);
    free(copy);
  }
  free(line);
  fclose(f);
  int status;
  waitpid(child, &status, 0);
  if (pid_col < 0) return silo_err(err, EINVAL, "ps: no PID column in its output");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return silo_err(err, 0, "ps exited with status %d", WEXITSTATUS(status));
  return 0;
}

int
silo_ps(struct silo_context *ctx, const char *id, bool json, char *const *ps_args,
        struct silo_error *err)
{
  struct managed m;
  pid_t *pids = NULL;
  size_t n = 0;
  int r = managed_open(ctx, id, &m, err);
  /* A stopped container is listed as runc lists it: what is left in its cgroup (usually
   * nothing; an empty list when the cgroup is gone), not an error. */
  struct silo_error gone = {0};
  bool empty = r == 0 && m.status == OCI_STATUS_STOPPED && cgroup_check_exists(m.cg, &gone) < 0;
  if (r == 0 && !empty) r = cgroup_pids(m.cg, &pids, &n, err);
  managed_close(&m); /* do not hold the lock while ps runs */
  if (r == 0) {
    qsort(pids, n, sizeof *pids, cmp_pid);
    if (json) {
      putchar('[');
      for (size_t i = 0; i < n; i++) printf("%s%d", i ? "," : "", (int)pids[i]);
      puts("]");
    } else {
      r = ps_table(pids, n, ps_args, err);
    }
  }
  free(pids);
  return r < 0 ? silo_err_wrap(err, "ps `%s`", id) : 0;
}

/* "512m", "1G", "1024" -> bytes (runc's units.RAMInBytes); "-1" stays -1. */
static int
parse_bytes(const char *flag, const char *s, int64_t *out, struct silo_error *err)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s) return silo_err(err, EINVAL, "--%s: `%s` is not a size", flag, s);
  double mult = 1;
  if (*end) {
    char u = (char)(*end | 0x20);
    const char *units = "bkmgtp";
    const char *pos = strchr(units, u);
    if (!pos) return silo_err(err, EINVAL, "--%s: `%s`: unknown unit", flag, s);
    for (long i = 0; i < pos - units; i++) mult *= 1024;
    end++;
    if (*end == 'b' || *end == 'B') end++;
    if (*end) return silo_err(err, EINVAL, "--%s: `%s`: unknown unit", flag, s);
  }
  *out = (int64_t)(v * mult);
  return 0;
}

static int
parse_num(const char *flag, const char *s, int64_t *out, struct silo_error *err)
{
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s)
    return silo_err(err, EINVAL, "--%s: `%s` is not a number", flag, s);
  *out = v;
  return 0;
}

/* Builds linux.resources from runc's update flags. */
static int
resources_from_flags(const struct silo_update_opts *o, struct oci_resources *r,
                     struct oci_memory *mem, struct oci_cpu *cpu, struct oci_blkio *blk,
                     struct silo_error *err)
{
  int64_t v;
#define BYTES(field, flag, dst, has)                                                               \
  if (o->field) {                                                                                  \
    if (parse_bytes(flag, o->field, &v, err) < 0) return -1;                                       \
    dst = v;                                                                                       \
    has = true;                                                                                    \
    r->memory = mem;                                                                               \
  }
  BYTES(memory, "memory", mem->limit, mem->has_limit)
  BYTES(memory_reservation, "memory-reservation", mem->reservation, mem->has_reservation)
  BYTES(memory_swap, "memory-swap", mem->swap, mem->has_swap)
  BYTES(kernel_memory, "kernel-memory", mem->kernel, mem->has_kernel)
  BYTES(kernel_memory_tcp, "kernel-memory-tcp", mem->kernel_tcp, mem->has_kernel_tcp)
#undef BYTES
#define NUM(field, flag, dst, has, type)                                                           \
  if (o->field) {                                                                                  \
    if (parse_num(flag, o->field, &v, err) < 0) return -1;                                         \
    dst = (type)v;                                                                                 \
    has = true;                                                                                    \
    r->cpu = cpu;                                                                                  \
  }
  NUM(cpu_shares, "cpu-shares", cpu->shares, cpu->has_shares, uint64_t)
  NUM(cpu_quota, "cpu-quota", cpu->quota, cpu->has_quota, int64_t)
  NUM(cpu_period, "cpu-period", cpu->period, cpu->has_period, uint64_t)
  NUM(cpu_rt_period, "cpu-rt-period", cpu->realtime_period, cpu->has_realtime_period, uint64_t)
  NUM(cpu_rt_runtime, "cpu-rt-runtime", cpu->realtime_runtime, cpu->has_realtime_runtime, int64_t)
#undef NUM
  if (o->cpuset_cpus) cpu->cpus = o->cpuset_cpus, r->cpu = cpu;
  if (o->cpuset_mems) cpu->mems = o->cpuset_mems, r->cpu = cpu;
  if (o->pids_limit) {
    if (parse_num("pids-limit", o->pids_limit, &v, err) < 0) return -1;
    r->has_pids_limit = true;
    r->pids_limit = v;
  }
  if (o->blkio_weight) {
    if (parse_num("blkio-weight", o->blkio_weight, &v, err) < 0) return -1;
    if (v < 10 || v > 1000) return silo_err(err, EINVAL, "--blkio-weight: must be 10..1000");
    blk->has_weight = true;
    blk->weight = (uint16_t)v;
    r->blkio = blk;
  }
  return 0;
}

int
silo_update(struct silo_context *ctx, const struct silo_update_opts *o, struct silo_error *err)
{
  struct managed m;
  struct oci_resources_doc *doc = NULL;
  struct oci_resources flags = {0};
  struct oci_memory mem = {0};
  struct oci_cpu cpu = {0};
  struct oci_blkio blk = {0};
  const struct oci_resources *r = &flags;
  int ret = 0;

  /* Everything is parsed before the container is touched. */
  if (o->resources) {
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    bool in = strcmp(o->resources, "-") == 0;
    if (fs_read_file(in ? "/dev/stdin" : o->resources, &buf, &len, err) < 0)
      return silo_err_wrap(err, "update `%s`: --resources", o->id);
    doc = oci_resources_parse(buf, len, err);
    if (!doc) return silo_err_wrap(err, "update `%s`: --resources", o->id);
    r = &doc->resources;
  } else if (resources_from_flags(o, &flags, &mem, &cpu, &blk, err) < 0) {
    return silo_err_wrap(err, "update `%s`", o->id);
  }
  ret = managed_open(ctx, o->id, &m, err);
  if (ret == 0 && m.status == OCI_STATUS_STOPPED)
    ret = silo_err(err, 0, "container is not running");
  if (ret == 0) ret = cgroup_apply(m.cg, r, err);
  managed_close(&m);
  if (doc) oci_resources_doc_free(doc);
  return ret < 0 ? silo_err_wrap(err, "update `%s`", o->id) : 0;
}
