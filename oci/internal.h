/* silo oci/: helpers shared by the files of oci/ only (not part of the module's API).
 *
 * Parsing walks the jansson tree once.  Every parse function receives the value it
 * reads and its JSON path as a chain of stack frames (struct jpath), so keeping track
 * of where we are costs nothing; the path is only rendered into text when an error is
 * reported.  Everything the parsed structs allocate comes from one arena per document,
 * released at once by the `*_free` functions.
 */
#ifndef SILO_OCI_INTERNAL_H
#define SILO_OCI_INTERNAL_H

#include <jansson.h>

#include "oci/oci.h"

/* ---- arena: bump allocation, zeroed memory, freed all at once ---- */

struct oci_arena_chunk;
struct oci_arena {
  struct oci_arena_chunk *head;
  size_t next_cap;
};

/* n elements of `size` bytes, zeroed; never fails (out of memory ends the process). */
void *oci_alloc(struct oci_arena *a, size_t n, size_t size);
void oci_arena_free(struct oci_arena *a);

/* ---- JSON paths ---- */

/* One step of a path: an object member (key != NULL) or an array element. */
struct jpath {
  const struct jpath *up; /* NULL at the top of the document */
  const char *key;
  size_t idx;
};

#define JP_KEY(parent, k) ((struct jpath){.up = (parent), .key = (k)})
#define JP_IDX(parent, i) ((struct jpath){.up = (parent), .idx = (i)})

/* Renders `process.args[2]`, `annotations["io.x"]`; "" for the top. */
void oci_jpath_render(const struct jpath *p, char *buf, size_t len);

/* ---- the parse context ---- */

struct pctx {
  struct oci_arena *arena;
  struct silo_error *err;
  bool bigints; /* the document was loaded with integers > INT64_MAX rewritten (json.c) */
};

