/* silo: `exec` — a new process inside a running container.
 *
 * The process gets exactly the container's confinement: every namespace (joined in
 * one setns() call on the init's pidfd), its cgroup (clone3 CLONE_INTO_CGROUP on
 * v2), and the seccomp filter, capabilities and no_new_privs of the process
 * description, applied by the same code as the container's own process
 * (process_exec).  The pid namespace is joined by silo itself before the clone,
 * since it only applies to children.
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* Namespaces of the container that the exec'd process must share. */
static unsigned long
exec_ns_flags(const struct oci_config *cfg)
{
  unsigned long flags = 0;
  for (int t = 0; t < OCI_NS_KINDS; t++)
    if (oci_config_namespace(cfg, (enum oci_ns_type)t)) flags |= ns_clone_flag((enum oci_ns_type)t);
  return flags;
}

/* Runs in the clone: join, confine, execve.  Errors go back over the socket. */
static void __attribute__((noreturn))
exec_child(struct container_plan *c, int ctr_pidfd, unsigned long nsflags)
{
  struct silo_error err = {0};
  int master = -1;
  phase_mark("child");
  close(c->sync_parent);
  /* Until READY we die with silo; not dumpable until execve, so nothing in the
   * container can open our /proc/PID/exe or fds (CVE-2019-5736, -2016-9962).  Both
   * are defences: a failure of either stops the exec. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0) {
    silo_err(&err, errno, "prctl");
    goto fail;
  }
  /* Into the container's v1 cgroups before anything runs (see cgroup.c). */
  if (cgroup_self_enter(c->cg, &err) < 0) goto fail;
  /* The state root is a host directory: it must not stay reachable. */
  close(c->rootdirfd);
  c->rootdirfd = -1;
  /* Our pid as the host sees it, and the seccomp agent's socket: both only while
   * the host's /proc and paths are still ours. */
  char self[32] = "";
  if (readlink("/proc/self", self, sizeof self - 1) > 0) c->pid = atoi(self);
  if (process_connect_listener(c, &err) < 0) goto fail;
  /* The private procfs (procfs.c) for the writes into /proc: made here, where we
   * are already in the container's pid namespace but still in silo's mount
   * namespace, where nothing of the container can make the kernel refuse it. */
  procfs_prepare(c);
  /* rlimits and oomScoreAdj while we are still in silo's user namespace: raising a
   * hard limit or lowering the score needs its CAP_SYS_RESOURCE, and in the
   * container's user namespace our own (non-dumpable) /proc files would belong to
   * nobody there.  Neither reaches anything of the container. */
  if (process_set_limits(c, &err) < 0) goto fail;
  /* Everything but pid (already joined for us) in one atomic step; without a mount
   * namespace that may be nothing at all, and setns() refuses empty flags (EINVAL). */
  unsigned long join = nsflags & ~(unsigned long)CLONE_NEWPID;
  if (join && setns(ctr_pidfd, (int)join) < 0) {
    silo_err(&err, errno, "join the container's namespaces");
    goto fail;
  }
  close(ctr_pidfd);
  /* No mount namespace in the config: joining left us in silo's, with silo's root.
   * The container's root is the init's (a detached tree, see rootfs_leave_mntns),
   * opened by exec_spawn: into it before anything is resolved. */
  if (c->rootfd >= 0) {
    if (fchdir(c->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
      silo_err(&err, errno, "enter the container's root");
      goto fail;
    }
    close_fd(&c->rootfd);
  }
  if (setsid() < 0) {
    silo_err(&err, errno, "setsid");
    goto fail;
  }
  if (c->proc->terminal && (master = terminal_setup(c, &err)) < 0) goto fail;
  /* Relative to the container's root: nothing of the host is reachable. */
  if (process_chdir(c, &err) < 0) goto fail;
  if (process_set_home(c, &err) < 0) goto fail;
  if (process_find_executable(c, &err) < 0) goto fail;
  if (prctl(PR_SET_PDEATHSIG, 0) < 0) {
    silo_err(&err, errno, "prctl(PR_SET_PDEATHSIG)");
    goto fail;
  }
  if (sync_send(c->sync_child, SYNC_READY, 0, master, &err) < 0) {
    plan_child_clean(c, true);
    _exit(1);
  }
  if (master >= 0) close(master);
  /* The socket is close-on-exec: the parent sees EOF once execve succeeded. */
  process_exec(c);
fail:
  sync_send_error(c->sync_child, &err);
  plan_child_clean(c, true); /* reported: the last step before _exit */
  _exit(1);
}

struct exec_child_args {
  struct container_plan *c;
  int ctr_pidfd;
  unsigned long nsflags;
};

static int
exec_child_entry(void *arg)
{
  struct exec_child_args *a = arg;
  exec_child(a->c, a->ctr_pidfd, a->nsflags);
}

/* The shared child (below) died in silo's code, killed by a signal: by the
 * container's root, for one, which may kill any process of its pid namespace at
 * any instruction.  If that was inside malloc, free or stdio (the child allocates:
 * xasprintf, read_fd, libcap-ng's fopen), silo's heap, which the child was using,
 * is half-updated, and glibc would abort at its next call, or worse.  So nothing
 * may touch the heap again: a fixed message with write(2) alone, and _exit(255),
 * what cmd/exec.c returns for a failed exec (EXEC_FAILED, runc's code).  There is
 * nothing to undo: exec writes nothing before the child is ready (the pid file and
 * the console socket's fd come after READY, the terminal is not in raw mode yet),
 * and the pid namespace, cgroup and the container's pidfd go with the process. */
static void __attribute__((noreturn)) exec_child_killed(const char *id)
{
  const char *msg[] = {"silo: exec in `", id, "`: the process was killed during its set-up", NULL};
  log_error_heapless(msg);
  _exit(255);
}

/* The child in silo's own memory, silo asleep until its execve (spawn.c): the
 * same exec_child, with the same steps in the same order; only cheaper.  -1 when
 * this exec needs a child of its own (then spawn_child makes one): with a time
 * namespace, as setns(CLONE_NEWTIME) refuses a process sharing its memory (EUSERS).
 * process.oomScoreAdj is no reason: the kernel does not pass a vfork child's score
 * on to the other users of its memory (MMF_MULTIPROCESS is not set for CLONE_VFORK).
 * What the child changes in silo's memory is undone here: the plan (its fds,
 * paths and the home env are the child's; silo would close or free them) is put
 * back as it was, and dumpability, which belongs to the memory (the child turns it
 * off until its execve), is restored.  Everything else the child allocates stays
 * allocated until silo exits.  Only for silo's command line (silo_exec_opts'
 * shared_memory_child): a child killed in silo's code ends silo (exec_child_killed),
 * and in a program with other threads one killed inside malloc would leave an arena
 * lock held for good. */
static pid_t
exec_spawn_shared(struct container_plan *c, int ctr_pidfd, unsigned long nsflags, bool *in_v2)
{
  if (nsflags & CLONE_NEWTIME) return -1;
  struct exec_child_args a = {.c = c, .ctr_pidfd = ctr_pidfd, .nsflags = nsflags};
  int clean = 0;
  c->child_clean = &clean;
  struct container_plan saved = *c;
  int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  int pidfd = -1;
  pid_t pid = spawn_child_shared(c, exec_child_entry, &a, &pidfd, in_v2);
  /* First of all, before anything can allocate or free. */
  if (pid > 0 && !__atomic_load_n(&clean, __ATOMIC_SEQ_CST)) exec_child_killed(saved.id);
  *c = saved;
  c->child_clean = NULL; /* a fallback copy (spawn_child) must not write into this frame */
  if (pid < 0) return -1;
  if (dumpable > 0 && prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0) < 0)
    silo_log_debug("exec: restore dumpable: %s", strerror(errno));
  c->pid = pid;
  c->pidfd = pidfd;
  return pid;
}

