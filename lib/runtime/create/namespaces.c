/* silo: namespaces — which ones the container gets new, which it joins by path, and
 * the uid/gid and time offsets written for it.
 *
 * New namespaces are created by clone3 in one step whenever possible.  Joined ones
 * are opened by the parent (so a bad path fails before anything exists) and entered
 * by the child with setns, the user namespace first because it owns the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <pwd.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "netns/netns.h"
#include "oci/oci.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

unsigned long
ns_clone_flag(enum oci_ns_type t)
{
  switch (t) {
  case OCI_NS_USER:
    return CLONE_NEWUSER;
  case OCI_NS_PID:
    return CLONE_NEWPID;
  case OCI_NS_NETWORK:
    return CLONE_NEWNET;
  case OCI_NS_IPC:
    return CLONE_NEWIPC;
  case OCI_NS_UTS:
    return CLONE_NEWUTS;
  case OCI_NS_CGROUP:
    return CLONE_NEWCGROUP;
  case OCI_NS_TIME:
    return CLONE_NEWTIME;
  case OCI_NS_MOUNT:
    return CLONE_NEWNS;
  default:
    return 0;
  }
}

/* sysctls that are per-namespace, and which namespace the container must own. */
static int
check_sysctl(struct container_plan *c, const char *key, struct silo_error *err)
{
  static const struct {
    const char *prefix;
    bool exact;
    enum oci_ns_type ns;
  } allowed[] = {
      {"kernel.msgmax", true, OCI_NS_IPC},   {"kernel.msgmnb", true, OCI_NS_IPC},
      {"kernel.msgmni", true, OCI_NS_IPC},   {"kernel.sem", true, OCI_NS_IPC},
      {"kernel.shmall", true, OCI_NS_IPC},   {"kernel.shmmax", true, OCI_NS_IPC},
      {"kernel.shmmni", true, OCI_NS_IPC},   {"kernel.shm_rmid_forced", true, OCI_NS_IPC},
      {"fs.mqueue.", false, OCI_NS_IPC},     {"net.", false, OCI_NS_NETWORK},
      {"kernel.hostname", true, OCI_NS_UTS}, {"kernel.domainname", true, OCI_NS_UTS},
  };
  for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
    bool match = allowed[i].exact ? strcmp(key, allowed[i].prefix) == 0
                                  : strncmp(key, allowed[i].prefix, strlen(allowed[i].prefix)) == 0;
    if (!match) continue;
    if (!oci_config_namespace(c->cfg, allowed[i].ns))
      return silo_err(err, EINVAL,
                      "linux.sysctl: `%s` needs the container to have its own %s namespace", key,
                      oci_ns_type_name(allowed[i].ns));
    return 0;
  }
  return silo_err(err, EINVAL, "linux.sysctl: `%s` is not namespaced and cannot be set", key);
}

int
ns_subid_range(const char *text, const char *name, uint32_t *from, uint32_t *count)
{
  size_t nlen = strlen(name);
  /* Lines of NAME:FIRST:COUNT; the first line for NAME counts, as with crun. */
  for (const char *line = text; line && *line;
       line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    if (strncmp(line, name, nlen) != 0 || line[nlen] != ':') continue;
    char *end;
    errno = 0;
    unsigned long long f = strtoull(line + nlen + 1, &end, 10);
    if (errno || *end != ':' || f > UINT32_MAX) return -1;
    unsigned long long n = strtoull(end + 1, &end, 10);
    if (errno || (*end && *end != '\n') || n == 0 || n > UINT32_MAX - f) return -1;
    *from = (uint32_t)f;
    *count = (uint32_t)n;
    return 0;
  }
  return -1;
}

