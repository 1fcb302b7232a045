/* silo: OCI hooks.  Each hook is executed with the container state JSON on its
 * stdin; its output is collected and shown when it fails; `timeout` kills it.
 *
 * A hook never outlives the silo command waiting for it: it dies with silo
 * (PR_SET_PDEATHSIG).  Hooks run with a state directory are also recorded
 * there (<state>/hook.pid: a process group of their own, and its leader's start
 * time) before they run and until they exit, so that when silo is killed, `delete`
 * finds and kills the children a hook started too (hooks_kill_recorded). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/runtime/plan.h"

static long
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define HOOK_PID_FILE "hook.pid"

/* Records the hook (its own process group, led by pid) in the state directory;
 * the hook waits on `go` until this is done, so no hook process ever runs
 * unrecorded (if silo dies first, go reads end-of-file and the hook exits). */
static int
record_hook(int statefd, pid_t pid, int go, struct silo_error *err)
{
  unsigned long long start;
  char buf[64];
  /* Also here, not only in the child: whichever of us runs first, the group
   * exists before it is recorded. */
  if (setpgid(pid, pid) < 0 && errno != EACCES) return silo_err(err, errno, "setpgid %d", pid);
  if (proc_stat(pid, NULL, &start) < 0) return silo_err(err, ESRCH, "the hook exited at once");
  int n = snprintf(buf, sizeof buf, "%d %llu\n", (int)pid, start);
  if (write_file_atomic(statefd, HOOK_PID_FILE, buf, (size_t)n, err) < 0) return -1;
  if (write(go, "1", 1) != 1) return silo_err(err, errno, "start the hook");
  return 0;
}

static int
run_hook(const struct oci_hook *h, const char *state, int statefd, struct silo_error *err)
{
  int in[2], out[2];
  _cleanup_close_ int go_r = -1, go_w = -1;
  if (statefd >= 0) {
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
    go_r = go[0], go_w = go[1];
  }
  if (pipe2(in, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
  if (pipe2(out, O_CLOEXEC) < 0) {
    close(in[0]), close(in[1]);
    return silo_err(err, errno, "pipe");
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return silo_err(err, errno, "fork");
  }
  if (pid == 0) {
    /* Dies with silo; a silo that died before the prctl is seen by getppid. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (go_r >= 0) {
      char b;
      setpgid(0, 0);
      close(go_w);
      if (read(go_r, &b, 1) != 1) _exit(127);
    }
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    const char *argv0[] = {h->path, NULL};
    const char *env0[] = {NULL};
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(h->path, (char *const *)(h->args ? h->args : argv0),
           (char *const *)(h->env ? h->env : env0));
    dprintf(2, "exec `%s`: %s\n", h->path, strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  _cleanup_close_ int wfd = in[1], rfd = out[0];
  _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (go_r >= 0) {
    close_fd(&go_r);
    if (record_hook(statefd, pid, go_w, err) < 0) {
      kill(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
      }
      unlinkat(statefd, HOOK_PID_FILE, 0);
      return silo_err_wrap(err, "hook `%s`", h->path);
    }
    close_fd(&go_w);
  }

  /* The state is small (well under a pipe buffer): write it and close. A hook that
   * does not read its stdin must not block us, hence non-blocking. */
  fcntl(wfd, F_SETFL, O_NONBLOCK);
  if (write(wfd, state, strlen(state)) < 0 && errno != EPIPE && errno != EAGAIN)
    silo_log_debug("hook %s: write state: %s", h->path, strerror(errno));
  close(wfd);
  wfd = -1;

  char output[2048];
  size_t olen = 0;
  long deadline = h->has_timeout ? now_ms() + (long)h->timeout * 1000 : -1;
  bool timed_out = false;
  /* Collect output until the hook exits (not until its output closes: a hook may
   * leave a daemon holding the pipe). */
  fcntl(rfd, F_SETFL, O_NONBLOCK);
  for (;;) {
    struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = rfd, .events = POLLIN}};
    int wait_ms = deadline < 0 ? -1 : (int)(deadline - now_ms());
    if (deadline >= 0 && wait_ms <= 0) {
      timed_out = true;
      break;
    }
    int r = poll(p, rfd >= 0 ? 2 : 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timed_out = true;
      break;
    }
    while (rfd >= 0) {
      char buf[512];
      ssize_t n = read(rfd, buf, sizeof buf);
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) {
        close(rfd);
        rfd = -1;
        break;
      }
      size_t room = sizeof output - 1 - olen, take = (size_t)n < room ? (size_t)n : room;
      memcpy(output + olen, buf, take);
      olen += take;
    }
    if (p[0].revents) break;
  }
  if (timed_out) kill(pid, SIGKILL);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  /* What the hook left running now is its own business (a daemon it started). */
  if (statefd >= 0) unlinkat(statefd, HOOK_PID_FILE, 0);
  output[olen] = '\0';
  while (olen && output[olen - 1] == '\n') output[--olen] = '\0';
  if (timed_out) return silo_err(err, ETIMEDOUT, "`%s` timed out after %ds", h->path, h->timeout);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (WIFSIGNALED(status))
    return silo_err(err, 0, "`%s` killed by signal %d%s%s", h->path, WTERMSIG(status),
                    olen ? ": " : "", output);
  return silo_err(err, 0, "`%s` exited with status %d%s%s", h->path, WEXITSTATUS(status),
                  olen ? ": " : "", output);
}

int
hooks_run_recorded(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state,
                   int statefd, struct silo_error *err)
{
  for (size_t i = 0; i < cfg->hooks.n[kind]; i++) {
    if (run_hook(&cfg->hooks.list[kind][i], state, statefd, err) < 0)
      return silo_err_wrap(err, "%s hook hooks.%s[%zu]", oci_hook_kind_name(kind),
                           oci_hook_kind_name(kind), i);
  }
  return 0;
}

int
hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state,
          struct silo_error *err)
{
  return hooks_run_recorded(cfg, kind, state, -1, err);
}

void
hooks_kill_recorded(int statefd)
{
  _cleanup_free_ char *buf = NULL;
  struct silo_error e = {0};
  int pgid;
  unsigned long long start, now;
  if (read_file_at(statefd, HOOK_PID_FILE, &buf, NULL, &e) < 0) return;
  /* The leader died with silo; what it started may not have.  A process group's
   * id is not given to a new process while any member lives, so the group is
   * still the hook's, unless a process with that pid now exists and started at
   * another time: then the hook's group is gone and this is someone else's. */
  if (sscanf(buf, "%d %llu", &pgid, &start) == 2 && pgid > 1 &&
      (proc_stat(pgid, NULL, &now) < 0 || now == start) && kill(-pgid, SIGKILL) == 0) {
    /* Until they are gone (or reaped by whoever inherited them), a second at most. */
    for (int i = 0; i < 1000 && kill(-pgid, 0) == 0; i++) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
  }
  unlinkat(statefd, HOOK_PID_FILE, 0);
}
