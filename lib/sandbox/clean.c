/* silo lib/: making sure a sandbox leaves nothing behind.
 *
 * Three layers of defence:
 *  1. the normal path: silo_run deletes the container when the command exits, the
 *     sandbox unmounts (its mount namespace goes with it anyway) and removes its
 *     bundle (sandbox.c);
 *  2. the watchdog: a small child forked before anything is made, in the host's
 *     mount namespace, with its stdio on /dev/null and deaf to terminal signals.  It
 *     waits on a pipe from the sandbox: "T" starts the --timeout clock, "D" means
 *     done, and end-of-file without "D" means the sandbox died (SIGKILL, a crash):
 *     it then deletes the container (which kills it: its pid namespace goes, and
 *     with it the last user of the overlay), the cgroup, the bundle and any layer
 *     the sandbox was unpacking.  On timeout it sends SIGKILL to the container and
 *     raises a flag in memory shared with the sandbox, which then exits with 124;
 *  3. stale cleanup: every `silo sandbox` (and --prune) first removes the sandboxes
 *     whose silo is gone (the pid and start time in <run>/owner), for when the
 *     watchdog was killed too.
 * The bundle is removed entry by entry with unlink/rmdir: mount points that are
 * still mounted (they never are outside the sandbox's own namespace) would make
 * rmdir fail instead of a recursive delete walking into the container's root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/runtime/plan.h"
#include "lib/sandbox/sandbox.h"
#include "lib/silo.h"

void
sandbox_delete_container(struct silo_context *ctx, const char *id, const char *cgroup_parent)
{
  struct silo_error e = {0};
  if (silo_delete(ctx, id, true, &e) < 0) silo_log_warn("%s", e.msg);
  /* A create that died before writing its state leaves its cgroup (default path). */
  if (ctx->cgroup_manager != SILO_CGROUP_CGROUPFS) return;
  _cleanup_free_ char *path = xasprintf("%s/%s", cgroup_parent ? cgroup_parent : "", id);
  struct cgroup *cg = NULL;
  silo_err_clear(&e);
  if (cgroup_open(path, CGROUP_MANAGER_CGROUPFS, &cg, &e) < 0 || !cg) return;
  cgroup_signal_all(cg, SIGKILL, &e);
  if (cgroup_destroy(cg, &e) < 0) silo_log_warn("sandbox `%s`: %s", id, e.msg);
  cgroup_free(cg);
}

int
sandbox_remove_run(int rundirfd, const char *id)
{
  _cleanup_close_ int fd = openat(rundirfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  unlinkat(fd, "config.json", 0);
  unlinkat(fd, "rootfs", AT_REMOVEDIR);
  unlinkat(fd, "w", AT_REMOVEDIR);
  int lfd = openat(fd, "l", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
  if (!d && lfd >= 0) close(lfd);
  for (struct dirent *de; d && (de = readdir(d));)
    if (de->d_name[0] != '.') unlinkat(lfd, de->d_name, AT_REMOVEDIR);
  if (d) closedir(d);
  unlinkat(fd, "l", AT_REMOVEDIR);
  unlinkat(fd, "owner", 0);
  /* The temporary files of fs_write_file_atomic (".owner...", ".config.json..."):
   * a silo killed between their write and their rename leaves one.  The bundle is
   * ours (0711 in the state root, nothing of the container writes there), and
   * unlinkat without AT_REMOVEDIR removes no directory and follows no symlink. */
  DIR *b = fdopendir(dup(fd));
  for (struct dirent *de; b && (de = readdir(b));)
    if (strncmp(de->d_name, ".owner", 6) == 0 || strncmp(de->d_name, ".config.json", 12) == 0)
      unlinkat(fd, de->d_name, 0);
  if (b) closedir(b);
  if (unlinkat(rundirfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT) {
    silo_log_warn("sandbox `%s`: its bundle is not empty (still mounted?): left in place", id);
    return -1;
  }
  return 0;
}

/* Layers a dead sandbox (pid) was unpacking. */
static void
remove_partial_layers(const char *layers, pid_t only_pid)
{
  _cleanup_close_ int fd = layers ? open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  DIR *d = fd >= 0 ? fdopendir(dup(fd)) : NULL;
  for (struct dirent *de; d && (de = readdir(d));) {
    int pid;
    if (sscanf(de->d_name, "tmp-%d-", &pid) != 1) continue;
    if (only_pid ? pid != only_pid : kill(pid, 0) == 0 || errno != ESRCH) continue;
    fs_rm_rf_at(fd, de->d_name, NULL);
  }
  if (d) closedir(d);
}

/* ---- the watchdog ---- */

static void
after_death(struct sandbox *sb, pid_t sandbox_pid)
{
  sandbox_delete_container(sb->ctx, sb->id, sb->cgroup_parent);
  /* By path: the watchdog closed every inherited fd. */
  _cleanup_close_ int sbfd = open(sb->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int runfd = openat(sbfd, "run", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (runfd >= 0) sandbox_remove_run(runfd, sb->id);
  remove_partial_layers(sb->layers, sandbox_pid);
}

__attribute__((noreturn)) static void
watchdog_main(struct sandbox *sb, int fd, pid_t sandbox_pid)
{
  /* Ctrl-C and friends reach the whole foreground process group: they are the
   * sandbox's to forward, not ours to die of. */
  static const int deaf[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE};
  for (size_t i = 0; i < ARRAY_SIZE(deaf); i++) signal(deaf[i], SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Nobody waits on our stdio (a `$(silo sandbox ...)` would, for our lifetime). */
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int i = 0; null >= 0 && i < 3; i++) dup2(null, i);
  if (fd > 3) syscall(SYS_close_range, 3, fd - 1, 0);
  syscall(SYS_close_range, fd + 1, ~0U, 0);
  prctl(PR_SET_NAME, "silo-watchdog");

  int64_t deadline = -1;
  for (;;) {
    int wait = -1;
    if (deadline >= 0) {
      int64_t left = deadline - time_mono_ms();
      wait = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, wait);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      if (deadline > time_mono_ms()) continue;
      *sb->timed_out = 1;
      struct silo_error e = {0};
      /* Not running yet (still being created): try again shortly. */
      deadline = silo_kill(sb->ctx, sb->id, SIGKILL, false, &e) == 0 ? -1 : time_mono_ms() + 50;
      continue;
    }
    char c;
    ssize_t n = r > 0 ? read(fd, &c, 1) : -1;
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && c == 'T') {
      deadline = time_mono_ms() + (int64_t)sb->timeout_ms;
      continue;
    }
    if (n == 1 && c == 'D') _exit(0);
    if (n == 1) continue;
    after_death(sb, sandbox_pid);
    _exit(0);
  }
}

int
sandbox_watchdog_start(struct sandbox *sb, struct silo_error *err)
{
  void *shared = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return silo_err(err, errno, "mmap");
  sb->timed_out = shared;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
  /* Above stdio: the watchdog points 0, 1 and 2 at /dev/null, and a silo started
   * with them closed got the pipe there (the watchdog would take /dev/null's
   * end-of-file for silo's death, and silo would die of SIGPIPE writing "D"). */
  for (int i = 0; i < 2; i++) {
    if (p[i] > 2) continue;
    int fd = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
      int e = errno;
      close(p[0]), close(p[1]);
      return silo_err(err, e, "pipe");
    }
    close(p[i]);
    p[i] = fd;
  }
  pid_t me = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]), close(p[1]);
    return silo_err(err, errno, "fork the watchdog");
  }
  if (pid == 0) {
    close(p[1]);
    watchdog_main(sb, p[0], me);
  }
  close(p[0]);
  sb->wd_pid = pid;
  sb->wd_fd = p[1];
  return 0;
}

