/* silo netns: IPv6 addresses, in the leases of <root>/.network/leases.json.
 *
 * A container's IPv6 address is part of its one lease (fields "subnet6" and
 * "ip6"), taken in the same locked session as its IPv4 address: released with
 * it, reclaimed with it when the container is gone.  Each bridge serves at most
 * one IPv6 subnet; a bridge may also have containers without IPv6.
 */
#include <errno.h>
#include <string.h>

#include "netns/netns.h"

bool
nn_store_bridge_subnet6(const struct nn_store *st, const char *bridge, struct nn_subnet6 *out)
{
  for (size_t i = 0; i < st->n; i++) {
    if (st->leases[i].has_ip6 && strcmp(st->leases[i].bridge, bridge) == 0) {
      *out = st->leases[i].subnet6;
      return true;
    }
  }
  return false;
}

size_t
nn_store_count6(const struct nn_store *st, const char *bridge)
{
  size_t n = 0;
  for (size_t i = 0; i < st->n; i++)
    if (st->leases[i].has_ip6 && (!bridge || strcmp(st->leases[i].bridge, bridge) == 0)) n++;
  return n;
}

static bool
ip6_taken(const struct nn_store *st, const char *bridge, const struct in6_addr *ip)
{
  for (size_t i = 0; i < st->n; i++)
    if (st->leases[i].has_ip6 && strcmp(st->leases[i].bridge, bridge) == 0 &&
        nn_ip6_equal(&st->leases[i].ip6, ip))
      return true;
  return false;
}

int
nn_store_allocate6(struct nn_store *st, const char *id, const struct nn_subnet6 *s,
                   struct in6_addr *ip, struct silo_error *err)
{
  char a[NN_SUBNET6_STRLEN], b[NN_SUBNET6_STRLEN];
  struct nn_lease *mine = NULL;
  for (size_t i = 0; i < st->n; i++)
    if (!st->leases[i].root && strcmp(st->leases[i].id, id) == 0) mine = &st->leases[i];
  if (!mine) return silo_err(err, ENOENT, "`%s` has no lease to add an IPv6 address to", id);
  if (mine->has_ip6) return silo_err(err, EEXIST, "`%s` already has an IPv6 address", id);
  const char *bridge = mine->bridge;
  for (size_t i = 0; i < st->n; i++) {
    const struct nn_lease *l = &st->leases[i];
    if (!l->has_ip6) continue;
    bool same = strcmp(l->bridge, bridge) == 0;
    if (same && !nn_subnet6_equal(&l->subnet6, s))
      return silo_err(err, EINVAL, "bridge `%s` serves IPv6 subnet %s, not %s", bridge,
                      nn_subnet6_str(&l->subnet6, a), nn_subnet6_str(s, b));
    if (!same && nn_subnet6_overlap(&l->subnet6, s))
      return silo_err(err, EADDRINUSE, "subnet6 %s overlaps %s of bridge `%s`",
                      nn_subnet6_str(s, b), nn_subnet6_str(&l->subnet6, a), l->bridge);
  }
  /* The lowest free host number after the gateway's: at most n+1 candidates are
   * looked at, whatever the size of the subnet. */
  uint64_t last = nn_subnet6_last(s);
  for (uint64_t n = 2; n <= last && n != 0; n++) {
    struct in6_addr cand = nn_subnet6_host(s, n);
    if (ip6_taken(st, bridge, &cand)) continue;
    mine->has_ip6 = true;
    mine->subnet6 = *s;
    mine->ip6 = cand;
    st->dirty = true;
    *ip = cand;
    return 0;
  }
  return silo_err(err, EADDRNOTAVAIL, "no free IPv6 address left in %s on bridge `%s` (%zu in use)",
                  nn_subnet6_str(s, a), bridge, nn_store_count6(st, bridge));
}
