/* silo: the image trees of a postcopy migration on a private tmpfs (issue #17).
 *
 * A tmpfs made with fsopen/fsmount and never attached anywhere: no path of the
 * host leads to it, only the descriptor the migration holds.  Its helpers
 * (forks) and CRIU (exec'd: it opens the trees by path, and holds them open
 * while it needs them) reach it as /proc/<holder>/fd/<N>.  The kernel frees it
 * with its last reference: the migration ending whichever way (success,
 * failure, SIGKILL) leaves no image on disk and no mount behind.
 *
 * Only postcopy's images: they carry no memory (CRIU serves the pages from the
 * frozen tasks), so they are small.  Cold, precopy and hybrid images hold the
 * whole memory (hybrid's pre-dump pass does) and stay on disk, where they do
 * not double the memory a migration needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/migrate/migrate.h"

int
mig_stage_open(struct mig_stage *st, struct silo_error *err)
{
  st->fd = -1;
  st->path[0] = '\0';
  /* Privileged (CAP_SYS_ADMIN): a new tmpfs, owned by root, mode 0700, nosuid,
   * nodev, noexec, attached nowhere, so that nothing of the host's mount table
   * changes and no other process can see or reach it but through this
   * descriptor (close-on-exec) or root's /proc/<pid>/fd. */
  _cleanup_close_ int fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fsfd < 0) return silo_err(err, errno, "fsopen tmpfs");
  if (fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
      fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return silo_err(err, errno, "make a tmpfs");
  int mfd =
      fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mfd < 0) return silo_err(err, errno, "fsmount tmpfs");
  st->fd = mfd;
  snprintf(st->path, sizeof st->path, "/proc/%d/fd/%d", (int)getpid(), mfd);
  return 0;
}

void
mig_stage_close(struct mig_stage *st)
{
  if (st->fd >= 0) close(st->fd);
  st->fd = -1;
  st->path[0] = '\0';
}
