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
#include <sys/sysinfo.h>
#include <unistd.h>

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

/* The edits that are not one field or one entry: */
static void
many(json_t *l)
{
  for (int i = 0; i < CKPT_TMPFS_MAX_ENTRIES + 1; i++)
    json_array_append_new(json_object_get(mnt(l, 0), "entries"),
                          json_pack("{s:s%, s:s, s:i, s:i, s:i}", "p", "f", (size_t)1, "t", "f",
                                    "m", 420, "u", 0, "g", 0));
}
static void
twice(json_t *l)
{
  json_array_append(l, mnt(l, 0));
}
static void
too_many_mounts(json_t *l)
{
  json_array_clear(l);
  for (int i = 0; i < CKPT_TMPFS_MAX_MOUNTS + 1; i++) json_array_append_new(l, json_object());
}

/* One edit of the good list: mount `mount`'s `field` set to `value` (JSON), or
 * with field NULL, `value` appended to its entries. */
struct edit {
  size_t mount;
  const char *field, *value;
};
static const struct edit *the_edit;
static void
apply_edit(json_t *l)
{
  json_t *v = json_loads(the_edit->value, JSON_DECODE_ANY, NULL);
  assert_non_null(v);
  if (the_edit->field)
    json_object_set_new(mnt(l, the_edit->mount), the_edit->field, v);
  else
    json_array_append_new(json_object_get(mnt(l, the_edit->mount), "entries"), v);
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
    struct edit e;
    const char *says;
  } edits[] = {
      {{1, "key", "\"/etc\""}, "tmpfs `/etc`: the config has no tmpfs there"},
      {{1, "key", "\"/data\""}, "tmpfs `/data`: the config has no tmpfs there"},
      {{0, NULL, "{\"p\":\"mem\",\"t\":\"c\",\"m\":438,\"u\":0,\"g\":0,\"r\":257}"},
       "entry `mem`: device c 1:1 mode 0666 owner 0:0, not one of linux.devices"},
      {{0, NULL, "{\"p\":\"sda\",\"t\":\"b\",\"m\":432,\"u\":0,\"g\":0,\"r\":2048}"},
       "entry `sda`: device b 8:0"},
      {{0, NULL, "{\"p\":\"x\",\"t\":\"f\",\"m\":61951,\"u\":0,\"g\":0}"},
       "entry `x`: mode not within 07777"},
      {{1, "flags", "\"rw,nosuid,noexec,relatime\""},
       "tmpfs `/dev/shm`: flags `rw,nosuid,noexec,relatime` drop one of"},
      {{2, "flags", "\"rw,nosuid,nodev,noexec\""}, "tmpfs `/proc/acpi`: flags"},
      {{0, "flags", "\"rw,nosuid,remount\""}, "mount flag `remount` not allowed"},
      {{1, "options", "\"rw,size=1k,uid=0,foo=bar\""}, "option `foo=bar` not allowed"},
      {{1, "options", "\"rw,size=1k;x\""}, "option `size=1k;x` not allowed"},
      {{0, NULL, "{\"p\":\"pts/../../x\",\"t\":\"d\",\"m\":493,\"u\":0,\"g\":0}"},
       "entry `pts/../../x`: not a relative path"},
      {{0, NULL, "{\"p\":\"/etc/x\",\"t\":\"f\",\"m\":420,\"u\":0,\"g\":0}"},
       "entry `/etc/x`: not a relative path"},
      {{0, NULL,
        "{\"p\":\"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s\",\"t\":\"d\",\"m\":493,\"u\":0,\"g\":0}"},
       "deeper than"},
      {{0, NULL, "{\"p\":\"lnk\",\"t\":\"l\",\"m\":511,\"u\":0,\"g\":0,\"l\":\"\"}"},
       "entry `lnk`: a symlink without a target"},
      {{0, NULL, "{\"p\":\"lnk\",\"t\":\"l\",\"m\":511,\"u\":0,\"g\":0}"},
       "entry `lnk`: a symlink without a target"},
      {{0, NULL, "{\"p\":\"p\",\"t\":\"p\",\"m\":420,\"u\":0,\"g\":0}"},
       "no path or no known type"},
      {{0, NULL, "{\"p\":\"x\",\"t\":\"f\",\"m\":420,\"u\":-1,\"g\":0}"}, "entry `x`: owner"},
      /* a device the runtime makes, but not so: another mode, another owner */
      {{0, NULL, "{\"p\":\"null2\",\"t\":\"c\",\"m\":511,\"u\":0,\"g\":0,\"r\":259}"},
       "entry `null2`: device c 1:3 mode 0777 owner 0:0, not one of"},
      {{0, NULL, "{\"p\":\"fuse2\",\"t\":\"c\",\"m\":438,\"u\":1000,\"g\":0,\"r\":2789}"},
       "entry `fuse2`: device c 10:229 mode 0666 owner 1000:0"},
  };
  static const struct {
    void (*fn)(json_t *);
    const char *says;
  } others[] = {
      {many, "more than 4096 entries"},
      {twice, "tmpfs `/dev`: twice"},
      {too_many_mounts, "not a list of at most 64 mounts"},
  };
  size_t n = ARRAY_SIZE(edits) + ARRAY_SIZE(others);
  for (size_t i = 0; i < n; i++) {
    bool edit = i < ARRAY_SIZE(edits);
    if (edit) the_edit = &edits[i].e;
    const char *says = edit ? edits[i].says : others[i - ARRAY_SIZE(edits)].says;
    const char *msg = check(edit ? apply_edit : others[i - ARRAY_SIZE(edits)].fn);
    if (!strstr(msg, says) || !strstr(msg, CKPT_MANIFEST)) {
      fprintf(stderr, "case %zu: `%s` does not say `%s`\n", i, msg, says);
      fail();
    }
  }
}

