/* silo oci/: OCI runtime-spec 1.2 documents <-> typed C structs.
 *
 * The whole API of the module.  It knows nothing of the kernel: it parses, validates
 * shapes and types, and generates JSON.
 *
 * Memory: every string in these structs points into the parsed JSON document (kept
 * alive by `doc`), so parsing copies no strings.  Arrays are allocated; `*_free`
 * releases everything.  Absent optional strings are NULL, absent arrays have n == 0.
 * Optional numbers carry a `has_*` flag.
 *
 * Errors name the JSON path: "process.args[2]: expected a string".
 */
#ifndef SILO_OCI_H
#define SILO_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/base/error.h"

/* GNU C predefines `linux` as 1 (-std=gnu11); struct oci_config has a member of that
 * name.  __linux__ stays defined for platform checks. */
#undef linux

#define OCI_VERSION "1.2.0"

/* A string map (annotations, sysctl, unified). */
struct oci_kv {
  const char *key, *value;
};

struct oci_idmap {
  uint32_t container_id, host_id, size;
};

struct oci_mount {
  const char *destination; /* required */
  const char *type;        /* NULL: a bind mount when options say so */
  const char *source;
  const char **options; /* NULL-terminated, may be NULL */
  size_t n_options;
  struct oci_idmap *uid_mappings, *gid_mappings; /* idmapped mounts (1.2) */
  size_t n_uid_mappings, n_gid_mappings;
};

struct oci_rlimit {
  const char *type; /* "RLIMIT_NOFILE" */
  uint64_t soft, hard;
};

struct oci_user {
  uint32_t uid, gid;
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
  const char *username; /* windows; ignored */
};

/* Capability names as given ("CAP_SYS_ADMIN"); validated by lib/. */
struct oci_capabilities {
  const char **bounding, **effective, **inheritable, **permitted, **ambient;
  size_t n_bounding, n_effective, n_inheritable, n_permitted, n_ambient;
  bool has_bounding, has_effective, has_inheritable, has_permitted, has_ambient;
};

struct oci_scheduler {
  const char *policy; /* required when present: SCHED_OTHER ... */
  bool has_nice, has_priority, has_runtime, has_deadline, has_period;
  int32_t nice, priority;
  uint64_t runtime, deadline, period;
  const char **flags;
  size_t n_flags;
};

/* NULL-terminated name tables of the parser, in the kernel's order: the index of a
 * policy is its SCHED_* value, that of a class its IOPRIO_CLASS_* value - 1. */
extern const char *const oci_sched_policies[];
extern const char *const oci_ioprio_classes[];
/* Looks s up in a NULL-terminated table; returns its index or -1. */
int oci_lookup(const char *const *table, const char *s);

struct oci_io_priority {
  const char *class; /* IOPRIO_CLASS_RT | _BE | _IDLE */
  int32_t priority;
};

struct oci_process {
  bool terminal;
  bool has_console_size;
  uint32_t console_height, console_width;
  struct oci_user user;
  const char **args; /* NULL-terminated; required, n_args >= 1 for config.json */
  size_t n_args;
  const char *command_line; /* windows; ignored */
  const char **env;         /* NULL-terminated, may be NULL */
  size_t n_env;
  const char *cwd;                       /* required, absolute */
  struct oci_capabilities *capabilities; /* NULL when absent */
  struct oci_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  const char *apparmor_profile;
  bool has_oom_score_adj;
  int32_t oom_score_adj;
  const char *selinux_label;
  struct oci_scheduler *scheduler;       /* NULL when absent */
  struct oci_io_priority *io_priority;   /* NULL when absent */
  const char *exec_cpu_affinity_initial; /* execCPUAffinity.initial */
  const char *exec_cpu_affinity_final;
};

struct oci_hook {
  const char *path; /* required, absolute */
  const char **args;
  size_t n_args;
  const char **env;
  size_t n_env;
  bool has_timeout;
  int32_t timeout; /* seconds, > 0 */
};

enum oci_hook_kind {
  OCI_HOOK_PRESTART,
  OCI_HOOK_CREATE_RUNTIME,
  OCI_HOOK_CREATE_CONTAINER,
  OCI_HOOK_START_CONTAINER,
  OCI_HOOK_POSTSTART,
  OCI_HOOK_POSTSTOP,
  OCI_HOOK_KINDS
};

struct oci_hooks {
  struct oci_hook *list[OCI_HOOK_KINDS];
  size_t n[OCI_HOOK_KINDS];
};

/* Namespace kinds, in the order silo joins them (user first). */
enum oci_ns_type {
  OCI_NS_USER,
  OCI_NS_PID,
  OCI_NS_NETWORK,
  OCI_NS_IPC,
  OCI_NS_UTS,
  OCI_NS_CGROUP,
  OCI_NS_TIME,
  OCI_NS_MOUNT,
  OCI_NS_KINDS
};