/* A process description from the command line: the config's process with the
 * given args, extra env, cwd, user, caps and tty (what runc's exec does). */
static const struct oci_process *
process_from_opts(struct container_plan *c, const struct silo_exec_opts *o, struct silo_error *err)
{
  const struct oci_process *base = c->cfg->process;
  struct oci_process *p = &c->exec_proc;
  if (!o->n_args) return silo_err(err, EINVAL, "exec: a command is required"), NULL;
  *p = *base;
  p->args = o->args;
  p->n_args = o->n_args;
  p->terminal = o->tty;
  p->no_new_privileges = base->no_new_privileges || o->no_new_privs;
  if (o->cwd) p->cwd = o->cwd;
  if (o->apparmor) p->apparmor_profile = o->apparmor;
  if (o->process_label) p->selinux_label = o->process_label;
  if (o->n_env) {
    /* --env K=V replaces the config's K, as runc does; new keys are appended. */
    c->exec_env = xcalloc(base->n_env + o->n_env + 1, sizeof *c->exec_env);
    size_t k = 0;
    for (size_t i = 0; i < base->n_env; i++) c->exec_env[k++] = base->env[i];
    for (size_t i = 0; i < o->n_env; i++) {
      const char *eq = strchr(o->env[i], '=');
      size_t klen = eq ? (size_t)(eq - o->env[i]) : strlen(o->env[i]);
      size_t j = 0;
      while (j < k &&
             !(strncmp(c->exec_env[j], o->env[i], klen) == 0 && c->exec_env[j][klen] == '='))
        j++;
      c->exec_env[j] = o->env[i];
      if (j == k) k++;
    }
    p->env = c->exec_env;
    p->n_env = k;
  }
  if (o->user) {
    /* Digits only, 0..4294967294: sscanf("%u") took "-1" and "+5" and wrapped big
     * numbers, and (uid_t)-1 is "unchanged" to setresuid(2): root would stay root. */
    uint32_t uid, gid = 0;
    bool has_gid;
    if (creds_parse_ids(o->user, &uid, &gid, &has_gid) < 0)
      return silo_err(err, EINVAL, "--user: `%s` is not UID[:GID] (ids are 0..4294967294)",
                      o->user),
             NULL;
    p->user.uid = uid;
    p->user.gid = gid;
    p->user.additional_gids = NULL;
    p->user.n_additional_gids = 0;
  }
  if (o->n_additional_gids) {
    /* --additional-gids adds to the groups (runc appends them to the config's). */
    size_t n = p->user.n_additional_gids;
    c->exec_gids = xcalloc(n + o->n_additional_gids, sizeof *c->exec_gids);
    if (n) memcpy(c->exec_gids, p->user.additional_gids, n * sizeof *c->exec_gids);
    memcpy(c->exec_gids + n, o->additional_gids, o->n_additional_gids * sizeof *c->exec_gids);
    p->user.additional_gids = c->exec_gids;
    p->user.n_additional_gids = n + o->n_additional_gids;
  }
  if (o->n_caps && base->capabilities) {
    /* --cap adds to the bounding, effective and permitted sets, as runc does since
     * 1.1.2: never to the inheritable and ambient ones, which would pass it on to
     * whatever the process executes, file capabilities or not (CVE-2022-29162). */
    struct oci_capabilities *cp = &c->exec_caps;
    *cp = *base->capabilities;
    const char ***sets[] = {&cp->bounding, &cp->effective, &cp->permitted};
    size_t *counts[] = {&cp->n_bounding, &cp->n_effective, &cp->n_permitted};
    for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
      const char **v = xcalloc(*counts[s] + o->n_caps + 1, sizeof *v);
      memcpy(v, *sets[s], *counts[s] * sizeof *v);
      memcpy(v + *counts[s], o->caps, o->n_caps * sizeof *v);
      *counts[s] += o->n_caps;
      *sets[s] = v;
      c->exec_capsets[s] = v;
    }
    p->capabilities = cp;
  }
  return p;
}

