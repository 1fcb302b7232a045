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
 *                                                 init_await_go)
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
#ifndef SILO_CORE_H
#define SILO_CORE_H

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "oci/oci.h"
#include "lib/silo.h"

struct silo_seccomp;
struct container_plan;

/* ---- fsutil.c: files, and paths resolved safely inside a root ---- */
int read_file(const char *path, char **buf, size_t *len, struct silo_error *err);
int read_file_at(int dirfd, const char *path, char **buf, size_t *len, struct silo_error *err);
/* Writes data to an existing file (e.g. in /proc or /sys): open, one write, close. */
int write_file(const char *path, const char *data, size_t len, struct silo_error *err);
int write_file_at(int dirfd, const char *path, const char *data, size_t len,
                  struct silo_error *err);
/* Replaces dirfd/name atomically (write to a temp name, fsync not needed on tmpfs, rename). */
int write_file_atomic(int dirfd, const char *name, const char *data, size_t len,
                      struct silo_error *err);
/* Opens path inside rootfd as if rootfd were "/": symlinks and ".." cannot leave it
 * (openat2 RESOLVE_IN_ROOT, with a component-by-component fallback). */
int open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct silo_error *err);
/* Creates the directories of path inside rootfd; returns an O_PATH fd of the last one. */
int mkdir_in_root(int rootfd, const char *path, mode_t mode, struct silo_error *err);
/* Makes sure path exists inside rootfd as a directory (is_dir) or an empty file, creating
 * parents; returns an O_PATH fd of it, to mount onto through /proc/self/fd. */
int mkpath_in_root(int rootfd, const char *path, bool is_dir, struct silo_error *err);
/* Removes a directory tree (no symlinks followed); missing is fine. */
int rm_rf_at(int dirfd, const char *name);
/* "/proc/self/fd/N" */
#define PROC_FD_PATH_MAX 32
const char *proc_fd_path(char buf[PROC_FD_PATH_MAX], int fd);
/* Reads state and start time (field 22) of /proc/<pid>/stat. */
int proc_stat(pid_t pid, char *state, unsigned long long *start_time);
/* RFC 3339 UTC timestamp with nanoseconds. */
void timestamp_now(char *buf, size_t len);

/* ---- state.c: the state directory <root>/<id>/ ---- */
struct silo_state {
  char *id, *bundle, *rootfs, *created, *cgroup_path;
  pid_t pid;
  unsigned long long start_time; /* guards against pid reuse */
  int cgroup_manager;            /* enum cgroup_manager */
  bool new_pidns;                /* killing init kills everything */
  bool detached;                 /* created with create/run -d (no parent waits) */
  /* An intent record (docs/reliability.md): the create is not complete.  pid is 0
   * until the process exists; cgroup_path names the cgroup before it is made. */
  bool creating;
  pid_t creator_pid; /* the silo process doing the create: alive means "creating" */
  unsigned long long creator_start;
};
int validate_id(const char *id, struct silo_error *err);
int state_root_open(struct silo_context *ctx, struct silo_error *err);
/* mkdir <root>/<id> (an existing id is an error) and lock it; returns its fd. */
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
int state_dir_remove(int rootfd, const char *id);
/* Loads the config.json saved at create time. */
struct oci_config *state_load_config(int dirfd, struct silo_error *err);
/* Fills an oci_state for hooks/`state` output. */
char *state_json(const struct silo_state *s, const struct oci_config *cfg, enum oci_status st,
                 bool pretty);

/* ---- caps.c ---- */
struct capsets {
  uint64_t bounding, effective, permitted, inheritable, ambient;
};
int caps_from_oci(const struct oci_capabilities *c, struct capsets *out, struct silo_error *err);
int caps_apply_bounding(const struct capsets *c, struct silo_error *err);
int caps_apply(const struct capsets *c, struct silo_error *err);

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
  bool is_dir;                 /* a directory target (else a file, for file bind mounts) */
};
int mount_plan_parse(const struct oci_mount *m, size_t index, const char *bundle,
                     struct mount_plan *out, struct silo_error *err);
