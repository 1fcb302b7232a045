/* silo: creating the container process.
 *
 * One clone3() call gives the child all its new namespaces, puts it straight into
 * its cgroup (CLONE_INTO_CGROUP: it never runs, not even for a moment, outside its
 * limits) and returns a pidfd, so every later signal and wait is immune to pid
 * reuse.  The child is a copy of silo running C code: silo is not exec'ed again
 * (the one exception, a sealed copy for containers that could ptrace us, is made
 * before this point: see cloned.c).
 * Older kernels get clone() + pidfd_open() + a cgroup.procs write.
 *
 * `exec` has a cheaper variant, spawn_child_shared(): the child borrows silo's
 * memory (CLONE_VM) while silo sleeps (CLONE_VFORK) until the child's execve or
 * exit, as posix_spawn does.  No page tables are copied, the child does not fault
 * in again every page of silo it touches, and its execve has no copy to tear
 * down: on a virtual machine where a page fault is a trap to the hypervisor that
 * was a quarter of exec's CPU time (docs/performance.md).
 */
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "cgroup/cgroup.h"
#include "lib/base/error.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"

/* ASan and UBSan builds (gcc, clang): no shared-memory child, see below. */
#if defined(__SANITIZE_ADDRESS__)
#define SILO_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SILO_SANITIZED 1
#endif
#endif
#ifndef SILO_SANITIZED
#define SILO_SANITIZED 0
#endif

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

#if defined(__x86_64__) && !SILO_SANITIZED
/* clone3 with a stack of its own for the child, which calls fn(arg) there and
 * exits with its return value (it normally execs first).  Raw, because the
 * child must not return into a frame of the parent's; x86-64 only.  r12 and r13
 * are callee-saved: the parent's values are untouched, the child starts with them. */
static long
clone3_call(struct clone_args *args, int (*fn)(void *), void *arg)
{
  long ret;
  register int (*r12)(void *) __asm__("r12") = fn;
  register void *r13 __asm__("r13") = arg;
  __asm__ volatile("syscall\n\t"
                   "test %%rax, %%rax\n\t"
                   "jnz 1f\n\t"
                   "xor %%ebp, %%ebp\n\t"
                   "mov %%r13, %%rdi\n\t"
                   "call *%%r12\n\t"
                   "mov %%eax, %%edi\n\t"
                   "mov %[sys_exit], %%eax\n\t"
                   "syscall\n\t"
                   "hlt\n\t"
                   "1:\n\t"
                   : "=a"(ret)
                   : "0"((long)SYS_clone3), "D"(args), "S"(sizeof *args), "r"(r12), "r"(r13),
                     [sys_exit] "i"(SYS_exit)
                   : "rcx", "r11", "memory");
  return ret;
}

/* The child's stack: a part of silo's own (only the silo command makes this child,
 * silo_exec_opts.shared_memory_child), which nothing else uses while silo sleeps.  The child used 11 KiB
 * of it (exec of a missing program, --user, --cap, --env); only the pages it touches
 * are ever mapped. */
#define SHARED_STACK_SIZE (64 * 1024)

/* The kernel's struct sigaction (x86-64) and its 64-bit signal set: raw system calls,
 * because glibc's wrappers refuse signals 32 and 33 (its own) and keep them out of
 * every mask it sets. */
struct ksigaction {
  void (*handler)(int);
  unsigned long flags;
  void *restorer;
  uint64_t mask;
};
#define KSIGSET_SIZE sizeof(uint64_t)

struct shared_start {
  int (*fn)(void *);
  void *arg;
  uint64_t mask; /* silo's own, from before the clone */
};

/* The child's first steps, with every signal blocked (spawn_child_shared): each
 * handler silo (or the program using libsilo) installed back to SIG_DFL, as
 * posix_spawn does, before anything is unblocked.  A handler must never run in
 * the child: it would run silo's code on silo's stack and thread data while silo
 * is stopped in the middle of the clone.  The handler table is the child's own (no
 * CLONE_SIGHAND): silo keeps its handlers.  Ignored signals stay ignored until
 * process_exec's reset.  Then silo's mask, as a forked child would have it. */
static int
shared_child_start(void *arg)
{
  struct shared_start *s = arg;
  for (int sig = 1; sig <= 64; sig++) {
    struct ksigaction old, dfl = {.handler = SIG_DFL};
    if (sig == SIGKILL || sig == SIGSTOP ||
        syscall(SYS_rt_sigaction, sig, NULL, &old, KSIGSET_SIZE) < 0 || old.handler == SIG_DFL ||
        old.handler == SIG_IGN)
      continue;
    syscall(SYS_rt_sigaction, sig, &dfl, NULL, KSIGSET_SIZE);
  }
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &s->mask, NULL, KSIGSET_SIZE);
  return s->fn(s->arg);
}

__attribute__((noinline)) pid_t
spawn_child_shared(struct container_plan *c, int (*fn)(void *), void *arg, int *pidfd,
                   bool *into_cgroup)
{
  _Alignas(64) char stack[SHARED_STACK_SIZE];
  struct clone_args args;
  memset(&args, 0, sizeof args);
  /* Never with new namespaces (exec joins, it makes none) nor into a new time
   * namespace: setns(CLONE_NEWTIME) refuses a process whose memory is shared. */
  args.flags = c->clone_flags | CLONE_PIDFD | CLONE_VM | CLONE_VFORK;
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  args.exit_signal = SIGCHLD;
  args.stack = (uint64_t)(uintptr_t)stack;
  args.stack_size = sizeof stack;
  int cgfd = c->cg ? cgroup_clone_fd(c->cg) : -1;
  if (cgfd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)cgfd;
  }
  *into_cgroup = cgfd >= 0;
  /* Every signal blocked from before the clone until the child has reset its
   * handlers (shared_child_start), and in silo until it wakes up again. */
  uint64_t all = ~(uint64_t)0;
  struct shared_start start = {.fn = fn, .arg = arg, .mask = 0};
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &start.mask, KSIGSET_SIZE);
  long r = clone3_call(&args, shared_child_start, &start);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &start.mask, NULL, KSIGSET_SIZE);
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return (pid_t)r;
}
#else
pid_t
spawn_child_shared(struct container_plan *c, int (*fn)(void *), void *arg, int *pidfd,
                   bool *into_cgroup)
{
  /* Sanitizers track memory per process and do not expect a second one in it. */
  errno = ENOSYS;
  return -1;
}
#endif
