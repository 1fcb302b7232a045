/* silo: creating the container process.
 *
 * One clone3() call gives the child all its new namespaces, puts it straight into
 * its cgroup (CLONE_INTO_CGROUP: it never runs, not even for a moment, outside its
 * limits) and returns a pidfd, so every later signal and wait is immune to pid
 * reuse.  The child is a copy of silo running C code: silo is not exec'ed again
 * (the one exception, a sealed copy for containers that could ptrace us, is made
 * before this point: see cloned.c).
 * Older kernels get clone() + pidfd_open() + a cgroup.procs write.
 */
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "cgroup/cgroup.h"
#include "lib/base/error.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"

static pid_t
raw_clone3(uint64_t flags, int cgroup_fd, int *pidfd)
{
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  args.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)cgroup_fd;
  }
  /* Raw syscall with no new stack: fork semantics, the child continues here.
   * silo is single-threaded, so no lock can be held by a thread that is gone. */
  return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

pid_t
spawn_child(struct container_plan *c, bool *into_cgroup, struct silo_error *err)
{
  int cgfd = c->cg ? cgroup_clone_fd(c->cg) : -1;
  int pidfd = -1;
  pid_t pid = raw_clone3(c->clone_flags, cgfd, &pidfd);
  *into_cgroup = cgfd >= 0;
  if (pid < 0 && cgfd >= 0 && errno != ENOSYS) {
    /* e.g. a kernel without CLONE_INTO_CGROUP (< 5.7): place it afterwards. */
    *into_cgroup = false;
    pid = raw_clone3(c->clone_flags, -1, &pidfd);
  }
  if (pid < 0 && errno == ENOSYS) {
    *into_cgroup = false;
    pid = (pid_t)syscall(SYS_clone, (unsigned long)c->clone_flags | SIGCHLD, 0, 0, 0, 0);
    if (pid > 0) pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  }
  if (pid < 0) return silo_err(err, errno, "clone the container process");
  if (pid > 0) {
    c->pid = pid;
    c->pidfd = pidfd;
  }
  return pid;
}
