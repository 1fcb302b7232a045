/* silo: environment lists ("NAME=VALUE" strings), as config.json and images carry them. */
#include <string.h>

#include "lib/base/base.h"

const char *
env_get(const char *const *env, size_t n, const char *name)
{
  size_t len = strlen(name);
  for (size_t i = 0; i < n; i++)
    if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') return env[i] + len + 1;
  return NULL;
}
