/* silo cgroup/: freezing a container (pause/resume) — v1 freezer.state or v2
 * cgroup.freeze — and asking whether it is frozen. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cgroup/internal.h"

static void
nap(long us)
{
  struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};
  nanosleep(&ts, NULL);
}

/* v1: FROZEN is requested; the kernel reports FREEZING until every task stopped.
 * A task in the middle of a fork can make it linger, so the request is repeated
 * (as runc does) until it settles or ten seconds pass. */
static int
freeze_v1(const char *dir, bool frozen, struct silo_error *err)
{
  const char *want = frozen ? "FROZEN" : "THAWED";
  char state[32];
  for (int i = 0; i < 2000; i++) {
    if (i % 50 == 0 && cgroup_set(dir, "freezer.state", want, err) < 0) return -1;
    if (cgroup_read(dir, "freezer.state", state, sizeof state) < 0)
      return silo_err(err, errno, "read %s/freezer.state", dir);
    if (strcmp(state, want) == 0) return 0;
    nap(i < 100 ? 100 : 5000);
  }
  /* Do not leave a half-frozen container behind. */
  if (frozen) cgroup_write(dir, "freezer.state", "THAWED");
  return silo_err(err, ETIMEDOUT, "%s did not become %s", dir, want);
}

/* v2: cgroup.freeze is the request, the "frozen" key of cgroup.events the result. */
static int
freeze_v2(const char *dir, bool frozen, struct silo_error *err)
{
  if (cgroup_set(dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0) return -1;
  for (int i = 0; i < 2000; i++) {
    _cleanup_free_ char *ev = cgroup_read_all(dir, "cgroup.events");
    const char *f = ev ? strstr(ev, "frozen ") : NULL;
    if (f && (f[7] == '1') == frozen) return 0;
    nap(i < 100 ? 100 : 5000);
  }
  if (frozen) cgroup_write(dir, "cgroup.freeze", "0");
  return silo_err(err, ETIMEDOUT, "%s did not become %s", dir, frozen ? "frozen" : "thawed");
}

int
cgroup_freeze(struct cgroup *cg, bool frozen, struct silo_error *err)
{
  const char *v1 = cgroup_v1_dir(cg, CG_FREEZER);
  if (v1) return freeze_v1(v1, frozen, err);
  const char *v2 = cgroup_v2_dir(cg);
  if (v2 && cgroup_exists(v2, "cgroup.freeze")) return freeze_v2(v2, frozen, err);
  return silo_err(err, ENOTSUP, "no freezer: the host has neither a v1 freezer nor cgroup v2");
}

int
cgroup_freeze_request(struct cgroup *cg, struct silo_error *err)
{
  const char *v1 = cgroup_v1_dir(cg, CG_FREEZER);
  if (v1) return cgroup_set(v1, "freezer.state", "FROZEN", err);
  const char *v2 = cgroup_v2_dir(cg);
  if (v2 && cgroup_exists(v2, "cgroup.freeze")) return cgroup_set(v2, "cgroup.freeze", "1", err);
  return silo_err(err, ENOTSUP, "no freezer: the host has neither a v1 freezer nor cgroup v2");
}

bool
cgroup_is_frozen(const struct cgroup *cg)
{
  char buf[32];
  const char *v1 = cgroup_v1_dir(cg, CG_FREEZER);
  if (v1)
    return cgroup_read(v1, "freezer.state", buf, sizeof buf) > 0 && strcmp(buf, "FROZEN") == 0;
  const char *v2 = cgroup_v2_dir(cg);
  return v2 && cgroup_read(v2, "cgroup.freeze", buf, sizeof buf) > 0 && strcmp(buf, "1") == 0;
}
