/* silo: attributes of the container's process that the kernel keeps across execve.
 *
 *   linux.personality       personality(2): LINUX or LINUX32 (uname -m says i686)
 *   process.scheduler       sched_setattr(2): policy, nice, priority, deadline, flags
 *   process.ioPriority      ioprio_set(2): class and level
 *   linux.memoryPolicy      set_mempolicy(2): NUMA mode, nodes and flags
 *   process.execCPUAffinity sched_setaffinity(2), for `exec` only (the spec leaves
 *                           the init process out): `initial` for silo itself
 *                           before the clone, so the process starts there;
 *                           `final` for the process once it is in its cgroup
 *                           (joining a v1 cpuset resets the affinity).
 *
 * The config's names are turned into numbers in the parent (procattr_plan), so a
 * bad value fails before anything is made, with its JSON path.  The child sets them
 * (procattr_apply) while it still has its privileges: a real-time policy, a
 * negative nice value and the real-time I/O class need CAP_SYS_NICE or
 * CAP_SYS_ADMIN, which the process may not keep; and before seccomp, whose profile
 * may forbid these calls to the container.
 */
#include <errno.h>
#include <limits.h>
#include <linux/sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "oci/oci.h"

/* Policies, I/O classes, memory policy modes and their flags were checked by the
 * parser, against the tables whose indexes are the kernel's values (oci.h).  The
 * parser leaves scheduler flags to us. */
static const char *const sched_flags[] = {"SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",
                                          "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
                                          "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
                                          "SCHED_FLAG_UTIL_CLAMP_MAX", NULL}; /* index = bit */

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13
#define MPOL_FLAG_SHIFT    13 /* MPOL_F_NUMA_BALANCING; RELATIVE_NODES, STATIC_NODES above */

/* "0-3,7": each number at most max - 1; bits set in out (max bits). */
int
procattr_parse_list(const char *s, unsigned long *out, size_t max)
{
  memset(out, 0, (max + LONG_BIT - 1) / LONG_BIT * sizeof *out);
  if (!s || !*s) return 0;
  const char *q = s;
  while (*q) {
    char *end;
    if (*q < '0' || *q > '9') return -1;
    unsigned long a = strtoul(q, &end, 10), b = a;
    if (*end == '-') {
      if (end[1] < '0' || end[1] > '9') return -1;
      b = strtoul(end + 1, &end, 10);
    }
    if (a > b || b >= max) return -1;
    for (unsigned long i = a; i <= b; i++) out[i / LONG_BIT] |= 1UL << (i % LONG_BIT);
    if (*end == ',' && end[1])
      end++;
    else if (*end)
      return -1;
    q = end;
  }
  return 1;
}

static int
plan_scheduler(struct procattr_plan *a, const struct oci_scheduler *s, struct silo_error *err)
{
  int policy = oci_lookup(oci_sched_policies, s->policy);
  struct procattr_sched *k = &a->sched;
  *k = (struct procattr_sched){.size = sizeof *k,
                               .sched_policy = (uint32_t)policy,
                               .sched_nice = s->has_nice ? s->nice : 0,
                               .sched_priority = s->has_priority ? (uint32_t)s->priority : 0,
                               .sched_runtime = s->runtime,
                               .sched_deadline = s->deadline,
                               .sched_period = s->period};
  if (s->has_priority && s->priority < 0)
    return silo_err(err, EINVAL, "process.scheduler.priority: %d is negative", s->priority);
  for (size_t i = 0; i < s->n_flags; i++) {
    int f = oci_lookup(sched_flags, s->flags[i]);
    if (f < 0)
      return silo_err(err, EINVAL, "process.scheduler.flags[%zu]: unknown flag `%s`", i,
                      s->flags[i]);
    k->sched_flags |= 1ULL << f;
  }
  a->has_sched = true;
  return 0;
}

static int
plan_memory_policy(struct procattr_plan *a, const struct oci_memory_policy *m,
                   struct silo_error *err)
{
  int mode = oci_lookup(oci_mpol_modes, m->mode);
  int r = procattr_parse_list(m->nodes, a->nodes, MPOL_NODES_MAX);
  if (r < 0)
    return silo_err(err, EINVAL,
                    "linux.memoryPolicy.nodes: `%s` is not a list of nodes (like 0-3,7) below %d",
                    m->nodes, MPOL_NODES_MAX);
  /* The kernel's rules, said with the config's names before anything is made. */
  bool none = mode == 0 /* DEFAULT */ || mode == 4 /* LOCAL */;
  bool needs = mode == 2 || mode == 3 || mode == 5 || mode == 6; /* BIND, *INTERLEAVE, MANY */
  if (none && r > 0)
    return silo_err(err, EINVAL, "linux.memoryPolicy.nodes: %s takes no nodes", m->mode);
  if (needs && r == 0)
    return silo_err(err, EINVAL, "linux.memoryPolicy.nodes: %s needs nodes", m->mode);
  a->mpol_mode = mode;
  for (size_t i = 0; i < m->n_flags; i++)
    a->mpol_mode |= 1 << (MPOL_FLAG_SHIFT + oci_lookup(oci_mpol_flags, m->flags[i]));
  a->has_mpol = true;
  return 0;
}

