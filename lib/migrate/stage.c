/* silo: the image trees of a postcopy migration on a private tmpfs (issue #17).
 *
 * A tmpfs made with fsopen/fsmount and never attached anywhere: no path of the
 * host leads to it, only the descriptor the migration holds.  Its helpers
 * (forks) and CRIU (exec'd: it opens the trees by path, and holds them open
 * while it needs them) reach it as /proc/<holder>/fd/<N>.  The kernel frees it
 * with its last reference: the migration ending whichever way (success,
 * failure, SIGKILL) leaves no image on disk and no mount behind.
 *
 * Only postcopy's images: they carry no private memory (CRIU serves those pages
 * from the frozen tasks), so they are small, but not always: shared memory, SysV
 * shm, memfds, dirty pages of files and ghost files are in them, and a tmpfs CRIU
 * tars.  The tmpfs is capped (MIG_STAGE_MAX, SILO_MIGRATE_STAGE_MAX bytes): a
 * source whose dump does not fit dumps again with its images on disk
 * (lazy.c), a receiver moves a tree that does not fit to disk before the file
 * that would not (mig_recv_tree's spill), and what a peer can make the
 * receiver hold in memory is bounded by the cap.  Cold, precopy and hybrid images hold the
 * whole memory (hybrid's pre-dump pass does) and stay on disk, where they do
 * not double the memory a migration needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
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
  /* tmpfs reads size=0 as no limit: 0, a non-number or one with a suffix
   * means the default, never an unbounded stage in the host's memory */
  unsigned long long max = MIG_STAGE_MAX;
  const char *env = getenv("SILO_MIGRATE_STAGE_MAX");
  if (env && *env) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(env, &end, 10);
    if (env[0] >= '0' && env[0] <= '9' && *end == '\0' && errno == 0 && v > 0)
      max = v;
    else
      silo_log_warn("SILO_MIGRATE_STAGE_MAX `%s` is not a positive number of bytes: %llu", env,
                    max);
  }
  char size[32], inodes[32];
  snprintf(size, sizeof size, "%llu", max);
  snprintf(inodes, sizeof inodes, "%u", MIG_STAGE_INODES);
  if (fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
      fsconfig(fsfd, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
      fsconfig(fsfd, FSCONFIG_SET_STRING, "nr_inodes", inodes, 0) < 0 ||
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

bool
mig_stage_room(int fd, uint64_t bytes)
{
  struct statfs sf;
  if (fstatfs(fd, &sf) < 0) return false;
  /* a little over the data: the inode, the blocks' rounding */
  return (uint64_t)sf.f_bavail * (uint64_t)sf.f_bsize >= bytes + (64u << 10);
}
