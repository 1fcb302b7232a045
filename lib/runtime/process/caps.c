/* silo: capabilities.  Names are checked in the parent (before anything is made);
 * the container process applies the five sets in the kernel's order:
 *   1. bounding set, while we still hold CAP_SETPCAP (caps_apply_bounding),
 *   2. uid/gid change with PR_SET_KEEPCAPS (process.c),
 *   3. effective/permitted/inheritable, then ambient (caps_apply).
 * Inheritable is exactly what the config says, never more (CVE-2022-29162). */
#include <cap-ng.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/silo.h"
#include "oci/oci.h"

static int last_cap = -1;

static int
cap_last(void)
{
  if (last_cap < 0) {
    char buf[16] = "";
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (read(fd, buf, sizeof buf - 1) < 0) buf[0] = '\0';
      close(fd);
    }
    last_cap = buf[0] ? atoi(buf) : CAP_LAST_CAP;
  }
  return last_cap;
}

static int
names_to_mask(const char **names, size_t n, const char *set, uint64_t *mask, struct silo_error *err)
{
  *mask = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name = names[i];
    const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
    int cap = capng_name_to_capability(bare);
    if (cap < 0)
      return silo_err(err, EINVAL, "process.capabilities.%s[%zu]: unknown capability `%s`", set, i,
                      name);
    /* Known to libcap-ng but not to this kernel: skipped, as runc does. */
    if (cap > cap_last()) {
      silo_log_debug("capability %s is not supported by the kernel: skipped", name);
      continue;
    }
    *mask |= 1ULL << cap;
  }
  return 0;
}

int
caps_from_oci(const struct oci_capabilities *c, struct capsets *out, struct silo_error *err)
{
  memset(out, 0, sizeof *out);
  if (names_to_mask(c->bounding, c->n_bounding, "bounding", &out->bounding, err) < 0 ||
      names_to_mask(c->effective, c->n_effective, "effective", &out->effective, err) < 0 ||
      names_to_mask(c->permitted, c->n_permitted, "permitted", &out->permitted, err) < 0 ||
      names_to_mask(c->inheritable, c->n_inheritable, "inheritable", &out->inheritable, err) < 0 ||
      names_to_mask(c->ambient, c->n_ambient, "ambient", &out->ambient, err) < 0)
    return -1;
  /* An ambient cap must be permitted and inheritable, or the kernel refuses it;
   * runc ignores such entries silently, so do we. */
  out->ambient &= out->permitted & out->inheritable;
  return 0;
}

int
caps_check_available(const struct capsets *c, const char *what, struct silo_error *err)
{
  static const struct {
    const char *name;
    size_t off;
  } sets[] = {{"permitted", offsetof(struct capsets, permitted)},
              {"effective", offsetof(struct capsets, effective)},
              {"inheritable", offsetof(struct capsets, inheritable)},
              {"ambient", offsetof(struct capsets, ambient)}};
  /* The child keeps silo's permitted set through the uid change (PR_SET_KEEPCAPS)
   * and capset(2) can only narrow it: what silo does not hold cannot be granted.
   * One capget(2), not a question per capability. */
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) return silo_err(err, errno, "capget");
  uint64_t have = (uint64_t)d[0].permitted | (uint64_t)d[1].permitted << 32;
  for (int cap = 0; cap <= cap_last(); cap++) {
    if (have & (1ULL << cap)) continue;
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
      uint64_t mask = *(const uint64_t *)((const char *)c + sets[i].off);
      if (!(mask & (1ULL << cap))) continue;
      const char *name = capng_capability_to_name((unsigned)cap);
      char up[32] = "?";
      for (size_t k = 0; name && name[k] && k + 1 < sizeof up; k++)
        up[k] = (char)toupper((unsigned char)name[k]), up[k + 1] = '\0';
      return silo_err(err, EPERM,
                      "%s.%s: CAP_%s is not one of silo's own capabilities (the host, or the "
                      "container silo runs in, withholds it): it cannot be granted",
                      what, sets[i].name, up);
    }
  }
  return 0;
}

static void
load_sets(const struct capsets *c)
{
  capng_clear(CAPNG_SELECT_ALL);
  for (int cap = 0; cap <= cap_last(); cap++) {
    uint64_t bit = 1ULL << cap;
    if (c->bounding & bit) capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, cap);
    if (c->effective & bit) capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, cap);
    if (c->permitted & bit) capng_update(CAPNG_ADD, CAPNG_PERMITTED, cap);
    if (c->inheritable & bit) capng_update(CAPNG_ADD, CAPNG_INHERITABLE, cap);
    if (c->ambient & bit) capng_update(CAPNG_ADD, CAPNG_AMBIENT, cap);
  }
}

int
caps_apply_bounding(const struct capsets *c, struct silo_error *err)
{
  load_sets(c);
  if (capng_apply(CAPNG_SELECT_BOUNDS) < 0)
    return silo_err(err, EPERM, "set capability bounding set");
  return 0;
}

int
caps_apply(const struct capsets *c, struct silo_error *err)
{
  load_sets(c);
  if (capng_apply(CAPNG_SELECT_CAPS) < 0) return silo_err(err, EPERM, "set capabilities");
  if (capng_apply(CAPNG_SELECT_AMBIENT) < 0)
    return silo_err(err, EPERM, "set ambient capabilities");
  return 0;
}
