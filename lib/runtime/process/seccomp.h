/* silo lib/: OCI `linux.seccomp` -> a BPF program, loaded in the container process.
 *
 * Private to lib/.
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
#ifndef SILO_SECCOMP_H
#define SILO_SECCOMP_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/base/error.h"

struct oci_seccomp;
struct silo_seccomp; /* opaque: a built filter ready to load */

/* Validates and compiles the profile.  Errors name the JSON path:
 *   "linux.seccomp.syscalls[3].action: unknown action `SCMP_ACT_FOO`".
 * *out is NULL (and 0 returned) when s is NULL or has neither defaultAction nor syscalls
 * (runc treats that as "no seccomp"); silo_seccomp_load(NULL, ...) is then a no-op. */
int silo_seccomp_build(const struct oci_seccomp *s, struct silo_seccomp **out,
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

#endif