static int
exec_prepare(struct container_plan *c, const struct silo_exec_opts *o, struct silo_state *s,
             struct oci_process_doc **pdoc, struct silo_error *err)
{
  if (state_validate_id(o->id, err) < 0) return -1;
  c->rootdirfd = state_root_open(c->ctx, err);
  if (c->rootdirfd < 0) return -1;
  _cleanup_close_ int dirfd =
      openat(c->rootdirfd, o->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dirfd < 0) {
    if (errno == ENOENT) return silo_err(err, ENOENT, "container `%s` does not exist", o->id);
    return silo_err(err, errno, "open state of `%s`", o->id);
  }
  if (state_read(dirfd, s, err) < 0) return -1;
  enum oci_status st = state_status(dirfd, s);
  /* runc refuses a paused container unless asked: the new process would be frozen as
   * soon as it joins the cgroup, and a foreground exec then waits for `resume`. */
  if (st == OCI_STATUS_PAUSED && !o->ignore_paused)
    return silo_err(err, 0, "cannot exec in a paused container (use --ignore-paused to override)");
  if (st != OCI_STATUS_RUNNING && st != OCI_STATUS_CREATED && st != OCI_STATUS_PAUSED)
    return silo_err(err, 0, "cannot exec in a container that is %s", oci_status_name(st));
  c->cfg = state_load_config(dirfd, err);
  if (!c->cfg) return -1;
  if (o->process_path) {
    *pdoc = oci_process_load(o->process_path, err);
    if (!*pdoc) return -1;
    c->proc = &(*pdoc)->process;
  } else if (!(c->proc = process_from_opts(c, o, err))) {
    return -1;
  }
  /* Before process_plan: in the container's user namespace any capability of it can
   * be granted (see caps_check_available). */
  c->userns = oci_config_namespace(c->cfg, OCI_NS_USER) != NULL;
  if (process_plan(c, err) < 0 || procattr_plan(c, true, err) < 0) return -1;
  /* The container's own processes are the attackers here: judge by its config. */
  {
    struct capsets ctr_caps = {0};
    bool ctr_has = c->cfg->process && c->cfg->process->capabilities &&
                   caps_from_oci(c->cfg->process->capabilities, &ctr_caps, err) == 0;
    c->pidns = oci_config_namespace(c->cfg, OCI_NS_PID) != NULL;
    if (cloned_needed(c, &ctr_caps, ctr_has) && cloned_reexec(err) < 0) return -1;
  }
  /* The exec'd process, with its own capabilities (--cap), under the same rule. */
  if (devices_check_unconfined(c, s->cgroup_path && s->cgroup_manager != CGROUP_MANAGER_DISABLED,
                               err) < 0)
    return -1;
  if (c->proc->terminal && o->detach && !o->console_socket)
    return silo_err(err, EINVAL, "a terminal with --detach needs --console-socket");
  const struct oci_linux *l = c->cfg->linux;
  if (l && l->seccomp &&
      (seccomp_build_cached(c, l->seccomp, &c->seccomp, err) < 0 ||
       process_check_listener(c, err) < 0))
    return -1;
  c->state_json = state_json(s, c->cfg, OCI_STATUS_RUNNING, false);
  c->bundle = xstrdup(s->bundle);
  c->rootfs = xstrdup(s->rootfs);
  if (s->cgroup_path && s->cgroup_manager != CGROUP_MANAGER_DISABLED) {
    /* --cgroup names a sub-cgroup of the container's own: never anywhere else. */
    _cleanup_free_ char *sub = NULL;
    if (o->cgroup) {
      if (o->cgroup[0] == '/' || strstr(o->cgroup, ".."))
        return silo_err(err, EINVAL, "--cgroup `%s`: must be a path below the container's cgroup",
                        o->cgroup);
      sub = xasprintf("%s/%s", s->cgroup_path, o->cgroup);
    }
    if (cgroup_open(sub ? sub : s->cgroup_path, s->cgroup_manager, &c->cg, err) < 0) return -1;
    if (sub && cgroup_check_exists(c->cg, err) < 0)
      return silo_err_wrap(err, "--cgroup `%s`: no such sub-cgroup of the container", o->cgroup);
  }
  return 0;
}

