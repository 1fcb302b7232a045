/* silo: `mounts add` / `mounts remove`: what is decided in silo before the helper
 * runs (mounts.c has the why of the whole command): the destinations and sources a
 * running container may be given, and the detached tree's propagation. */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "lib/base/base.h"
#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "oci/oci.h"

/* path is dir or below it (both clean, absolute). */
static bool
path_covers(const char *dir, const char *path)
{
  size_t n = strlen(dir);
  return strncmp(dir, path, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* A destination (clean, absolute) that would cover /proc, /sys, or one of the
 * config's masked or read-only paths: what the container must not see past. */
int
mounts_check_masks(const struct oci_config *cfg, const char *dest, const char *what, size_t index,
                   struct silo_error *err)
{
  if (strcmp(dest, "/proc") == 0 || strcmp(dest, "/sys") == 0)
    return silo_err(err, EPERM, "mounts[%zu].destination: %s`%s` cannot be covered", index, what,
                    dest);
  if (!cfg->linux) return 0;
  const char *const *lists[] = {cfg->linux->masked_paths, cfg->linux->readonly_paths};
  size_t ns[] = {cfg->linux->n_masked_paths, cfg->linux->n_readonly_paths};
  for (size_t l = 0; l < 2; l++)
    for (size_t i = 0; i < ns[l]; i++) {
      _cleanup_free_ char *m = mountopts_path_clean(lists[l][i]);
      if (path_covers(dest, m))
        return silo_err(err, EPERM,
                        "mounts[%zu].destination: %s`%s` would cover `%s`, which the config %s",
                        index, what, dest, m, l ? "makes read-only" : "masks");
    }
  return 0;
}

/* A destination `mounts` may name: absolute, without `..`, not the root. */
int
mounts_check_written_dest(const char *dest, size_t index, struct silo_error *err)
{
  if (dest[0] != '/')
    return silo_err(err, EINVAL, "mounts[%zu].destination: `%s` is not an absolute path", index,
                    dest);
  for (const char *p = dest; (p = strstr(p, "..")); p += 2)
    if ((p == dest || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
      return silo_err(err, EINVAL, "mounts[%zu].destination: `%s`: `..` is not allowed", index,
                      dest);
  _cleanup_free_ char *clean = mountopts_path_clean(dest);
  if (strcmp(clean, "/") == 0)
    return silo_err(err, EINVAL, "mounts[%zu].destination: cannot be the container's root", index);
  return 0;
}

/* Decodes one mount to add with the config's rules; only what a running container
 * can be given is kept: bind mounts, with the options a bind takes. */
int
mounts_plan_one(const struct oci_mount *m, size_t i, const struct oci_config *cfg,
                const char *bundle, struct mount_plan *p, struct silo_error *err)
{
  if (mounts_check_written_dest(m->destination, i, err) < 0) return -1;
  _cleanup_free_ char *clean = mountopts_path_clean(m->destination);
  if (mounts_check_masks(cfg, clean, "", i, err) < 0) return -1;
  if (mountopts_parse(m, i, bundle, p, err) < 0) return -1;
  if (!p->bind)
    return silo_err(err, EINVAL,
                    "mounts[%zu].type: `%s`: only bind mounts (type `bind`, or option `bind` or "
                    "`rbind`) can be added to a running container",
                    i, m->type ? m->type : "");
  if (p->data)
    return silo_err(err, EINVAL, "mounts[%zu].options: `%s`: not an option of a bind mount", i,
                    p->data);
  if (p->idmap || m->n_uid_mappings || m->n_gid_mappings)
    return silo_err(err, EINVAL, "mounts[%zu].options: idmapped mounts cannot be added", i);
  return 0;
}

/* A clone of a shared host mount is a peer of it: a mount the container then made
 * inside it would appear on the host.  So every mount of the tree becomes a slave
 * first (it still receives the host's mounts, and sends none back), as the config's
 * binds are, made after `/` became rslave; then the propagation the options ask
 * for.  On the detached tree, where it changes nothing else. */
int
mounts_tree_propagation(int tree, unsigned long prop, struct silo_error *err)
{
  struct mount_attr a = {.propagation = MS_SLAVE};
  if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
    return silo_err(err, errno, "make the tree rslave");
  if (!prop) return 0;
  a.propagation = prop & ~(unsigned long)MS_REC;
  if (mount_setattr(tree, "", AT_EMPTY_PATH | (prop & MS_REC ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
    return silo_err(err, errno, "set it");
  return 0;
}

/* A procfs or sysfs of silo's (the host's) given to the container would show it
 * the host's processes and writable kernel settings (core_pattern): refused, judged
 * on the tree that would be attached. */
int
mounts_check_source_fs(int tree, const struct mount_plan *p, size_t i, struct silo_error *err)
{
  struct statfs sf;
  if (fstatfs(tree, &sf) < 0) return silo_err(err, errno, "mounts[%zu]: statfs `%s`", i, p->source);
  if (sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC)
    return silo_err(err, EPERM,
                    "mounts[%zu].source: `%s` is a %s: not given to a running container", i,
                    p->source, sf.f_type == SYSFS_MAGIC ? "sysfs" : "procfs");
  return 0;
}
