/* silo: file helpers, and path resolution that cannot escape a root.
 *
 * Every path inside a container's rootfs is resolved with openat2(RESOLVE_IN_ROOT):
 * a symlink or ".." in the image is resolved as if the rootfs were "/", so a
 * malicious image cannot make silo mount or write on the host (CVE-2021-30465).
 * Kernels without openat2 get a component-by-component walk with the same rules.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "lib/base/base.h"

/* Reads fd to its end (at most max bytes, else EFBIG), NUL-terminated. */
static int
read_fd(int fd, const char *path, size_t max, char **buf, size_t *len, struct silo_error *err)
{
  size_t cap = 4096, n = 0;
  _cleanup_free_ char *b = xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) b = xrealloc(b, cap *= 2);
    ssize_t r = read(fd, b + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return silo_err(err, errno, "read `%s`", path);
    }
    if (r == 0) break;
    n += (size_t)r;
    if (n > max) return silo_err(err, EFBIG, "`%s`: bigger than %zu bytes", path, max);
  }
  b[n] = '\0';
  if (len) *len = n;
  *buf = steal_ptr(&b);
  return 0;
}

int
fs_read_file_at(int dirfd, const char *path, char **buf, size_t *len, struct silo_error *err)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "open `%s`", path);
  return read_fd(fd, path, SIZE_MAX, buf, len, err);
}

int
fs_read_file(const char *path, char **buf, size_t *len, struct silo_error *err)
{
  return fs_read_file_at(AT_FDCWD, path, buf, len, err);
}

int
fs_write_file_at(int dirfd, const char *path, const char *data, size_t len, struct silo_error *err)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "open `%s`", path);
  ssize_t r = write(fd, data, len);
  if (r < 0) return silo_err(err, errno, "write `%s`", path);
  if ((size_t)r != len) return silo_err(err, EIO, "short write to `%s`", path);
  return 0;
}

int
fs_write_file(const char *path, const char *data, size_t len, struct silo_error *err)
{
  return fs_write_file_at(AT_FDCWD, path, data, len, err);
}

uint64_t
fs_random_u64(void)
{
  uint64_t r;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) == sizeof r) return r;
  /* No entropy yet (early boot): unique enough for a name created with O_EXCL. */
  static uint64_t n;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ((uint64_t)getpid() << 40) ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^ ++n;
}

int
fs_create_tmp_file(int dirfd, const char *prefix, char *tmp, size_t len, struct silo_error *err)
{
  /* O_EXCL|O_NOFOLLOW: whatever already has the name (a planted symlink, a FIFO)
   * is EEXIST and another name is tried; nothing is followed, opened or truncated. */
  for (int tries = 0;; tries++) {
    if ((size_t)snprintf(tmp, len, "%s.%016llx.tmp", prefix, (unsigned long long)fs_random_u64()) >=
        len)
      return silo_err(err, ENAMETOOLONG, "create a temporary file for `%s`", prefix);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    if (errno != EEXIST || tries >= 100) return silo_err(err, errno, "create `%s`", tmp);
  }
}

/* The directory may be the user's (--pid-file): the temporary name is random and
 * new (fs_create_tmp_file), and rename() replaces NAME itself, never what a symlink
 * at NAME points to.  durable: the file is synced before the rename and the
 * directory after it, so a crash leaves the old content or the new, never an empty
 * or missing file. */
static int
write_atomic(int dirfd, const char *name, const char *data, size_t len, bool durable,
             struct silo_error *err)
{
  char tmp[NAME_MAX + 1], prefix[NAME_MAX + 1];
  snprintf(prefix, sizeof prefix, ".%s", name);
  _cleanup_close_ int fd = fs_create_tmp_file(dirfd, prefix, tmp, sizeof tmp, err);
  if (fd < 0) return -1;
  ssize_t r = write(fd, data, len);
  if (r < 0 || (size_t)r != len || (durable && fsync(fd) < 0)) {
    int e = r < 0 || (size_t)r == len ? errno : EIO;
    unlinkat(dirfd, tmp, 0);
    return silo_err(err, e, "write `%s`", tmp);
  }
  if (renameat(dirfd, tmp, dirfd, name) < 0) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return silo_err(err, e, "rename `%s`", name);
  }
  return durable ? fs_sync_dir(dirfd, err) : 0;
}

