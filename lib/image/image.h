/* silo lib/: container images for `silo sandbox` (private to lib/).
 *
 *   lib/base/sha256.c   SHA-256, to verify blobs while they are read
 *   lib/base/archive.c  libarchive, loaded with dlopen on first use (see there why)
 *   lib/image/meta.c     pure parsing: paths, whiteout names, digests, index/manifest/config
 *   lib/image/layer.c    one layer tar -> one directory in overlay format
 *   image.c          an image (OCI layout or docker-save archive, file or directory)
 *                    -> its config and its layers unpacked in the cache
 *   lib/image/cache.c    the parsed image of an archive file, kept by the file's identity
 *
 * Cache layout (the layers directory is <root>/.sandbox/layers as root, see
 * sandbox.h for rootless sandboxes):
 *   <layers>/<sha256 hex>/   one unpacked layer, read-only once renamed there
 *   <layers>/tmp-<pid>-<hex> a layer being unpacked by process <pid>
 *   <index dir>/<hex>.json   the parsed image of one archive file (cache.c): its config
 *                            and layer digests, used while the file is unchanged
 * A layer's name is the digest of its blob as stored in the image (compressed or not),
 * checked while the blob is read: a directory named <hex> is complete and verified.
 * Whiteouts are stored the way overlayfs reads them: `.wh.NAME` becomes a 0/0
 * character device NAME, `.wh..wh..opq` the xattr trusted.overlay.opaque=y on its
 * directory (user.overlay.opaque=y for an overlay mounted in a user namespace,
 * with the userxattr option).
 */
#ifndef SILO_IMAGE_H
#define SILO_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

/* ---- lib/image/meta.c: pure functions (unit tested) ---- */

/* "sha256:<64 lowercase hex>" -> the hex part; false for anything else (other
 * algorithms, wrong length, a path in disguise). */
bool image_digest_hex(const char *digest, char hex[65]);
/* A tar member name made relative and clean: leading "/" and "./" dropped, "//" and
 * "/./" collapsed, a trailing "/" dropped; "" is the root itself.  -1 (EINVAL) when
 * a ".." component would leave the root, or ENAMETOOLONG. */
int image_clean_path(const char *in, char *out, size_t len);

enum image_whiteout {
  IMAGE_WH_NONE,   /* an ordinary entry */
  IMAGE_WH_FILE,   /* .wh.NAME: NAME of the layers below is deleted; *target = dir/NAME */
  IMAGE_WH_OPAQUE, /* dir/.wh..wh..opq: dir hides the layers below; *target = dir ("" = root) */
  IMAGE_WH_META,   /* .wh..wh.* (aufs bookkeeping such as .wh..wh.plnk): skipped */
};
/* Classifies a clean path (see image_clean_path). */
enum image_whiteout image_whiteout_of(const char *path, char *target, size_t len);

/* The host's architecture in the OCI/Go spelling ("amd64", "arm64"...). */
const char *image_host_arch(void);
/* The OCI spelling of a uname machine ("x86_64" -> "amd64"); NULL when unknown. */
const char *image_arch_of_machine(const char *machine);

/* The parts of an image config (OCI image-spec config.md) that sandbox uses. */
struct image_config {
  char *architecture, *os, *variant;
  char **entrypoint, **cmd, **env; /* NULL-terminated (or NULL) */
  size_t n_entrypoint, n_cmd, n_env;
  char *workdir, *user; /* NULL when absent or empty */
  char **diff_ids;      /* rootfs.diff_ids, as given ("sha256:...") */
  size_t n_diff_ids;
};
int image_config_parse(const char *buf, size_t len, struct image_config *c, struct silo_error *err);
void image_config_free(struct image_config *c);

/* A content descriptor (OCI descriptor.md) with its platform when given. */
struct image_desc {
  char *media_type;
  char hex[65]; /* the sha256 digest */
  int64_t size;
  char *os, *arch, *variant; /* platform, NULL when absent */
};
/* Limits on what an image's indexes make silo read (see man/silo-sandbox.8):
 * entries in one index, indexes nested in one another, and indexes plus manifests
 * read in all while choosing the host's manifest. */
#define IMAGE_INDEX_MAX   1024
#define IMAGE_INDEX_DEPTH 4
#define IMAGE_INDEX_READS 64
/* index.json (or a nested index): its manifests (at most IMAGE_INDEX_MAX). */
int image_index_parse(const char *buf, size_t len, struct image_desc **out, size_t *n,
                      struct silo_error *err);
