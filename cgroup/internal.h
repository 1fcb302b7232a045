/* silo cgroup/: what the module's files share.  Not part of the API (see cgroup.h).
 *
 * The pure functions at the end (conversions, rule formatting, path and mountinfo
 * parsing, validation) touch no file system, so tests/unit/cgroup/test_cgroup.c calls them
 * directly.
 */
#ifndef SILO_CGROUP_INTERNAL_H
#define SILO_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cgroup/cgroup.h"

#define CG_ROOT           "/sys/fs/cgroup"
#define CG_HYBRID_V2      CG_ROOT "/unified"
#define CG_DEFAULT_PARENT "/silo"

/* Controllers, one bit each; the same names serve v1 mount options and v2 files. */
enum {
  CG_CPU = 1u << 0,
  CG_CPUACCT = 1u << 1,
  CG_CPUSET = 1u << 2,
  CG_MEMORY = 1u << 3,
  CG_DEVICES = 1u << 4,
  CG_FREEZER = 1u << 5,
  CG_BLKIO = 1u << 6, /* v1 name of the block I/O controller */
  CG_IO = 1u << 7,    /* v2 name */
  CG_PIDS = 1u << 8,
  CG_HUGETLB = 1u << 9,
  CG_NET_CLS = 1u << 10,
  CG_NET_PRIO = 1u << 11,
  CG_PERF_EVENT = 1u << 12,
  CG_RDMA = 1u << 13,
  CG_MISC = 1u << 14,
  CG_DEBUG = 1u << 15,
  CG_DMEM = 1u << 16,
};

/* The controllers silo enables for its cgroups on the v2 side of a unified host. */
#define CG_V2_WANTED                                                                               \
  (CG_CPU | CG_MEMORY | CG_PIDS | CG_IO | CG_CPUSET | CG_HUGETLB | CG_RDMA | CG_MISC)

/* Bit of a controller name (len bytes of name), 0 when unknown. */
unsigned cgroup_ctl_bit(const char *name, size_t len);
/* Name of one bit ("memory"), NULL when unknown. */
const char *cgroup_ctl_name(unsigned bit);
/* Mask of a whitespace separated list ("cpu io memory\n"), as in cgroup.controllers. */
unsigned cgroup_ctl_parse_list(const char *s);

/* One mounted hierarchy, as the module sees it. */
struct cg_mount {
  char *mountpoint;
  unsigned ctl; /* v1: controllers bound to it; v2: the root's cgroup.controllers */
  bool v2;
};

/* The host, detected once per process (cgroup.c). */
struct cg_host {
  enum cgroup_mode mode;
  size_t n;
  struct cg_mount *m;           /* n entries */
  struct cgroup_hierarchy *pub; /* n entries, the same order, for cgroup_hierarchies() */
  int v2;                       /* index of the cgroup2 mount in m[], -1 when none */
  unsigned v1_ctl;              /* union of the v1 hierarchies' controllers */
};

/* One hierarchy's directory of a container's cgroup. */
struct cg_dir {
  const struct cg_mount *m;
  char *dir;        /* mountpoint + cgroup path */
  int created_from; /* first path level this process created (0 = first component); -1 none */
  bool existed;     /* the leaf was there before cgroup_create */
  int self_fd;      /* v1 `tasks`, opened for the child to enter itself; -1 none */
};

struct cgroup {
  char *path; /* "/silo/abc": absolute, normalised */
  enum cgroup_manager manager;
  const struct cg_host *host;
  struct cg_dir *d; /* one per host hierarchy, d[i].m == &host->m[i] */
  size_t n;
  int v2;                /* index in d[] of the cgroup2 directory, -1 when none */
  int v2_fd;             /* O_PATH fd of it, -1 when none */
  unsigned v2_enabled;   /* controllers known to be enabled for the v2 leaf */
  bool is_default;       /* path is under CG_DEFAULT_PARENT, which silo owns */
  struct cg_systemd *sd; /* the systemd unit (systemd.c), NULL with cgroupfs */
  int busy;              /* processes found in a pre-existing directory at create */
  size_t busy_dir;       /* index in d[] of the first such directory */
};

/* ---- cgroup.c ---- */

