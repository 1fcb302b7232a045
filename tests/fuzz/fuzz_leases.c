/* libFuzzer target: netns's leases.json (netns/ipam.c: nn_store_parse), which any
 * root's silo reads from /run.  The input is copied to a NUL-terminated buffer (the
 * parser takes a C string); the leases are freed before the next input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netns/netns.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  struct nn_store st = {.dirfd = -1, .lockfd = -1};
  struct silo_error err = {0};
  nn_store_parse(&st, buf, &err);
  nn_store_close(&st); /* frees the leases; no fds were opened */
  free(buf);
  return 0;
}
