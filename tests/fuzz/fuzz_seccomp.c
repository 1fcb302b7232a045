/* libFuzzer target: the seccomp profile compiler.  The input is a config.json;
 * when it parses and has linux.seccomp, silo_seccomp_build validates it and
 * compiles it with libseccomp into BPF (pure: nothing is loaded into the kernel).
 * Config and filter are freed before the next input. */
#include <stddef.h>
#include <stdint.h>

#include "lib/runtime/process/process.h"
#include "oci/oci.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct silo_error err = {0};
  struct oci_config *c = oci_config_parse((const char *)data, size, &err);
  if (!c) return 0;
  struct silo_seccomp *f = NULL;
  if (c->linux && c->linux->seccomp && silo_seccomp_build(c->linux->seccomp, &f, &err) == 0)
    silo_seccomp_free(f);
  oci_config_free(c);
  return 0;
}