struct oci_namespace {
  enum oci_ns_type type;
  const char *path; /* NULL: create a new one */
};

struct oci_device {
  char type;            /* 'c', 'b', 'u' or 'p' */
  const char *path;     /* required, absolute */
  int64_t major, minor; /* required for c/b/u */
  bool has_file_mode, has_uid, has_gid;
  uint32_t file_mode, uid, gid;
};

struct oci_device_cgroup {
  bool allow;
  char type; /* 'a', 'c' or 'b'; 'a' when absent */
  bool has_major, has_minor;
  int64_t major, minor; /* -1 (absent) means any */
  const char *access;   /* "rwm" subset; NULL means rwm */
};

struct oci_memory {
  bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness;
  int64_t limit, reservation, swap, kernel, kernel_tcp;
  uint64_t swappiness;
  bool has_disable_oom_killer, disable_oom_killer;
  bool has_use_hierarchy, use_hierarchy;
  bool has_check_before_update, check_before_update;
};

struct oci_cpu {
  bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime, has_realtime_period;
  uint64_t shares, period, realtime_period, burst;
  int64_t quota, realtime_runtime;
  const char *cpus, *mems;
  bool has_idle;
  int64_t idle;
};

struct oci_weight_device {
  int64_t major, minor;
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
};

struct oci_throttle_device {
  int64_t major, minor;
  uint64_t rate;
};

struct oci_blkio {
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
  struct oci_weight_device *weight_device;
  size_t n_weight_device;
  struct oci_throttle_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
      *throttle_write_iops;
  size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
};

struct oci_hugepage_limit {
  const char *page_size; /* "2MB" */
  uint64_t limit;
};

struct oci_net_priority {
  const char *name;
  uint32_t priority;
};

struct oci_rdma {
  const char *device;
  bool has_hca_handles, has_hca_objects;
  uint32_t hca_handles, hca_objects;
};

struct oci_resources {
  struct oci_device_cgroup *devices;
  size_t n_devices;
  struct oci_memory *memory; /* NULL when absent; likewise below */
  struct oci_cpu *cpu;
  bool has_pids_limit;
  int64_t pids_limit;
  struct oci_blkio *blkio;
  struct oci_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  bool has_net_class_id;
  uint32_t net_class_id;
  struct oci_net_priority *net_priorities;
  size_t n_net_priorities;
  struct oci_rdma *rdma;
  size_t n_rdma;
  struct oci_kv *unified;
  size_t n_unified;
};

enum oci_seccomp_op {
  OCI_SCMP_NE,
  OCI_SCMP_LT,
  OCI_SCMP_LE,
  OCI_SCMP_EQ,
  OCI_SCMP_GE,
  OCI_SCMP_GT,
  OCI_SCMP_MASKED_EQ
};

struct oci_seccomp_arg {
  uint32_t index;
  uint64_t value, value_two;
  enum oci_seccomp_op op;
};

struct oci_seccomp_syscall {
  const char **names;
  size_t n_names;
  const char *action; /* "SCMP_ACT_ERRNO" ...: validated by lib/ */
  bool has_errno_ret;
  uint32_t errno_ret;
  struct oci_seccomp_arg *args;
  size_t n_args;
};

struct oci_seccomp {
  const char *default_action;
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  const char **architectures;
  size_t n_architectures;
  const char **flags;
  size_t n_flags;
  const char *listener_path, *listener_metadata;
  struct oci_seccomp_syscall *syscalls;
  size_t n_syscalls;
};

struct oci_time_offset {
  bool set;
  int64_t secs;
  uint32_t nanosecs;
};

struct oci_net_device {
  const char *host_name; /* key of linux.netDevices */
  const char *name;      /* name inside the container; NULL: keep */
};

struct oci_intel_rdt {
  const char *clos_id, *l3_cache_schema, *mem_bw_schema;
  bool enable_cmt, enable_mbm;
};

struct oci_personality {
  const char *domain; /* LINUX | LINUX32 */
  const char **flags;
  size_t n_flags;
};

/* linux.memoryPolicy (runtime-spec 1.3): the arguments of set_mempolicy(2). */
struct oci_memory_policy {
  const char *mode;  /* required: MPOL_DEFAULT ... */
  const char *nodes; /* "0-3,7"; NULL or "" when none */
  const char **flags;
  size_t n_flags;
};
/* In the kernel's order: a mode's index is its MPOL_* value, a flag's index i
 * stands for bit 13 + i (MPOL_F_NUMA_BALANCING, _RELATIVE_NODES, _STATIC_NODES). */
extern const char *const oci_mpol_modes[];
extern const char *const oci_mpol_flags[];

