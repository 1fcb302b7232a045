/* silo: the receiving end of a rootfs sync (the manifest is described in
 * lib/migrate/tree.c).  The tree under rootfd (opened by the caller beneath its
 * bundle, without symlinks: lib/migrate/dst.c) is made equal to the manifest:
 *   1. paths the manifest does not have are removed
 *   2. directories, symlinks and device nodes are made (or fixed) from the
 *      manifest; files of the same size are hashed, and kept when the sha256
 *      matches (owner and mode fixed in place)
 *   3. the other files are asked for (WANT), received and checked
 *   4. hard links are linked to their first path
 * With `known` (the manifest of the previous pass, which the tree still matches)
 * nothing is hashed: entries equal to the known ones are skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lib/base/base.h"
#include "lib/migrate/migrate.h"

static const char *
str(const json_t *e, const char *k)
{
  const char *s = json_string_value(json_object_get(e, k));
  return s ? s : "";
}

static long long
num(const json_t *e, const char *k)
{
  return json_integer_value(json_object_get(e, k));
}

/* Same content and metadata (the mtime aside). */
static bool
same_entry(const json_t *a, const json_t *b)
{
  static const char *const strs[] = {"t", "h", "l", "H"};
  static const char *const nums[] = {"m", "u", "g", "s", "r"};
  for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
    if (strcmp(str(a, strs[i]), str(b, strs[i])) != 0) return false;
  for (size_t i = 0; i < ARRAY_SIZE(nums); i++)
    if (num(a, nums[i]) != num(b, nums[i])) return false;
  return true;
}

static bool
valid_entry(const char *p, const json_t *e)
{
  const char *t = str(e, "t");
  if (!mig_path_ok(p) || strlen(t) != 1 || !strchr("fdlcbp", t[0])) return false;
  if (t[0] == 'f' && !json_object_get(e, "H") && strlen(str(e, "h")) != 64) return false;
  if (t[0] == 'l' && !*str(e, "l")) return false;
  if (json_object_get(e, "H") && !mig_path_ok(str(e, "H"))) return false;
  return true;
}

static int
manifest_frame(struct mig_conn *c, const struct mig_frame *f, json_t *m, struct silo_error *err)
{
  if (f->type == MIG_ERROR || f->type == MIG_ABORT) return mig_frame_error(f, c->peer, err);
  if (f->type == MIG_MANIFEST_END) return 1;
  json_t *j = mig_frame_json(f);
  if (f->type != MIG_MANIFEST || !json_is_array(j)) {
    if (j) json_decref(j);
    return silo_err(err, EPROTO, "%s sent %s, expected the rootfs manifest", c->peer,
                    mig_type_name(f->type));
  }
  size_t i;
  json_t *e;
  json_array_foreach(j, i, e)
  {
    _cleanup_free_ char *p = xstrdup(str(e, "p"));
    if (!valid_entry(p, e)) {
      json_decref(j);
      return silo_err(err, EPROTO, "%s sent a bad manifest entry `%s`", c->peer, p);
    }
    json_object_del(e, "p");
    json_object_set(m, p, e);
  }
  json_decref(j);
  return 0;
}

static int
recv_manifest(struct mig_conn *c, const struct mig_frame *first, json_t *m, struct silo_error *err)
{
  int r = manifest_frame(c, first, m, err);
  while (r == 0) {
    struct mig_frame f;
    if (mig_recv(c, &f, err) < 0) return -1;
    r = manifest_frame(c, &f, m, err);
  }
  return r < 0 ? -1 : 0;
}

/* Removes what is under dir (relative `prefix`) and not in the manifest. */
static void
remove_extras(int dfd, const char *prefix, json_t *m)
{
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    _cleanup_free_ char *p = *prefix ? xasprintf("%s/%s", prefix, de->d_name) : xstrdup(de->d_name);
    json_t *e = json_object_get(m, p);
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (!e) {
      fs_rm_rf_at(dirfd(d), de->d_name, NULL);
    } else if (S_ISDIR(st.st_mode) && strcmp(str(e, "t"), "d") == 0) {
      int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) remove_extras(sub, p, m);
    }
  }
  closedir(d);
}

