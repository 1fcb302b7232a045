/* silo: the runtime's tmpfs mounts made again at restore (issue #17; the dump
 * side and the whole picture: tmpfs.c).
 *
 * The list comes from the image's manifest, or from a migration's peer: it is
 * checked against the config before anything is made (ckpt_tmpfs_check), so that
 * a corrupted or hostile one cannot put a device node, a set-uid file or a mount
 * option into the container that the config does not allow:
 *   - at most CKPT_TMPFS_MAX_MOUNTS mounts, each at a mount point the config gives
 *     a tmpfs (a tmpfs or cgroup destination, a masked directory), once;
 *   - the mount's flags and options from an allow-list, keeping every one of
 *     ro, nosuid, nodev and noexec that the config's mount asks for;
 *   - at most CKPT_TMPFS_MAX_ENTRIES entries, each a relative path without "."
 *     or "..", CKPT_TMPFS_MAX_DEPTH deep at most, a known type, a mode <= 07777;
 *     a symlink with a target, a device node only as the runtime makes them
 *     (the defaults and linux.devices).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* ---- the check ---- */

/* The mount flags mountinfo may show for such a tmpfs. */
static const char *const flag_allowed[] = {"rw",          "ro",       "nosuid",  "nodev",
                                           "noexec",      "relatime", "noatime", "nodiratime",
                                           "strictatime", "sync",     "dirsync", "nosymfollow"};
/* tmpfs' own options (name=value where the name ends in '='). */
static const char *const data_allowed[] = {"rw",     "ro",    "seclabel",   "inode32",    "inode64",
                                           "noswap", "size=", "nr_blocks=", "nr_inodes=", "mode=",
                                           "uid=",   "gid=",  "huge="};

static bool
in_list(const char *t, const char *const *list, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(list[i]);
    if (list[i][l - 1] == '='
            ? !strncmp(t, list[i], l) && t[l] &&
                  strspn(t + l, "0123456789abcdefghijklmnopqrstuvwxyzKMGTP%") == strlen(t + l)
            : !strcmp(t, list[i]))
      return true;
  }
  return false;
}

/* "rw,nosuid,nodev,relatime" -> mount flags through mountopts.c's table; -1 and
 * *bad set at an option not allowed. */
static int
mount_flags(const char *opts, unsigned long *flags, char **bad)
{
  *flags = 0;
  _cleanup_free_ char *s = xstrdup(opts);
  char *save = NULL;
  for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (!in_list(t, flag_allowed, ARRAY_SIZE(flag_allowed)) || mountopts_flag(t, flags, NULL) < 0) {
      *bad = xstrdup(t);
      return -1;
    }
  if (!(*flags & (MS_RELATIME | MS_NOATIME))) *flags |= MS_STRICTATIME;
  return 0;
}

/* Appends opt to the comma-separated list *list (a malloc'ed string). */
static void
opt_append(char **list, const char *opt)
{
  char *n = xasprintf("%s%s%s", *list, (*list)[0] ? "," : "", opt);
  free(*list);
  *list = n;
}

/* The superblock's options without rw/ro (the flags say it) and seclabel; NULL
 * and *bad set at one not allowed. */
static char *
mount_data(const char *opts, char **bad)
{
  _cleanup_free_ char *s = xstrdup(opts);
  char *out = xstrdup(""), *save = NULL;
  for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (!in_list(t, data_allowed, ARRAY_SIZE(data_allowed))) {
      *bad = xstrdup(t);
      free(out);
      return NULL;
    }
    if (!strcmp(t, "rw") || !strcmp(t, "ro") || !strcmp(t, "seclabel")) continue;
    opt_append(&out, t);
  }
  return out;
}

/* ---- the size limits: the config's, never the image's ---- */

static bool
is_limit(const char *o)
{
  return !strncmp(o, "size=", 5) || !strncmp(o, "nr_blocks=", 10) || !strncmp(o, "nr_inodes=", 10);
}

/* The size=, nr_blocks= and nr_inodes= options the runtime gives the tmpfs at key
 * (as ckpt_tmpfs_candidate finds it): the config's tmpfs mount's, "size=0" for a
 * masked directory (rootfs.c's mask), none for the tmpfs under cgroup mounts. */
static char *
config_limits(const struct oci_config *cfg, const char *key)
{
  unsigned long required;
  const struct oci_mount *m;
  ckpt_tmpfs_candidate(cfg, key, &required, &m);
  if (!m) return xstrdup("size=0");
  char *out = xstrdup("");
  for (size_t k = 0; !strcmp(m->type, "tmpfs") && k < m->n_options; k++)
    if (is_limit(m->options[k])) opt_append(&out, m->options[k]);
  return out;
}

