/* silo: decoding one config.json mount (type, source, options) into mount(2) terms. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "oci/oci.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

/* Options that set (or clear) a mount flag; everything else is fs data. */
static const struct {
  const char *name;
  bool clear;
  unsigned long flag;
} flag_opts[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
};

/* runc's recursive mount attributes: applied with mount_setattr(AT_RECURSIVE) to
 * every mount of the tree, where "ro" and friends apply to its top mount only. */
static const struct {
  const char *name;
  bool clear;
  uint64_t attr;
} rec_opts[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rnorelatime", true, MOUNT_ATTR_RELATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"ratime", true, MOUNT_ATTR_NOATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

int
mountopts_flag(const char *name, unsigned long *flags, unsigned long *cleared)
{
  for (size_t k = 0; k < ARRAY_SIZE(flag_opts); k++) {
    if (strcmp(name, flag_opts[k].name) != 0) continue;
    if (flag_opts[k].clear) {
      *flags &= ~flag_opts[k].flag;
      if (cleared) *cleared |= flag_opts[k].flag;
    } else {
      *flags |= flag_opts[k].flag;
    }
    return 0;
  }
  return -1;
}

static bool
rec_opt(const char *o, struct mount_plan *out)
{
  for (size_t i = 0; i < ARRAY_SIZE(rec_opts); i++) {
    if (strcmp(o, rec_opts[i].name) != 0) continue;
    if (rec_opts[i].clear) {
      out->rec_clr |= rec_opts[i].attr;
      out->rec_set &= ~rec_opts[i].attr;
    } else {
      out->rec_set |= rec_opts[i].attr;
      out->rec_clr &= ~rec_opts[i].attr;
      /* An atime setting replaces the others: mount_setattr wants the whole
       * field cleared with it (MOUNT_ATTR_RELATIME is 0). */
      if ((rec_opts[i].attr & MOUNT_ATTR__ATIME) == rec_opts[i].attr) {
        out->rec_set &= ~MOUNT_ATTR__ATIME;
        out->rec_set |= rec_opts[i].attr;
        out->rec_clr |= MOUNT_ATTR__ATIME;
      }
    }
    return true;
  }
  return false;
}

static const struct {
  const char *name;
  unsigned long flags;
} propagation_opts[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

int
mountopts_propagation(const char *s, unsigned long *flags)
{
  for (size_t i = 0; i < ARRAY_SIZE(propagation_opts); i++) {
    if (strcmp(s, propagation_opts[i].name) == 0) {
      *flags = propagation_opts[i].flags;
      return 0;
    }
  }
  return -1;
}

char *
mountopts_path_clean(const char *path)
{
  size_t n = strlen(path);
  char *out = xmalloc(n + 2);
  size_t len = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/') p++;
    const char *end = strchrnul(p, '/');
    size_t clen = (size_t)(end - p);
    if (clen == 0 || (clen == 1 && p[0] == '.')) {
      /* nothing */
    } else if (clen == 2 && p[0] == '.' && p[1] == '.') {
      while (len > 0 && out[len - 1] != '/') len--; /* ".." never climbs above "/" */
      if (len > 0) len--;
    } else {
      out[len++] = '/';
      memcpy(out + len, p, clen);
      len += clen;
    }
    p = end;
  }
  if (len == 0) out[len++] = '/';
  out[len] = '\0';
  return out;
}

/* Files inside /proc a config may mount over: what lxcfs emulates, and the rest
 * of runc's list (libcontainer's checkProcMount).  Nothing else: a mount over
 * /proc/<pid>/attr or oom_score_adj would turn silo's writes there into writes to
 * a plain file (CVE-2019-16884). */
static const char *const proc_allowed[] = {
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
    "/proc/sys/crypto/fips_enabled",
};

/* 0: outside /proc, 1: /proc itself, 2: inside /proc. */
static int
proc_position(const char *clean)
{
  if (strncmp(clean, "/proc", 5) != 0) return 0;
  if (clean[5] == '\0') return 1;
  return clean[5] == '/' ? 2 : 0;
}

int
mountopts_dest_check(const char *dest, const char *type, bool bind, bool source_is_proc,
                     size_t index, struct silo_error *err)
{
  _cleanup_free_ char *clean = mountopts_path_clean(dest);
  switch (proc_position(clean)) {
  case 1:
    /* A fresh procfs, or (as runc allows) a bind of one. */
    if ((!bind && type && strcmp(type, "proc") == 0) || (bind && source_is_proc)) return 0;
    return silo_err(err, EINVAL,
                    "mounts[%zu].destination: `%s`: only a proc mount (or a bind of a procfs) "
                    "may go there, and this %s is not a procfs",
                    index, dest, bind ? "bind source" : "mount");
  case 2:
    for (size_t i = 0; i < ARRAY_SIZE(proc_allowed); i++)
      if (strcmp(clean, proc_allowed[i]) == 0) return 0;
    return silo_err(err, EPERM,
                    "mounts[%zu].destination: `%s` is inside /proc, where only a few files "
                    "(/proc/cpuinfo, /proc/meminfo, ... as lxcfs uses them) may be mounted over",
                    index, dest);
  default:
    /* /sys is not restricted (as in runc and crun): /sys/fs/cgroup, selinuxfs,
     * securityfs are mounted there; silo writes nothing through /sys. */
    return 0;
  }
}

int
mountopts_parse(const struct oci_mount *m, size_t index, const char *bundle, struct mount_plan *out,
                struct silo_error *err)
{
  memset(out, 0, sizeof *out);
  out->idmap_fd = -1;
  out->tree_fd = -1;
  out->m = m;
  out->dest = m->destination;
  out->type = m->type;
  out->source = m->source;
  out->is_dir = true;

  size_t cap = 1;
  for (size_t i = 0; i < m->n_options; i++) cap += strlen(m->options[i]) + 1;
  _cleanup_free_ char *data = xcalloc(1, cap);

  for (size_t i = 0; i < m->n_options; i++) {
    const char *o = m->options[i];
    if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
      out->bind = true;
      out->recursive |= o[0] == 'r';
      continue;
    }
    unsigned long prop;
    if (mountopts_propagation(o, &prop) == 0) {
      out->propagation = prop;
      continue;
    }
    if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0) {
      out->idmap = true;
      out->idmap_recursive = o[0] == 'r';
      continue;
    }
    if (rec_opt(o, out)) continue;
    /* runc's (and crun's) tmpcopyup: the tmpfs is seeded by silo (rootfs.c); it means
     * nothing to the kernel, nor to other types, as in runc. */
    if (strcmp(o, "tmpcopyup") == 0) {
      out->tmpcopyup = true;
      continue;
    }
    /* Userspace-only options (x-*) mean nothing to the kernel. */
    if (strncasecmp(o, "x-", 2) == 0) continue;
    if (strncmp(o, "mode=", 5) == 0) out->has_mode = true;
    if (mountopts_flag(o, &out->flags, &out->clear) == 0) continue;
    if (data[0]) strcat(data, ",");
    strcat(data, o);
  }
  if (out->type && strcmp(out->type, "bind") == 0) out->bind = true;
  /* Made read-only last, as runc does: a tmpfs once its content and mode are set,
   * /dev once devpts, shm, mqueue... are mounted under it. */
  _cleanup_free_ char *cleandest = mountopts_path_clean(m->destination);
  out->is_dev = strcmp(cleandest, "/dev") == 0;
  bool tmpfs = !out->bind && out->type && strcmp(out->type, "tmpfs") == 0;
  if ((out->flags & MS_RDONLY) && (tmpfs || out->is_dev)) {
    out->flags &= ~MS_RDONLY;
    out->ro_late = true;
  }
  if (!tmpfs) out->tmpcopyup = false;
  if (out->bind) {
    if (!out->source || !out->source[0])
      return silo_err(err, EINVAL, "mounts[%zu].source: missing for a bind mount", index);
    /* A relative bind source is relative to the bundle, as in runc. */
    if (out->source[0] != '/') {
      char *abs = xasprintf("%s/%s", bundle, m->source);
      out->owned_source = abs;
      out->source = abs;
    }
    struct stat st;
    if (stat(out->source, &st) < 0)
      return silo_err(err, errno, "mounts[%zu]: bind source `%s`", index, out->source);
    out->is_dir = S_ISDIR(st.st_mode);
    /* ro/nosuid/... on a bind need a second step (mount_setattr or a remount). */
    out->remount_ro_bind = (out->flags & ~(MS_REMOUNT)) != 0;
  } else if (!out->type || !out->type[0]) {
    return silo_err(err, EINVAL, "mounts[%zu].type: missing for a non-bind mount", index);
  }
  if (out->idmap && !out->bind)
    return silo_err(err, EINVAL, "mounts[%zu].options: idmap needs a bind mount", index);
  /* The destination as written; the child checks again where it resolves to in the
   * rootfs (a symlink of the image can lead into /proc: see rootfs.c). */
  _cleanup_free_ char *clean = mountopts_path_clean(m->destination);
  out->in_proc = proc_position(clean) != 0;
  struct statfs sf;
  bool source_is_proc =
      out->bind && out->in_proc && statfs(out->source, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
  if (mountopts_dest_check(m->destination, out->type, out->bind, source_is_proc, index, err) < 0)
    return -1;
  out->data = data[0] ? steal_ptr(&data) : NULL;
  return 0;
}