void mount_plan_free(struct mount_plan *p);
int propagation_parse(const char *s, unsigned long *flags);

/* ---- namespaces.c ---- */
int ns_plan(struct container_plan *c, struct silo_error *err);
int ns_join(struct container_plan *c, struct silo_error *err);
int ns_write_idmaps(struct container_plan *c, pid_t pid, struct silo_error *err);
int ns_setup_timens(struct container_plan *c, struct silo_error *err);
unsigned long ns_clone_flag(enum oci_ns_type t);
/* A user namespace with these mappings, as an fd (for MOUNT_ATTR_IDMAP, or for a
 * rootless sandbox to setns into).  Unprivileged, exactly the caller's own ids are
 * written directly, anything else through newuidmap/newgidmap. */
int ns_idmap_userns(const struct oci_idmap *uid, size_t nu, const struct oci_idmap *gid, size_t ng,
                    struct silo_error *err);

/* ---- rootfs.c / devices.c ---- */
int rootfs_prepare(struct container_plan *c, struct silo_error *err);
int rootfs_enter(struct container_plan *c, struct silo_error *err);
int rootfs_finish(struct container_plan *c, struct silo_error *err);
int devices_create(struct container_plan *c, int devfd, struct silo_error *err);
int devices_links(int devfd, struct silo_error *err);
int devices_cgroup_rules(const struct oci_config *cfg, struct oci_device_cgroup **out, size_t *n);

/* ---- process.c ---- */
int process_plan(struct container_plan *c, struct silo_error *err);
int process_find_executable(struct container_plan *c, struct silo_error *err);
int process_set_limits(struct container_plan *c, struct silo_error *err);
int process_chdir(struct container_plan *c, struct silo_error *err);
/* With SCMP_ACT_NOTIFY: connect to the listener while its host path is reachable. */
int process_connect_listener(struct container_plan *c, struct silo_error *err);
__attribute__((noreturn)) void process_exec(struct container_plan *c);

/* ---- lsm.c: AppArmor profile and SELinux label of the process ---- */
/* A label asked for on a host that does not run its LSM is an error (parent). */
int lsm_plan(const struct oci_process *p, struct silo_error *err);
/* Sets the label the process gets at execve (child, in the container's /proc). */
int lsm_apply(const struct oci_process *p, struct silo_error *err);
/* linux.mountLabel when SELinux applies it, else NULL (ignored, as by runc). */
const char *lsm_mount_label(const struct oci_linux *l);
/* Whether a filesystem of this type gets the label as its context= option. */
bool lsm_takes_context(const char *type);
/* data with context="label" added (label NULL, or data has a context: a copy). */
char *lsm_mount_data(const char *data, const char *label);
/* Labels the directory path of the rootfs (mqueue's root). */
int lsm_label_path(int rootfd, const char *path, const char *label, struct silo_error *err);

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
/* The config's values as numbers (parent); exec: also execCPUAffinity. */
int procattr_plan(struct container_plan *c, bool exec, struct silo_error *err);
/* exec: silo moves itself to execCPUAffinity.initial before the clone. */
int procattr_enter_initial(const struct container_plan *c, struct silo_error *err);
/* Sets them on the calling process (the child, still privileged, before seccomp). */
int procattr_apply(const struct container_plan *c, struct silo_error *err);
/* "0-3,7" into a bitmap of max bits.  1: some bits, 0: empty list, -1: malformed. */
int procattr_parse_list(const char *s, unsigned long *out, size_t max);

/* ---- network.c: silo's own networking (netns/) for standalone containers ----
 * Chosen by --network/--publish or the config's org.silo.network.* annotations;
 * a config that joins a network namespace by path is never touched. */
struct network_plan;
/* prepare: decide and validate (no side effects). */
int network_plan(struct container_plan *c, struct silo_error *err);
/* spawn, state dir made, before clone: lease an address, write the generated
 * /etc/hosts and /etc/resolv.conf into the state dir and add their bind mounts. */
int network_before_clone(struct container_plan *c, struct silo_error *err);
/* spawn, after clone, before GO: veth into the container's netns, addresses,
 * routes, NAT and published ports; records what it made in <state>/network.json. */