/* The kernel's memparse: a number (base 0) and a K/M/G/T/P/E suffix. */
static bool
memparse(const char *s, unsigned long long *v, const char **rest)
{
  char *end;
  errno = 0;
  unsigned long long x = strtoull(s, &end, 0);
  if (end == s || errno || *s == '-') return false;
  static const char units[] = "kmgtpe";
  const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
  int shift = u ? 10 * (int)(u - units + 1) : 0;
  if (u) end++;
  if (shift && x > (~0ULL >> shift)) return false;
  *v = x << shift;
  *rest = end;
  return true;
}

/* The blocks (pages) and inodes a tmpfs mounted with the options in data may use,
 * as the kernel (mm/shmem.c) computes them; an option absent: the kernel's
 * default (half the RAM's pages, for both).  -1: one it would not take. */
static int
tmpfs_limits(const char *data, unsigned long long *blocks, unsigned long long *inodes)
{
  struct sysinfo si;
  long page = sysconf(_SC_PAGESIZE);
  if (sysinfo(&si) < 0 || page <= 0) return -1;
  unsigned long long ram = (unsigned long long)si.totalram * si.mem_unit / (unsigned long long)page;
  *blocks = *inodes = ram / 2;
  _cleanup_free_ char *s = xstrdup(data);
  char *save = NULL;
  for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    unsigned long long v;
    const char *rest;
    if (!is_limit(t)) continue;
    if (!memparse(strchr(t, '=') + 1, &v, &rest)) return -1;
    if (t[0] == 's') { /* size=: bytes, or a percentage of the RAM */
      if (*rest == '%') {
        /* as shmem_parse_one: the bytes (N << PAGE_SHIFT) * pages / 100, rounded
         * up to pages below (not N% of the pages, rounded down) */
        if (v > 100000) return -1;
        v = v * (unsigned long long)page * ram / 100;
        rest++;
      }
      v = (v + (unsigned long long)page - 1) / (unsigned long long)page;
    }
    if (*rest) return -1;
    if (t[1] == 'r' && t[3] == 'i')
      *inodes = v;
    else
      *blocks = v;
  }
  return 0;
}

bool
ckpt_tmpfs_limits_same(const struct oci_config *cfg, json_t *m)
{
  const char *key = json_string_value(json_object_get(m, "key"));
  const char *opts = json_string_value(json_object_get(m, "options"));
  if (!key || !opts) return false;
  _cleanup_free_ char *want = config_limits(cfg, key);
  unsigned long long b1, i1, b2, i2;
  return tmpfs_limits(opts, &b1, &i1) == 0 && tmpfs_limits(want, &b2, &i2) == 0 && b1 == b2 &&
         i1 == i2;
}

/* Components of a relative path without "." or ".."; 0: not one. */
static size_t
rel_depth(const char *p)
{
  if (!p || !p[0] || p[0] == '/') return 0;
  _cleanup_free_ char *s = xstrdup(p);
  char *save = NULL;
  size_t n = 0;
  for (char *t = strtok_r(s, "/", &save); t; t = strtok_r(NULL, "/", &save), n++)
    if (!strcmp(t, ".") || !strcmp(t, "..")) return 0;
  return n;
}

