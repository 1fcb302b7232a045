/* silo lib/: the root of a sandbox — an overlay of read-only lower layers and a
 * private writable upper layer, mounted in a mount namespace of the sandbox's own.
 *
 * Privileged steps, all as root, in this order:
 *  1. unshare(CLONE_NEWNS) and make every mount private: from here on nothing we
 *     mount is seen by (or propagates to) the host, and it all goes away with the
 *     last process of the namespace (us and the container), even on SIGKILL;
 *  2. each lower layer is cloned (open_tree) into a detached mount, made read-only
 *     and nodev, and idmapped when the container gets a user namespace (step 5),
 *     then attached at <run>/l/<n>;
 *  3. the upper layer: a tmpfs at <run>/w (upper/ and work/ in it), or the
 *     directory of --keep-changes;
 *  4. the overlay at <run>/rootfs (nodev).  Lower layers are named relative to
 *     <run> ("l/3:l/2:..."), which keeps the mount data far below its one-page limit
 *     even for images with a hundred layers.
 *  5. User namespace: the container's ids 0..65535 become host ids id_base.. (the
 *     range of the "silo" entry of /etc/subuid and /etc/subgid, else 1000000000).
 *     Image files belong to host root on disk; the idmapped layer mounts show them
 *     to the overlay as owned by id_base.., so the container's root owns its image,
 *     and what it writes to the upper layer is owned by id_base.. on the host.  When
 *     a layer's filesystem cannot be idmapped, the sandbox runs without a user
 *     namespace (root in the container is the host's root, with Docker's reduced
 *     capability set, the seccomp profile and no_new_privs): a debug message says so.
 * Rootless (lib/sandbox/rootless.c): all of this runs as root of the sandbox's own user
 * namespace, which owns the mount namespace of step 1.  The layers' files already
 * belong to the namespace's ids, so nothing is idmapped (an unprivileged user could
 * not idmap anyway); the overlay is mounted with userxattr (its opaque directories
 * and whiteouts as user.overlay.* xattrs: root of a user namespace cannot use
 * trusted.*), which Linux allows from 5.11; the tmpfs upper layer has user xattrs
 * for it from Linux 6.6 (before, see make_upper).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "lib/base/error.h"
#include "lib/runtime/create/create.h"
#include "lib/sandbox/sandbox.h"
#include "lib/silo.h"
#include "oci/oci.h"

#define DEFAULT_ID_BASE  1000000000u
#define DEFAULT_ID_COUNT 65536u

/* The "silo" range of /etc/subuid or /etc/subgid. */
static bool
subid_range(const char *file, uint32_t *base, uint32_t *count)
{
  _cleanup_fclose_ FILE *f = fopen(file, "re");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    char name[64];
    unsigned long b, c;
    if (sscanf(line, "%63[^:]:%lu:%lu", name, &b, &c) == 3 && strcmp(name, "silo") == 0 && c > 0 &&
        b + c <= UINT32_MAX) {
      *base = (uint32_t)b;
      *count = (uint32_t)(c < DEFAULT_ID_COUNT ? c : DEFAULT_ID_COUNT);
      return true;
    }
  }
  return false;
}

static void
pick_ids(struct sandbox *sb)
{
  uint32_t ub, uc, gb, gc;
  bool u = subid_range("/etc/subuid", &ub, &uc), g = subid_range("/etc/subgid", &gb, &gc);
  if (u && g && ub == gb) {
    sb->id_base = ub;
    sb->id_count = uc < gc ? uc : gc;
  } else {
    if (u || g)
      silo_log_warn("sandbox: the silo entries of /etc/subuid and /etc/subgid differ: "
                    "using %u",
                    DEFAULT_ID_BASE);
    sb->id_base = DEFAULT_ID_BASE;
    sb->id_count = DEFAULT_ID_COUNT;
  }
}

/* The container's root walks the path to its rootfs (silo bind-mounts it from inside
 * the user namespace), as an unmapped "other": every directory on the way needs o+x.
 * The state root is 0700: like Docker with user namespaces (0711), it gets x for
 * others, which lets nobody list it.  Elsewhere: no user namespace. */
static bool
path_reachable(struct sandbox *sb)
{
  char real_root[PATH_MAX], buf[PATH_MAX];
  if (!realpath(sb->ctx->root, real_root) || !realpath(sb->run, buf)) return false;
  for (char *p = buf + strlen(buf); p > buf; p = strrchr(buf, '/')) {
    *p = '\0';
    const char *dir = buf[0] ? buf : "/";
    struct stat st;
    if (stat(dir, &st) < 0) return false;
    if (st.st_mode & S_IXOTH) continue;
    if (strcmp(dir, real_root) == 0 && chmod(dir, (st.st_mode & 07777) | 0011) == 0) {
      silo_log_debug("sandbox: state root %s made traversable (0%o) for user namespaces", dir,
                     (st.st_mode & 07777) | 0011);
      continue;
    }
    silo_log_debug("sandbox: %s is not traversable by others: no user namespace", dir);
    return false;
  }
  return true;
}

