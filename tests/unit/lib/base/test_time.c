/* Unit tests of lib/base/time.c: time_rfc3339 computes the UTC calendar date itself
 * (no gmtime_r/strftime, which load the time zone): it must say what gmtime_r says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/base/base.h"

#define UNUSED __attribute__((unused))

static void
test_rfc3339_is_now_in_utc(void **state UNUSED)
{
  for (int tries = 0; tries < 5; tries++) {
    struct timespec before, after;
    char buf[64], want[32];
    clock_gettime(CLOCK_REALTIME, &before);
    time_rfc3339(buf, sizeof buf);
    clock_gettime(CLOCK_REALTIME, &after);
    if (before.tv_sec != after.tv_sec) continue; /* a second boundary: again */
    struct tm tm;
    gmtime_r(&before.tv_sec, &tm);
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.", &tm);
    assert_int_equal(strlen(buf), strlen(want) + 9 + 1); /* nanoseconds, then Z */
    assert_memory_equal(buf, want, strlen(want));
    assert_int_equal(buf[strlen(buf) - 1], 'Z');
    for (size_t i = strlen(want); i < strlen(buf) - 1; i++)
      assert_true(buf[i] >= '0' && buf[i] <= '9');
    return;
  }
  fail_msg("five tries all crossed a second boundary");
}

static void
test_rfc3339_truncates(void **state UNUSED)
{
  char buf[11];
  time_rfc3339(buf, sizeof buf); /* snprintf semantics: cut, terminated */
  assert_int_equal(strlen(buf), 10);
  assert_int_equal(buf[4], '-');
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc3339_is_now_in_utc),
      cmocka_unit_test(test_rfc3339_truncates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
