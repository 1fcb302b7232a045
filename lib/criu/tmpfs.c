/* silo: the tmpfs mounts the runtime made, external to CRIU (issue #17).
 *
 * CRIU dumps a tmpfs by running `tar --create --gzip` over it, and restores it
 * with `tar --extract`: a fork and an exec each way for every tmpfs of the
 * container (/dev, /dev/shm, the tmpfs over each masked directory,
 * /sys/fs/cgroup on a v1 or hybrid host), all of it while the tasks are frozen.
 * What the runtime put there is only directories, symlinks, device nodes and
 * empty files, which silo can make again itself:
 *
 *   dump     every tmpfs of the container's init at a config tmpfs destination,
 *            a masked directory or a cgroup destination, whose root is its
 *            filesystem's, private (no peer or master), holding nothing but
 *            directories, symlinks, device nodes and empty files (one link
 *            each), is listed (ckpt_tmpfs_collect: options, flags, entries)
 *            and declared external (key = its mount point).  The list goes
 *            into silo-checkpoint.json.  Anything else there (a file with
 *            data: a container wrote into /dev/shm; a FIFO, a socket, a hard
 *            link) leaves that mount to CRIU's tar, as before.
 *   freeze   the list is checked again once the cgroup is frozen
 *            (ckpt_tmpfs_unchanged, at CRIU's pre-dump notification): a
 *            container that wrote there between the first look and the freeze
 *            makes the dump start again with those mounts left to CRIU.
 *   restore  each listed tmpfs is made again (same options and flags) in
 *            silo's private mount namespace, filled from the list, and handed
 *            to CRIU as the external mount's source (ckpt_tmpfs_make).
 *
 * Nothing a container wrote is lost: a tmpfs is external only when the list
 * describes all of it.  Not in a user namespace (CRIU makes those mounts from
 * inside it), not idmapped, not without silo's early freeze.  Times of the entries are not kept (tar kept mtimes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/silo.h"
#include "oci/oci.h"

#define TMPFS_MAX_ENTRIES 4096
#define TMPFS_MAX_DEPTH   16

/* ---- dump: what a tmpfs holds ---- */

static uint64_t
mnt_id_at(int dirfd, const char *name, struct stat *st)
{
  struct statx sx;
  int flags = AT_SYMLINK_NOFOLLOW | (name[0] ? 0 : AT_EMPTY_PATH);
  if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_MNT_ID, &sx) < 0 ||
      !(sx.stx_mask & STATX_MNT_ID))
    return 0;
  st->st_mode = sx.stx_mode;
  st->st_uid = sx.stx_uid;
  st->st_gid = sx.stx_gid;
  st->st_size = (off_t)sx.stx_size;
  st->st_nlink = sx.stx_nlink;
  st->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
  return sx.stx_mnt_id;
}

/* Appends the entries below dirfd (path prefix rel) to out; 1: not reproducible. */
static int
walk(int dirfd, const char *rel, uint64_t mnt, int depth, json_t *out)
{
  if (depth > TMPFS_MAX_DEPTH) return 1;
  int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
  DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
  if (!d) {
    if (dup >= 0) close(dup);
    return 1;
  }
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (json_array_size(out) >= TMPFS_MAX_ENTRIES) {
      ret = 1;
      break;
    }
    struct stat st;
    uint64_t id = mnt_id_at(dirfd, de->d_name, &st);
    _cleanup_free_ char *p = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
    if (!id) {
      ret = 1;
      break;
    }
    if (id != mnt) {
      /* a mount point of another mount (devpts, mqueue, a bind): what lies under
       * it is covered; its type is what that mount's root is */
      json_array_append_new(out,
                            json_pack("{s:s, s:s}", "p", p, "t", S_ISDIR(st.st_mode) ? "d" : "f"));
      continue;
    }
    json_t *e = json_pack("{s:s, s:i, s:i, s:i}", "p", p, "m", (int)(st.st_mode & 07777), "u",
                          (int)st.st_uid, "g", (int)st.st_gid);
    if (S_ISDIR(st.st_mode)) {
      json_object_set_new(e, "t", json_string("d"));
      json_array_append_new(out, e);
      _cleanup_close_ int sub =
          openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      ret = sub < 0 ? 1 : walk(sub, p, mnt, depth + 1, out);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(dirfd, de->d_name, target, sizeof target - 1);
      if (n < 0) {
        json_decref(e);
        ret = 1;
        break;
      }
      target[n] = '\0';
      json_object_set_new(e, "t", json_string("l"));
      json_object_set_new(e, "l", json_string(target));
      json_array_append_new(out, e);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      json_object_set_new(e, "t", json_string(S_ISCHR(st.st_mode) ? "c" : "b"));
      json_object_set_new(e, "r", json_integer((json_int_t)st.st_rdev));
      json_array_append_new(out, e);
    } else if (S_ISREG(st.st_mode) && st.st_size == 0 && st.st_nlink == 1) {
      json_object_set_new(e, "t", json_string("f"));
      json_array_append_new(out, e);
    } else {
      /* data, a hard link, a FIFO, a socket: the container's, for CRIU's tar */
      json_decref(e);
      ret = 1;
    }
  }
  closedir(d);
  return ret;
}

