/* silo lib/network/: silo's own networking for standalone containers, the glue
 * between a container and netns/.  The first part is what the create path calls;
 * the rest is what network.c and network6.c share (private to the two). */
#ifndef SILO_NETWORK_H
#define SILO_NETWORK_H

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "netns/netns.h"
#include "oci/oci.h"

/* ---- network.c: silo's own networking (netns/) for standalone containers ----
 * Chosen by --network/--publish or the config's org.silo.network.* annotations;
 * a config that joins a network namespace by path is never touched. */
struct network_plan;
/* prepare: decide and validate (no side effects). */
int network_plan(struct container_plan *c, struct silo_error *err);
/* spawn, state dir made, before clone: lease an address, write the generated
 * /etc/hosts and /etc/resolv.conf into the state dir and add their bind mounts. */
int network_before_clone(struct container_plan *c, struct silo_error *err);
/* spawn, after clone, before GO: veth into the container's netns, addresses,
 * routes, NAT and published ports; records what it made in <state>/network.json. */
int network_after_clone(struct container_plan *c, struct silo_error *err);
/* delete and failed creates: undo what network.json records (best effort). */
void network_teardown(int statefd, const char *id);
void network_plan_free(struct network_plan *n);

/* ---- private to network.c and network6.c ---- */

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
