/* silo cgroup/: trackers — cgroup2 directories that only hold processes (no
 * controller is enabled for them), so that every descendant of one process can
 * be found and killed, whatever process group or session it moved to and
 * whoever it was reparented to.  Used for hooks (lib/runtime/hooks.c): a hook's
 * daemon that called setsid, or a double fork, is still in its tracker.
 *
 * A tracker is a child of silo's own cgroup on the v2 side (/sys/fs/cgroup on a
 * unified host, /sys/fs/cgroup/unified on a hybrid one): its processes keep the
 * limits of silo's own cgroup (a child only adds), and the v1 hierarchies are
 * not touched at all.  Hosts without cgroup2 have no trackers (ENOTSUP).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/internal.h"
#include "lib/base/base.h"

int
cgroup_track_path(const char *name, char **path, struct silo_error *err)
{
  const struct cgroup_hierarchy *h;
  size_t n;
  *path = NULL;
  if (cgroup_hierarchies(&h, &n, err) < 0) return -1;
  const char *mnt = NULL;
  for (size_t i = 0; i < n && !mnt; i++)
    if (h[i].v2) mnt = h[i].mountpoint;
  if (!mnt) return silo_err(err, ENOTSUP, "no cgroup2 hierarchy");
  _cleanup_free_ char *buf = NULL;
  if (fs_read_file("/proc/self/cgroup", &buf, NULL, err) < 0) return -1;
  /* The v2 line: "0::/path". */
  const char *own = NULL;
  for (char *line = buf; line && *line;) {
    char *next = strchr(line, '\n');
    if (next) *next++ = '\0';
    if (strncmp(line, "0::", 3) == 0) own = line + 3;
    line = next;
  }
  if (!own || own[0] != '/' || strstr(own, "/..") || strstr(own, " (deleted)"))
    return silo_err(err, ENOTSUP, "silo's own cgroup2 path is not known");
  *path = xasprintf("%s%s/%s", mnt, strcmp(own, "/") == 0 ? "" : own, name);
  return 0;
}

int
cgroup_track_enter(const char *path, pid_t pid, struct silo_error *err)
{
  if (mkdir(path, 0700) < 0 && errno != EEXIST) return silo_err(err, errno, "mkdir %s", path);
  char num[24];
  snprintf(num, sizeof num, "%d", (int)pid);
  return cgroup_set(path, "cgroup.procs", num, err);
}

/* Reads the pids of a tracker (a few: a hook and what it started). */
static size_t
track_pids(const char *path, pid_t *pids, size_t max)
{
  char buf[4096];
  ssize_t got = cgroup_read(path, "cgroup.procs", buf, sizeof buf);
  size_t n = 0;
  if (got <= 0) return 0;
  for (char *p = buf, *end; *p && n < max; p = end) {
    long v = strtol(p, &end, 10);
    if (end == p) break;
    if (v > 0) pids[n++] = (pid_t)v;
    while (*end == '\n') end++;
  }
  return n;
}

static void
sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* rmdir, retrying for up to a second while the last processes are on their way
 * out (a cgroup is busy until its exiting tasks are reaped). */
static int
track_rmdir(const char *path)
{
  for (int i = 0; i < 500; i++) {
    if (rmdir(path) == 0 || errno == ENOENT) return 0;
    if (errno != EBUSY) break;
    sleep_ms(2);
  }
  return -errno;
}

int
cgroup_track_kill(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0) return 0;
  /* cgroup.kill (5.14+): every process, forks meanwhile included.  Older kernels:
   * SIGKILL to each, again until none is left. */
  bool kill_file = cgroup_write(path, "cgroup.kill", "1") == 0;
  for (int i = 0; i < 500; i++) {
    pid_t pids[256];
    size_t n = track_pids(path, pids, ARRAY_SIZE(pids));
    if (!n) break;
    if (!kill_file)
      for (size_t k = 0; k < n; k++) kill(pids[k], SIGKILL);
    sleep_ms(2);
  }
  return track_rmdir(path);
}

int
cgroup_track_release(const char *path)
{
  /* What the process left running stays where it would have been without the
   * tracker: in the parent (silo's own cgroup).  Until none is left: a forking
   * one may add a child between the read and the moves. */
  _cleanup_free_ char *parent = xstrdup(path);
  char *slash = strrchr(parent, '/');
  if (!slash) return -EINVAL;
  *slash = '\0';
  for (int i = 0; i < 100; i++) {
    pid_t pids[256];
    size_t n = track_pids(path, pids, ARRAY_SIZE(pids));
    if (!n) break;
    for (size_t k = 0; k < n; k++) {
      char num[24];
      snprintf(num, sizeof num, "%d", (int)pids[k]);
      cgroup_write(parent, "cgroup.procs", num);
    }
  }
  return track_rmdir(path);
}
