/* silo: `run` — create and start in one step.  No exec.fifo: silo is still the
 * parent, so START goes over the sync socket.  In the foreground silo stays as the
 * container's parent, forwards signals to it, relays its terminal, and exits with
 * its exit code (128+N when a signal N killed it), like runc. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/base/error.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* Signals a foreground run passes on to the container. */
static const int forwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM,  SIGUSR1,
                                SIGUSR2, SIGCONT, SIGTSTP, SIGWINCH, SIGALRM};

void
foreground_signals(sigset_t *mask)
{
  for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++) sigaddset(mask, forwarded[i]);
  sigaddset(mask, SIGCHLD);
}

/* As a child subreaper (container_spawn) silo inherits the container's orphans:
 * reap those that exited, never the container's own process, which
 * foreground_wait takes last.  WNOWAIT looks before it reaps. */
static void
reap_orphans(pid_t keep)
{
  for (;;) {
    siginfo_t si = {0};
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0) return;
    if (si.si_pid == keep) return;
    waitpid(si.si_pid, NULL, WNOHANG);
  }
}

int
foreground_wait(struct container_plan *c, int sfd, int *exit_code, struct silo_error *err)
{
  bool stdin_open = c->pty_master >= 0;
  for (;;) {
    struct pollfd p[5] = {
        {.fd = sfd, .events = POLLIN},
        {.fd = c->pidfd, .events = POLLIN},
        {.fd = c->pty_master, .events = POLLIN},
        {.fd = stdin_open ? 0 : -1, .events = POLLIN},
        {.fd = c->sdnotify_sock, .events = POLLIN},
    };
    if (poll(p, 5, -1) < 0) {
      if (errno == EINTR) continue;
      return silo_err(err, errno, "poll");
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGWINCH && c->pty_master >= 0)
          terminal_resize(c->pty_master);
        else if (sig == SIGCHLD)
          reap_orphans(c->pid);
        else
          syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0);
      }
    }
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!terminal_copy(c->pty_master, 1)) {
        /* Slave side closed: the process is going away; keep waiting for it. */
        close(c->pty_master);
        c->pty_master = -1;
        stdin_open = false;
      }
    }
    if (stdin_open && (p[3].revents & (POLLIN | POLLHUP))) {
      if (!terminal_copy(0, c->pty_master)) stdin_open = false;
    }
    if (p[4].revents & POLLIN) {
      /* sd-notify relayed until READY=1 (create/notify.c); a failure only ends it. */
      struct silo_error e = {0};
      int r = notify_forward(c->sdnotify_sock, c->pid, &e);
      if (r < 0) silo_log_warn("container `%s`: %s", c->id, e.msg);
      if (r != 0) close_fd(&c->sdnotify_sock);
    }
    if (p[1].revents & POLLIN) break;
  }
  /* Drain what the terminal still holds. */
  while (c->pty_master >= 0 && terminal_copy(c->pty_master, 1) > 0) {
    struct pollfd p = {.fd = c->pty_master, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0) break;
  }
  int status;
  while (waitpid(c->pid, &status, 0) < 0) {
    if (errno != EINTR) return silo_err(err, errno, "wait for the container");
  }
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}

void
foreground_tty(struct container_plan *c)
{
  if (c->pty_master < 0) return;
  fcntl(c->pty_master, F_SETFL, O_NONBLOCK);
  terminal_raw(c->pty_master);
}

int
foreground_finish(struct container_plan *c, int sfd, const sigset_t *old, int *exit_code,
                  struct silo_error *err)
{
  close(c->statefd);
  c->statefd = -1;
  int r = foreground_wait(c, sfd, exit_code, err);
  terminal_restore();
  sigprocmask(SIG_SETMASK, old, NULL);
  return r;
}

static int
run(struct container_plan *c, int *exit_code, struct silo_error *err)
{
  const struct silo_create_opts *o = c->opts;
  sigset_t mask, old;
  sigemptyset(&mask);
  foreground_signals(&mask);
  /* Blocked before the clone so no signal is lost or kills us half-way; the
   * container process unblocks everything before execve. */
  if (!o->detach) sigprocmask(SIG_BLOCK, &mask, &old);

  if (container_spawn(c, err) < 0) return -1;
  /* Bound before START: the program may notify as soon as it runs. */
  if (notify_listen(c->statefd, &c->sdnotify_sock, err) < 0) return -1;
  _cleanup_close_ int sfd = o->detach ? -1 : signalfd(-1, &mask, SFD_CLOEXEC);
  if (!o->detach && sfd < 0) return silo_err(err, errno, "signalfd");
  foreground_tty(c);
  if (sync_send(c->sync_parent, SYNC_START, 0, -1, err) < 0) return -1;
  /* Wait for execve (the child's end of the socket is close-on-exec): the
   * startContainer hooks have run and the program is in place. */
  struct sync_msg m;
  struct silo_error eof = {0};
  while (sync_recv(c->sync_parent, &m, NULL, &eof) == 0) {
  }

  struct silo_state s = {.id = (char *)c->id,
                         .bundle = c->bundle,
                         .rootfs = c->rootfs,
                         .created = c->created,
                         .pid = c->pid};
  if (c->cfg->hooks.n[OCI_HOOK_POSTSTART]) {
    _cleanup_free_ char *json = state_json(&s, c->cfg, OCI_STATUS_RUNNING, false);
    /* A failing poststart hook is a warning: the container runs on (runtime spec). */
    hooks_run_warn(c->cfg, OCI_HOOK_POSTSTART, json, c->statefd, c->id);
  }
  if (o->detach) {
    /* As runc: a detached run with NOTIFY_SOCKET returns once the program is ready. */
    if (c->sdnotify_sock >= 0 && notify_wait_ready(c->sdnotify_sock, c->pid, c->pidfd, err) < 0)
      return -1;
    *exit_code = 0;
    return 0;
  }
  return foreground_finish(c, sfd, &old, exit_code, err);
}

int
silo_run(struct silo_context *ctx, const struct silo_create_opts *o, int *exit_code,
         struct silo_error *err)
{
  struct container_plan c;
  plan_init(&c);
  c.ctx = ctx;
  c.opts = o;
  c.mode = MODE_RUN;
  c.id = o->id;
  *exit_code = 1;
  phase_mark("start");
  int r = container_prepare(&c, err);
  if (r == 0 && (r = run(&c, exit_code, err)) < 0 && c.statefd >= 0) container_abort(&c);

  phase_mark("exited");
  /* Foreground without --keep: the container is deleted when it exits, with the
   * config and cgroup already in hand. */
  if (r == 0 && !o->detach && !o->keep) {
    struct silo_error derr = {0};
    int dirfd = state_dir_lock(c.rootdirfd, c.id, &derr);
    struct silo_state s = {.id = (char *)c.id,
                           .bundle = c.bundle,
                           .rootfs = c.rootfs,
                           .created = c.created,
                           .pid = c.pid,
                           .start_time = c.start_time,
                           .new_pidns = c.pidns && c.join_fd[OCI_NS_PID] < 0};
    if (dirfd < 0 || container_destroy(c.rootdirfd, dirfd, &s, c.cfg, c.cg, &derr) < 0)
      silo_log_warn("%s", derr.msg);
    if (dirfd >= 0) close(dirfd);
  }
  plan_free(&c);
  phase_mark("deleted");
  return r < 0 ? silo_err_wrap(err, "run `%s`", o->id) : 0;
}