int network_after_clone(struct container_plan *c, struct silo_error *err);
/* delete and failed creates: undo what network.json records (best effort). */
void network_teardown(int statefd, const char *id);
void network_plan_free(struct network_plan *n);

/* ---- hooks.c ---- */
int hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json,
              struct silo_error *err);
/* The same, each hook recorded in the state directory statefd while it runs (its
 * own process group), for hooks_kill_recorded after a crash. */
int hooks_run_recorded(const struct oci_config *cfg, enum oci_hook_kind kind,
                       const char *state_json, int statefd, struct silo_error *err);
/* Kills the process group of the hook a dead silo was running, if any. */
void hooks_kill_recorded(int statefd);

/* ---- terminal.c ---- */
/* In the container: a new pty from its devpts; the slave becomes stdio and the
 * controlling terminal; returns the master fd. */
int terminal_setup(struct container_plan *c, struct silo_error *err);
int terminal_send(const char *socket_path, int master, struct silo_error *err);
/* Foreground run with a tty: puts our terminal in raw mode (restored by
 * terminal_restore) and copies the window size to the container's pty. */
void terminal_raw(int master);
void terminal_restore(void);
void terminal_resize(int master);
/* Copies what is readable from one fd to another; returns 0 at EOF. */
int terminal_copy(int from, int to);

/* ---- sync.c: the parent <-> child protocol (SOCK_SEQPACKET socketpair) ---- */
enum sync_type {
  SYNC_GO = 1, /* parent: ids mapped, cgroups entered; carries the child's host pid */
  SYNC_HOOKS,  /* child: run prestart + createRuntime now */
  SYNC_ACK,    /* parent: hooks done */
  SYNC_READY,  /* child: set up; may carry the pty master */
  SYNC_ERROR,  /* either side: errnum + message */
  SYNC_START,  /* parent (run): execve now */
  SYNC_SAVED,  /* parent (create): state.json is complete; the process may outlive silo */
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
  bool late_cgroupns;          /* unshare(CLONE_NEWCGROUP) after the v1 move */
  bool got_go;                 /* child: the parent's GO arrived */

  /* rootfs */
  struct mount_plan *mounts;
  size_t n_mounts;
  unsigned long root_propagation;
  const char *mount_label; /* linux.mountLabel, when SELinux applies it (lsm_mount_label) */
  int rootfd;              /* child: O_PATH of the rootfs while it is being set up */

  /* process */
  struct capsets caps;
  bool has_caps;
  struct rlimit_plan *rlimits;
  size_t n_rlimits;
  char *exec_path; /* resolved in the child */
  struct silo_seccomp *seccomp;
  struct network_plan *net; /* NULL: no networking of silo's own */
  struct procattr_plan attr;

  /* runtime */
  int rootdirfd;    /* the state root */
  int statefd;      /* <root>/<id>, locked (parent only) */
  int fifo_dirfd;   /* <root>/<id> again, unlocked: the child opens exec.fifo through it */
  int exec_fifo_fd; /* child: the fifo, open until execve */
  int notify_sock;  /* child: connected to linux.seccomp.listenerPath before pivot_root */
  int sync_parent, sync_child;
  struct cgroup *cg;
  char *cg_intent; /* the cgroup path cgroup_create will make (recorded before it) */
  pid_t pid;
  int pidfd;
  unsigned long long start_time;
  unsigned long long creator_start; /* ours, for the intent record */
  char created[64];
  int pty_master;
  char *state_json; /* for hooks run by the child */

  /* exec: the process built from command-line options */
  struct oci_process exec_proc;
  struct oci_capabilities exec_caps;
  const char **exec_env;
  const char **exec_capsets[5];
};

void plan_init(struct container_plan *c);
void plan_free(struct container_plan *c);

/* ---- spawn.c ---- */
/* clone3 with the plan's namespaces into its cgroup; returns 0 in the child. */
pid_t spawn_child(struct container_plan *c, bool *into_cgroup, struct silo_error *err);

