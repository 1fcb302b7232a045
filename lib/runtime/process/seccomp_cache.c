/* silo: a cache of compiled seccomp filters.
 *
 * Compiling a profile the size of Docker's default costs libseccomp ~20 ms of CPU,
 * three times what the rest of a container's creation costs; every Docker or
 * Podman container carries one.  The result depends only on the profile, the
 * libseccomp version, the kernel (which flags it supports) and the architecture,
 * so it is kept under <root>/.seccomp/<sha256 of all that>.bpf and reused.
 * Only successful compilations are stored: a bad profile is compiled (and
 * refused with its JSON path) every time.  The directory is root's, 0700, inside
 * the state root: whoever can write there owns silo's state anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/filter.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "lib/base/base.h"
#include "lib/network/network.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "lib/silo.h"
#include "oci/oci.h"

#define MAGIC "SILOBPF2" /* 2: programs with the ENOSYS stub (seccomp.c); 1 is rebuilt */

struct cache_header {
  char magic[8];
  uint32_t flags;
  uint32_t notify;
  uint32_t len;
};

/* The profile as canonical JSON (sorted keys) and the build options: the same profile,
 * the same key. */
static bool
cache_key(const struct oci_config *cfg, unsigned opts, char key[65])
{
  json_t *linux_obj = json_object_get((json_t *)cfg->doc, "linux");
  json_t *sec = linux_obj ? json_object_get(linux_obj, "seccomp") : NULL;
  if (!sec) return false;
  _cleanup_free_ char *text = json_dumps(sec, JSON_COMPACT | JSON_SORT_KEYS);
  if (!text) return false;
  struct utsname u;
  uname(&u);
  struct sha256 h;
  sha256_init(&h);
  char optstr[16];
  snprintf(optstr, sizeof optstr, "%u", opts);
  const char *parts[] = {SILO_VERSION, silo_seccomp_lib_version(), u.release, u.machine, optstr,
                         text};
  for (size_t i = 0; i < ARRAY_SIZE(parts); i++) sha256_update(&h, parts[i], strlen(parts[i]) + 1);
  sha256_hex(&h, key);
  return true;
}

static struct silo_seccomp *
cache_read(int dirfd, const char *name)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  struct silo_error e = {0};
  if (fs_read_file_at(dirfd, name, &buf, &len, &e) < 0) return NULL;
  struct cache_header hdr;
  if (len < sizeof hdr) return NULL;
  memcpy(&hdr, buf, sizeof hdr);
  size_t size = (size_t)hdr.len * sizeof(struct sock_filter);
  if (memcmp(hdr.magic, MAGIC, 8) != 0 || hdr.len == 0 || hdr.len > BPF_MAXINSNS ||
      len != sizeof hdr + size)
    return NULL;
  return silo_seccomp_from_bpf(buf + sizeof hdr, hdr.len, hdr.flags, hdr.notify != 0);
}

static void
cache_write(int dirfd, const char *name, const struct silo_seccomp *f)
{
  const void *insns;
  unsigned len, flags;
  bool notify;
  silo_seccomp_bpf(f, &insns, &len, &flags, &notify);
  size_t size = (size_t)len * sizeof(struct sock_filter);
  _cleanup_free_ char *buf = xmalloc(sizeof(struct cache_header) + size);
  struct cache_header hdr = {.flags = flags, .notify = notify, .len = len};
  memcpy(hdr.magic, MAGIC, 8);
  memcpy(buf, &hdr, sizeof hdr);
  memcpy(buf + sizeof hdr, insns, size);
  struct silo_error e = {0};
  if (fs_write_file_atomic(dirfd, name, buf, sizeof hdr + size, &e) < 0)
    silo_log_debug("seccomp cache: %s", e.msg);
}

int
seccomp_build_cached(struct container_plan *c, const struct oci_seccomp *s,
                     struct silo_seccomp **out, struct silo_error *err)
{
  char key[65], name[80];
  unsigned opts = 0;
  if (oci_kv_get(c->cfg->annotations, c->cfg->n_annotations, ANN_SECCOMP_FAIL_UNKNOWN))
    opts |= SILO_SECCOMP_FAIL_UNKNOWN;
  if (!cache_key(c->cfg, opts, key) || c->rootdirfd < 0)
    return silo_seccomp_build_opts(s, opts, out, err);
  if (mkdirat(c->rootdirfd, ".seccomp", 0700) < 0 && errno != EEXIST)
    return silo_seccomp_build_opts(s, opts, out, err);
  _cleanup_close_ int dirfd =
      openat(c->rootdirfd, ".seccomp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0) return silo_seccomp_build_opts(s, opts, out, err);
  snprintf(name, sizeof name, "%s.bpf", key);
  if ((*out = cache_read(dirfd, name))) {
    silo_log_debug("seccomp: compiled filter from the cache (%s)", name);
    return 0;
  }
  if (silo_seccomp_build_opts(s, opts, out, err) < 0) return -1;
  if (*out) cache_write(dirfd, name, *out);
  return 0;
}
