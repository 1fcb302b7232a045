/* silo netns: IPv6 prefixes and addresses (pure functions).
 *
 * A bridge's IPv6 subnet is a /64 to a /126: shorter prefixes are for routing
 * between links, and a bridge is one link.  Hosts are numbered from the network
 * address: 0 is the subnet-router anycast address (RFC 4291), 1 the gateway on
 * the bridge, 2 and up the containers.  With prefix >= 64 a host number fits in
 * the low 64 bits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netns/netns.h"

int
nn_ip6_parse(const char *s, struct in6_addr *ip)
{
  return inet_pton(AF_INET6, s, ip) == 1 ? 0 : -1;
}

const char *
nn_ip6_str(const struct in6_addr *ip, char buf[NN_IP6_STRLEN])
{
  if (!inet_ntop(AF_INET6, ip, buf, NN_IP6_STRLEN)) snprintf(buf, NN_IP6_STRLEN, "?");
  return buf;
}

bool
nn_ip6_equal(const struct in6_addr *a, const struct in6_addr *b)
{
  return memcmp(a, b, sizeof *a) == 0;
}

struct in6_addr
nn_ip6_masked(const struct in6_addr *ip, unsigned prefix)
{
  struct in6_addr m = *ip;
  for (unsigned i = 0; i < 16; i++) {
    unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
    if (bits < 8) m.s6_addr[i] &= (uint8_t)(0xff00u >> bits);
  }
  return m;
}

static uint64_t
low64(const struct in6_addr *ip)
{
  uint64_t v = 0;
  for (int i = 8; i < 16; i++) v = v << 8 | ip->s6_addr[i];
  return v;
}

uint64_t
nn_subnet6_last(const struct nn_subnet6 *s)
{
  unsigned host_bits = 128 - s->prefix; /* <= 64 */
  return host_bits >= 64 ? UINT64_MAX : (UINT64_C(1) << host_bits) - 1;
}

struct in6_addr
nn_subnet6_host(const struct nn_subnet6 *s, uint64_t n)
{
  struct in6_addr ip = s->net;
  uint64_t v = low64(&s->net) | (n & nn_subnet6_last(s));
  for (int i = 15; i >= 8; i--, v >>= 8) ip.s6_addr[i] = (uint8_t)v;
  return ip;
}

uint64_t
nn_subnet6_host_of(const struct nn_subnet6 *s, const struct in6_addr *ip)
{
  return low64(ip) & nn_subnet6_last(s);
}

struct in6_addr
nn_gateway6(const struct nn_subnet6 *s)
{
  return nn_subnet6_host(s, 1);
}

int
nn_subnet6_parse(const char *s, struct nn_subnet6 *out, struct silo_error *err)
{
  char buf[NN_IP6_STRLEN];
  const char *slash = strchr(s, '/');
  if (!slash || (size_t)(slash - s) >= sizeof buf)
    return silo_err(err, EINVAL, "subnet6 `%s`: expected PREFIX/LENGTH, e.g. fd88::/64", s);
  memcpy(buf, s, (size_t)(slash - s));
  buf[slash - s] = '\0';
  struct in6_addr ip;
  if (nn_ip6_parse(buf, &ip) < 0)
    return silo_err(err, EINVAL, "subnet6 `%s`: `%s` is not an IPv6 address", s, buf);
  unsigned prefix = 0;
  const char *p = slash + 1;
  if (!*p || strlen(p) > 3) return silo_err(err, EINVAL, "subnet6 `%s`: bad prefix length", s);
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return silo_err(err, EINVAL, "subnet6 `%s`: bad prefix length", s);
    prefix = prefix * 10 + (unsigned)(*p - '0');
  }
  if (prefix > 128) return silo_err(err, EINVAL, "subnet6 `%s`: bad prefix length", s);
  if (prefix < NN_PREFIX6_MIN)
    return silo_err(err, EINVAL,
                    "subnet6 `%s`: prefix too short: /%u is more than one link needs, the "
                    "prefix length must be between %d and %d",
                    s, prefix, NN_PREFIX6_MIN, NN_PREFIX6_MAX);
  if (prefix > NN_PREFIX6_MAX)
    return silo_err(err, EINVAL,
                    "subnet6 `%s`: prefix too long: a /%u leaves no room for containers, the "
                    "prefix length must be between %d and %d (a /%d has two addresses for "
                    "containers)",
                    s, prefix, NN_PREFIX6_MIN, NN_PREFIX6_MAX, NN_PREFIX6_MAX);
  struct in6_addr net = nn_ip6_masked(&ip, prefix);
  if (!nn_ip6_equal(&net, &ip)) {
    char nb[NN_IP6_STRLEN];
    return silo_err(err, EINVAL, "subnet6 `%s`: host bits set (did you mean %s/%u?)", s,
                    nn_ip6_str(&net, nb), prefix);
  }
  uint8_t b0 = ip.s6_addr[0];
  if ((b0 & 0xe0) != 0x20 && (b0 & 0xfe) != 0xfc)
    return silo_err(err, EINVAL,
                    "subnet6 `%s`: not a global unicast (2000::/3) or unique local (fc00::/7) "
                    "prefix",
                    s);
  out->net = net;
  out->prefix = prefix;
  return 0;
}

