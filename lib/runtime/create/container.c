/* silo: the parent's side of creating a container, and tearing one down.
 *
 * Order matters for "nothing left behind": everything that can be checked without
 * side effects is checked first (config, rootfs, mounts, namespaces' paths,
 * capabilities, seccomp); then state dir, cgroup and process are made, and any
 * failure after that point goes through container_abort, which undoes them in
 * reverse.  Mounts need no undoing: they live in the container's mount namespace
 * and vanish with its last process.
 *
 * For "nothing left behind" when silo itself is killed (kill -9, OOM), every side
 * effect is recorded before it is made: the intent record (state.json with
 * "creating") names the cgroup before the mkdir and the process right after the
 * clone; network.json names the lease and veth before they exist; hook.pid the
 * hook's process group.  `delete` undoes a create that died from those alone
 * (container_destroy); docs/reliability.md has the whole argument.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/network/network.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "oci/oci.h"

enum cgroup_manager
container_manager_of(const struct silo_context *ctx)
{
  switch (ctx->cgroup_manager) {
  case SILO_CGROUP_SYSTEMD:
    return CGROUP_MANAGER_SYSTEMD;
  case SILO_CGROUP_DISABLED:
    return CGROUP_MANAGER_DISABLED;
  default:
    return CGROUP_MANAGER_CGROUPFS;
  }
}

/* Whether silo runs in the initial user namespace, whose uid_map alone is the whole
 * identity "0 0 4294967295".  A namespace that copies it reads as initial: callers
 * only use this to refuse, on the safe side. */
static bool
in_initial_userns(void)
{
  struct silo_error e = {0};
  _cleanup_free_ char *map = NULL;
  if (fs_read_file("/proc/self/uid_map", &map, NULL, &e) < 0) return true;
  unsigned long inside, outside, count;
  char extra;
  return sscanf(map, " %lu %lu %lu %c", &inside, &outside, &count, &extra) == 3 && inside == 0 &&
         outside == 0 && count == 4294967295UL;
}

int
devices_check_unconfined(const struct container_plan *c, bool has_device_cgroup,
                         struct silo_error *err)
{
  /* Without a device cgroup nothing enforces linux.resources.devices or silo's
   * allow-list.  What the kernel still refuses: mknod(2) of a device node needs
   * CAP_MKNOD in the initial user namespace, so a container with a user namespace
   * (or one in a rootless silo's own, as a rootless sandbox's), or whose bounding set
   * lacks CAP_MKNOD (it can never regain it), cannot make one.  Anything else could
   * make and open any device of the host (a disk, loop-control): refused before
   * anything exists, unless the config opts in by name. */
  if (has_device_cgroup || c->userns) return 0;
  if (c->has_caps && !(c->caps.bounding & (1ULL << CAP_MKNOD))) return 0;
  if (!in_initial_userns()) return 0;
  const char *opt = oci_kv_get(c->cfg->annotations, c->cfg->n_annotations, DEVICES_UNRESTRICTED);
  if (opt && strcmp(opt, "true") == 0) return 0;
  return silo_err(err, EPERM,
                  "no device cgroup (--cgroup-manager disabled) and %s without a user namespace: "
                  "the process could create and open any device of the host; drop CAP_MKNOD, "
                  "add a user namespace or set the annotation %s=true",
                  c->has_caps ? "CAP_MKNOD" : "root's capabilities (CAP_MKNOD included)",
                  DEVICES_UNRESTRICTED);
}