static bool
int_in(json_t *v, json_int_t lo, json_int_t hi)
{
  return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

static int
check_entry(const struct oci_config *cfg, const char *key, json_t *e, size_t k,
            struct silo_error *err)
{
  const char *p = json_string_value(json_object_get(e, "p"));
  const char *t = json_string_value(json_object_get(e, "t"));
  if (!p || !t || strlen(t) != 1 || !strchr("dlcbf", t[0]))
    return silo_err(err, EINVAL, "entry %zu: no path or no known type", k);
  if (strcmp(p, ".") == 0 ? t[0] != 'd' : !rel_depth(p))
    return silo_err(err, EINVAL, "entry `%s`: not a relative path", p);
  if (rel_depth(p) > CKPT_TMPFS_MAX_DEPTH + 1)
    return silo_err(err, EINVAL, "entry `%s`: deeper than %d", p, CKPT_TMPFS_MAX_DEPTH + 1);
  if (!int_in(json_object_get(e, "m"), 0, 07777))
    return silo_err(err, EINVAL, "entry `%s`: mode not within 07777", p);
  if (!int_in(json_object_get(e, "u"), 0, UINT32_MAX - 1) ||
      !int_in(json_object_get(e, "g"), 0, UINT32_MAX - 1))
    return silo_err(err, EINVAL, "entry `%s`: owner", p);
  const char *l = json_string_value(json_object_get(e, "l"));
  if (t[0] == 'l' && (!l || !l[0] || strlen(l) >= PATH_MAX))
    return silo_err(err, EINVAL, "entry `%s`: a symlink without a target", p);
  if (t[0] == 'c' || t[0] == 'b') {
    json_t *r = json_object_get(e, "r");
    dev_t dev = (dev_t)json_integer_value(r);
    mode_t mode = (mode_t)json_integer_value(json_object_get(e, "m"));
    uid_t uid = (uid_t)json_integer_value(json_object_get(e, "u"));
    gid_t gid = (gid_t)json_integer_value(json_object_get(e, "g"));
    _cleanup_free_ char *at = xasprintf("%s/%s", key, p);
    if (!int_in(r, 0, INT64_MAX) ||
        !devices_known(cfg, at, t[0], major(dev), minor(dev), mode, uid, gid))
      return silo_err(err, EPERM,
                      "entry `%s`: device %c %u:%u mode %04o owner %u:%u, not one of "
                      "linux.devices (or the defaults) as the runtime makes it",
                      p, t[0], major(dev), minor(dev), (unsigned)mode, (unsigned)uid,
                      (unsigned)gid);
  }
  return 0;
}

int
ckpt_tmpfs_check_mount(const struct oci_config *cfg, json_t *m, struct silo_error *err)
{
  const char *key = json_string_value(json_object_get(m, "key"));
  const char *flags = json_string_value(json_object_get(m, "flags"));
  const char *opts = json_string_value(json_object_get(m, "options"));
  const char *source = json_string_value(json_object_get(m, "source"));
  json_t *entries = json_object_get(m, "entries");
  unsigned long required, f;
  if (!key || !ckpt_tmpfs_candidate(cfg, key, &required, NULL))
    return silo_err(err, EPERM, "tmpfs `%s`: the config has no tmpfs there", key ? key : "?");
  if (!flags || !opts || !source || !source[0] || strlen(source) > 255 || !json_is_array(entries))
    return silo_err(err, EINVAL, "tmpfs `%s`: no flags, options, source or entries", key);
  _cleanup_free_ char *bad = NULL;
  if (mount_flags(flags, &f, &bad) < 0)
    return silo_err(err, EPERM, "tmpfs `%s`: mount flag `%s` not allowed", key, bad);
  _cleanup_free_ char *data = mount_data(opts, &bad);
  if (!data) return silo_err(err, EPERM, "tmpfs `%s`: option `%s` not allowed", key, bad);
  if ((f & required) != required)
    return silo_err(err, EPERM,
                    "tmpfs `%s`: flags `%s` drop one of the config's ro, nosuid, "
                    "nodev, noexec",
                    key, flags);
  if (json_array_size(entries) > CKPT_TMPFS_MAX_ENTRIES + 1)
    return silo_err(err, E2BIG, "tmpfs `%s`: more than %d entries", key, CKPT_TMPFS_MAX_ENTRIES);
  size_t k;
  json_t *e;
  json_array_foreach(entries, k, e) if (check_entry(cfg, key, e, k, err) <
                                        0) return silo_err_wrap(err, "tmpfs `%s`", key);
  return 0;
}

int
ckpt_tmpfs_check(json_t *list, const struct oci_config *cfg, struct silo_error *err)
{
  if (!list) return 0;
  if (!json_is_array(list) || json_array_size(list) > CKPT_TMPFS_MAX_MOUNTS)
    return silo_err(err, EINVAL, "%s: \"tmpfs\" is not a list of at most %d mounts", CKPT_MANIFEST,
                    CKPT_TMPFS_MAX_MOUNTS);
  if (json_array_size(list) && oci_config_namespace(cfg, OCI_NS_USER))
    return silo_err(err, EPERM, "%s: tmpfs mounts of a container with a user namespace",
                    CKPT_MANIFEST);
  json_t *keys = json_object();
  size_t i;
  json_t *m;
  int r = 0;
  json_array_foreach(list, i, m)
  {
    if ((r = ckpt_tmpfs_check_mount(cfg, m, err)) < 0) break;
    const char *key = json_string_value(json_object_get(m, "key"));
    if (json_object_get(keys, key)) {
      r = silo_err(err, EINVAL, "tmpfs `%s`: twice", key);
      break;
    }
    json_object_set_new(keys, key, json_true());
  }
  json_decref(keys);
  return r < 0 ? silo_err_wrap(err, "%s", CKPT_MANIFEST) : 0;
}

/* ---- making them ---- */

/* One entry of the (checked) list, made beneath dfd (the new tmpfs's root)
 * without following any symlink: a listed symlink cannot lead a later entry out. */
static int
make_entry(int dfd, json_t *e, struct silo_error *err)
{
  const char *p = json_string_value(json_object_get(e, "p"));
  const char *t = json_string_value(json_object_get(e, "t"));
  mode_t mode = (mode_t)json_integer_value(json_object_get(e, "m")) & 07777;
  uid_t uid = (uid_t)json_integer_value(json_object_get(e, "u"));
  gid_t gid = (gid_t)json_integer_value(json_object_get(e, "g"));
  if (!strcmp(p, ".")) {
    if (fchown(dfd, uid, gid) < 0 || fchmod(dfd, mode) < 0)
      return silo_err(err, errno, "tmpfs root");
    return 0;
  }
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
  switch (t[0]) {
  case 'd':
    r = mkdirat(pfd, leaf, mode);
    break;
  case 'l':
    r = symlinkat(json_string_value(json_object_get(e, "l")), pfd, leaf);
    break;
  case 'c':
  case 'b':
    r = mknodat(pfd, leaf, (t[0] == 'c' ? S_IFCHR : S_IFBLK) | mode,
                (dev_t)json_integer_value(json_object_get(e, "r")));
    break;
  default: { /* 'f' (checked) */
    int fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    r = fd < 0 ? -1 : close(fd);
    break;
  }
  }
  if (r < 0) return silo_err(err, errno, "tmpfs entry `%s`", p);
  if (fchownat(pfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return silo_err(err, errno, "tmpfs entry `%s`: chown", p);
  /* mknod and open applied the umask; a symlink has no mode of its own */
  if (t[0] != 'l' && fchmodat(pfd, leaf, mode, 0) < 0)
    return silo_err(err, errno, "tmpfs entry `%s`: chmod", p);
  return 0;
}

int
ckpt_tmpfs_make(json_t *list, const struct oci_config *cfg, int statefd, const char *statedir,
                struct criu_req *r, struct silo_error *err)
{
  if (!json_array_size(list)) return 0;
  /* A key CRIU is already given another source for (a cgroup mount's on a unified
   * host, which may be /sys/fs/cgroup itself; a bind): criu_req_mount would keep
   * that one, and CRIU would find no tmpfs content in the images for it. */
  for (size_t i = 0; i < json_array_size(list); i++) {
    const char *key = json_string_value(json_object_get(json_array_get(list, i), "key"));
    for (size_t k = 0; key && k < r->n_mnts; k++)
      if (!strcmp(r->mnts[k].key, key))
        return silo_err(err, EEXIST,
                        "tmpfs `%s`: also an external mount of this host's (a cgroup or a bind "
                        "mount): the image was made where it was a tmpfs",
                        key);
  }
  if (mkdirat(statefd, "criu-tmpfs", 0700) < 0 && errno != EEXIST)
    return silo_err(err, errno, "mkdir criu-tmpfs");
  size_t i;
  json_t *m;
  json_array_foreach(list, i, m)
  {
    /* (ckpt_tmpfs_check let only allowed flags and options through) */
    const char *key = json_string_value(json_object_get(m, "key"));
    json_t *entries = json_object_get(m, "entries");
    _cleanup_free_ char *dir = xasprintf("%s/criu-tmpfs/%zu", statedir, i), *bad = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) return silo_err(err, errno, "mkdir `%s`", dir);
    unsigned long flags;
    _cleanup_free_ char *given = mount_data(json_string_value(json_object_get(m, "options")), &bad);
    if (!given || mount_flags(json_string_value(json_object_get(m, "flags")), &flags, &bad) < 0)
      return silo_err(err, EPERM, "tmpfs `%s`: `%s`", key, bad);
    /* The size limits are the config's (as this host computes them), never the
     * image's or the peer's: a restore cannot give the container a larger tmpfs
     * than the config does.  The dump lists only a tmpfs whose limits are the
     * config's (ckpt_tmpfs_limits_same): a remounted one is CRIU's. */
    _cleanup_free_ char *data = config_limits(cfg, key);
    char *save = NULL;
    for (char *t = strtok_r(given, ",", &save); t; t = strtok_r(NULL, ",", &save))
      if (!is_limit(t)) opt_append(&data, t);
    /* Privileged: a new tmpfs in silo's private mount namespace (restore.c's
     * private_mount_ns: nothing propagates to the host), on a directory of the
     * container's own state directory, with flags and options the check allowed;
     * CRIU binds it into the container. */
    const char *source = json_string_value(json_object_get(m, "source"));
    if (mount(source, dir, "tmpfs", flags & ~MS_RDONLY, data) < 0)
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
