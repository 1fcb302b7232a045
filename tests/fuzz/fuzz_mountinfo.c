/* libFuzzer target: /proc/self/mountinfo as cgroup/ reads it to find the cgroup
 * hierarchies (cgroup_parse_mountinfo).  The first byte picks the host's cgroup
 * mode (the parser's behaviour depends on it), the rest is the text (copied to a
 * NUL-terminated buffer).  The parsed host is cleared before the next input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  static const enum cgroup_mode modes[] = {CGROUP_MODE_LEGACY, CGROUP_MODE_HYBRID,
                                           CGROUP_MODE_UNIFIED};
  char *text = malloc(size);
  if (!text) return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  struct cg_host h = {.mode = modes[data[0] % 3], .v2 = -1};
  struct silo_error err = {0};
  cgroup_parse_mountinfo(text, &h, &err);
  cgroup_host_clear(&h);
  free(text);
  return 0;
}