static int
plan_affinity(cpu_set_t *set, bool *has, const char *list, const char *what, struct silo_error *err)
{
  if (!list || !list[0]) return 0;
  unsigned long bits[CPU_SETSIZE / LONG_BIT];
  if (procattr_parse_list(list, bits, CPU_SETSIZE) < 0)
    return silo_err(err, EINVAL,
                    "process.execCPUAffinity.%s: `%s` is not a list of CPUs (like 0-3,7)", what,
                    list);
  CPU_ZERO(set);
  for (int i = 0; i < CPU_SETSIZE; i++)
    if (bits[i / LONG_BIT] & (1UL << (i % LONG_BIT))) CPU_SET(i, set);
  *has = true;
  return 0;
}

int
procattr_plan(struct container_plan *c, bool exec, struct silo_error *err)
{
  struct procattr_plan *a = &c->attr;
  const struct oci_process *p = c->proc;
  const struct oci_linux *l = c->cfg->linux;
  if (l && l->personality) {
    const struct oci_personality *pe = l->personality;
    if (pe->n_flags)
      return silo_err(err, EINVAL, "linux.personality.flags[0]: `%s`: no flag is supported",
                      pe->flags[0]);
    a->persona = strcmp(pe->domain, "LINUX32") == 0 ? PER_LINUX32 : PER_LINUX;
    a->has_persona = true;
  }
  if (p->scheduler && plan_scheduler(a, p->scheduler, err) < 0) return -1;
  if (p->io_priority) {
    const struct oci_io_priority *io = p->io_priority;
    int cls = oci_lookup(oci_ioprio_classes, io->class);
    if (io->priority < 0 || io->priority > 7)
      return silo_err(err, EINVAL, "process.ioPriority.priority: %d is out of range (0-7)",
                      io->priority);
    a->ioprio = ((cls + 1) << IOPRIO_CLASS_SHIFT) | io->priority;
    a->has_ioprio = true;
  }
  if (l && l->memory_policy && plan_memory_policy(a, l->memory_policy, err) < 0) return -1;
  if (exec &&
      (plan_affinity(&a->initial, &a->has_initial, p->exec_cpu_affinity_initial, "initial", err) <
           0 ||
       plan_affinity(&a->final, &a->has_final, p->exec_cpu_affinity_final, "final", err) < 0))
    return -1;
  return 0;
}

int
procattr_enter_initial(const struct container_plan *c, struct silo_error *err)
{
  /* silo itself (the exec's parent): the child is cloned from it and inherits. */
  if (c->attr.has_initial && sched_setaffinity(0, sizeof c->attr.initial, &c->attr.initial) < 0)
    return silo_err(err, errno, "process.execCPUAffinity.initial: sched_setaffinity");
  return 0;
}

int
procattr_apply(const struct container_plan *c, struct silo_error *err)
{
  const struct procattr_plan *a = &c->attr;
  if (a->has_persona && personality(a->persona) < 0)
    return silo_err(err, errno, "linux.personality: personality");
  if (a->has_sched && syscall(SYS_sched_setattr, 0, &a->sched, 0) < 0)
    return silo_err(err, errno, "process.scheduler: sched_setattr");
  if (a->has_ioprio && syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, a->ioprio) < 0)
    return silo_err(err, errno, "process.ioPriority: ioprio_set");
  /* maxnode: the kernel takes one less bit than it is told (see set_mempolicy(2)). */
  if (a->has_mpol &&
      syscall(SYS_set_mempolicy, a->mpol_mode, a->nodes, (unsigned long)MPOL_NODES_MAX + 1) < 0)
    return silo_err(err, errno, "linux.memoryPolicy: set_mempolicy");
  if (a->has_final && sched_setaffinity(0, sizeof a->final, &a->final) < 0)
    return silo_err(err, errno, "process.execCPUAffinity.final: sched_setaffinity");
  return 0;
}
