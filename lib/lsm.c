/* silo: Linux security module labels of the container process.
 *
 * process.apparmorProfile and process.selinuxLabel (exec: --apparmor and
 * --process-label) name the label the process gets at its execve.  Both are
 * requests for confinement, so asking for one on a host whose kernel does not
 * run that module is an error, as with runc, not a container silently left
 * unconfined; AppArmor's "unconfined" asks for nothing and always works.
 * linux.mountLabel is not applied (SELinux mount contexts; see silo(8)).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

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
 * (Linux 5.8 and later), then the shared one of older kernels. */
static int
write_attr(const char *const paths[2], const char *value, struct silo_error *err)
{
  const char *path = paths[0];
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) fd = open(path = paths[1], O_WRONLY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "open %s", path);
  ssize_t n = write(fd, value, strlen(value));
  if (n != (ssize_t)strlen(value)) return silo_err(err, n < 0 ? errno : EIO, "write %s", path);
  return 0;
}

int
lsm_apply(const struct oci_process *p, struct silo_error *err)
{
  /* The container's own /proc (mounted by now): /proc/thread-self is this
   * process.  The label takes effect at execve, so nothing between here and
   * there runs under it; it is set before seccomp and the identity change, whose
   * filters and lost capabilities could refuse the write. */
  const char *aa = p->apparmor_profile, *se = p->selinux_label;
  if (aa && aa[0] && !(unconfined(aa) && !apparmor_enabled())) {
    static const char *const paths[2] = {"/proc/thread-self/attr/apparmor/exec",
                                         "/proc/thread-self/attr/exec"};
    _cleanup_free_ char *cmd = xasprintf("exec %s", aa);
    if (write_attr(paths, cmd, err) < 0)
      return silo_err_wrap(err, "process.apparmorProfile: `%s`", aa);
  }
  if (se && se[0]) {
    static const char *const paths[2] = {"/proc/thread-self/attr/selinux/exec",
                                         "/proc/thread-self/attr/exec"};
    if (write_attr(paths, se, err) < 0) return silo_err_wrap(err, "process.selinuxLabel: `%s`", se);
  }
  return 0;
}
