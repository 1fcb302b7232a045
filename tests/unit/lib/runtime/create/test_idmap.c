/* Unit tests of lib/runtime/create/namespaces.c: the maps of a user namespace whose
 * config has no uidMappings/gidMappings (crun's default), from /etc/subuid-style text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/runtime/create/create.h"
#include "oci/oci.h"

#define UNUSED __attribute__((unused))

static void
test_subid_range(void **state UNUSED)
{
  const char *text = "alice:100000:65536\nbob:165536:1000\nbobby:300000:5\nbad:1:x\n";
  uint32_t from = 0, count = 0;
  assert_int_equal(ns_subid_range(text, "bob", &from, &count), 0);
  assert_int_equal(from, 165536);
  assert_int_equal(count, 1000);
  assert_int_equal(ns_subid_range(text, "bobby", &from, &count), 0); /* not a prefix match */
  assert_int_equal(from, 300000);
  assert_int_equal(ns_subid_range(text, "alice", &from, &count), 0); /* first line */
  assert_int_equal(count, 65536);
  assert_int_equal(ns_subid_range(text, "bo", &from, &count), -1);
  assert_int_equal(ns_subid_range(text, "carol", &from, &count), -1);
  assert_int_equal(ns_subid_range(text, "bad", &from, &count), -1); /* malformed */
  assert_int_equal(ns_subid_range("", "alice", &from, &count), -1);
  assert_int_equal(ns_subid_range("x:1:0\n", "x", &from, &count), -1);        /* empty range */
  assert_int_equal(ns_subid_range("x:4294967295:2", "x", &from, &count), -1); /* overflows */
  assert_int_equal(ns_subid_range("x:5:2", "x", &from, &count), 0);           /* no final newline */
  assert_int_equal(count, 2);
}

static void
expect_map(const struct oci_idmap *m, uint32_t c, uint32_t h, uint32_t n)
{
  assert_int_equal(m->container_id, c);
  assert_int_equal(m->host_id, h);
  assert_int_equal(m->size, n);
}

static void
test_default_idmap(void **state UNUSED)
{
  struct oci_idmap m[3];
  /* no range: only the caller's id, as root in the container ("0 0 1" for root) */
  assert_int_equal(ns_default_idmap(1000, 0, false, 0, 0, m), 1);
  expect_map(&m[0], 0, 0, 1);
  assert_int_equal(ns_default_idmap(0, 1000, false, 0, 0, m), 1);
  expect_map(&m[0], 0, 1000, 1);
  /* process user 0: the caller's id at 0, the range from 1 */
  assert_int_equal(ns_default_idmap(0, 1000, true, 100000, 65536, m), 2);
  expect_map(&m[0], 0, 1000, 1);
  expect_map(&m[1], 1, 100000, 65536);
  /* process user 1000: ids below it from the range, the caller's at 1000, the rest above */
  assert_int_equal(ns_default_idmap(1000, 500, true, 100000, 65536, m), 3);
  expect_map(&m[0], 0, 100000, 1000);
  expect_map(&m[1], 1000, 500, 1);
  expect_map(&m[2], 1001, 101000, 64536);
  /* a range smaller than the process's id: all of it below, nothing above */
  assert_int_equal(ns_default_idmap(1000, 500, true, 100000, 10, m), 2);
  expect_map(&m[0], 0, 100000, 10);
  expect_map(&m[1], 1000, 500, 1);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_subid_range),
      cmocka_unit_test(test_default_idmap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
