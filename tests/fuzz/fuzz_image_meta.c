/* libFuzzer target: the JSON documents of a container image (lib/image/meta.c):
 * the first byte picks the parser (OCI index.json, a manifest, an image config,
 * docker-save's manifest.json), the rest is the document.  Every result is freed
 * before the next input. */
#include <stddef.h>
#include <stdint.h>

#include "lib/image/image.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  struct silo_error err = {0};
  const char *buf = (const char *)data + 1;
  size_t len = size - 1;
  switch (data[0] % 4) {
  case 0: {
    struct image_desc *d = NULL;
    size_t n = 0;
    if (image_index_parse(buf, len, &d, &n, &err) == 0) image_descs_free(d, n);
    break;
  }
  case 1: {
    struct image_manifest m = {0};
    if (image_manifest_parse(buf, len, &m, &err) == 0) image_manifest_free(&m);
    break;
  }
  case 2: {
    struct image_config c = {0};
    if (image_config_parse(buf, len, &c, &err) == 0) image_config_free(&c);
    break;
  }
  default: {
    struct docker_manifest m = {0};
    if (image_docker_manifest_parse(buf, len, &m, &err) == 0) image_docker_manifest_free(&m);
    break;
  }
  }
  return 0;
}
