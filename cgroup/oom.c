/* silo cgroup/: OOM notification for `events`.
 *
 * v1: an eventfd registered through cgroup.event_control on memory.oom_control;
 * the kernel signals it whenever the cgroup (or one below it) goes under OOM, and
 * once more when the cgroup is removed.
 * v2: inotify IN_MODIFY on memory.events, which the kernel touches whenever one of
 * its counters moves (low, high, max, oom, oom_kill...).
 *
 * Either way the fd only says "look again": the caller compares the oom_kill count
 * (cgroup_oom_count) with the one it saw before.
 */
#include "cgroup/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

/* Where the memory controller of cg is: v1 (*v1 true) or the v2 directory. */
static const char *
memory_dir(const struct cgroup *cg, bool *v1)
{
  const char *d = cgroup_v1_dir(cg, CG_MEMORY);
  *v1 = d != NULL;
  if (d) return d;
  d = cgroup_v2_dir(cg);
  return d && cgroup_exists(d, "memory.events") ? d : NULL;
}

static int
oom_fd_v1(const char *dir, struct silo_error *err)
{
  char path[PATH_MAX], line[64];
  snprintf(path, sizeof path, "%s/memory.oom_control", dir);
  _cleanup_close_ int cfd = open(path, O_RDONLY | O_CLOEXEC);
  if (cfd < 0) return silo_err(err, errno, "open %s", path);
  _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) return silo_err(err, errno, "eventfd");
  /* The kernel keeps its own reference: cfd may be closed once registered. */
  snprintf(line, sizeof line, "%d %d", efd, cfd);
  if (cgroup_set(dir, "cgroup.event_control", line, err) < 0) return -1;
  return steal_fd(&efd);
}

static int
oom_fd_v2(const char *dir, struct silo_error *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/memory.events", dir);
  _cleanup_close_ int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return silo_err(err, errno, "inotify_init1");
  if (inotify_add_watch(fd, path, IN_MODIFY) < 0)
    return silo_err(err, errno, "inotify_add_watch %s", path);
  return steal_fd(&fd);
}

int
cgroup_oom_fd(const struct cgroup *cg, struct silo_error *err)
{
  bool v1;
  const char *dir = cg ? memory_dir(cg, &v1) : NULL;
  if (!dir)
    return silo_err(err, ENOTSUP, "cgroup %s: no memory controller to watch for OOM kills",
                    cg ? cg->path : "(none)");
  return v1 ? oom_fd_v1(dir, err) : oom_fd_v2(dir, err);
}

int
cgroup_oom_count(const struct cgroup *cg, uint64_t *count, struct silo_error *err)
{
  bool v1;
  const char *dir = cg ? memory_dir(cg, &v1) : NULL;
  if (!dir) return silo_err(err, ENOTSUP, "no memory controller");
  /* v1 memory.oom_control and v2 memory.events both carry an "oom_kill N" line
   * (v1 since Linux 4.13). */
  const char *file = v1 ? "memory.oom_control" : "memory.events";
  char *text = cgroup_read_all(dir, file);
  if (!text) return silo_err(err, errno, "read %s/%s", dir, file);
  int r = cgroup_parse_key(text, "oom_kill", count);
  free(text);
  return r < 0 ? silo_err(err, -r, "%s/%s: no oom_kill count", dir, file) : 0;
}
