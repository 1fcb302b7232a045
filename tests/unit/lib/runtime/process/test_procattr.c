/* Unit tests of lib/runtime/process/procattr.c's pure parts: CPU and node lists ("0-3,7"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lib/runtime/process/process.h"

#define UNUSED __attribute__((unused))
#define BITS   128

static unsigned long set[BITS / (8 * sizeof(unsigned long))];

static bool
has(unsigned n)
{
  return set[n / (8 * sizeof *set)] & (1UL << (n % (8 * sizeof *set)));
}

static unsigned
count(void)
{
  unsigned n = 0;
  for (unsigned i = 0; i < BITS; i++) n += has(i);
  return n;
}

static void
test_lists(void **state UNUSED)
{
  assert_int_equal(procattr_parse_list("0-3,7", set, BITS), 1);
  assert_true(has(0) && has(1) && has(2) && has(3) && has(7));
  assert_int_equal(count(), 5);
  assert_int_equal(procattr_parse_list("5", set, BITS), 1);
  assert_true(has(5));
  assert_int_equal(count(), 1); /* cleared first */
  assert_int_equal(procattr_parse_list("64-65,127", set, BITS), 1);
  assert_true(has(64) && has(65) && has(127));
  assert_int_equal(count(), 3);
  /* empty: no bits (a mode that takes no nodes) */
  assert_int_equal(procattr_parse_list("", set, BITS), 0);
  assert_int_equal(procattr_parse_list(NULL, set, BITS), 0);
  assert_int_equal(count(), 0);
}

static void
test_bad_lists(void **state UNUSED)
{
  const char *bad[] = {"x", "0-", "-1", "3-1", "1,,2", "1,", "0-x", "1 2", "128", "0-128", "+1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    if (procattr_parse_list(bad[i], set, BITS) != -1) fail_msg("`%s` was accepted", bad[i]);
  }
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lists),
      cmocka_unit_test(test_bad_lists),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
