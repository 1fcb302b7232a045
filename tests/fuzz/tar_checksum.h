/* A libFuzzer custom mutator for the targets that read tar (layer, ckpt_archive):
 * after libFuzzer's own mutation, the checksum of every header block is
 * recomputed, so that a mutated header reaches the code behind libarchive's
 * checksum test instead of stopping there.  Headers are found as tar lays them
 * out: a 512-byte header, then its data rounded up to 512 bytes (size field in
 * octal).  Compressed inputs are left as libFuzzer made them.  Included by one
 * harness each (static functions). */
#ifndef SILO_FUZZ_TAR_CHECKSUM_H
#define SILO_FUZZ_TAR_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static void
tar_fix_checksums(uint8_t *data, size_t size)
{
  for (size_t off = 0; off + 512 <= size;) {
    uint8_t *h = data + off;
    if (memcmp(h + 257, "ustar", 5) != 0) return; /* not a header: the end, or not tar */
    unsigned sum = 8 * ' ';
    for (size_t i = 0; i < 512; i++)
      if (i < 148 || i >= 156) sum += h[i];
    char field[8];
    snprintf(field, sizeof field, "%06o", sum & 0777777);
    memcpy(h + 148, field, 7); /* six digits, NUL, and the space that stays */
    h[155] = ' ';
    uint64_t len = 0;
    for (size_t i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; i++) len = len * 8 + (h[i] - '0');
    if (len > size) return;
    off += 512 + (size_t)((len + 511) / 512 * 512);
  }
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
  (void)seed;
  size = LLVMFuzzerMutate(data, size, max_size);
  tar_fix_checksums(data, size);
  return size;
}

#endif
