/* silo lib/network/: silo's own networking for standalone containers, the glue
 * between a container and netns/.  The first part is what the create path calls;
 * the rest is what network.c and network6.c share (private to the two). */
#ifndef SILO_NETWORK_H
#define SILO_NETWORK_H

#include <jansson.h>

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

/* ---- move.c: the network of a container that migrates (lib/migrate) ---- */
struct network_move;
/* Source: the lease of network.json as the OFFER's "network" object; 1: the
 * container has none of silo's networking; lent netDevices are refused. */
int network_move_offer(int statefd, json_t **out, struct silo_error *err);
/* Receiver (and the source's cold fallback): net (the peer's, hostile) checked
 * and leased in rootfd's store, a new network namespace bound on the file pin,
 * the bridge (and the VXLAN of cfg's annotations), the veth with the same MAC and
 * addresses (its host end down), NAT and the ports this host can publish.  *out
 * is set even on failure (network_move_free it); a failure undoes itself. */
int network_move_in(int rootfd, const char *id, const struct oci_config *cfg, json_t *net,
                    const char *pin, struct network_move **out, struct silo_error *err);
/* The switch: the veth's host end up. */
int network_move_up(struct network_move *m, struct silo_error *err);
/* Restored: network.json and <state>/netns in statefd, the lease settled. */
int network_move_adopt(struct network_move *m, int statefd, struct silo_error *err);
int network_move_announce(struct network_move *m, struct silo_error *err);
/* What network_move_in made, unless adopted (then the container's delete does it). */
void network_move_undo(struct network_move *m);
/* {"ip", "ports": [published here], "ports_dropped": n} */
json_t *network_move_summary(const struct network_move *m);
void network_move_free(struct network_move *m);
/* Source: the host end of the container's veth down (quiet: the frozen copy
 * answers no ARP while the destination takes over) or up again; 0 without
 * silo's networking. */
int network_move_quiet(int statefd, bool quiet, struct silo_error *err);

/* ---- private to network.c, network6.c and move.c ---- */

#define ANN_MODE        "org.silo.network"
#define ANN_PUBLISH     "org.silo.network.publish"
#define ANN_SUBNET      "org.silo.network.subnet"
#define ANN_BRIDGE      "org.silo.network.bridge"
#define ANN_IPV6        "org.silo.network.ipv6"
#define ANN_SUBNET6     "org.silo.network.subnet6"
#define ANN_VXLAN       "org.silo.network.vxlan" /* VNI: the bridge spans hosts */
#define ANN_VXLAN_PEERS "org.silo.network.vxlan.peers"
#define ANN_RANGE       "org.silo.network.range" /* this host's slice of the subnet */

struct network_plan {
  struct nn_record rec; /* what is (to be) made: <state>/network.json */
  bool has_subnet;      /* org.silo.network.subnet */
  struct nn_subnet want;
  bool ipv6;        /* --ipv6, --subnet6 or org.silo.network.ipv6/subnet6 */
  bool has_subnet6; /* --subnet6 or org.silo.network.subnet6 */
  struct nn_subnet6 want6;
  const char *subnet6_src; /* which of the two, for errors */
  struct nn_vxlan vx;      /* vni 0: the bridge is this host's only */
  bool has_range;
  struct nn_subnet range;
  int netns_fd; /* after clone: the container's network namespace */
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
