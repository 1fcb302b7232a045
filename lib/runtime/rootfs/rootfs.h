/* silo lib/runtime/rootfs/: the container's mounts, /dev and pivot_root (child side),
 * and the decoding of config mounts (parent side). */
#ifndef SILO_ROOTFS_H
#define SILO_ROOTFS_H

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "oci/oci.h"

/* ---- mountopts.c ---- */
int mountopts_parse(const struct oci_mount *m, size_t index, const char *bundle,
                    struct mount_plan *out, struct silo_error *err);
int mountopts_propagation(const char *s, unsigned long *flags);
/* One option that sets or clears a mount flag ("ro", "nodev", "relatime"...):
 * applied to *flags (a cleared one also added to *cleared, when not NULL); -1
 * when name is no such option (fs data). */
int mountopts_flag(const char *name, unsigned long *flags, unsigned long *cleared);

/* ---- rootfs.c / devices.c ---- */
/* Parent, before the clone, for a container with a user namespace: the detached
 * trees of the bind mounts (mounts[].tree_fd), which the child attaches; those the
 * parent cannot make (-1) the child binds itself. */
void rootfs_open_bind_sources(struct container_plan *c);
void rootfs_close_bind_sources(struct container_plan *c);
/* The detached tree of a bind mount (new mount API): p->source cloned (opened by
 * the caller's view of paths: the host's for silo), its attributes set while it is
 * detached (recursively, which mount(2) cannot do), and its id mapping.  Nothing is
 * attached anywhere: the tree dies with its fd.  ENOSYS from open_tree before 5.2. */
int rootfs_bind_tree(const struct mount_plan *p, struct silo_error *err);
/* Refuses a destination (destfd, resolved inside the root) that is in procfs though
 * p->dest was not written as a /proc path: a symlink of the rootfs led it there. */
int rootfs_check_dest_fs(const struct mount_plan *p, int destfd, size_t index,
                         struct silo_error *err);
int rootfs_prepare(struct container_plan *c, struct silo_error *err);
int rootfs_enter(struct container_plan *c, struct silo_error *err);
int rootfs_finish(struct container_plan *c, struct silo_error *err);
/* No mount namespace in the config: into silo's, chrooted into a detached copy of the
 * finished root (after every mount, before the process's cwd). */
int rootfs_leave_mntns(struct container_plan *c, struct silo_error *err);
int devices_create(struct container_plan *c, int devfd, struct silo_error *err);
int devices_links(int devfd, struct silo_error *err);
/* A device node the runtime makes, as it makes it: at path (in the container),
 * one of the defaults or of the config's linux.devices (type 'c' or 'b'), with
 * that mode and owner. */
bool devices_known(const struct oci_config *cfg, const char *path, char type, int64_t major,
                   int64_t minor, mode_t mode, uid_t uid, gid_t gid);
int devices_cgroup_rules(const struct oci_config *cfg, struct oci_device_cgroup **out, size_t *n);

/* The annotation that lets a container without a device cgroup keep CAP_MKNOD. */
#define DEVICES_UNRESTRICTED "org.silo.devices.unrestricted"
/* Refuses (EPERM) a process that could make device nodes when no device cgroup
 * confines the container (--cgroup-manager disabled); c->caps, c->has_caps and
 * c->userns must be planned. */
int devices_check_unconfined(const struct container_plan *c, bool has_device_cgroup,
                             struct silo_error *err);

/* Where a config mount may go, by its destination as written (runc's rules): inside
 * /proc only the files lxcfs emulates (runc's list), /proc itself only a proc mount
 * or a bind whose source is a procfs (source_is_proc); /sys and the rest freely.
 * The error names mounts[index].destination. */
int mountopts_dest_check(const char *dest, const char *type, bool bind, bool source_is_proc,
                         size_t index, struct silo_error *err);
/* path made absolute and lexically clean ("//a/./b/../c" -> "/a/c"; ".." stops at
 * "/"); a new string. */
char *mountopts_path_clean(const char *path);
/* /proc of the new root verified (see procfs_open_root) before masking and sysctls. */
int rootfs_check_proc(struct container_plan *c, struct silo_error *err);
/* process.terminal: binds the pty slave onto a /dev/console made safely (after
 * pivot_root). */
int rootfs_console(int slave, struct silo_error *err);

#endif
