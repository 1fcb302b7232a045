/* Unit tests of lib/base/creds.c: /etc/passwd entries as an image has them (HOME of
 * the container process, users of `silo sandbox`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/base.h"

#define UNUSED __attribute__((unused))

static int
lookup(const char *text, const char *name, uint32_t uid, struct creds_pw *pw)
{
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", text);
  memset(pw, 0, sizeof *pw);
  return creds_passwd_lookup(buf, name, uid, pw);
}

static void
test_passwd_lookup(void **state UNUSED)
{
  const char *t = "root:x:0:0:root:/root:/bin/sh\n"
                  "# a comment\n"
                  "broken:x:abc:1:::\n"
                  "short:x:7\n"
                  "empty:x:42:43:::/bin/false\n"
                  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
  struct creds_pw pw;
  assert_int_equal(lookup(t, NULL, 0, &pw), 0);
  assert_string_equal(pw.home, "/root");
  assert_string_equal(pw.name, "root");
  assert_int_equal(lookup(t, NULL, 65534, &pw), 0);
  assert_string_equal(pw.home, "/nonexistent");
  assert_int_equal(pw.gid, 65534);
  assert_int_equal(lookup(t, NULL, 42, &pw), 0);
  assert_string_equal(pw.home, "/"); /* an empty home is "/" */
  assert_int_equal(pw.gid, 43);
  assert_int_equal(lookup(t, NULL, 7, &pw), -1); /* too few fields */
  assert_int_equal(lookup(t, NULL, 1234, &pw), -1);
  assert_int_equal(lookup(t, "nobody", 0, &pw), 0);
  assert_int_equal(pw.uid, 65534);
  assert_int_equal(lookup(t, "broken", 0, &pw), -1);
  assert_int_equal(lookup("", NULL, 0, &pw), -1);
  /* (uid_t)-1 is never an id */
  assert_int_equal(lookup("x:x:4294967295:0::/x:\n", NULL, 4294967295u, &pw), -1);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_passwd_lookup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