/* The dump lists a tmpfs only when its size limits are the config's (as the
 * kernel computes them: 65536k == 64m, a masked directory's size=0 shows as 0k) */
static void
test_limits(void **state)
{
  (void)state;
  json_t *list = json_loads(good, 0, NULL);
  assert_non_null(list);
  for (size_t i = 0; i < 3; i++) assert_true(ckpt_tmpfs_limits_same(cfg, mnt(list, i)));
  static const char *const other[] = {"rw,size=1048576k", "rw,size=65536k,nr_inodes=100",
                                      "rw,mode=1777", "rw,size=64x", "rw,size=-1"};
  for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
    json_object_set_new(mnt(list, 1), "options", json_string(other[i]));
    if (ckpt_tmpfs_limits_same(cfg, mnt(list, 1))) {
      fprintf(stderr, "`%s` taken for the config's size=65536k\n", other[i]);
      fail();
    }
  }
  json_object_set_new(mnt(list, 1), "options", json_string("rw,nodev,size=64m"));
  assert_true(ckpt_tmpfs_limits_same(cfg, mnt(list, 1)));
  json_object_set_new(mnt(list, 2), "options", json_string("ro,size=4k"));
  assert_false(ckpt_tmpfs_limits_same(cfg, mnt(list, 2)));
  json_decref(list);
}

/* A config for the cases below: tmpfs sizes as a percentage of the RAM, and a
 * linux.devices entry that replaces a default node (/dev/tty) with a stricter
 * mode and another group. */
static const char config2[] =
    "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
    "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
    "\"mounts\":[{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"size=50%\"]},"
    "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=10%\"]},"
    "{\"destination\":\"/"
    "run\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=33%\"]}],"
    "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
    "\"devices\":[{\"path\":\"/dev/tty\",\"type\":\"c\",\"major\":5,\"minor\":0,"
    "\"fileMode\":400,\"uid\":0,\"gid\":5}]}}";

static struct oci_config *
parse(const char *text)
{
  struct silo_error e = {0};
  struct oci_config *c = oci_config_parse(text, strlen(text), &e);
  if (!c) fprintf(stderr, "config: %s\n", e.msg);
  assert_non_null(c);
  return c;
}

/* size=N% as mm/shmem.c computes it (shmem_parse_one): the bytes
 * (N << PAGE_SHIFT) * totalram_pages / 100, then DIV_ROUND_UP to pages; mountinfo
 * shows it in k.  (On this host, 24683748 kB of RAM, the kernel shows size=10% as
 * 2468376k and size=50% as 12341876k.) */
static unsigned long long
kernel_percent_kb(unsigned long long pct)
{
  struct sysinfo si;
  assert_int_equal(sysinfo(&si), 0);
  unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
  unsigned long long ram = (unsigned long long)si.totalram * si.mem_unit / page;
  unsigned long long bytes = (pct * page) * ram / 100;
  return (bytes + page - 1) / page * (page / 1024);
}

/* A config's size=N% is the same limits as the kernel's own rendering of it in
 * mountinfo: such a tmpfs is not left to CRIU's tar for nothing. */
static void
test_limits_percent(void **state)
{
  (void)state;
  struct oci_config *c = parse(config2);
  static const struct {
    const char *key;
    unsigned long long pct;
  } cases[] = {{"/dev/shm", 50}, {"/tmp", 10}, {"/run", 33}};
  bool bad = false;
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    char opts[64];
    snprintf(opts, sizeof opts, "rw,size=%lluk", kernel_percent_kb(cases[i].pct));
    json_t *m = json_pack("{s:s, s:s}", "key", cases[i].key, "options", opts);
    if (!ckpt_tmpfs_limits_same(c, m)) {
      fprintf(stderr, "size=%llu%%: the kernel's `%s` taken for other limits\n", cases[i].pct,
              opts);
      bad = true;
    }
    json_decref(m);
  }
  oci_config_free(c);
  assert_false(bad);
}

/* A device node listed as the runtime would not make it there: the defaults'
 * 0666 root:root for /dev/tty, which linux.devices makes 0620 root:5 (the default
 * is not made then); /dev/null as another device (1:5, /dev/zero's). */
static void
test_device_as_made(void **state)
{
  (void)state;
  struct oci_config *c = parse(config2);
  static const char *const entries[] = {
      "{\"p\":\"tty\",\"t\":\"c\",\"m\":438,\"u\":0,\"g\":0,\"r\":1280}",
      "{\"p\":\"null\",\"t\":\"c\",\"m\":438,\"u\":0,\"g\":0,\"r\":261}",
  };
  bool bad = false;
  for (size_t i = 0; i < ARRAY_SIZE(entries); i++) {
    json_t *list =
        json_loads("[{\"key\":\"/dev\",\"id\":1,\"source\":\"tmpfs\",\"flags\":\"rw,nosuid\","
                   "\"options\":\"rw,size=65536k,mode=755\",\"entries\":[{\"p\":\".\",\"t\":\"d\","
                   "\"m\":493,\"u\":0,\"g\":0}]}]",
                   0, NULL);
    assert_non_null(list);
    json_array_append_new(json_object_get(mnt(list, 0), "entries"),
                          json_loads(entries[i], 0, NULL));
    struct silo_error e = {0};
    if (ckpt_tmpfs_check(list, c, &e) == 0) {
      fprintf(stderr, "entry %s taken, not as the runtime makes it\n", entries[i]);
      bad = true;
    }
    json_decref(list);
  }
  oci_config_free(c);
  assert_false(bad);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good),           cmocka_unit_test(test_bad),
      cmocka_unit_test(test_limits),         cmocka_unit_test(test_limits_percent),
      cmocka_unit_test(test_device_as_made),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
