/* Unit tests of lib/criu/tmpfs_restore.c's ckpt_tmpfs_check: the manifest's
 * tmpfs list (from an image or a migration's peer) against the config, before a
 * restore makes anything of it.  No CRIU, no mount. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "oci/oci.h"

static const char config[] =
    "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
    "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
    "\"mounts\":[{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
    "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/tmp\",\"options\":[\"rbind\"]}],"
    "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"maskedPaths\":[\"/proc/acpi\"],"
    "\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229}]}}";

/* A good list: /dev with a directory, a symlink, two devices, an empty file;
 * /dev/shm empty; the masked /proc/acpi. */
static const char good[] =
    "[{\"key\":\"/dev\",\"id\":1,\"source\":\"tmpfs\",\"flags\":\"rw,nosuid\","
    "\"options\":\"rw,seclabel,size=65536k,mode=755,inode64\",\"entries\":["
    "{\"p\":\".\",\"t\":\"d\",\"m\":493,\"u\":0,\"g\":0},"
    "{\"p\":\"pts\",\"t\":\"d\",\"m\":493,\"u\":0,\"g\":0},"
    "{\"p\":\"fd\",\"t\":\"l\",\"m\":511,\"u\":0,\"g\":0,\"l\":\"/proc/self/fd\"},"
    "{\"p\":\"null\",\"t\":\"c\",\"m\":438,\"u\":0,\"g\":0,\"r\":259},"
    "{\"p\":\"fuse\",\"t\":\"c\",\"m\":438,\"u\":0,\"g\":0,\"r\":2789},"
    "{\"p\":\"pts/x\",\"t\":\"f\",\"m\":420,\"u\":1000,\"g\":1000}]},"
    "{\"key\":\"/dev/"
    "shm\",\"id\":2,\"source\":\"shm\",\"flags\":\"rw,nosuid,nodev,noexec,relatime\","
    "\"options\":\"rw,size=65536k,mode=1777\",\"entries\":[{\"p\":\".\",\"t\":\"d\",\"m\":1023,"
    "\"u\":0,\"g\":0}]},"
    "{\"key\":\"/proc/"
    "acpi\",\"id\":3,\"source\":\"tmpfs\",\"flags\":\"ro,nosuid,nodev,noexec,relatime\","
    "\"options\":\"ro,size=0k\",\"entries\":[{\"p\":\".\",\"t\":\"d\",\"m\":365,\"u\":0,\"g\":0}]}"
    "]";

static struct oci_config *cfg;

static int
setup(void **state)
{
  (void)state;
  struct silo_error e = {0};
  cfg = oci_config_parse(config, strlen(config), &e);
  if (!cfg) fprintf(stderr, "config: %s\n", e.msg);
  return cfg ? 0 : -1;
}

static int
teardown(void **state)
{
  (void)state;
  oci_config_free(cfg);
  return 0;
}

/* good, with jq-like edit `edit` applied by fn; returns the check's error message
 * ("" when it passed) */
static const char *
check(void (*fn)(json_t *list))
{
  static struct silo_error e;
  memset(&e, 0, sizeof e);
  json_t *list = json_loads(good, 0, NULL);
  assert_non_null(list);
  if (fn) fn(list);
  int r = ckpt_tmpfs_check(list, cfg, &e);
  json_decref(list);
  if (r == 0) assert_string_equal(e.msg, "");
  return r == 0 ? "" : e.msg;
}

static json_t *
mnt(json_t *list, size_t i)
{
  return json_array_get(list, i);
}
static json_t *
entries(json_t *list, size_t i)
{
  return json_object_get(mnt(list, i), "entries");
}
static void
add_entry(json_t *list, const char *json)
{
  json_array_append_new(entries(list, 0), json_loads(json, 0, NULL));
}

