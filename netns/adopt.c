/* silo netns: a lease that arrives with a migrated container (`silo
 * migrate-receive`), into this host's store.
 *
 * The peer chose every field, so it is checked like any hostile input: the id
 * has no lease here; the address is a host address of its subnet (not the
 * network, gateway or broadcast address), inside the network the bridge serves
 * here (or the bridge serves none yet and no other bridge's subnet overlaps), and
 * no lease of any root holds it; the same for IPv6.  Published ports that clash
 * with another lease's are dropped (the container moves, its ports stay behind).
 * Until the restore made the container's state directory the lease names the
 * receiver (pending): reclaims leave it alone while that process lives.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "netns/netns.h"

static bool
taken(const struct nn_store *st, const struct nn_lease *w, const struct nn_lease **by)
{
  for (size_t i = 0; i < st->n; i++) {
    const struct nn_lease *l = &st->leases[i];
    *by = l;
    if (strcmp(l->bridge, w->bridge) != 0) continue;
    if (l->ip == w->ip) return true;
    if (w->has_ip6 && l->has_ip6 && nn_ip6_equal(&l->ip6, &w->ip6)) return true;
  }
  return false;
}

static int
check_subnets(const struct nn_store *st, const struct nn_lease *w, struct silo_error *err)
{
  char a[20], b[20], c[16];
  if (!nn_subnet_contains(&w->subnet, w->ip) || w->ip == w->subnet.net ||
      w->ip == nn_gateway(&w->subnet) || w->ip == nn_broadcast(&w->subnet))
    return silo_err(err, EINVAL, "address %s is not a host address of %s (its gateway excluded)",
                    nn_ip_str(w->ip, c), nn_subnet_str(&w->subnet, a));
  if (w->has_ip6) {
    char s6[NN_SUBNET6_STRLEN], i6[NN_IP6_STRLEN];
    uint64_t h = nn_subnet6_host_of(&w->subnet6, &w->ip6);
    if (!nn_subnet6_contains(&w->subnet6, &w->ip6) || h <= 1 || h > nn_subnet6_last(&w->subnet6))
      return silo_err(err, EINVAL, "address %s is not a host address of %s (its gateway excluded)",
                      nn_ip6_str(&w->ip6, i6), nn_subnet6_str(&w->subnet6, s6));
  }
  for (size_t i = 0; i < st->n; i++) {
    const struct nn_lease *l = &st->leases[i];
    bool same = strcmp(l->bridge, w->bridge) == 0;
    if (same && (l->subnet.net != w->subnet.net || l->subnet.prefix != w->subnet.prefix))
      return silo_err(err, EINVAL, "bridge `%s` serves subnet %s here, not %s", w->bridge,
                      nn_subnet_str(&l->subnet, a), nn_subnet_str(&w->subnet, b));
    if (!same && nn_subnet_overlap(&l->subnet, &w->subnet))
      return silo_err(err, EADDRINUSE, "subnet %s overlaps %s of bridge `%s` here",
                      nn_subnet_str(&w->subnet, b), nn_subnet_str(&l->subnet, a), l->bridge);
    if (w->has_ip6 && l->has_ip6 && same && !nn_subnet6_equal(&l->subnet6, &w->subnet6))
      return silo_err(err, EINVAL, "bridge `%s` serves another IPv6 subnet here", w->bridge);
    if (w->has_ip6 && l->has_ip6 && !same && nn_subnet6_overlap(&l->subnet6, &w->subnet6))
      return silo_err(err, EADDRINUSE, "the IPv6 subnet overlaps that of bridge `%s` here",
                      l->bridge);
  }
  return 0;
}

int
nn_store_adopt(struct nn_store *st, const struct nn_lease *w, size_t *n_dropped,
               struct silo_error *err)
{
  *n_dropped = 0;
  if (nn_store_find(st, w->id))
    return silo_err(err, EEXIST, "`%s` already has a lease here", w->id);
  for (size_t i = 0; i < st->n; i++)
    if (st->leases[i].root && strcmp(st->leases[i].id, w->id) == 0)
      return silo_err(err, EEXIST, "container `%s` of state root %s has silo's networking here",
                      w->id, st->leases[i].root);
  if (check_subnets(st, w, err) < 0) return -1;
  const struct nn_lease *by = NULL;
  if (taken(st, w, &by)) {
    char ip[16];
    return silo_err(err, EADDRINUSE, "address %s is taken here (by `%s`)", nn_ip_str(w->ip, ip),
                    by->id);
  }
  struct nn_lease l = {.id = xstrdup(w->id),
                       .bridge = xstrdup(w->bridge),
                       .subnet = w->subnet,
                       .ip = w->ip,
                       .has_ip6 = w->has_ip6,
                       .subnet6 = w->subnet6,
                       .ip6 = w->ip6,
                       .netns = nn_netns_self(),
                       .pending = w->pending};
  l.ports = xcalloc(w->n_ports + 1, sizeof *l.ports);
  for (size_t j = 0; j < w->n_ports; j++) {
    bool clash = false;
    for (size_t i = 0; i < st->n && !clash; i++)
      for (size_t k = 0; k < st->leases[i].n_ports && !clash; k++)
        clash = nn_ports_clash(&st->leases[i].ports[k], &w->ports[j]);
    for (size_t k = 0; k < l.n_ports && !clash; k++)
      clash = nn_ports_clash(&l.ports[k], &w->ports[j]);
    if (clash)
      (*n_dropped)++;
    else
      l.ports[l.n_ports++] = w->ports[j];
  }
  st->leases = xrealloc(st->leases, (st->n + 1) * sizeof *st->leases);
  st->leases[st->n++] = l;
  st->dirty = true;
  return 0;
}

bool
nn_lease_pending(const struct nn_lease *l)
{
  return l->pending > 0 && (kill(l->pending, 0) == 0 || errno == EPERM);
}

bool
nn_store_settle(struct nn_store *st, const char *id)
{
  for (size_t i = 0; i < st->n; i++)
    if (!st->leases[i].root && strcmp(st->leases[i].id, id) == 0) {
      st->leases[i].pending = 0;
      st->dirty = true;
      return true;
    }
  return false;
}