/* ---- init.c: the container process ---- */
__attribute__((noreturn)) void init_main(struct container_plan *c);
/* Waits (once) for the parent's GO; called before anything that needs the id maps,
 * the cgroup placement or the container's host pid. */
int init_await_go(struct container_plan *c, struct silo_error *err);

/* ---- container.c ---- */
int container_prepare(struct container_plan *c, struct silo_error *err);
int container_spawn(struct container_plan *c, struct silo_error *err);
void container_abort(struct container_plan *c);
/* The container's cgroup (none with --cgroup-manager disabled, or rootless without
 * delegation) with linux.resources and silo's device rules applied. */
int container_make_cgroup(struct container_plan *c, struct silo_error *err);
enum cgroup_manager manager_of(const struct silo_context *ctx);
int write_pid_file(struct container_plan *c, struct silo_error *err);
int container_write_state(struct container_plan *c, struct silo_error *err);
/* The intent record (docs/reliability.md): state.json with "creating" and our pid,
 * naming the cgroup before it exists and the process as soon as it does. */
int container_write_intent(struct container_plan *c, struct silo_error *err);
/* Kills (SIGKILL), waits, runs poststop hooks, removes cgroup and state dir.  The
 * config and cgroup are loaded from the state unless the caller has them.  An
 * intent record (a create that died) is undone the same way, from what it names:
 * its process, its cgroup's processes, the hook it was running, network.json. */
int container_destroy(int rootfd, int dirfd, const struct silo_state *s,
                      const struct oci_config *cfg, struct cgroup *cg, struct silo_error *err);

/* ---- run.c: the foreground loop shared by run, exec and restore ---- */
void foreground_signals(sigset_t *mask);
/* Puts our terminal in raw mode when the container has a pty of ours. */
void foreground_tty(struct container_plan *c);
/* Forwards signals, relays the terminal, reaps; *exit_code as a shell reports it. */
int foreground_wait(struct container_plan *c, int sfd, int *exit_code, struct silo_error *err);
/* The tail of run and restore: unlocks the state dir (so state, kill and exec
 * work from other shells), foreground_wait, then puts the terminal and our
 * signal mask (`old`) back. */
int foreground_finish(struct container_plan *c, int sfd, const sigset_t *old, int *exit_code,
                      struct silo_error *err);

/* ---- seccomp_cache.c: compiled filters kept under <root>/.seccomp ---- */
int seccomp_build_cached(struct container_plan *c, const struct oci_seccomp *s,
                         struct silo_seccomp **out, struct silo_error *err);

/* ---- cloned.c: the sealed-copy defence for containers that could ptrace us ---- */
bool plan_needs_sealed_exe(const struct container_plan *c, const struct capsets *caps,
                           bool has_caps);
/* Re-executes the current silo command from a sealed memfd copy; returns only on
 * failure. */
int reexec_sealed(struct silo_error *err);

/* ---- signals.c ---- */
const char *signal_name(int sig);

/* ---- criu.c, checkpoint*.c, restore*.c: checkpoint and restore with CRIU ----
 * libcriu and libarchive are dlopen'ed by these files only: ./silo links neither. */
