/* silo: the container process, from clone3 to execve (see the picture in core.h).
 *
 * Every failure before READY travels back to the parent as a structured error
 * (errno + message) over the sync socket; the parent prints it with context and
 * removes everything.  After READY nobody is listening: errors go to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <linux/keyctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroup/cgroup.h"
#include "lib/base/error.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* Through procfs.c, after /proc was verified (rootfs_check_proc): the files are
 * those of the container's namespaces (net, ipc, uts: the writer's), and nothing
 * mounted in the container can take the write. */
static int
set_sysctls(struct container_plan *c, struct silo_error *err)
{
  const struct oci_linux *l = c->cfg->linux;
  for (size_t i = 0; l && i < l->n_sysctl; i++) {
    _cleanup_free_ char *path = xasprintf("sys/%s", l->sysctl[i].key);
    for (char *p = path + 4; *p; p++)
      if (*p == '.') *p = '/';
    int procfd = procfs_handle(c, err);
    if (procfd < 0 ||
        procfs_write(procfd, path, l->sysctl[i].value, strlen(l->sysctl[i].value), err) < 0)
      return silo_err_wrap(err, "linux.sysctl `%s`", l->sysctl[i].key);
  }
  return 0;
}

static int
set_names(const struct oci_config *cfg, struct silo_error *err)
{
  if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
    return silo_err(err, errno, "hostname: set `%s`", cfg->hostname);
  if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
    return silo_err(err, errno, "domainname: set `%s`", cfg->domainname);
  return 0;
}

static char *
child_state(struct container_plan *c, enum oci_status st)
{
  struct oci_state os = {
      .oci_version = OCI_VERSION,
      .id = c->id,
      .status = st,
      .pid = c->pid,
      .bundle = c->bundle,
      .rootfs = c->rootfs,
      .created = c->created,
      .owner = "",
      .annotations = c->cfg->annotations,
      .n_annotations = c->cfg->n_annotations,
  };
  return oci_state_to_json(&os, false);
}

/* With a joined user namespace the pid namespace could only be unshared now, and it
 * applies to children: fork once more.  The intermediate reports the real init's
 * pid and leaves; the parent reaps it. */

static int
fork_into_pidns(struct container_plan *c, struct silo_error *err)
{
  if (sync_await_go(c, err) < 0) return -1;
  if (unshare(CLONE_NEWPID) < 0) return silo_err(err, errno, "create pid namespace");
  /* The real init is our child; we tell silo its pid and exit, and it is
   * reparented to silo, a child subreaper for this (container_spawn).  Its
   * PDEATHSIG must then refer to silo, not to us: set while we live, or even while
   * we are exiting, our exit would kill it (the kernel signals at reparenting).  So
   * it waits until silo has reaped us and says ADOPTED. */
  pid_t pid = fork();
  if (pid < 0) return silo_err(err, errno, "fork into pid namespace");
  if (pid > 0) {
    struct silo_error e = {0};
    if (sync_send(c->sync_child, SYNC_GO, pid, -1, &e) < 0) _exit(1);
    _exit(0);
  }
  struct sync_msg m;
  if (sync_expect(c->sync_child, SYNC_ADOPTED, &m, NULL, err) < 0) return -1;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) return silo_err(err, errno, "prctl(PR_SET_PDEATHSIG)");
  /* silo may have died before that: then its end of the socket is closed. */
  if (sync_peer_gone(c->sync_child)) _exit(1);
  return 0;
}

/* GO from the parent means: uid/gid maps are written and we are in every cgroup
 * hierarchy.  It is awaited as late as possible, because on cgroup v1 the parent's
 * first cgroup.procs write waits for an RCU grace period (milliseconds): meanwhile
 * the mounts below proceed in parallel on the other CPU. */
