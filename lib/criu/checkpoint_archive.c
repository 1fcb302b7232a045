/* silo: checkpoint archives (`checkpoint --export FILE`, `restore --import FILE`).
 *
 * One tar (pax), compressed with zstd when libarchive can, made of:
 *
 *   manifest.json   first: format, silo version, arch, id, times, CRIU version,
 *                   whether the rootfs is included
 *   config.json     the container's config at create time
 *   images/...      CRIU's image files and silo-checkpoint.json (no logs)
 *   rootfs/...      the whole rootfs, only when root.readonly is false and the
 *                   rootfs is at most SILO_EXPORT_ROOTFS_MAX bytes (default 256 MiB);
 *                   a read-only root is the image's and is not copied
 *   checksums.json  last: FNV-1a 64 of every regular file, to catch corruption
 *                   (not tampering: an archive is as trusted as its source)
 *
 * Import refuses archives from another architecture or format, unknown entry
 * names, anything that would land outside the target (absolute names, "..",
 * hard links out of rootfs/, writes through symlinks: libarchive's SECURE_*
 * flags on top of silo's own name check), and any checksum mismatch.
 *
 * libarchive is dlopen'ed on first use (lib/base/archive.c), as libcriu is in criu.c.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/silo.h"

/* libarchive, through the loader images use too (lib/base/archive.c). */
static const struct libarchive *la;
#define A(f) la->f

static int
archive_lib_load(struct silo_error *err)
{
  if (!la && !(la = libarchive_get(err))) return silo_err_wrap(err, "checkpoint archive");
  return 0;
}

/* ---- checksums ---- */

#define FNV_INIT 0xcbf29ce484222325ULL
static uint64_t
fnv1a(uint64_t h, const void *data, size_t n)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

static void
sums_add(json_t *sums, const char *name, uint64_t h)
{
  char hex[17];
  snprintf(hex, sizeof hex, "%016" PRIx64, h);
  json_object_set_new(sums, name, json_string(hex));
}

/* ---- export ---- */

struct writer {
  struct archive *a;
  struct archive_entry *e;
  json_t *sums;
  const char *file;
};

static int
ar_fail(struct archive *a, const char *what, const char *name, struct silo_error *err)
{
  const char *msg = a ? A(error_string)(a) : NULL;
  return silo_err(err, EIO, "%s `%s`: %s", what, name, msg ? msg : "libarchive error");
}

static int
add_buffer(struct writer *w, const char *name, const void *data, size_t len, struct silo_error *err)
{
  A(entry_clear)(w->e);
  A(entry_set_pathname)(w->e, name);
  A(entry_set_filetype)(w->e, AE_IFREG);
  A(entry_set_perm)(w->e, 0600);
  A(entry_set_size)(w->e, (la_int64_t)len);
  A(entry_set_mtime)(w->e, time(NULL), 0);
  if (A(write_header)(w->a, w->e) != ARCHIVE_OK ||
      (len && A(write_data)(w->a, data, len) != (la_ssize_t)len))
    return ar_fail(w->a, "write", w->file, err);
  if (w->sums) sums_add(w->sums, name, fnv1a(FNV_INIT, data, len));
  return 0;
}