int
fs_write_file_atomic(int dirfd, const char *name, const char *data, size_t len,
                     struct silo_error *err)
{
  return write_atomic(dirfd, name, data, len, false, err);
}

int
fs_write_file_durable(int dirfd, const char *name, const char *data, size_t len,
                      struct silo_error *err)
{
  return write_atomic(dirfd, name, data, len, true, err);
}

int
fs_sync_dir(int dirfd, struct silo_error *err)
{
  /* An O_PATH fd cannot be synced: the directory itself, opened for reading. */
  _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0) return silo_err(err, errno, "sync a directory");
  return 0;
}

/* ---- resolution inside a root ---- */

static int openat2_works = -1; /* unknown, yes, no: probed on first use */

/* Resolves path lexically inside the root: each symlink met is read and its target
 * spliced in (absolute targets restart from the root), ".." never climbs above it.
 * Components that do not exist are kept as they are.  The result (in out, "" for
 * the root itself) has no symlinks at the time of the call. */
static int
canonicalize_in_root(int rootfd, const char *path, char out[PATH_MAX], bool *climbed,
                     struct silo_error *err)
{
  char *cur = out;
  cur[0] = '\0';
  _cleanup_free_ char *todo = xstrdup(path);
  int links = 0;
  for (;;) {
    char *p = todo;
    while (*p == '/') p++;
    if (*p == '\0') break;
    char *slash = strchr(p, '/');
    size_t clen = slash ? (size_t)(slash - p) : strlen(p);
    char comp[NAME_MAX + 1];
    if (clen > NAME_MAX) return silo_err(err, ENAMETOOLONG, "resolve `%s`", path);
    memcpy(comp, p, clen);
    comp[clen] = '\0';
    char *rest = p + clen;
    if (strcmp(comp, "..") == 0) {
      char *last = strrchr(cur, '/');
      if (last)
        *last = '\0';
      else if (climbed)
        *climbed = true; /* ".." at the root: stays there */
    } else if (strcmp(comp, ".") != 0) {
      char cand[PATH_MAX], target[PATH_MAX];
      if ((size_t)snprintf(cand, sizeof cand, "%s/%s", cur, comp) >= sizeof cand)
        return silo_err(err, ENAMETOOLONG, "resolve `%s`", path);
      ssize_t n = readlinkat(rootfd, cand + 1, target, sizeof target - 1);
      if (n >= 0) {
        if (++links > 40) return silo_err(err, ELOOP, "resolve `%s`", path);
        target[n] = '\0';
        if (target[0] == '/') cur[0] = '\0';
        char *nt = xasprintf("%s/%s", target, rest);
        free(todo);
        todo = nt;
        continue;
      }
      memcpy(cur, cand, PATH_MAX);
    }
    memmove(todo, rest, strlen(rest) + 1);
  }
  return 0;
}

/* Walks a canonical path one component at a time with O_NOFOLLOW, so a symlink
 * swapped in after canonicalize_in_root makes it fail (ELOOP) instead of escaping;
 * with `create`, missing directories are made on the way. */
static int
walk_nofollow(int rootfd, const char *canon, const char *path, int flags, mode_t mode, bool create,
              struct silo_error *err)
{
  _cleanup_free_ char *copy = xstrdup(canon);
  _cleanup_close_ int dir = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  if (dir < 0) return silo_err(err, errno, "dup root fd");
  char *save = NULL, *comp = strtok_r(copy, "/", &save);
  if (!comp) { /* the root itself */
    char p[PROC_FD_PATH_MAX];
    int fd = open(fs_proc_fd_path(p, dir), flags | O_CLOEXEC, mode);
    return fd < 0 ? silo_err(err, errno, "open `%s`", path) : fd;
  }
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    int f = next ? O_PATH | O_DIRECTORY : flags;
    int fd = openat(dir, comp, f | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno == ENOENT && create) {
      if (mkdirat(dir, comp, mode ? mode : 0755) < 0 && errno != EEXIST)
        return silo_err(err, errno, "mkdir `%s`", path);
      fd = openat(dir, comp, f | O_NOFOLLOW | O_CLOEXEC, mode);
    }
    if (fd < 0) return silo_err(err, errno, "open `%s`", path);
    close(dir);
    dir = fd;
    comp = next;
  }
  return steal_fd(&dir);
}

