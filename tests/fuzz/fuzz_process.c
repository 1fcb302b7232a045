/* libFuzzer target: process.json, the file `silo exec --process` reads
 * (oci_process_parse).  One whole document per input; the result is freed before
 * the next, so no state crosses inputs. */
#include <stddef.h>
#include <stdint.h>

#include "oci/oci.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct silo_error err = {0};
  struct oci_process_doc *p = oci_process_parse((const char *)data, size, &err);
  if (p) oci_process_doc_free(p);
  return 0;
}
