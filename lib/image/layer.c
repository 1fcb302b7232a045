/* silo lib/: unpacking one layer tar into a directory that overlayfs can use as a
 * lower layer.
 *
 * Runs as root (of a user namespace, for a rootless sandbox) on untrusted input, so
 * every member is checked before libarchive writes it:
 *  - names are made relative and cleaned; a ".." component is refused (not skipped:
 *    such an archive is malicious or broken), and so is a hard link whose target
 *    does;
 *  - libarchive's ARCHIVE_EXTRACT_SECURE_SYMLINKS / _NODOTDOT / _NOABSOLUTEPATHS
 *    refuse to write through a symlink the layer planted; a hard link's target is
 *    resolved by us with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS on top of that;
 *  - whiteouts are made by us, relative to the layer directory with openat2
 *    RESOLVE_IN_ROOT, so they cannot land outside it either;
 *  - xattrs in the trusted.* namespace, and user.overlay.*, are dropped: they would
 *    steer overlayfs (redirects, metacopy, opaque dirs) behind the image's back
 *    (trusted.* as root, user.overlay.* in a user namespace's userxattr mode);
 *  - owners are the numeric ids of the tar (no name lookup on the host), modes and
 *    setuid bits kept, file flags (chattr) not applied: the cache must stay removable.
 *    In a user namespace that maps fewer ids (opts->id_count), an owner it cannot
 *    represent becomes 0 (the user who runs silo) and the file loses its setuid /
 *    setgid bit, so no file becomes set-id to an owner the image did not name;
 *    device nodes are left out there (mknod is not allowed in a user namespace).
 * The bytes go through a SHA-256 on their way in, and the layer only counts once the
 * whole blob (up to its last byte, after the tar's end) matched its digest: the
 * caller unpacks into a temporary directory and renames it into the cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "lib/base/base.h"
#include "lib/image/image.h"
#include "lib/silo.h"

#define READ_BUF (128 * 1024)

struct hashing_reader {
  struct layer_source *src;
  struct sha256 sha;
  int64_t total;
  bool eof, failed;
  struct silo_error err;
  char buf[READ_BUF];
};

static la_ssize_t
read_cb(struct archive *a, void *ctx, const void **out)
{
  struct hashing_reader *r = ctx;
  (void)a;
  if (r->eof) return 0;
  ssize_t n = r->src->fill(r->src->ctx, r->buf, sizeof r->buf, &r->err);
  if (n < 0) {
    r->failed = true;
    return ARCHIVE_FATAL;
  }
  if (n == 0) r->eof = true;
  sha256_update(&r->sha, r->buf, (size_t)n);
  r->total += n;
  *out = r->buf;
  return n;
}

/* What libarchive did not read (the end of a compressed stream, tar padding) still
 * belongs to the blob and its digest. */
static int
drain(struct hashing_reader *r, struct silo_error *err)
{
  const void *p;
  while (!r->eof) {
    if (read_cb(NULL, r, &p) < 0) {
      *err = r->err;
      return -1;
    }
  }
  return 0;
}

struct unpack {
  const struct libarchive *la;
  const struct image_unpack_opts *opts;
  struct archive *in, *out;
  int dirfd;
  const char *name;
  size_t remapped, devices; /* members changed / left out for a user namespace */
  bool has_root_time;       /* the "./" member's mtime, applied last */
  struct timespec root_time;
};

/* Unpacking is reproducible: what we create gets the member's mtime, not "now". */
static struct timespec
mtime_of(struct unpack *u, struct archive_entry *e)
{
  return (struct timespec){.tv_sec = u->la->entry_mtime(e), .tv_nsec = u->la->entry_mtime_nsec(e)};
}

static int
la_fail(struct unpack *u, struct archive *a, const char *member, struct silo_error *err)
{
  int e = u->la->errnum(a);
  const char *s = u->la->error_string(a);
  if (member) return silo_err(err, e > 0 ? e : EIO, "`%s`: %s", member, s ? s : "failed");
  return silo_err(err, e > 0 ? e : EIO, "%s", s ? s : "read failed");
}

/* A directory of the layer, created (0755) when missing, resolved inside it. */
static int
layer_dir(int dirfd, const char *path, struct silo_error *err)
{
  if (!*path) return openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int p = fs_mkdir_in_root(dirfd, path, 0755, err);
  if (p < 0) return -1;
  int fd = openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "open `%s`", path);
  return fd;
}

