/* silo: migration of directory trees — the rootfs by manifest, CRIU images whole.
 *
 * rootfs: the source sends a manifest, one entry per path:
 *   {"p": path, "t": f|d|l|c|b|p, "m": mode, "u": uid, "g": gid,
 *    "s": size, "h": sha256 (f), "l": target (l), "r": rdev (c, b),
 *    "H": first path of the same inode (f, hard links), "M": mtime ns}
 * The receiver makes its tree match it: what it already has (same type, owner,
 * mode, and for files the same sha256) stays, directories, links and device nodes
 * are made from the manifest alone, extra paths are removed, and only the files
 * whose contents differ are asked for (WANT) and sent; each arrives in a temporary
 * file that is checked against the manifest's sha256 before it is renamed into
 * place.  A second pass (writable rootfs, after the freeze) reuses the hashes of
 * the first for files whose size, mtime, ctime and inode did not change.
 *
 * Every path from the peer is checked (mig_path_ok) and resolved beneath the
 * tree without following symlinks (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "lib/base/base.h"
#include "lib/migrate/migrate.h"
#include "lib/silo.h"

bool
mig_path_ok(const char *p)
{
  if (!p || !*p || *p == '/' || strlen(p) >= PATH_MAX) return false;
  for (const char *s = p; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return false;
    s += n + (e ? 1 : 0);
    if (e && !*s) return false;
  }
  return true;
}

bool
mig_link_ok(const char *path, const char *target)
{
  if (!path || !target || !*target || *target == '/' || strlen(target) >= PATH_MAX) return false;
  int depth = 1; /* the tree's own directory, below .migrate */
  for (const char *s = path; *s; s++) depth += *s == '/';
  bool named = false;
  for (const char *s = target; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    bool up = n == 2 && s[0] == '.' && s[1] == '.';
    /* `..` after a name could climb out of a directory reached through another
     * link: only leading ones, counted against where this link really is */
    if (n == 0 || (n == 1 && s[0] == '.') || (up && (named || --depth < 0))) return false;
    named |= !up;
    s += n + (e ? 1 : 0);
    if (e && !*s) return false;
  }
  return true;
}

bool
mig_name_ok(const char *name)
{
  return mig_path_ok(name) && !strchr(name, '/');
}

int
mig_mkdir_beneath(int dirfd, const char *name, mode_t mode, bool *created, struct silo_error *err)
{
  if (!mig_name_ok(name)) return silo_err(err, EINVAL, "`%s`: not one relative name", name);
  bool made = mkdirat(dirfd, name, mode) == 0;
  if (!made && errno != EEXIST) return silo_err(err, errno, "mkdir `%s`", name);
  if (created) *created = made;
  /* Whatever was there already must be a directory itself, not a symlink to one
   * (which could lead anywhere on this host). */
  struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
  if (fd < 0) return silo_err(err, errno, "`%s`", name);
  return fd;
}

/* The directory that holds `path` (beneath rootfd, no symlinks); *leaf its name. */
int
mig_open_parent(int rootfd, const char *path, const char **leaf, struct silo_error *err)
{
  const char *slash = strrchr(path, '/');
  *leaf = slash ? slash + 1 : path;
  if (!slash) return fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  _cleanup_free_ char *dir = strndup(path, (size_t)(slash - path));
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, rootfd, dir, &how, sizeof how);
  if (fd < 0) return silo_err(err, errno, "`%s`", dir);
  return fd;
}

/* ---- the source: build a manifest ---- */

int
mig_hash_fd(int fd, char hex[65], uint64_t *n, struct silo_error *err)
{
  static unsigned char buf[1 << 20];
  struct sha256 s;
  sha256_init(&s);
  *n = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return silo_err(err, errno, "read");
    if (r == 0) break;
    sha256_update(&s, buf, (size_t)r);
    *n += (uint64_t)r;
  }
  sha256_hex(&s, hex);
  return 0;
}