/* Attaches `src` read-only at <run>/l/<i>, idmapped through userns_fd when >= 0. */
static int
mount_lower(struct sandbox *sb, int runfd, size_t i, const char *src, int userns_fd,
            struct silo_error *err)
{
  char name[32];
  snprintf(name, sizeof name, "l/%zu", i);
  if (mkdirat(runfd, name, 0755) < 0 && errno != EEXIST)
    return silo_err(err, errno, "create `%s/%s`", sb->run, name);
  _cleanup_close_ int fd =
      (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "clone a mount of `%s`", src);
  struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV};
  if (userns_fd >= 0) {
    a.attr_set |= MOUNT_ATTR_IDMAP;
    a.userns_fd = (uint64_t)userns_fd;
  }
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
    return silo_err(err, errno, "%s `%s`", userns_fd >= 0 ? "idmap" : "make read-only", src);
  if (syscall(SYS_move_mount, fd, "", runfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return silo_err(err, errno, "mount `%s` on `%s/%s`", src, sb->run, name);
  return 0;
}

static int
mount_lowers(struct sandbox *sb, int runfd, struct silo_error *err)
{
  if (mkdirat(runfd, "l", 0755) < 0 && errno != EEXIST)
    return silo_err(err, errno, "create `%s/l`", sb->run);
  _cleanup_close_ int userns = -1;
  if (sb->userns && !sb->rootless) {
    struct oci_idmap m = {.container_id = 0, .host_id = sb->id_base, .size = sb->id_count};
    userns = ns_idmap_userns(&m, 1, &m, 1, err);
    if (userns < 0) {
      silo_log_debug("sandbox: no user namespace: %s", err->msg);
      silo_err_clear(err);
      sb->userns = false;
    }
  }
  for (size_t i = 0; i < sb->n_lowers; i++) {
    if (mount_lower(sb, runfd, i, sb->lowers[i], userns, err) == 0) continue;
    /* Not every filesystem can be idmapped (EINVAL): then no user namespace at all. */
    if (userns < 0 || i > 0 ||
        (err->errnum != EINVAL && err->errnum != EPERM && err->errnum != EOPNOTSUPP))
      return -1;
    silo_log_debug("sandbox: no user namespace: %s", err->msg);
    silo_err_clear(err);
    close(userns);
    userns = -1;
    sb->userns = false;
    i--; /* i is 0: again, plain */
  }
  return 0;
}

/* The writable layer: returns the upperdir and workdir options. */
static int
make_upper(struct sandbox *sb, int runfd, char **upper, char **work, struct silo_error *err)
{
  uid_t owner = sb->userns ? sb->id_base : 0;
  if (sb->keep) {
    *upper = xasprintf("%s/upper", sb->keep);
    *work = xasprintf("%s/work", sb->keep);
    if (mkdir(sb->keep, 0700) < 0 && errno != EEXIST)
      return silo_err(err, errno, "--keep-changes `%s`", sb->keep);
    if (mkdir(*work, 0700) < 0 && errno != EEXIST)
      return silo_err(err, errno, "create `%s`", *work);
    if (mkdir(*upper, 0755) == 0) {
      /* The upper directory is the container's "/": its mode and owner, whatever the umask. */
      if (chown(*upper, owner, owner) < 0 || chmod(*upper, 0755) < 0)
        return silo_err(err, errno, "chown `%s`", *upper);
    } else if (errno != EEXIST) {
      return silo_err(err, errno, "create `%s`", *upper);
    }
    return 0;
  }
  if (mkdirat(runfd, "w", 0700) < 0) return silo_err(err, errno, "create `%s/w`", sb->run);
  _cleanup_free_ char *w = xasprintf("%s/w", sb->run);
  /* The container's writes live in this tmpfs (charged to its memory cgroup). */
  if (mount("tmpfs", w, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
    return silo_err(err, errno, "mount a tmpfs on `%s`", w);
  /* Named relative to <run>, like the lower layers. */
  *upper = xstrdup("w/upper");
  *work = xstrdup("w/work");
  if (mkdirat(runfd, *upper, 0755) < 0 || fchownat(runfd, *upper, owner, owner, 0) < 0 ||
      fchmodat(runfd, *upper, 0755, 0) < 0 || mkdirat(runfd, *work, 0700) < 0)
    return silo_err(err, errno, "create the upper layer in `%s`", w);
  if (sb->rootless) {
    /* userxattr overlays keep their bookkeeping in user.* xattrs of the upper layer.
     * A tmpfs has them from Linux 6.6; before, overlayfs runs without (index and
     * metacopy off), which only breaks making a directory where one of the image
     * was deleted (an opaque directory): said once, not refused. */
    _cleanup_close_ int ufd = openat(runfd, *upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ufd < 0) return silo_err(err, errno, "open `%s/%s`", sb->run, *upper);
    if (fsetxattr(ufd, "user.silo.probe", "", 0, 0) == 0)
      fremovexattr(ufd, "user.silo.probe");
    else if (errno == ENOTSUP || errno == EOPNOTSUPP)
      silo_log_warn("sandbox: the writable layer's tmpfs has no user xattrs (Linux < 6.6): a "
                    "directory of the image cannot be made again once deleted (EIO); "
                    "--keep-changes DIR on a disk filesystem avoids it");
    else
      return silo_err(err, errno, "set a user xattr in `%s/%s`", sb->run, *upper);
  }
  return 0;
}

static int
mount_overlay(struct sandbox *sb, int runfd, const char *upper, const char *work,
              struct silo_error *err)
{
  size_t cap = 64 + strlen(upper) + strlen(work) + 16 * sb->n_lowers, o = 0;
  _cleanup_free_ char *data = xmalloc(cap);
  o += (size_t)snprintf(data, cap, "lowerdir=");
  for (size_t i = sb->n_lowers; i-- > 0;)
    o += (size_t)snprintf(data + o, cap - o, "l/%zu%s", i, i ? ":" : "");
  snprintf(data + o, cap - o, ",upperdir=%s,workdir=%s%s", upper, work,
           sb->rootless ? ",userxattr" : "");
  if (mkdirat(runfd, "rootfs", 0755) < 0)
    return silo_err(err, errno, "create `%s/rootfs`", sb->run);
  /* The relative lowerdirs are resolved from the working directory at mount time. */
  _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0 || fchdir(runfd) < 0) return silo_err(err, errno, "enter `%s`", sb->run);
  int r = mount("overlay", "rootfs", "overlay", MS_NODEV, data);
  int e = errno;
  if (fchdir(cwd) < 0 && r == 0) return silo_err(err, errno, "return to the working directory");
  if (r < 0 && sb->rootless)
    return silo_err(err, e,
                    "mount the overlay (%s) on `%s` in the sandbox's user namespace (Linux 5.11 "
                    "or later)",
                    data, sb->merged);
  if (r < 0) return silo_err(err, e, "mount the overlay (%s) on `%s`", data, sb->merged);
  silo_log_debug("sandbox: overlay of %zu layer(s) on %s%s", sb->n_lowers, sb->merged,
                 sb->rootless ? ", rootless"
                 : sb->userns ? ", idmapped"
                              : "");
  return 0;
}

int
sandbox_mount(struct sandbox *sb, struct silo_error *err)
{
  sb->merged = xasprintf("%s/rootfs", sb->run);
  if (!sb->o->no_userns && !sb->rootless) { /* rootless: decided by lib/sandbox/rootless.c */
    pick_ids(sb);
    sb->userns = path_reachable(sb);
  }
  /* Step 1: a private mount namespace: nothing below leaks to the host. */
  if (unshare(CLONE_NEWNS) < 0) return silo_err(err, errno, "create a mount namespace");
  sb->mounted_ns = true;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return silo_err(err, errno, "make the mounts private");
  /* Opened in the new namespace: move_mount refuses targets of another one. */
  _cleanup_close_ int runfd = open(sb->run, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (runfd < 0) return silo_err(err, errno, "open `%s`", sb->run);
  _cleanup_free_ char *upper = NULL, *work = NULL;
  if (mount_lowers(sb, runfd, err) < 0 || make_upper(sb, runfd, &upper, &work, err) < 0 ||
      mount_overlay(sb, runfd, upper, work, err) < 0)
    return -1;
  return 0;
}

void
sandbox_umount(struct sandbox *sb)
{
  if (!sb->mounted_ns) return;
  /* MNT_DETACH: the container's copies (if it still exists) keep theirs. */
  if (sb->merged) umount2(sb->merged, MNT_DETACH);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/w", sb->run);
  umount2(path, MNT_DETACH);
  for (size_t i = 0; i < sb->n_lowers; i++) {
    snprintf(path, sizeof path, "%s/l/%zu", sb->run, i);
    umount2(path, MNT_DETACH);
  }
}