/* The entries of the tmpfs mounted at mnt (mount id `id`) in pid's root, or NULL
 * when it holds something silo would not make again exactly. */
static json_t *
list_tmpfs(pid_t pid, const char *mnt, uint64_t id)
{
  _cleanup_free_ char *root = xasprintf("/proc/%d/root", (int)pid);
  _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct silo_error e = {0};
  _cleanup_close_ int fd =
      rootfd < 0 ? -1 : fs_open_in_root(rootfd, mnt, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &e);
  struct stat st;
  /* the very mount mountinfo named, seen at its root */
  if (fd < 0 || mnt_id_at(fd, "", &st) != id) return NULL;
  json_t *entries = json_array();
  json_array_append_new(entries, json_pack("{s:s, s:s, s:i, s:i, s:i}", "p", ".", "t", "d", "m",
                                           (int)(st.st_mode & 07777), "u", (int)st.st_uid, "g",
                                           (int)st.st_gid));
  if (walk(fd, "", id, 0, entries) != 0) {
    json_decref(entries);
    return NULL;
  }
  return entries;
}

static bool
is_candidate(const struct oci_config *cfg, const char *mnt)
{
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    if (!m->type || strcmp(m->destination, mnt) != 0) continue;
    if (!strcmp(m->type, "tmpfs") || !strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2"))
      return true;
  }
  const struct oci_linux *l = cfg->linux;
  for (size_t i = 0; l && i < l->n_masked_paths; i++)
    if (strcmp(l->masked_paths[i], mnt) == 0) return true;
  return false;
}

json_t *
ckpt_tmpfs_collect(const struct oci_config *cfg, pid_t pid, const struct criu_req *r)
{
  /* In a user namespace CRIU makes the container's mounts from inside it (the
   * tmpfs belong to that namespace): those stay CRIU's. */
  if (oci_config_namespace(cfg, OCI_NS_USER)) return json_array();
  char path[64], line[4096];
  snprintf(path, sizeof path, "/proc/%d/mountinfo", (int)pid);
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  json_t *list = json_array(), *seen = json_object(); /* mount point -> count */
  while (f && fgets(line, sizeof line, f)) {
    unsigned long long id;
    char root[PATH_MAX], mnt[PATH_MAX], mopts[512], fstype[64], source[256], sopts[1024];
    const char *dash = strstr(line, " - ");
    if (!dash || sscanf(line, "%llu %*d %*s %4095s %4095s %511s", &id, root, mnt, mopts) != 4 ||
        sscanf(dash + 3, "%63s %255s %1023s", fstype, source, sopts) != 3)
      continue;
    json_object_set_new(seen, mnt,
                        json_integer(json_integer_value(json_object_get(seen, mnt)) + 1));
    /* optional fields (shared:N, master:N) between the options and " - ": CRIU
     * keeps such a mount's propagation; it stays CRIU's */
    const char *after = strstr(line, mopts);
    bool private = after && after + strlen(mopts) == dash;
    if (strcmp(fstype, "tmpfs") || strcmp(root, "/") || !private || strchr(mnt, '\\') ||
        strstr(mopts, "idmapped") || !is_candidate(cfg, mnt))
      continue;
    bool taken = false; /* already external (a bind) */
    for (size_t i = 0; i < r->n_mnts && !taken; i++) taken = !strcmp(r->mnts[i].key, mnt);
    if (taken) continue;
    json_t *entries = list_tmpfs(pid, mnt, id);
    if (!entries) {
      silo_log_debug("checkpoint: tmpfs %s holds what only CRIU's tar keeps: left to CRIU", mnt);
      continue;
    }
    json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:s, s:s, s:o}", "key", mnt, "id",
                                          (json_int_t)id, "source", source, "flags", mopts,
                                          "options", sopts, "entries", entries));
  }
  /* a mount point with more than one mount (over-mounted): the key would be
   * ambiguous, CRIU's */
  json_t *out = json_array();
  size_t k;
  json_t *v;
  json_array_foreach(list, k, v)
  {
    const char *key = json_string_value(json_object_get(v, "key"));
    if (json_integer_value(json_object_get(seen, key)) == 1) json_array_append(out, v);
  }
  json_decref(list);
  json_decref(seen);
  return out;
}