static long long
ns_of(const struct timespec *t)
{
  return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

struct walk {
  const struct mig_manifest *prev;
  json_t *out;
  json_t *inodes; /* "dev:ino" -> first path */
  dev_t dev;
};

static int walk_dir(struct walk *w, int dfd, const char *prefix, struct silo_error *err);

static int
by_name(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
walk_entry(struct walk *w, int dfd, const char *name, const char *path, struct silo_error *err)
{
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return 0; /* gone while we walked */
    return silo_err(err, errno, "`%s`", path);
  }
  json_t *e = json_pack("{s:i, s:i, s:i, s:I}", "m", (int)(st.st_mode & 07777), "u", (int)st.st_uid,
                        "g", (int)st.st_gid, "M", ns_of(&st.st_mtim));
  if (S_ISDIR(st.st_mode)) {
    json_object_set_new(e, "t", json_string("d"));
    json_object_set_new(w->out, path, e);
    if (st.st_dev != w->dev) return 0; /* another file system mounted here: not ours */
    int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) return silo_err(err, errno, "`%s`", path);
    return walk_dir(w, sub, path, err); /* closes sub */
  }
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);
    if (n < 0) {
      json_decref(e);
      return silo_err(err, errno, "readlink `%s`", path);
    }
    target[n] = '\0';
    json_object_set_new(e, "t", json_string("l"));
    json_object_set_new(e, "l", json_string(target));
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
    json_object_set_new(e, "t",
                        json_string(S_ISCHR(st.st_mode)   ? "c"
                                    : S_ISBLK(st.st_mode) ? "b"
                                                          : "p"));
    json_object_set_new(e, "r", json_integer((json_int_t)st.st_rdev));
  } else if (S_ISREG(st.st_mode)) {
    json_object_set_new(e, "t", json_string("f"));
    json_object_set_new(e, "s", json_integer((json_int_t)st.st_size));
    char key[64];
    snprintf(key, sizeof key, "%llx:%llx", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    if (st.st_nlink > 1) {
      json_t *first = json_object_get(w->inodes, key);
      if (first) {
        json_object_set(e, "H", first);
        json_t *fe = json_object_get(w->out, json_string_value(first));
        json_object_set(e, "h", json_object_get(fe, "h"));
        json_object_set_new(w->out, path, e);
        return 0;
      }
      json_object_set_new(w->inodes, key, json_string(path));
    }
    /* Unchanged since the previous pass: its hash still holds. */
    json_t *old = w->prev ? json_object_get(w->prev->entries, path) : NULL;
    if (old && json_integer_value(json_object_get(old, "s")) == st.st_size &&
        json_integer_value(json_object_get(old, "M")) == ns_of(&st.st_mtim) &&
        json_integer_value(json_object_get(old, "C")) == ns_of(&st.st_ctim) &&
        json_integer_value(json_object_get(old, "i")) == (json_int_t)st.st_ino &&
        json_object_get(old, "h")) {
      json_object_set(e, "h", json_object_get(old, "h"));
    } else {
      int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      char hex[65];
      uint64_t n;
      if (fd < 0 || mig_hash_fd(fd, hex, &n, err) < 0) {
        if (fd < 0) silo_err(err, errno, "open");
        if (fd >= 0) close(fd);
        json_decref(e);
        return silo_err_wrap(err, "`%s`", path);
      }
      close(fd);
      json_object_set_new(e, "h", json_string(hex));
    }
    json_object_set_new(e, "C", json_integer(ns_of(&st.st_ctim)));
    json_object_set_new(e, "i", json_integer((json_int_t)st.st_ino));
  } else {
    json_decref(e); /* sockets: made by whoever binds them */
    return 0;
  }
  json_object_set_new(w->out, path, e);
  return 0;
}

static int
walk_dir(struct walk *w, int dfd, const char *prefix, struct silo_error *err)
{
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return silo_err(err, errno, "opendir `%s`", *prefix ? prefix : "/");
  }
  int ret = 0;
  struct dirent *de;
  /* Sorted, so that both sides see the same order. */
  json_t *names = json_array();
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      json_array_append_new(names, json_string(de->d_name));
  size_t n = json_array_size(names);
  const char **v = xcalloc(n ? n : 1, sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = json_string_value(json_array_get(names, i));
  qsort(v, n, sizeof *v, by_name);
  for (size_t i = 0; i < n && ret == 0; i++) {
    _cleanup_free_ char *path = *prefix ? xasprintf("%s/%s", prefix, v[i]) : xstrdup(v[i]);
    ret = walk_entry(w, dirfd(d), v[i], path, err);
  }
  free(v);
  json_decref(names);
  closedir(d);
  return ret;
}

