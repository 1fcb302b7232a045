/* silo lib/runtime/process/: the container process's attributes — user, groups,
 * rlimits, capabilities, personality and scheduling, LSM labels, the terminal,
 * seccomp — decided in the parent and applied in the child just before execve. */
#ifndef SILO_PROCESS_H
#define SILO_PROCESS_H

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "oci/oci.h"

/* ---- caps.c ---- */
int caps_from_oci(const struct oci_capabilities *c, struct capsets *out, struct silo_error *err);
/* Without a user namespace the process's sets can only hold what silo itself holds
 * (its permitted set): anything else would fail capset(2) after start.  Refused here,
 * naming `what` (the JSON path or option) and the capability. */
int caps_check_available(const struct capsets *c, const char *what, struct silo_error *err);
int caps_apply_bounding(const struct capsets *c, struct silo_error *err);
int caps_apply(const struct capsets *c, struct silo_error *err);

/* ---- process.c ---- */
int process_plan(struct container_plan *c, struct silo_error *err);
int process_find_executable(struct container_plan *c, struct silo_error *err);
int process_set_limits(struct container_plan *c, struct silo_error *err);
int process_chdir(struct container_plan *c, struct silo_error *err);
/* HOME from the container's /etc/passwd entry of process.user.uid ("/" without one)
 * when process.env has none, as runc and crun; into c->env.  Inside the root. */
int process_set_home(struct container_plan *c, struct silo_error *err);
/* With SCMP_ACT_NOTIFY: connect to the listener while its host path is reachable. */
int process_connect_listener(struct container_plan *c, struct silo_error *err);
/* With SCMP_ACT_NOTIFY: fails, naming linux.seccomp.listenerPath, when no socket is
 * there (side-effect free: for the plan, before anything is created). */
int process_check_listener(const struct container_plan *c, struct silo_error *err);
/* The container's confinement, in the kernel's order (see docs/design.md): LSM
 * label, capabilities, identity, no_new_privs, the seccomp filter and the hand-over
 * of its listener.  Prints the error and exits on failure. */
void process_confine(struct container_plan *c);
/* What is left after process_confine: close the runtime's fds, reset signals,
 * execve (exits 127/126 when it fails). */
__attribute__((noreturn)) void process_execve(struct container_plan *c);
/* process_confine then process_execve. */
__attribute__((noreturn)) void process_exec(struct container_plan *c);

/* ---- lsm.c: AppArmor profile and SELinux label of the process ---- */
/* A label asked for on a host that does not run its LSM is an error (parent). */
int lsm_plan(const struct oci_process *p, struct silo_error *err);
/* Sets the label the process gets at execve (child, through procfs_handle). */
int lsm_apply(struct container_plan *c, const struct oci_process *p, struct silo_error *err);
/* linux.mountLabel when SELinux applies it, else NULL (ignored, as by runc). */
const char *lsm_mount_label(const struct oci_linux *l);
/* Whether a filesystem of this type gets the label as its context= option. */
bool lsm_takes_context(const char *type);
/* data with context="label" added (label NULL, or data has a context: a copy). */
char *lsm_mount_data(const char *data, const char *label);
/* Labels the directory path of the rootfs (mqueue's root). */
int lsm_label_path(int rootfd, const char *path, const char *label, struct silo_error *err);

/* ---- procattr.c ---- */
/* The config's values as numbers (parent); exec: also execCPUAffinity. */
int procattr_plan(struct container_plan *c, bool exec, struct silo_error *err);
/* exec: silo moves itself to execCPUAffinity.initial before the clone. */
int procattr_enter_initial(const struct container_plan *c, struct silo_error *err);
/* Sets them on the calling process (the child, still privileged, before seccomp). */
int procattr_apply(const struct container_plan *c, struct silo_error *err);
/* "0-3,7" into a bitmap of max bits.  1: some bits, 0: empty list, -1: malformed. */
int procattr_parse_list(const char *s, unsigned long *out, size_t max);

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

/* ---- seccomp_cache.c: compiled filters kept under <root>/.seccomp ---- */
int seccomp_build_cached(struct container_plan *c, const struct oci_seccomp *s,
                         struct silo_seccomp **out, struct silo_error *err);

/* ---- seccomp.c: OCI `linux.seccomp` -> a BPF program, loaded in the container process.
 *
 * The work is split so that a bad profile fails before anything exists:
 *   silo_seccomp_build()  in the runtime, before the state dir, cgroup or child: validates
 *                         the profile, compiles it with libseccomp and keeps the BPF code;
 *   silo_seccomp_load()   in the container process, the last step before execve: one
 *                         seccomp(2) call, no allocation, no libseccomp;
 *   silo_seccomp_send_*() when the profile uses SCMP_ACT_NOTIFY: hands the listener fd to
 *                         the agent at listenerPath, like runc (from the runtime, or from
 *                         the container process over a socket it connected before
 *                         pivot_root).
 *
 * Semantics follow runc: SCMP_ACT_KILL is KILL_THREAD; ERRNO/TRACE without errnoRet use
 * EPERM (errnoRet on any other action is an error, as the runtime-spec requires); syscall names
 * unknown to libseccomp are skipped (debug log); rules whose action is the default action are
 * skipped; a rule with two conditions on the same argument is split into one rule per condition
 * (OR); SECCOMP_FILTER_FLAG_TSYNC is accepted and has no effect (the container process is
 * single-threaded and execs next); when `flags` is absent (NULL), SECCOMP_FILTER_FLAG_SPEC_ALLOW is
 * used if the kernel has it; the default action cannot be SCMP_ACT_NOTIFY, nor can `write` (runc)
 * and `sendmsg`: the listener is handed over with them after the filter is loaded, so the container
 * would hang.
 */

