/* silo: OCI hooks.  Each hook is executed with the container state JSON on its
 * stdin; its output is collected and shown when it fails; `timeout` kills it.
 *
 * A hook need not read its stdin: one that exits (or closes stdin) early makes
 * the state write fail with EPIPE, which is no error (runc does the same); the
 * hook is judged by its exit status alone.  SIGPIPE is blocked while a hook
 * runs so that such a hook can never kill silo half-way through create, start
 * or delete.
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

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/network/network.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

extern char **environ;

/* The hook's side of the fork: stdio, default signals, exec.  io[] are the files of
 * run.oci.hooks.stdout/stderr, or -1 for the pipe whose output is kept for errors. */
static void
exec_hook(const struct oci_hook *h, int in, int out, const int io[2])
{
  dup2(in, 0);
  dup2(io[0] >= 0 ? io[0] : out, 1);
  dup2(io[1] >= 0 ? io[1] : out, 2);
  const char *argv0[] = {h->path, NULL};
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* An ignored SIGPIPE would survive execve (the container process ignores it
   * while it waits on exec.fifo): hooks start with the default. */
  signal(SIGPIPE, SIG_DFL);
  /* Without `env` a hook inherits the runtime's environment, as with runc and
   * crun; with `env` it gets exactly that. */
  execve(h->path, (char *const *)(h->args ? h->args : argv0),
         h->env ? (char *const *)h->env : environ);
  dprintf(2, "exec `%s`: %s\n", h->path, strerror(errno));
  _exit(127);
}

/* Collects what is readable on *rfd into output; closes it at end-of-file. */
static void
read_output(int *rfd, char *output, size_t size, size_t *olen)
{
  while (*rfd >= 0) {
    char buf[512];
    ssize_t n = read(*rfd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      close_fd(rfd);
      return;
    }
    size_t room = size - 1 - *olen, take = (size_t)n < room ? (size_t)n : room;
    memcpy(output + *olen, buf, take);
    *olen += take;
  }
}

#define HOOK_PID_FILE "hook.pid"

/* Records the hook (its own process group, led by pid, and its tracker: a cgroup2
 * directory of its own, cgroup/track.c) in the state directory, then moves it
 * into the tracker; the hook waits on `go` until this is done, so no hook
 * process ever runs unrecorded or untracked (if silo dies first, go reads
 * end-of-file and the hook exits).  The process group finds what the hook
 * starts on a host without cgroup2; the tracker also what leaves the group
 * (setsid, a double fork).  *track is the tracker's path, or NULL for none. */
static int
record_hook(int statefd, pid_t pid, int go, char **track, struct silo_error *err)
{
  unsigned long long start;
  /* Also here, not only in the child: whichever of us runs first, the group
   * exists before it is recorded. */
  if (setpgid(pid, pid) < 0 && errno != EACCES) return silo_err(err, errno, "setpgid %d", pid);
  if (fs_proc_stat(pid, NULL, &start) < 0) return silo_err(err, ESRCH, "the hook exited at once");
  char name[48];
  snprintf(name, sizeof name, "silo-hook-%d", (int)pid);
  struct silo_error terr = {0};
  if (cgroup_track_path(name, track, &terr) < 0)
    silo_log_debug("hook %d: no tracker (%s): its process group only", (int)pid, terr.msg);
  /* Recorded before the tracker is made: a crash in between leaves a name that
   * hooks_kill_recorded finds missing, which is fine. */
  _cleanup_free_ char *buf = xasprintf("%d %llu %s\n", (int)pid, start, *track ? *track : "-");
  if (fs_write_file_atomic(statefd, HOOK_PID_FILE, buf, strlen(buf), err) < 0) return -1;
  if (*track && cgroup_track_enter(*track, pid, &terr) < 0) {
    /* (rootless, a read-only cgroupfs): the process group is what there is */
    silo_log_debug("hook %d: no tracker: %s", (int)pid, terr.msg);
    rmdir(*track);
    free(*track);
    *track = NULL;
  }
  if (write(go, "1", 1) != 1) return silo_err(err, errno, "start the hook");
  return 0;
}

/* Where a hook's output goes (io: crun's annotation files, or -1) and where it is
 * recorded while it runs (statefd, or -1). */
struct hook_env {
  const int *io;
  int statefd;
};