static int
make_whiteout(struct unpack *u, const char *target, struct timespec mtime, struct silo_error *err)
{
  _cleanup_free_ char *dir = xstrdup(target);
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : dir;
  if (slash) *slash = '\0';
  _cleanup_close_ int dfd = layer_dir(u->dirfd, slash ? dir : "", err);
  if (dfd < 0) return -1;
  /* The same layer may have added the name before: the whiteout replaces it. */
  if (fs_rm_rf_at(dfd, base, err) < 0) return silo_err_wrap(err, "whiteout `%s`", target);
  /* A 0/0 character device is overlayfs's whiteout (needs CAP_MKNOD: we are root). */
  if (mknodat(dfd, base, S_IFCHR | 0, makedev(0, 0)) < 0)
    return silo_err(err, errno, "whiteout `%s`", target);
  struct timespec t[2] = {mtime, mtime};
  utimensat(dfd, base, t, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int
make_opaque(struct unpack *u, const char *dir, struct silo_error *err)
{
  _cleanup_close_ int dfd = layer_dir(u->dirfd, dir, err);
  if (dfd < 0) return -1;
  /* trusted.* needs CAP_SYS_ADMIN: we are root.  user.* is for the overlays that a
   * rootless sandbox mounts in its user namespace (userxattr). */
  const char *xattr = u->opts->userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque";
  if (fsetxattr(dfd, xattr, "y", 1, 0) == 0) return 0;
  if (u->opts->userxattr && (errno == ENOTSUP || errno == EOPNOTSUPP))
    return silo_err(err, errno,
                    "opaque directory `%s`: the layer cache's filesystem has no user xattrs "
                    "(tmpfs has them from Linux 6.6: set XDG_CACHE_HOME to a directory on disk)",
                    *dir ? dir : "/");
  return silo_err(err, errno, "opaque directory `%s`", *dir ? dir : "/");
}

/* The target of a hard link must be a file already in the layer, reached without
 * any symlink and without leaving the layer. */
static int
check_hardlink(struct unpack *u, const char *target, struct silo_error *err)
{
  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, u->dirfd, target, &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) return 0; /* old kernel: libarchive's checks only */
  if (fd < 0 && (errno == ELOOP || errno == EXDEV))
    return silo_err(err, 0, "hard link to `%s` goes through a symlink: refused", target);
  if (fd < 0) return silo_err(err, errno, "hard link to `%s`", target);
  close(fd);
  return 0;
}

/* A member below a symlink of the layer ("evil -> /etc", then "evil/passwd") is
 * refused: libarchive would replace the link by a directory, silently changing
 * the image; a layer made from a real directory never has such members. */
static int
check_parents(struct unpack *u, const char *path, struct silo_error *err)
{
  const char *slash = strrchr(path, '/');
  if (!slash) return 0;
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
  struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, u->dirfd, parent, &how, sizeof how);
  if (fd >= 0) return close(fd), 0;
  if (errno == ELOOP || errno == EXDEV)
    return silo_err(err, 0, "`%s`: written through a symlink of the layer: refused", path);
  return 0; /* missing parents are made by libarchive; ENOSYS: its own checks */
}

/* Drops trusted.* and user.overlay.* xattrs (see the top of the file). */
static void
filter_xattrs(struct unpack *u, struct archive_entry *e)
{
  const struct libarchive *la = u->la;
  if (la->entry_xattr_reset(e) == 0) return;
  struct kept {
    char *name;
    void *value;
    size_t size;
  } kept[64];
  size_t n = 0;
  bool dropped = false;
  const char *name;
  const void *value;
  size_t size;
  while (la->entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (strncmp(name, "trusted.", 8) == 0 || strncmp(name, "user.overlay.", 13) == 0 ||
        n == ARRAY_SIZE(kept)) {
      dropped = true;
      continue;
    }
    kept[n].name = xstrdup(name);
    kept[n].value = xmalloc(size ? size : 1);
    memcpy(kept[n].value, value, size);
    kept[n++].size = size;
  }
  if (dropped) {
    la->entry_xattr_clear(e);
    for (size_t i = 0; i < n; i++)
      la->entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
  }
  for (size_t i = 0; i < n; i++) free(kept[i].name), free(kept[i].value);
}