const char *
nn_subnet6_str(const struct nn_subnet6 *s, char buf[NN_SUBNET6_STRLEN])
{
  char ip[NN_IP6_STRLEN];
  snprintf(buf, NN_SUBNET6_STRLEN, "%s/%u", nn_ip6_str(&s->net, ip), s->prefix);
  return buf;
}

bool
nn_subnet6_equal(const struct nn_subnet6 *a, const struct nn_subnet6 *b)
{
  return a->prefix == b->prefix && nn_ip6_equal(&a->net, &b->net);
}

bool
nn_subnet6_contains(const struct nn_subnet6 *s, const struct in6_addr *ip)
{
  struct in6_addr m = nn_ip6_masked(ip, s->prefix);
  return nn_ip6_equal(&m, &s->net);
}

bool
nn_subnet6_overlap(const struct nn_subnet6 *a, const struct nn_subnet6 *b)
{
  unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
  struct in6_addr x = nn_ip6_masked(&a->net, p), y = nn_ip6_masked(&b->net, p);
  return nn_ip6_equal(&x, &y);
}

const struct nn_hostnet6 *
nn_subnet6_conflict(const struct nn_subnet6 *s, const struct nn_hostnet6 *l, size_t n,
                    const char *ignore_dev)
{
  for (size_t i = 0; i < n; i++) {
    if (ignore_dev && strcmp(l[i].dev, ignore_dev) == 0) continue;
    if (nn_subnet6_overlap(s, &l[i].net)) return &l[i];
  }
  return NULL;
}

int
nn_subnet6_choose(const struct nn_subnet6 *want, const struct nn_hostnet6 *l, size_t n,
                  const char *bridge, struct nn_subnet6 *out, struct silo_error *err)
{
  char a[NN_SUBNET6_STRLEN], b[NN_SUBNET6_STRLEN];
  if (want) {
    const struct nn_hostnet6 *c = nn_subnet6_conflict(want, l, n, bridge);
    if (c)
      return silo_err(err, EADDRINUSE, "subnet6 %s overlaps the host's %s %s%s%s",
                      nn_subnet6_str(want, a), c->is_addr ? "address" : "route",
                      nn_subnet6_str(&c->net, b), c->dev[0] ? " on " : "", c->dev);
    *out = *want;
    return 0;
  }
  /* fd88:0:0:N::/64: a unique local prefix (RFC 4193) like podman's and docker's
   * defaults; the 88 matches the IPv4 default 10.88.0.0/16. */
  for (unsigned sub = 0; sub <= 0xff; sub++) {
    struct nn_subnet6 s = {.prefix = 64};
    s.net.s6_addr[0] = 0xfd;
    s.net.s6_addr[1] = 0x88;
    s.net.s6_addr[7] = (uint8_t)sub;
    if (!nn_subnet6_conflict(&s, l, n, bridge)) {
      *out = s;
      return 0;
    }
  }
  return silo_err(err, EADDRINUSE,
                  "no free IPv6 subnet: fd88::/64 to fd88:0:0:ff::/64 all overlap the host's "
                  "routes (set one with --subnet6 or the annotation org.silo.network.subnet6)");
}
