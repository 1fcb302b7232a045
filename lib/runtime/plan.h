/* silo lib/: the internal API between the lib/ source files (not for cmd/: see silo.h).
 *
 * The create path in one picture (details in container.c and init.c):
 *
 *   parent (silo create/run)                      child (container init, a clone of silo)
 *   ------------------------                      ---------------------------------------
 *   parse config, validate everything,
 *   build seccomp, open joined namespaces
 *   mkdir state dir (lock), intent record
 *   (state.json "creating"), cgroup mkdir,
 *   open the v1 `tasks` files
 *   clone3(CLONE_NEW*|INTO_CGROUP|PIDFD) ------>  PR_SET_PDEATHSIG, parent still there?
 *   record pid + start time                       "0" into each v1 `tasks` (moves itself),
 *                                                 join namespaces, setsid, mounts...
 *   uid/gid maps, GO(pid) --------------------->  (GO awaited only when needed: see
 *                                                 sync_await_go)
 *   [prestart+createRuntime hooks] <-- HOOKS --   (only when the config has such hooks)
 *                                  -- ACK ---->   mounts, devices, createContainer hooks,
 *                                                 seccomp listener connect, pivot_root,
 *                                                 sysctl, masked/ro paths, hostname, tty,
 *                                                 cwd, find the executable
 *   pid file, state.json complete <-- READY ---   (PR_SET_PDEATHSIG cleared: EOF instead)
 *   SAVED + exit (create) / START (run) ------>   wait for SAVED, then on exec.fifo
 *                                                 (create), or for START (run),
 *                                                 startContainer hooks, ids, caps,
 *                                                 no_new_privs, seccomp, execve
 */
#ifndef SILO_PLAN_H
#define SILO_PLAN_H

/* lib/runtime/: everything between "config parsed" and execve.  This header is the
 * plan (what the parent decides and the child carries out) and the types its parts
 * share; each sub-folder has its own header with its functions:
 *   create/create.h        container.c spawn.c init.c cloned.c namespaces.c
 *   rootfs/rootfs.h        rootfs.c mountopts.c devices.c
 *   process/process.h      process.c caps.c procattr.c lsm.c procfs.c terminal.c seccomp*.c
 *   lifecycle/lifecycle.h  run.c lifecycle.c exec.c manage.c events.c features.c
 *                          mounts.c mounts_plan.c mounts_record.c
 * What every part shares sits here beside this header: plan.c (the plan's
 * lifetime), state.c (the state directory), hooks.c, sync.c (the parent <-> child
 * protocol), phase.c (SILO_PHASE_FD: where a start's time goes, for `make bench`).
 * Sub-folders depend on each other one way only:
 *   lifecycle -> create -> rootfs -> process -> (this folder) -> base */

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/silo.h"
#include "oci/oci.h"

struct silo_seccomp;
struct network_plan;

/* ---- phase.c: SILO_PHASE_FD=N writes "NAME PID NS" lines to fd N (off: free) ---- */
void phase_mark(const char *name);

/* ---- caps.c ---- */
struct capsets {
  uint64_t bounding, effective, permitted, inheritable, ambient;
};
/* ---- mountopts.c: one config mount, decoded ---- */
struct mount_plan {
  const struct oci_mount *m;
  const char *source, *dest, *type;
  unsigned long flags;       /* MS_* set at mount time */
  unsigned long clear;       /* flags explicitly cleared (rw, suid, ...) */
  unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) */
  char *data;                /* fs-specific options joined by ',' */
  char *owned_source;        /* source made absolute (relative binds) */
  bool bind, recursive, remount_ro_bind;
  bool idmap, idmap_recursive; /* idmap / ridmap (runtime-spec 1.2) */
  int idmap_fd;                /* a user namespace carrying the mount's id mapping */
  int tree_fd;  /* the bind's detached tree, made by the parent (user namespaces), or -1 */
  bool is_dir;  /* a directory target (else a file, for file bind mounts) */
  bool in_proc; /* the destination, as written, is /proc or inside it */
  bool is_dev;  /* the destination is /dev itself */
  /* ro deferred (runc's order): a tmpfs is made read-only once seeded and chmod-ed, /dev
   * once the mounts, nodes and links under it are in place. */
  bool ro_late;
  bool tmpcopyup;            /* tmpfs: starts with a copy of its mount point's content */
  bool has_mode;             /* mode= given: a tmpfs does not take its mount point's mode */
  uint64_t rec_set, rec_clr; /* rro, rnosuid...: MOUNT_ATTR_* set/cleared on every mount
                                of the tree (mount_setattr AT_RECURSIVE) */
};
/* ---- procattr.c: personality, scheduler, I/O priority, memory policy, exec's
 * CPU affinity (see there) ---- */
