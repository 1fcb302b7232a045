/* silo cgroup/: the v1 side — finding the hierarchies in mountinfo, the mount data
 * a container's own cgroup mount needs, and cpuset initialisation.
 */
#include "cgroup/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Flags of a v1 hierarchy that are neither a controller nor its name; kept in the
 * mount data so a second mount of the hierarchy matches the first one. */
static const char *const v1_flags[] = {"xattr",        "noprefix",       "cpuset_v2_mode",
                                       "favordynmods", "nofavordynmods", "clone_children"};

void
cgroup_v1_mount_options(const char *superopts, char *out, size_t len, unsigned *mask)
{
  size_t w = 0;
  bool has_ctl = false;
  char tmp[512];

  *mask = 0;
  tmp[0] = '\0';
  for (const char *s = superopts; *s;) {
    size_t n = strcspn(s, ",");
    bool keep = true, is_flag = false;
    if ((n == 2 && (memcmp(s, "rw", 2) == 0 || memcmp(s, "ro", 2) == 0)) ||
        (n >= 14 && memcmp(s, "release_agent=", 14) == 0) || (n == 4 && memcmp(s, "none", 4) == 0))
      keep = false; /* generic, host-only, or re-added below */
    for (size_t i = 0; keep && i < ARRAY_SIZE(v1_flags); i++)
      if (strlen(v1_flags[i]) == n && memcmp(v1_flags[i], s, n) == 0) is_flag = true;
    if (keep && !is_flag && !(n > 5 && memcmp(s, "name=", 5) == 0)) {
      has_ctl = true;
      *mask |= cgroup_ctl_bit(s, n);
    }
    if (keep && n && w + n + 2 < sizeof tmp) {
      if (w) tmp[w++] = ',';
      memcpy(tmp + w, s, n);
      w += n;
      tmp[w] = '\0';
    }
    s += n;
    if (*s == ',') s++;
  }
  snprintf(out, len, "%s%s", has_ctl ? "" : (w ? "none," : "none"), tmp);
}

/* Undoes the octal escapes of mountinfo paths (\040 for a space) in place. */
static void
unescape(char *s)
{
  char *w = s;
  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
        s[3] <= '7') {
      *w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    } else {
      *w++ = *s;
    }
  }
  *w = '\0';
}

void
cgroup_host_clear(struct cg_host *h)
{
  for (size_t i = 0; i < h->n; i++) {
    free(h->m[i].mountpoint);
    free((char *)h->pub[i].options);
  }
  free(h->m);
  free(h->pub);
  h->m = NULL;
  h->pub = NULL;
  h->n = 0;
  h->v2 = -1;
  h->v1_ctl = 0;
}

struct mi_entry {
  char dev[32];
  char *mountpoint;
  char *options; /* v1 mount data; NULL for v2 */
  unsigned ctl;
  bool v2;
};

/* Splits one mountinfo line; fields are separated by single spaces.  Returns
 * false for lines that are not a cgroup hierarchy under /sys/fs/cgroup. */
static bool
parse_line(char *line, enum cgroup_mode mode, struct mi_entry *e)
{
  char *f[6], *p = line, *fstype, *superopts;
  size_t nf = 0;

  while (nf < 6 && p) {
    f[nf++] = p;
    p = strchr(p, ' ');
    if (p) *p++ = '\0';
  }
  if (nf < 6 || !p) return false;
  /* Optional fields end with a lone "-". */
  char *sep = strstr(p, "- ");
  while (sep && sep != p && sep[-1] != ' ') sep = strstr(sep + 1, "- ");
  if (!sep) return false;
  fstype = sep + 2;
  char *src = strchr(fstype, ' ');
  if (!src) return false;
  *src++ = '\0';
  superopts = strchr(src, ' ');
  if (!superopts) return false;
  superopts++;
  superopts[strcspn(superopts, " \n")] = '\0';

  char *mp = f[4];
  unescape(mp);
  if (strcmp(fstype, "cgroup2") == 0) {
    /* Only the hybrid layout's cgroup2 mount; a unified host never reads mountinfo. */
    if (mode != CGROUP_MODE_HYBRID || strcmp(mp, CG_HYBRID_V2) != 0) return false;
    e->v2 = true;
    e->options = NULL;
    e->ctl = 0;
  } else if (strcmp(fstype, "cgroup") == 0) {
    size_t rl = strlen(CG_ROOT);
    bool under = strncmp(mp, CG_ROOT "/", rl + 1) == 0 && !strchr(mp + rl + 1, '/');
    if (!under && strcmp(mp, CG_ROOT) != 0) return false;
    char opts[512];
    e->v2 = false;
    cgroup_v1_mount_options(superopts, opts, sizeof opts, &e->ctl);
    e->options = xstrdup(opts);
  } else {
    return false;
  }
  snprintf(e->dev, sizeof e->dev, "%s", f[2]);
  e->mountpoint = xstrdup(mp);
  return true;
}

