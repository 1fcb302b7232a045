/* libFuzzer target: config.json (oci_config_parse), the bundle's config that
 * create/run/restore read.  Each input is one whole document; the parsed config
 * is freed before the next, so no state crosses inputs. */
#include <stddef.h>
#include <stdint.h>

#include "oci/oci.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct silo_error err = {0};
  struct oci_config *c = oci_config_parse((const char *)data, size, &err);
  if (c) oci_config_free(c);
  return 0;
}
