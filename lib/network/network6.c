/* silo: IPv6 on silo's bridge (see silo-network(7)): what --ipv6, --subnet6 and
 * the annotations org.silo.network.ipv6 / .subnet6 ask for, and the choice of the
 * bridge's IPv6 subnet.  The rest of IPv6 follows the IPv4 path of network.c.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/error.h"
#include "lib/network/network.h"
#include "lib/runtime/plan.h"
#include "netns/netns.h"

/* IPv6 is on with --ipv6 or --subnet6, else with the annotation ipv6 "true" or a
 * subnet6 annotation; the flags win over the annotations. */
int
network_plan_ipv6(struct container_plan *c, struct network_plan *n, struct silo_error *err)
{
  const char *on = annotation(c->cfg, ANN_IPV6), *ann6 = annotation(c->cfg, ANN_SUBNET6);
  bool flags = c->opts->ipv6 || c->opts->subnet6;
  if (on && strcmp(on, "true") != 0 && strcmp(on, "false") != 0)
    return silo_err(err, EINVAL, "annotation " ANN_IPV6 ": `%s` is neither true nor false", on);
  bool off = on && strcmp(on, "false") == 0;
  if (!flags && off && ann6)
    return silo_err(err, EINVAL,
                    "annotation " ANN_SUBNET6 " is set but annotation " ANN_IPV6 " is false");
  n->ipv6 = flags || (!off && (on || ann6));
  if (!n->ipv6) return 0;
  const char *sn6 = c->opts->subnet6;
  n->subnet6_src = "--subnet6";
  if (!sn6 && ann6) {
    sn6 = ann6;
    n->subnet6_src = "annotation " ANN_SUBNET6;
  }
  if (sn6) {
    if (nn_subnet6_parse(sn6, &n->want6, err) < 0) return silo_err_wrap(err, "%s", n->subnet6_src);
    n->has_subnet6 = true;
  }
  if (access("/proc/sys/net/ipv6", F_OK) < 0)
    return silo_err(err, EAFNOSUPPORT,
                    "%s: the host has no IPv6 (/proc/sys/net/ipv6 is missing: ipv6.disable=1?)",
                    c->opts->ipv6 || !sn6 ? "IPv6" : n->subnet6_src);
  return 0;
}

/* The bridge's IPv6 subnet: its leases', else its global address's, else a free
 * one (the same order as for IPv4). */
int
network_choose_subnet6(struct network_plan *n, const struct nn_store *st, struct silo_error *err)
{
  const char *br = n->rec.bridge_name;
  const struct nn_subnet6 *want = n->has_subnet6 ? &n->want6 : NULL;
  struct nn_subnet6 s;
  char a[NN_SUBNET6_STRLEN], b[NN_SUBNET6_STRLEN];
  if (nn_store_bridge_subnet6(st, br, &s)) {
    if (want && !nn_subnet6_equal(want, &s))
      return silo_err(err, EINVAL, "bridge `%s` serves IPv6 subnet %s, not %s (%s)", br,
                      nn_subnet6_str(&s, a), nn_subnet6_str(want, b), n->subnet6_src);
    n->rec.subnet6 = s;
    return 0;
  }
  struct nn_nl *host = nn_nl_open(-1, err);
  if (!host) return -1;
  int ret = -1;
  struct nn_hostnet6 *nets = NULL;
  struct nn_addr *addrs = NULL;
  size_t n_nets = 0, n_addrs = 0, i;
  struct nn_link l;
  int r = nn_link_get(host, br, &l, err);
  if (r < 0) goto out;
  /* Refused now, before anything is made, rather than when the address is added. */
  char key[96], val[16];
  snprintf(key, sizeof key, "net/ipv6/conf/%s/disable_ipv6", r == 0 ? br : "default");
  if (nn_sysctl_get(key, val, sizeof val) == 0 && strcmp(val, "0") != 0) {
    silo_err(err, EPROTONOSUPPORT, "IPv6 is disabled on %s `%s` (%s = %s)",
             r == 0 ? "bridge" : "new interfaces, and so on the bridge", br, key, val);
    goto out;
  }
  if (r == 0 && nn_addr_list(host, l.index, AF_INET6, &addrs, &n_addrs, err) < 0) goto out;
  for (i = 0; i < n_addrs && addrs[i].scope != RT_SCOPE_UNIVERSE; i++) continue;
  if (i < n_addrs) { /* an existing bridge with a global address: its subnet */
    struct in6_addr ip;
    memcpy(&ip, addrs[i].addr, 16);
    s.prefix = addrs[i].prefix;
    s.net = nn_ip6_masked(&ip, s.prefix);
    if (want && !nn_subnet6_equal(want, &s)) {
      silo_err(err, EINVAL, "bridge `%s` has IPv6 subnet %s, not %s (%s)", br,
               nn_subnet6_str(&s, a), nn_subnet6_str(want, b), n->subnet6_src);
      goto out;
    }
    if (s.prefix < NN_PREFIX6_MIN || s.prefix > NN_PREFIX6_MAX) {
      silo_err(err, EINVAL, "bridge `%s` has IPv6 subnet %s: silo needs a /%d to /%d", br,
               nn_subnet6_str(&s, a), NN_PREFIX6_MIN, NN_PREFIX6_MAX);
      goto out;
    }
    n->rec.subnet6 = s;
    ret = 0;
    goto out;
  }
  if (nn_host_nets6(host, &nets, &n_nets, err) < 0) goto out;
  /* The IPv6 subnets of silo's other bridges count as taken even while they are down. */
  for (i = 0; i < st->n; i++) {
    if (!st->leases[i].has_ip6) continue;
    nets = xrealloc(nets, (n_nets + 1) * sizeof *nets);
    struct nn_hostnet6 h = {.net = st->leases[i].subnet6};
    snprintf(h.dev, sizeof h.dev, "%s", st->leases[i].bridge);
    nets[n_nets++] = h;
  }
  ret = nn_subnet6_choose(want, nets, n_nets, br, &n->rec.subnet6, err);
  if (ret < 0 && want) silo_err_wrap(err, "%s", n->subnet6_src);
out:
  free(nets);
  free(addrs);
  nn_nl_close(host);
  return ret;
}