struct image_manifest {
  struct image_desc config;
  struct image_desc *layers;
  size_t n_layers;
};
int image_manifest_parse(const char *buf, size_t len, struct image_manifest *m,
                         struct silo_error *err);
void image_desc_free(struct image_desc *d);
void image_descs_free(struct image_desc *d, size_t n);
void image_manifest_free(struct image_manifest *m);
/* True for index media types (OCI index, Docker manifest list). */
bool image_is_index_type(const char *media_type);

/* manifest.json of `docker save`: its first image. */
struct docker_manifest {
  char *config;  /* path of the config in the archive */
  char **layers; /* paths of the layer tars, bottom first */
  size_t n_layers;
  size_t n_images; /* how many images the archive holds (the first is used) */
};
int image_docker_manifest_parse(const char *buf, size_t len, struct docker_manifest *m,
                                struct silo_error *err);
void image_docker_manifest_free(struct docker_manifest *m);

/* ---- lib/image/layer.c ---- */

/* How layers are written to disk. */
struct image_unpack_opts {
  /* 0: every id can be an owner (root).  Else unpacking runs as root of a user
   * namespace that maps only the ids 0..id_count-1 (a rootless sandbox): an owner
   * above becomes 0 (the user) and its file loses its setuid / setgid bit, and
   * device nodes, which cannot be made there, are left out. */
  uint32_t id_count;
  /* Opaque directories as user.overlay.opaque (overlayfs's userxattr mode, for
   * overlays mounted in a user namespace) instead of trusted.overlay.opaque. */
  bool userxattr;
  /* When non-NULL and raised (by the sandbox's --timeout watchdog), reading the
   * image and unpacking stop at the next member or block, with ECANCELED. */
  const volatile int *cancel;
};

/* Where a layer's bytes come from: fill() returns up to `cap` bytes in *buf (0 at
 * the end, -1 with err set on failure). */
struct layer_source {
  void *ctx;
  ssize_t (*fill)(void *ctx, void *buf, size_t cap, struct silo_error *err);
};
/* Unpacks the layer tar (plain, gzip or zstd) from src into dirfd, converting
 * whiteouts, and checks that the bytes read have the sha256 `hex` (and `size` bytes
 * when size >= 0).  `name` names the layer in errors. */
int image_layer_unpack(struct layer_source *src, int dirfd, const char *hex, int64_t size,
                       const char *name, const struct image_unpack_opts *opts,
                       struct silo_error *err);

/* ---- lib/image/cache.c ---- */

/* What identifies an archive file's content without reading it (see cache.c). */
struct image_cache_id {
  uint64_t dev, ino;
  int64_t size, mtime_ns, ctime_ns;
};
struct stat;
void image_cache_id_of(const struct stat *st, struct image_cache_id *id);
/* The record's file name: "<sha256 of dev:ino>.json". */
void image_cache_name(const struct image_cache_id *id, char name[80]);
/* A record (malloc'ed JSON) and its parse (pure; unit tested): the parse refuses a
 * record of another identity, a config that does not match its digest, layers that
 * are not sha256 hex digests, anything malformed. */
char *image_cache_record(const struct image_cache_id *id, const char *config, size_t len,
                         char *const *hexes, size_t n);
int image_cache_parse(const char *buf, size_t len, const struct image_cache_id *id, char **config,
                      size_t *clen, char ***hexes, size_t *n, struct silo_error *err);
void image_cache_strv_free(char **v, size_t n);
/* The record of the archive `st` in directory `dir`: 1 with its config and layers,
 * 0 when there is none or it is not usable (a reason logged at debug level). */
int image_cache_load(const char *dir, const struct stat *st, char **config, size_t *clen,
                     char ***hexes, size_t *n);
/* Records it (best effort; not when the archive changed less than a second ago). */
void image_cache_save(const char *dir, const struct stat *st, const char *config, size_t clen,
                      char *const *hexes, size_t n);

/* ---- image.c ---- */
struct image {
  struct image_config config;
  char **layers; /* absolute paths of the unpacked layers, bottom first */
  size_t n_layers;
};
/* Reads the image at `path` (OCI layout or docker-save, a tar file (gzip/zstd too)
 * or a directory), checks its platform against the host and makes sure every
 * layer is in `cache_dir` (unpacking the missing ones).  Nothing is left in the
 * cache on failure but complete, verified layers.  With `index_dir`, a tar file's
 * parsed image is kept there and used while the file is unchanged (cache.c). */
int image_prepare(const char *path, const char *cache_dir, const char *index_dir,
                  const struct image_unpack_opts *opts, struct image *img, struct silo_error *err);
void image_free(struct image *img);

#endif