int cgroup_host_get(const struct cg_host **h, struct silo_error *err);
/* Directory of the v1 hierarchy carrying controller `ctl`, NULL when none. */
const char *cgroup_v1_dir(const struct cgroup *cg, unsigned ctl);
/* The v2 directory, NULL when none. */
const char *cgroup_v2_dir(const struct cgroup *cg);

/* ---- files.c: small files, pid lists, removal ---- */

/* Small-file I/O on "<dir>/<file>", no stdio.  cgroup_read returns the length read
 * (NUL-terminated, trailing newline and spaces dropped, truncated to len - 1) or
 * -errno; cgroup_write does one write(2) and returns 0 or -errno. */
ssize_t cgroup_read(const char *dir, const char *file, char *buf, size_t len);
int cgroup_write(const char *dir, const char *file, const char *val);
/* Whole file, malloc'ed and NUL-terminated; NULL with errno set on failure. */
char *cgroup_read_all(const char *dir, const char *file);
/* cgroup_write that fills err: `write <dir>/<file> "<val>"`. */
int cgroup_set(const char *dir, const char *file, const char *val, struct silo_error *err);
int cgroup_setf(const char *dir, const char *file, struct silo_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool cgroup_exists(const char *dir, const char *file);
/* cgroup_set whose error starts with the JSON path of the value: "<json>: write ...". */
int cgroup_setj(const char *json, const char *dir, const char *file, struct silo_error *err,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A file as a signed number ("max" -> INT64_MAX); -errno on failure. */
int cgroup_read_i64(const char *dir, const char *file, int64_t *v);

/* A sorted, de-duplicated set of pids (after cgroup_pidset_sort). */
struct cg_pidset {
  pid_t *v;
  size_t n, cap;
};
void cgroup_pidset_add(struct cg_pidset *s, pid_t p);
void cgroup_pidset_sort(struct cg_pidset *s);
bool cgroup_pidset_has(const struct cg_pidset *s, pid_t p);
/* Adds cgroup.procs of dir and of every cgroup below it; a vanished dir is fine. */
int cgroup_collect_pids(const char *dir, struct cg_pidset *s, int depth, struct silo_error *err);
/* rmdir of dir and of the cgroups below it, leaf first, retrying EBUSY (tasks
 * still exiting) with short sleeps until deadline (CLOCK_MONOTONIC).  Missing
 * is success.  0 or -errno. */
int cgroup_rmdir_tree(const char *dir, const struct timespec *deadline, int depth);

/* ---- v1.c ---- */

/* Fills empty cpuset.cpus / cpuset.mems along the new path from each level's
 * parent (a v1 cpuset with no cpus or mems refuses tasks with ENOSPC); sets
 * cgroup.clone_children on intermediate levels this create made. */
int cgroup_v1_cpuset_prepare(struct cgroup *cg, const struct cg_dir *d, struct silo_error *err);

/* ---- v2.c ---- */

/* Makes sure the controllers in `mask` are enabled in cgroup.subtree_control of
 * every ancestor of the v2 leaf.  `best_effort`: enable what can be, no error. */
int cgroup_v2_enable(struct cgroup *cg, unsigned mask, bool best_effort, struct silo_error *err);
/* Writes "1" to cgroup.kill; 1 done, 0 when the kernel has no cgroup.kill, -1 error. */
int cgroup_v2_kill(const struct cgroup *cg, struct silo_error *err);

/* ---- bpf_devices.c: the eBPF device filter of a v2 cgroup ---- */

struct bpf_insn;
/* The BPF_PROG_TYPE_CGROUP_DEVICE program for the rules (tried last to first, the
 * first match decides, no match denies); *insns malloc'ed. */
int cgroup_bpf_devices_build(const struct oci_device_cgroup *rules, size_t n,
                             struct bpf_insn **insns, size_t *n_insns, struct silo_error *err);
/* Loads that program and attaches it to the v2 directory dir, replacing the one
 * silo attached before. */
int cgroup_v2_devices(const char *dir, const struct oci_device_cgroup *rules, size_t n,
                      struct silo_error *err);
/* How many of silo's device programs are attached to dir, or -1. */
int cgroup_bpf_devices_count(const char *dir, struct silo_error *err);

/* ---- systemd.c: the systemd cgroup driver ---- */

struct cg_systemd;
/* linux.cgroupsPath "slice:prefix:name" (NULL/"": "system.slice:silo:<id>") -> the
 * unit ("prefix-name.scope", or "name.slice"), its parent slice (NULL for a slice
 * unit) and its cgroup path ("/system.slice/prefix-name.scope").  Pure. */
int cgroup_systemd_parse(const char *id, const char *path, char **unit, char **slice, char **cgpath,
                         struct silo_error *err);
/* Starts the transient unit over the system bus and waits for its job; a scope
 * holds a placeholder process until cgroup_systemd_release.  *cgpath malloc'ed. */
int cgroup_systemd_start(const char *id, const char *path, struct cg_systemd **out, char **cgpath,
                         struct silo_error *err);
/* The unit of an existing container's cgroup path (no bus call). */
struct cg_systemd *cgroup_systemd_open(const char *cgpath);
/* Ends the placeholder process (once the container's process is in). */
void cgroup_systemd_release(struct cg_systemd *sd);
/* StopUnit, waiting for the job; a unit already gone is fine. */
int cgroup_systemd_stop(struct cg_systemd *sd, struct silo_error *err);
void cgroup_systemd_free(struct cg_systemd *sd);

/* ---- resources: dispatch in cgroup.c, one writer per controller and version ---- */

int cgroup_v1_memory(const char *dir, const struct oci_memory *m, struct silo_error *err);
int cgroup_v1_cpu(const char *dir, const struct oci_cpu *c, struct silo_error *err);
int cgroup_v1_blkio(const char *dir, const struct oci_blkio *b, struct silo_error *err);
int cgroup_v1_devices(const char *dir, const struct oci_resources *r, struct silo_error *err);
int cgroup_v1_net_cls(const char *dir, uint32_t classid, struct silo_error *err);
int cgroup_v1_net_prio(const char *dir, const struct oci_resources *r, struct silo_error *err);
/* rdma.max: one format for v1 and v2 (resources_v2.c). */
int cgroup_rdma(const char *dir, const struct oci_resources *r, struct silo_error *err);

int cgroup_v2_memory(const char *dir, const struct oci_memory *m, struct silo_error *err);
int cgroup_v2_cpu(const char *dir, const struct oci_cpu *c, struct silo_error *err);
/* v1 and v2 alike. */
int cgroup_cpuset(const char *dir, const struct oci_cpu *c, struct silo_error *err);
int cgroup_pids_limit(const char *dir, int64_t limit, struct silo_error *err);
int cgroup_v2_io(const char *dir, const struct oci_blkio *b, struct silo_error *err);
/* v1 and v2 alike (the file names differ). */
int cgroup_hugetlb(const char *dir, bool v2, const struct oci_resources *r, struct silo_error *err);
int cgroup_v2_unified(struct cgroup *cg, const struct oci_resources *r, struct silo_error *err);

/* ---- stats.c: statistics files (parsers pure; readers take one directory) ---- */

/* A one-number file's text: "123" or "max" (UINT64_MAX).  0 or -EINVAL. */
int cgroup_parse_u64(const char *text, uint64_t *v);
/* The value of `key` in "key value" lines (cpu.stat, cpuacct.stat, memory.events,
 * memory.oom_control, hugetlb.<size>.events).  0, -ENOENT when absent, -EINVAL. */
int cgroup_parse_key(const char *text, const char *key, uint64_t *v);
/* Appends every well-formed "key value" line (memory.stat) to *kv; returns how many. */
size_t cgroup_parse_kv(const char *text, struct cgroup_kv_u64 **kv, size_t *n);
bool cgroup_kv_get(const struct cgroup_kv_u64 *kv, size_t n, const char *key, uint64_t *v);
/* Blank-separated numbers (cpuacct.usage_percpu); *v malloc'ed.  0 or -EINVAL. */
int cgroup_parse_u64_list(const char *text, uint64_t **v, size_t *n);
/* Appends v1 blkio lines "MAJ:MIN Op N" (the device-less "Total N" line is skipped). */
size_t cgroup_parse_blkio_v1(const char *text, struct cgroup_blkio_entry **e, size_t *n);
/* v2 io.stat "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N ...": bytes go
 * to st->blkio.service_bytes, ios to serviced, as ops Read/Write/Discard. */
size_t cgroup_parse_io_stat(const char *text, struct cgroup_stats *st);
/* The page size ("2MB") of a hugetlb usage file: v1 "hugetlb.2MB.usage_in_bytes",
 * v2 "hugetlb.2MB.current"; false for every other name. */
bool cgroup_hugetlb_pagesize(const char *name, bool v2, char *out, size_t len);
/* cpuacct.stat's USER_HZ ticks in nanoseconds. */
uint64_t cgroup_ticks_to_ns(uint64_t ticks, long hz);
/* Add one controller's files of dir to st (missing files skipped; -1 on read errors). */
int cgroup_stats_cpu_v1(const char *cpuacct, const char *cpu, struct cgroup_stats *st,
                        struct silo_error *err);
int cgroup_stats_cpu_v2(const char *dir, struct cgroup_stats *st, struct silo_error *err);
int cgroup_stats_memory_v1(const char *dir, struct cgroup_stats *st, struct silo_error *err);
int cgroup_stats_memory_v2(const char *dir, struct cgroup_stats *st, struct silo_error *err);
int cgroup_stats_pids(const char *dir, struct cgroup_stats *st, struct silo_error *err);
int cgroup_stats_blkio_v1(const char *dir, struct cgroup_stats *st, struct silo_error *err);
int cgroup_stats_io_v2(const char *dir, struct cgroup_stats *st, struct silo_error *err);
int cgroup_stats_hugetlb(const char *dir, bool v2, struct cgroup_stats *st, struct silo_error *err);

/* ---- pure functions (unit-tested) ---- */

/* Resolves linux.cgroupsPath: NULL or "" -> "/<id>"; relative -> under "/silo/";
 * repeated and trailing slashes dropped, "." components skipped; ".." and the root
 * itself refused.  *out is malloc'ed.  *is_default tells whether it is under /silo. */
int cgroup_path_resolve(const char *id, const char *path, char **out, bool *is_default,
                        struct silo_error *err);

/* Parses /proc/self/mountinfo text into h (mode must be set; only cgroup mounts
 * directly under /sys/fs/cgroup count; one entry per hierarchy). */
int cgroup_parse_mountinfo(const char *text, struct cg_host *h, struct silo_error *err);
void cgroup_host_clear(struct cg_host *h);
/* v1 super options ("rw,cpu,cpuacct") -> mount data ("cpu,cpuacct") and mask;
 * a hierarchy without controllers gets "none," in front ("none,name=systemd"). */
void cgroup_v1_mount_options(const char *superopts, char *out, size_t len, unsigned *mask);

/* cpu.shares (2..262144) -> cpu.weight (1..10000), runc's and crun's formula. */
uint64_t cgroup_shares_to_weight(uint64_t shares);
/* blkio weight (10..1000) -> io.weight (1..10000), crun's formula. */
uint64_t cgroup_blkio_to_io_weight(uint64_t weight);
/* memory.swap.max from OCI memory (limit: the memory limit in effect, -1 unlimited,
 * 0 unknown) and swap (memory+swap; -1 unlimited; 0 unset).  0: *out is the value
 * (-1 = "max"); 1: nothing to write; -1: invalid, *why says why. */
int cgroup_swap_v2(int64_t limit, int64_t swap, int64_t *out, const char **why);
/* One devices.allow/deny line: "c 1:3 rwm", "b *:* r", "a".  -1 when invalid. */
int cgroup_device_rule(const struct oci_device_cgroup *d, char *buf, size_t len);
/* io.max lines, one per device in first-seen order, with the keys given for it
 * ("8:0 rbps=1048576 wiops=100"; a rate of 0 is "max", no limit, as on v1).
 * NULL-terminated, malloc'ed (free with silo_strvfreep). */
char **cgroup_io_max_lines(const struct oci_blkio *b);
/* "cpu.max" content: "<quota|max> <period>"; cur is the current file (used for
 * whatever is not given), may be NULL. */
void cgroup_cpu_max(char *buf, size_t len, bool has_quota, int64_t quota, bool has_period,
                    uint64_t period, const char *cur);
/* Checks linux.resources before anything is written; errors name the JSON path. */
int cgroup_resources_validate(const struct oci_resources *r, struct silo_error *err);
/* A hugepage size as a file name part ("2MB", "1GB"). */
bool cgroup_valid_pagesize(const char *s);

#endif