/* opts->cancel raised (the sandbox's --timeout): -1 with ECANCELED. */
static int
check_cancel(const struct unpack *u, struct silo_error *err)
{
  if (u->opts->cancel && *u->opts->cancel) return silo_err(err, ECANCELED, "given up");
  return 0;
}

static int
copy_data(struct unpack *u, const char *member, struct silo_error *err)
{
  const struct libarchive *la = u->la;
  for (;;) {
    if (check_cancel(u, err) < 0) return -1;
    const void *buf;
    size_t size;
    la_int64_t off;
    int r = la->read_data_block(u->in, &buf, &size, &off);
    if (r == ARCHIVE_EOF) return 0;
    if (r < ARCHIVE_WARN) return la_fail(u, u->in, member, err);
    if (la->write_data_block(u->out, buf, size, off) < ARCHIVE_WARN)
      return la_fail(u, u->out, member, err);
  }
}

/* In a user namespace with opts->id_count ids (see the top of the file): false when
 * the member is to be left out. */
static bool
fit_userns(struct unpack *u, struct archive_entry *e)
{
  const struct libarchive *la = u->la;
  uint32_t n = u->opts->id_count;
  if (!n) return true;
  mode_t type = (mode_t)la->entry_filetype(e);
  if (type == AE_IFCHR || type == AE_IFBLK) {
    u->devices++;
    return false;
  }
  __LA_MODE_T mode = la->entry_mode(e);
  bool changed = false;
  if (la->entry_uid(e) < 0 || la->entry_uid(e) >= (la_int64_t)n) {
    la->entry_set_uid(e, 0);
    mode &= ~(__LA_MODE_T)S_ISUID;
    changed = true;
  }
  if (la->entry_gid(e) < 0 || la->entry_gid(e) >= (la_int64_t)n) {
    la->entry_set_gid(e, 0);
    mode &= ~(__LA_MODE_T)S_ISGID;
    changed = true;
  }
  if (changed) {
    la->entry_set_mode(e, mode);
    u->remapped++;
  }
  return true;
}

static int
unpack_entry(struct unpack *u, struct archive_entry *e, struct silo_error *err)
{
  const struct libarchive *la = u->la;
  const char *raw = la->entry_pathname(e);
  char path[PATH_MAX], target[PATH_MAX];
  if (!raw) return silo_err(err, EINVAL, "a member without a name");
  if (image_clean_path(raw, path, sizeof path) < 0)
    return silo_err(err, errno == EINVAL ? 0 : errno, "`%s`: %s", raw,
                    errno == EINVAL ? "the path leaves the root: refused" : "path too long");
  if (!path[0]) { /* "./": the layer directory itself */
    u->has_root_time = true;
    u->root_time = mtime_of(u, e);
    return 0;
  }

  switch (image_whiteout_of(path, target, sizeof target)) {
  case IMAGE_WH_META:
    return 0;
  case IMAGE_WH_FILE:
    return make_whiteout(u, target, mtime_of(u, e), err);
  case IMAGE_WH_OPAQUE:
    return make_opaque(u, target, err);
  case IMAGE_WH_NONE:
    break;
  }

  if (check_parents(u, path, err) < 0) return -1;
  if (!fit_userns(u, e)) return 0;
  const char *link = la->entry_hardlink(e);
  if (link) {
    char clean[PATH_MAX];
    if (image_clean_path(link, clean, sizeof clean) < 0 || !clean[0])
      return silo_err(err, 0, "`%s`: hard link to `%s` leaves the root: refused", raw, link);
    if (check_hardlink(u, clean, err) < 0) return silo_err_wrap(err, "`%s`", raw);
    la->entry_set_hardlink(e, clean);
  }
  la->entry_set_pathname(e, path);
  filter_xattrs(u, e);
  int r = la->write_header(u->out, e);
  if (r < ARCHIVE_WARN) return la_fail(u, u->out, path, err);
  if (r == ARCHIVE_WARN)
    silo_log_debug("layer %s: `%s`: %s", u->name, path, la->error_string(u->out));
  if (la->entry_size(e) > 0 && copy_data(u, path, err) < 0) return -1;
  if (la->write_finish_entry(u->out) < ARCHIVE_WARN) return la_fail(u, u->out, path, err);
  return 0;
}

