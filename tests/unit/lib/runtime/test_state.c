/* Unit tests of lib/runtime/lifecycle/state.c: the intent record a create writes
 * before its side effects (docs/reliability.md), read back and judged by
 * state_status: `creating` while its creator lives, `stopped` once it is gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

struct dir {
  char path[64];
  int fd;
};

static int
dir_setup(void **state)
{
  struct dir *d = calloc(1, sizeof *d);
  snprintf(d->path, sizeof d->path, "/tmp/silo-unit-state.XXXXXX");
  if (!mkdtemp(d->path)) return -1;
  d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *state = d;
  return d->fd < 0 ? -1 : 0;
}

static int
dir_teardown(void **state)
{
  struct dir *d = *state;
  int root = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  close(d->fd);
  fs_rm_rf_at(root, d->path + strlen("/tmp/"), NULL);
  close(root);
  free(d);
  return 0;
}

static struct silo_state
intent(pid_t creator, unsigned long long creator_start)
{
  return (struct silo_state){.id = (char *)"c1",
                             .bundle = (char *)"/b",
                             .rootfs = (char *)"/b/rootfs",
                             .created = (char *)"2026-01-01T00:00:00.000000000Z",
                             .cgroup_path = (char *)"/c1",
                             .creating = true,
                             .creator_pid = creator,
                             .creator_start = creator_start};
}

static void
test_intent_round_trip(void **state)
{
  struct dir *d = *state;
  struct silo_error err = {0};
  unsigned long long start;
  assert_int_equal(fs_proc_stat(getpid(), NULL, &start), 0);
  struct silo_state w = intent(getpid(), start), r;
  assert_int_equal(state_write(d->fd, &w, &err), 0);
  assert_int_equal(state_read(d->fd, &r, &err), 0);
  assert_true(r.creating);
  assert_int_equal(r.creator_pid, getpid());
  assert_int_equal(r.creator_start, start);
  assert_int_equal(r.pid, 0);
  assert_string_equal(r.cgroup_path, "/c1");
  /* Its creator (us) is alive: creating. */
  assert_int_equal(state_status(d->fd, &r), OCI_STATUS_CREATING);
  state_free(&r);

  /* The same pid with another start time is not the creator (pid reuse). */
  w = intent(getpid(), start + 1);
  assert_int_equal(state_write(d->fd, &w, &err), 0);
  assert_int_equal(state_read(d->fd, &r, &err), 0);
  assert_int_equal(state_status(d->fd, &r), OCI_STATUS_STOPPED);
  state_free(&r);

  /* The complete state has no trace of the intent. */
  w.creating = false;
  assert_int_equal(state_write(d->fd, &w, &err), 0);
  assert_int_equal(state_read(d->fd, &r, &err), 0);
  assert_false(r.creating);
  assert_int_equal(r.creator_pid, 0);
  state_free(&r);
  _cleanup_free_ char *txt = NULL;
  assert_int_equal(fs_read_file_at(d->fd, "state.json", &txt, NULL, &err), 0);
  assert_null(strstr(txt, "\"creating\""));
  assert_null(strstr(txt, "\"creator_pid\""));
}

static void
test_intent_of_dead_creator(void **state)
{
  struct dir *d = *state;
  struct silo_error err = {0};
  unsigned long long start;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char b;
    close(fds[1]);
    (void)!read(fds[0], &b, 1);
    _exit(0);
  }
  close(fds[0]);
  assert_int_equal(fs_proc_stat(pid, NULL, &start), 0);
  struct silo_state w = intent(pid, start), r;
  w.pid = pid; /* a recorded container process that is the creator itself, for brevity */
  w.start_time = start;
  assert_int_equal(state_write(d->fd, &w, &err), 0);
  assert_int_equal(state_read(d->fd, &r, &err), 0);
  assert_int_equal(state_status(d->fd, &r), OCI_STATUS_CREATING);
  /* The creator dies (a zombie first: not alive either). */
  close(fds[1]);
  for (int i = 0; i < 1000; i++) {
    char st;
    if (fs_proc_stat(pid, &st, NULL) < 0 || st == 'Z') break;
    usleep(1000);
  }
  assert_int_equal(state_status(d->fd, &r), OCI_STATUS_STOPPED);
  waitpid(pid, NULL, 0);
  assert_int_equal(state_status(d->fd, &r), OCI_STATUS_STOPPED);
  state_free(&r);
}

/* A state directory without state.json: creating while locked, else stopped. */
static void
test_bare_directory(void **state)
{
  struct dir *d = *state;
  assert_int_equal(state_status_bare(d->fd), OCI_STATUS_STOPPED);
  int lk = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(lk >= 0);
  assert_int_equal(flock(lk, LOCK_EX), 0);
  assert_int_equal(state_status_bare(d->fd), OCI_STATUS_CREATING);
  close(lk);
  assert_int_equal(state_status_bare(d->fd), OCI_STATUS_STOPPED);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_intent_round_trip, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_intent_of_dead_creator, dir_setup, dir_teardown),
      cmocka_unit_test_setup_teardown(test_bare_directory, dir_setup, dir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
