/* libFuzzer target: the parsers of cgroup files (cgroup/stats.c, cgroup/files.c),
 * whose contents a container can influence (its own cgroup's files, a delegated
 * subtree).  The first byte picks the parser, the rest is the file's text (copied
 * to a NUL-terminated buffer).  Results go into one cgroup_stats that is freed
 * (cgroup_stats_free) before the next input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  static const char *const keys[] = {"usage_usec", "nr_throttled", "oom_kill", "max"};
  char *text = malloc(size);
  if (!text) return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  struct cgroup_stats st = {0};
  uint64_t v;
  char page[32];
  switch (data[0] % 9) {
  case 0: /* memory.max, pids.current */
    cgroup_parse_u64(text, &v);
    break;
  case 1: /* cpu.stat, memory.events, memory.oom_control */
    cgroup_parse_key(text, keys[(data[0] >> 4) % 4], &v);
    break;
  case 2: /* memory.stat */
    cgroup_parse_kv(text, &st.memory.raw, &st.memory.n_raw);
    break;
  case 3: /* cpuacct.usage_percpu */
    cgroup_parse_u64_list(text, &st.cpu.percpu, &st.cpu.n_percpu);
    break;
  case 4: /* blkio.throttle.io_service_bytes and the like */
    cgroup_parse_blkio_v1(text, &st.blkio.service_bytes, &st.blkio.n_service_bytes);
    break;
  case 5: /* io.stat */
    cgroup_parse_io_stat(text, &st);
    break;
  case 6: /* a hugetlb file name (bit 0x10: the v2 spelling) */
    cgroup_hugetlb_pagesize(text, data[0] & 0x10, page, sizeof page);
    break;
  case 7: /* cgroup.controllers, cgroup.subtree_control */
    cgroup_ctl_parse_list(text);
    break;
  default: /* memory.stat, then a lookup in what was parsed */
    cgroup_parse_kv(text, &st.memory.raw, &st.memory.n_raw);
    cgroup_kv_get(st.memory.raw, st.memory.n_raw, "cache", &v);
    break;
  }
  cgroup_stats_free(&st);
  free(text);
  return 0;
}
