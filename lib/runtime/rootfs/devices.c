/* silo: /dev inside the container: the default nodes every process expects, the
 * config's linux.devices, and the standard symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lib/base/base.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "oci/oci.h"

static const struct oci_device default_devices[] = {
    {.type = 'c', .path = "/dev/null", .major = 1, .minor = 3},
    {.type = 'c', .path = "/dev/zero", .major = 1, .minor = 5},
    {.type = 'c', .path = "/dev/full", .major = 1, .minor = 7},
    {.type = 'c', .path = "/dev/random", .major = 1, .minor = 8},
    {.type = 'c', .path = "/dev/urandom", .major = 1, .minor = 9},
    {.type = 'c', .path = "/dev/tty", .major = 5, .minor = 0},
};

static bool configured(const struct oci_linux *l, const char *path);

/* The mode a node of linux.devices is made with: its fileMode, else 0666. */
static mode_t
node_mode(const struct oci_device *d)
{
  return d->has_file_mode ? d->file_mode & 07777 : 0666;
}

bool
devices_known(const struct oci_config *cfg, const char *path, char type, int64_t major,
              int64_t minor, mode_t mode, uid_t uid, gid_t gid)
{
  _cleanup_free_ char *at = mountopts_path_clean(path);
  const struct oci_linux *l = cfg->linux;
  /* The defaults, at their own path unless linux.devices makes that one (then
   * only as it does): 0666, owned by root (the runtime makes them so, outside a
   * user namespace). */
  for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
    if (default_devices[i].type == type && default_devices[i].major == major &&
        default_devices[i].minor == minor && !strcmp(default_devices[i].path, at) &&
        !configured(l, at) && mode == 0666 && uid == 0 && gid == 0)
      return true;
  /* The config's, at its path, with its fileMode (0666 without), uid and gid
   * (root's without: finish_node leaves the creator's) */
  for (size_t i = 0; l && i < l->n_devices; i++) {
    const struct oci_device *d = &l->devices[i];
    /* 'u' is an unbuffered character device: made as 'c' */
    char t = d->type == 'u' ? 'c' : d->type;
    _cleanup_free_ char *dp = mountopts_path_clean(d->path);
    if (t == type && d->major == major && d->minor == minor && !strcmp(dp, at) &&
        mode == node_mode(d) && uid == (d->has_uid ? d->uid : 0) &&
        gid == (d->has_gid ? d->gid : 0))
      return true;
  }
  return false;
}

static int
finish_node(int dfd, const char *base, const struct oci_device *d, mode_t mode,
            struct silo_error *err)
{
  /* mknod honours the umask: set the mode the config asked for explicitly. */
  if (fchmodat(dfd, base, mode, 0) < 0) return silo_err(err, errno, "chmod `%s`", d->path);
  if ((d->has_uid || d->has_gid) &&
      fchownat(dfd, base, d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1,
               AT_SYMLINK_NOFOLLOW) < 0)
    return silo_err(err, errno, "chown `%s`", d->path);
  return 0;
}

/* Binds the host's node `host` onto fd, nosuid and noexec as runc binds devices:
 * nothing setuid or executable comes into the container through /dev.  The new
 * mount API sets the flags on the detached tree; mount(2) and a remount before 5.12. */
static int
bind_device(const char *host, int fd, struct silo_error *err)
{
  _cleanup_close_ int tree = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree >= 0) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC};
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &a, sizeof a) < 0 ||
        move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return silo_err(err, errno, "bind device `%s`", host);
    return 0;
  }
  if (errno != ENOSYS) return silo_err(err, errno, "bind device `%s`", host);
  char p[PROC_FD_PATH_MAX];
  fs_proc_fd_path(p, fd);
  if (mount(host, p, NULL, MS_BIND, NULL) < 0)
    return silo_err(err, errno, "bind device `%s`", host);
  /* The fd is the covered file: the remount goes through the path, to the bind. */
  if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) < 0 &&
      mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC, NULL) < 0)
    return silo_err(err, errno, "remount device `%s` nosuid,noexec", host);
  return 0;
}