bool
ckpt_tmpfs_unchanged(json_t *list, pid_t pid)
{
  size_t i;
  json_t *m;
  json_array_foreach(list, i, m)
  {
    const char *key = json_string_value(json_object_get(m, "key"));
    uint64_t id = (uint64_t)json_integer_value(json_object_get(m, "id"));
    json_t *now = list_tmpfs(pid, key, id);
    bool same = now && json_equal(now, json_object_get(m, "entries"));
    if (now) json_decref(now);
    if (!same) {
      silo_log_debug("checkpoint: tmpfs %s changed before the freeze", key);
      return false;
    }
  }
  return true;
}

/* ---- restore: the same tmpfs again ---- */

/* "rw,nosuid,nodev,relatime" -> mount flags */
static unsigned long
mount_flags(const char *opts)
{
  static const struct {
    const char *name;
    unsigned long flag;
  } map[] = {{"ro", MS_RDONLY},         {"nosuid", MS_NOSUID},
             {"nodev", MS_NODEV},       {"noexec", MS_NOEXEC},
             {"noatime", MS_NOATIME},   {"nodiratime", MS_NODIRATIME},
             {"relatime", MS_RELATIME}, {"sync", MS_SYNCHRONOUS},
             {"dirsync", MS_DIRSYNC},   {"nosymfollow", MS_NOSYMFOLLOW}};
  unsigned long flags = 0;
  _cleanup_free_ char *s = xstrdup(opts ? opts : "");
  char *save = NULL;
  for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save))
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
      if (!strcmp(t, map[i].name)) flags |= map[i].flag;
  if (!(flags & (MS_RELATIME | MS_NOATIME))) flags |= MS_STRICTATIME;
  return flags;
}

/* The superblock's options without rw/ro (the flags say it) and seclabel. */
static char *
mount_data(const char *opts)
{
  _cleanup_free_ char *s = xstrdup(opts ? opts : "");
  char *out = xstrdup(""), *save = NULL;
  for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (!strcmp(t, "rw") || !strcmp(t, "ro") || !strcmp(t, "seclabel")) continue;
    char *n = xasprintf("%s%s%s", out, out[0] ? "," : "", t);
    free(out);
    out = n;
  }
  return out;
}

static bool
rel_ok(const char *p)
{
  if (!p || !p[0] || p[0] == '/') return false;
  _cleanup_free_ char *s = xstrdup(p);
  char *save = NULL;
  for (char *t = strtok_r(s, "/", &save); t; t = strtok_r(NULL, "/", &save))
    if (!strcmp(t, ".") || !strcmp(t, "..")) return false;
  return true;
}

/* One entry of the list, made beneath dfd (the new tmpfs's root) without
 * following any symlink: a listed symlink cannot lead a later entry out. */