/* Fills err with "<path>: <problem>" (just the problem at the top); returns -1. */
int oci_jerr(struct pctx *c, const struct jpath *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For the `key` of parse callbacks that have no use for it. */
#ifndef _unused_
#define _unused_ __attribute__((unused))
#endif

#define J_OPT false
#define J_REQ true

/* Parses one object (o, at path p) into `out`; `key` is the member name when the
 * object is a value of a map (linux.netDevices), NULL otherwise. */
typedef int (*jparse_fn)(struct pctx *c, json_t *o, const struct jpath *p, const char *key,
                         void *out);

/* Value-level readers (v is the value at path p). */
int oci_jv_str(struct pctx *c, json_t *v, const struct jpath *p, const char **out);
int oci_jv_int(struct pctx *c, json_t *v, const struct jpath *p, int64_t min, int64_t max,
               int64_t *out);
int oci_jv_u64(struct pctx *c, json_t *v, const struct jpath *p, uint64_t *out);

/* Member readers: member k of object o (at path p).  An absent member (or JSON null)
 * leaves *out untouched and is an error ("<path>.k: missing") only when req.  `has`
 * may be NULL; it is set to true when the member is present. */
int oci_j_str(struct pctx *c, json_t *o, const struct jpath *p, const char *k, const char **out,
              bool req);
int oci_j_bool(struct pctx *c, json_t *o, const struct jpath *p, const char *k, bool *out,
               bool *has, bool req);
int oci_j_i32(struct pctx *c, json_t *o, const struct jpath *p, const char *k, int32_t *out,
              bool *has, bool req);
int oci_j_u16(struct pctx *c, json_t *o, const struct jpath *p, const char *k, uint16_t *out,
              bool *has, bool req);
int oci_j_u32(struct pctx *c, json_t *o, const struct jpath *p, const char *k, uint32_t *out,
              bool *has, bool req);
/* A uid or gid: 0..4294967294.  (uid_t)-1 means "leave unchanged" to setresuid(2),
 * setresgid(2) and chown(2): a process given it would keep the ids it has (root's). */
int oci_j_id(struct pctx *c, json_t *o, const struct jpath *p, const char *k, uint32_t *out,
             bool req);
int oci_jv_check_id(struct pctx *c, const struct jpath *p, uint32_t id);
int oci_j_i64(struct pctx *c, json_t *o, const struct jpath *p, const char *k, int64_t *out,
              bool *has, bool req);
int oci_j_u64(struct pctx *c, json_t *o, const struct jpath *p, const char *k, uint64_t *out,
              bool *has, bool req);
/* An array of strings: NULL-terminated arena array (non-NULL when present, even empty). */
int oci_j_strv(struct pctx *c, json_t *o, const struct jpath *p, const char *k, const char ***out,
               size_t *n, bool *has, bool req);
int oci_j_u32v(struct pctx *c, json_t *o, const struct jpath *p, const char *k, uint32_t **out,
               size_t *n);
/* An object of strings (annotations, sysctl, unified), in document order. */
int oci_j_kv(struct pctx *c, json_t *o, const struct jpath *p, const char *k, struct oci_kv **out,
             size_t *n);
/* A string that must be an absolute path. */
int oci_j_abspath(struct pctx *c, json_t *o, const struct jpath *p, const char *k, const char **out,
                  bool req);

/* Member k must be an object: parses it with fn into dst (embedded struct). */
int oci_j_object_in(struct pctx *c, json_t *o, const struct jpath *p, const char *k, void *dst,
                    jparse_fn fn, bool req);
/* Same into a new arena struct of `size` bytes; *out stays NULL when absent. */
int oci_j_object_new(struct pctx *c, json_t *o, const struct jpath *p, const char *k, size_t size,
                     void **out, jparse_fn fn, bool req);
/* An array of objects (map == false) or an object of objects (map == true), each parsed
 * with fn into an arena array of `size`-byte elements. */
int oci_j_list(struct pctx *c, json_t *o, const struct jpath *p, const char *k, size_t size,
               void **out, size_t *n, jparse_fn fn, bool map, bool req);

/* Typed front ends (no casts between pointer types at the call sites). */
#define J_NEW(c, o, p, k, field, fn, req)                                                          \
  ({                                                                                               \
    void *new_ = NULL;                                                                             \
    int r_ = oci_j_object_new(c, o, p, k, sizeof *(field), &new_, fn, req);                        \
    (field) = new_;                                                                                \
    r_;                                                                                            \
  })
#define J_LIST(c, o, p, k, field, nfield, fn, req)                                                 \
  ({                                                                                               \
    void *arr_ = NULL;                                                                             \
    int r_ = oci_j_list(c, o, p, k, sizeof *(field), &arr_, &(nfield), fn, false, req);            \
    (field) = arr_;                                                                                \
    r_;                                                                                            \
  })
#define J_MAP(c, o, p, k, field, nfield, fn)                                                       \
  ({                                                                                               \
    void *arr_ = NULL;                                                                             \
    int r_ = oci_j_list(c, o, p, k, sizeof *(field), &arr_, &(nfield), fn, true, J_OPT);           \
    (field) = arr_;                                                                                \
    r_;                                                                                            \
  })

/* ---- documents ---- */

/* Parses a JSON object; numbers above INT64_MAX (RLIM_INFINITY in rlimits, 64-bit
 * seccomp masks) are kept exactly (see json.c).  Errors carry no file name. */
int oci_doc_parse(const char *buf, size_t len, json_t **out, bool *bigints, struct silo_error *err);
/* Every document kind (config, process, resources) is a public struct holding its
 * jansson `doc`, next to an arena of its own: parses buf into *doc and fills out
 * with fn.  On failure the caller frees what was made, as after success. */
int oci_doc_fill(const char *buf, size_t len, struct oci_arena *arena, void **doc,
                 int (*fn)(struct pctx *, json_t *, const struct jpath *, const char *, void *),
                 void *out, struct silo_error *err);
/* The same for a document whose top may be any JSON value (fn checks its type). */
int oci_doc_fill_any(const char *buf, size_t len, struct oci_arena *arena, void **doc,
                     int (*fn)(struct pctx *, json_t *, const struct jpath *, const char *, void *),
                     void *out, struct silo_error *err);
/* Frees a document's arena, its jansson doc and the private box holding both. */
void oci_doc_release(struct oci_arena *arena, void *doc, void *box);
/* Reads a whole file into a malloc'ed buffer. */
int oci_read_file(const char *path, char **buf, size_t *len, struct silo_error *err);

/* ---- parsers shared between the files ---- */

int oci_parse_process(struct pctx *c, json_t *o, const struct jpath *p, const char *key, void *out);
int oci_parse_linux(struct pctx *c, json_t *o, const struct jpath *p, const char *key, void *out);
int oci_parse_resources(struct pctx *c, json_t *o, const struct jpath *p, const char *key,
                        void *out);
int oci_parse_idmap(struct pctx *c, json_t *o, const struct jpath *p, const char *key, void *out);

#endif