static int
setup(struct container_plan *c, int *master, struct silo_error *err)
{
  struct sync_msg m;
  int sock = c->sync_child;

  /* Into the container's v1 cgroups first, so all of the set-up is accounted
   * there; the parent opened the files for us (see cgroup.c). */
  if (cgroup_self_enter(c->cg, err) < 0) return -1;
  /* In a new or joined user namespace nothing works before the id maps exist. */
  if ((c->userns || c->unshare_flags) && sync_await_go(c, err) < 0) return -1;
  if (ns_join(c, err) < 0) return -1;
  if ((c->unshare_flags & CLONE_NEWPID) && fork_into_pidns(c, err) < 0) return -1;
  /* The private procfs (procfs.c), made now: we are in the container's pid
   * namespace (cloned, joined or forked into), with our user namespace's ids, and
   * none of the container's mounts exists yet ("mount too revealing" could refuse
   * it in a user namespace once they do). */
  procfs_prepare(c);
  phase_mark("child-ns");
  if (ns_loopback_up(c, err) < 0) return -1;
  if (setsid() < 0) return silo_err(err, errno, "setsid");
  /* A session keyring of the container's own, so keys do not leak between
   * containers (runc's behaviour; --no-new-keyring keeps the caller's). */
  if (!c->opts->no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, c->id) < 0 &&
      errno != ENOSYS && errno != EPERM && errno != EDQUOT)
    return silo_err(err, errno, "join session keyring");

  if (c->cfg->hooks.n[OCI_HOOK_PRESTART] || c->cfg->hooks.n[OCI_HOOK_CREATE_RUNTIME]) {
    if (sync_await_go(c, err) < 0) return -1;
    if (sync_send(sock, SYNC_HOOKS, 0, -1, err) < 0) return -1;
    if (sync_expect(sock, SYNC_ACK, &m, NULL, err) < 0) return -1;
  }

  if (rootfs_prepare(c, err) < 0) return -1;
  phase_mark("child-mounts");
  if (c->cfg->hooks.n[OCI_HOOK_CREATE_CONTAINER]) {
    /* Hooks run inside the cgroup, and see our host pid in the state. */
    if (sync_await_go(c, err) < 0) return -1;
    c->state_json = child_state(c, OCI_STATUS_CREATING);
    if (hooks_run_io(c->cfg, OCI_HOOK_CREATE_CONTAINER, c->state_json, c->hook_io, -1, err) < 0)
      return -1;
  }
  if (process_connect_listener(c, err) < 0) return -1;
  if (rootfs_enter(c, err) < 0) return -1;
  /* /proc checked before anything relies on it; sysctls before rootfs_finish,
   * which makes /proc/sys read-only. */
  if (rootfs_check_proc(c, err) < 0) return -1;
  if (set_sysctls(c, err) < 0) return -1;
  if (rootfs_finish(c, err) < 0) return -1;
  phase_mark("child-rootfs");
  if (set_names(c->cfg, err) < 0) return -1;
  if (c->proc->terminal && (*master = terminal_setup(c, err)) < 0) return -1;
  /* The pty is our stdin now: it becomes /dev/console too. */
  if (c->proc->terminal && rootfs_console(0, err) < 0) return -1;
  /* The last mount is made: a config without a mount namespace leaves ours here. */
  if (rootfs_leave_mntns(c, err) < 0) return -1;
  if (process_set_limits(c, err) < 0) return -1;
  if (process_chdir(c, err) < 0) return -1;
  if (process_set_home(c, err) < 0) return -1;
  if (process_find_executable(c, err) < 0) return -1;
  /* Everything above overlapped the parent's cgroup placement; nothing may run
   * outside the cgroup from here on. */
  if (sync_await_go(c, err) < 0) return -1;
  if (!c->state_json) c->state_json = child_state(c, OCI_STATUS_CREATING);
  /* After READY only `start` hears of us: a fifo we could not open then would fail
   * the start silently, after `create` returned 0.  Ask now, as who we are now. */
  if (c->mode == MODE_CREATE && faccessat(c->fifo_dirfd, "exec.fifo", W_OK, AT_EACCESS) < 0)
    return silo_err(err, errno, "exec.fifo: the container's process cannot open it");
  return 0;
}