int
mig_manifest_build(const char *root, const struct mig_manifest *prev, struct mig_manifest *out,
                   struct silo_error *err)
{
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    if (fd >= 0) close(fd);
    return silo_err(err, errno, "rootfs `%s`", root);
  }
  struct walk w = {.prev = prev, .out = json_object(), .inodes = json_object(), .dev = st.st_dev};
  int r = walk_dir(&w, fd, "", err);
  json_decref(w.inodes);
  if (r < 0) {
    json_decref(w.out);
    return silo_err_wrap(err, "rootfs `%s`", root);
  }
  out->entries = w.out;
  return 0;
}

void
mig_manifest_free(struct mig_manifest *m)
{
  if (m->entries) json_decref(m->entries);
  m->entries = NULL;
}

/* ---- sending files ---- */

static int
send_data_fd(struct mig_conn *c, int fd, uint64_t size, const char *path, struct silo_error *err)
{
  for (uint64_t left = size; left > 0;) {
    size_t n = left < MIG_CHUNK * 4 ? (size_t)left : MIG_CHUNK * 4;
    if (mig_send_fd(c, MIG_DATA, fd, n, err) < 0) return silo_err_wrap(err, "`%s`", path);
    left -= n;
  }
  return 0;
}

/* DATA frames of what fd holds (read, hashed into hex), for files that may change. */
static int
send_hashed(struct mig_conn *c, int fd, uint64_t size, const char *path, char hex[65],
            struct silo_error *err)
{
  static unsigned char buf[MIG_CHUNK];
  struct sha256 sh;
  sha256_init(&sh);
  for (uint64_t left = size; left > 0;) {
    size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
    ssize_t r = read(fd, buf, want);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return silo_err(err, errno, "read `%s`", path);
    if (r == 0) {
      /* The container truncated it meanwhile: the size was announced, so zeros
       * make up the rest.  Its ctime changed, so the next pass sends it again. */
      memset(buf, 0, want);
      r = (ssize_t)want;
    }
    sha256_update(&sh, buf, (size_t)r);
    if (mig_send(c, MIG_DATA, buf, (size_t)r, err) < 0) return -1;
    left -= (uint64_t)r;
  }
  sha256_hex(&sh, hex);
  return 0;
}

/* FILE {"tree","path",...} DATA... FILE_END for one regular file (its size as
 * opened).  entry (a rootfs manifest's): the data is hashed, FILE_END carries the
 * sha256, and the entry is updated to what was sent.  Else (images) it goes with
 * sendfile. */
static bool
vanished(int e)
{
  return e == ENOENT || e == ENOTDIR || e == ELOOP;
}

/* A rootfs file of a running container may be gone (renamed, deleted, replaced by
 * a link or a directory) between the manifest and its turn: FILE {"gone":true}
 * tells the receiver to drop it, and the next pass sees what is there then. */
static int
send_gone(struct mig_conn *c, const char *tree, const char *path, json_t *entry,
          struct silo_error *err)
{
  silo_log_debug("migrate: `%s` went away before it was sent", path);
  *err = (struct silo_error){0};
  json_object_set_new(entry, "h", json_string(""));
  return mig_send_json(c, MIG_FILE,
                       json_pack("{s:s, s:s, s:b}", "tree", tree, "path", path, "gone", 1), err);
}