void
sandbox_watchdog_arm(struct sandbox *sb)
{
  if (sb->wd_fd >= 0 && sb->timeout_ms && write(sb->wd_fd, "T", 1) != 1)
    silo_log_warn("sandbox: the watchdog is gone: no --timeout");
}

void
sandbox_watchdog_dismiss(struct sandbox *sb)
{
  if (sb->wd_fd < 0) return;
  if (write(sb->wd_fd, "D", 1) != 1) silo_log_debug("sandbox: the watchdog is gone");
  close(sb->wd_fd);
  sb->wd_fd = -1;
}

void
sandbox_watchdog_stop(struct sandbox *sb)
{
  sandbox_watchdog_dismiss(sb);
  if (sb->wd_pid <= 0) return;
  while (waitpid(sb->wd_pid, NULL, 0) < 0 && errno == EINTR) {
  }
  sb->wd_pid = 0;
}

/* ---- stale sandboxes ---- */

/* Is the silo that owns sandbox <id> (whose bundle is <runfd>/<id>) alive? */
static bool
owner_alive(int runfd, const char *id)
{
  _cleanup_free_ char *buf = NULL;
  struct silo_error e = {0};
  _cleanup_free_ char *owner = xasprintf("%s/owner", id);
  int pid = 0;
  unsigned long long start = 0, now_start;
  if (runfd < 0 || fs_read_file_at(runfd, owner, &buf, NULL, &e) < 0 ||
      sscanf(buf, "%d %llu", &pid, &start) != 2) {
    /* No owner file yet (being created), or no bundle: the pid in the name. */
    if (sscanf(id, SANDBOX_ID_PREFIX "%d-", &pid) != 1) return true;
    return kill(pid, 0) == 0 || errno != ESRCH;
  }
  return fs_proc_stat(pid, NULL, &now_start) == 0 && now_start == start;
}

void
sandbox_clean_stale(struct silo_context *ctx, int sbdirfd, const char *layers)
{
  _cleanup_close_ int runfd = openat(sbdirfd, "run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = runfd >= 0 ? fdopendir(dup(runfd)) : NULL;
  for (struct dirent *de; d && (de = readdir(d));) {
    if (strncmp(de->d_name, SANDBOX_ID_PREFIX, strlen(SANDBOX_ID_PREFIX)) != 0 ||
        owner_alive(runfd, de->d_name))
      continue;
    silo_log_debug("sandbox `%s`: its silo is gone: removing it", de->d_name);
    sandbox_delete_container(ctx, de->d_name, NULL);
    sandbox_remove_run(runfd, de->d_name);
  }
  if (d) closedir(d);
  /* Containers of sandboxes whose bundle is already gone. */
  struct silo_error e = {0};
  _cleanup_close_ int rootfd = state_root_open(ctx, &e);
  d = rootfd >= 0 ? fdopendir(dup(rootfd)) : NULL;
  for (struct dirent *de; d && (de = readdir(d));) {
    if (strncmp(de->d_name, SANDBOX_ID_PREFIX, strlen(SANDBOX_ID_PREFIX)) != 0 ||
        faccessat(runfd, de->d_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || owner_alive(-1, de->d_name))
      continue;
    silo_log_debug("sandbox `%s`: its silo is gone: removing its container", de->d_name);
    sandbox_delete_container(ctx, de->d_name, NULL);
  }
  if (d) closedir(d);
  remove_partial_layers(layers, 0);
}