static int
run_hook(const struct oci_hook *h, const char *state, const struct hook_env *env,
         struct silo_error *err)
{
  int in[2], out[2];
  int statefd = env->statefd;
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
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) _exit(127);
    if (go_r >= 0) {
      char b;
      setpgid(0, 0);
      close(go_w);
      if (read(go_r, &b, 1) != 1) _exit(127);
    }
    exec_hook(h, in[0], out[1], env->io); /* never returns */
  }
  close(in[0]);
  close(out[1]);
  _cleanup_close_ int wfd = in[1], rfd = out[0];
  _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  _cleanup_free_ char *track = NULL;
  if (go_r >= 0) {
    close_fd(&go_r);
    if (record_hook(statefd, pid, go_w, &track, err) < 0) {
      kill(pid, SIGKILL);
      if (track) cgroup_track_kill(track);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
      }
      unlinkat(statefd, HOOK_PID_FILE, 0);
      return silo_err_wrap(err, "hook `%s`", h->path);
    }
    close_fd(&go_w);
  }

  /* Both ends non-blocking: the state may be bigger than a pipe buffer and is
   * written as the hook reads it, while its output is collected, until it exits
   * (not until its output closes: a hook may leave a daemon holding the pipe). */
  fcntl(wfd, F_SETFL, O_NONBLOCK);
  fcntl(rfd, F_SETFL, O_NONBLOCK);
  size_t left = strlen(state);
  char output[2048];
  size_t olen = 0;
  long deadline = h->has_timeout ? time_mono_ms() + (long)h->timeout * 1000 : -1;
  bool timed_out = false;
  for (;;) {
    if (wfd >= 0 && left == 0) close_fd(&wfd); /* all written: end-of-file for the hook */
    /* Without a pidfd (pidfd_open failed) nothing would wake us: wait for the exit. */
    if (pidfd < 0 && rfd < 0 && wfd < 0) break;
    struct pollfd p[3] = {{.fd = pidfd, .events = POLLIN},
                          {.fd = rfd, .events = POLLIN},
                          {.fd = wfd, .events = POLLOUT}};
    int wait_ms = deadline < 0 ? -1 : (int)(deadline - time_mono_ms());
    if (deadline >= 0 && wait_ms <= 0) {
      timed_out = true;
      break;
    }
    int r = poll(p, 3, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      silo_log_debug("hook %s: poll: %s", h->path, strerror(errno));
      kill(pid, SIGKILL);
      break;
    }
    if (r == 0) {
      timed_out = true;
      break;
    }
    read_output(&rfd, output, sizeof output, &olen);
    if (wfd >= 0 && p[2].revents) {
      ssize_t n = write(wfd, state, left);
      if (n > 0) {
        state += n;
        left -= (size_t)n;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        /* EPIPE: the hook closed its stdin or exited without reading all of it. */
        if (errno != EPIPE) silo_log_debug("hook %s: write state: %s", h->path, strerror(errno));
        close_fd(&wfd);
      }
    }
    if (p[0].revents) break;
  }
  if (timed_out) kill(pid, SIGKILL);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  /* A hook that timed out goes with everything it started, wherever that went.
   * What a hook that exited left running is its own business (a daemon it
   * started): it leaves the tracker for silo's own cgroup. */
  if (track) {
    int r = timed_out ? cgroup_track_kill(track) : cgroup_track_release(track);
    if (r < 0) silo_log_warn("hook `%s`: remove its tracker %s: %s", h->path, track, strerror(-r));
  }
  if (statefd >= 0) unlinkat(statefd, HOOK_PID_FILE, 0);
  read_output(&rfd, output, sizeof output, &olen);
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

/* run_hook with SIGPIPE blocked in this thread: a write to a hook that is gone
 * then fails with EPIPE instead of killing silo.  The SIGPIPE that write leaves
 * pending is consumed before the mask is restored (unless one was pending
 * already, which is not ours to eat). */
static int
run_hook_nosigpipe(const struct oci_hook *h, const char *state, const struct hook_env *env,
                   struct silo_error *err)
{
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE);
  int r = run_hook(h, state, env, err);
  sigpending(&pending);
  if (!was_pending && sigismember(&pending, SIGPIPE)) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return r;
}