static int
send_file(struct mig_conn *c, int rootfd, const char *tree, const char *path, json_t *entry,
          uint64_t *bytes, struct silo_error *err)
{
  const char *leaf;
  _cleanup_close_ int pfd = mig_open_parent(rootfd, path, &leaf, err);
  if (pfd < 0) {
    if (entry && vanished(err->errnum)) return send_gone(c, tree, path, entry, err);
    return silo_err_wrap(err, "send `%s`", path);
  }
  _cleanup_close_ int fd = openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    if (entry && vanished(errno)) return send_gone(c, tree, path, entry, err);
    return silo_err(err, errno, "send `%s`", path);
  }
  if (!S_ISREG(st.st_mode)) {
    if (entry) return send_gone(c, tree, path, entry, err);
    return silo_err(err, EINVAL, "send `%s`: no longer a file", path);
  }
  json_t *hdr = json_pack("{s:s, s:s, s:s, s:I, s:i}", "tree", tree, "path", path, "t", "f", "s",
                          (json_int_t)st.st_size, "m", (int)(st.st_mode & 07777));
  char hex[65] = "";
  if (mig_send_json(c, MIG_FILE, hdr, err) < 0) return -1;
  if (entry ? send_hashed(c, fd, (uint64_t)st.st_size, path, hex, err)
            : send_data_fd(c, fd, (uint64_t)st.st_size, path, err))
    return -1;
  if (mig_send_json(c, MIG_FILE_END, entry ? json_pack("{s:s}", "sha256", hex) : json_object(),
                    err) < 0)
    return -1;
  if (entry) {
    json_object_set_new(entry, "h", json_string(hex));
    json_object_set_new(entry, "s", json_integer((json_int_t)st.st_size));
    json_object_set_new(entry, "M", json_integer(ns_of(&st.st_mtim)));
    json_object_set_new(entry, "C", json_integer(ns_of(&st.st_ctim)));
    json_object_set_new(entry, "i", json_integer((json_int_t)st.st_ino));
  }
  *bytes += (uint64_t)st.st_size;
  return 0;
}

int
mig_sync_rootfs_send(struct mig_conn *c, const char *root, struct mig_manifest *m, uint64_t *bytes,
                     struct silo_error *err)
{
  _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return silo_err(err, errno, "rootfs `%s`", root);
  const char *path;
  json_t *e, *chunk = json_array();
  size_t count = 0;
  json_object_foreach(m->entries, path, e)
  {
    json_t *o = json_deep_copy(e);
    json_object_del(o, "C");
    json_object_del(o, "i");
    json_object_set_new(o, "p", json_string(path));
    json_array_append_new(chunk, o);
    count++;
    if (json_array_size(chunk) >= 1000) {
      if (mig_send_json(c, MIG_MANIFEST, chunk, err) < 0) return -1;
      chunk = json_array();
    }
  }
  if (json_array_size(chunk) == 0)
    json_decref(chunk);
  else if (mig_send_json(c, MIG_MANIFEST, chunk, err) < 0)
    return -1;
  if (mig_send_json(c, MIG_MANIFEST_END,
                    json_pack("{s:s, s:I}", "tree", "rootfs", "count", (json_int_t)count), err) < 0)
    return -1;
  /* What the receiver lacks. */
  json_t *wants = json_array();
  for (;;) {
    struct mig_frame f;
    if (mig_recv(c, &f, err) < 0) goto fail;
    if (f.type == MIG_ERROR || f.type == MIG_ABORT) {
      mig_frame_error(&f, c->peer, err);
      goto fail;
    }
    json_t *j = mig_frame_json(&f);
    if (f.type == MIG_WANT_END) {
      if (j) json_decref(j);
      break;
    }
    if (f.type != MIG_WANT || !json_is_array(j)) {
      if (j) json_decref(j);
      silo_err(err, EPROTO, "%s sent %s during the rootfs manifest", c->peer,
               mig_type_name(f.type));
      goto fail;
    }
    json_array_extend(wants, j);
    json_decref(j);
  }
  size_t i;
  json_t *w;
  json_array_foreach(wants, i, w)
  {
    const char *p = json_string_value(w);
    json_t *me = p ? json_object_get(m->entries, p) : NULL;
    if (!me || strcmp(json_string_value(json_object_get(me, "t")), "f") != 0) {
      silo_err(err, EPROTO, "%s asked for `%s`, which is no file of the manifest", c->peer,
               p ? p : "?");
      goto fail;
    }
    if (send_file(c, rootfd, "rootfs", p, me, bytes, err) < 0) goto fail;
  }
  json_decref(wants);
  /* the receiver says when it is done: its errors come before anything else */
  json_t *ack = NULL;
  if (mig_send_json(c, MIG_TREE_END, json_pack("{s:s}", "tree", "rootfs"), err) < 0 ||
      mig_recv_json(c, MIG_SYNCED, &ack, err) < 0)
    return -1;
  json_decref(ack);
  return 0;
fail:
  json_decref(wants);
  return -1;
}