/* Everything that can fail without side effects. */
int
container_prepare(struct container_plan *c, struct silo_error *err)
{
  const struct silo_create_opts *o = c->opts;
  char buf[PATH_MAX];

  if (state_validate_id(c->id, err) < 0) return -1;
  if (!realpath(o->bundle ? o->bundle : ".", buf))
    return silo_err(err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
  c->bundle = xstrdup(buf);

  _cleanup_free_ char *cfgpath =
      o->config_path ? xstrdup(o->config_path) : xasprintf("%s/config.json", c->bundle);
  if (fs_read_file(cfgpath, &c->config_buf, &c->config_len, err) < 0) return -1;
  c->cfg = oci_config_parse(c->config_buf, c->config_len, err);
  if (!c->cfg) return silo_err_wrap(err, "%s", cfgpath);
  c->proc = c->cfg->process;
  phase_mark("parsed");

  _cleanup_free_ char *root = c->cfg->root_path[0] == '/'
                                  ? xstrdup(c->cfg->root_path)
                                  : xasprintf("%s/%s", c->bundle, c->cfg->root_path);
  struct stat st;
  if (!realpath(root, buf) || stat(buf, &st) < 0)
    return silo_err(err, errno, "root.path: rootfs `%s`", root);
  if (!S_ISDIR(st.st_mode)) return silo_err(err, ENOTDIR, "root.path: rootfs `%s`", root);
  c->rootfs = xstrdup(buf);

  c->mounts = xcalloc(c->cfg->n_mounts + 1, sizeof *c->mounts);
  for (size_t i = 0; i < c->cfg->n_mounts; i++, c->n_mounts++)
    if (mountopts_parse(&c->cfg->mounts[i], i, c->bundle, &c->mounts[i], err) < 0) return -1;
  for (size_t i = 0; i < c->n_mounts; i++) {
    struct mount_plan *p = &c->mounts[i];
    const struct oci_mount *m = p->m;
    const struct oci_linux *ln = c->cfg->linux;
    if (!p->idmap) continue;
    /* Without mappings of its own, the mount takes the container's. */
    bool own = m->n_uid_mappings && m->n_gid_mappings;
    if (!own && !(ln && ln->n_uid_mappings && ln->n_gid_mappings))
      return silo_err(err, EINVAL, "mounts[%zu]: idmap needs uidMappings and gidMappings", i);
    p->idmap_fd = own ? ns_idmap_userns(m->uid_mappings, m->n_uid_mappings, m->gid_mappings,
                                        m->n_gid_mappings, err)
                      : ns_idmap_userns(ln->uid_mappings, ln->n_uid_mappings, ln->gid_mappings,
                                        ln->n_gid_mappings, err);
    if (p->idmap_fd < 0) return silo_err_wrap(err, "mounts[%zu]", i);
  }
  c->mount_label = lsm_mount_label(c->cfg->linux);
  for (size_t i = 0; c->mount_label && i < c->n_mounts; i++) {
    struct mount_plan *p = &c->mounts[i];
    if (p->bind || !lsm_takes_context(p->type)) continue;
    char *data = lsm_mount_data(p->data, c->mount_label);
    free(p->data);
    p->data = data;
  }

  const struct oci_linux *l = c->cfg->linux;
  if (l && l->rootfs_propagation &&
      mountopts_propagation(l->rootfs_propagation, &c->root_propagation))
    return silo_err(err, EINVAL, "linux.rootfsPropagation: unknown value `%s`",
                    l->rootfs_propagation);
  /* A cache or memory-bandwidth allocation asked for is not silently dropped. */
  const struct oci_intel_rdt *rdt = l ? l->intel_rdt : NULL;
  if (rdt && (rdt->clos_id || rdt->l3_cache_schema || rdt->mem_bw_schema || rdt->enable_cmt ||
              rdt->enable_mbm))
    return silo_err(err, ENOTSUP, "linux.intelRdt: Intel RDT is not supported by silo%s",
                    access("/sys/fs/resctrl", F_OK) == 0 ? "" : " (nor by this host: no resctrl)");
  if (ns_plan(c, err) < 0) return -1;
  if (process_plan(c, err) < 0 || procattr_plan(c, false, err) < 0) return -1;
  if (c->proc->terminal && !o->console_socket && (c->mode == MODE_CREATE || o->detach))
    return silo_err(err, EINVAL,
                    "process.terminal is true: --console-socket is required when detached");
  if (l && l->seccomp) {
    /* The state root is opened here already: it holds the seccomp cache. */
    if (c->rootdirfd < 0 && (c->rootdirfd = state_root_open(c->ctx, err)) < 0) return -1;
    if (seccomp_build_cached(c, l->seccomp, &c->seccomp, err) < 0) return -1;
    if (process_check_listener(c, err) < 0) return -1;
  }
  if (network_plan(c, err) < 0) return -1;
  if (devices_check_unconfined(c, container_manager_of(c->ctx) != CGROUP_MANAGER_DISABLED, err) < 0)
    return -1;
  /* Where the cgroup will be, for the intent record (a bad cgroupsPath fails here,
   * with nothing to undo). */
  struct cgroup_config cc = {.id = c->id,
                             .path = c->cfg->linux ? c->cfg->linux->cgroups_path : NULL,
                             .manager = container_manager_of(c->ctx)};
  if (cgroup_plan_path(&cc, &c->cg_intent, err) < 0) return -1;
  /* Before anything exists: a container that could ptrace us gets a sealed copy. */
  if (cloned_needed(c, &c->caps, c->has_caps) && cloned_reexec(err) < 0) return -1;
  phase_mark("planned");
  silo_log_debug("container `%s`: config checked: rootfs %s, %zu mounts, clone flags %#llx", c->id,
                 c->rootfs, c->n_mounts, (unsigned long long)c->clone_flags);
  return 0;
}

int
container_write_pid_file(struct container_plan *c, struct silo_error *err)
{
  if (!c->opts->pid_file) return 0;
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d", (int)c->pid);
  _cleanup_free_ char *path = xstrdup(c->opts->pid_file);
  char *slash = strrchr(path, '/');
  _cleanup_close_ int dfd = -1;
  const char *name = path;
  if (slash) {
    *slash = '\0';
    name = slash + 1;
    dfd = open(path[0] ? path : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  } else {
    dfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  if (dfd < 0) return silo_err(err, errno, "pid file `%s`", c->opts->pid_file);
  if (fs_write_file_atomic(dfd, name, buf, (size_t)n, err) < 0)
    return silo_err_wrap(err, "pid file `%s`", c->opts->pid_file);
  return 0;
}

static void
plan_state(const struct container_plan *c, struct silo_state *s)
{
  *s = (struct silo_state){
      .id = (char *)c->id,
      .bundle = c->bundle,
      .rootfs = c->rootfs,
      .created = (char *)c->created,
      /* Before the cgroup exists, the path it will have; none if it was not made. */
      .cgroup_path = c->cg ? (char *)cgroup_path(c->cg) : c->cg_intent,
      .cgroup_manager = container_manager_of(c->ctx),
      .pid = c->pid,
      .start_time = c->start_time,
      .new_pidns = c->pidns && c->join_fd[OCI_NS_PID] < 0,
      .detached = c->mode == MODE_CREATE || c->opts->detach,
  };
}

int
container_write_state(struct container_plan *c, struct silo_error *err)
{
  struct silo_state s;
  plan_state(c, &s);
  return state_write(c->statefd, &s, err);
}

int
container_write_intent(struct container_plan *c, struct silo_error *err)
{
  struct silo_state s;
  plan_state(c, &s);
  s.creating = true;
  s.creator_pid = getpid();
  s.creator_start = c->creator_start;
  return state_write(c->statefd, &s, err);
}

static int
run_runtime_hooks(struct container_plan *c, struct silo_error *err)
{
  struct silo_state s = {.id = (char *)c->id,
                         .bundle = c->bundle,
                         .rootfs = c->rootfs,
                         .created = c->created,
                         .pid = c->pid};
  _cleanup_free_ char *json = state_json(&s, c->cfg, OCI_STATUS_CREATING, false);
  if (hooks_run_io(c->cfg, OCI_HOOK_PRESTART, json, c->hook_io, c->statefd, err) < 0) return -1;
  return hooks_run_io(c->cfg, OCI_HOOK_CREATE_RUNTIME, json, c->hook_io, c->statefd, err);
}

/* A new pid from the intermediate of fork_into_pidns (init.c). */
static int
adopt_grandchild(struct container_plan *c, pid_t pid, struct silo_error *err)
{
  int status;
  while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
  }
  close_fd(&c->pidfd);
  c->pid = pid;
  c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (c->pidfd < 0) return silo_err(err, errno, "pidfd_open %d", (int)pid);
  if (fs_proc_stat(c->pid, NULL, &c->start_time) < 0)
    return silo_err(err, ESRCH, "the container process exited during set-up");
  /* The new init into the intent record (the cgroup holds it already, so a crash
   * before this write is undone too). */
  if (container_write_intent(c, err) < 0) return -1;
  /* The intermediate is reaped: the real init is our child (we are a subreaper)
   * and may now tie its PDEATHSIG to us. */
  return sync_send(c->sync_parent, SYNC_ADOPTED, 0, -1, err);
}

/* linux.resources with silo's device rules (the config's plus the defaults). */
static int
apply_resources(struct container_plan *c, struct silo_error *err)
{
  const struct oci_linux *l = c->cfg->linux;
  struct oci_resources r = {0};
  if (l && l->resources) r = *l->resources;
  _cleanup_free_ struct oci_device_cgroup *rules = NULL;
  devices_cgroup_rules(c->cfg, &rules, &r.n_devices);
  r.devices = rules;
  return cgroup_apply(c->cg, &r, err);
}

int
container_make_cgroup(struct container_plan *c, struct silo_error *err)
{
  enum cgroup_manager mgr = container_manager_of(c->ctx);
  if (mgr == CGROUP_MANAGER_DISABLED) return 0;
  struct cgroup_config cc = {
      .id = c->id,
      .path = c->cfg->linux ? c->cfg->linux->cgroups_path : NULL,
      .manager = mgr,
      .resources = NULL, /* applied once, below, with silo's device rules */
  };
  if (cgroup_create(&cc, &c->cg, err) < 0) {
    /* Rootless without a delegated cgroup: run without one, as crun does. */
    if (geteuid() == 0 || (err->errnum != EACCES && err->errnum != EPERM && err->errnum != EROFS))
      return -1;
    silo_log_debug("container `%s`: no cgroup (%s): continuing without", c->id, err->msg);
    silo_err_clear(err);
    c->cg = NULL;
    /* The next records name no cgroup (cgroup_create removed what it made). */
    free(c->cg_intent);
    c->cg_intent = NULL;
    return 0;
  }
  const char *busy_dir;
  int busy = cgroup_busy(c->cg, &busy_dir);
  if (busy > 0)
    silo_log_warn("container `%s`: cgroup %s is not empty: %d process(es) found (runc 1.1 "
                  "accepts it with this warning; they share the container's limits)",
                  c->id, busy_dir, busy);
  if (apply_resources(c, err) < 0) return silo_err_wrap(err, "linux.resources");
  silo_log_debug("container `%s`: cgroup %s", c->id, cgroup_path(c->cg));
  return 0;
}

/* Through the host's /proc, in silo's mount namespace, which nothing of the
 * container reaches; pid is our child, not reaped, so it cannot have been reused. */
static int
write_oom_score_adj(pid_t pid, int score, struct silo_error *err)
{
  char path[64], buf[16];
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
  int n = snprintf(buf, sizeof buf, "%d", score);
  if (fs_write_file(path, buf, (size_t)n, err) < 0)
    return silo_err_wrap(err, "process.oomScoreAdj");
  return 0;
}

int
container_spawn(struct container_plan *c, struct silo_error *err)
{
  if (c->rootdirfd < 0 && (c->rootdirfd = state_root_open(c->ctx, err)) < 0) return -1;
  c->statefd = state_dir_create(c->rootdirfd, c->id, err);
  if (c->statefd < 0) return -1;
  /* From here on, failures must call container_abort.  If silo dies instead, the
   * intent record is how `list` shows and `delete` undoes what it made: so it is
   * written first, under the lock, and names the cgroup before the mkdir.  Its
   * "creator" (our pid and start time) tells a live create from a dead one. */
  time_rfc3339(c->created, sizeof c->created);
  if (fs_proc_stat(getpid(), NULL, &c->creator_start) < 0)
    return silo_err(err, errno, "read our own start time");
  if (container_write_intent(c, err) < 0) return -1;
  if (fs_write_file_atomic(c->statefd, "config.json", c->config_buf, c->config_len, err) < 0)
    return -1;
  if (c->mode == MODE_CREATE && mkfifoat(c->statefd, "exec.fifo", 0600) < 0)
    return silo_err(err, errno, "create exec.fifo");
  /* With a user namespace the container's root is not the host's: it opens the fifo
   * through its fd of this directory (never by a path: <root> stays 0700), so the
   * directory must let it search and the fifo let it write, as runc's 0622 fifo
   * does.  Nobody else reaches either: <root> is 0700. */
  if (c->mode == MODE_CREATE && (c->userns || c->join_fd[OCI_NS_USER] >= 0) &&
      (fchmod(c->statefd, 0711) < 0 || fchmodat(c->statefd, "exec.fifo", 0622, 0) < 0))
    return silo_err(err, errno, "make exec.fifo reachable for the container's root");
  if (notify_setup(c, err) < 0) return -1;
  /* A second, unlocked open of the state dir for the child (see init_main): through
   * our fd, not the name, which only ever leads to ours while we hold the lock. */
  c->fifo_dirfd = openat(c->statefd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c->fifo_dirfd < 0) return silo_err(err, errno, "open state directory");

  phase_mark("state-dir");
  if (container_make_cgroup(c, err) < 0) return -1;
  phase_mark("cgroup");
  /* The hooks' output files are opened here, by the runtime on the host, for every
   * hook of create: the child inherits them (close-on-exec, gone at execve) and its
   * createContainer and startContainer hooks write to the host's files, whatever the
   * paths mean inside the container. */
  if (hooks_open_output(c->cfg, c->hook_io, err) < 0) return -1;

  /* A cgroup namespace rooted at the container's cgroup: clone3 can make it at once
   * when the child is born in its (v2) cgroup; on v1 the child unshares it after
   * the parent has moved it. */
  if ((c->clone_flags & CLONE_NEWCGROUP) && c->cg) {
    enum cgroup_mode mode;
    if (cgroup_detect(&mode, err) < 0) return -1;
    if (mode != CGROUP_MODE_UNIFIED) {
      c->clone_flags &= ~(uint64_t)CLONE_NEWCGROUP;
      c->late_cgroupns = true;
    }
  }

  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return silo_err(err, errno, "socketpair");
  c->sync_parent = sp[0];
  c->sync_child = sp[1];
  if (c->net && network_before_clone(c, err) < 0) return -1;

  if (ns_setup_timens(c, err) < 0) return -1;
  /* Joining a pid namespace changes where our children go, not us; we go back right
   * after the clone so nothing else silo forks lands there. */
  _cleanup_close_ int own_pidns = -1;
  if (c->join_fd[OCI_NS_PID] >= 0) {
    own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own_pidns < 0) return silo_err(err, errno, "open our pid namespace");
    if (setns(c->join_fd[OCI_NS_PID], CLONE_NEWPID) < 0)
      return silo_err(err, errno, "join pid namespace");
  }

  /* silo adopts what is orphaned below it while it lives: always the real init of a
   * joined user namespace with a new pid namespace (its parent, an intermediate,
   * exits at once: see fork_into_pidns), and for a foreground `run` every orphan of
   * the container, reaped by foreground_wait, as runc does unless --no-subreaper. */
  bool foreground = c->mode == MODE_RUN && !c->opts->detach;
  if (((c->unshare_flags & CLONE_NEWPID) || (foreground && !c->opts->no_subreaper)) &&
      prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    return silo_err(err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");

  if (cgroup_self_enter_open(c->cg, err) < 0) return -1;
  /* With a user namespace (new or joined) the container process cannot write its own
   * oom_score_adj: non-dumpable, its /proc files belong to the host's root, nobody in
   * its namespace; and lowering the score needs CAP_SYS_RESOURCE in the host's.  We
   * write it, below, before GO: the process (or the intermediate that forks the
   * real init, which inherits it) has done nothing of the container's yet. */
  c->oom_by_parent = c->proc->has_oom_score_adj && (c->userns || c->join_fd[OCI_NS_USER] >= 0);
  rootfs_open_bind_sources(c);
  bool in_v2 = false;
  pid_t pid = spawn_child(c, &in_v2, err);
  if (pid == 0) init_main(c);   /* never returns */
  rootfs_close_bind_sources(c); /* the child has its copies */
  if (pid < 0) return -1;
  phase_mark("cloned");
  if (own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0)
    silo_log_debug("back to our pid namespace: %s", strerror(errno));
  close_fd(&c->sync_child);
  /* Recorded before anything else is done with it.  Until this write is on disk
   * the child is tied to us alone: it dies with us (PR_SET_PDEATHSIG, checked
   * after it was set, see init_main), and on a v2 or hybrid host its cgroup,
   * named by the intent, holds it from birth. */
  if (fs_proc_stat(pid, NULL, &c->start_time) < 0)
    return silo_err(err, ESRCH, "the container process exited during set-up");
  if (container_write_intent(c, err) < 0) return -1;
  silo_log_debug("container `%s`: process %d cloned%s", c->id, (int)pid,
                 in_v2 ? " into its cgroup" : "");

  if (ns_write_idmaps(c, pid, err) < 0) return -1;
  if (c->oom_by_parent && write_oom_score_adj(pid, c->proc->oom_score_adj, err) < 0) return -1;
  if (c->net && network_after_clone(c, err) < 0) return -1;
  if (c->cg && cgroup_enter(c->cg, pid, in_v2, err) < 0) return -1;
  phase_mark("cgroup-enter");
  if (sync_send(c->sync_parent, SYNC_GO, pid, -1, err) < 0) {
    /* The child may have failed before it wanted GO: its error is the story. */
    struct sync_msg m;
    struct silo_error e2 = {0};
    if (sync_recv(c->sync_parent, &m, NULL, &e2) == 0 && m.type == SYNC_ERROR)
      return silo_err(err, m.errnum, "%s", m.msg);
    return -1;
  }

  for (;;) {
    struct sync_msg m;
    int fd = -1;
    if (sync_recv(c->sync_parent, &m, &fd, err) < 0) return -1;
    if (m.type == SYNC_ERROR) return silo_err(err, m.errnum, "%s", m.msg);
    if (m.type == SYNC_GO) {
      if (adopt_grandchild(c, m.pid, err) < 0) return -1;
      continue;
    }
    if (m.type == SYNC_HOOKS) {
      if (run_runtime_hooks(c, err) < 0) return -1;
      if (sync_send(c->sync_parent, SYNC_ACK, 0, -1, err) < 0) return -1;
      continue;
    }
    if (m.type == SYNC_READY) {
      c->pty_master = fd;
      silo_log_debug("container `%s`: process %d is ready", c->id, (int)c->pid);
      break;
    }
    if (fd >= 0) close(fd);
    return silo_err(err, EPROTO, "sync: unexpected message %d", m.type);
  }

  if (c->pty_master >= 0 && c->opts->console_socket) {
    if (terminal_send(c->opts->console_socket, c->pty_master, err) < 0) return -1;
    close_fd(&c->pty_master);
  }
  if (container_write_pid_file(c, err) < 0) return -1;
  if (container_write_state(c, err) < 0) return -1;
  phase_mark("state");
  /* The state is complete: now the create child may outlive us (until this
   * message it exits on our socket's end-of-file; run's START means the same). */
  if (c->mode == MODE_CREATE && sync_send(c->sync_parent, SYNC_SAVED, 0, -1, err) < 0)
    return silo_err_wrap(err, "the container process exited during set-up");
  return 0;
}

void
container_abort(struct container_plan *c)
{
  struct silo_error e = {0};
  if (c->pid > 0) {
    if (c->pidfd < 0 || syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0) < 0)
      kill(c->pid, SIGKILL);
    int status;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
    }
    c->pid = 0;
  }
  if (c->cg) {
    if (cgroup_destroy(c->cg, &e) < 0) silo_log_warn("remove cgroup: %s", e.msg);
    cgroup_free(c->cg);
    c->cg = NULL;
  }
  if (c->statefd >= 0) {
    if (c->net) network_teardown(c->statefd, c->id);
    /* Only the directory this create made: by fd and inode, never by name alone. */
    state_dir_remove(c->rootdirfd, c->id, c->statefd, NULL);
  }
  if (c->opts->pid_file && c->statefd >= 0) unlink(c->opts->pid_file);
}

/* Waits up to timeout_ms for a process (not necessarily our child) to exit. */
static bool
wait_exit(pid_t pid, unsigned long long start_time, int timeout_ms)
{
  _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  unsigned long long st;
  char state;
  if (pidfd < 0) return true;
  if (fs_proc_stat(pid, &state, &st) < 0 || st != start_time || state == 'Z') return true;
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  return poll(&p, 1, timeout_ms) > 0;
}

int
container_destroy(int rootfd, int dirfd, const struct silo_state *s,
                  const struct oci_config *have_cfg, struct cgroup *have_cg, struct silo_error *err)
{
  enum oci_status st = state_status(dirfd, s);
  struct cgroup *cg = have_cg;
  if (!cg && s->cgroup_path && s->cgroup_manager != CGROUP_MANAGER_DISABLED &&
      cgroup_open(s->cgroup_path, s->cgroup_manager, &cg, err) < 0)
    cg = NULL;
  /* An intent record under our lock: its create died (it held the lock until
   * done).  Its process may still live (`stopped` only says its silo is gone). */
  bool unfinished = s->creating;

  if ((st != OCI_STATUS_STOPPED || unfinished) && s->pid > 0) {
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
    unsigned long long start;
    /* Re-check the start time after taking the pidfd: then the fd is ours. */
    if (pidfd >= 0 && fs_proc_stat(s->pid, NULL, &start) == 0 && start == s->start_time)
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
  }
  /* Without its own pid namespace, killing the init leaves the rest: kill the cgroup.
   * So too for a create that died once it had a process: processes it never
   * recorded (an intermediate, createContainer hooks) are in that cgroup.  Before
   * the pid is recorded the cgroup is not known to be the create's own (it may
   * have existed, busy, and the create would have refused it), so it is left
   * alone then: the only process there can be is the child, which died with its
   * silo (PR_SET_PDEATHSIG). */
  if (cg && (!s->new_pidns || st == OCI_STATUS_PAUSED || (unfinished && s->pid > 0))) {
    struct silo_error e = {0};
    cgroup_signal_all(cg, SIGKILL, &e);
  }
  /* A hook a dead silo was running (create's prestart/createRuntime, start's
   * poststart, an earlier delete's poststop), and what it started. */
  hooks_kill_recorded(dirfd);
  /* Frozen tasks (v1 freezer) do not act on SIGKILL until thawed. */
  if (cg && st == OCI_STATUS_PAUSED) {
    struct silo_error e = {0};
    if (cgroup_freeze(cg, false, &e) < 0) silo_log_warn("container `%s`: thaw: %s", s->id, e.msg);
  }
  if ((st != OCI_STATUS_STOPPED || unfinished) && s->pid > 0 &&
      !wait_exit(s->pid, s->start_time, 10000))
    silo_log_warn("container `%s`: process %d did not exit after SIGKILL", s->id, s->pid);

  struct silo_error herr = {0};
  struct oci_config *loaded = have_cfg ? NULL : state_load_config(dirfd, &herr);
  const struct oci_config *cfg = have_cfg ? have_cfg : loaded;
  if (cfg && cfg->hooks.n[OCI_HOOK_POSTSTOP]) {
    _cleanup_free_ char *json = state_json(s, cfg, OCI_STATUS_STOPPED, false);
    /* poststop failures are warnings: the container is gone either way. */
    hooks_run_warn(cfg, OCI_HOOK_POSTSTOP, json, dirfd, s->id);
  }
  if (loaded) oci_config_free(loaded);

  network_teardown(dirfd, s->id);
  int ret = 0;
  if (cg) {
    if (cgroup_destroy(cg, err) < 0) ret = silo_err_wrap(err, "remove cgroup");
    if (cg != have_cg) cgroup_free(cg);
  }
  if (state_dir_remove(rootfd, s->id, dirfd, ret == 0 ? err : NULL) < 0 && ret == 0)
    ret = silo_err_wrap(err, "remove state of `%s`", s->id);
  return ret;
}
