/* silo: running from a sealed copy of the silo binary (CVE-2019-5736).
 *
 * The container process is a clone of silo: until it execs the user's program,
 * its /proc/PID/exe is the silo binary on the host.  It is not dumpable, so a
 * process in the container can only open that link with CAP_SYS_PTRACE in the
 * host user namespace; such a process could keep the fd and, once no silo runs,
 * reopen it for writing and replace the host's silo.  When the container can hold
 * that capability (no user namespace, and CAP_SYS_PTRACE or unchanged root caps),
 * or shares its pid namespace, silo re-executes itself once from a sealed memfd
 * copy before anything is created: the clone's exe is then the sealed copy, which
 * nobody can write.  Other containers keep the fast path (no re-exec at all).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "lib/base/error.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* What cloned_reexec puts on the copy: nobody can write it, ever. */
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static char **saved_argv;

void
silo_save_argv(char **argv)
{
  saved_argv = argv;
}

/* Whether this process already runs from a sealed copy: /proc/self/exe is then a
 * memfd carrying every seal.  Asked of the kernel, not of the environment (an
 * environment variable set by whoever starts silo turned the defence off), and
 * safe to trust: whoever made that memfd, nobody can write it any more. */
static bool
running_sealed(void)
{
  _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int seals = fcntl(fd, F_GET_SEALS); /* EINVAL for anything but a memfd (shmem) */
  return seals >= 0 && (seals & SEALS) == SEALS;
}

bool
cloned_needed(const struct container_plan *c, const struct capsets *caps, bool has_caps)
{
  bool exposed = !c->pidns || c->join_fd[OCI_NS_PID] >= 0 ||
                 (!c->userns && (!has_caps || (caps->bounding & (1ULL << CAP_SYS_PTRACE))));
  /* Checked last: the fast path does not even open /proc/self/exe. */
  return exposed && !running_sealed();
}

int
cloned_reexec(struct silo_error *err)
{
  /* Only a program that handed its argv over can start again from main(): silo
   * always does; a program using libsilo may not (docs/libsilo.md).  Refused here,
   * before anything of the container exists. */
  if (!saved_argv)
    return silo_err(err, EINVAL,
                    "the container could ptrace its runtime (no pid namespace of its own, or "
                    "CAP_SYS_PTRACE without a user namespace): it needs a re-execution from a "
                    "sealed copy, and the program did not call silo_save_argv");
  _cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) return silo_err(err, errno, "open /proc/self/exe");
  struct stat st;
  if (fstat(src, &st) < 0) return silo_err(err, errno, "stat /proc/self/exe");
  _cleanup_close_ int mfd = memfd_create("silo", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return silo_err(err, errno, "memfd_create");
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
    if (n <= 0) return silo_err(err, n < 0 ? errno : EIO, "copy the silo binary");
  }
  /* Sealed: the copy can never be written again, by anyone. */
  if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) return silo_err(err, errno, "seal the silo copy");
  extern char **environ;
  syscall(SYS_execveat, mfd, "", saved_argv, environ, AT_EMPTY_PATH);
  return silo_err(err, errno, "re-execute from the sealed copy");
}

int
cloned_ensure_sealed(struct silo_error *err)
{
  /* A program that kept its argv to itself (libsilo) stays as it is: a container
   * that needs the copy is then refused by cloned_reexec with its reason. */
  if (!saved_argv || running_sealed()) return 0;
  return cloned_reexec(err);
}