/* ---- sending a whole tree (CRIU images) ---- */

static bool
is_pages_img(const char *name)
{
  const char *b = strrchr(name, '/');
  b = b ? b + 1 : name;
  return strncmp(b, "pages-", 6) == 0;
}

static int
send_dir(struct mig_conn *c, int rootfd, const char *prefix, const char *tree, uint64_t *bytes,
         uint64_t *pages, struct silo_error *err)
{
  int dfd = *prefix ? openat(rootfd, prefix, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    : fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    if (dfd >= 0) close(dfd);
    return silo_err(err, errno, "images `%s`", prefix);
  }
  struct dirent *de;
  int ret = 0;
  while (ret == 0 && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    _cleanup_free_ char *path =
        *prefix ? xasprintf("%s/%s", prefix, de->d_name) : xstrdup(de->d_name);
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ret = mig_send_json(c, MIG_FILE,
                          json_pack("{s:s, s:s, s:s, s:i}", "tree", tree, "path", path, "t", "d",
                                    "m", (int)(st.st_mode & 07777)),
                          err);
      if (ret == 0) ret = send_dir(c, rootfd, path, tree, bytes, pages, err);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
      if (n < 0) continue;
      target[n] = '\0';
      ret = mig_send_json(
          c, MIG_FILE,
          json_pack("{s:s, s:s, s:s, s:s}", "tree", tree, "path", path, "t", "l", "l", target),
          err);
    } else if (S_ISREG(st.st_mode)) {
      uint64_t before = *bytes;
      ret = send_file(c, rootfd, tree, path, NULL, bytes, err);
      if (is_pages_img(path)) *pages += *bytes - before;
    }
  }
  closedir(d);
  return ret;
}

int
mig_send_tree(struct mig_conn *c, const char *dir, const char *name, uint64_t *bytes,
              uint64_t *pages, struct silo_error *err)
{
  _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "images `%s`", dir);
  uint64_t b0 = *bytes;
  if (send_dir(c, fd, "", name, bytes, pages, err) < 0) return -1;
  return mig_send_json(c, MIG_TREE_END,
                       json_pack("{s:s, s:I}", "tree", name, "bytes", (json_int_t)(*bytes - b0)),
                       err);
}