static int
make_node(struct container_plan *c, int devfd, const struct oci_device *d, struct silo_error *err)
{
  mode_t mode = node_mode(d);
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  /* The path without trailing slashes ("/dev/fuse/" is /dev/fuse, as runc cleans it). */
  _cleanup_free_ char *path = xstrdup(d->path);
  for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--) path[n - 1] = '\0';
  _cleanup_free_ char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (!slash || !slash[1]) return silo_err(err, EINVAL, "path `%s`: not a device path", d->path);
  const char *base = path + (slash - dir) + 1;
  *slash = '\0';
  /* Most nodes live directly in /dev, whose fd the caller holds. */
  _cleanup_close_ int own = -1;
  int dfd = devfd;
  if (strcmp(dir, "/dev") != 0) {
    own = fs_mkdir_in_root(c->rootfd, dir[0] ? dir : "/", 0755, err);
    if (own < 0) return -1;
    dfd = own;
  }

  if (!c->userns) {
    dev_t dev = d->type == 'p' ? 0 : makedev((unsigned)d->major, (unsigned)d->minor);
    /* Made first, replaced only if something is there: /dev is normally the fresh
     * tmpfs of the config, where an unlink before every node only fails (ENOENT).
     * mknodat never follows a symlink at its last component (EEXIST), and the
     * unlink removes the name itself, whatever it is, as before. */
    int r = mknodat(dfd, base, type | mode, dev);
    if (r < 0 && errno == EEXIST) {
      if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
        return silo_err(err, errno, "replace `%s`", d->path);
      r = mknodat(dfd, base, type | mode, dev);
    }
    if (r == 0) return finish_node(dfd, base, d, mode, err);
    /* EPERM: silo itself runs in a user namespace (a rootless sandbox). */
    if (errno != EPERM || type == S_IFIFO) return silo_err(err, errno, "mknod `%s`", d->path);
  }
  /* mknod is not allowed in a user namespace: bind the host's node onto an empty
   * file instead (the device cgroup still decides what can be opened). */
  _cleanup_close_ int fd = fs_mkpath_in_root(c->rootfd, path, false, err);
  if (fd < 0) return -1;
  return bind_device(path, fd, err);
}

static bool
configured(const struct oci_linux *l, const char *path)
{
  size_t n = strlen(path);
  for (size_t i = 0; l && i < l->n_devices; i++) {
    const char *p = l->devices[i].path;
    if (strncmp(p, path, n) == 0 && p[n + strspn(p + n, "/")] == '\0') return true;
  }
  return false;
}

int
devices_create(struct container_plan *c, int rootfd, struct silo_error *err)
{
  const struct oci_linux *l = c->cfg->linux;
  _cleanup_close_ int devfd = fs_mkdir_in_root(rootfd, "/dev", 0755, err);
  if (devfd < 0) return -1;
  for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
    if (configured(l, default_devices[i].path)) continue;
    if (make_node(c, devfd, &default_devices[i], err) < 0) return -1;
  }
  for (size_t i = 0; l && i < l->n_devices; i++) {
    if (make_node(c, devfd, &l->devices[i], err) < 0)
      return silo_err_wrap(err, "linux.devices[%zu]", i);
  }
  return devices_links(devfd, err);
}

int
devices_links(int devfd, struct silo_error *err)
{
  static const char *const links[][2] = {
      {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
      {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
    if (symlinkat(links[i][1], devfd, links[i][0]) < 0 && errno != EEXIST)
      return silo_err(err, errno, "symlink `/dev/%s`", links[i][0]);
  }
  /* /dev/core only where the kernel has /proc/kcore, as runc does. */
  if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", devfd, "core") < 0 &&
      errno != EEXIST)
    return silo_err(err, errno, "symlink `/dev/core`");
  return 0;
}

/* The device cgroup rules silo applies: the config's own, then what every
 * container needs (as runc adds): mknod of anything (the node alone grants
 * nothing), the standard character devices, ptys, /dev/net/tun.  A linux.devices
 * entry gets no rule of its own, as with runc 1.1: the node exists, and the
 * config's linux.resources.devices decide whether it may be opened (a deny there
 * must hold for every process of the container, exec'd ones included).  The
 * caller frees *out (not the strings). */
int
devices_cgroup_rules(const struct oci_config *cfg, struct oci_device_cgroup **out, size_t *n)
{
#define ANY(t)                                                                                     \
  {                                                                                                \
    .allow = true, .type = t, .major = -1, .minor = -1, .access = "m"                              \
  }
#define CHR(maj, min)                                                                              \
  {                                                                                                \
    .allow = true, .type = 'c', .has_major = true, .major = maj, .has_minor = min >= 0,            \
    .minor = min, .access = "rwm"                                                                  \
  }
  static const struct oci_device_cgroup defaults[] = {
      ANY('c'),  ANY('b'),  CHR(1, 3), CHR(1, 5), CHR(1, 7),    CHR(1, 8),
      CHR(1, 9), CHR(5, 0), CHR(5, 1), CHR(5, 2), CHR(136, -1), CHR(10, 200),
  };
#undef ANY
#undef CHR
  const struct oci_linux *l = cfg->linux;
  const struct oci_resources *r = l ? l->resources : NULL;
  size_t own = r ? r->n_devices : 0;
  struct oci_device_cgroup *v = xcalloc(own + ARRAY_SIZE(defaults), sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < own; i++) v[k++] = r->devices[i];
  for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) v[k++] = defaults[i];
  *out = v;
  *n = k;
  return 0;
}