static int
exec_spawn(struct container_plan *c, const struct silo_state *s, bool shared,
           struct silo_error *err)
{
  _cleanup_close_ int ctr = (int)syscall(SYS_pidfd_open, s->pid, 0);
  unsigned long long start;
  if (ctr < 0 || fs_proc_stat(s->pid, NULL, &start) < 0 || start != s->start_time)
    return silo_err(err, ESRCH, "the container process is gone");
  unsigned long nsflags = exec_ns_flags(c->cfg);
  /* Without a mount namespace of its own, the container's root is its init's root,
   * opened through the pid and proven to be the pidfd's process (whose start time
   * was just checked: 0, not read again). */
  if (!(nsflags & CLONE_NEWNS) && (c->rootfd = fs_proc_open_root(s->pid, ctr, 0, err)) < 0)
    return silo_err(err, ESRCH, "the container process is gone");
  /* Only children enter a pid namespace: join it here, before the clone, and go back
   * right after it, so nothing else silo forks (a hook, a sanitizer's helper thread)
   * lands in the container. */
  _cleanup_close_ int own_pidns = -1;
  if (nsflags & CLONE_NEWPID) {
    own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own_pidns < 0) return silo_err(err, errno, "open our pid namespace");
    if (setns(ctr, CLONE_NEWPID) < 0)
      return silo_err(err, errno, "join the container's pid namespace");
  }

  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return silo_err(err, errno, "socketpair");
  c->sync_parent = sp[0];
  c->sync_child = sp[1];
  c->clone_flags = 0;
  if (cgroup_self_enter_open(c->cg, err) < 0 || procattr_enter_initial(c, err) < 0) return -1;
  bool in_v2 = false;
  pid_t pid = shared ? exec_spawn_shared(c, ctr, nsflags, &in_v2) : -1;
  if (pid < 0) pid = spawn_child(c, &in_v2, err);
  if (pid < 0) return -1;
  if (pid == 0) exec_child(c, ctr, nsflags);
  phase_mark("cloned");
  if (own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0)
    silo_log_debug("exec: back to our pid namespace: %s", strerror(errno));
  close(c->sync_child);
  c->sync_child = -1;
  if (c->cg && cgroup_enter(c->cg, pid, in_v2, err) < 0) return -1;
  silo_log_debug("exec in `%s`: process %d cloned%s", c->id, (int)pid,
                 in_v2 ? " into the container's cgroup" : "");

  struct sync_msg m;
  int fd = -1;
  if (sync_expect(c->sync_parent, SYNC_READY, &m, &fd, err) < 0) return -1;
  silo_log_debug("exec in `%s`: process %d is ready", c->id, (int)pid);
  c->pty_master = fd;
  if (fd >= 0 && c->opts->console_socket) {
    if (terminal_send(c->opts->console_socket, fd, err) < 0) return -1;
    close(fd);
    c->pty_master = -1;
  }
  /* EOF (execve closed the socket) or an error from process_exec's last steps. */
  struct silo_error e2 = {0};
  if (sync_recv(c->sync_parent, &m, NULL, &e2) == 0 && m.type == SYNC_ERROR)
    return silo_err(err, m.errnum, "%s", m.msg);
  return 0;
}