uint64_t
mig_pages_size(const char *dir)
{
  _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(steal_fd(&fd)) : NULL;
  uint64_t n = 0;
  struct dirent *de;
  while (d && (de = readdir(d))) {
    struct stat st;
    if (is_pages_img(de->d_name) && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
      n += (uint64_t)st.st_size;
  }
  if (d) closedir(d);
  return n;
}

/* ---- receiving files ---- */

/* Receives DATA frames up to FILE_END into fd and checks the size.  With hex (a
 * rootfs file, whose manifest entry keeps its sha256): the data is hashed into it,
 * and must match the sha256 FILE_END carries.  Images and pages are not hashed:
 * the sender does not hash them either (sendfile), and a software SHA-256 of a
 * container's memory would cost the downtime ~5 ms per MiB. */
static int
recv_data(struct mig_conn *c, int fd, uint64_t size, char *hex, const char *path, uint64_t *bytes,
          struct silo_error *err)
{
  struct sha256 s;
  sha256_init(&s);
  uint64_t got = 0;
  json_t *end = NULL;
  for (;;) {
    struct mig_frame f;
    if (mig_recv(c, &f, err) < 0) return -1;
    if (f.type == MIG_ERROR || f.type == MIG_ABORT) return mig_frame_error(&f, c->peer, err);
    if (f.type == MIG_FILE_END) {
      end = mig_frame_json(&f);
      break;
    }
    if (f.type != MIG_DATA)
      return silo_err(err, EPROTO, "`%s`: %s inside a file", path, mig_type_name(f.type));
    if (got + f.len > size) return silo_err(err, EPROTO, "`%s`: more data than announced", path);
    if (hex) sha256_update(&s, f.data, f.len);
    for (size_t off = 0; off < f.len;) {
      ssize_t w = write(fd, f.data + off, f.len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return silo_err(err, errno, "write `%s`", path);
      off += (size_t)w;
    }
    got += f.len;
  }
  _cleanup_free_ char *sent =
      xstrdup(end ? json_string_value(json_object_get(end, "sha256")) ?: "" : "");
  if (end) json_decref(end);
  if (got != size)
    return silo_err(err, EPROTO, "`%s`: %llu of %llu bytes", path, (unsigned long long)got,
                    (unsigned long long)size);
  if (!hex && *sent) return silo_err(err, EPROTO, "`%s`: a sha256 for a file not hashed", path);
  if (hex) {
    sha256_hex(&s, hex);
    if (*sent && strcmp(hex, sent) != 0)
      return silo_err(err, EIO, "`%s`: damaged on the way (sha256 %s, sent %s)", path, hex, sent);
  }
  *bytes += got;
  return 0;
}

/* A received file goes to a temporary name first, then over the old one.  With a
 * manifest entry: its owner, mode and mtime; the entry gets the size and sha256
 * of what arrived (a file of a running container may have changed since the
 * manifest was made: the next pass compares with what is here). */
static int
recv_file(struct mig_conn *c, int rootfd, const char *path, json_t *hdr, json_t *entry, bool hash,
          uint64_t *bytes, struct silo_error *err)
{
  const char *leaf;
  _cleanup_close_ int pfd = mig_open_parent(rootfd, path, &leaf, err);
  if (pfd < 0) return silo_err_wrap(err, "receive `%s`", path);
  char tmp[64];
  snprintf(tmp, sizeof tmp, ".silo-mig.%d.tmp", (int)getpid());
  unlinkat(pfd, tmp, 0);
  _cleanup_close_ int fd =
      openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return silo_err(err, errno, "create `%s`", path);
  uint64_t size = (uint64_t)json_integer_value(json_object_get(hdr, "s"));
  const json_t *meta = entry ? entry : hdr;
  int mode = (int)json_integer_value(json_object_get(meta, "m"));
  char hex[65];
  int r = recv_data(c, fd, size, hash ? hex : NULL, path, bytes, err);
  if (r == 0 && entry) {
    json_object_set_new(entry, "h", json_string(hex));
    json_object_set_new(entry, "s", json_integer((json_int_t)size));
    if (fchown(fd, (uid_t)json_integer_value(json_object_get(entry, "u")),
               (gid_t)json_integer_value(json_object_get(entry, "g"))) < 0)
      r = silo_err(err, errno, "chown `%s`", path);
    long long m = json_integer_value(json_object_get(entry, "M"));
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {m / 1000000000LL, m % 1000000000LL}};
    if (m) futimens(fd, ts);
  }
  if (r == 0 && fchmod(fd, (mode_t)(mode & 07777)) < 0)
    r = silo_err(err, errno, "chmod `%s`", path);
  if (r == 0 && renameat(pfd, tmp, pfd, leaf) < 0) {
    /* a directory in the way */
    if ((errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) &&
        fs_rm_rf_at(pfd, leaf, NULL) == 0 && renameat(pfd, tmp, pfd, leaf) == 0)
      return 0;
    r = silo_err(err, errno, "rename into `%s`", path);
  }
  if (r < 0) unlinkat(pfd, tmp, 0);
  return r;
}

int
mig_recv_file(struct mig_conn *c, int rootfd, const char *path, json_t *hdr, json_t *entry,
              uint64_t *bytes, struct silo_error *err)
{
  return recv_file(c, rootfd, path, hdr, entry, true, bytes, err);
}

/* The tree so far (tfd, in the staging tmpfs) moved to spill/<tree>: *tfd its new
 * fd there. */
static int
spill_tree(int *tfd, int spill, const char *tree, struct silo_error *err)
{
  _cleanup_close_ int to = mig_mkdir_beneath(spill, tree, 0700, NULL, err);
  if (to < 0 || fs_copy_tree_at(*tfd, to, err) < 0) return silo_err_wrap(err, "to disk");
  /* what it held is freed now: the staging tmpfs keeps nothing of it */
  _cleanup_close_ int dup = fcntl(*tfd, F_DUPFD_CLOEXEC, 3);
  DIR *d = dup >= 0 ? fdopendir(steal_fd(&dup)) : NULL;
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) fs_rm_rf_at(*tfd, de->d_name, NULL);
  if (d) closedir(d);
  close(*tfd);
  *tfd = steal_fd(&to);
  return 0;
}

