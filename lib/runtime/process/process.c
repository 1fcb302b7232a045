/* silo: the container process's last steps — limits, the attributes of procattr.c,
 * LSM label, identity, capabilities, no_new_privs, seccomp and execve. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/network/network.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/silo.h"
#include "oci/oci.h"

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

int
process_plan(struct container_plan *c, struct silo_error *err)
{
  const struct oci_process *p = c->proc;
  if (!p) return silo_err(err, EINVAL, "process: missing");
  if (!p->args || !p->args[0]) return silo_err(err, EINVAL, "process.args: must not be empty");

  c->rlimits = xcalloc(p->n_rlimits + 1, sizeof *c->rlimits);
  for (size_t i = 0; i < p->n_rlimits; i++) {
    const struct oci_rlimit *r = &p->rlimits[i];
    int res = -1;
    for (size_t k = 0; k < ARRAY_SIZE(rlimit_names); k++)
      if (strcmp(r->type, rlimit_names[k].name) == 0) res = rlimit_names[k].resource;
    if (res < 0)
      return silo_err(err, EINVAL, "process.rlimits[%zu].type: unknown rlimit `%s`", i, r->type);
    if (r->soft > r->hard)
      return silo_err(err, EINVAL, "process.rlimits[%zu]: soft limit is above the hard limit", i);
    c->rlimits[c->n_rlimits++] =
        (struct rlimit_plan){.resource = res, .lim = {.rlim_cur = r->soft, .rlim_max = r->hard}};
  }
  if (p->capabilities) {
    if (caps_from_oci(p->capabilities, &c->caps, err) < 0) return -1;
    c->has_caps = true;
    /* In a user namespace (new or joined) the process holds every capability of it
     * until execve trims them to the bounding set: nothing to refuse there. */
    if (!c->userns && c->join_fd[OCI_NS_USER] < 0 &&
        caps_check_available(&c->caps, "process.capabilities", err) < 0)
      return -1;
  }
  /* Without a mount namespace of its own the process is in silo's, chrooted into a
   * detached tree (rootfs_leave_mntns).  setns() into a mount namespace, even the one
   * it is in, resets the root to that namespace's: with CAP_SYS_ADMIN (and
   * CAP_SYS_CHROOT) one call would land it in the host's root.  Every capability
   * (no process.capabilities) includes it.  exec goes through here too (--cap). */
  if (!oci_config_namespace(c->cfg, OCI_NS_MOUNT) &&
      (!p->capabilities || (c->caps.bounding & (1ULL << CAP_SYS_ADMIN))))
    return silo_err(err, EPERM,
                    "process.capabilities: %s without a mount namespace of the container's own: "
                    "setns() into silo's mount namespace would reach the host's root; drop it "
                    "or add {\"type\": \"mount\"} to linux.namespaces",
                    p->capabilities ? "CAP_SYS_ADMIN" : "every capability (none listed)");
  return lsm_plan(p, err);
}

int
process_set_limits(struct container_plan *c, struct silo_error *err)
{
  const struct oci_process *p = c->proc;
  /* rlimits before dropping privileges: raising a hard limit needs CAP_SYS_RESOURCE. */
  for (size_t i = 0; i < c->n_rlimits; i++) {
    if (setrlimit(c->rlimits[i].resource, &c->rlimits[i].lim) < 0)
      return silo_err(err, errno, "process.rlimits: set %s to %llu:%llu", p->rlimits[i].type,
                      (unsigned long long)c->rlimits[i].lim.rlim_cur,
                      (unsigned long long)c->rlimits[i].lim.rlim_max);
  }
  if (p->has_oom_score_adj && !c->oom_by_parent) {
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
    /* Through procfs.c: a mount over oom_score_adj cannot swallow the write. */
    int procfd = procfs_handle(c, err);
    if (procfd < 0 || procfs_write(procfd, "self/oom_score_adj", buf, (size_t)n, err) < 0)
      return silo_err_wrap(err, "process.oomScoreAdj");
  }
  if (p->user.has_umask) umask(p->user.umask & 0777);
  return 0;
}

/* Checks a candidate inside the container's root, magic links refused: a path like
 * /proc/self/fd/N/.. must not reach the host through a runtime fd. */
static bool
is_executable(int root, const char *path, int *why)
{
  struct silo_error e = {0};
  _cleanup_close_ int fd = fs_open_in_root(root, path, O_PATH, 0, &e);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    *why = fd < 0 ? e.errnum : errno;
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    *why = EACCES;
    return false;
  }
  /* On the fd itself (faccessat2, Linux 5.8): the container may have no /proc.
   * Through /proc/self/fd on older kernels. */
  char p[PROC_FD_PATH_MAX];
  int r = faccessat(fd, "", X_OK, AT_EMPTY_PATH);
  if (r < 0 && (errno == ENOSYS || errno == EINVAL)) r = access(fs_proc_fd_path(p, fd), X_OK);
  if (r < 0) {
    *why = errno;
    return false;
  }
  return true;
}

