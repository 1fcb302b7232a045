/* silo: the processes a migration runs besides itself.
 *
 * Helpers: every CRIU action (silo_checkpoint, silo_restore) runs in a forked
 * child.  The child may unshare its mount namespace, arm CRIU's timeout (which
 * kills every child of the process that armed it) and, for a lazy dump, block
 * until the last page is served; the migration itself keeps talking to its peer.
 * Its error message comes back through a pipe.
 *
 * Guardians: a forked child in its own session, holding nothing of its parent's
 * but a pipe.  When the parent dies before it released the guardian (EOF on the
 * pipe), the guardian acts: the receiver's deletes a restored container the
 * source never confirmed, the source's restores the dumped container locally.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/migrate/migrate.h"
#include "lib/silo.h"

static void
child_stdio(const int stdio[3])
{
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  int fds[3];
  /* Move the wanted fds out of 0-2 first, so that dup2 cannot clobber them. */
  for (int i = 0; i < 3; i++) {
    int f = stdio && stdio[i] >= 0 ? stdio[i] : (stdio ? null : i);
    fds[i] = f < 3 ? fcntl(f, F_DUPFD_CLOEXEC, 3) : f;
  }
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0) dup2(fds[i], i);
}

static void
child_signals(void)
{
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
}

int
mig_child_start(struct mig_child *ch, int (*fn)(void *arg, struct silo_error *err), void *arg,
                const int stdio[3], struct silo_error *err)
{
  memset(ch, 0, sizeof *ch);
  ch->pidfd = ch->errfd = -1;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]), close(p[1]);
    return silo_err(err, errno, "fork");
  }
  if (pid == 0) {
    close(p[0]);
    child_signals();
    child_stdio(stdio);
    struct silo_error e = {0};
    int r = fn(arg, &e);
    if (r < 0) {
      char buf[SILO_ERROR_MSG_MAX + 300];
      silo_err_str(&e, buf, sizeof buf);
      if (write(p[1], buf, strlen(buf)) < 0) _exit(2);
    }
    _exit(r < 0 ? 1 : 0);
  }
  close(p[1]);
  ch->pid = pid;
  ch->errfd = p[0];
  ch->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  return 0;
}

bool
mig_child_exited(struct mig_child *ch)
{
  if (ch->reaped) return true;
  if (ch->pid <= 0) return true;
  struct pollfd p = {.fd = ch->pidfd, .events = POLLIN};
  if (ch->pidfd >= 0 && poll(&p, 1, 0) == 0) return false;
  return waitpid(ch->pid, &ch->status, WNOHANG) == ch->pid ? (ch->reaped = true) : false;
}

int
mig_child_wait(struct mig_child *ch, int timeout_ms, struct silo_error *err)
{
  if (!ch->reaped) {
    if (timeout_ms >= 0 && ch->pidfd >= 0) {
      struct pollfd p = {.fd = ch->pidfd, .events = POLLIN};
      int r;
      while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR && !mig_interrupted) {
      }
      if (r == 0) return silo_err(err, ETIMEDOUT, "helper %d did not finish", (int)ch->pid);
    }
    while (waitpid(ch->pid, &ch->status, 0) < 0)
      if (errno != EINTR) return silo_err(err, errno, "waitpid %d", (int)ch->pid);
    ch->reaped = true;
  }
  if (WIFEXITED(ch->status) && WEXITSTATUS(ch->status) == 0) return 0;
  char msg[SILO_ERROR_MSG_MAX];
  ssize_t n = ch->errfd >= 0 ? read(ch->errfd, msg, sizeof msg - 1) : -1;
  if (n > 0) {
    msg[n] = '\0';
    return silo_err(err, 0, "%s", msg);
  }
  if (WIFSIGNALED(ch->status))
    return silo_err(err, 0, "helper %d was killed by signal %d", (int)ch->pid,
                    WTERMSIG(ch->status));
  return silo_err(err, 0, "helper %d exited with status %d", (int)ch->pid, WEXITSTATUS(ch->status));
}

void
mig_child_kill(struct mig_child *ch)
{
  if (ch->pid > 0 && !ch->reaped) kill(ch->pid, SIGKILL);
}

void
mig_child_close(struct mig_child *ch)
{
  if (ch->pid > 0 && !ch->reaped) {
    while (waitpid(ch->pid, &ch->status, 0) < 0 && errno == EINTR) {
    }
    ch->reaped = true;
  }
  if (ch->pidfd >= 0) close(ch->pidfd);
  if (ch->errfd >= 0) close(ch->errfd);
  ch->pidfd = ch->errfd = -1;
}

