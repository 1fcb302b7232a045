/* Unit tests of lib/runtime/rootfs/mountopts.c's option decoding as runc reads it:
 * "ro" is the top mount's flag, rro & co. recursive mount attributes; tmpcopyup and
 * mode= for a tmpfs; read-only deferred for a tmpfs and for /dev. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "oci/oci.h"

#define UNUSED __attribute__((unused))

static void
parse(const char *dest, const char *type, const char *source, const char **opts,
      struct mount_plan *p)
{
  size_t n = 0;
  while (opts[n]) n++;
  static struct oci_mount m;
  m = (struct oci_mount){
      .destination = dest, .type = type, .source = source, .options = opts, .n_options = n};
  struct silo_error e = {0};
  if (mountopts_parse(&m, 0, "/", p, &e) < 0) fail_msg("`%s` refused: %s", dest, e.msg);
}

static void
done(struct mount_plan *p)
{
  free(p->data);
  free(p->owned_source);
}

static void
test_recursive_attrs(void **state UNUSED)
{
  struct mount_plan p;
  const char *o1[] = {"rbind", "ro", NULL};
  parse("/x", "bind", "/tmp", o1, &p);
  assert_true(p.flags & MS_RDONLY); /* the top mount */
  assert_int_equal(p.rec_set, 0);
  assert_int_equal(p.rec_clr, 0);
  assert_null(p.data);
  done(&p);

  const char *o2[] = {"rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", NULL};
  parse("/x", "bind", "/tmp", o2, &p);
  assert_false(p.flags & MS_RDONLY);
  assert_int_equal(p.rec_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                  MOUNT_ATTR_NOEXEC | 0x00200000);
  assert_int_equal(p.rec_clr, 0);
  assert_null(p.data); /* nothing left for the kernel's data string */
  done(&p);

  /* the later option wins; an atime setting clears the whole atime field */
  const char *o3[] = {"rbind", "rro", "rrw", "rsuid", "rnoatime", "rstrictatime", NULL};
  parse("/x", "bind", "/tmp", o3, &p);
  assert_int_equal(p.rec_set, MOUNT_ATTR_STRICTATIME);
  assert_int_equal(p.rec_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR__ATIME);
  done(&p);
}

static void
test_tmpfs_options(void **state UNUSED)
{
  struct mount_plan p;
  const char *o1[] = {"tmpcopyup", "size=1m", "ro", NULL};
  parse("/data", "tmpfs", "tmpfs", o1, &p);
  assert_true(p.tmpcopyup);
  assert_false(p.has_mode);
  assert_true(p.ro_late); /* read-only once seeded */
  assert_false(p.flags & MS_RDONLY);
  assert_string_equal(p.data, "size=1m"); /* tmpcopyup is not the kernel's */
  done(&p);

  const char *o2[] = {"mode=1777", NULL};
  parse("/data", "tmpfs", "tmpfs", o2, &p);
  assert_true(p.has_mode);
  assert_false(p.tmpcopyup);
  assert_false(p.ro_late);
  done(&p);

  /* tmpcopyup means nothing to another type (as in runc) */
  const char *o3[] = {"rbind", "tmpcopyup", "ro", NULL};
  parse("/data", "bind", "/tmp", o3, &p);
  assert_false(p.tmpcopyup);
  assert_false(p.ro_late);
  assert_true(p.flags & MS_RDONLY);
  done(&p);
}

static void
test_dev_ro_late(void **state UNUSED)
{
  struct mount_plan p;
  const char *o[] = {"rbind", "ro", "nosuid", NULL};
  parse("//dev/", "bind", "/tmp", o, &p);
  assert_true(p.is_dev);
  assert_true(p.ro_late);
  assert_false(p.flags & MS_RDONLY);
  assert_true(p.flags & MS_NOSUID);
  done(&p);

  parse("/dev/pts", "bind", "/tmp", o, &p);
  assert_false(p.is_dev);
  assert_false(p.ro_late);
  assert_true(p.flags & MS_RDONLY);
  done(&p);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_recursive_attrs),
      cmocka_unit_test(test_tmpfs_options),
      cmocka_unit_test(test_dev_ro_late),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