/* Resolved inside the container (after pivot_root), before `create` reports
 * success, so a missing binary fails `create` with runc's message, which clients
 * turn into exit code 127 ("no such file or directory") or 126 ("permission denied"). */
int
process_find_executable(struct container_plan *c, struct silo_error *err)
{
  const char *arg0 = c->proc->args[0];
  int why = ENOENT;
  _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return silo_err(err, errno, "open `/`");
  if (strchr(arg0, '/')) {
    /* Relative to the working directory, which is inside the root. */
    _cleanup_free_ char *abs = NULL;
    if (arg0[0] != '/') {
      char cwd[PATH_MAX];
      if (!getcwd(cwd, sizeof cwd)) return silo_err(err, errno, "getcwd");
      abs = xasprintf("%s/%s", cwd, arg0);
    }
    /* The lowercase texts are what clients match to pick 127 or 126 (Go's
     * syscall.Errno strings), so they are spelled out, not left to strerror. */
    if (!is_executable(root, abs ? abs : arg0, &why))
      return silo_err(err, 0, "exec: \"%s\": %s", arg0,
                      why == ENOENT || why == ENOTDIR ? "no such file or directory"
                                                      : "permission denied");
    c->exec_path = xstrdup(arg0);
    return 0;
  }
  const char *path = env_get(c->proc->env, c->proc->n_env, "PATH");
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  _cleanup_free_ char *copy = xstrdup(path);
  char *save = NULL;
  int first_err = 0;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    _cleanup_free_ char *cand = xasprintf("%s/%s", *dir ? dir : ".", arg0);
    if (is_executable(root, cand, &why)) {
      c->exec_path = steal_ptr(&cand);
      return 0;
    }
    if (why != ENOENT && why != ENOTDIR && !first_err) first_err = why;
  }
  if (first_err == EACCES) return silo_err(err, 0, "exec: \"%s\": permission denied", arg0);
  return silo_err(
      err, 0, "exec: \"%s\": executable file not found in $PATH: no such file or directory", arg0);
}

/* process.cwd, resolved inside the container's root with magic links refused: a
 * cwd like /proc/self/fd/N must not lead through an fd of the runtime to the host
 * (CVE-2024-21626). */
int
process_chdir(struct container_plan *c, struct silo_error *err)
{
  _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return silo_err(err, errno, "open `/`");
  _cleanup_close_ int fd = fs_open_in_root(root, c->proc->cwd, O_PATH | O_DIRECTORY, 0, err);
  if (fd < 0) return silo_err_wrap(err, "process.cwd");
  if (fchdir(fd) < 0) return silo_err(err, errno, "process.cwd: chdir `%s`", c->proc->cwd);
  return 0;
}

/* Largest /etc/passwd read from a container's image for HOME. */
#define PASSWD_MAX (16 << 20)

int
process_set_home(struct container_plan *c, struct silo_error *err)
{
  const struct oci_process *p = c->proc;
  if (env_get(p->env, p->n_env, "HOME")) return 0;
  _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return silo_err(err, errno, "open `/`");
  /* The image is untrusted: a FIFO or device at /etc/passwd is not opened for
   * reading, a huge file not read, symlinks stay inside the root; any of those is
   * "no entry", as a missing file. */
  _cleanup_free_ char *passwd = NULL;
  struct silo_error e = {0};
  struct creds_pw pw;
  const char *home = "/";
  if (fs_read_regular_in_root(root, "/etc/passwd", PASSWD_MAX, &passwd, NULL, &e) < 0) {
    if (e.errnum != ENOENT) silo_log_debug("container `%s`: /etc/passwd: %s: HOME=/", c->id, e.msg);
  } else if (creds_passwd_lookup(passwd, NULL, p->user.uid, &pw) == 0) {
    home = pw.home;
  }
  c->home_env = xasprintf("HOME=%s", home);
  c->env = xcalloc(p->n_env + 2, sizeof *c->env);
  if (p->n_env) memcpy(c->env, p->env, p->n_env * sizeof *c->env);
  c->env[p->n_env] = c->home_env;
  return 0;
}

int
process_connect_listener(struct container_plan *c, struct silo_error *err)
{
  if (!c->seccomp || !silo_seccomp_uses_notify(c->seccomp)) return 0;
  c->notify_sock = silo_seccomp_listener_connect(c->cfg->linux->seccomp->listener_path, err);
  return c->notify_sock < 0 ? silo_err_wrap(err, "linux.seccomp.listenerPath") : 0;
}