int
cgroup_parse_mountinfo(const char *text, struct cg_host *h, struct silo_error *err)
{
  struct mi_entry *v = NULL;
  size_t n = 0;
  _cleanup_free_ char *copy = xstrdup(text);

  for (char *line = copy, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    struct mi_entry e;
    if (!parse_line(line, h->mode, &e)) continue;
    size_t i;
    /* A later mount on the same mountpoint hides the earlier one. */
    for (i = 0; i < n && strcmp(v[i].mountpoint, e.mountpoint) != 0; i++) {
    }
    if (i < n) {
      free(v[i].mountpoint);
      free(v[i].options);
      v[i] = e;
      continue;
    }
    /* The same hierarchy mounted twice: keep the first mountpoint. */
    for (i = 0; i < n && strcmp(v[i].dev, e.dev) != 0; i++) {
    }
    if (i < n) {
      free(e.mountpoint);
      free(e.options);
      continue;
    }
    v = xrealloc(v, (n + 1) * sizeof *v);
    v[n++] = e;
  }

  cgroup_host_clear(h);
  h->m = xcalloc(n ? n : 1, sizeof *h->m);
  h->pub = xcalloc(n ? n : 1, sizeof *h->pub);
  h->n = n;
  for (size_t i = 0; i < n; i++) {
    h->m[i] = (struct cg_mount){v[i].mountpoint, v[i].ctl, v[i].v2};
    h->pub[i] = (struct cgroup_hierarchy){v[i].mountpoint, strrchr(v[i].mountpoint, '/') + 1,
                                          v[i].options, v[i].v2};
    if (v[i].v2)
      h->v2 = (int)i;
    else
      h->v1_ctl |= v[i].ctl;
  }
  free(v);
  if (h->mode == CGROUP_MODE_HYBRID && h->v2 < 0)
    return silo_err(err, ENOENT, "hybrid cgroups but no cgroup2 mount at %s in mountinfo",
                    CG_HYBRID_V2);
  return 0;
}

/* Copies one cpuset file from the parent when the child's is empty. */
static int
inherit(const char *parent, const char *dir, const char *file, struct silo_error *err)
{
  char buf[4096];
  ssize_t r = cgroup_read(dir, file, buf, sizeof buf);
  if (r < 0) return silo_err(err, (int)-r, "read %s/%s", dir, file);
  if (r > 0) return 0;
  r = cgroup_read(parent, file, buf, sizeof buf);
  if (r < 0) return silo_err(err, (int)-r, "read %s/%s", parent, file);
  if (r == 0)
    return silo_err(err, ENOSPC, "%s/%s is empty: cannot initialise %s", parent, file, dir);
  return cgroup_set(dir, file, buf, err);
}

/* A new v1 cpuset cgroup starts with empty cpus and mems and refuses tasks until
 * both are set.  Each level silo owns gets its parent's values: the levels this
 * create made, every level under silo's own /silo parent, and the container's
 * leaf; a parent that may not be ours is never modified (not even its
 * cgroup.clone_children flag).  Only empty files are written, and an empty cpuset
 * holds no task, so no running process is affected.  Top-down, so each parent is
 * filled before its child copies it.  Intermediate levels this create made get
 * cgroup.clone_children, so the kernel fills the next containers' leaves itself
 * and the usual create costs two reads here. */
int
cgroup_v1_cpuset_prepare(struct cgroup *cg, const struct cg_dir *d, struct silo_error *err)
{
  char p[PATH_MAX], a[8], b[8];
  size_t mlen = strlen(d->m->mountpoint);
  int level = 0;

  /* A leaf with cpus and mems is usable: its ancestors are non-empty supersets. */
  if (cgroup_read(d->dir, "cpuset.cpus", a, sizeof a) > 0 &&
      cgroup_read(d->dir, "cpuset.mems", b, sizeof b) > 0)
    return 0;
  if (snprintf(p, sizeof p, "%s", d->dir) >= (int)sizeof p)
    return silo_err(err, ENAMETOOLONG, "%s", d->dir);
  for (char *s = p + mlen + 1;; s++) {
    if (*s != '/' && *s != '\0') continue;
    char c = *s;
    bool ours = cg->is_default || (d->created_from >= 0 && level >= d->created_from) || c == '\0';
    if (ours) {
      *s = '\0';
      char *slash = strrchr(p, '/');
      *slash = '\0'; /* p is now the parent */
      char parent[PATH_MAX];
      snprintf(parent, sizeof parent, "%s", p);
      *slash = '/';
      int r = inherit(parent, p, "cpuset.cpus", err);
      if (r == 0) r = inherit(parent, p, "cpuset.mems", err);
      /* Best effort: only an optimisation for later creates. */
      if (r == 0 && c != '\0' && d->created_from >= 0 && level >= d->created_from)
        (void)cgroup_write(p, "cgroup.clone_children", "1");
      *s = c;
      if (r < 0) return -1;
    }
    if (c == '\0') return 0;
    level++;
  }
}
