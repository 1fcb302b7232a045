/* silo cgroup/: the v2 side — delegating controllers down to the container's
 * cgroup, cgroup.kill, and the `unified` map of raw cgroup files.
 */
#include "cgroup/internal.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* "+cpu +memory" for the bits of mask. */
static void
plus_list(unsigned mask, char *buf, size_t len)
{
  size_t w = 0;
  buf[0] = '\0';
  for (unsigned bit = 1; bit && w < len; bit <<= 1) {
    const char *name = (mask & bit) ? cgroup_ctl_name(bit) : NULL;
    if (name) w += (size_t)snprintf(buf + w, len - w, "%s+%s", w ? " " : "", name);
  }
}

/* The directory of the container in the v2 hierarchy (NULL: none). */
const char *
cgroup_v2_dir(const struct cgroup *cg)
{
  return cg->v2 >= 0 ? cg->d[cg->v2].dir : NULL;
}

/* Enabling a controller for the container's cgroup means writing "+name" into
 * cgroup.subtree_control of each ancestor, from the mount's root down to the
 * container's parent, where it is not on yet.  Why this is safe:
 *  - it only ever adds controllers (never "-name"), so nothing another user of
 *    those cgroups relies on is taken away; ancestors' own limits are untouched;
 *  - files are read first and written only when something is missing, so on
 *    every create after the first, /silo is already set up and nothing is written;
 *  - the kernel refuses (EBUSY) to enable a controller in a non-root cgroup that
 *    has processes of its own, so a host cgroup with tasks is never reorganised.
 * The leaf itself is left alone: the container decides about its own children. */
int
cgroup_v2_enable(struct cgroup *cg, unsigned mask, bool best_effort, struct silo_error *err)
{
  char p[PATH_MAX], buf[512], list[256];
  unsigned want;

  if (cg->v2 < 0) return best_effort ? 0 : silo_err(err, ENOTSUP, "no cgroup v2 hierarchy");
  want = mask & ~cg->v2_enabled;
  if (!want) return 0;
  const char *mp = cg->d[cg->v2].m->mountpoint;
  if (snprintf(p, sizeof p, "%s", cg->d[cg->v2].dir) >= (int)sizeof p)
    return silo_err(err, ENAMETOOLONG, "%s", cg->d[cg->v2].dir);

  for (char *s = p + strlen(mp);;) {
    char c = *s;
    if (c == '\0') break; /* p is the leaf: done */
    *s = '\0';            /* p is now an ancestor */
    ssize_t r = cgroup_read(p, "cgroup.controllers", buf, sizeof buf);
    if (r < 0) {
      silo_err(err, (int)-r, "read %s/cgroup.controllers", p);
      goto fail;
    }
    unsigned avail = cgroup_ctl_parse_list(buf);
    if (!best_effort && (want & ~avail)) {
      plus_list(want & ~avail, list, sizeof list);
      silo_err(err, ENOTSUP, "controller(s) %s not available in %s/cgroup.controllers", list, p);
      goto fail;
    }
    want &= avail; /* what an ancestor lacks, no descendant can have */
    r = cgroup_read(p, "cgroup.subtree_control", buf, sizeof buf);
    if (r < 0) {
      silo_err(err, (int)-r, "read %s/cgroup.subtree_control", p);
      goto fail;
    }
    unsigned todo = want & ~cgroup_ctl_parse_list(buf);
    if (todo) {
      plus_list(todo, list, sizeof list);
      if (cgroup_write(p, "cgroup.subtree_control", list) < 0) {
        /* All at once failed: one at a time, to keep whatever can be had. */
        for (unsigned bit = 1; bit; bit <<= 1) {
          if (!(todo & bit)) continue;
          plus_list(bit, list, sizeof list);
          int w = cgroup_write(p, "cgroup.subtree_control", list);
          if (w < 0 && !best_effort) {
            silo_err(err, -w, "write %s/cgroup.subtree_control \"%s\"", p, list);
            goto fail;
          }
          if (w < 0) want &= ~bit;
        }
      }
    }
    *s = c;
    char *next = strchr(s + 1, '/');
    s = next ? next : s + strlen(s);
  }
  cg->v2_enabled |= want;
  return 0;
fail:
  return -1;
}

int
cgroup_v2_kill(const struct cgroup *cg, struct silo_error *err)
{
  const char *dir = cgroup_v2_dir(cg);
  if (!dir) return 0;
  /* cgroup.kill SIGKILLs every process of this cgroup and its descendants,
   * including ones forked meanwhile: exactly the container, nothing else. */
  int r = cgroup_write(dir, "cgroup.kill", "1");
  if (r == 0) return 1;
  if (r == -ENOENT) return 0; /* kernel < 5.14, or the directory is gone */
  return silo_err(err, -r, "write %s/cgroup.kill", dir);
}

/* Files of the container's own cgroup that move or kill processes rather than
 * set a resource: never taken from a config. */
static const char *const unified_refused[] = {"cgroup.procs", "cgroup.threads", "cgroup.kill"};

int
cgroup_v2_unified(struct cgroup *cg, const struct oci_resources *r, struct silo_error *err)
{
  const char *dir = cgroup_v2_dir(cg);
  if (!dir) return silo_err(err, ENOTSUP, "linux.resources.unified: needs cgroup v2");
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *key = r->unified[i].key, *val = r->unified[i].value;
    size_t plen = strcspn(key, ".");
    /* Shape (no '/', no "..", a "<controller>.<file>" name) is checked by
     * cgroup_resources_validate; here: the controller must exist on this host's v2. */
    for (size_t k = 0; k < ARRAY_SIZE(unified_refused); k++)
      if (strcmp(key, unified_refused[k]) == 0)
        return silo_err(err, 0, "linux.resources.unified.%s: not a resource file", key);
    if (!(plen == 6 && memcmp(key, "cgroup", 6) == 0)) {
      unsigned bit = cgroup_ctl_bit(key, plen);
      if (!bit || !(cg->d[cg->v2].m->ctl & bit))
        return silo_err(
            err, ENOTSUP,
            "linux.resources.unified.%s: controller \"%.*s\" is not in %s/cgroup.controllers", key,
            (int)plen, key, cg->d[cg->v2].m->mountpoint);
      if (cgroup_v2_enable(cg, bit, false, err) < 0)
        return silo_err_wrap(err, "linux.resources.unified.%s", key);
    }
    int w = cgroup_write(dir, key, val ? val : "");
    if (w == -ENOENT)
      return silo_err(err, ENOENT, "linux.resources.unified.%s: no such file in %s", key, dir);
    if (w < 0)
      return silo_err(err, -w, "linux.resources.unified.%s: write %s/%s \"%s\"", key, dir, key,
                      val);
  }
  return 0;
}
