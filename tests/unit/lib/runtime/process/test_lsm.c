/* Unit tests of lib/runtime/process/lsm.c's pure parts: linux.mountLabel as a mount's context=
 * option, and which filesystems take it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/base/error.h"
#include "lib/runtime/process/process.h"
#include "oci/oci.h"

#define UNUSED __attribute__((unused))
#define LABEL  "system_u:object_r:container_file_t:s0:c1,c2"

static void
check_data(const char *data, const char *label, const char *want)
{
  char *got = lsm_mount_data(data, label);
  if (!want)
    assert_null(got);
  else
    assert_string_equal(got, want);
  free(got);
}

static void
test_mount_data(void **state UNUSED)
{
  /* Quoted: the MLS range's comma would otherwise end the option. */
  check_data(NULL, LABEL, "context=\"" LABEL "\"");
  check_data("", LABEL, "context=\"" LABEL "\"");
  check_data("mode=755,size=65536k", LABEL, "mode=755,size=65536k,context=\"" LABEL "\"");
  /* The config's own context wins (two would make the mount fail). */
  check_data("size=1m,context=\"x:y:z:s0\"", LABEL, "size=1m,context=\"x:y:z:s0\"");
  /* No label (no SELinux, or none asked for): the data as it is. */
  check_data("mode=755", NULL, "mode=755");
  check_data(NULL, NULL, NULL);
}

static void
test_takes_context(void **state UNUSED)
{
  assert_true(lsm_takes_context("tmpfs"));
  assert_true(lsm_takes_context("devpts"));
  assert_true(lsm_takes_context("overlay"));
  /* labelled by the policy, or (mqueue) taking no context option */
  assert_false(lsm_takes_context("proc"));
  assert_false(lsm_takes_context("sysfs"));
  assert_false(lsm_takes_context("cgroup"));
  assert_false(lsm_takes_context("cgroup2"));
  assert_false(lsm_takes_context("mqueue"));
}

static void
test_mount_label_plan(void **state UNUSED)
{
  struct oci_linux l = {0};
  assert_null(lsm_mount_label(NULL));
  assert_null(lsm_mount_label(&l));
  l.mount_label = "";
  assert_null(lsm_mount_label(&l));
  l.mount_label = LABEL;
  /* Applied only where SELinux runs; ignored elsewhere, as by runc. */
  if (access("/sys/fs/selinux/enforce", F_OK) == 0)
    assert_string_equal(lsm_mount_label(&l), LABEL);
  else
    assert_null(lsm_mount_label(&l));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mount_data),
      cmocka_unit_test(test_takes_context),
      cmocka_unit_test(test_mount_label_plan),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
