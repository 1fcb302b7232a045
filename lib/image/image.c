/* silo lib/: an image on disk -> its config and its layers in the cache (see image.h).
 *
 * Two formats, each as a tar file (optionally gzip/zstd/xz compressed) or as a
 * directory:
 *   OCI image layout  oci-layout, index.json, blobs/sha256/<hex> (image-spec
 *                     image-layout.md); index.json -> (nested indexes ->) the
 *                     manifest for this host's platform -> config + layers;
 *                     `podman save --format oci-archive`, `skopeo copy oci-archive:`
 *   docker save       manifest.json -> [{Config, Layers}] (the first image), layers
 *                     named <id>/layer.tar (verified against rootfs.diff_ids) or,
 *                     from Docker 25, blobs/sha256/<hex> (verified against <hex>);
 *                     `docker save`, `podman save` (docker-archive).
 * An archive with both (Docker 25 writes both) is read as an OCI layout.
 *
 * A tar file is read twice at most: one pass over the headers keeps the small
 * members (index, manifests, configs, small layers) in memory and skips the rest
 * (lseek on an uncompressed file: cheap, so a cached image starts without reading
 * its layers at all); a second pass, only when a big layer is missing from the
 * cache, streams each missing layer straight from the archive into its directory.
 *
 * The image is untrusted input, so what it can make silo spend is bounded: the
 * first pass keeps about SCAN_BUDGET bytes in memory, member list included (a
 * member past it is not kept: a small layer is then streamed by the second pass, an
 * index or config it holds cannot be read); choosing the manifest reads at most
 * IMAGE_INDEX_READS indexes and manifests, IMAGE_INDEX_DEPTH deep, of at most
 * IMAGE_INDEX_MAX entries each; only regular files are opened for reading (a FIFO
 * would block), and opts->cancel (the sandbox's --timeout) is checked as it goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/base/base.h"
#include "lib/image/image.h"
#include "lib/silo.h"

#define SMALL_MAX (4 << 20)   /* members kept in memory by the first pass: JSON up to this */
#define TINY_MAX  (256 << 10) /* and anything up to this (small layers: no second pass) */
#define JSON_MAX  (16 << 20)  /* largest index / manifest / config accepted */
/* All that the first pass keeps in memory, its member list included. */
#define SCAN_BUDGET (16 << 20)

struct member {
  char *name;
  int64_t size;
  char *data;   /* the content, when size <= SMALL_MAX */
  char *target; /* a symlink or hard link: the member it points to (clean) */
  bool dropped; /* small enough to keep, but past SCAN_BUDGET */
};

struct source {
  const char *path;
  const struct image_unpack_opts *opts;
  const struct libarchive *la;
  int dirfd; /* a directory image, else -1 */
  struct member *m;
  size_t n, cap;
  size_t spent; /* of SCAN_BUDGET */
  int reads;    /* indexes and manifests read (IMAGE_INDEX_READS) */
  char *config; /* the image config as read (for the index record, cache.c) */
  size_t config_len;
  struct stat opened; /* the archive file as first opened (st_nlink 0: not yet) */
};

/* A layer to unpack. */
struct want {
  const struct member *member; /* archive image */
  char *name;                  /* member name (directory image) */
  char hex[65];
  int64_t size;
  bool done;
};

static void
source_free(struct source *s)
{
  for (size_t i = 0; i < s->n; i++) free(s->m[i].name), free(s->m[i].data), free(s->m[i].target);
  free(s->m);
  free(s->config);
  if (s->dirfd >= 0) close(s->dirfd);
}

static bool
cancelled(const struct source *s, struct silo_error *err)
{
  if (!s->opts->cancel || !*s->opts->cancel) return false;
  silo_err(err, ECANCELED, "given up");
  return true;
}