/* Fallback for kernels without openat2: canonicalise, then walk without following. */
static int
open_in_root_fallback(int rootfd, const char *path, int flags, mode_t mode, struct silo_error *err)
{
  char canon[PATH_MAX];
  if (canonicalize_in_root(rootfd, path, canon, NULL, err) < 0) return -1;
  return walk_nofollow(rootfd, canon, path, flags, mode, false, err);
}

int
fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct silo_error *err)
{
  if (openat2_works != 0) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    const char *rel = path;
    while (*rel == '/') rel++;
    int fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof how);
    if (fd >= 0) {
      openat2_works = 1;
      return fd;
    }
    if (errno != ENOSYS) {
      openat2_works = 1;
      /* EAGAIN: a rename raced the lookup; retry once the slow, safe way. */
      if (errno != EAGAIN) return silo_err(err, errno, "open `%s`", path);
    } else {
      openat2_works = 0;
    }
  }
  return open_in_root_fallback(rootfd, path, flags, mode, err);
}

int
fs_canonical_in_root(int rootfd, const char *path, char out[PATH_MAX], bool *climbed,
                     struct silo_error *err)
{
  *climbed = false;
  return canonicalize_in_root(rootfd, path, out, climbed, err);
}

/* The kernel's struct statx (0x100 bytes, stx_mnt_id at 0x90): glibc's names the
 * field only from 2.39. */
struct kstatx {
  uint32_t mask;
  uint8_t head[0x90 - 4];
  uint64_t mnt_id;
  uint8_t tail[0x100 - 0x98];
};
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x1000U
#endif
#define STATX_MNT_ID_UNIQUE_ 0x4000U /* Linux 6.8: never reused while the system runs */

int
fs_mount_id(int fd, uint64_t *id, struct silo_error *err)
{
  struct kstatx st;
  memset(&st, 0, sizeof st);
  if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
              STATX_MNT_ID | STATX_MNT_ID_UNIQUE_, &st) < 0)
    return silo_err(err, errno, "statx (mount id)");
  if (!(st.mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE_)))
    return silo_err(err, ENOSYS, "statx: no mount id (Linux 5.8 or later needed)");
  *id = st.mnt_id;
  return 0;
}

/* statmount(2) of Linux 6.8 (not in every libc's headers yet): the same number on
 * every architecture of the unified table. */
#ifndef SYS_statmount
#define SYS_statmount 457
#endif
struct mnt_id_req_ {
  uint32_t size, spare;
  uint64_t mnt_id, param;
};
#define STATMOUNT_MNT_BASIC_ 0x1U

int
fs_mount_attached(uint64_t id, struct silo_error *err)
{
  struct mnt_id_req_ req = {.size = sizeof req, .mnt_id = id, .param = STATMOUNT_MNT_BASIC_};
  /* Ample for struct statmount with no strings asked for. */
  static _Thread_local uint64_t buf[512];
  if (syscall(SYS_statmount, &req, buf, sizeof buf, 0) == 0) return 1;
  if (errno == ENOENT) return 0;
  return silo_err(err, errno, "statmount %llu", (unsigned long long)id);
}

/* fd, opened with O_NONBLOCK: a regular file of at most max bytes, back to blocking
 * reads; anything else refused. */
static int
check_regular(int fd, const char *path, size_t max, struct silo_error *err)
{
  struct stat st;
  if (fstat(fd, &st) < 0) return silo_err(err, errno, "stat `%s`", path);
  if (!S_ISREG(st.st_mode)) return silo_err(err, 0, "`%s`: not a regular file", path);
  if ((uint64_t)st.st_size > max)
    return silo_err(err, EFBIG, "`%s`: bigger than %zu bytes", path, max);
  /* Back to blocking reads (the same on a regular file; clearer for what follows). */
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
    return silo_err(err, errno, "fcntl `%s`", path);
  return 0;
}

int
fs_open_regular_in_root(int rootfd, const char *path, size_t max, struct silo_error *err)
{
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer that never comes,
   * and a device's open can have effects of its own; neither is a file to read.
   * O_NOCTTY: never a controlling terminal.  The type is checked on what was opened. */
  _cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, err);
  if (fd < 0 || check_regular(fd, path, max, err) < 0) return -1;
  return steal_fd(&fd);
}