enum criu_op { CRIU_OP_DUMP, CRIU_OP_PRE_DUMP, CRIU_OP_RESTORE };
struct criu_kv {
  char *key, *val;
};
struct criu_fd {
  int fd;
  char *key;
};
struct criu_req {
  enum criu_op op;
  const char *criu; /* the binary (swrk mode); NULL: `criu` in PATH */
  pid_t pid;        /* dump: the container's init */
  int images_fd, work_fd;
  const char *work_path; /* for messages */
  const char *log_name;  /* "dump.log" / "restore.log", in the work dir */
  const char *parent;    /* --parent-path, relative to the images */
  const char *root;      /* restore: a mount of the rootfs */
  bool leave_running, tcp_established, tcp_close, ext_unix_sk, shell_job, file_locks;
  bool track_mem, auto_dedup, lazy_pages;
  const char *ps_addr; /* page server */
  int ps_port;
  int cg_mode;               /* criu_cg_mode_parse(), -1: CRIU's default (soft) */
  const char *cg_root;       /* restore: the container's new cgroup */
  const char *freeze_cgroup; /* dump: the freezer (v1) or the cgroup (v2) directory */
  unsigned empty_ns;         /* CLONE_NEWNET */
  struct criu_kv *mnts;      /* external mounts (--ext-mount-map key:val) */
  size_t n_mnts;
  char **externals; /* --external */
  size_t n_externals;
  struct criu_fd *inherit; /* --inherit-fd */
  size_t n_inherit;
  int status_fd;    /* "status-ready" writes one \0 there, then closes it */
  unsigned timeout; /* seconds; 0: none */
  /* restore: at "setup-namespaces", with the restored init's pid */
  int (*on_setup_ns)(void *arg, pid_t pid);
  /* dump: at "pre-dump", the moment CRIU is about to freeze the container */
  int (*on_pre_dump)(void *arg);
  /* restore: at "pre-resume", before CRIU lets the restored tasks run */
  int (*on_pre_resume)(void *arg);
  void *arg;
};
void criu_req_init(struct criu_req *r, enum criu_op op);
void criu_req_free(struct criu_req *r);
void criu_req_mount(struct criu_req *r, const char *key, const char *val);
void criu_req_external(struct criu_req *r, const char *key);
void criu_req_inherit(struct criu_req *r, int fd, const char *key);
int criu_cg_mode_parse(const char *s, int *mode);
/* Runs one CRIU action; failures are explained from CRIU's log.  Restore: *pid is
 * the restored init (a child of silo; set even when the restore failed after
 * making it, so that the caller can reap it). */
int criu_run(struct criu_req *r, pid_t *pid, struct silo_error *err);
/* "4.1.1" into buf; returns the numeric version (40101). */
int criu_version(const char *criu, char *buf, size_t len, struct silo_error *err);

/* checkpoint.c: what both sides derive from the config (mount keys, namespaces). */
/* The external mounts of a config: binds (key = destination), masked files
 * (key "/dev/null"), device binds of a user-namespaced container; dump (pid > 0)
 * adds the container's cgroup binds from its mountinfo.  dump: val = key;
 * restore: val = the host source. */
int ckpt_ext_mounts(const struct oci_config *cfg, const char *bundle, pid_t pid, bool restore,
                    struct criu_req *r, struct silo_error *err);
/* restore: the cgroup mounts of a container without a cgroup namespace, mapped to
 * the new container's cgroup (cgpath). */
int ckpt_cgroup_mounts(const struct oci_config *cfg, const char *cgpath, struct criu_req *r,
                       struct silo_error *err);
/* restore: opens the namespaces the config joins by path (net, pid) for CRIU;
 * fds[2] get them (or -1): close them after the restore. */
int ckpt_restore_namespaces(const struct oci_config *cfg, struct criu_req *r, int fds[2],
                            struct silo_error *err);
/* The init's stdio as restore must hand it back (silo-checkpoint.json "stdio");
 * with r, the host-side ones are declared external to CRIU's dump. */
struct json_t *ckpt_describe_stdio(pid_t pid, struct criu_req *r);
/* What ties an image to a config (process args, mount destinations, terminal). */
struct json_t *ckpt_config_fingerprint(const struct oci_config *cfg);
/* Opens a directory, made (with its parents) first when create is true. */
int ckpt_open_dir(const char *path, bool create, struct silo_error *err);
/* The manifest silo writes into the image directory (silo-checkpoint.json). */
#define CKPT_MANIFEST "silo-checkpoint.json"

/* checkpoint_archive.c: one archive (tar, zstd when available) per checkpoint. */
struct ckpt_archive_info {
  const char *id, *created, *criu_version;
  const char *rootfs; /* NULL: not included */
};
/* Archives the image directory (with its config.json) and info->rootfs. */
int ckpt_archive_export(const char *file, int images_fd, const struct ckpt_archive_info *info,
                        struct silo_error *err);
/* Extracts into dir (empty): dir/images, dir/config.json, dir/rootfs (if any). */
int ckpt_archive_import(const char *file, const char *dir, struct silo_error *err);

#endif
