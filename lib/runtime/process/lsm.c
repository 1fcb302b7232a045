/* silo: Linux security module labels of the container process.
 *
 * process.apparmorProfile and process.selinuxLabel (exec: --apparmor and
 * --process-label) name the label the process gets at its execve.  Both are
 * requests for confinement, so asking for one on a host whose kernel does not
 * run that module is an error, as with runc, not a container silently left
 * unconfined; AppArmor's "unconfined" asks for nothing and always works.
 *
 * linux.mountLabel is the SELinux context of the filesystems silo mounts for the
 * container, as runc and crun apply it: the context= option of each (tmpfs,
 * devpts, the tmpfs of masked directories; not proc, sysfs or cgroup, which the
 * policy labels, nor binds, whose files keep theirs), and the label of mqueue's
 * root, which takes no such option.  On a host without SELinux it means nothing
 * and is ignored, as runc does (engines set it only where SELinux runs).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/silo.h"
#include "oci/oci.h"

static bool
apparmor_enabled(void)
{
  char c = 0;
  _cleanup_close_ int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
  return fd >= 0 && read(fd, &c, 1) == 1 && c == 'Y';
}

static bool
selinux_enabled(void)
{
  /* selinuxfs is mounted there when SELinux runs (libselinux looks there first). */
  return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static bool
unconfined(const char *profile)
{
  return strcmp(profile, "unconfined") == 0;
}

int
lsm_plan(const struct oci_process *p, struct silo_error *err)
{
  const char *aa = p->apparmor_profile, *se = p->selinux_label;
  if (aa && aa[0] && !unconfined(aa) && !apparmor_enabled())
    return silo_err(err, EINVAL,
                    "process.apparmorProfile: `%s`: AppArmor is not enabled on this host", aa);
  if (se && se[0] && !selinux_enabled())
    return silo_err(err, EINVAL, "process.selinuxLabel: `%s`: SELinux is not enabled on this host",
                    se);
  return 0;
}

/* Writes value to the first of paths that exists: the LSM-specific attribute file
 * (Linux 5.8 and later), then the shared one of older kernels.  Through procfs.c:
 * a mount over the attr directory cannot turn the write into one to a plain file
 * and leave the process unconfined (CVE-2019-16884, CVE-2025-52881). */
static int
write_attr(int procfd, const char *const paths[2], const char *value, struct silo_error *err)
{
  const char *path = paths[0];
  _cleanup_close_ int fd = procfs_open_at(procfd, path, O_WRONLY, err);
  if (fd < 0 && err->errnum == ENOENT) {
    silo_err_clear(err);
    fd = procfs_open_at(procfd, path = paths[1], O_WRONLY, err);
  }
  if (fd < 0) return -1;
  ssize_t n = write(fd, value, strlen(value));
  if (n != (ssize_t)strlen(value))
    return silo_err(err, n < 0 ? errno : EIO, "write `/proc/%s`", path);
  return 0;
}

int
lsm_apply(struct container_plan *c, const struct oci_process *p, struct silo_error *err)
{
  /* thread-self is this process, in the procfs of its pid namespace (procfs.c).
   * The label takes effect at execve, so nothing between here and there runs
   * under it; it is set before seccomp and the identity change, whose filters and
   * lost capabilities could refuse the write. */
  const char *aa = p->apparmor_profile, *se = p->selinux_label;
  if (aa && aa[0] && !(unconfined(aa) && !apparmor_enabled())) {
    static const char *const paths[2] = {"thread-self/attr/apparmor/exec", "thread-self/attr/exec"};
    _cleanup_free_ char *cmd = xasprintf("exec %s", aa);
    int procfd = procfs_handle(c, err);
    if (procfd < 0 || write_attr(procfd, paths, cmd, err) < 0)
      return silo_err_wrap(err, "process.apparmorProfile: `%s`", aa);
  }
  if (se && se[0]) {
    static const char *const paths[2] = {"thread-self/attr/selinux/exec", "thread-self/attr/exec"};
    int procfd = procfs_handle(c, err);
    if (procfd < 0 || write_attr(procfd, paths, se, err) < 0)
      return silo_err_wrap(err, "process.selinuxLabel: `%s`", se);
  }
  return 0;
}

const char *
lsm_mount_label(const struct oci_linux *l)
{
  const char *label = l ? l->mount_label : NULL;
  if (!label || !label[0]) return NULL;
  if (!selinux_enabled()) {
    silo_log_debug("linux.mountLabel `%s`: ignored, SELinux is not enabled", label);
    return NULL;
  }
  return label;
}

bool
lsm_takes_context(const char *type)
{
  static const char *const policy[] = {"proc", "sysfs", "cgroup", "cgroup2", "mqueue"};
  for (size_t i = 0; i < ARRAY_SIZE(policy); i++)
    if (strcmp(type, policy[i]) == 0) return false;
  return true;
}

char *
lsm_mount_data(const char *data, const char *label)
{
  if (!label || (data && strstr(data, "context="))) /* the config's own context wins */
    return data ? xstrdup(data) : NULL;
  /* Quoted: an MLS range has commas ("s0:c1,c2"), which separate options. */
  return data && data[0] ? xasprintf("%s,context=\"%s\"", data, label)
                         : xasprintf("context=\"%s\"", label);
}

int
lsm_label_path(int rootfd, const char *path, const char *label, struct silo_error *err)
{
  _cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_RDONLY | O_DIRECTORY, 0, err);
  if (fd < 0) return -1;
  /* With its NUL, as libselinux's setfilecon writes it. */
  if (fsetxattr(fd, "security.selinux", label, strlen(label) + 1, 0) < 0)
    return silo_err(err, errno, "label `%s` with linux.mountLabel `%s`", path, label);
  return 0;
}