int
fs_read_regular(const char *path, size_t max, char **buf, size_t *len, struct silo_error *err)
{
  /* As fs_open_regular_in_root, for a path the user gave (symlinks followed). */
  _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "open `%s`", path);
  if (check_regular(fd, path, max, err) < 0) return -1;
  return read_fd(fd, path, max, buf, len, err);
}

int
fs_read_regular_in_root(int rootfd, const char *path, size_t max, char **buf, size_t *len,
                        struct silo_error *err)
{
  _cleanup_close_ int fd = fs_open_regular_in_root(rootfd, path, max, err);
  if (fd < 0) return -1;
  /* max again while reading: the file may grow after the fstat. */
  return read_fd(fd, path, max, buf, len, err);
}

int
fs_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct silo_error *err)
{
  int fd = fs_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0, err);
  if (fd >= 0 || err->errnum != ENOENT) return fd;
  /* Missing levels are created where the path leads inside the root, symlinks
   * included (an absolute link is taken relative to the root, never the host). */
  char canon[PATH_MAX];
  silo_err_clear(err);
  if (canonicalize_in_root(rootfd, path, canon, NULL, err) < 0) return -1;
  return walk_nofollow(rootfd, canon, path, O_PATH | O_DIRECTORY, mode, true, err);
}

int
fs_mkpath_in_root(int rootfd, const char *path, bool is_dir, struct silo_error *err)
{
  if (is_dir) return fs_mkdir_in_root(rootfd, path, 0755, err);
  int fd = fs_open_in_root(rootfd, path, O_PATH, 0, err);
  if (fd >= 0 || err->errnum != ENOENT) return fd;

  _cleanup_free_ char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  const char *base = path;
  if (slash) {
    *slash = '\0';
    base = path + (slash - dir) + 1;
  }
  /* The file's own name may be a dangling symlink: create where it leads, inside. */
  char canon[PATH_MAX];
  silo_err_clear(err);
  if (canonicalize_in_root(rootfd, path, canon, NULL, err) < 0) return -1;
  char *cslash = strrchr(canon, '/');
  if (!cslash) return silo_err(err, EINVAL, "create `%s`", path);
  *cslash = '\0';
  _cleanup_close_ int dfd = fs_mkdir_in_root(rootfd, canon[0] ? canon : "/", 0755, err);
  if (dfd < 0) return -1;
  /* O_NOFOLLOW|O_EXCL: never create through a symlink planted meanwhile. */
  _cleanup_close_ int created =
      openat(dfd, cslash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (created < 0 && errno != EEXIST) return silo_err(err, errno, "create `%s`", path);
  (void)base;
  return fs_open_in_root(rootfd, path, O_PATH, 0, err);
}

int
fs_rm_rf_at(int dirfd, const char *name, struct silo_error *err)
{
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return 0;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "remove `%s`", name);
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return silo_err(err, e, "remove `%s`", name);
  }
  struct dirent *de;
  /* What cannot be removed inside shows up as the directory's own ENOTEMPTY. */
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    fs_rm_rf_at(fd, de->d_name, NULL);
  }
  closedir(d);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return silo_err(err, errno, "remove `%s`", name);
  return 0;
}

static int copy_tree(int srcdir, int dstdir, int depth, struct silo_error *err);

