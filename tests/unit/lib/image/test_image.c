/* Unit tests of the pure parts of reading images (lib/image/meta.c, lib/base/sha256.c):
 * member names, whiteouts, digests, the image config, OCI index and manifest, and
 * docker-save's manifest.json. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/base.h"
#include "lib/image/image.h"

#define UNUSED __attribute__((unused))

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_C "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* JSON written with single quotes: 'a' -> "a". */
static char *
q(const char *s)
{
  char *r = xstrdup(s);
  for (char *p = r; *p; p++)
    if (*p == '\'') *p = '"';
  return r;
}

/* ---- paths ---- */

static void
clean(const char *in, const char *want)
{
  char out[256];
  int r = image_clean_path(in, out, sizeof out);
  if (!want) {
    assert_int_equal(r, -1);
    return;
  }
  assert_int_equal(r, 0);
  assert_string_equal(out, want);
}

static void
test_clean_path(void UNUSED **state)
{
  clean("etc/passwd", "etc/passwd");
  clean("./etc/passwd", "etc/passwd");
  clean("/etc/passwd", "etc/passwd");
  clean("./", "");
  clean(".", "");
  clean("/", "");
  clean("a//b/./c/", "a/b/c");
  clean("..", NULL);
  clean("../etc", NULL);
  clean("a/../../etc", NULL);
  clean("a/b/..", NULL); /* refused even when it would stay inside: no such member is honest */
  clean("..a/b..", "..a/b..");
  char small[4];
  assert_int_equal(image_clean_path("abcdef", small, sizeof small), -1);
  assert_int_equal(errno, ENAMETOOLONG);
}

/* ---- whiteouts ---- */

static void
wh(const char *path, enum image_whiteout kind, const char *target)
{
  char t[256] = "";
  assert_int_equal(image_whiteout_of(path, t, sizeof t), kind);
  if (target) assert_string_equal(t, target);
}

static void
test_whiteouts(void UNUSED **state)
{
  wh("etc/passwd", IMAGE_WH_NONE, NULL);
  wh("etc/.whatever", IMAGE_WH_NONE, NULL);
  wh("etc/wh.file", IMAGE_WH_NONE, NULL);
  wh("etc/.wh.passwd", IMAGE_WH_FILE, "etc/passwd");
  wh(".wh.top", IMAGE_WH_FILE, "top");
  wh("a/b/.wh..hidden", IMAGE_WH_FILE, "a/b/.hidden");
  wh("opq/.wh..wh..opq", IMAGE_WH_OPAQUE, "opq");
  wh("a/b/.wh..wh..opq", IMAGE_WH_OPAQUE, "a/b");
  wh(".wh..wh..opq", IMAGE_WH_OPAQUE, "");
  wh("x/.wh..wh.plnk", IMAGE_WH_META, NULL);
  wh("x/.wh..wh.aufs", IMAGE_WH_META, NULL);
  wh("x/.wh.", IMAGE_WH_META, NULL);
  wh("x/.wh..", IMAGE_WH_META, NULL);
  wh("x/.wh...", IMAGE_WH_META, NULL);
  /* A target that does not fit is never half-written into a wrong name. */
  char tiny[4];
  assert_int_equal(image_whiteout_of("dir/.wh.longname", tiny, sizeof tiny), IMAGE_WH_META);
}

/* ---- digests ---- */

static void
test_digests(void UNUSED **state)
{
  char hex[65];
  assert_true(image_digest_hex("sha256:" HEX_C, hex));
  assert_string_equal(hex, HEX_C);
  assert_false(image_digest_hex("sha512:" HEX_C, hex));
  assert_false(image_digest_hex(HEX_C, hex));
  assert_false(image_digest_hex("sha256:" HEX_C "0", hex));
  assert_false(image_digest_hex("sha256:0123", hex));
  assert_false(image_digest_hex(
      "sha256:../../../../etc/passwd/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", hex));
  assert_false(image_digest_hex(
      "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", hex));
  assert_false(image_digest_hex(NULL, hex));
}

static void
sha(const char *in, size_t reps, const char *want)
{
  struct sha256 s;
  char out[65];
  sha256_init(&s);
  for (size_t i = 0; i < reps; i++) sha256_update(&s, in, strlen(in));
  sha256_hex(&s, out);
  assert_string_equal(out, want);
}