int
silo_exec(struct silo_context *ctx, const struct silo_exec_opts *o, int *exit_code,
          struct silo_error *err)
{
  struct container_plan c;
  struct silo_state s = {0};
  struct oci_process_doc *pdoc = NULL;
  struct silo_create_opts copts = {.id = o->id,
                                   .pid_file = o->pid_file,
                                   .console_socket = o->console_socket,
                                   .preserve_fds = o->preserve_fds,
                                   .detach = o->detach};
  plan_init(&c);
  c.ctx = ctx;
  c.opts = &copts;
  c.mode = MODE_RUN;
  c.id = o->id;
  *exit_code = 1;

  sigset_t mask, old;
  sigemptyset(&mask);
  foreground_signals(&mask);
  if (!o->detach) sigprocmask(SIG_BLOCK, &mask, &old);
  phase_mark("start");
  int r = exec_prepare(&c, o, &s, &pdoc, err);
  phase_mark("planned");
  if (r == 0) r = exec_spawn(&c, &s, o->shared_memory_child, err);
  if (r == 0 && o->pid_file) r = container_write_pid_file(&c, err);
  if (r < 0 && c.pid > 0) {
    kill(c.pid, SIGKILL);
    waitpid(c.pid, NULL, 0);
  } else if (r == 0 && o->detach) {
    *exit_code = 0;
  } else if (r == 0) {
    _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    foreground_tty(&c);
    r = foreground_wait(&c, sfd, exit_code, err);
    terminal_restore();
    if (r == 0) silo_log_debug("exec in `%s`: process %d exited %d", o->id, (int)c.pid, *exit_code);
  }
  phase_mark("exited");
  if (!o->detach) sigprocmask(SIG_SETMASK, &old, NULL);
  state_free(&s);
  if (pdoc) oci_process_doc_free(pdoc);
  plan_free(&c);
  return r < 0 ? silo_err_wrap(err, "exec in `%s`", o->id) : 0;
}