size_t
ns_default_idmap(uint32_t container_id, uint32_t host_id, bool has_range, uint32_t from,
                 uint32_t count, struct oci_idmap out[3])
{
  size_t n = 0;
  if (!has_range) {
    out[n++] = (struct oci_idmap){.container_id = 0, .host_id = host_id, .size = 1};
    return n;
  }
  /* crun's layout: the ids below the process's own come from the start of the
   * range, the process's id is the caller's, the rest of the range follows it. */
  if (container_id > 0) {
    uint32_t used = container_id < count ? container_id : count;
    out[n++] = (struct oci_idmap){.container_id = 0, .host_id = from, .size = used};
    from += used;
    count -= used;
  }
  out[n++] = (struct oci_idmap){.container_id = container_id, .host_id = host_id, .size = 1};
  if (count && container_id < UINT32_MAX - 1) {
    uint32_t room = UINT32_MAX - 1 - container_id; /* 4294967295 is never an id */
    out[n++] = (struct oci_idmap){
        .container_id = container_id + 1, .host_id = from, .size = count < room ? count : room};
  }
  return n;
}

/* The maps of a new user namespace that the config leaves out (the runtime spec makes
 * them optional), as crun makes them: the user silo runs as becomes the process's
 * user (root when it has none), with the range /etc/subuid (/etc/subgid) grants that
 * user's name around it; with no such range, just "0 <our uid> 1". */
static void
default_idmaps(struct container_plan *c)
{
  const struct oci_user *u = &c->proc->user;
  uid_t uid = geteuid();
  gid_t gid = getegid();
  uint32_t from = 0, count = 0;
  _cleanup_free_ char *text = NULL;
  size_t len;
  struct passwd *pw = getpwuid(uid);
  struct silo_error e = {0};
  bool has;

  has = pw && fs_read_file("/etc/subuid", &text, &len, &e) == 0 &&
        ns_subid_range(text, pw->pw_name, &from, &count) == 0;
  c->n_def_uidmap = ns_default_idmap(u->uid, uid, has, from, count, c->def_uidmap);
  free(text);
  text = NULL;
  has = pw && fs_read_file("/etc/subgid", &text, &len, &e) == 0 &&
        ns_subid_range(text, pw->pw_name, &from, &count) == 0;
  c->n_def_gidmap = ns_default_idmap(u->gid, gid, has, from, count, c->def_gidmap);
  silo_log_debug("container `%s`: no uidMappings/gidMappings: %zu and %zu default ranges", c->id,
                 c->n_def_uidmap, c->n_def_gidmap);
}