static void
test_sha256(void UNUSED **state)
{
  sha("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  sha("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* one million 'a', fed in uneven pieces */
  sha("aaaaaaaaaaaaaaaaaaaaaaaaa", 40000,
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  /* 55, 56 and 64 bytes: the padding edges */
  sha("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
      "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  sha("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
      "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  sha("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
      "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

/* ---- the image config ---- */

static void
test_config_full(void UNUSED **state)
{
  char *j = q("{'architecture':'amd64','os':'linux','variant':'v8',"
              "'config':{'Entrypoint':['/entry','-x'],'Cmd':['serve','--port','80'],"
              "'Env':['PATH=/bin','A=1'],'WorkingDir':'/srv','User':'www:www',"
              "'ExposedPorts':{'80/tcp':{}},'Labels':{'a':'b'}},"
              "'rootfs':{'type':'layers','diff_ids':['sha256:" HEX_A "','sha256:" HEX_B "']},"
              "'history':[{'created_by':'x'}]}");
  struct image_config c;
  struct silo_error err = {0};
  assert_int_equal(image_config_parse(j, strlen(j), &c, &err), 0);
  assert_string_equal(c.architecture, "amd64");
  assert_string_equal(c.os, "linux");
  assert_string_equal(c.variant, "v8");
  assert_int_equal(c.n_entrypoint, 2);
  assert_string_equal(c.entrypoint[1], "-x");
  assert_null(c.entrypoint[2]);
  assert_int_equal(c.n_cmd, 3);
  assert_string_equal(c.cmd[0], "serve");
  assert_int_equal(c.n_env, 2);
  assert_string_equal(c.env[1], "A=1");
  assert_string_equal(c.workdir, "/srv");
  assert_string_equal(c.user, "www:www");
  assert_int_equal(c.n_diff_ids, 2);
  assert_string_equal(c.diff_ids[1], "sha256:" HEX_B);
  image_config_free(&c);
  free(j);
}

static void
test_config_minimal(void UNUSED **state)
{
  /* Nulls and empty strings are "absent", as Docker writes them. */
  char *j = q("{'architecture':'arm64','config':{'Entrypoint':null,'Cmd':null,'Env':null,"
              "'WorkingDir':'','User':''},'rootfs':{'diff_ids':[]}}");
  struct image_config c;
  struct silo_error err = {0};
  assert_int_equal(image_config_parse(j, strlen(j), &c, &err), 0);
  assert_string_equal(c.architecture, "arm64");
  assert_null(c.os);
  assert_null(c.entrypoint);
  assert_int_equal(c.n_cmd, 0);
  assert_null(c.workdir);
  assert_null(c.user);
  assert_int_equal(c.n_diff_ids, 0);
  image_config_free(&c);
  free(j);

  const char *empty = "{}";
  assert_int_equal(image_config_parse(empty, 2, &c, &err), 0);
  assert_null(c.cmd);
  image_config_free(&c);
}

static void
config_error(const char *json, const char *want)
{
  char *j = q(json);
  struct image_config c;
  struct silo_error err = {0};
  assert_int_equal(image_config_parse(j, strlen(j), &c, &err), -1);
  if (!strstr(err.msg, want)) fail_msg("error `%s` lacks `%s`", err.msg, want);
  free(j);
}

static void
test_config_errors(void UNUSED **state)
{
  config_error("{'config':{'Cmd':'sh'}}", "config.Cmd: expected an array");
  config_error("{'config':{'Cmd':['sh',1]}}", "config.Cmd[1]: expected a string");
  config_error("{'config':{'Env':[null]}}", "config.Env[0]");
  config_error("{'config':{'User':0}}", "config.User: expected a string");
  config_error("{'config':[]}", "config: expected an object");
  config_error("{'architecture':1}", "config.architecture");
  config_error("[]", "not a JSON object");
  config_error("{'config':", "image config");
}

/* ---- index and manifest ---- */

static void
test_index(void UNUSED **state)
{
  char *j =
      q("{'schemaVersion':2,'manifests':["
        "{'mediaType':'application/vnd.oci.image.manifest.v1+json','digest':'sha256:" HEX_A "',"
        "'size':500,'platform':{'architecture':'arm64','os':'linux','variant':'v8'}},"
        "{'mediaType':'application/vnd.oci.image.index.v1+json','digest':'sha256:" HEX_B "'},"
        "{'digest':'sha256:" HEX_C
        "','size':7,'platform':{'architecture':'unknown','os':'unknown'}}]}");
  struct image_desc *d;
  size_t n;
  struct silo_error err = {0};
  assert_int_equal(image_index_parse(j, strlen(j), &d, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_string_equal(d[0].hex, HEX_A);
  assert_int_equal(d[0].size, 500);
  assert_string_equal(d[0].arch, "arm64");
  assert_string_equal(d[0].variant, "v8");
  assert_false(image_is_index_type(d[0].media_type));
  assert_true(image_is_index_type(d[1].media_type));
  assert_int_equal(d[1].size, -1);
  assert_null(d[1].os);
  assert_null(d[2].media_type);
  assert_true(image_is_index_type("application/vnd.docker.distribution.manifest.list.v2+json"));
  image_descs_free(d, n);
  free(j);

  char *bad = q("{'manifests':[{'digest':'sha256:../../x'}]}");
  assert_int_equal(image_index_parse(bad, strlen(bad), &d, &n, &err), -1);
  assert_non_null(strstr(err.msg, "index.manifests[0].digest"));
  free(bad);
  bad = q("{'manifests':{}}");
  assert_int_equal(image_index_parse(bad, strlen(bad), &d, &n, &err), -1);
  free(bad);
}

/* An index's breadth is bounded: choosing the host's manifest reads what it lists. */
static char *
wide_index(size_t n)
{
  size_t cap = 64 + n * 200, len = 0;
  char *j = malloc(cap);
  assert_non_null(j);
  len += (size_t)snprintf(j + len, cap - len, "{\"schemaVersion\":2,\"manifests\":[");
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(j + len, cap - len,
                            "%s{\"digest\":\"sha256:%s\",\"platform\":{\"architecture\":"
                            "\"s390x\",\"os\":\"linux\"}}",
                            i ? "," : "", HEX_A);
  snprintf(j + len, cap - len, "]}");
  return j;
}

static void
test_index_breadth(void UNUSED **state)
{
  struct image_desc *d;
  size_t n;
  struct silo_error err = {0};
  char *j = wide_index(IMAGE_INDEX_MAX);
  assert_int_equal(image_index_parse(j, strlen(j), &d, &n, &err), 0);
  assert_int_equal(n, IMAGE_INDEX_MAX);
  image_descs_free(d, n);
  free(j);
  j = wide_index(IMAGE_INDEX_MAX + 1);
  assert_int_equal(image_index_parse(j, strlen(j), &d, &n, &err), -1);
  assert_non_null(strstr(err.msg, "index.manifests: 1025 entries, more than the 1024"));
  free(j);
}

static void
test_manifest(void UNUSED **state)
{
  char *j = q("{'schemaVersion':2,'config':{'mediaType':'application/vnd.oci.image.config.v1+json',"
              "'digest':'sha256:" HEX_C "','size':1234},'layers':["
              "{'mediaType':'application/vnd.oci.image.layer.v1.tar+gzip','digest':'sha256:" HEX_A
              "','size':10},"
              "{'mediaType':'application/vnd.oci.image.layer.v1.tar+zstd','digest':'sha256:" HEX_B
              "','size':20}]}");
  struct image_manifest m;
  struct silo_error err = {0};
  assert_int_equal(image_manifest_parse(j, strlen(j), &m, &err), 0);
  assert_string_equal(m.config.hex, HEX_C);
  assert_int_equal(m.config.size, 1234);
  assert_int_equal(m.n_layers, 2);
  assert_string_equal(m.layers[1].hex, HEX_B);
  assert_string_equal(m.layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
  image_manifest_free(&m);
  free(j);

  char *bad = q("{'layers':[]}");
  assert_int_equal(image_manifest_parse(bad, strlen(bad), &m, &err), -1);
  assert_non_null(strstr(err.msg, "manifest.config: missing"));
  free(bad);
  bad = q("{'config':{'digest':'sha256:" HEX_C "'},'layers':[{'digest':'md5:x'}]}");
  assert_int_equal(image_manifest_parse(bad, strlen(bad), &m, &err), -1);
  assert_non_null(strstr(err.msg, "manifest.layers[0].digest"));
  free(bad);
}

static void
test_docker_manifest(void UNUSED **state)
{
  char *j = q("[{'Config':'" HEX_C ".json','RepoTags':['busybox:latest'],"
              "'Layers':['" HEX_A "/layer.tar','blobs/sha256/" HEX_B "']},"
              "{'Config':'other.json','Layers':[]}]");
  struct docker_manifest m;
  struct silo_error err = {0};
  assert_int_equal(image_docker_manifest_parse(j, strlen(j), &m, &err), 0);
  assert_string_equal(m.config, HEX_C ".json");
  assert_int_equal(m.n_layers, 2);
  assert_string_equal(m.layers[0], HEX_A "/layer.tar");
  assert_int_equal(m.n_images, 2);
  image_docker_manifest_free(&m);
  free(j);

  const char *bad[] = {"{}", "[]", "[{'Layers':[]}]", "[{'Config':'c','Layers':[1]}]", "[1]"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *b = q(bad[i]);
    assert_int_equal(image_docker_manifest_parse(b, strlen(b), &m, &err), -1);
    free(b);
  }
}

static void
test_arch(void UNUSED **state)
{
  assert_string_equal(image_arch_of_machine("x86_64"), "amd64");
  assert_string_equal(image_arch_of_machine("aarch64"), "arm64");
  assert_string_equal(image_arch_of_machine("armv7l"), "arm");
  assert_null(image_arch_of_machine("pdp11"));
  assert_true(strlen(image_host_arch()) > 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clean_path),      cmocka_unit_test(test_whiteouts),
      cmocka_unit_test(test_digests),         cmocka_unit_test(test_sha256),
      cmocka_unit_test(test_config_full),     cmocka_unit_test(test_config_minimal),
      cmocka_unit_test(test_config_errors),   cmocka_unit_test(test_index),
      cmocka_unit_test(test_index_breadth),   cmocka_unit_test(test_manifest),
      cmocka_unit_test(test_docker_manifest), cmocka_unit_test(test_arch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