static int
make_entry(int dfd, json_t *e, struct silo_error *err)
{
  const char *p = json_string_value(json_object_get(e, "p"));
  const char *t = json_string_value(json_object_get(e, "t"));
  json_t *jm = json_object_get(e, "m");
  mode_t mode = (mode_t)json_integer_value(jm) & 07777;
  uid_t uid = (uid_t)json_integer_value(json_object_get(e, "u"));
  gid_t gid = (gid_t)json_integer_value(json_object_get(e, "g"));
  if (!p || !t) return silo_err(err, EINVAL, "tmpfs entry without a path or type");
  if (!strcmp(p, ".")) {
    if (fchown(dfd, uid, gid) < 0 || fchmod(dfd, mode) < 0)
      return silo_err(err, errno, "tmpfs root");
    return 0;
  }
  if (!rel_ok(p)) return silo_err(err, EINVAL, "tmpfs entry `%s`: not a relative path", p);
  _cleanup_free_ char *dir = xstrdup(p);
  char *slash = strrchr(dir, '/');
  const char *leaf = slash ? slash + 1 : p;
  if (slash) *slash = '\0';
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV};
  _cleanup_close_ int pfd = slash ? (int)syscall(SYS_openat2, dfd, dir, &how, sizeof how)
                                  : fcntl(dfd, F_DUPFD_CLOEXEC, 3);
  if (pfd < 0) return silo_err(err, errno, "tmpfs entry `%s`", p);
  int r;
  bool plain = !jm; /* a mount point: only its type matters */
  switch (t[0]) {
  case 'd':
    r = mkdirat(pfd, leaf, plain ? 0755 : mode);
    break;
  case 'l':
    r = symlinkat(json_string_value(json_object_get(e, "l")) ?: "", pfd, leaf);
    break;
  case 'c':
  case 'b':
    r = mknodat(pfd, leaf, (t[0] == 'c' ? S_IFCHR : S_IFBLK) | mode,
                (dev_t)json_integer_value(json_object_get(e, "r")));
    break;
  case 'f': {
    int fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    plain ? 0644 : mode);
    r = fd < 0 ? -1 : close(fd);
    break;
  }
  default:
    return silo_err(err, EINVAL, "tmpfs entry `%s`: type `%s`", p, t);
  }
  if (r < 0) return silo_err(err, errno, "tmpfs entry `%s`", p);
  if (plain) return 0;
  if (fchownat(pfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return silo_err(err, errno, "tmpfs entry `%s`: chown", p);
  /* mknod and open applied the umask; a symlink has no mode of its own */
  if (t[0] != 'l' && fchmodat(pfd, leaf, mode, 0) < 0)
    return silo_err(err, errno, "tmpfs entry `%s`: chmod", p);
  return 0;
}

int
ckpt_tmpfs_make(json_t *list, int statefd, const char *statedir, struct criu_req *r,
                struct silo_error *err)
{
  if (!json_array_size(list)) return 0;
  if (mkdirat(statefd, "criu-tmpfs", 0700) < 0 && errno != EEXIST)
    return silo_err(err, errno, "mkdir criu-tmpfs");
  size_t i;
  json_t *m;
  json_array_foreach(list, i, m)
  {
    const char *key = json_string_value(json_object_get(m, "key"));
    json_t *entries = json_object_get(m, "entries");
    if (!key || key[0] != '/' || !json_is_array(entries))
      return silo_err(err, EINVAL, "silo-checkpoint.json: a bad tmpfs entry");
    _cleanup_free_ char *dir = xasprintf("%s/criu-tmpfs/%zu", statedir, i);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) return silo_err(err, errno, "mkdir `%s`", dir);
    unsigned long flags = mount_flags(json_string_value(json_object_get(m, "flags")));
    _cleanup_free_ char *data = mount_data(json_string_value(json_object_get(m, "options")));
    /* Privileged: a new tmpfs in silo's private mount namespace (restore.c's
     * private_mount_ns: nothing propagates to the host), on a directory of the
     * container's own state directory; CRIU binds it into the container. */
    const char *source = json_string_value(json_object_get(m, "source"));
    if (mount(source && source[0] ? source : "tmpfs", dir, "tmpfs", flags & ~MS_RDONLY, data) < 0)
      return silo_err(err, errno, "tmpfs for `%s` (%s)", key, data);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) return silo_err(err, errno, "`%s`", dir);
    size_t k;
    json_t *e;
    json_array_foreach(entries, k, e) if (make_entry(dfd, e, err) <
                                          0) return silo_err_wrap(err, "tmpfs `%s`", key);
    if ((flags & MS_RDONLY) && mount(NULL, dir, NULL, MS_REMOUNT | flags, data) < 0)
      return silo_err(err, errno, "tmpfs for `%s`: read-only", key);
    criu_req_mount(r, key, dir);
  }
  return 0;
}

void
ckpt_tmpfs_unmake(int statefd, const char *statedir, json_t *list)
{
  for (size_t i = 0; i < json_array_size(list); i++) {
    _cleanup_free_ char *dir = xasprintf("%s/criu-tmpfs/%zu", statedir, i);
    umount2(dir, MNT_DETACH);
    rmdir(dir);
  }
  unlinkat(statefd, "criu-tmpfs", AT_REMOVEDIR);
}