int
ns_plan(struct container_plan *c, struct silo_error *err)
{
  const struct oci_linux *l = c->cfg->linux;
  size_t n = l ? l->n_namespaces : 0;

  for (size_t i = 0; i < n; i++) {
    const struct oci_namespace *ns = &l->namespaces[i];
    unsigned long flag = ns_clone_flag(ns->type);
    if (ns->path) {
      int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) return silo_err(err, errno, "linux.namespaces[%zu].path: open `%s`", i, ns->path);
      c->join_fd[ns->type] = fd;
      int kind = ioctl(fd, NS_GET_NSTYPE);
      if (kind >= 0 && (unsigned long)kind != flag)
        return silo_err(err, EINVAL, "linux.namespaces[%zu].path: `%s` is not a %s namespace", i,
                        ns->path, oci_ns_type_name(ns->type));
      continue;
    }
    c->clone_flags |= flag;
  }
  c->userns = oci_config_namespace(c->cfg, OCI_NS_USER) != NULL;
  c->pidns = oci_config_namespace(c->cfg, OCI_NS_PID) != NULL;
  c->mntns = oci_config_namespace(c->cfg, OCI_NS_MOUNT) != NULL;

  /* No mount namespace in the config: the runtime spec has silo's inherited.  The
   * container process ends up in it, but its root is still built in a namespace of
   * its own, cloned as usual, and only the finished tree is carried over (see
   * rootfs_leave_mntns): nothing is ever mounted in silo's namespace.  The way back
   * is setns() into the namespace opened here, which needs CAP_SYS_ADMIN over it:
   * a process in a user namespace of the container's has none. */
  if (!c->mntns && (c->userns || c->join_fd[OCI_NS_USER] >= 0))
    return silo_err(err, EINVAL,
                    "linux.namespaces: a user namespace without a mount namespace: the "
                    "container's root is built in a mount namespace of its own, which a "
                    "process in a user namespace cannot leave; add {\"type\": \"mount\"}");
  if (!c->mntns) {
    /* The detached copy leaves unbindable mounts out (open_tree) and is private
     * once the fd that made it is closed: shared, slave and unbindable are refused,
     * not silently dropped. */
    const unsigned long prop = MS_UNBINDABLE | MS_SHARED | MS_SLAVE;
    if (c->root_propagation & prop)
      return silo_err(err, EINVAL,
                      "linux.rootfsPropagation: `%s` needs a mount namespace of the "
                      "container's own",
                      l->rootfs_propagation);
    for (size_t i = 0; i < c->n_mounts; i++)
      if (c->mounts[i].propagation & prop)
        return silo_err(err, EINVAL,
                        "mounts[%zu].options: %s propagation needs a mount namespace of the "
                        "container's own",
                        i,
                        c->mounts[i].propagation & MS_UNBINDABLE ? "unbindable"
                        : c->mounts[i].propagation & MS_SHARED   ? "shared"
                                                                 : "slave");
    c->host_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (c->host_mntns < 0) return silo_err(err, errno, "open silo's mount namespace");
    c->clone_flags |= CLONE_NEWNS;
  }
  if ((c->clone_flags & CLONE_NEWUSER) && (!l->n_uid_mappings || !l->n_gid_mappings))
    default_idmaps(c);
  if ((l && (l->time_monotonic.set || l->time_boottime.set)) && !(c->clone_flags & CLONE_NEWTIME))
    return silo_err(err, EINVAL, "linux.timeOffsets: needs a new time namespace");
  if ((c->cfg->hostname || c->cfg->domainname) && !oci_config_namespace(c->cfg, OCI_NS_UTS))
    return silo_err(err, EINVAL, "hostname: setting it needs a private uts namespace");
  for (size_t i = 0; l && i < l->n_sysctl; i++)
    if (check_sysctl(c, l->sysctl[i].key, err) < 0) return -1;

  /* Joining a user namespace: the new namespaces must be owned by it, so the child
   * creates them with unshare after setns(user).  A new pid namespace then needs
   * one more fork (see init.c). */
  if (c->join_fd[OCI_NS_USER] >= 0) {
    c->unshare_flags = c->clone_flags;
    c->clone_flags = 0;
  }
  /* Time offsets must be written before any process enters the namespace: the
   * parent unshares it for its children (ns_setup_timens) instead. */
  if (l && (l->time_monotonic.set || l->time_boottime.set)) {
    c->clone_flags &= ~(uint64_t)CLONE_NEWTIME;
    c->unshare_flags &= ~(unsigned long)CLONE_NEWTIME;
  }
  return 0;
}

