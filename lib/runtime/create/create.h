/* silo lib/runtime/create/: making a container, parent and child (the picture of the
 * path is in lib/runtime/plan.h, the details in container.c and init.c). */
#ifndef SILO_CREATE_H
#define SILO_CREATE_H

#include "cgroup/cgroup.h"
#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

/* ---- namespaces.c ---- */
int ns_plan(struct container_plan *c, struct silo_error *err);
/* A user namespace without uidMappings/gidMappings gets crun's default maps (pure
 * parts, unit-tested): ns_subid_range finds NAME's range in /etc/subuid-style TEXT
 * (0, or -1 when absent or malformed); ns_default_idmap lays out at most 3 ranges that
 * map container_id to host_id and, when has_range, the range around it. */
int ns_subid_range(const char *text, const char *name, uint32_t *from, uint32_t *count);
size_t ns_default_idmap(uint32_t container_id, uint32_t host_id, bool has_range, uint32_t from,
                        uint32_t count, struct oci_idmap out[3]);
int ns_join(struct container_plan *c, struct silo_error *err);

/* ---- notify.c: NOTIFY_SOCKET through the container (see there) ---- */
/* Parent, once the state directory exists: the notify directory, its bind mount at
 * /run/notify and NOTIFY_SOCKET in the process's environment (nothing without
 * NOTIFY_SOCKET in silo's environment). */
int notify_setup(struct container_plan *c, struct silo_error *err);
/* (Re)binds <state>/notify/notify.sock; *sock is -1 when there is nothing to relay. */
int notify_listen(int statefd, int *sock, struct silo_error *err);
/* Relays one datagram to the host's socket: 1 once it said READY=1 (MAINPID=pid
 * sent after it), 0 otherwise. */
int notify_forward(int sock, pid_t pid, struct silo_error *err);
/* Relays until READY=1, or fails when the process (pidfd) exits first. */
int notify_wait_ready(int sock, pid_t pid, int pidfd, struct silo_error *err);
/* `lo` up in a network namespace of the container's own (child). */
int ns_loopback_up(struct container_plan *c, struct silo_error *err);
int ns_write_idmaps(struct container_plan *c, pid_t pid, struct silo_error *err);
int ns_setup_timens(struct container_plan *c, struct silo_error *err);
unsigned long ns_clone_flag(enum oci_ns_type t);
/* A user namespace with these mappings, as an fd (for MOUNT_ATTR_IDMAP, or for a
 * rootless sandbox to setns into).  Unprivileged, exactly the caller's own ids are
 * written directly, anything else through newuidmap/newgidmap. */
int ns_idmap_userns(const struct oci_idmap *uid, size_t nu, const struct oci_idmap *gid, size_t ng,
                    struct silo_error *err);

/* ---- spawn.c ---- */
/* clone3 with the plan's namespaces into its cgroup; returns 0 in the child. */
pid_t spawn_child(struct container_plan *c, bool *into_cgroup, struct silo_error *err);
/* exec's child: fn(arg) runs in silo's memory (CLONE_VM) while silo waits for its
 * execve or exit (CLONE_VFORK), in the cgroup of the plan (CLONE_INTO_CGROUP on
 * v2), with silo's signal mask and every handler reset to SIG_DFL (all signals are
 * blocked across the clone).  It must not return into silo, nor change anything of
 * silo's memory that silo uses afterwards.  Returns the pid and fills *pidfd; -1 with errno when it
 * cannot be done (ENOSYS: not on this build or kernel; clone3's errors), and then
 * no child exists and spawn_child() does the same work. */
pid_t spawn_child_shared(struct container_plan *c, int (*fn)(void *), void *arg, int *pidfd,
                         bool *into_cgroup);

/* ---- init.c: the container process ---- */
__attribute__((noreturn)) void init_main(struct container_plan *c);

/* ---- container.c ---- */
int container_prepare(struct container_plan *c, struct silo_error *err);
int container_spawn(struct container_plan *c, struct silo_error *err);
void container_abort(struct container_plan *c);
/* The container's cgroup (none with --cgroup-manager disabled, or rootless without
 * delegation) with linux.resources and silo's device rules applied. */
int container_make_cgroup(struct container_plan *c, struct silo_error *err);
enum cgroup_manager container_manager_of(const struct silo_context *ctx);
int container_write_pid_file(struct container_plan *c, struct silo_error *err);
int container_write_state(struct container_plan *c, struct silo_error *err);
/* Kills (SIGKILL), waits, runs poststop hooks, removes cgroup and state dir.  The
 * config and cgroup are loaded from the state unless the caller has them.  An
 * intent record (a create that died) is undone the same way, from what it names:
 * its process, its cgroup's processes, the hook it was running, network.json. */
/* The intent record (docs/reliability.md): state.json with "creating" and our pid,
 * naming the cgroup before it exists and the process as soon as it does. */
int container_write_intent(struct container_plan *c, struct silo_error *err);
int container_destroy(int rootfd, int dirfd, const struct silo_state *s,
                      const struct oci_config *cfg, struct cgroup *cg, struct silo_error *err);

/* ---- cloned.c: the sealed-copy defence for containers that could ptrace us ---- */
bool cloned_needed(const struct container_plan *c, const struct capsets *caps, bool has_caps);
/* Re-executes the current silo command from a sealed memfd copy; returns only on
 * failure. */
int cloned_reexec(struct silo_error *err);
/* For a command whose forked helpers create containers (migrate, migrate-receive:
 * a restore helper cannot re-execute the command that forked it, which would start
 * the whole migration again): re-executes it from the sealed copy at once, before
 * it does anything, unless it already runs from one.  Returns 0, or only on failure. */
int cloned_ensure_sealed(struct silo_error *err);

#endif
