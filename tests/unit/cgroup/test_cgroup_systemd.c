/* Unit tests of cgroup/systemd.c: cgroupsPath "slice:prefix:name" -> unit and
 * cgroup path, and the error without a system bus.  (Starting real units is
 * tested in the test guest booted with systemd: tests/integration/test_cgroup_v2.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "cgroup/internal.h"

static void
check(const char *id, const char *path, const char *unit, const char *slice, const char *cgpath)
{
  char *u, *s, *p;
  struct silo_error err = {0};
  if (cgroup_systemd_parse(id, path, &u, &s, &p, &err) < 0) fail_msg("%s: %s", path, err.msg);
  assert_string_equal(u, unit);
  if (slice)
    assert_string_equal(s, slice);
  else
    assert_null(s);
  assert_string_equal(p, cgpath);
  free(u);
  free(s);
  free(p);
}

static void
refused(const char *path, const char *why)
{
  char *u, *s, *p;
  struct silo_error err = {0};
  assert_int_equal(cgroup_systemd_parse("id", path, &u, &s, &p, &err), -1);
  if (!strstr(err.msg, why)) fail_msg("%s: \"%s\" does not say \"%s\"", path, err.msg, why);
  assert_null(u);
  assert_null(p);
}

static void
test_parse(void **state)
{
  (void)state;
  check("abc", "system.slice:silo:abc", "silo-abc.scope", "system.slice",
        "/system.slice/silo-abc.scope");
  check("abc", NULL, "silo-abc.scope", "system.slice", "/system.slice/silo-abc.scope");
  check("abc", "", "silo-abc.scope", "system.slice", "/system.slice/silo-abc.scope");
  check("x", ":docker:abc", "docker-abc.scope", "system.slice", "/system.slice/docker-abc.scope");
  check("x", "user.slice::abc", "abc.scope", "user.slice", "/user.slice/abc.scope");
  /* nested slices: each dash-separated prefix is a parent */
  check("x", "machine-pod-a.slice:crio:c1", "crio-c1.scope", "machine-pod-a.slice",
        "/machine.slice/machine-pod.slice/machine-pod-a.slice/crio-c1.scope");
  check("x", "-.slice:p:n", "p-n.scope", "-.slice", "/p-n.scope");
  /* a name that is a slice: the container's cgroup is that slice */
  check("x", "system.slice:p:pod-x.slice", "pod-x.slice", NULL, "/pod.slice/pod-x.slice");
}

static void
test_parse_refused(void **state)
{
  (void)state;
  refused("/silo/abc", "slice:prefix:name");
  refused("a:b", "slice:prefix:name");
  refused("a.slice:b:c:d", "slice:prefix:name");
  refused("system.slice:silo:", "no name");
  refused("system:silo:abc", "not a slice");
  refused("a--b.slice:silo:abc", "not a valid slice");
  refused("-a.slice:silo:abc", "not a valid slice");
  refused("system.slice:silo:a/b", "not a valid unit name");
  refused("sys/tem.slice:silo:abc", "not a slice");
}

static void
test_no_bus(void **state)
{
  struct cg_systemd *sd;
  char *path;
  struct silo_error err = {0};
  (void)state;
  if (access("/run/dbus/system_bus_socket", F_OK) == 0 || getenv("DBUS_SYSTEM_BUS_ADDRESS")) skip();
  assert_int_equal(cgroup_systemd_start("abc", NULL, &sd, &path, &err), -1);
  assert_non_null(strstr(err.msg, "systemd cgroup manager: no system bus"));
  assert_null(sd);
  assert_null(path);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_parse_refused),
      cmocka_unit_test(test_no_bus),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