/* sched_setattr(2)'s argument, as <linux/sched/types.h> has it (its first 48 bytes). */
struct procattr_sched {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};
#define MPOL_NODES_MAX 4096
struct procattr_plan {
  bool has_persona, has_sched, has_ioprio, has_mpol, has_initial, has_final;
  unsigned long persona;
  struct procattr_sched sched;
  int ioprio;
  int mpol_mode; /* mode | flags */
  unsigned long nodes[MPOL_NODES_MAX / (8 * sizeof(unsigned long))];
  cpu_set_t initial, final; /* exec only */
};
/* ---- the plan: everything the child needs, decided in the parent ---- */
enum container_mode { MODE_CREATE, MODE_RUN };

struct rlimit_plan {
  int resource;
  struct rlimit lim;
};

struct container_plan {
  struct silo_context *ctx;
  const struct silo_create_opts *opts;
  enum container_mode mode;
  const char *id;
  char *bundle; /* absolute */
  char *rootfs; /* absolute, resolved */
  char *config_buf;
  size_t config_len;
  struct oci_config *cfg;
  const struct oci_process *proc;

  /* namespaces */
  uint64_t clone_flags;        /* created by clone3 */
  unsigned long unshare_flags; /* created later by the child (joined user ns) */
  int join_fd[OCI_NS_KINDS];   /* namespaces joined by path, or -1 */
  bool userns, pidns, mntns;   /* the container has its own */
  int host_mntns;              /* no mntns: silo's, where the container's process goes */
  bool late_cgroupns;          /* unshare(CLONE_NEWCGROUP) after the v1 move */
  bool got_go;                 /* child: the parent's GO arrived */

  /* rootfs */
  struct mount_plan *mounts;
  size_t n_mounts;
  unsigned long root_propagation;
  const char *mount_label; /* linux.mountLabel, when SELinux applies it (lsm_mount_label) */
  int rootfd;              /* child: O_PATH of the rootfs while it is being set up */
  int procfd;              /* child: the procfs every write into /proc goes through */

  /* process */
  struct capsets caps;
  bool has_caps;
  struct rlimit_plan *rlimits;
  size_t n_rlimits;
  bool oom_by_parent; /* process.oomScoreAdj written by the parent (user namespaces) */
  char *exec_path;    /* resolved in the child */
  const char **env;   /* child: process.env with HOME added (NULL: process.env as is) */
  char *home_env;     /* child: its "HOME=..." */
  struct silo_seccomp *seccomp;
  struct network_plan *net; /* NULL: no networking of silo's own */
  /* lib/network/ sets net and its destructor: plan_free calls it, so that this
   * folder does not depend on the one built on it. */
  void (*net_free)(struct network_plan *n);
  struct procattr_plan attr;