static struct archive *
open_archive(struct source *s, int *fd, struct silo_error *err)
{
  /* O_NONBLOCK, then the type: a FIFO would block the open (see image_prepare). */
  *fd = open(s->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (*fd < 0) return silo_err(err, errno, "open"), NULL;
  struct stat st;
  if (fstat(*fd, &st) < 0) return silo_err(err, errno, "stat"), NULL;
  if (!S_ISREG(st.st_mode)) return silo_err(err, 0, "not a regular file or a directory"), NULL;
  if (!s->opened.st_nlink) s->opened = st;
  struct archive *a = libarchive_tar_reader(s->la, err);
  if (!a) return NULL;
  if (s->la->read_open_fd(a, *fd, 64 * 1024) != ARCHIVE_OK) {
    silo_err(err, EINVAL, "not a tar archive: %s", s->la->error_string(a));
    s->la->read_free(a);
    return NULL;
  }
  return a;
}

/* The next member of the archive with a usable name (cleaned into name): 1, 0 at
 * the end, -1 on a read error.  Members whose name cannot be made relative and
 * inside the archive are passed over. */
static int
next_member(const struct libarchive *la, struct archive *a, struct archive_entry **e, char *name,
            size_t len, struct silo_error *err)
{
  for (;;) {
    int r = la->read_next_header(a, e);
    if (r == ARCHIVE_EOF) return 0;
    if (r < ARCHIVE_WARN) return silo_err(err, EIO, "%s", la->error_string(a));
    const char *raw = la->entry_pathname(*e);
    if (raw && image_clean_path(raw, name, len) == 0 && name[0]) return 1;
  }
}

/* Pass 1: the member list, small members with their content. */
static int
scan(struct source *s, struct silo_error *err)
{
  const struct libarchive *la = s->la;
  _cleanup_close_ int fd = -1;
  struct archive *a = open_archive(s, &fd, err);
  if (!a) return -1;
  int ret = -1, r;
  struct archive_entry *e;
  char name[PATH_MAX];
  while ((r = next_member(la, a, &e, name, sizeof name, err)) > 0) {
    if (cancelled(s, err)) goto out;
    char buf[PATH_MAX * 2];
    /* The list itself is paid for: a small .tar.gz can hold millions of headers. */
    s->spent += sizeof(struct member) + strlen(name) + 1;
    if (s->spent > SCAN_BUDGET) {
      silo_err(err, EFBIG, "more members than fit in the %d MiB silo spends on an image's list",
               SCAN_BUDGET >> 20);
      goto out;
    }
    struct member m = {.name = xstrdup(name), .size = la->entry_size(e)};
    const char *hard = la->entry_hardlink(e), *sym = la->entry_symlink(e);
    if (hard && image_clean_path(hard, buf, sizeof buf) == 0) {
      m.target = xstrdup(buf);
    } else if (sym && sym[0] != '/') {
      /* Relative to the link's directory. */
      const char *slash = strrchr(name, '/');
      snprintf(buf, sizeof buf, "%.*s%s%s", slash ? (int)(slash - name) : 0, name, slash ? "/" : "",
               sym);
      char clean[PATH_MAX];
      if (image_clean_path(buf, clean, sizeof clean) == 0) m.target = xstrdup(clean);
      if (m.target) s->spent += strlen(m.target) + 1;
    } else if (la->entry_filetype(e) == AE_IFREG && m.size >= 0 && m.size <= SMALL_MAX) {
      /* Bigger members are kept only when they look like JSON (not layers): a peek
       * at their first bytes, the rest is skipped unread.  Nothing is allocated
       * before the member is known to be kept and to fit in the budget. */
      char head[64];
      size_t peek = m.size < 64 ? (size_t)m.size : 64;
      la_ssize_t got = la->read_data(a, head, peek);
      const char *c = head;
      while (got > 0 && c < head + got && strchr(" \t\r\n", *c)) c++;
      bool keep = m.size <= TINY_MAX || (got > 0 && c < head + got && (*c == '{' || *c == '['));
      if (keep && got == (la_ssize_t)peek && s->spent + (size_t)m.size + 1 > SCAN_BUDGET) {
        keep = false;
        m.dropped = true;
      }
      if (keep && got == (la_ssize_t)peek) {
        m.data = xmalloc((size_t)m.size + 1);
        memcpy(m.data, head, peek);
        if (m.size > (int64_t)peek) {
          la_ssize_t more = la->read_data(a, m.data + peek, (size_t)m.size - peek);
          got = more < 0 ? more : got + more;
        }
      }
      if (keep && got != m.size) {
        silo_err(err, EIO, "`%s`: %s", name, got < 0 ? la->error_string(a) : "truncated");
        free(m.name), free(m.data);
        goto out;
      }
      if (keep) {
        m.data[m.size] = '\0';
        s->spent += (size_t)m.size + 1;
      }
    }
    if (s->n == s->cap) s->m = xrealloc(s->m, (s->cap = s->cap ? 2 * s->cap : 16) * sizeof *s->m);
    s->m[s->n++] = m;
  }
  ret = r < 0 ? -1 : 0;
out:
  la->read_free(a);
  return ret;
}

static const struct member *
find_member(const struct source *s, const char *name)
{
  char clean[PATH_MAX];
  if (image_clean_path(name, clean, sizeof clean) < 0) return NULL;
  for (int hops = 0; hops < 8; hops++) {
    const struct member *found = NULL;
    /* The last of duplicate names wins, as when the tar is extracted. */
    for (size_t i = 0; i < s->n; i++)
      if (strcmp(s->m[i].name, clean) == 0) found = &s->m[i];
    if (!found || !found->target) return found;
    snprintf(clean, sizeof clean, "%s", found->target);
  }
  return NULL;
}

/* Reads an index, manifest or config. */
static int
read_json(struct source *s, const char *name, char **buf, size_t *len, struct silo_error *err)
{
  if (cancelled(s, err)) return -1;
  if (s->dirfd >= 0) return fs_read_regular_in_root(s->dirfd, name, JSON_MAX, buf, len, err);
  const struct member *m = find_member(s, name);
  if (!m) return silo_err(err, ENOENT, "`%s`: not in the archive", name);
  if (m->dropped)
    return silo_err(err, EFBIG,
                    "`%s`: not read: the archive's small members before it exceed the %d MiB "
                    "silo keeps in memory",
                    name, SCAN_BUDGET >> 20);
  if (!m->data)
    return silo_err(err, EINVAL, "`%s`: not a regular file of at most %d MiB", name,
                    SMALL_MAX >> 20);
  *buf = xmalloc((size_t)m->size + 1);
  memcpy(*buf, m->data, (size_t)m->size + 1);
  *len = (size_t)m->size;
  return 0;
}

static bool
exists(struct source *s, const char *name)
{
  if (s->dirfd >= 0) return faccessat(s->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  return find_member(s, name) != NULL;
}

/* A blob of the OCI layout, checked against its digest. */
static int
read_blob(struct source *s, const char *hex, char **buf, size_t *len, struct silo_error *err)
{
  _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", hex);
  if (read_json(s, name, buf, len, err) < 0) return -1;
  struct sha256 sha;
  char got[65];
  sha256_init(&sha);
  sha256_update(&sha, *buf, *len);
  sha256_hex(&sha, got);
  if (strcmp(got, hex) != 0) {
    free(*buf);
    *buf = NULL;
    return silo_err(err, EIO, "blob %.12s...: the content does not match its digest", hex);
  }
  return 0;
}

static bool
platform_ok(const struct image_desc *d)
{
  return (!d->os || strcmp(d->os, "linux") == 0) &&
         (!d->arch || strcmp(d->arch, image_host_arch()) == 0);
}

/* index.json (and nested indexes) -> the manifest for this host. */
static int
pick_manifest(struct source *s, const char *buf, size_t len, int depth, struct image_manifest *out,
              struct silo_error *err)
{
  struct image_desc *d = NULL;
  size_t n = 0;
  if (image_index_parse(buf, len, &d, &n, err) < 0) return -1; /* IMAGE_INDEX_MAX entries */
  int ret = 1;                                                 /* 1: nothing for this host */
  char others[256] = "";
  for (size_t i = 0; i < n && ret == 1; i++) {
    if (!platform_ok(&d[i])) {
      /* "unknown/unknown": Docker's attestations, not images. */
      if (d[i].arch && strcmp(d[i].arch, "unknown") != 0 && strlen(others) < 200)
        snprintf(others + strlen(others), sizeof others - strlen(others), "%s%s/%s",
                 others[0] ? ", " : "", d[i].os ? d[i].os : "?", d[i].arch);
      continue;
    }
    _cleanup_free_ char *mbuf = NULL;
    size_t mlen;
    /* Each nested index may list the next many times: without a total, a few
     * blobs of a small image are read 1024^4 times. */
    if (++s->reads > IMAGE_INDEX_READS) {
      ret = silo_err(err, E2BIG, "more than %d indexes and manifests to read to find the image",
                     IMAGE_INDEX_READS);
      break;
    }
    if (read_blob(s, d[i].hex, &mbuf, &mlen, err) < 0) {
      ret = -1;
      break;
    }
    if (image_is_index_type(d[i].media_type)) {
      if (depth >= IMAGE_INDEX_DEPTH) {
        ret = silo_err(err, ELOOP, "indexes nested too deep");
        break;
      }
      ret = pick_manifest(s, mbuf, mlen, depth + 1, out, err);
      continue;
    }
    ret = image_manifest_parse(mbuf, mlen, out, err) < 0 ? -1 : 0;
  }
  if (ret == 1 && depth == 0)
    ret = silo_err(err, ENOEXEC, "no image for linux/%s in it%s%s%s", image_host_arch(),
                   others[0] ? " (it has " : "", others, others[0] ? ")" : "");
  image_descs_free(d, n);
  return ret;
}

static int
check_platform(const struct image_config *c, struct silo_error *err)
{
  if (c->os && strcmp(c->os, "linux") != 0)
    return silo_err(err, ENOEXEC, "the image is for %s, not linux", c->os);
  if (c->architecture && strcmp(c->architecture, image_host_arch()) != 0)
    return silo_err(err, ENOEXEC, "the image is for %s/%s, this host is linux/%s",
                    c->os ? c->os : "linux", c->architecture, image_host_arch());
  return 0;
}

static bool
is_layer_type(const char *t)
{
  return !t || strstr(t, ".tar") || strstr(t, "rootfs.diff") || strstr(t, "layer.v1");
}

static void
add_want(struct want **w, size_t *n, const char *name, const char *hex, int64_t size)
{
  *w = xrealloc(*w, (*n + 1) * sizeof **w);
  struct want *x = &(*w)[(*n)++];
  memset(x, 0, sizeof *x);
  x->name = xstrdup(name);
  memcpy(x->hex, hex, 65);
  x->size = size;
}

static int
read_oci(struct source *s, struct image *img, struct want **w, size_t *nw, struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  struct image_manifest m;
  if (read_json(s, "index.json", &buf, &len, err) < 0) return -1;
  if (pick_manifest(s, buf, len, 0, &m, err) < 0) return -1;
  _cleanup_free_ char *cbuf = NULL;
  int ret = -1;
  if (read_blob(s, m.config.hex, &cbuf, &len, err) < 0 ||
      image_config_parse(cbuf, len, &img->config, err) < 0)
    goto out;
  s->config = cbuf, s->config_len = len;
  cbuf = NULL;
  for (size_t i = 0; i < m.n_layers; i++) {
    if (!is_layer_type(m.layers[i].media_type)) {
      silo_err(err, ENOTSUP, "layer %zu: unsupported media type `%s`", i, m.layers[i].media_type);
      goto out;
    }
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", m.layers[i].hex);
    add_want(w, nw, name, m.layers[i].hex, m.layers[i].size);
  }
  ret = 0;
out:
  image_manifest_free(&m);
  return ret;
}

/* "blobs/sha256/<hex>" or "<hex>.json" / "<hex>/...": the hex a name carries. */
static bool
hex_of_name(const char *name, const char *prefix, char hex[65])
{
  char d[80];
  if (strncmp(name, prefix, strlen(prefix)) != 0) return false;
  snprintf(d, sizeof d, "sha256:%.64s", name + strlen(prefix));
  return image_digest_hex(d, hex);
}

static int
read_docker(struct source *s, struct image *img, struct want **w, size_t *nw,
            struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL, *cbuf = NULL;
  size_t len, clen;
  struct docker_manifest m;
  char hex[65];
  if (read_json(s, "manifest.json", &buf, &len, err) < 0) return -1;
  if (image_docker_manifest_parse(buf, len, &m, err) < 0) return -1;
  int ret = -1;
  if (m.n_images > 1)
    silo_log_warn("image `%s` holds %zu images: using the first", s->path, m.n_images);
  if (read_json(s, m.config, &cbuf, &clen, err) < 0) goto out;
  if (hex_of_name(m.config, "blobs/sha256/", hex) || hex_of_name(m.config, "", hex)) {
    struct sha256 sha;
    char got[65];
    sha256_init(&sha);
    sha256_update(&sha, cbuf, clen);
    sha256_hex(&sha, got);
    if (strcmp(got, hex) != 0) {
      silo_err(err, EIO, "`%s`: the content does not match its digest", m.config);
      goto out;
    }
  }
  if (image_config_parse(cbuf, clen, &img->config, err) < 0) goto out;
  s->config = cbuf, s->config_len = clen;
  cbuf = NULL;
  if (img->config.n_diff_ids != m.n_layers) {
    silo_err(err, EINVAL, "%zu layers but %zu rootfs.diff_ids in the config", m.n_layers,
             img->config.n_diff_ids);
    goto out;
  }
  for (size_t i = 0; i < m.n_layers; i++) {
    /* A blob name is its (maybe compressed) digest; a legacy <id>/layer.tar is an
     * uncompressed tar whose digest is the diff_id. */
    if (!hex_of_name(m.layers[i], "blobs/sha256/", hex) &&
        !image_digest_hex(img->config.diff_ids[i], hex)) {
      silo_err(err, EINVAL, "rootfs.diff_ids[%zu]: not a sha256 digest", i);
      goto out;
    }
    add_want(w, nw, m.layers[i], hex, -1);
  }
  ret = 0;
out:
  image_docker_manifest_free(&m);
  return ret;
}

/* ---- unpacking into the cache ---- */

struct fd_source {
  int fd;
};
static ssize_t
fd_fill(void *ctx, void *buf, size_t cap, struct silo_error *err)
{
  struct fd_source *f = ctx;
  ssize_t n;
  while ((n = read(f->fd, buf, cap)) < 0 && errno == EINTR) {
  }
  if (n < 0) silo_err(err, errno, "read");
  return n;
}

struct mem_source {
  const char *p;
  size_t left;
};
static ssize_t
mem_fill(void *ctx, void *buf, size_t cap, struct silo_error *err)
{
  struct mem_source *m = ctx;
  (void)err;
  size_t n = m->left < cap ? m->left : cap;
  memcpy(buf, m->p, n);
  m->p += n, m->left -= n;
  return (ssize_t)n;
}

struct entry_source {
  const struct libarchive *la;
  struct archive *a;
};
static ssize_t
entry_fill(void *ctx, void *buf, size_t cap, struct silo_error *err)
{
  struct entry_source *e = ctx;
  la_ssize_t n = e->la->read_data(e->a, buf, cap);
  if (n < 0) silo_err(err, EIO, "%s", e->la->error_string(e->a));
  return n;
}

/* Unpacks one layer into tmp-<pid>-<hex>, then renames it to <hex>. */
static int
unpack_one(const struct source *s, int cachefd, struct want *w, struct layer_source *src,
           struct silo_error *err)
{
  char tmp[128];
  snprintf(tmp, sizeof tmp, "tmp-%d-%s", (int)getpid(), w->hex);
  fs_rm_rf_at(cachefd, tmp, NULL);
  if (mkdirat(cachefd, tmp, 0755) < 0) return silo_err(err, errno, "create `%s`", tmp);
  int64_t t0 = time_mono_ms();
  char label[80];
  snprintf(label, sizeof label, "%.12s", w->hex);
  int r;
  {
    _cleanup_close_ int dfd = openat(cachefd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    r = dfd < 0 ? silo_err(err, errno, "open `%s`", tmp)
                : image_layer_unpack(src, dfd, w->hex, w->size, label, s->opts, err);
  }
  if (r == 0 && renameat(cachefd, tmp, cachefd, w->hex) < 0) {
    /* Another sandbox unpacked the same layer meanwhile: keep theirs. */
    if (errno != EEXIST && errno != ENOTEMPTY) r = silo_err(err, errno, "rename `%s`", tmp);
  }
  fs_rm_rf_at(cachefd, tmp, NULL);
  if (r < 0) return -1;
  w->done = true;
  silo_log_debug("layer %s: unpacked in %lld ms", label, (long long)(time_mono_ms() - t0));
  return 0;
}

/* Pass 2: streams the big missing layers out of the archive, in archive order. */
static int
unpack_from_archive(struct source *s, int cachefd, struct want *w, size_t nw,
                    struct silo_error *err)
{
  const struct libarchive *la = s->la;
  _cleanup_close_ int fd = -1;
  struct archive *a = open_archive(s, &fd, err);
  if (!a) return -1;
  int ret = -1, r;
  struct archive_entry *e;
  char name[PATH_MAX];
  while ((r = next_member(la, a, &e, name, sizeof name, err)) > 0) {
    for (size_t i = 0; i < nw; i++) {
      if (w[i].done || strcmp(w[i].member->name, name) != 0) continue;
      struct entry_source es = {.la = la, .a = a};
      struct layer_source src = {.ctx = &es, .fill = entry_fill};
      if (unpack_one(s, cachefd, &w[i], &src, err) < 0) goto out;
      /* The same blob listed twice: one directory serves both. */
      for (size_t k = i + 1; k < nw; k++)
        if (strcmp(w[k].hex, w[i].hex) == 0) w[k].done = true;
      break;
    }
  }
  ret = r < 0 ? -1 : 0;
out:
  la->read_free(a);
  return ret;
}

static int
unpack_missing(struct source *s, int cachefd, struct want *w, size_t nw, struct silo_error *err)
{
  bool pass2 = false;
  for (size_t i = 0; i < nw; i++) {
    if (faccessat(cachefd, w[i].hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
      silo_log_debug("layer %.12s: cached", w[i].hex);
      w[i].done = true;
      continue;
    }
    if (s->dirfd >= 0) {
      _cleanup_close_ int fd = fs_open_regular_in_root(s->dirfd, w[i].name, SIZE_MAX, err);
      if (fd < 0) return silo_err_wrap(err, "layer %zu", i);
      struct fd_source fs = {.fd = fd};
      struct layer_source src = {.ctx = &fs, .fill = fd_fill};
      if (unpack_one(s, cachefd, &w[i], &src, err) < 0) return -1;
      continue;
    }
    w[i].member = find_member(s, w[i].name);
    if (!w[i].member)
      return silo_err(err, ENOENT, "layer %zu: `%s` is not in the archive", i, w[i].name);
    if (w[i].member->data) {
      struct mem_source ms = {.p = w[i].member->data, .left = (size_t)w[i].member->size};
      struct layer_source src = {.ctx = &ms, .fill = mem_fill};
      if (unpack_one(s, cachefd, &w[i], &src, err) < 0) return -1;
      continue;
    }
    pass2 = true;
  }
  if (pass2 && unpack_from_archive(s, cachefd, w, nw, err) < 0) return -1;
  for (size_t i = 0; i < nw; i++)
    if (!w[i].done && faccessat(cachefd, w[i].hex, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
      return silo_err(err, ENOENT, "layer %zu: `%s` could not be read", i, w[i].name);
  return 0;
}

/* The image from its index record (cache.c): 1 when the record is there, its config
 * parses and fits this host, and every layer it names is in the cache; 0 otherwise
 * (img left empty: the archive is read). */
static int
from_record(const char *index_dir, const struct stat *st, int cachefd, const char *cache_dir,
            struct image *img)
{
  _cleanup_free_ char *config = NULL;
  char **hexes = NULL;
  size_t clen = 0, n = 0;
  if (!index_dir || !image_cache_load(index_dir, st, &config, &clen, &hexes, &n)) return 0;
  struct silo_error e = {0};
  int ok = image_config_parse(config, clen, &img->config, &e) == 0 &&
           check_platform(&img->config, &e) == 0;
  for (size_t i = 0; ok && i < n; i++)
    if (faccessat(cachefd, hexes[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
      silo_err(&e, errno, "layer %.12s: not in the cache", hexes[i]);
      ok = 0;
    }
  if (ok) {
    img->layers = xcalloc(n + 1, sizeof *img->layers);
    for (size_t i = 0; i < n; i++) {
      silo_log_debug("layer %.12s: cached", hexes[i]);
      img->layers[i] = xasprintf("%s/%s", cache_dir, hexes[i]);
    }
    img->n_layers = n;
    silo_log_debug("image: its index record is used (the archive is not read)");
  } else {
    silo_log_debug("image: index record not used: %s", e.msg);
    image_free(img);
  }
  image_cache_strv_free(hexes, n);
  return ok;
}

int
image_prepare(const char *path, const char *cache_dir, const char *index_dir,
              const struct image_unpack_opts *opts, struct image *img, struct silo_error *err)
{
  memset(img, 0, sizeof *img);
  struct source s = {.path = path, .opts = opts, .dirfd = -1};
  struct want *w = NULL;
  size_t nw = 0;
  int ret = -1;
  struct stat st;
  _cleanup_close_ int cachefd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cachefd < 0) {
    silo_err(err, errno, "layer cache `%s`", cache_dir);
    goto out;
  }
  if (stat(path, &st) < 0) {
    silo_err(err, errno, "open");
    goto out;
  }
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
    /* A FIFO would block the open for good (and --timeout with it). */
    silo_err(err, 0, "not a regular file or a directory");
    goto out;
  }
  /* A directory image is always read: a file in it can change without the directory
   * itself changing. */
  if (S_ISREG(st.st_mode) && from_record(index_dir, &st, cachefd, cache_dir, img)) {
    ret = 0;
    goto out;
  }
  if (S_ISDIR(st.st_mode)) {
    s.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s.dirfd < 0) {
      silo_err(err, errno, "open");
      goto out;
    }
  } else {
    if (!(s.la = libarchive_get(err)) || scan(&s, err) < 0) goto out;
  }
  if (exists(&s, "index.json")) {
    if (read_oci(&s, img, &w, &nw, err) < 0) goto out;
  } else if (exists(&s, "manifest.json")) {
    if (read_docker(&s, img, &w, &nw, err) < 0) goto out;
  } else {
    silo_err(err, EINVAL,
             "not an image: neither index.json (OCI layout) nor manifest.json "
             "(docker save) in it");
    goto out;
  }
  if (check_platform(&img->config, err) < 0) goto out;
  if (s.dirfd >= 0 && !(s.la = libarchive_get(err))) goto out;
  if (unpack_missing(&s, cachefd, w, nw, err) < 0) goto out;
  img->layers = xcalloc(nw + 1, sizeof *img->layers);
  for (size_t i = 0; i < nw; i++) img->layers[i] = xasprintf("%s/%s", cache_dir, w[i].hex);
  img->n_layers = nw;
  /* Recorded under the identity of the file that was read: the path may have been
   * given another file since the stat above. */
  struct image_cache_id before, read;
  image_cache_id_of(&st, &before);
  image_cache_id_of(&s.opened, &read);
  if (S_ISREG(st.st_mode) && index_dir && s.config && s.opened.st_nlink &&
      memcmp(&before, &read, sizeof before) == 0) {
    char **hexes = xcalloc(nw + 1, sizeof *hexes);
    for (size_t i = 0; i < nw; i++) hexes[i] = w[i].hex;
    image_cache_save(index_dir, &st, s.config, s.config_len, hexes, nw);
    free(hexes);
  }
  ret = 0;
out:
  for (size_t i = 0; i < nw; i++) free(w[i].name);
  free(w);
  source_free(&s);
  if (ret < 0) {
    image_free(img);
    return silo_err_wrap(err, "image `%s`", path);
  }
  return 0;
}

void
image_free(struct image *img)
{
  image_config_free(&img->config);
  for (size_t i = 0; i < img->n_layers; i++) free(img->layers[i]);
  free(img->layers);
  memset(img, 0, sizeof *img);
}