/* ---- guardians ---- */

int
mig_guard_arm(struct mig_guard *g, int (*action)(void *arg), void *arg, int keep_fd,
              struct silo_error *err)
{
  g->pid = -1;
  g->fd = -1;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]), close(p[1]);
    return silo_err(err, errno, "fork");
  }
  if (pid == 0) {
    /* Nothing of the parent's may stay open here (its peer must see it close),
     * but the pipe (fd 3) and keep_fd (fd 4). */
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    int pipe_fd = fcntl(p[0], F_DUPFD_CLOEXEC, 10);
    int kept = keep_fd >= 0 ? fcntl(keep_fd, F_DUPFD_CLOEXEC, 10) : -1;
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
    dup3(pipe_fd, 3, O_CLOEXEC);
    if (kept >= 0) dup3(kept, 4, O_CLOEXEC);
    syscall(SYS_close_range, kept >= 0 ? 5 : 4, ~0U, 0);
    char c = 0;
    ssize_t n;
    while ((n = read(3, &c, 1)) < 0 && errno == EINTR) {
    }
    if (n == 1 && c == 'c') _exit(0);
    _exit(action(arg) < 0 ? 1 : 0);
  }
  close(p[0]);
  g->pid = pid;
  g->fd = p[1];
  return 0;
}

static void
guard_end(struct mig_guard *g, bool act)
{
  if (g->pid <= 0) return;
  if (!act && write(g->fd, "c", 1) != 1)
    silo_log_warn("guardian %d: %s", (int)g->pid, strerror(errno));
  close(g->fd);
  while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR) {
  }
  g->pid = -1;
  g->fd = -1;
}

void
mig_guard_release(struct mig_guard *g)
{
  guard_end(g, false);
}

void
mig_guard_fire(struct mig_guard *g)
{
  guard_end(g, true);
}

/* ---- CRIU ---- */

static const char *
criu_bin(struct silo_context *ctx)
{
  return ctx->criu && *ctx->criu ? ctx->criu : "criu";
}

bool
mig_criu_feature(struct silo_context *ctx, const char *feature)
{
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    child_signals();
    const char *bin = criu_bin(ctx);
    execlp(bin, bin, "check", "--feature", feature, (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return false;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool
have_cap_sys_resource(void)
{
  _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  unsigned long long eff = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "CapEff: %llx", &eff) == 1) break;
  return eff & (1ULL << 24);
}

int
mig_lazy_pipe_check(struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  if (fs_read_file("/proc/sys/fs/pipe-max-size", &buf, &len, err) < 0) return -1;
  long v = strtol(buf, NULL, 10);
  if (v >= 4 << 20 || have_cap_sys_resource()) return 0;
  return silo_err(err, EPERM,
                  "lazy pages need pipes of 4 MiB: fs.pipe-max-size is %ld here and silo lacks "
                  "CAP_SYS_RESOURCE (sysctl -w fs.pipe-max-size=4194304)",
                  v);
}

int
mig_lazy_daemon_start(struct silo_context *ctx, const char *images, const char *work, int ps_fd,
                      struct mig_child *ch, struct silo_error *err)
{
  memset(ch, 0, sizeof *ch);
  ch->pidfd = ch->errfd = -1;
  fflush(stdout);
  fflush(stderr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return silo_err(err, errno, "fork");
  if (pid == 0) {
    child_signals();
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the receiver */
    /* It died before the line above: we belong to a reaper now (init, or a
     * subreaper such as a service manager), whatever its pid. */
    if (getppid() != parent) _exit(1);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    int fd = dup(ps_fd); /* without close-on-exec: CRIU takes it by number */
    char num[16];
    snprintf(num, sizeof num, "%d", fd);
    const char *bin = criu_bin(ctx);
    execlp(bin, bin, "lazy-pages", "--page-server", "--ps-socket", num, "-D", images, "-W", work,
           "-o", "lazy-pages.log", "-v4", (char *)NULL);
    _exit(127);
  }
  ch->pid = pid;
  ch->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  return 0;
}

int
mig_free_port(struct silo_error *err)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return silo_err(err, e, "find a free port on 127.0.0.1");
  }
  close(fd);
  return ntohs(a.sin_port);
}