static int
fix_meta(int pfd, const char *leaf, const json_t *e, bool link, const char *p,
         struct silo_error *err)
{
  if (fchownat(pfd, leaf, (uid_t)num(e, "u"), (gid_t)num(e, "g"), AT_SYMLINK_NOFOLLOW) < 0)
    return silo_err(err, errno, "chown `%s`", p);
  if (!link) {
    /* O_PATH parents: chmod through a real fd of the entry */
    int fd = openat(pfd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    char buf[PROC_FD_PATH_MAX];
    int r = fd >= 0 ? chmod(fs_proc_fd_path(buf, fd), (mode_t)(num(e, "m") & 07777)) : -1;
    if (fd >= 0) close(fd);
    if (r < 0) return silo_err(err, errno, "chmod `%s`", p);
  }
  return 0;
}

/* Step 2 for one entry: 1 when the file must be sent. */
static int
apply_entry(int rootfd, const char *p, const json_t *e, const json_t *old, bool hash_existing,
            struct silo_error *err)
{
  const char *leaf;
  _cleanup_close_ int pfd = mig_open_parent(rootfd, p, &leaf, err);
  if (pfd < 0) return silo_err_wrap(err, "rootfs `%s`", p);
  char t = str(e, "t")[0];
  struct stat st;
  bool have = fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
  mode_t want_fmt = t == 'd'   ? S_IFDIR
                    : t == 'l' ? S_IFLNK
                    : t == 'f' ? S_IFREG
                    : t == 'c' ? S_IFCHR
                    : t == 'b' ? S_IFBLK
                               : S_IFIFO;
  if (have && (st.st_mode & S_IFMT) != want_fmt) {
    fs_rm_rf_at(pfd, leaf, NULL);
    have = false;
  }
  switch (t) {
  case 'd':
    if (!have && mkdirat(pfd, leaf, 0700) < 0) return silo_err(err, errno, "mkdir `%s`", p);
    return fix_meta(pfd, leaf, e, false, p, err);
  case 'l': {
    char target[PATH_MAX];
    ssize_t n = have ? readlinkat(pfd, leaf, target, sizeof target - 1) : -1;
    if (n >= 0) target[n] = '\0';
    if (n < 0 || strcmp(target, str(e, "l")) != 0) {
      if (have) unlinkat(pfd, leaf, 0);
      if (symlinkat(str(e, "l"), pfd, leaf) < 0) return silo_err(err, errno, "symlink `%s`", p);
    }
    return fix_meta(pfd, leaf, e, true, p, err);
  }
  case 'c':
  case 'b':
  case 'p':
    if (have && (t == 'p' || st.st_rdev == (dev_t)num(e, "r")))
      return fix_meta(pfd, leaf, e, false, p, err);
    if (have) unlinkat(pfd, leaf, 0);
    if (mknodat(pfd, leaf, want_fmt | 0600, (dev_t)num(e, "r")) < 0)
      return silo_err(err, errno, "mknod `%s`", p);
    return fix_meta(pfd, leaf, e, false, p, err);
  default:                                 /* 'f' */
    if (json_object_get(e, "H")) return 0; /* linked at the end */
    if (!have || st.st_size != (off_t)num(e, "s")) return 1;
    if (old) { /* the tree holds the previous pass's file: the hashes tell */
      if (json_object_get(old, "H") || strcmp(str(old, "h"), str(e, "h")) != 0) return 1;
    } else if (hash_existing) {
      int fd = openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      char hex[65];
      uint64_t n;
      if (fd < 0) return 1;
      int r = mig_hash_fd(fd, hex, &n, err);
      close(fd);
      if (r < 0 || strcmp(hex, str(e, "h")) != 0) return 1;
    }
    return fix_meta(pfd, leaf, e, false, p, err);
  }
}

static int
send_wants(struct mig_conn *c, json_t *wants, uint64_t bytes, struct silo_error *err)
{
  json_t *chunk = json_array();
  size_t i;
  json_t *w;
  json_array_foreach(wants, i, w)
  {
    json_array_append(chunk, w);
    if (json_array_size(chunk) >= 2000) {
      if (mig_send_json(c, MIG_WANT, chunk, err) < 0) return -1;
      chunk = json_array();
    }
  }
  if (json_array_size(chunk) == 0)
    json_decref(chunk);
  else if (mig_send_json(c, MIG_WANT, chunk, err) < 0)
    return -1;
  return mig_send_json(c, MIG_WANT_END,
                       json_pack("{s:I, s:I}", "count", (json_int_t)json_array_size(wants), "bytes",
                                 (json_int_t)bytes),
                       err);
}

static int
recv_wanted(struct mig_conn *c, int rootfd, json_t *m, json_t *wantset, uint64_t *bytes,
            struct silo_error *err)
{
  for (;;) {
    struct mig_frame f;
    if (mig_recv(c, &f, err) < 0) return -1;
    if (f.type == MIG_TREE_END) break;
    if (f.type == MIG_ERROR || f.type == MIG_ABORT) return mig_frame_error(&f, c->peer, err);
    if (f.type != MIG_FILE)
      return silo_err(err, EPROTO, "%s sent %s during the rootfs files", c->peer,
                      mig_type_name(f.type));
    json_t *hdr = mig_frame_json(&f);
    _cleanup_free_ char *p = xstrdup(hdr ? str(hdr, "path") : "");
    if (!hdr || !json_object_get(wantset, p)) {
      if (hdr) json_decref(hdr);
      return silo_err(err, EPROTO, "%s sent `%s`, which was not asked for", c->peer, p);
    }
    json_object_del(wantset, p);
    if (json_is_true(json_object_get(hdr, "gone"))) {
      /* gone on the source since its manifest: so here too, until a later pass */
      json_decref(hdr);
      const char *leaf;
      struct silo_error e = {0};
      _cleanup_close_ int pfd = mig_open_parent(rootfd, p, &leaf, &e);
      if (pfd >= 0) fs_rm_rf_at(pfd, leaf, NULL);
      json_object_del(m, p);
      continue;
    }
    int r = mig_recv_file(c, rootfd, p, hdr, json_object_get(m, p), bytes, err);
    json_decref(hdr);
    if (r < 0) return silo_err_wrap(err, "rootfs");
  }
  if (json_object_size(wantset))
    return silo_err(err, EPROTO, "%s did not send %zu of the files asked for", c->peer,
                    json_object_size(wantset));
  return 0;
}

static int
link_hardlinks(int rootfd, json_t *m, struct silo_error *err)
{
  const char *p;
  json_t *e;
  json_object_foreach(m, p, e)
  {
    if (!json_object_get(e, "H")) continue;
    const char *leaf, *first_leaf;
    _cleanup_close_ int pfd = mig_open_parent(rootfd, p, &leaf, err);
    _cleanup_close_ int ffd =
        pfd >= 0 ? mig_open_parent(rootfd, str(e, "H"), &first_leaf, err) : -1;
    if (pfd < 0 || ffd < 0) return silo_err_wrap(err, "hard link `%s`", p);
    struct stat a, b;
    if (fstatat(pfd, leaf, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
        fstatat(ffd, first_leaf, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev)
      continue;
    fs_rm_rf_at(pfd, leaf, NULL);
    if (linkat(ffd, first_leaf, pfd, leaf, 0) < 0)
      return silo_err(err, errno, "hard link `%s` to `%s`", p, str(e, "H"));
  }
  return 0;
}

int
mig_sync_rootfs_recv(struct mig_conn *c, const struct mig_frame *first, int rootfd,
                     struct mig_manifest *known, uint64_t *bytes, struct silo_error *err)
{
  json_t *m = json_object(), *wants = json_array(), *wantset = json_object();
  uint64_t want_bytes = 0;
  int ret = -1;
  if (recv_manifest(c, first, m, err) < 0) goto out;

  bool have_known = known && known->entries;
  if (have_known) {
    const char *p;
    json_t *e;
    json_object_foreach(known->entries, p, e)
    {
      if (json_object_get(m, p)) continue;
      const char *leaf;
      int pfd = mig_open_parent(rootfd, p, &leaf, err);
      if (pfd >= 0) fs_rm_rf_at(pfd, leaf, NULL), close(pfd);
    }
  } else {
    remove_extras(fcntl(rootfd, F_DUPFD_CLOEXEC, 3), "", m);
  }
  const char *p;
  json_t *e;
  json_object_foreach(m, p, e)
  {
    json_t *old = have_known ? json_object_get(known->entries, p) : NULL;
    if (old && same_entry(old, e)) continue;
    int r = apply_entry(rootfd, p, e, old, true, err);
    if (r < 0) goto out;
    if (r == 1) {
      json_array_append_new(wants, json_string(p));
      json_object_set_new(wantset, p, json_true());
      want_bytes += (uint64_t)num(e, "s");
    }
  }
  if (send_wants(c, wants, want_bytes, err) < 0 ||
      recv_wanted(c, rootfd, m, wantset, bytes, err) < 0 || link_hardlinks(rootfd, m, err) < 0)
    goto out;
  /* The root directory itself: the source's mode. */
  if (fchmod(rootfd, 0755) < 0) {
    silo_err(err, errno, "chmod rootfs");
    goto out;
  }
  if (mig_send_json(c, MIG_SYNCED, json_object(), err) < 0) goto out;
  if (known) {
    mig_manifest_free(known);
    known->entries = m;
    m = NULL;
  }
  ret = 0;
out:
  if (m) json_decref(m);
  json_decref(wants);
  json_decref(wantset);
  return ret;
}