#include <stdbool.h>
#include <sys/types.h>

struct oci_seccomp;
struct silo_seccomp; /* opaque: a built filter ready to load */

/* Validates and compiles the profile.  Errors name the JSON path:
 *   "linux.seccomp.syscalls[3].action: unknown action `SCMP_ACT_FOO`".
 * *out is NULL (and 0 returned) when s is NULL or has neither defaultAction nor syscalls
 * (runc treats that as "no seccomp"); silo_seccomp_load(NULL, ...) is then a no-op. */
int silo_seccomp_build(const struct oci_seccomp *s, struct silo_seccomp **out,
                       struct silo_error *err);
/* The same with options: SILO_SECCOMP_FAIL_UNKNOWN makes a syscall name libseccomp does not
 * know an error ("linux.seccomp.syscalls[3].names[1]: unknown syscall `foo`") instead of
 * being skipped (crun's annotation run.oci.seccomp_fail_unknown_syscall). */
#define SILO_SECCOMP_FAIL_UNKNOWN 1u
int silo_seccomp_build_opts(const struct oci_seccomp *s, unsigned opts, struct silo_seccomp **out,
                            struct silo_error *err);

/* True when the built filter has SCMP_ACT_NOTIFY rules, i.e. load will give a listener
 * fd that must reach listenerPath (silo_seccomp_build made sure one is configured). */
bool silo_seccomp_uses_notify(const struct silo_seccomp *f);

/* Installs the filter on the calling thread (needs no_new_privs or CAP_SYS_ADMIN).  When
 * the filter uses SCMP_ACT_NOTIFY, *notify_fd gets the listener (O_CLOEXEC), else -1.
 * After this call every syscall is filtered: the listener must be handed over (e.g. with
 * sendmsg) before anything can answer a notified syscall, so the hand-over itself must not
 * use a notified syscall.  notify_fd may be NULL when the caller knows there is none. */
int silo_seccomp_load(const struct silo_seccomp *f, int *notify_fd, struct silo_error *err);

/* Sends the listener to the agent: connects to listener_path (AF_UNIX, SOCK_STREAM),
 * sends one message with notify_fd as SCM_RIGHTS and the runc "container process state"
 *   {"ociVersion":..,"fds":["seccompFd"],"pid":N,"metadata":"..","state":<state_json>}
 * (metadata left out when NULL or empty), then closes the connection.  state_json is the
 * OCI state document of the container, embedded as is. */
int silo_seccomp_send_notify(const char *listener_path, const char *metadata, int notify_fd,
                             pid_t pid, const char *state_json, struct silo_error *err);
/* The same over a socket the caller already connected (e.g. before pivot_root); does not
 * close sock. */
int silo_seccomp_send_notify_sock(int sock, const char *metadata, int notify_fd, pid_t pid,
                                  const char *state_json, struct silo_error *err);
/* Connects to a listener path; returns the socket (O_CLOEXEC). */
int silo_seccomp_listener_connect(const char *listener_path, struct silo_error *err);

void silo_seccomp_free(struct silo_seccomp *f);

/* The compiled program, to keep (seccomp_cache.c) and to rebuild from. */
void silo_seccomp_bpf(const struct silo_seccomp *f, const void **insns, unsigned *len,
                      unsigned *flags, bool *notify);
struct silo_seccomp *silo_seccomp_from_bpf(const void *insns, unsigned len, unsigned flags,
                                           bool notify);

/* For `silo features`: NULL-terminated, sorted lists of the names silo knows. */
const char *const *silo_seccomp_actions(void);
const char *const *silo_seccomp_ops(void);
const char *const *silo_seccomp_archs(void);
const char *const *silo_seccomp_flags(void); /* knownFlags */
/* supportedFlags: known to silo and accepted by the running kernel. */
bool silo_seccomp_flag_supported(const char *flag);
/* "2.5.4": the libseccomp in use. */
const char *silo_seccomp_lib_version(void);

/* ---- procfs.c: the one way into a container's /proc (see there) ---- */
/* A private, detached procfs of the caller's pid namespace (fsopen + fsmount). */
int procfs_open_private(struct silo_error *err);
/* The fallback: rootfd's /proc, if it is the root of a procfs reached without a
 * symlink. */
int procfs_open_root(int rootfd, struct silo_error *err);
/* c->procfd: the private instance, made when the process will write into its /proc
 * at all (sysctls, oomScoreAdj, an LSM label): only then is it worth fsopen +
 * fsmount, a fair share of a start's CPU; the rare other reads, and a kernel that
 * refuses the instance, take the verified fallback (procfs_handle). */
void procfs_prepare(struct container_plan *c);
/* c->procfd: the private instance opened earlier, else the fallback from "/". */
int procfs_handle(struct container_plan *c, struct silo_error *err);
/* Opens path ("sys/...", "self/...", "thread-self/...") beneath procfd: no symlink,
 * no magic link, no "..", no mount crossed; the result is on a procfs. */
int procfs_open_at(int procfd, const char *path, int flags, struct silo_error *err);
/* procfs_open_at + one write. */
int procfs_write(int procfd, const char *path, const char *data, size_t len,
                 struct silo_error *err);

#endif