void
init_main(struct container_plan *c)
{
  struct silo_error err = {0};
  int master = -1;
  phase_mark("child");

  /* Drop what belongs to the parent: the locked state dir fd (a lock lives as long as
   * any copy of its file description) and the parent's end of the socket. */
  close(c->statefd);
  close(c->rootdirfd);
  close(c->sync_parent);
  if (c->pidfd >= 0) close(c->pidfd);
  /* Until READY we die with our parent, so a killed `silo create` leaves nothing.
   * A parent that died before this call would not signal us: the socket tells
   * (its last copy of the other end closed: hang-up; we closed ours above, and
   * getppid() cannot tell, it is 0 in a new pid namespace).  From READY until
   * the state is complete (SAVED, or run's START) the socket's end-of-file is
   * what ends us instead: create's parent exits right after that message, and a
   * death signal still armed then would kill a container that is fine. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
    silo_err(&err, errno, "prctl(PR_SET_PDEATHSIG)");
    sync_send_error(c->sync_child, &err);
    _exit(1);
  }
  if (sync_peer_gone(c->sync_child)) _exit(1);
  /* Not dumpable until execve: nothing else in the container can open our
   * /proc/PID/exe (the host's silo binary) or our fds (CVE-2019-5736, -2016-9962).
   * In a new user namespace this waits for GO: a non-dumpable task's /proc files
   * belong to the host's root, and an unprivileged parent could not write our
   * uid_map, setgroups and gid_map.  Nothing but us is in the namespace until then. */
  if (!(c->clone_flags & CLONE_NEWUSER) && prctl(PR_SET_DUMPABLE, 0) < 0) {
    silo_err(&err, errno, "prctl(PR_SET_DUMPABLE)");
    sync_send_error(c->sync_child, &err);
    _exit(1);
  }

  if (setup(c, &master, &err) < 0) {
    sync_send_error(c->sync_child, &err);
    _exit(1);
  }
  /* Not fatal if it failed: the parent's death would then kill us too early, which
   * leaves nothing behind; but it cannot fail (0 is always a valid signal). */
  (void)prctl(PR_SET_PDEATHSIG, 0);
  if (sync_send(c->sync_child, SYNC_READY, 0, master, &err) < 0) _exit(1);
  if (master >= 0) close(master);

  if (c->mode == MODE_CREATE) {
    /* Our parent wrote the complete state (or died: end-of-file, we leave too). */
    struct sync_msg m;
    if (sync_expect(c->sync_child, SYNC_SAVED, &m, NULL, &err) < 0) _exit(1);
    /* Block until `silo start` opens the fifo for reading. */
    signal(SIGPIPE, SIG_IGN);
    int fd = openat(c->fifo_dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) _exit(1);
    c->exec_fifo_fd = fd;
    /* fd stays open: execve closes it (O_CLOEXEC), which tells `start` that the
     * startContainer hooks are done and the program runs (then poststart). */
  } else {
    struct sync_msg m;
    if (sync_expect(c->sync_child, SYNC_START, &m, NULL, &err) < 0) _exit(1);
    /* The socket stays open likewise: the parent waits for its close-on-exec EOF. */
  }
  close(c->fifo_dirfd);
  phase_mark("child-started");

  /* startContainer hooks run as runc runs them: in the container process once it is
   * confined (its identity, capabilities, no_new_privs and seccomp filter), just
   * before execve, so a hook can do no more than the program could.  The agent gets
   * the listener first: a notified syscall of a hook is answered. */
  process_confine(c);
  if (c->cfg->hooks.n[OCI_HOOK_START_CONTAINER]) {
    free(c->state_json);
    c->state_json = child_state(c, OCI_STATUS_CREATED);
    if (hooks_run_io(c->cfg, OCI_HOOK_START_CONTAINER, c->state_json, c->hook_io, -1, &err) < 0) {
      char buf[SILO_ERROR_MSG_MAX + 64];
      dprintf(2, "silo: container `%s`: %s\n", c->id, silo_err_str(&err, buf, sizeof buf));
      _exit(1);
    }
  }
  process_execve(c);
}