int
mig_recv_tree(struct mig_conn *c, int dirfd, int spill, bool *spilled,
              const struct mig_frame *first, char **tree, uint64_t *bytes, struct silo_error *err)
{
  json_t *hdr = mig_frame_json(first);
  const char *name = hdr ? json_string_value(json_object_get(hdr, "tree")) : NULL;
  if (!name || !mig_name_ok(name)) {
    if (hdr) json_decref(hdr);
    return silo_err(err, EPROTO, "%s sent a file of a bad tree", c->peer);
  }
  *tree = xstrdup(name);
  /* a fresh .migrate per session: an existing tree dir was made for it (lazy pages) */
  _cleanup_close_ int tfd = mig_mkdir_beneath(dirfd, *tree, 0700, NULL, err);
  int ret = tfd < 0 ? -1 : 0;
  for (;;) {
    if (ret < 0) break;
    const char *path = json_string_value(json_object_get(hdr, "path"));
    const char *t = json_string_value(json_object_get(hdr, "t"));
    const char *tn = json_string_value(json_object_get(hdr, "tree"));
    if (!path || !t || !tn || strcmp(tn, *tree) || !mig_path_ok(path)) {
      ret = silo_err(err, EPROTO, "%s sent a bad file header", c->peer);
      break;
    }
    const char *leaf;
    int pfd = mig_open_parent(tfd, path, &leaf, err);
    if (pfd < 0) {
      ret = -1;
      break;
    }
    int mode = (int)json_integer_value(json_object_get(hdr, "m"));
    if (strcmp(t, "d") == 0) {
      if (mkdirat(pfd, leaf, (mode_t)(mode & 0777) | 0700) < 0 && errno != EEXIST)
        ret = silo_err(err, errno, "mkdir `%s`", path);
    } else if (strcmp(t, "l") == 0) {
      const char *target = json_string_value(json_object_get(hdr, "l"));
      if (!mig_link_ok(path, target))
        ret = silo_err(err, EPROTO, "symlink `%s` -> `%s` leads out of the images", path,
                       target ? target : "");
      else if (symlinkat(target, pfd, leaf) < 0)
        ret = silo_err(err, errno, "symlink `%s`", path);
    } else if (strcmp(t, "f") == 0) {
      uint64_t size = (uint64_t)json_integer_value(json_object_get(hdr, "s"));
      if (spill >= 0 && !*spilled && !mig_stage_room(tfd, size)) {
        silo_log_warn("migrate-receive: images over the staging tmpfs's limit: on disk");
        close(pfd);
        pfd = -1;
        if (spill_tree(&tfd, spill, *tree, err) < 0 ||
            (pfd = mig_open_parent(tfd, path, &leaf, err)) < 0) {
          ret = -1;
          break;
        }
        *spilled = true;
      }
      ret = recv_file(c, tfd, path, hdr, NULL, false, bytes, err);
    } else {
      ret = silo_err(err, EPROTO, "`%s`: file type `%s` in images", path, t);
    }
    close(pfd);
    json_decref(hdr);
    hdr = NULL;
    if (ret < 0) break;
    struct mig_frame f;
    if (mig_recv(c, &f, err) < 0) return -1;
    if (f.type == MIG_TREE_END) return 0;
    if (f.type == MIG_ERROR || f.type == MIG_ABORT) return mig_frame_error(&f, c->peer, err);
    if (f.type != MIG_FILE)
      return silo_err(err, EPROTO, "%s sent %s inside tree `%s`", c->peer, mig_type_name(f.type),
                      *tree);
    hdr = mig_frame_json(&f);
  }
  if (hdr) json_decref(hdr);
  return silo_err_wrap(err, "tree `%s`", *tree);
}