static int
unpack_all(struct unpack *u, struct hashing_reader *rd, struct silo_error *err)
{
  const struct libarchive *la = u->la;
  if (la->read_open(u->in, rd, NULL, read_cb, NULL) != ARCHIVE_OK) {
    if (rd->failed) return *err = rd->err, -1;
    return la_fail(u, u->in, NULL, err);
  }
  for (;;) {
    if (check_cancel(u, err) < 0) return -1;
    struct archive_entry *e;
    int r = la->read_next_header(u->in, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      if (rd->failed) return *err = rd->err, -1;
      return la_fail(u, u->in, NULL, err);
    }
    if (unpack_entry(u, e, err) < 0) return rd->failed ? (*err = rd->err, -1) : -1;
  }
  return 0;
}

int
image_layer_unpack(struct layer_source *src, int dirfd, const char *hex, int64_t size,
                   const char *name, const struct image_unpack_opts *opts, struct silo_error *err)
{
  static const struct image_unpack_opts as_root = {0};
  const struct libarchive *la = libarchive_get(err);
  if (!la) return -1;
  struct hashing_reader *rd = xcalloc(1, sizeof *rd);
  rd->src = src;
  sha256_init(&rd->sha);
  struct unpack u = {.la = la, .opts = opts ? opts : &as_root, .dirfd = dirfd, .name = name};
  int ret = -1;
  _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0) {
    silo_err(err, errno, "open the working directory");
    goto out;
  }
  if (!(u.in = libarchive_tar_reader(la, err))) goto out;
  if (!(u.out = la->write_disk_new())) {
    silo_err(err, ENOMEM, "archive_write_disk_new");
    goto out;
  }
  la->write_disk_set_options(
      u.out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_UNLINK |
                 ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
  /* archive_write_disk works relative to the working directory (silo is
   * single-threaded here); restored below, also on failure. */
  if (fchdir(dirfd) < 0) {
    silo_err(err, errno, "enter the layer directory");
    goto out;
  }
  int r = unpack_all(&u, rd, err);
  if (u.remapped)
    silo_log_debug("layer %s: %zu member(s) owned by ids outside the user namespace's 0-%u: "
                   "owned by 0 instead, without setuid/setgid",
                   name, u.remapped, u.opts->id_count - 1);
  if (u.devices)
    silo_log_warn("layer %s: %zu device node(s) left out (they cannot be made in a rootless "
                  "sandbox)",
                  name, u.devices);
  /* Closing applies the deferred directory modes and times: still in the layer. */
  if (la->write_free(u.out) != ARCHIVE_OK && r == 0) r = silo_err(err, EIO, "finish writing");
  u.out = NULL;
  if (r == 0 && u.has_root_time) {
    struct timespec t[2] = {u.root_time, u.root_time};
    futimens(dirfd, t);
  }
  if (fchdir(cwd) < 0 && r == 0) r = silo_err(err, errno, "leave the layer directory");
  char got[65];
  if (r < 0) {
    /* Garbage in a corrupt blob often looks like a bad tar: when the digest does not
     * match either, that is the cause worth reporting. */
    struct silo_error derr = {0};
    if (!rd->failed && drain(rd, &derr) == 0) {
      sha256_hex(&rd->sha, got);
      if (strcmp(got, hex) != 0) {
        char why[256];
        snprintf(why, sizeof why, "%.200s", err->msg);
        silo_err(err, 0, "sha256 %.12s... where the image says %.12s...: the image is corrupt (%s)",
                 got, hex, why);
      }
    }
    goto out;
  }
  if (drain(rd, err) < 0) goto out;
  sha256_hex(&rd->sha, got);
  if (size >= 0 && rd->total != size) {
    silo_err(err, 0, "%lld bytes where the image says %lld: the image is truncated or corrupt",
             (long long)rd->total, (long long)size);
    goto out;
  }
  if (strcmp(got, hex) != 0) {
    silo_err(err, 0, "sha256 %.12s... where the image says %.12s...: the image is corrupt", got,
             hex);
    goto out;
  }
  ret = 0;
out:
  if (u.out) la->write_free(u.out);
  if (u.in) la->read_free(u.in);
  if (cwd >= 0) (void)!fchdir(cwd);
  free(rd);
  return ret < 0 ? silo_err_wrap(err, "layer %s", name) : 0;
}
