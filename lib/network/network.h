/* silo: what lib/network/network.c and lib/network/network6.c share (private to the two). */
#ifndef SILO_NETWORK_H
#define SILO_NETWORK_H

#include "lib/runtime/plan.h"
#include "netns/netns.h"

#define ANN_MODE    "org.silo.network"
#define ANN_PUBLISH "org.silo.network.publish"
#define ANN_SUBNET  "org.silo.network.subnet"
#define ANN_BRIDGE  "org.silo.network.bridge"
#define ANN_IPV6    "org.silo.network.ipv6"
#define ANN_SUBNET6 "org.silo.network.subnet6"

struct network_plan {
  struct nn_record rec; /* what is (to be) made: <state>/network.json */
  bool has_subnet;      /* org.silo.network.subnet */
  struct nn_subnet want;
  bool ipv6;        /* --ipv6, --subnet6 or org.silo.network.ipv6/subnet6 */
  bool has_subnet6; /* --subnet6 or org.silo.network.subnet6 */
  struct nn_subnet6 want6;
  const char *subnet6_src; /* which of the two, for errors */
  int netns_fd;            /* after clone: the container's network namespace */
  struct oci_mount files[2];
  char *file_src[2];
  /* with a user namespace: mounted by silo into the container's mount namespace */
  const char *ns_file_dest[2];
  bool ns_files;
};

static inline const char *
annotation(const struct oci_config *cfg, const char *key)
{
  return oci_kv_get(cfg->annotations, cfg->n_annotations, key);
}

/* network6.c: IPv6 from --ipv6, --subnet6 and the annotations (no side effects). */
int network_plan_ipv6(struct container_plan *c, struct network_plan *n, struct silo_error *err);
/* The bridge's IPv6 subnet into n->rec.subnet6, under the store's lock. */
int network_choose_subnet6(struct network_plan *n, const struct nn_store *st,
                           struct silo_error *err);

#endif
