/* What the seccomp unit tests share: profiles written in C, building a filter that
 * must compile, and running a function in a child that loads it first. */
#ifndef SILO_TEST_SECCOMP_HELPERS_H
#define SILO_TEST_SECCOMP_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* seccomp.c logs skipped syscalls at debug level; the real log.c wins when linked in. */
__attribute__((weak)) void
silo_log_debug(const char *fmt, ...)
{
  (void)fmt;
}

#define UNUSED       __attribute__((unused))
#define NAMES(...)   ((const char *[]){__VA_ARGS__, NULL})
#define N_NAMES(...) (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))
#define RULE(act, ...)                                                                             \
  {                                                                                                \
    .names = NAMES(__VA_ARGS__), .n_names = N_NAMES(__VA_ARGS__), .action = act                    \
  }

__attribute__((unused)) static struct silo_seccomp *
build_ok(const struct oci_seccomp *s)
{
  struct silo_error err = {0};
  struct silo_seccomp *f = NULL;
  char buf[SILO_ERROR_MSG_MAX + 64];
  int r = silo_seccomp_build(s, &f, &err);
  if (r < 0) fail_msg("build: %s", silo_err_str(&err, buf, sizeof buf));
  assert_non_null(f);
  return f;
}

__attribute__((unused)) static void
expect_error(const struct oci_seccomp *s, const char *msg)
{
  struct silo_error err = {0};
  struct silo_seccomp *f = (struct silo_seccomp *)&err; /* must be reset to NULL */
  assert_int_equal(silo_seccomp_build(s, &f, &err), -1);
  assert_null(f);
  assert_string_equal(err.msg, msg);
}

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      dprintf(2, "child: line %d: %s failed (errno %d)\n", __LINE__, #cond, errno);                \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

/* Runs fn in a forked child that loads f first; returns the wait status. */
__attribute__((unused)) static int
run_child(struct silo_seccomp *f, int (*fn)(int notify_fd, void *arg), void *arg, pid_t *pidp)
{
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct silo_error err = {0};
    char buf[SILO_ERROR_MSG_MAX + 64];
    int fd;
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core dump for the SIGSYS tests */
    signal(SIGSYS, SIG_DFL);            /* cmocka catches it to report a crash */
    if (silo_seccomp_load(f, &fd, &err) < 0) {
      dprintf(2, "child: %s\n", silo_err_str(&err, buf, sizeof buf));
      _exit(100);
    }
    _exit(fn(fd, arg));
  }
  if (pidp) {
    *pidp = pid;
    return 0;
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  return st;
}

__attribute__((unused)) static void
assert_exit0(int st)
{
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    fail_msg("child: %s %d", WIFEXITED(st) ? "exit" : "signal",
             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

#endif
