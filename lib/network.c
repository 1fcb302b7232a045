/* silo: glue between the container lifecycle and netns/ (silo's own networking).
 * With no --network and no org.silo.network.* annotation, nothing happens: the
 * container gets whatever its config says (runc's behaviour). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

struct network_plan {
  int unused;
};

int
network_plan(struct container_plan *c, struct silo_error *err)
{
  const char *mode = c->opts->network;
  if (!mode || strcmp(mode, "none") == 0) {
    if (c->opts->n_publish)
      return silo_err(err, EINVAL, "--publish needs --network bridge");
    return 0;
  }
  return silo_err(err, ENOTSUP, "--network %s: not supported yet", mode);
}

int
network_before_clone(struct container_plan *c, struct silo_error *err)
{
  (void)c;
  (void)err;
  return 0;
}

int
network_after_clone(struct container_plan *c, struct silo_error *err)
{
  (void)c;
  (void)err;
  return 0;
}

void
network_teardown(int statefd, const char *id)
{
  (void)statefd;
  (void)id;
}

void
network_plan_free(struct network_plan *n)
{
  free(n);
}