int
process_check_listener(const struct container_plan *c, struct silo_error *err)
{
  if (!c->seccomp || !silo_seccomp_uses_notify(c->seccomp)) return 0;
  const char *path = c->cfg->linux->seccomp->listener_path;
  struct stat st;
  /* Only looked at, not connected to: an agent may take one connection per
   * container, and this one would carry nothing.  A socket nobody listens on any
   * more still fails later, at the connect (before pivot_root), with its errno. */
  if (stat(path, &st) < 0)
    return silo_err(err, errno, "linux.seccomp.listenerPath: no seccomp agent at `%s`", path);
  if (!S_ISSOCK(st.st_mode))
    return silo_err(err, ENOTSOCK, "linux.seccomp.listenerPath: `%s` is not a socket", path);
  return 0;
}

/* Closes every fd from `first` up, except those in keep[] (which stay, close-on-exec). */
static void
close_fds_from(unsigned first, const int *keep, size_t n_keep)
{
  unsigned from = first;
  int sorted[4];
  size_t n = 0;
  for (size_t i = 0; i < n_keep && n < 4; i++)
    if (keep[i] >= (int)first) sorted[n++] = keep[i];
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
      int t = sorted[j];
      sorted[j] = sorted[j - 1];
      sorted[j - 1] = t;
    }
  for (size_t i = 0; i <= n; i++) {
    unsigned to = i < n ? (unsigned)sorted[i] - 1 : ~0U;
    if (to >= from && syscall(SYS_close_range, from, to, 0) < 0) {
      for (unsigned fd = from; fd <= to && fd < 65536; fd++) close((int)fd);
    }
    if (i < n) from = (unsigned)sorted[i] + 1;
  }
}

/* The user namespace denies setgroups(2) (/proc/self/setgroups says "deny": a
 * rootless silo's own namespace, or a joined one): then EPERM is expected. */
static bool
setgroups_denied(struct container_plan *c)
{
  struct silo_error e = {0};
  int procfd = procfs_handle(c, &e);
  if (procfd < 0) return false;
  _cleanup_close_ int fd = procfs_open_at(procfd, "self/setgroups", O_RDONLY, &e);
  char buf[8] = "";
  return fd >= 0 && read(fd, buf, sizeof buf - 1) >= 4 && strncmp(buf, "deny", 4) == 0;
}

/* The process's stdio pipes become its user's, as runc's fixStdioPermissions makes
 * them: a non-root program can then reopen them (/dev/stdout, /proc/self/fd/1), which
 * the kernel checks against the pipe's owner.  Only anonymous pipes (pipefs): a file
 * or FIFO given as stdio is the caller's, on the host, and keeps its owner.  Only
 * the uid, as runc; a pipe whose owner is not mapped in our user namespace (EPERM,
 * EINVAL) stays as it is. */
static void
chown_stdio_pipes(uid_t uid)
{
  for (int fd = 0; fd < 3; fd++) {
    struct statfs sfs;
    struct stat st;
    if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PIPEFS_MAGIC || fstat(fd, &st) < 0 ||
        st.st_uid == uid)
      continue;
    if (fchown(fd, uid, (gid_t)-1) < 0 && errno != EPERM && errno != EINVAL)
      silo_log_debug("stdio %d: chown to %u: %s", fd, (unsigned)uid, strerror(errno));
  }
}