static int
add_images(struct writer *w, int images_fd, struct silo_error *err)
{
  if (faccessat(images_fd, "parent", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return silo_err(err, ENOTSUP,
                    "--export of a dump with --parent-path: the parent's pages would be missing");
  DIR *d = fdopendir(dup(images_fd));
  if (!d) return silo_err(err, errno, "read the image directory");
  struct dirent *de;
  int ret = 0;
  while (ret == 0 && (de = readdir(d))) {
    size_t n = strlen(de->d_name);
    if (de->d_name[0] == '.' || (n > 4 && strcmp(de->d_name + n - 4, ".log") == 0)) continue;
    struct stat st;
    if (fstatat(images_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
      continue;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    _cleanup_free_ char *name = xasprintf("images/%s", de->d_name);
    if (fs_read_file_at(images_fd, de->d_name, &buf, &len, err) < 0 ||
        add_buffer(w, name, buf, len, err) < 0)
      ret = -1;
  }
  closedir(d);
  return ret;
}

static off_t tree_bytes;
static int
tree_sum(const char *p, const struct stat *st, int flag, struct FTW *f)
{
  (void)p, (void)f;
  if (flag == FTW_F && S_ISREG(st->st_mode)) tree_bytes += st->st_size;
  return 0;
}

static int
add_rootfs(struct writer *w, const char *rootfs, struct silo_error *err)
{
  struct archive *d = A(read_disk_new)();
  if (!d) return silo_err(err, ENOMEM, "libarchive");
  A(read_disk_set_standard_lookup)(d);
  A(read_disk_set_behavior)(d, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
  int ret = -1;
  size_t prefix = strlen(rootfs);
  if (A(read_disk_open)(d, rootfs) != ARCHIVE_OK) {
    ar_fail(d, "read", rootfs, err);
    goto out;
  }
  for (;;) {
    A(entry_clear)(w->e);
    int r = A(read_next_header2)(d, w->e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      ar_fail(d, "read", rootfs, err);
      goto out;
    }
    A(read_disk_descend)(d);
    const char *p = A(entry_pathname)(w->e);
    _cleanup_free_ char *name = xasprintf("rootfs%s", p + prefix);
    A(entry_copy_pathname)(w->e, name);
    if (A(write_header)(w->a, w->e) < ARCHIVE_WARN) {
      ar_fail(w->a, "write", w->file, err);
      goto out;
    }
    if (A(entry_filetype)(w->e) != AE_IFREG) continue;
    uint64_t h = FNV_INIT;
    const void *buf;
    size_t len;
    la_int64_t off;
    while ((r = A(read_data_block)(d, &buf, &len, &off)) == ARCHIVE_OK) {
      if (A(write_data)(w->a, buf, len) != (la_ssize_t)len) {
        ar_fail(w->a, "write", w->file, err);
        goto out;
      }
      h = fnv1a(h, buf, len);
    }
    if (r != ARCHIVE_EOF) {
      ar_fail(d, "read", name, err);
      goto out;
    }
    sums_add(w->sums, name, h);
  }
  ret = 0;
out:
  A(read_close)(d);
  A(read_free)(d);
  return ret;
}

int
ckpt_archive_export(const char *file, int images_fd, const struct ckpt_archive_info *info,
                    struct silo_error *err)
{
  if (archive_lib_load(err) < 0) return -1;
  const char *rootfs = info->rootfs;
  off_t max = 256 << 20;
  const char *env = getenv("SILO_EXPORT_ROOTFS_MAX");
  if (env && *env) max = (off_t)strtoll(env, NULL, 10);
  if (rootfs) {
    tree_bytes = 0;
    nftw(rootfs, tree_sum, 32, FTW_PHYS | FTW_MOUNT);
    if (tree_bytes > max) {
      silo_log_warn("export: the writable rootfs holds %lld bytes (> %lld, "
                    "SILO_EXPORT_ROOTFS_MAX): not included; restore needs the bundle's rootfs",
                    (long long)tree_bytes, (long long)max);
      rootfs = NULL;
    }
  }
  _cleanup_free_ char *cfg = NULL;
  size_t cfg_len;
  if (fs_read_file_at(images_fd, "config.json", &cfg, &cfg_len, err) < 0) return -1;

  struct utsname u;
  uname(&u);
  char now[64];
  time_rfc3339(now, sizeof now);
  json_t *m =
      json_pack("{s:i, s:s, s:s, s:s, s:s, s:s*, s:s, s:b}", "format", 1, "silo", SILO_VERSION,
                "arch", u.machine, "id", info->id, "created", now, "container_created",
                info->created, "criu_version", info->criu_version, "rootfs", rootfs != NULL);
  _cleanup_free_ char *manifest = m ? json_dumps(m, JSON_INDENT(2)) : NULL;
  if (m) json_decref(m);
  if (!manifest) return silo_err(err, ENOMEM, "manifest");

  /* FILE's directory may be anyone's: the archive is written to a new file under
   * a random name next to it (O_EXCL|O_NOFOLLOW: a symlink or FIFO planted there is
   * never followed nor waited on), 0600 (it holds the container's memory), then
   * renamed over FILE. */
  char tmp[PATH_MAX];
  _cleanup_close_ int tmp_fd = fs_create_tmp_file(AT_FDCWD, file, tmp, sizeof tmp, err);
  if (tmp_fd < 0) return silo_err_wrap(err, "export `%s`", file);
  _cleanup_free_ char *sums = NULL;
  struct writer w = {.a = A(write_new)(), .e = A(entry_new)(), .file = file};
  w.sums = json_object();
  int ret = -1;
  if (!w.a || !w.e) {
    silo_err(err, ENOMEM, "libarchive");
    goto out;
  }
  if (A(write_add_filter_zstd)(w.a) != ARCHIVE_OK && A(write_add_filter_gzip)(w.a) != ARCHIVE_OK)
    silo_log_debug("export: no zstd or gzip in libarchive: uncompressed");
  A(write_set_format_pax_restricted)(w.a);
  if (A(write_open_fd)(w.a, tmp_fd) != ARCHIVE_OK) {
    ar_fail(w.a, "create", tmp, err);
    goto out;
  }
  if (add_buffer(&w, "manifest.json", manifest, strlen(manifest), err) < 0 ||
      add_buffer(&w, "config.json", cfg, cfg_len, err) < 0 || add_images(&w, images_fd, err) < 0 ||
      (rootfs && add_rootfs(&w, rootfs, err) < 0))
    goto out;
  sums = json_dumps(w.sums, JSON_INDENT(1) | JSON_SORT_KEYS);
  json_t *keep = w.sums;
  w.sums = NULL; /* checksums.json does not list itself */
  json_decref(keep);
  if (add_buffer(&w, "checksums.json", sums, strlen(sums), err) < 0) goto out;
  if (A(write_close)(w.a) != ARCHIVE_OK) {
    ar_fail(w.a, "write", tmp, err);
    goto out;
  }
  if (rename(tmp, file) < 0) {
    silo_err(err, errno, "rename `%s` to `%s`", tmp, file);
    goto out;
  }
  silo_log_debug("export: wrote %s%s", file, rootfs ? " (with the rootfs)" : "");
  ret = 0;
out:
  if (ret < 0) unlink(tmp);
  if (w.sums) json_decref(w.sums);
  if (w.e) A(entry_free)(w.e);
  if (w.a) A(write_free)(w.a);
  return ret < 0 ? silo_err_wrap(err, "export `%s`", file) : 0;
}

/* ---- import ---- */

/* rootfs/<normal components>: no "", ".", "..". */
static bool
clean_relative(const char *p)
{
  if (!*p || *p == '/') return false;
  for (const char *c = p; c && *c;) {
    const char *slash = strchr(c, '/');
    size_t n = slash ? (size_t)(slash - c) : strlen(c);
    if (n == 0 && slash) return false;
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return false;
    c = slash ? slash + 1 : NULL;
  }
  return true;
}

enum entry_kind { E_BAD, E_MANIFEST, E_CONFIG, E_SUMS, E_IMAGE, E_ROOTFS };

static enum entry_kind
classify(const char *name, mode_t type)
{
  if (!clean_relative(name)) return E_BAD;
  bool reg = type == AE_IFREG;
  if (strcmp(name, "manifest.json") == 0) return reg ? E_MANIFEST : E_BAD;
  if (strcmp(name, "config.json") == 0) return reg ? E_CONFIG : E_BAD;
  if (strcmp(name, "checksums.json") == 0) return reg ? E_SUMS : E_BAD;
  if (strncmp(name, "images/", 7) == 0)
    return reg && name[7] && !strchr(name + 7, '/') ? E_IMAGE : E_BAD;
  if (strcmp(name, "rootfs") == 0 || strncmp(name, "rootfs/", 7) == 0) return E_ROOTFS;
  return E_BAD;
}

static int
check_manifest(const char *buf, size_t len, struct silo_error *err)
{
  json_error_t je;
  json_t *m = json_loadb(buf, len, 0, &je);
  if (!m) return silo_err(err, EINVAL, "manifest.json: %s", je.text);
  int format = 0;
  const char *arch = NULL, *id = NULL;
  int r = json_unpack(m, "{s:i, s:s, s:s}", "format", &format, "arch", &arch, "id", &id);
  struct utsname u;
  uname(&u);
  if (r < 0)
    r = silo_err(err, EINVAL, "manifest.json: lacks format, arch or id");
  else if (format != 1)
    r = silo_err(err, ENOTSUP, "archive format %d: this silo reads format 1", format);
  else if (strcmp(arch, u.machine) != 0)
    r = silo_err(err, ENOEXEC, "the checkpoint was taken on %s: this host is %s", arch, u.machine);
  else
    silo_log_debug("import: checkpoint of `%s` (%s)", id, arch);
  json_decref(m);
  return r;
}

/* Writes the current entry's data to disk, hashing it. */
static int
copy_data(struct archive *in, struct archive *out, uint64_t *h, const char *name,
          struct silo_error *err)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;
  *h = FNV_INIT;
  while ((r = A(read_data_block)(in, &buf, &len, &off)) == ARCHIVE_OK) {
    *h = fnv1a(*h, buf, len);
    if (A(write_data_block)(out, buf, len, off) < ARCHIVE_OK)
      return ar_fail(out, "extract", name, err);
  }
  if (r != ARCHIVE_EOF) return ar_fail(in, "read", name, err);
  return 0;
}

static int
import(struct archive *in, struct archive *out, const char *file, struct silo_error *err)
{
  json_t *seen = json_object();
  _cleanup_free_ char *sums_buf = NULL;
  size_t n_sums = 0;
  bool first = true;
  int ret = -1;
  for (;;) {
    struct archive_entry *e;
    int r = A(read_next_header)(in, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) {
      ar_fail(in, "read", file, err);
      goto out;
    }
    const char *name = A(entry_pathname)(e);
    mode_t type = A(entry_filetype)(e);
    enum entry_kind k = name ? classify(name, type) : E_BAD;
    const char *link = A(entry_hardlink)(e);
    if (k == E_BAD || (link && (!clean_relative(link) || strncmp(link, "rootfs/", 7) != 0))) {
      silo_err(err, EINVAL, "entry `%s`: not a name a checkpoint archive holds (refused)",
               name ? name : "?");
      goto out;
    }
    if (first != (k == E_MANIFEST)) {
      silo_err(err, EINVAL, "not a silo checkpoint archive (manifest.json must come first)");
      goto out;
    }
    if (sums_buf) {
      silo_err(err, EINVAL, "entry `%s` after checksums.json", name);
      goto out;
    }
    if (k == E_MANIFEST || k == E_SUMS) {
      /* Read into memory (small): the manifest is checked before anything is written. */
      char *buf = NULL;
      size_t len = 0;
      const void *blk;
      size_t bl;
      la_int64_t off;
      while ((r = A(read_data_block)(in, &blk, &bl, &off)) == ARCHIVE_OK && len + bl < (1 << 24)) {
        buf = xrealloc(buf, len + bl + 1);
        memcpy(buf + len, blk, bl);
        len += bl;
      }
      if (buf) buf[len] = '\0';
      if (r != ARCHIVE_EOF) {
        free(buf);
        ar_fail(in, "read", name, err);
        goto out;
      }
      if (k == E_MANIFEST) {
        sums_add(seen, name, fnv1a(FNV_INIT, buf ? buf : "", len));
        r = check_manifest(buf ? buf : "", len, err);
        free(buf);
        if (r < 0) goto out;
        first = false;
        continue;
      }
      sums_buf = buf ? buf : xstrdup("");
      n_sums = len;
      continue;
    }
    if (A(write_header)(out, e) < ARCHIVE_WARN) {
      ar_fail(out, "extract", name, err);
      goto out;
    }
    if (type == AE_IFREG && !link) {
      uint64_t h;
      if (copy_data(in, out, &h, name, err) < 0) goto out;
      sums_add(seen, name, h);
    }
    if (A(write_finish_entry)(out) < ARCHIVE_WARN) {
      ar_fail(out, "extract", name, err);
      goto out;
    }
  }
  if (first || !sums_buf) {
    silo_err(err, EINVAL, "truncated archive (no %s)", first ? "manifest.json" : "checksums.json");
    goto out;
  }
  json_error_t je;
  json_t *want = json_loadb(sums_buf, n_sums, 0, &je);
  if (!want || !json_is_object(want)) {
    silo_err(err, EBADMSG, "corrupt archive: checksums.json: %s", want ? "not an object" : je.text);
    goto out;
  }
  const char *key;
  json_t *v;
  json_object_foreach(want, key, v) if (!json_equal(v, json_object_get(seen, key)))
  {
    silo_err(err, EBADMSG, "corrupt archive: `%s` %s", key,
             json_object_get(seen, key) ? "does not match its checksum" : "is missing");
    json_decref(want);
    goto out;
  }
  json_object_foreach(seen, key, v) if (!json_object_get(want, key))
  {
    silo_err(err, EBADMSG, "corrupt archive: `%s` has no checksum", key);
    json_decref(want);
    goto out;
  }
  json_decref(want);
  ret = 0;
out:
  json_decref(seen);
  return ret;
}

int
ckpt_archive_import(const char *file, const char *dir, struct silo_error *err)
{
  if (archive_lib_load(err) < 0) return -1;
  struct archive *in = A(read_new)();
  struct archive *out = A(write_disk_new)();
  _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int ret = -1;
  if (!in || !out) {
    silo_err(err, ENOMEM, "libarchive");
    goto out;
  }
  if (dfd < 0 || cwd < 0) {
    silo_err(err, errno, "open `%s`", dir);
    goto out;
  }
  A(read_support_filter_all)(in);
  A(read_support_format_tar)(in);
  A(write_disk_set_options)
  (out, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
            ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_NO_OVERWRITE |
            ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
            ARCHIVE_EXTRACT_XATTR);
  if (A(read_open_filename)(in, file, 1 << 16) != ARCHIVE_OK) {
    silo_err(err, errno ? errno : EIO, "open: %s", A(error_string)(in));
    goto out;
  }
  /* Entry names are relative: extract from inside dir (silo is single-threaded). */
  if (fchdir(dfd) < 0) {
    silo_err(err, errno, "chdir `%s`", dir);
    goto out;
  }
  ret = import(in, out, file, err);
  if (A(write_close)(out) != ARCHIVE_OK && ret == 0) ret = ar_fail(out, "extract", file, err);
  if (fchdir(cwd) < 0 && ret == 0) ret = silo_err(err, errno, "chdir back");
out:
  if (in) A(read_free)(in);
  if (out) A(write_free)(out);
  return ret < 0 ? silo_err_wrap(err, "import `%s`", file) : 0;
}