void
mig_log_errors(const char *path, char *buf, size_t len)
{
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  char line[512];
  size_t used = 0;
  int shown = 0;
  buf[0] = '\0';
  while (f && fgets(line, sizeof line, f) && shown < 4) {
    char *at = strstr(line, "Error (");
    if (!at || strstr(line, "RLIMIT_NOFILE")) continue;
    at[strcspn(at, "\n")] = '\0';
    int w = snprintf(buf + used, len - used, "\n  %.200s", at);
    if (w < 0 || (size_t)w >= len - used) break;
    used += (size_t)w;
    shown++;
  }
}

/* ---- restoring ---- */

int
mig_restore_fn(void *arg, struct silo_error *err)
{
  const struct mig_restore *r = arg;
  struct silo_restore_opts ro = {.id = r->id,
                                 .bundle = r->bundle,
                                 .detach = true,
                                 .paused = r->paused,
                                 .netns_path = r->netns_path};
  ro.criu.image_path = r->images;
  ro.criu.work_path = r->work;
  ro.criu.tcp_established = true;
  ro.criu.lazy_pages = r->lazy;
  ro.criu.timeout = r->timeout;
  /* fds 0-2 are the container's now: silo's own messages must not land there
   * (CRIU checks the size of a replaced file). */
  struct silo_context ctx = *r->ctx;
  ctx.debug = false;
  struct silo_error lerr = {0};
  silo_log_open(&ctx, &lerr);
  int code = 0;
  return silo_restore(&ctx, &ro, &code, err);
}

static json_t *
stdio_of(const char *images)
{
  _cleanup_free_ char *path = xasprintf("%s/%s", images, CKPT_MANIFEST), *buf = NULL;
  size_t len;
  struct silo_error e = {0};
  if (fs_read_file(path, &buf, &len, &e) < 0) return NULL;
  json_error_t je;
  json_t *m = json_loadb(buf, len, 0, &je);
  json_t *s = m ? json_incref(json_object_get(m, "stdio")) : NULL;
  if (m) json_decref(m);
  return s;
}

void
mig_stdio_reopen(const char *images, int fds[3])
{
  fds[0] = fds[1] = fds[2] = -1;
  json_t *stdio = stdio_of(images), *d;
  size_t i;
  json_array_foreach(stdio, i, d)
  {
    int fd = (int)json_integer_value(json_object_get(d, "fd"));
    const char *type = json_string_value(json_object_get(d, "type"));
    const char *p = json_string_value(json_object_get(d, "path"));
    if (fd < 0 || fd > 2 || fds[fd] >= 0 || !type || strcmp(type, "file") || !p || p[0] != '/')
      continue;
    fds[fd] = open(p, (fd ? O_WRONLY | O_APPEND : O_RDONLY) | O_NOCTTY | O_CLOEXEC);
  }
  if (stdio) json_decref(stdio);
}

json_t *
mig_stdio_now(const char *images)
{
  json_t *stdio = stdio_of(images), *out = json_array(), *d;
  size_t i;
  json_array_foreach(stdio, i, d)
  {
    json_t *o = json_deep_copy(d);
    const char *p = json_string_value(json_object_get(d, "path"));
    struct stat st;
    if (p && p[0] == '/' && stat(p, &st) == 0) {
      json_object_set_new(o, "mode", json_integer(st.st_mode));
      json_object_set_new(o, "size", json_integer((json_int_t)st.st_size));
    }
    json_array_append_new(out, o);
  }
  if (stdio) json_decref(stdio);
  return out;
}

int
mig_stdio_dev_open(const char *path, int flags, struct silo_error *err)
{
  /* The memory devices of major 1 that neither give nor take anything of the
   * host's: null, zero, full, random, urandom. */
  static const unsigned minors[] = {3, 5, 7, 8, 9};
  if (!path || path[0] != '/')
    return silo_err(err, EINVAL, "`%s`: not an absolute path", path ? path : "");
  /* O_PATH opens nothing: no FIFO blocks, no device driver runs its open (a
   * watchdog or a tape would act on it).  The checks look at this very inode,
   * which the reopen through /proc/self/fd then opens for real: no race with a
   * rename. */
  _cleanup_close_ int pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (pfd < 0 || fstat(pfd, &st) < 0) return silo_err(err, errno, "`%s`", path);
  bool ok = false;
  for (size_t i = 0; i < ARRAY_SIZE(minors); i++)
    ok |= S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == minors[i];
  if (!ok)
    return silo_err(err, EPERM,
                    "`%s` is not allowed as stdio (only /dev/null, zero, full, random and "
                    "urandom are opened for a peer)",
                    path);
  char buf[PROC_FD_PATH_MAX];
  int fd = open(fs_proc_fd_path(buf, pfd), flags | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "`%s`", path);
  return fd;
}