static int
set_identity(struct container_plan *c, struct silo_error *err)
{
  const struct oci_user *u = &c->proc->user;
  chown_stdio_pipes(u->uid);
  /* Supplementary groups first (needs CAP_SETGID), then gid, then uid; KEEPCAPS so
   * the permitted set survives the uid change and caps_apply can set it exactly.
   * run.oci.keep_original_groups (crun's, Podman's --group-add keep-groups): no
   * setgroups at all, the process keeps the groups silo was started with, which the
   * one who started it had; additionalGids are then not applied, as with crun.
   * Else EPERM is an error unless the namespace denies setgroups: the process must
   * not run with silo's groups (runc's rule). */
  bool keep = oci_kv_get(c->cfg->annotations, c->cfg->n_annotations, ANN_KEEP_ORIGINAL_GROUPS);
  if (!keep && setgroups(u->n_additional_gids, (const gid_t *)u->additional_gids) < 0) {
    int e = errno;
    if (e != EPERM || !setgroups_denied(c))
      return silo_err(err, e, "process.user.additionalGids: setgroups");
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return silo_err(err, errno, "PR_SET_KEEPCAPS");
  if (setresgid(u->gid, u->gid, u->gid) < 0) return silo_err(err, errno, "setgid %u", u->gid);
  if (setresuid(u->uid, u->uid, u->uid) < 0) return silo_err(err, errno, "setuid %u", u->uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return silo_err(err, errno, "PR_SET_KEEPCAPS");
  return 0;
}

static void
reset_signals(void)
{
  struct sigaction sa = {.sa_handler = SIG_DFL};
  /* Not SIGKILL and SIGSTOP: their disposition cannot change (EINVAL). */
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP && (s < 32 || s >= SIGRTMIN)) sigaction(s, &sa, NULL);
  /* glibc keeps 32 and 33 (below SIGRTMIN) for itself and its sigaction refuses them,
   * but a caller may have left them ignored, which execve keeps: the system call itself
   * resets them (the kernel's struct: handler, flags, restorer, a 64-bit mask). */
  struct {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
  } ksa = {.handler = SIG_DFL};
  for (int s = 32; s < SIGRTMIN; s++) syscall(SYS_rt_sigaction, s, &ksa, NULL, sizeof ksa.mask);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
}

static void __attribute__((noreturn))
die(struct container_plan *c, struct silo_error *err, int code)
{
  char buf[SILO_ERROR_MSG_MAX + 64];
  dprintf(2, "silo: container `%s`: %s\n", c->id, silo_err_str(err, buf, sizeof buf));
  plan_child_clean(c, true); /* a clean failure: nothing of the heap left half-done */
  _exit(code);
}

void
process_confine(struct container_plan *c)
{
  struct silo_error err = {0};
  const struct oci_process *p = c->proc;
  int notify_fd = -1;

  /* The agent gets the runtime-spec's state, without runc's `state` extras; made
   * now, while any allocation is still unfiltered. */
  char *notify_state = c->seccomp && silo_seccomp_uses_notify(c->seccomp)
                           ? oci_state_spec_json(c->state_json)
                           : NULL;

  if (procattr_apply(c, &err) < 0) die(c, &err, 1);
  if (lsm_apply(c, p, &err) < 0) die(c, &err, 1);
  if (c->has_caps && caps_apply_bounding(&c->caps, &err) < 0) die(c, &err, 1);
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it now, while we
   * have it (runc does the same).  Otherwise as late as possible, below. */
  if (c->seccomp && !p->no_new_privileges && silo_seccomp_load(c->seccomp, &notify_fd, &err) < 0)
    die(c, &err, 1);
  if (set_identity(c, &err) < 0) die(c, &err, 1);
  if (c->has_caps && caps_apply(&c->caps, &err) < 0) die(c, &err, 1);
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    silo_err(&err, errno, "set no_new_privs");
    die(c, &err, 1);
  }
  if (c->seccomp && p->no_new_privileges && silo_seccomp_load(c->seccomp, &notify_fd, &err) < 0)
    die(c, &err, 1);
  if (notify_fd >= 0) {
    /* The listener goes to the agent over the socket connected before pivot_root. */
    const struct oci_seccomp *s = c->cfg->linux->seccomp;
    if (silo_seccomp_send_notify_sock(c->notify_sock, s->listener_metadata, notify_fd, c->pid,
                                      notify_state, &err) < 0)
      die(c, &err, 1);
    close(notify_fd);
    free(notify_state);
  }
}

void
process_execve(struct container_plan *c)
{
  struct silo_error err = {0};
  const struct oci_process *p = c->proc;

  phase_mark("child-exec"); /* the last: the phase fd is closed below with the rest */
  /* Nothing of the runtime may reach the process: every fd above stdio and the
   * preserved ones is closed now, before execve resolves its path, so neither the
   * path nor the process can go through a runtime fd (CVE-2024-21626).  Kept: the
   * sync socket and the exec fifo, close-on-exec, whose closing at execve tells
   * the parent / `start` that the program runs; neither leads anywhere. */
  unsigned first = 3 + c->opts->preserve_fds;
  int keep[] = {c->sync_child, c->exec_fifo_fd};
  close_fds_from(first, keep, ARRAY_SIZE(keep));
  reset_signals();
  const char *const *env = c->env ? c->env : p->env;
  char *const *envp = (char *const *)(env ? env : (const char *[]){NULL});
  /* The last step before the system call (exec's child in silo's memory): from here
   * on a kill leaves silo's heap as it is; a failed execve clears it again. */
  plan_child_clean(c, true);
  execve(c->exec_path, (char *const *)p->args, envp);
  int e = errno;
  plan_child_clean(c, false);
  silo_err(&err, e, "exec `%s`", c->exec_path);
  die(c, &err, e == ENOENT ? 127 : 126);
}

void
process_exec(struct container_plan *c)
{
  process_confine(c);
  process_execve(c);
}
