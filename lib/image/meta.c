/* silo lib/: the pure parts of reading images — member names, whiteouts, digests and
 * the JSON documents (OCI image-spec index/manifest/config, docker-save manifest.json).
 * No I/O here: tests/unit/lib/image/test_image.c covers it all. */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/utsname.h>

#include "lib/base/error.h"
#include "lib/image/image.h"

bool
image_digest_hex(const char *digest, char hex[65])
{
  if (!digest || strncmp(digest, "sha256:", 7) != 0) return false;
  const char *h = digest + 7;
  for (int i = 0; i < 64; i++) {
    if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) return false;
  }
  if (h[64] != '\0') return false;
  memcpy(hex, h, 65);
  return true;
}

int
image_clean_path(const char *in, char *out, size_t len)
{
  size_t o = 0;
  const char *p = in;
  while (*p) {
    while (*p == '/') p++;
    const char *end = strchrnul(p, '/');
    size_t n = (size_t)(end - p);
    if (n == 0) break;
    if (n == 1 && p[0] == '.') {
      p = end;
      continue;
    }
    if (n == 2 && p[0] == '.' && p[1] == '.') return errno = EINVAL, -1;
    if (o + n + 2 > len) return errno = ENAMETOOLONG, -1;
    if (o) out[o++] = '/';
    memcpy(out + o, p, n);
    o += n;
    p = end;
  }
  if (len == 0) return errno = ENAMETOOLONG, -1;
  out[o] = '\0';
  return 0;
}

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

enum image_whiteout
image_whiteout_of(const char *path, char *target, size_t len)
{
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  size_t dirlen = slash ? (size_t)(slash - path) : 0;
  if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0) return IMAGE_WH_NONE;
  if (strcmp(base, WH_OPAQUE) == 0) {
    if (dirlen + 1 > len) return IMAGE_WH_META;
    memcpy(target, path, dirlen);
    target[dirlen] = '\0';
    return IMAGE_WH_OPAQUE;
  }
  if (strncmp(base, ".wh..wh.", 8) == 0) return IMAGE_WH_META;
  const char *name = base + strlen(WH_PREFIX);
  /* ".wh." alone, or a whiteout of "." / "..": nothing sensible to delete. */
  if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return IMAGE_WH_META;
  int n = snprintf(target, len, "%.*s%s%s", (int)dirlen, path, dirlen ? "/" : "", name);
  if (n < 0 || (size_t)n >= len) return IMAGE_WH_META;
  return IMAGE_WH_FILE;
}

const char *
image_arch_of_machine(const char *m)
{
  static const struct {
    const char *machine, *arch;
  } map[] = {
      {"x86_64", "amd64"},        {"aarch64", "arm64"}, {"armv7l", "arm"},
      {"armv6l", "arm"},          {"i686", "386"},      {"i386", "386"},
      {"ppc64le", "ppc64le"},     {"s390x", "s390x"},   {"riscv64", "riscv64"},
      {"loongarch64", "loong64"}, {"mips64", "mips64"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(map); i++)
    if (strcmp(m, map[i].machine) == 0) return map[i].arch;
  return NULL;
}

const char *
image_host_arch(void)
{
  static char arch[65];
  if (!arch[0]) {
    struct utsname u;
    const char *a = uname(&u) == 0 ? image_arch_of_machine(u.machine) : NULL;
    snprintf(arch, sizeof arch, "%s", a ? a : (uname(&u) == 0 ? u.machine : "unknown"));
  }
  return arch;
}

/* ---- JSON helpers ---- */

static json_t *
load(const char *buf, size_t len, const char *what, struct silo_error *err)
{
  json_error_t je;
  json_t *j = json_loadb(buf, len, 0, &je);
  if (!j) return silo_err(err, EINVAL, "%s: %s (line %d)", what, je.text, je.line), NULL;
  if (!json_is_object(j)) {
    json_decref(j);
    return silo_err(err, EINVAL, "%s: not a JSON object", what), NULL;
  }
  return j;
}

/* An optional string member; a present non-string is an error. */
static int
opt_str(json_t *o, const char *key, char **out, const char *what, struct silo_error *err)
{
  json_t *v = json_object_get(o, key);
  *out = NULL;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v)) return silo_err(err, EINVAL, "%s.%s: expected a string", what, key);
  if (json_string_length(v) > 0) *out = xstrdup(json_string_value(v));
  return 0;
}