  /* runtime */
  int rootdirfd;    /* the state root */
  int statefd;      /* <root>/<id>, locked (parent only) */
  int fifo_dirfd;   /* <root>/<id> again, unlocked: the child opens exec.fifo through it */
  int exec_fifo_fd; /* child: the fifo, open until execve */
  int notify_sock;  /* child: connected to linux.seccomp.listenerPath before pivot_root */
  /* NOTIFY_SOCKET (create/notify.c): the bind of <state>/notify, the process's env
   * with the container's NOTIFY_SOCKET, and (run) the socket relayed. */
  struct oci_mount sdnotify_mount;
  char *sdnotify_src;
  const char **sdnotify_env;
  int sdnotify_sock;
  int sync_parent, sync_child;
  struct cgroup *cg;
  pid_t pid;
  int pidfd;
  unsigned long long start_time;
  char created[64];
  int pty_master;
  char *state_json; /* for hooks run by the child */
  char *cg_intent;  /* the cgroup path cgroup_create will make (recorded before it) */
  int hook_io[2];   /* run.oci.hooks.stdout/stderr, opened before the clone (or -1) */
  /* linux.uidMappings/gidMappings when the config has none (crun's default) */
  struct oci_idmap def_uidmap[3], def_gidmap[3];
  size_t n_def_uidmap, n_def_gidmap;
  unsigned long long creator_start; /* ours, for the intent record */

  /* exec: the process built from command-line options */
  struct oci_process exec_proc;
  struct oci_capabilities exec_caps;
  const char **exec_env;
  const char **exec_capsets[5];
  uint32_t *exec_gids; /* the config's additional gids plus --additional-gids */
  /* exec's child in silo's memory (spawn_child_shared): a flag in that memory which
   * the child sets (plan_child_clean) when it leaves silo's heap consistent for good:
   * right before its execve, and on a clean failure right before _exit.  Unset when
   * silo wakes up, the child was killed in the middle of silo's code.  NULL for
   * every other child (a copy: its heap is its own). */
  int *child_clean;
};

/* The shared child's flag (above), set or cleared; nothing for any other process. */
static inline void
plan_child_clean(struct container_plan *c, bool clean)
{
  if (c->child_clean) __atomic_store_n(c->child_clean, clean, __ATOMIC_SEQ_CST);
}

/* ---- plan.c ---- */
void plan_init(struct container_plan *c);
void plan_free(struct container_plan *c);
void plan_mount_free(struct mount_plan *p);

/* ---- state.c: the state directory <root>/<id>/ ---- */
struct silo_state {
  char *id, *bundle, *rootfs, *created, *cgroup_path;
  pid_t pid;
  unsigned long long start_time; /* guards against pid reuse */
  int cgroup_manager;            /* enum cgroup_manager */
  bool new_pidns;                /* killing init kills everything */
  bool detached;
  /* created with create/run -d (no parent waits) */ /* An intent record (docs/reliability.md):
                                                      * the create is not complete.  pid is 0
                                                      * until the process exists; cgroup_path
                                                      * names the cgroup before it is made. */
  bool creating;
  pid_t creator_pid; /* the silo process doing the create: alive means "creating" */
  unsigned long long creator_start;
};
int state_validate_id(const char *id, struct silo_error *err);
int state_root_open(struct silo_context *ctx, struct silo_error *err);
/* Makes <root>/<id> (an existing id is an error), already locked: made and locked
 * under a private name, then renamed into place; returns its fd. */
int state_dir_create(int rootfd, const char *id, struct silo_error *err);
/* Opens and locks an existing container's dir; ENOENT -> "container `id` does not exist". */
int state_dir_lock(int rootfd, const char *id, struct silo_error *err);
int state_write(int dirfd, const struct silo_state *s, struct silo_error *err);
int state_read(int dirfd, struct silo_state *s, struct silo_error *err);
void state_free(struct silo_state *s);
/* Status from the saved state and the process's liveness (pid + start time).  An
 * intent record is `creating` while its creator lives, `stopped` once it died. */
enum oci_status state_status(int dirfd, const struct silo_state *s);
/* A state directory without state.json (a create that died before its first write,
 * or a delete that died while removing it): `creating` while someone holds its
 * lock, else `stopped`. */
enum oci_status state_status_bare(int dirfd);
/* Removes the state directory dirfd (locked) is, if it is still <root>/<id>;
 * never a directory made at <id> by someone else meanwhile.  err may be NULL:
 * best effort. */