struct oci_linux {
  struct oci_namespace *namespaces;
  size_t n_namespaces;
  struct oci_idmap *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  struct oci_time_offset time_monotonic, time_boottime; /* timeOffsets */
  struct oci_device *devices;
  size_t n_devices;
  struct oci_net_device *net_devices;
  size_t n_net_devices;
  const char *cgroups_path;
  struct oci_resources *resources; /* NULL when absent */
  const char
      *rootfs_propagation; /* private|rprivate|slave|rslave|shared|rshared|unbindable|runbindable */
  struct oci_seccomp *seccomp; /* NULL when absent */
  struct oci_kv *sysctl;
  size_t n_sysctl;
  const char **masked_paths, **readonly_paths;
  size_t n_masked_paths, n_readonly_paths;
  const char *mount_label;
  struct oci_intel_rdt *intel_rdt;
  struct oci_personality *personality;
  struct oci_memory_policy *memory_policy;
};

struct oci_config {
  void *doc; /* the parsed JSON document (json_t *); owns every string */
  const char *oci_version;
  const char *root_path; /* root.path, required */
  bool root_readonly;
  struct oci_mount *mounts;
  size_t n_mounts;
  struct oci_process *process; /* NULL only when absent (allowed for create? no: required) */
  const char *hostname, *domainname;
  struct oci_hooks hooks;
  struct oci_kv *annotations;
  size_t n_annotations;
  struct oci_linux *linux; /* NULL when absent */
};

/* ---- parsing ---- */

/* Parses a config.json file / buffer.  On error returns NULL and fills err with
 * "<file>: <json.path>: <problem>" (file omitted for buffers). */
struct oci_config *oci_config_load(const char *path, struct silo_error *err);
struct oci_config *oci_config_parse(const char *buf, size_t len, struct silo_error *err);
void oci_config_free(struct oci_config *c);

/* process.json for `exec --process`: the `process` object alone. */
struct oci_process_doc {
  void *doc;
  struct oci_process process;
};
struct oci_process_doc *oci_process_load(const char *path, struct silo_error *err);
struct oci_process_doc *oci_process_parse(const char *buf, size_t len, struct silo_error *err);
void oci_process_doc_free(struct oci_process_doc *p);

/* The mounts of `mounts add` / `mounts remove` (crun's): a JSON array of mounts as
 * config.json's `mounts` holds them, or an object with that `mounts` member.  Errors
 * name the element as `mounts[N]...` either way. */
struct oci_mounts_doc {
  void *doc;
  struct oci_mount *mounts;
  size_t n_mounts;
};
struct oci_mounts_doc *oci_mounts_parse(const char *buf, size_t len, struct silo_error *err);
void oci_mounts_doc_free(struct oci_mounts_doc *m);

/* `linux.resources` on its own (for `update --resources`). */
struct oci_resources_doc {
  void *doc;
  struct oci_resources resources;
};
struct oci_resources_doc *oci_resources_parse(const char *buf, size_t len, struct silo_error *err);
void oci_resources_doc_free(struct oci_resources_doc *r);

/* Looks up a string map. */
const char *oci_kv_get(const struct oci_kv *kv, size_t n, const char *key);
/* Namespace entry of a kind, or NULL when the config does not list it. */
const struct oci_namespace *oci_config_namespace(const struct oci_config *c, enum oci_ns_type t);
const char *oci_ns_type_name(enum oci_ns_type t);     /* "network" ... */
const char *oci_hook_kind_name(enum oci_hook_kind k); /* "createRuntime" ... */

/* ---- the state document (runtime-spec `state` plus runc's extra fields) ---- */

enum oci_status {
  OCI_STATUS_CREATING,
  OCI_STATUS_CREATED,
  OCI_STATUS_RUNNING,
  OCI_STATUS_STOPPED,
  OCI_STATUS_PAUSED
};
const char *oci_status_name(enum oci_status s);

struct oci_state {
  const char *oci_version;
  const char *id;
  enum oci_status status;
  int pid; /* 0 when not running */
  const char *bundle;
  const char *rootfs;  /* runc extension */
  const char *created; /* RFC 3339 with nanoseconds, runc extension */
  const char *owner;   /* runc extension: "" for root */
  const struct oci_kv *annotations;
  size_t n_annotations;
};

/* Serialises state to a malloc'ed JSON string; `pretty` indents like runc's `state`. */
char *oci_state_to_json(const struct oci_state *s, bool pretty);
/* Only the runtime-spec's keys of such a document (the seccomp agent's "state"). */
char *oci_state_spec_json(const char *json);

/* ---- spec generation (`silo spec`) ---- */

/* The default config.json, as runc's `spec` writes it; `rootless` adds a user
 * namespace with the caller's ids mapped, drops network ns, and binds /sys. */
struct oci_spec_opts {
  bool rootless;           /* a user namespace mapping uid/gid to root, no cgroup limits */
  bool terminal;           /* process.terminal */
  const char *const *args; /* process.args (NULL-terminated); NULL or empty: sh */
  uid_t uid;
  gid_t gid;
};
char *oci_spec_default(const struct oci_spec_opts *o);

#endif
