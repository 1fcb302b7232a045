/* Unit tests of the images' index records (lib/image/cache.c): a record round-trips,
 * and its parse refuses another archive's identity, a config that does not match
 * its digest, layers that are not sha256 hex digests, other versions, junk. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lib/base/base.h"
#include "lib/image/image.h"

#define UNUSED __attribute__((unused))

#define HEX_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CONFIG "{\"architecture\":\"amd64\",\"config\":{\"Cmd\":[\"sh\"]},\"x\":\"\\\"q\\u00e9\"}"

static const struct image_cache_id ID = {.dev = 0xfd01,
                                         .ino = 0xfffffffffff0ULL,
                                         .size = 1054720,
                                         .mtime_ns = 1796000000123456789LL,
                                         .ctime_ns = 1796000001987654321LL};

static char *
record(void)
{
  char *hexes[] = {HEX_A, HEX_B};
  char *r = image_cache_record(&ID, CONFIG, strlen(CONFIG), hexes, 2);
  assert_non_null(r);
  return r;
}

static int
parse(const char *rec, const struct image_cache_id *id, struct silo_error *e)
{
  char *config = NULL, **hexes = NULL;
  size_t clen = 0, n = 0;
  int r = image_cache_parse(rec, strlen(rec), id, &config, &clen, &hexes, &n, e);
  if (r == 0) {
    assert_int_equal(clen, strlen(CONFIG));
    assert_string_equal(config, CONFIG);
    assert_int_equal(n, 2);
    assert_string_equal(hexes[0], HEX_A);
    assert_string_equal(hexes[1], HEX_B);
  } else {
    assert_null(config);
    assert_null(hexes);
    assert_int_equal(n, 0);
  }
  free(config);
  image_cache_strv_free(hexes, n);
  return r;
}

static void
test_round_trip(void **state UNUSED)
{
  char *r = record();
  struct silo_error e = {0};
  assert_int_equal(parse(r, &ID, &e), 0);
  free(r);
}

static void
test_identity(void **state UNUSED)
{
  char *r = record();
  struct image_cache_id other[5];
  for (int i = 0; i < 5; i++) other[i] = ID;
  other[0].dev++, other[1].ino++, other[2].size--, other[3].mtime_ns++, other[4].ctime_ns++;
  for (int i = 0; i < 5; i++) {
    struct silo_error e = {0};
    assert_int_equal(parse(r, &other[i], &e), -1);
    assert_int_equal(e.errnum, ESTALE);
  }
  free(r);
}

/* r with the first `from` replaced by `to`. */
static char *
edit(const char *r, const char *from, const char *to)
{
  const char *p = strstr(r, from);
  assert_non_null(p);
  return xasprintf("%.*s%s%s", (int)(p - r), r, to, p + strlen(from));
}

static void
test_refused(void **state UNUSED)
{
  char *r = record();
  const char *edits[][2] = {
      {"Cmd", "Cmx"},                     /* the config, not its digest */
      {HEX_A, "../../../etc"},            /* a layer that is not a digest */
      {HEX_B, "ABCDEF"},                  /* nor this */
      {"\"v\":1", "\"v\":2"},             /* another version */
      {"\"layers\":[", "\"layers\":[7,"}, /* a layer that is not a string */
      {"\"v\":1", "\"v\":1,\"v\":1"},     /* duplicate keys */
  };
  for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
    char *bad = edit(r, edits[i][0], edits[i][1]);
    struct silo_error e = {0};
    assert_int_equal(parse(bad, &ID, &e), -1);
    free(bad);
  }
  const char *junk[] = {"", "[]", "{}", "null", "{\"v\":1}", "{", "garbage"};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
    struct silo_error e = {0};
    assert_int_equal(parse(junk[i], &ID, &e), -1);
  }
  free(r);
}

static void
test_id_and_name(void **state UNUSED)
{
  struct stat st;
  memset(&st, 0, sizeof st);
  st.st_dev = 5, st.st_ino = 7, st.st_size = 9;
  st.st_mtim.tv_sec = 1, st.st_mtim.tv_nsec = 2;
  st.st_ctim.tv_sec = 3, st.st_ctim.tv_nsec = 4;
  struct image_cache_id id;
  image_cache_id_of(&st, &id);
  assert_int_equal(id.mtime_ns, 1000000002LL);
  assert_int_equal(id.ctime_ns, 3000000004LL);
  char a[80], b[80];
  image_cache_name(&id, a);
  id.ctime_ns++; /* the name is the file's (dev, ino): a changed file overwrites its record */
  image_cache_name(&id, b);
  assert_string_equal(a, b);
  assert_int_equal(strlen(a), 64 + 5);
  id.ino++;
  image_cache_name(&id, b);
  assert_string_not_equal(a, b);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_identity),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_id_and_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