int state_dir_remove(int rootfd, const char *id, int dirfd, struct silo_error *err);
/* Loads the config.json saved at create time. */
struct oci_config *state_load_config(int dirfd, struct silo_error *err);
/* Fills an oci_state for hooks/`state` output. */
char *state_json(const struct silo_state *s, const struct oci_config *cfg, enum oci_status st,
                 bool pretty);

/* ---- hooks.c ---- */
/* Runs the hooks of one kind in order; the first failure stops them and is the
 * error (prestart, createRuntime, createContainer, startContainer). */
int hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json,
              struct silo_error *err);
/* Runs every hook of one kind: a failure is a warning and the next hook still runs
 * (poststart, poststop: the runtime spec's "log a warning and continue"). */
void hooks_run_warn(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json,
                    int statefd, const char *id);
/* crun's annotations (crun(1), "Extensions to OCI"), honoured as crun does. */
#define ANN_HOOKS_STDOUT         "run.oci.hooks.stdout" /* hooks' stdout appended to this file */
#define ANN_HOOKS_STDERR         "run.oci.hooks.stderr" /* hooks' stderr appended to this file */
#define ANN_KEEP_ORIGINAL_GROUPS "run.oci.keep_original_groups"         /* no setgroups (present) */
#define ANN_SECCOMP_FAIL_UNKNOWN "run.oci.seccomp_fail_unknown_syscall" /* (present) */
/* Opens the files of run.oci.hooks.stdout/stderr (appended to, created 0644):
 * io[0], io[1], or -1 for the pipe whose output silo shows when a hook fails. */
int hooks_open_output(const struct oci_config *cfg, int io[2], struct silo_error *err);
void hooks_close_output(int io[2]);
/* hooks_run with the files already open (the child: opened by the parent, before
 * pivot_root, so that a host path means the host's file), each hook recorded in the
 * state directory statefd (or -1: not recorded) while it runs, in its own process
 * group, for hooks_kill_recorded after a crash. */
int hooks_run_io(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json,
                 const int io[2], int statefd, struct silo_error *err);
/* Kills the process group of the hook a dead silo was running, if any. */
void hooks_kill_recorded(int statefd);

/* ---- sync.c: the parent <-> child protocol (SOCK_SEQPACKET socketpair) ---- */
enum sync_type {
  SYNC_GO = 1,  /* parent: ids mapped, cgroups entered; carries the child's host pid */
  SYNC_HOOKS,   /* child: run prestart + createRuntime now */
  SYNC_ACK,     /* parent: hooks done */
  SYNC_READY,   /* child: set up; may carry the pty master */
  SYNC_ERROR,   /* either side: errnum + message */
  SYNC_START,   /* parent (run): execve now */
  SYNC_ADOPTED, /* parent: the intermediate of a new pid namespace is reaped (init.c) */
  SYNC_SAVED,   /* parent (create): state.json is complete; the process may outlive silo */
};
struct sync_msg {
  int type;
  int errnum;
  int pid;
  char msg[SILO_ERROR_MSG_MAX];
};
int sync_send(int sock, int type, int pid, int fd, struct silo_error *err);
int sync_send_error(int sock, const struct silo_error *e);
/* Receives one message; *fd gets a passed fd (or -1) when fd != NULL. */
int sync_recv(int sock, struct sync_msg *m, int *fd, struct silo_error *err);
/* Waits for a message of one type; an SYNC_ERROR becomes err. */
int sync_expect(int sock, int type, struct sync_msg *m, int *fd, struct silo_error *err);
/* The child's side of GO: waits for it (once), then becomes root of its new user
 * namespace and makes a late cgroup namespace.  Called before anything that needs
 * the id maps, the cgroup placement or the container's host pid. */
int sync_await_go(struct container_plan *c, struct silo_error *err);
/* Whether the other end of the socket is closed (silo, seen from the child, died:
 * getppid() cannot tell in a new pid namespace). */
bool sync_peer_gone(int sock);

#endif