/* One entry of fs_copy_tree_at, of the type st says (read without following). */
static int
copy_entry(int src, int dst, const char *name, const struct stat *st, int depth,
           struct silo_error *err)
{
  switch (st->st_mode & S_IFMT) {
  case S_IFDIR: {
    if (mkdirat(dst, name, 0700) < 0) return silo_err(err, errno, "mkdir `%s`", name);
    _cleanup_close_ int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0) return silo_err(err, errno, "open `%s`", name);
    _cleanup_close_ int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0) return silo_err(err, errno, "open `%s`", name);
    if (depth >= 128) return silo_err(err, ELOOP, "`%s`: directories nested too deep", name);
    if (copy_tree(s, d, depth + 1, err) < 0) return silo_err_wrap(err, "%s", name);
    break;
  }
  case S_IFREG: {
    /* O_NONBLOCK: swapped for a FIFO since the fstatat, it does not block us; the
     * fstat below sees it and refuses. */
    _cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat fst;
    if (in < 0 || fstat(in, &fst) < 0) return silo_err(err, errno, "open `%s`", name);
    if (!S_ISREG(fst.st_mode)) return silo_err(err, EINVAL, "`%s` changed while copied", name);
    _cleanup_close_ int out =
        openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) return silo_err(err, errno, "create `%s`", name);
    char buf[65536];
    for (;;) {
      ssize_t n = read(in, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return silo_err(err, errno, "read `%s`", name);
      if (n == 0) break;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(out, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return silo_err(err, errno, "write `%s`", name);
        off += w;
      }
    }
    break;
  }
  case S_IFLNK: {
    char target[PATH_MAX];
    ssize_t n = readlinkat(src, name, target, sizeof target - 1);
    if (n < 0) return silo_err(err, errno, "readlink `%s`", name);
    target[n] = '\0';
    if (symlinkat(target, dst, name) < 0) return silo_err(err, errno, "symlink `%s`", name);
    break;
  }
  case S_IFCHR:
  case S_IFBLK:
  case S_IFIFO:
    if (mknodat(dst, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
      return silo_err(err, errno, "mknod `%s`", name);
    break;
  default:
    return 0; /* a socket means nothing without its listener */
  }
  /* Owner first: chown clears the set-id bits that the chmod then restores.  An id
   * without a mapping in our user namespace (EINVAL) leaves the entry ours. */
  if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
    return silo_err(err, errno, "chown `%s`", name);
  /* Only what this function just made is chmod-ed (never a symlink, nothing else can
   * have replaced it in the copy's own fresh directory). */
  if (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) < 0)
    return silo_err(err, errno, "chmod `%s`", name);
  struct timespec ts[2] = {st->st_atim, st->st_mtim};
  utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int
copy_tree(int srcdir, int dstdir, int depth, struct silo_error *err)
{
  int fd = openat(srcdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "open directory");
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return silo_err(err, e, "open directory");
  }
  struct dirent *de;
  int r = 0;
  while (r == 0 && (errno = 0, de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    struct stat st;
    if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      r = silo_err(err, errno, "stat `%s`", de->d_name);
    else
      r = copy_entry(fd, dstdir, de->d_name, &st, depth, err);
  }
  if (r == 0 && errno) r = silo_err(err, errno, "read directory");
  closedir(d);
  return r;
}

int
fs_copy_tree_at(int srcdir, int dstdir, struct silo_error *err)
{
  return copy_tree(srcdir, dstdir, 0, err);
}

const char *
fs_proc_fd_path(char buf[PROC_FD_PATH_MAX], int fd)
{
  snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

int
fs_proc_stat(pid_t pid, char *state, unsigned long long *start_time)
{
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  /* comm may hold spaces and parentheses: fields start after the last ')'. */
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  p += 2;
  if (state) *state = *p;
  /* field 3 is state; starttime is field 22: skip 19 more fields. */
  for (int i = 0; i < 19 && p; i++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return -1;
  if (start_time) *start_time = strtoull(p, NULL, 10);
  return 0;
}

int
fs_proc_open_root(pid_t pid, int pidfd, unsigned long long start_time, struct silo_error *err)
{
  /* The order is the proof: a pidfd first (it names one process for good), then
   * the start time (that process is the one the caller means), then the open
   * through the pid, then the pidfd asked whether its process still lives.  If it
   * does, the pid could not have been reused between the open and the question, so
   * the open reached the pidfd's process. */
  _cleanup_close_ int own = -1;
  if (pidfd < 0) pidfd = own = (int)syscall(SYS_pidfd_open, pid, 0);
  unsigned long long start;
  if (pidfd < 0 || (start_time && (fs_proc_stat(pid, NULL, &start) < 0 || start != start_time)))
    return silo_err(err, ESRCH, "process %d is gone", (int)pid);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", (int)pid);
  _cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
    return silo_err(err, ESRCH, "process %d is gone", (int)pid);
  return steal_fd(&fd);
}

int
fs_mkdir_p(const char *path, mode_t parent_mode, mode_t mode, struct silo_error *err)
{
  _cleanup_free_ char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(p, parent_mode) < 0 && errno != EEXIST) return silo_err(err, errno, "mkdir `%s`", p);
    *s = '/';
  }
  if (mkdir(path, mode) < 0 && errno != EEXIST) return silo_err(err, errno, "mkdir `%s`", path);
  return 0;
}
