/* A cmocka group fixture for tests of silo's on-disk stores (the lease store of
 * netns/): a fresh temporary directory, open as rootfd, removed afterwards.
 * Included by one test file each (static: no linkage between them). */
#ifndef SILO_TEST_STORE_FIXTURE_H
#define SILO_TEST_STORE_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[64];
static int rootfd = -1;

static int
store_setup(void **state)
{
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/silo-store-unit.XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  rootfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(rootfd >= 0);
  return 0;
}

static int
store_teardown(void **state)
{
  (void)state;
  char cmd[128];
  close(rootfd);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  assert_int_equal(system(cmd), 0);
  return 0;
}

#endif