/* An optional array of strings (null = absent) -> NULL-terminated copy. */
static int
opt_strv(json_t *o, const char *key, char ***out, size_t *n, const char *what,
         struct silo_error *err)
{
  json_t *v = json_object_get(o, key);
  *out = NULL;
  *n = 0;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_array(v)) return silo_err(err, EINVAL, "%s.%s: expected an array", what, key);
  size_t len = json_array_size(v);
  char **r = xcalloc(len + 1, sizeof *r);
  for (size_t i = 0; i < len; i++) {
    json_t *s = json_array_get(v, i);
    if (!json_is_string(s)) {
      for (size_t k = 0; k < i; k++) free(r[k]);
      free(r);
      return silo_err(err, EINVAL, "%s.%s[%zu]: expected a string", what, key, i);
    }
    r[i] = xstrdup(json_string_value(s));
  }
  *out = r;
  *n = len;
  return 0;
}

static void
strv_free(char **v)
{
  for (char **p = v; p && *p; p++) free(*p);
  free(v);
}

int
image_config_parse(const char *buf, size_t len, struct image_config *c, struct silo_error *err)
{
  memset(c, 0, sizeof *c);
  json_t *j = load(buf, len, "image config", err);
  if (!j) return -1;
  int r = -1;
  if (opt_str(j, "architecture", &c->architecture, "config", err) < 0 ||
      opt_str(j, "os", &c->os, "config", err) < 0 ||
      opt_str(j, "variant", &c->variant, "config", err) < 0)
    goto out;
  json_t *cc = json_object_get(j, "config");
  if (cc && !json_is_null(cc)) {
    if (!json_is_object(cc)) {
      silo_err(err, EINVAL, "image config: config: expected an object");
      goto out;
    }
    if (opt_strv(cc, "Entrypoint", &c->entrypoint, &c->n_entrypoint, "config", err) < 0 ||
        opt_strv(cc, "Cmd", &c->cmd, &c->n_cmd, "config", err) < 0 ||
        opt_strv(cc, "Env", &c->env, &c->n_env, "config", err) < 0 ||
        opt_str(cc, "WorkingDir", &c->workdir, "config", err) < 0 ||
        opt_str(cc, "User", &c->user, "config", err) < 0)
      goto out;
  }
  json_t *rootfs = json_object_get(j, "rootfs");
  if (rootfs && json_is_object(rootfs) &&
      opt_strv(rootfs, "diff_ids", &c->diff_ids, &c->n_diff_ids, "rootfs", err) < 0)
    goto out;
  r = 0;
out:
  json_decref(j);
  if (r < 0) {
    image_config_free(c);
    silo_err_wrap(err, "image config");
  }
  return r;
}

void
image_config_free(struct image_config *c)
{
  free(c->architecture);
  free(c->os);
  free(c->variant);
  strv_free(c->entrypoint);
  strv_free(c->cmd);
  strv_free(c->env);
  free(c->workdir);
  free(c->user);
  strv_free(c->diff_ids);
  memset(c, 0, sizeof *c);
}

static int
desc_parse(json_t *o, struct image_desc *d, const char *what, struct silo_error *err)
{
  memset(d, 0, sizeof *d);
  if (!json_is_object(o)) return silo_err(err, EINVAL, "%s: expected an object", what);
  json_t *dg = json_object_get(o, "digest");
  if (!json_is_string(dg)) return silo_err(err, EINVAL, "%s.digest: missing", what);
  if (!image_digest_hex(json_string_value(dg), d->hex))
    return silo_err(err, EINVAL, "%s.digest: `%s` is not a sha256 digest", what,
                    json_string_value(dg));
  json_t *sz = json_object_get(o, "size");
  d->size = json_is_integer(sz) ? (int64_t)json_integer_value(sz) : -1;
  if (opt_str(o, "mediaType", &d->media_type, what, err) < 0) return -1;
  json_t *pf = json_object_get(o, "platform");
  if (json_is_object(pf) && (opt_str(pf, "os", &d->os, what, err) < 0 ||
                             opt_str(pf, "architecture", &d->arch, what, err) < 0 ||
                             opt_str(pf, "variant", &d->variant, what, err) < 0))
    return -1;
  return 0;
}