int
hooks_open_output(const struct oci_config *cfg, int io[2], struct silo_error *err)
{
  static const char *const keys[2] = {ANN_HOOKS_STDOUT, ANN_HOOKS_STDERR};
  io[0] = io[1] = -1;
  /* No hook, no file: the annotations may come from whoever writes a pod's
   * annotations, the hooks only from the engine. */
  size_t n = 0;
  for (int k = 0; k < OCI_HOOK_KINDS; k++) n += cfg->hooks.n[k];
  if (n == 0) return 0;
  for (int i = 0; i < 2; i++) {
    const char *path = oci_kv_get(cfg->annotations, cfg->n_annotations, keys[i]);
    if (!path) continue;
    /* crun's semantics: appended to, created if missing.  The path is the config's
     * author's, who can already run any hook as silo's user: opening it grants
     * nothing more.  Close-on-exec: a hook gets it through dup2 only, the container's
     * program never. */
    io[i] = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY | O_CLOEXEC, 0644);
    if (io[i] < 0) {
      silo_err(err, errno, "annotation %s: open `%s`", keys[i], path);
      hooks_close_output(io);
      return -1;
    }
  }
  return 0;
}

void
hooks_close_output(int io[2])
{
  close_fd(&io[0]);
  close_fd(&io[1]);
}

int
hooks_run_io(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state,
             const int io[2], int statefd, struct silo_error *err)
{
  struct hook_env env = {.io = io, .statefd = statefd};
  for (size_t i = 0; i < cfg->hooks.n[kind]; i++) {
    if (run_hook_nosigpipe(&cfg->hooks.list[kind][i], state, &env, err) < 0)
      return silo_err_wrap(err, "%s hook hooks.%s[%zu]", oci_hook_kind_name(kind),
                           oci_hook_kind_name(kind), i);
  }
  return 0;
}

int
hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state,
          struct silo_error *err)
{
  int io[2];
  if (cfg->hooks.n[kind] == 0) return 0;
  if (hooks_open_output(cfg, io, err) < 0) return -1;
  int r = hooks_run_io(cfg, kind, state, io, -1, err);
  hooks_close_output(io);
  return r;
}

void
hooks_run_warn(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state,
               int statefd, const char *id)
{
  int io[2];
  char buf[SILO_ERROR_MSG_MAX + 64];
  if (cfg->hooks.n[kind] == 0) return;
  struct silo_error oe = {0};
  /* The hooks still run, their output to the pipe, when the files cannot be opened. */
  if (hooks_open_output(cfg, io, &oe) < 0)
    silo_log_warn("container `%s`: %s", id, silo_err_str(&oe, buf, sizeof buf));
  struct hook_env env = {.io = io, .statefd = statefd};
  for (size_t i = 0; i < cfg->hooks.n[kind]; i++) {
    struct silo_error e = {0};
    if (run_hook_nosigpipe(&cfg->hooks.list[kind][i], state, &env, &e) < 0)
      silo_log_warn("container `%s`: %s hook hooks.%s[%zu]: %s", id, oci_hook_kind_name(kind),
                    oci_hook_kind_name(kind), i, silo_err_str(&e, buf, sizeof buf));
  }
  hooks_close_output(io);
}

void
hooks_kill_recorded(int statefd)
{
  _cleanup_free_ char *buf = NULL;
  struct silo_error e = {0};
  int pgid;
  unsigned long long start, now;
  char track[4096];
  if (fs_read_file_at(statefd, HOOK_PID_FILE, &buf, NULL, &e) < 0) return;
  /* The tracker first: what left the process group is there.  Only a tracker
   * silo names (a cgroup2 directory "silo-hook-N", no ".."): the file is in a
   * root-only directory, but a name is checked before anything is killed. */
  if (sscanf(buf, "%*d %*u %4095s", track) == 1 && strncmp(track, "/sys/fs/cgroup/", 15) == 0 &&
      strstr(track, "/silo-hook-") && !strstr(track, "/.."))
    cgroup_track_kill(track);
  /* The leader died with silo; what it started may not have.  A process group's
   * id is not given to a new process while any member lives, so the group is
   * still the hook's, unless a process with that pid now exists and started at
   * another time: then the hook's group is gone and this is someone else's. */
  if (sscanf(buf, "%d %llu", &pgid, &start) == 2 && pgid > 1 &&
      (fs_proc_stat(pgid, NULL, &now) < 0 || now == start) && kill(-pgid, SIGKILL) == 0) {
    /* Until they are gone (or reaped by whoever inherited them), a second at most. */
    for (int i = 0; i < 1000 && kill(-pgid, 0) == 0; i++) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
  }
  unlinkat(statefd, HOOK_PID_FILE, 0);
}