static void
key_etc(json_t *l)
{
  json_object_set_new(mnt(l, 1), "key", json_string("/etc"));
}
static void
key_bind(json_t *l)
{
  json_object_set_new(mnt(l, 1), "key", json_string("/data"));
}
static void
dev_mem(json_t *l)
{
  add_entry(l, "{\"p\":\"mem\",\"t\":\"c\",\"m\":438,\"u\":0,\"g\":0,\"r\":257}");
}
static void
dev_block(json_t *l)
{
  add_entry(l, "{\"p\":\"sda\",\"t\":\"b\",\"m\":432,\"u\":0,\"g\":0,\"r\":2048}");
}
static void
mode_big(json_t *l)
{
  json_object_set_new(json_array_get(entries(l, 0), 1), "m", json_integer(0170777));
}
static void
drop_nodev(json_t *l)
{
  json_object_set_new(mnt(l, 1), "flags", json_string("rw,nosuid,noexec,relatime"));
}
static void
drop_ro(json_t *l)
{
  json_object_set_new(mnt(l, 2), "flags", json_string("rw,nosuid,nodev,noexec"));
}
static void
flag_unknown(json_t *l)
{
  json_object_set_new(mnt(l, 0), "flags", json_string("rw,nosuid,remount"));
}
static void
option_unknown(json_t *l)
{
  json_object_set_new(mnt(l, 1), "options", json_string("rw,size=1k,uid=0,foo=bar"));
}
static void
option_bad_value(json_t *l)
{
  json_object_set_new(mnt(l, 1), "options", json_string("rw,size=1k;x"));
}
static void
many(json_t *l)
{
  for (int i = 0; i < CKPT_TMPFS_MAX_ENTRIES + 1; i++) {
    char e[128];
    snprintf(e, sizeof e, "{\"p\":\"f%d\",\"t\":\"f\",\"m\":420,\"u\":0,\"g\":0}", i);
    add_entry(l, e);
  }
}
static void
dotdot(json_t *l)
{
  add_entry(l, "{\"p\":\"pts/../../x\",\"t\":\"d\",\"m\":493,\"u\":0,\"g\":0}");
}
static void
absolute(json_t *l)
{
  add_entry(l, "{\"p\":\"/etc/x\",\"t\":\"f\",\"m\":420,\"u\":0,\"g\":0}");
}
static void
deep(json_t *l)
{
  add_entry(l, "{\"p\":\"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s\",\"t\":\"d\",\"m\":493,\"u\":0,"
               "\"g\":0}");
}
static void
link_empty(json_t *l)
{
  add_entry(l, "{\"p\":\"lnk\",\"t\":\"l\",\"m\":511,\"u\":0,\"g\":0,\"l\":\"\"}");
}
static void
link_none(json_t *l)
{
  add_entry(l, "{\"p\":\"lnk\",\"t\":\"l\",\"m\":511,\"u\":0,\"g\":0}");
}
static void
fifo(json_t *l)
{
  add_entry(l, "{\"p\":\"p\",\"t\":\"p\",\"m\":420,\"u\":0,\"g\":0}");
}
static void
no_owner(json_t *l)
{
  add_entry(l, "{\"p\":\"x\",\"t\":\"f\",\"m\":420,\"u\":-1,\"g\":0}");
}
static void
twice(json_t *l)
{
  json_array_append(l, mnt(l, 0));
}
static void
not_a_list(json_t *l)
{
  json_array_clear(l);
  for (int i = 0; i < CKPT_TMPFS_MAX_MOUNTS + 1; i++) json_array_append_new(l, json_object());
}

static void
test_good(void **state)
{
  (void)state;
  assert_string_equal(check(NULL), "");
  struct silo_error e = {0};
  assert_int_equal(ckpt_tmpfs_check(NULL, cfg, &e), 0); /* an image without the list */
}

static void
test_bad(void **state)
{
  (void)state;
  static const struct {
    void (*fn)(json_t *);
    const char *says;
  } cases[] = {
      {key_etc, "tmpfs `/etc`: the config has no tmpfs there"},
      {key_bind, "tmpfs `/data`: the config has no tmpfs there"},
      {dev_mem, "entry `mem`: device c 1:1, not one of linux.devices"},
      {dev_block, "entry `sda`: device b 8:0"},
      {mode_big, "entry `pts`: mode not within 07777"},
      {drop_nodev, "tmpfs `/dev/shm`: flags `rw,nosuid,noexec,relatime` drop one of"},
      {drop_ro, "tmpfs `/proc/acpi`: flags"},
      {flag_unknown, "mount flag `remount` not allowed"},
      {option_unknown, "option `foo=bar` not allowed"},
      {option_bad_value, "option `size=1k;x` not allowed"},
      {many, "more than 4096 entries"},
      {dotdot, "entry `pts/../../x`: not a relative path"},
      {absolute, "entry `/etc/x`: not a relative path"},
      {deep, "deeper than"},
      {link_empty, "entry `lnk`: a symlink without a target"},
      {link_none, "entry `lnk`: a symlink without a target"},
      {fifo, "no path or no known type"},
      {no_owner, "entry `x`: owner"},
      {twice, "tmpfs `/dev`: twice"},
      {not_a_list, "not a list of at most 64 mounts"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    const char *msg = check(cases[i].fn);
    if (!strstr(msg, cases[i].says) || !strstr(msg, CKPT_MANIFEST)) {
      fprintf(stderr, "case %zu: `%s` does not say `%s`\n", i, msg, cases[i].says);
      fail();
    }
  }
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good),
      cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