void
image_desc_free(struct image_desc *d)
{
  free(d->media_type);
  free(d->os);
  free(d->arch);
  free(d->variant);
  memset(d, 0, sizeof *d);
}

void
image_descs_free(struct image_desc *d, size_t n)
{
  for (size_t i = 0; i < n; i++) image_desc_free(&d[i]);
  free(d);
}

bool
image_is_index_type(const char *t)
{
  return t && (strcmp(t, "application/vnd.oci.image.index.v1+json") == 0 ||
               strcmp(t, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

/* Parses the array `key` of descriptors. */
static int
descs_parse(json_t *j, const char *key, const char *what, struct image_desc **out, size_t *n,
            struct silo_error *err)
{
  json_t *a = json_object_get(j, key);
  *out = NULL;
  *n = 0;
  if (!json_is_array(a)) return silo_err(err, EINVAL, "%s.%s: expected an array", what, key);
  size_t len = json_array_size(a);
  struct image_desc *d = xcalloc(len + 1, sizeof *d);
  for (size_t i = 0; i < len; i++) {
    char w[64];
    snprintf(w, sizeof w, "%s.%s[%zu]", what, key, i);
    if (desc_parse(json_array_get(a, i), &d[i], w, err) < 0) {
      image_descs_free(d, i + 1);
      return -1;
    }
  }
  *out = d;
  *n = len;
  return 0;
}

int
image_index_parse(const char *buf, size_t len, struct image_desc **out, size_t *n,
                  struct silo_error *err)
{
  json_t *j = load(buf, len, "index", err);
  if (!j) return -1;
  /* Checked before anything is parsed: picking the host's manifest reads them. */
  json_t *a = json_object_get(j, "manifests");
  if (json_is_array(a) && json_array_size(a) > IMAGE_INDEX_MAX) {
    silo_err(err, E2BIG, "index.manifests: %zu entries, more than the %d silo reads",
             json_array_size(a), IMAGE_INDEX_MAX);
    json_decref(j);
    *out = NULL;
    *n = 0;
    return -1;
  }
  int r = descs_parse(j, "manifests", "index", out, n, err);
  json_decref(j);
  return r;
}

int
image_manifest_parse(const char *buf, size_t len, struct image_manifest *m, struct silo_error *err)
{
  memset(m, 0, sizeof *m);
  json_t *j = load(buf, len, "manifest", err);
  if (!j) return -1;
  int r = -1;
  json_t *cfg = json_object_get(j, "config");
  if (!cfg) {
    silo_err(err, EINVAL, "manifest.config: missing");
  } else if (desc_parse(cfg, &m->config, "manifest.config", err) == 0 &&
             descs_parse(j, "layers", "manifest", &m->layers, &m->n_layers, err) == 0) {
    r = 0;
  }
  json_decref(j);
  if (r < 0) image_manifest_free(m);
  return r;
}

void
image_manifest_free(struct image_manifest *m)
{
  image_desc_free(&m->config);
  image_descs_free(m->layers, m->n_layers);
  memset(m, 0, sizeof *m);
}

int
image_docker_manifest_parse(const char *buf, size_t len, struct docker_manifest *m,
                            struct silo_error *err)
{
  memset(m, 0, sizeof *m);
  json_error_t je;
  json_t *j = json_loadb(buf, len, 0, &je);
  if (!j) return silo_err(err, EINVAL, "manifest.json: %s (line %d)", je.text, je.line);
  int r = -1;
  json_t *first = json_array_get(j, 0);
  if (!json_is_array(j) || !json_is_object(first)) {
    silo_err(err, EINVAL, "manifest.json: expected an array of images");
    goto out;
  }
  m->n_images = json_array_size(j);
  json_t *cfg = json_object_get(first, "Config");
  if (!json_is_string(cfg)) {
    silo_err(err, EINVAL, "manifest.json[0].Config: missing");
    goto out;
  }
  m->config = xstrdup(json_string_value(cfg));
  if (opt_strv(first, "Layers", &m->layers, &m->n_layers, "manifest.json[0]", err) < 0) goto out;
  r = 0;
out:
  json_decref(j);
  if (r < 0) image_docker_manifest_free(m);
  return r;
}

void
image_docker_manifest_free(struct docker_manifest *m)
{
  free(m->config);
  strv_free(m->layers);
  memset(m, 0, sizeof *m);
}
