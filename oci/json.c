/* silo oci/: the parsing toolkit: arena, JSON paths, typed getters, document loading. */
#include "oci/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- arena ---- */

struct oci_arena_chunk {
  struct oci_arena_chunk *next;
  size_t cap, used;
  max_align_t data[];
};

#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_FIRST 4096 /* the first chunk; each next one doubles, up to ARENA_LAST */
#define ARENA_LAST  65536
#define ARENA_BIG   1024 /* larger requests get a chunk of their own */

static struct oci_arena_chunk *
chunk_new(size_t cap, size_t used)
{
  struct oci_arena_chunk *k = xcalloc(1, sizeof *k + cap);
  k->cap = cap;
  k->used = used;
  return k;
}

void *
oci_alloc(struct oci_arena *a, size_t n, size_t size)
{
  struct oci_arena_chunk *k = a->head;
  size_t bytes;

  if (size && n > (SIZE_MAX / 2) / size) return xcalloc(SIZE_MAX, 2); /* overflow: OOM exit */
  bytes = (n * size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
  if (bytes == 0) bytes = ARENA_ALIGN;

  if (k && k->cap - k->used >= bytes) {
    void *p = (char *)k->data + k->used;
    k->used += bytes;
    return p;
  }
  if (bytes > ARENA_BIG) {
    /* Behind the head, so that the head keeps its free space. */
    struct oci_arena_chunk *big = chunk_new(bytes, bytes);
    if (k) {
      big->next = k->next;
      k->next = big;
    } else {
      a->head = big;
    }
    return big->data;
  }
  size_t cap = a->next_cap ? a->next_cap : ARENA_FIRST;
  a->next_cap = cap < ARENA_LAST ? cap * 2 : ARENA_LAST;
  k = chunk_new(cap, bytes);
  k->next = a->head;
  a->head = k;
  return k->data;
}

void
oci_arena_free(struct oci_arena *a)
{
  struct oci_arena_chunk *k = a->head, *next;
  for (; k; k = next) {
    next = k->next;
    free(k);
  }
  a->head = NULL;
  a->next_cap = 0;
}

/* ---- paths and errors ---- */

static bool
plain_key(const char *k)
{
  if (!*k) return false;
  for (; *k; k++) {
    char ch = *k;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_'))
      return false;
  }
  return true;
}

static size_t
render(const struct jpath *p, char *buf, size_t len)
{
  size_t n;
  int r;

  if (!p) return 0;
  n = render(p->up, buf, len);
  if (n >= len) return n;
  if (!p->key)
    r = snprintf(buf + n, len - n, "[%zu]", p->idx);
  else if (!plain_key(p->key))
    r = snprintf(buf + n, len - n, "[\"%s\"]", p->key);
  else
    r = snprintf(buf + n, len - n, "%s%s", p->up ? "." : "", p->key);
  return r < 0 ? n : n + (size_t)r;
}

void
oci_jpath_render(const struct jpath *p, char *buf, size_t len)
{
  if (len == 0) return;
  buf[0] = '\0';
  render(p, buf, len);
}

int
oci_jerr(struct pctx *c, const struct jpath *p, const char *fmt, ...)
{
  char path[1024], msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  oci_jpath_render(p, path, sizeof path);
  if (path[0]) return silo_err(c->err, 0, "%s: %s", path, msg);
  return silo_err(c->err, 0, "%s", msg);
}

/* ---- integers above INT64_MAX ----
 *
 * jansson stores integers as int64 and refuses bigger ones, yet uint64 fields hold
 * them in real configs (docker's `--ulimit memlock=-1` writes 18446744073709551615).
 * When a document fails to load for that reason, it is loaded a second time with each
 * such literal rewritten as the string "\u0000<digits>" (JSON_ALLOW_NUL): the uint64
 * readers accept that marker, and the string readers, which then check for NUL bytes,
 * reject it.  Documents without such numbers never take this path. */

static const char *
bigint_digits(json_t *v)
{
  const char *s;
  if (!json_is_string(v)) return NULL;
  s = json_string_value(v);
  if (s[0] != '\0' || json_string_length(v) < 2) return NULL;
  for (size_t i = 1; i < json_string_length(v); i++)
    if (s[i] < '0' || s[i] > '9') return NULL;
  return s + 1;
}

static bool
is_digit(char ch)
{
  return ch >= '0' && ch <= '9';
}

struct outbuf {
  char *p;
  size_t len, cap;
};

static void
emit(struct outbuf *b, const char *s, size_t n)
{
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    b->p = xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

/* NULL when nothing needed a rewrite. */
static char *
bigint_rewrite(const char *buf, size_t len, size_t *outlen)
{
  static const char max[] = "9223372036854775807";
  struct outbuf b = {.p = xmalloc(len + 64), .cap = len + 64};
  bool changed = false;
  size_t i = 0;

  while (i < len) {
    size_t j = i + 1;
    if (buf[i] == '"') { /* a string: copied through */
      while (j < len && buf[j] != '"') j += buf[j] == '\\' ? 2 : 1;
      j = j < len ? j + 1 : len;
    } else if (is_digit(buf[i]) || buf[i] == '-') {
      bool plain = is_digit(buf[i]);
      while (j < len && (is_digit(buf[j]) || (buf[j] && strchr("-+.eE", buf[j])))) {
        if (!is_digit(buf[j])) plain = false;
        j++;
      }
      size_t n = j - i;
      if (plain && buf[i] != '0' &&
          (n > sizeof max - 1 || (n == sizeof max - 1 && memcmp(buf + i, max, n) > 0))) {
        emit(&b, "\"\\u0000", 7);
        emit(&b, buf + i, n);
        emit(&b, "\"", 1);
        changed = true;
        i = j;
        continue;
      }
    }
    emit(&b, buf + i, j - i);
    i = j;
  }
  if (!changed) {
    free(b.p);
    return NULL;
  }
  *outlen = b.len;
  return b.p;
}

/* ---- value readers ---- */

int
oci_jv_str(struct pctx *c, json_t *v, const struct jpath *p, const char **out)
{
  const char *s;

  if (!json_is_string(v)) return oci_jerr(c, p, "expected a string");
  s = json_string_value(v);
  if (c->bigints && strlen(s) != json_string_length(v))
    return oci_jerr(c, p, bigint_digits(v) ? "expected a string" : "must not contain NUL bytes");
  *out = s;
  return 0;
}

int
oci_jv_int(struct pctx *c, json_t *v, const struct jpath *p, int64_t min, int64_t max, int64_t *out)
{
  json_int_t x;
  const char *big;

  if (!json_is_integer(v)) {
    if (c->bigints && (big = bigint_digits(v)))
      return oci_jerr(c, p, "%s is out of range (%" PRId64 "..%" PRId64 ")", big, min, max);
    return oci_jerr(c, p, "expected an integer");
  }
  x = json_integer_value(v);
  if (x < min && min == 0) return oci_jerr(c, p, "expected a non-negative integer, got %lld", x);
  if (x < min || x > max)
    return oci_jerr(c, p, "%lld is out of range (%" PRId64 "..%" PRId64 ")", x, min, max);
  *out = x;
  return 0;
}

int
oci_jv_u64(struct pctx *c, json_t *v, const struct jpath *p, uint64_t *out)
{
  const char *big;

  if (json_is_integer(v)) {
    json_int_t x = json_integer_value(v);
    if (x < 0) return oci_jerr(c, p, "expected a non-negative integer, got %lld", x);
    *out = (uint64_t)x;
    return 0;
  }
  if (c->bigints && (big = bigint_digits(v))) {
    errno = 0;
    unsigned long long x = strtoull(big, NULL, 10);
    if (errno == ERANGE)
      return oci_jerr(c, p, "%s is out of range (0..%" PRIu64 ")", big, (uint64_t)UINT64_MAX);
    *out = x;
    return 0;
  }
  return oci_jerr(c, p, "expected an integer");
}

/* ---- member readers ---- */

/* The member, or NULL when absent or null (then an error when req: *r = -1).  Keys are
 * matched as runc's decoder (Go's encoding/json) matches them: case-insensitively, the
 * last matching key of the document winning, so that "pagesize" is read as "pageSize"
 * and a document that has both "args" and "Args" means the same as with runc. */
static json_t *
member(struct pctx *c, json_t *o, const struct jpath *kp, bool req, int *r)
{
  json_t *v = NULL, *e;
  const char *key;
  json_object_foreach(o, key, e)
  {
    if (strcasecmp(key, kp->key) == 0) v = e;
  }
  *r = 0;
  if (v && !json_is_null(v)) return v;
  if (req) *r = oci_jerr(c, kp, "missing");
  return NULL;
}

int
oci_j_str(struct pctx *c, json_t *o, const struct jpath *p, const char *k, const char **out,
          bool req)
{
  struct jpath kp = JP_KEY(p, k);
  int r;
  json_t *v = member(c, o, &kp, req, &r);
  return v ? oci_jv_str(c, v, &kp, out) : r;
}

int
oci_j_abspath(struct pctx *c, json_t *o, const struct jpath *p, const char *k, const char **out,
              bool req)
{
  struct jpath kp = JP_KEY(p, k);
  const char *s = NULL;
  int r;
  json_t *v = member(c, o, &kp, req, &r);
  if (!v) return r;
  if (oci_jv_str(c, v, &kp, &s) < 0) return -1;
  if (s[0] != '/') return oci_jerr(c, &kp, "\"%s\" is not an absolute path", s);
  *out = s;
  return 0;
}

int
oci_j_bool(struct pctx *c, json_t *o, const struct jpath *p, const char *k, bool *out, bool *has,
           bool req)
{
  struct jpath kp = JP_KEY(p, k);
  int r;
  json_t *v = member(c, o, &kp, req, &r);
  if (!v) return r;
  if (!json_is_boolean(v)) return oci_jerr(c, &kp, "expected a boolean");
  *out = json_is_true(v);
  if (has) *has = true;
  return 0;
}

#define DEFINE_INT_READER(name, type, min, max)                                                    \
  int name(struct pctx *c, json_t *o, const struct jpath *p, const char *k, type *out, bool *has,  \
           bool req)                                                                               \
  {                                                                                                \
    struct jpath kp = JP_KEY(p, k);                                                                \
    int64_t x;                                                                                     \
    int r;                                                                                         \
    json_t *v = member(c, o, &kp, req, &r);                                                        \
    if (!v) return r;                                                                              \
    if (oci_jv_int(c, v, &kp, min, max, &x) < 0) return -1;                                        \
    *out = (type)x;                                                                                \
    if (has) *has = true;                                                                          \
    return 0;                                                                                      \
  }

DEFINE_INT_READER(oci_j_i32, int32_t, INT32_MIN, INT32_MAX)
DEFINE_INT_READER(oci_j_u16, uint16_t, 0, UINT16_MAX)
DEFINE_INT_READER(oci_j_u32, uint32_t, 0, UINT32_MAX)
DEFINE_INT_READER(oci_j_i64, int64_t, INT64_MIN, INT64_MAX)

int
oci_j_id(struct pctx *c, json_t *o, const struct jpath *p, const char *k, uint32_t *out, bool req)
{
  struct jpath kp = JP_KEY(p, k);
  if (oci_j_u32(c, o, p, k, out, NULL, req) < 0) return -1;
  return oci_jv_check_id(c, &kp, *out);
}

int
oci_jv_check_id(struct pctx *c, const struct jpath *p, uint32_t id)
{
  if (id == UINT32_MAX)
    return oci_jerr(c, p, "4294967295 is not a valid id (-1 means \"unchanged\" to the kernel)");
  return 0;
}

int
oci_j_u64(struct pctx *c, json_t *o, const struct jpath *p, const char *k, uint64_t *out, bool *has,
          bool req)
{
  struct jpath kp = JP_KEY(p, k);
  int r;
  json_t *v = member(c, o, &kp, req, &r);
  if (!v) return r;
  if (oci_jv_u64(c, v, &kp, out) < 0) return -1;
  if (has) *has = true;
  return 0;
}

/* The member as an array (NULL when absent). */
static json_t *
array_member(struct pctx *c, json_t *o, const struct jpath *kp, bool req, int *r)
{
  json_t *v = member(c, o, kp, req, r);
  if (v && !json_is_array(v)) {
    *r = oci_jerr(c, kp, "expected an array");
    return NULL;
  }
  return v;
}

int
oci_j_strv(struct pctx *c, json_t *o, const struct jpath *p, const char *k, const char ***out,
           size_t *n, bool *has, bool req)
{
  struct jpath kp = JP_KEY(p, k);
  int r;
  json_t *v = array_member(c, o, &kp, req, &r);
  if (!v) return r;

  size_t len = json_array_size(v);
  const char **a = oci_alloc(c->arena, len + 1, sizeof *a);
  for (size_t i = 0; i < len; i++) {
    struct jpath ip = JP_IDX(&kp, i);
    if (oci_jv_str(c, json_array_get(v, i), &ip, &a[i]) < 0) return -1;
  }
  *out = a;
  *n = len;
  if (has) *has = true;
  return 0;
}

int
oci_j_u32v(struct pctx *c, json_t *o, const struct jpath *p, const char *k, uint32_t **out,
           size_t *n)
{
  struct jpath kp = JP_KEY(p, k);
  int r;
  json_t *v = array_member(c, o, &kp, false, &r);
  if (!v) return r;

  size_t len = json_array_size(v);
  uint32_t *a = oci_alloc(c->arena, len, sizeof *a);
  for (size_t i = 0; i < len; i++) {
    struct jpath ip = JP_IDX(&kp, i);
    int64_t x;
    if (oci_jv_int(c, json_array_get(v, i), &ip, 0, UINT32_MAX, &x) < 0) return -1;
    a[i] = (uint32_t)x;
  }
  *out = a;
  *n = len;
  return 0;
}

/* The member as an object (NULL when absent). */
static json_t *
object_member(struct pctx *c, json_t *o, const struct jpath *kp, bool req, int *r)
{
  json_t *v = member(c, o, kp, req, r);
  if (v && !json_is_object(v)) {
    *r = oci_jerr(c, kp, "expected an object");
    return NULL;
  }
  return v;
}

int
oci_j_kv(struct pctx *c, json_t *o, const struct jpath *p, const char *k, struct oci_kv **out,
         size_t *n)
{
  struct jpath kp = JP_KEY(p, k);
  const char *key;
  json_t *val;
  size_t i = 0;
  int r;
  json_t *v = object_member(c, o, &kp, false, &r);
  if (!v) return r;

  struct oci_kv *a = oci_alloc(c->arena, json_object_size(v), sizeof *a);
  json_object_foreach(v, key, val)
  {
    struct jpath ep = JP_KEY(&kp, key);
    a[i].key = key;
    if (oci_jv_str(c, val, &ep, &a[i].value) < 0) return -1;
    i++;
  }
  *out = a;
  *n = i;
  return 0;
}

int
oci_j_object_in(struct pctx *c, json_t *o, const struct jpath *p, const char *k, void *dst,
                jparse_fn fn, bool req)
{
  struct jpath kp = JP_KEY(p, k);
  int r;
  json_t *v = object_member(c, o, &kp, req, &r);
  return v ? fn(c, v, &kp, NULL, dst) : r;
}

int
oci_j_object_new(struct pctx *c, json_t *o, const struct jpath *p, const char *k, size_t size,
                 void **out, jparse_fn fn, bool req)
{
  struct jpath kp = JP_KEY(p, k);
  int r;
  json_t *v = object_member(c, o, &kp, req, &r);
  if (!v) return r;
  void *dst = oci_alloc(c->arena, 1, size);
  if (fn(c, v, &kp, NULL, dst) < 0) return -1;
  *out = dst;
  return 0;
}

int
oci_j_list(struct pctx *c, json_t *o, const struct jpath *p, const char *k, size_t size, void **out,
           size_t *n, jparse_fn fn, bool map, bool req)
{
  struct jpath kp = JP_KEY(p, k);
  int r;
  json_t *v = map ? object_member(c, o, &kp, req, &r) : array_member(c, o, &kp, req, &r);
  if (!v) return r;

  size_t len = map ? json_object_size(v) : json_array_size(v), i = 0;
  char *a = oci_alloc(c->arena, len, size);
  if (map) {
    const char *key;
    json_t *e;
    json_object_foreach(v, key, e)
    {
      struct jpath ep = JP_KEY(&kp, key);
      if (!json_is_object(e)) return oci_jerr(c, &ep, "expected an object");
      if (fn(c, e, &ep, key, a + i * size) < 0) return -1;
      i++;
    }
  } else {
    for (; i < len; i++) {
      struct jpath ep = JP_IDX(&kp, i);
      json_t *e = json_array_get(v, i);
      if (!json_is_object(e)) return oci_jerr(c, &ep, "expected an object");
      if (fn(c, e, &ep, NULL, a + i * size) < 0) return -1;
    }
  }
  *out = a;
  *n = i;
  return 0;
}

int
oci_lookup(const char *const *table, const char *s)
{
  for (int i = 0; table[i]; i++)
    if (strcmp(table[i], s) == 0) return i;
  return -1;
}

/* ---- documents ---- */

/* The JSON value of buf, of any type. */
static int
doc_load(const char *buf, size_t len, json_t **out, bool *bigints, struct silo_error *err)
{
  json_error_t je;
  json_t *root = json_loadb(buf, len, 0, &je);

  *bigints = false;
  if (!root && json_error_code(&je) == json_error_numeric_overflow) {
    size_t n = 0;
    _cleanup_free_ char *fixed = bigint_rewrite(buf, len, &n);
    if (fixed) {
      root = json_loadb(fixed, n, JSON_ALLOW_NUL, &je);
      *bigints = true;
    }
  }
  if (!root)
    return silo_err(err, 0, "invalid JSON at line %d, column %d: %s", je.line, je.column, je.text);
  *out = root;
  return 0;
}

int
oci_doc_parse(const char *buf, size_t len, json_t **out, bool *bigints, struct silo_error *err)
{
  json_t *root;
  if (doc_load(buf, len, &root, bigints, err) < 0) return -1;
  if (!json_is_object(root)) {
    json_decref(root);
    return silo_err(err, 0, "expected a JSON object");
  }
  *out = root;
  return 0;
}

int
oci_doc_fill(const char *buf, size_t len, struct oci_arena *arena, void **doc,
             int (*fn)(struct pctx *, json_t *, const struct jpath *, const char *, void *),
             void *out, struct silo_error *err)
{
  struct pctx c = {.arena = arena, .err = err};
  json_t *root;
  if (oci_doc_parse(buf, len, &root, &c.bigints, err) < 0) return -1;
  *doc = root;
  return fn(&c, root, NULL, NULL, out);
}

int
oci_doc_fill_any(const char *buf, size_t len, struct oci_arena *arena, void **doc,
                 int (*fn)(struct pctx *, json_t *, const struct jpath *, const char *, void *),
                 void *out, struct silo_error *err)
{
  struct pctx c = {.arena = arena, .err = err};
  json_t *root;
  if (doc_load(buf, len, &root, &c.bigints, err) < 0) return -1;
  *doc = root;
  return fn(&c, root, NULL, NULL, out);
}

void
oci_doc_release(struct oci_arena *arena, void *doc, void *box)
{
  oci_arena_free(arena);
  json_decref(doc);
  free(box);
}

int
oci_read_file(const char *path, char **bufp, size_t *lenp, struct silo_error *err)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  _cleanup_free_ char *buf = NULL;
  struct stat st;
  size_t cap, len = 0;

  if (fd < 0) return silo_err(err, errno, "%s", path);
  if (fstat(fd, &st) < 0) return silo_err(err, errno, "%s", path);
  if (S_ISDIR(st.st_mode)) return silo_err(err, EISDIR, "%s", path);
  cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096; /* +1: see EOF in one read */
  buf = xmalloc(cap);
  for (;;) {
    if (len == cap) buf = xrealloc(buf, cap *= 2);
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return silo_err(err, errno, "%s", path);
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  *bufp = steal_ptr(&buf);
  *lenp = len;
  return 0;
}
