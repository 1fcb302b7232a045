/* silo: OCI hooks.  Each hook is executed with the container state JSON on its
 * stdin; its output is collected and shown when it fails; `timeout` kills it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/base/base.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

static int
run_hook(const struct oci_hook *h, const char *state, struct silo_error *err)
{
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
  if (pipe2(out, O_CLOEXEC) < 0) {
    close(in[0]), close(in[1]);
    return silo_err(err, errno, "pipe");
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return silo_err(err, errno, "fork");
  }
  if (pid == 0) {
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

  /* The state is small (well under a pipe buffer): write it and close. A hook that
   * does not read its stdin must not block us, hence non-blocking. */
  fcntl(wfd, F_SETFL, O_NONBLOCK);
  if (write(wfd, state, strlen(state)) < 0 && errno != EPIPE && errno != EAGAIN)
    silo_log_debug("hook %s: write state: %s", h->path, strerror(errno));
  close(wfd);
  wfd = -1;

  char output[2048];
  size_t olen = 0;
  long deadline = h->has_timeout ? time_mono_ms() + (long)h->timeout * 1000 : -1;
  bool timed_out = false;
  /* Collect output until the hook exits (not until its output closes: a hook may
   * leave a daemon holding the pipe). */
  fcntl(rfd, F_SETFL, O_NONBLOCK);
  for (;;) {
    struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = rfd, .events = POLLIN}};
    int wait_ms = deadline < 0 ? -1 : (int)(deadline - time_mono_ms());
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
hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state,
          struct silo_error *err)
{
  for (size_t i = 0; i < cfg->hooks.n[kind]; i++) {
    if (run_hook(&cfg->hooks.list[kind][i], state, err) < 0)
      return silo_err_wrap(err, "%s hook hooks.%s[%zu]", oci_hook_kind_name(kind),
                           oci_hook_kind_name(kind), i);
  }
  return 0;
}
