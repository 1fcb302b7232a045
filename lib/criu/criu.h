/* silo lib/criu/: checkpoint and restore with CRIU (criu.c drives it; checkpoint.c,
 * checkpoint_archive.c and restore.c are the commands). */
#ifndef SILO_CRIU_H
#define SILO_CRIU_H

#include <stdbool.h>
#include <sys/types.h>
#include "lib/base/error.h"
#include "oci/oci.h"

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
  bool no_network_lock; /* dump: no TCP connection to lock (CRIU >= 4.2: skip) */
  const char *ps_addr;  /* page server */
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
/* What every CRIU run of this process (and of the helpers it forks) would
 * otherwise find out with the tasks frozen: the network-lock probe (`criu
 * --version`, `criu check --feature network_lock_nftables`, kept for the forks) and
 * CRIU's kernel-probe cache (criu_kdat_warm).  Call before any freeze. */
void criu_prepare(const char *criu);
/* kdat.c: makes /run/criu.kdat when it is missing or stale (see there). */
void criu_kdat_warm(const char *criu);
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
/* silo's own network: its generated files (state dir name, image name, mount point). */
static const struct {
  const char *state, *image, *dest;
} ckpt_net_files[] = {{"hosts", "silo-hosts", "/etc/hosts"},
                      {"resolv.conf", "silo-resolv.conf", "/etc/resolv.conf"}};
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

/* One line of /proc/<pid>/mountinfo (the strings as the kernel escapes them). */
struct ckpt_mountinfo {
  uint64_t id;
  const char *root, *point, *opts, *fstype, *source, *sopts;
  bool propagates; /* optional fields (shared:N, master:N, ...): not private */
};
/* fn for every line of pid's mountinfo, whole lines whatever their length, until
 * it returns non-zero (returned); -1: no mountinfo. */
int ckpt_mountinfo_each(pid_t pid, int (*fn)(const struct ckpt_mountinfo *m, void *arg), void *arg);

/* tmpfs.c, tmpfs_restore.c: the runtime's tmpfs mounts external to CRIU, made
 * again by silo.  dump: the container's tmpfs mounts that silo can make again
 * exactly (only directories, symlinks, the runtime's devices, empty files), as a
 * list for the manifest ("tmpfs"); r: its external mounts so far (those are left
 * alone). */
#define CKPT_TMPFS_MAX_MOUNTS  64
#define CKPT_TMPFS_MAX_ENTRIES 4096
#define CKPT_TMPFS_MAX_DEPTH   16
struct ckpt_tmpfs {
  struct json_t *list; /* for the manifest */
  int *trees;          /* a non-recursive clone of each listed mount, for the check */
};
void ckpt_tmpfs_collect(const struct oci_config *cfg, pid_t pid, unsigned long long start_time,
                        const struct criu_req *r, struct ckpt_tmpfs *t);
/* The same, looked at again (once frozen): nothing changed, entries or mount? */
bool ckpt_tmpfs_unchanged(const struct oci_config *cfg, const struct ckpt_tmpfs *t, pid_t pid);
void ckpt_tmpfs_free(struct ckpt_tmpfs *t);
/* Is mnt where the config puts a tmpfs (a tmpfs or cgroup destination, a masked
 * directory)?  *required: the MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC it asks for;
 * *mount (when not NULL): the config's mount there, NULL for a masked directory. */
bool ckpt_tmpfs_candidate(const struct oci_config *cfg, const char *mnt, unsigned long *required,
                          const struct oci_mount **mount);
/* One mount of the list checked against the config (tmpfs_restore.c's rules):
 * the dump leaves to CRIU what a restore would refuse. */
int ckpt_tmpfs_check_mount(const struct oci_config *cfg, struct json_t *m, struct silo_error *err);
/* dump: are the mount's size limits (size=, nr_blocks=, nr_inodes=, as the kernel
 * computes them here) the ones the config gives it?  A restore makes the config's. */
bool ckpt_tmpfs_limits_same(const struct oci_config *cfg, struct json_t *m);
/* restore: the manifest's list (NULL: none) checked against the config. */
int ckpt_tmpfs_check(struct json_t *list, const struct oci_config *cfg, struct silo_error *err);
/* restore (in silo's private mount namespace): each listed tmpfs made again in
 * <statedir>/criu-tmpfs/N and given to CRIU as the source of its external mount */
int ckpt_tmpfs_make(struct json_t *list, const struct oci_config *cfg, int statefd,
                    const char *statedir, struct criu_req *r, struct silo_error *err);
void ckpt_tmpfs_unmake(int statefd, const char *statedir, struct json_t *list);
/* Forgets the external mounts added after the first n. */
void criu_req_mounts_truncate(struct criu_req *r, size_t n);
/* Forgets the externals added after the first n. */
void criu_req_externals_truncate(struct criu_req *r, size_t n);

/* netns.c: the container's own network namespace, external to CRIU when it holds
 * what a new one holds (made again by silo at restore).  dump: fd (-1: left to
 * CRIU) is the namespace, ino its inode (the external's key), fresh the
 * description of a new namespace it matched. */
struct ckpt_netns_sysctls {
  struct {
    char *name;
    int fd;
  } * v;
  size_t n;
};
struct ckpt_netns {
  int fd;
  unsigned long long ino;
  char *fresh;
  struct ckpt_netns_sysctls sysctls; /* its sysctl files, open, read again under the freeze */
};
struct cgroup;
/* cg: the container's cgroup (a process of the namespace outside it is not frozen
 * with the container: the namespace is then CRIU's) */
void ckpt_netns_collect(const struct oci_config *cfg, pid_t pid, const struct cgroup *cg,
                        struct ckpt_netns *n);
/* The same, looked at again (once frozen): still what a new one holds, and still
 * no process outside cg in it? */
bool ckpt_netns_unchanged(const struct ckpt_netns *n, const struct cgroup *cg);
void ckpt_netns_free(struct ckpt_netns *n);
/* restore: for the manifest's "netns": "new", a new namespace with `lo` up, handed
 * to CRIU as extRootNetNS; *fd gets it (close it after the restore). */
int ckpt_netns_restore(struct json_t *manifest, const struct oci_config *cfg, struct criu_req *r,
                       int *fd, struct silo_error *err);

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
