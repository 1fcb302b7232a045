/* libFuzzer target: the linux.resources document of `silo update --resources`
 * (oci_resources_parse).  One whole document per input, freed before the next. */
#include <stddef.h>
#include <stdint.h>

#include "oci/oci.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct silo_error err = {0};
  struct oci_resources_doc *r = oci_resources_parse((const char *)data, size, &err);
  if (r) oci_resources_doc_free(r);
  return 0;
}
