/* libFuzzer target: an image layer (lib/image/layer.c: image_layer_unpack), tar
 * plain, gzip or zstd, read from memory through its layer_source callback.  Each
 * input is unpacked into a fresh temporary directory (0700, under TMPDIR or /tmp)
 * that is removed with everything in it before the next input.  The digest given
 * never matches, so the unpack always ends in an error after the last member, as
 * for a corrupt download.  id_count makes the unpacker behave as in a rootless
 * sandbox: device nodes are left out and owners clamped, so the fuzzer never
 * creates a device node on the host.  Mutations keep tar header checksums right
 * (tar_checksum.h). */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/image/image.h"
#include "tests/fuzz/tar_checksum.h"

struct mem {
  const uint8_t *p;
  size_t left;
};

static ssize_t
fill(void *ctx, void *buf, size_t cap, struct silo_error *err)
{
  struct mem *m = ctx;
  size_t n = cap < m->left ? cap : m->left;
  memcpy(buf, m->p, n);
  m->p += n;
  m->left -= n;
  return (ssize_t)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/silo-fuzz-layer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) abort();
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) abort();
  struct mem m = {data, size};
  struct layer_source src = {&m, fill};
  struct image_unpack_opts opts = {.id_count = 65536, .userxattr = true};
  struct silo_error err = {0};
  image_layer_unpack(&src, dfd, "0000000000000000000000000000000000000000000000000000000000000000",
                     -1, "fuzz", &opts, &err);
  close(dfd);
  if (fs_rm_rf_at(AT_FDCWD, dir, &err) < 0) abort();
  return 0;
}