int
ns_setup_timens(struct container_plan *c, struct silo_error *err)
{
  const struct oci_linux *l = c->cfg->linux;
  if (!l || !(l->time_monotonic.set || l->time_boottime.set)) return 0;
  /* unshare(CLONE_NEWTIME) moves only our future children; silo itself stays. */
  if (unshare(CLONE_NEWTIME) < 0) return silo_err(err, errno, "create time namespace");
  char buf[128];
  int len = snprintf(buf, sizeof buf, "monotonic %lld %u\nboottime %lld %u\n",
                     (long long)l->time_monotonic.secs, l->time_monotonic.nanosecs,
                     (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
  if (fs_write_file("/proc/self/timens_offsets", buf, (size_t)len, err) < 0)
    return silo_err_wrap(err, "linux.timeOffsets");
  return 0;
}

int
ns_join(struct container_plan *c, struct silo_error *err)
{
  /* User first: it owns the rest.  Pid was joined by the parent before clone. */
  for (int t = 0; t < OCI_NS_KINDS; t++) {
    if (c->join_fd[t] < 0 || t == OCI_NS_PID) continue;
    if (setns(c->join_fd[t], (int)ns_clone_flag((enum oci_ns_type)t)) < 0)
      return silo_err(err, errno, "join %s namespace", oci_ns_type_name((enum oci_ns_type)t));
    close(c->join_fd[t]);
    c->join_fd[t] = -1;
    /* In the joined user namespace we still have the host's ids, which it need not
     * map (it usually maps its root elsewhere): files we make would fail with
     * EOVERFLOW.  Become its root, as runc does after the join. */
    if (t == OCI_NS_USER && creds_become_root(err) < 0) return -1;
  }
  if (c->unshare_flags & ~(unsigned long)CLONE_NEWPID) {
    if (unshare((int)(c->unshare_flags & ~(unsigned long)CLONE_NEWPID)) < 0)
      return silo_err(err, errno, "create namespaces");
  }
  return 0;
}

static int
write_map(pid_t pid, const char *file, const struct oci_idmap *m, size_t n, struct silo_error *err)
{
  char path[64];
  size_t cap = n * 36 + 1, len = 0;
  _cleanup_free_ char *buf = xmalloc(cap);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                            m[i].size);
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  /* The whole map in one write(2): the kernel accepts exactly one. */
  return fs_write_file(path, buf, len, err);
}

/* newuidmap/newgidmap (from the uidmap package, setuid root) write the ranges that
 * /etc/subuid and /etc/subgid grant an unprivileged user. */
static int
run_idmap_helper(const char *helper, pid_t pid, const struct oci_idmap *m, size_t n,
                 struct silo_error *err)
{
  size_t argc = 0;
  _cleanup_free_ char **argv = xcalloc(3 * n + 3, sizeof *argv);
  _cleanup_free_ char *pidstr = xasprintf("%d", (int)pid);
  argv[argc++] = (char *)helper;
  argv[argc++] = pidstr;
  char *nums = xcalloc(n * 3, 12);
  for (size_t i = 0; i < n; i++) {
    unsigned v[3] = {m[i].container_id, m[i].host_id, m[i].size};
    for (int k = 0; k < 3; k++) {
      char *slot = nums + (i * 3 + (size_t)k) * 12;
      snprintf(slot, 12, "%u", v[k]);
      argv[argc++] = slot;
    }
  }
  pid_t child = fork();
  if (child < 0) {
    free(nums);
    return silo_err(err, errno, "fork %s", helper);
  }
  if (child == 0) {
    execvp(helper, argv);
    _exit(127);
  }
  free(nums);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return silo_err(err, 0, "%s failed (status %d): is the range in /etc/sub%cid?", helper,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1, helper[3]);
  return 0;
}

/* Writes the maps of the new user namespace of `pid`.  Root writes them as they are.
 * Unprivileged, the kernel lets us map exactly our own ids (once setgroups is
 * denied, for the gid map); anything more goes through the setuid helpers. */
static int
write_idmaps(pid_t pid, const struct oci_idmap *u, size_t nu, const struct oci_idmap *g, size_t ng,
             const char *ulabel, const char *glabel, struct silo_error *err)
{
  if (geteuid() == 0) {
    if (write_map(pid, "uid_map", u, nu, err) < 0) return silo_err_wrap(err, "%s", ulabel);
    if (write_map(pid, "gid_map", g, ng, err) < 0) return silo_err_wrap(err, "%s", glabel);
    return 0;
  }
  bool own_uid = nu == 1 && u[0].host_id == geteuid() && u[0].size == 1;
  bool own_gid = ng == 1 && g[0].host_id == getegid() && g[0].size == 1;
  if (own_uid) {
    if (write_map(pid, "uid_map", u, 1, err) < 0) return silo_err_wrap(err, "%s", ulabel);
  } else if (run_idmap_helper("newuidmap", pid, u, nu, err) < 0) {
    return silo_err_wrap(err, "%s", ulabel);
  }
  if (own_gid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
    if (fs_write_file(path, "deny", 4, err) < 0) return silo_err_wrap(err, "deny setgroups");
    if (write_map(pid, "gid_map", g, 1, err) < 0) return silo_err_wrap(err, "%s", glabel);
  } else if (run_idmap_helper("newgidmap", pid, g, ng, err) < 0) {
    return silo_err_wrap(err, "%s", glabel);
  }
  return 0;
}

int
ns_write_idmaps(struct container_plan *c, pid_t pid, struct silo_error *err)
{
  const struct oci_linux *l = c->cfg->linux;
  if (!(c->clone_flags & CLONE_NEWUSER)) return 0;
  if (!l->n_uid_mappings || !l->n_gid_mappings)
    return write_idmaps(pid, c->def_uidmap, c->n_def_uidmap, c->def_gidmap, c->n_def_gidmap,
                        "default uid map", "default gid map", err);
  return write_idmaps(pid, l->uid_mappings, l->n_uid_mappings, l->gid_mappings, l->n_gid_mappings,
                      "linux.uidMappings", "linux.gidMappings", err);
}

/* The process that holds ns_idmap_userns's new user namespace until the parent has
 * written its maps and opened it: it waits for the end of the pipe and leaves.  It
 * shares the parent's memory (CLONE_VM): a fork would copy the page tables of all of
 * silo, and every page the parent writes afterwards would fault to be copied, for
 * a process that does nothing but wait.  So it writes nothing but its own stack (a
 * buffer of the parent's frame, which outlives it: the parent reaps it first): no
 * signal handler ever runs (every signal is blocked before the clone), and only
 * raw system calls that do not fail here (close of its own copy of an fd; a read
 * of a pipe, which no signal can interrupt), so errno -- the parent's: the thread
 * pointer is shared too -- is never written.  If silo dies meanwhile (an OOM kill
 * takes every process sharing the memory), the holder dies with it: it holds
 * nothing but the namespace, which then goes away. */
__attribute__((no_sanitize_address)) static int
idmap_holder(void *arg)
{
  const int *p = arg; /* the pipe: our copy of its write end goes first */
  char b;
  syscall(SYS_close, p[1]);
  syscall(SYS_read, p[0], &b, 1);
  syscall(SYS_exit, 0);
  return 0;
}

/* An idmapped mount needs a user namespace that carries the mapping: a child is
 * cloned into a new one, its maps are written, the namespace is kept by an fd and
 * the child goes away.  Done in the parent, before anything else is created.  A
 * rootless sandbox makes its user namespace the same way (unprivileged, the maps
 * are written as write_idmaps does) and enters it with setns. */
int
ns_idmap_userns(const struct oci_idmap *uid, size_t nu, const struct oci_idmap *gid, size_t ng,
                struct silo_error *err)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
  /* The holder's stack; 16-byte aligned, it grows down from the end. */
  _Alignas(16) char stack[16384];
  sigset_t all, saved;
  sigfillset(&all);
  /* Blocked in the holder from its first instruction (it inherits the mask); the
   * parent's own mask is restored at once. */
  sigprocmask(SIG_SETMASK, &all, &saved);
  pid_t child = clone(idmap_holder, stack + sizeof stack, CLONE_VM | CLONE_NEWUSER | SIGCHLD, p);
  int e = errno;
  sigprocmask(SIG_SETMASK, &saved, NULL);
  if (child < 0) {
    close(p[0]), close(p[1]);
    return silo_err(err, e, "clone a new user namespace");
  }
  close(p[0]);
  int fd = -1;
  if (write_idmaps(child, uid, nu, gid, ng, "uid map", "gid map", err) == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) silo_err(err, errno, "open `%s`", path);
  }
  close(p[1]);
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
  }
  return fd;
}

/* A network namespace of the container's own gets `lo` up, as runc and crun do:
 * programs expect 127.0.0.1 to answer.  Run by the container process, in the
 * namespace, as its root (CAP_NET_ADMIN over it and nothing else). */
int
ns_loopback_up(struct container_plan *c, struct silo_error *err)
{
  if (!((c->clone_flags | c->unshare_flags) & CLONE_NEWNET)) return 0;
  if (nn_loopback_up(err) < 0) return silo_err_wrap(err, "network namespace: bring `lo` up");
  return 0;
}
