/* Unit tests of fs_proc_open_root (lib/base/fsutil.c): the root of a process,
 * opened through /proc only when the pid still names the process the caller means
 * (the pidfd's, and the one of the given start time). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/base/base.h"

#define UNUSED __attribute__((unused))

/* A child that chroots into a directory of its own and waits for its pipe to close. */
static pid_t
chrooted_child(const char *dir, int *keep)
{
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[1]);
    if (chroot(dir) < 0) _exit(1);
    char c;
    (void)!read(p[0], &c, 1);
    _exit(0);
  }
  close(p[0]);
  *keep = p[1];
  return pid;
}

static int
same_dir(int fd, const char *path)
{
  struct stat a, b;
  if (fstat(fd, &a) < 0 || stat(path, &b) < 0) return 0;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The child's root is its chroot directory, with or without a pidfd and start time. */
static void
test_root_of_a_live_process(void **state UNUSED)
{
  char dir[] = "/tmp/silo-procroot-XXXXXX";
  assert_non_null(mkdtemp(dir));
  int keep;
  pid_t pid = chrooted_child(dir, &keep);
  unsigned long long start = 0;
  /* wait for the chroot (the root changes under us otherwise) */
  for (int i = 0; i < 2000; i++) {
    int fd = fs_proc_open_root(pid, -1, 0, &(struct silo_error){0});
    int ok = fd >= 0 && same_dir(fd, dir);
    if (fd >= 0) close(fd);
    if (ok) break;
    usleep(1000);
  }
  assert_int_equal(fs_proc_stat(pid, NULL, &start), 0);
  struct silo_error err = {0};
  int fd = fs_proc_open_root(pid, -1, start, &err);
  assert_true(fd >= 0);
  assert_true(same_dir(fd, dir));
  close(fd);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  assert_true(pidfd >= 0);
  fd = fs_proc_open_root(pid, pidfd, start, &err);
  assert_true(fd >= 0);
  assert_true(same_dir(fd, dir));
  close(fd);
  /* another start time: the pid names another process than the one meant */
  err = (struct silo_error){0};
  assert_int_equal(fs_proc_open_root(pid, pidfd, start + 1, &err), -1);
  assert_int_equal(err.errnum, ESRCH);
  close(pidfd);
  close(keep);
  waitpid(pid, NULL, 0);
  rmdir(dir);
}

/* A pidfd of a process that has exited (a zombie, then reaped): no root, even
 * when the pid is asked without a start time. */
static void
test_gone_process(void **state UNUSED)
{
  int keep;
  pid_t pid = chrooted_child("/", &keep);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  assert_true(pidfd >= 0);
  close(keep);
  assert_int_equal(waitid(P_PIDFD, (id_t)pidfd, NULL, WEXITED | WNOWAIT), 0);
  struct silo_error err = {0};
  /* a zombie has no root to open */
  assert_int_equal(fs_proc_open_root(pid, pidfd, 0, &err), -1);
  assert_int_equal(err.errnum, ESRCH);
  waitpid(pid, NULL, 0);
  err = (struct silo_error){0};
  assert_int_equal(fs_proc_open_root(pid, pidfd, 0, &err), -1);
  assert_int_equal(err.errnum, ESRCH);
  close(pidfd);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_root_of_a_live_process),
      cmocka_unit_test(test_gone_process),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
