/* silo netns: IPv4 addresses and subnets, names, published ports (pure functions). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "netns/netns.h"

int
nn_ip_parse(const char *s, uint32_t *ip)
{
  uint32_t v = 0;
  const char *p = s;
  for (int i = 0; i < 4; i++) {
    if (*p < '0' || *p > '9') return -1;
    unsigned part = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      part = part * 10 + (unsigned)(*p++ - '0');
      if (++digits > 3 || part > 255) return -1;
    }
    if (digits > 1 && p[-digits] == '0') return -1; /* no octal-looking 010 */
    v = v << 8 | part;
    if (i < 3 && *p++ != '.') return -1;
  }
  if (*p) return -1;
  *ip = v;
  return 0;
}

const char *
nn_ip_str(uint32_t ip, char buf[16])
{
  snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  return buf;
}

uint32_t
nn_mask(unsigned prefix)
{
  return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

int
nn_subnet_parse(const char *s, struct nn_subnet *out, struct silo_error *err)
{
  char buf[32];
  const char *slash = strchr(s, '/');
  if (!slash || (size_t)(slash - s) >= sizeof buf)
    return silo_err(err, EINVAL, "subnet `%s`: expected ADDRESS/PREFIX, e.g. 10.88.0.0/16", s);
  memcpy(buf, s, (size_t)(slash - s));
  buf[slash - s] = '\0';
  uint32_t ip;
  if (nn_ip_parse(buf, &ip) < 0)
    return silo_err(err, EINVAL, "subnet `%s`: `%s` is not an IPv4 address", s, buf);
  char *end;
  errno = 0;
  long prefix = strtol(slash + 1, &end, 10);
  if (!slash[1] || *end || errno || prefix < 0 || prefix > 32)
    return silo_err(err, EINVAL, "subnet `%s`: bad prefix length", s);
  if (prefix < 8 || prefix > 30)
    return silo_err(err, EINVAL,
                    "subnet `%s`: the prefix length must be between 8 and 30 (a /30 has one "
                    "address for a container)",
                    s);
  if (ip & ~nn_mask((unsigned)prefix)) {
    char nb[16];
    return silo_err(err, EINVAL, "subnet `%s`: host bits set (did you mean %s/%ld?)", s,
                    nn_ip_str(ip & nn_mask((unsigned)prefix), nb), prefix);
  }
  if ((ip >> 24) == 127 || (ip >> 24) == 0 || (ip >> 28) >= 14)
    return silo_err(err, EINVAL, "subnet `%s`: loopback, multicast or reserved addresses", s);
  out->net = ip;
  out->prefix = (unsigned)prefix;
  return 0;
}

const char *
nn_subnet_str(const struct nn_subnet *s, char buf[20])
{
  char ip[16];
  snprintf(buf, 20, "%s/%u", nn_ip_str(s->net, ip), s->prefix);
  return buf;
}

bool
nn_subnet_contains(const struct nn_subnet *s, uint32_t ip)
{
  return (ip & nn_mask(s->prefix)) == s->net;
}

bool
nn_subnet_overlap(const struct nn_subnet *a, const struct nn_subnet *b)
{
  uint32_t m = nn_mask(a->prefix < b->prefix ? a->prefix : b->prefix);
  return (a->net & m) == (b->net & m);
}

uint32_t
nn_gateway(const struct nn_subnet *s)
{
  return s->net + 1;
}

uint32_t
nn_broadcast(const struct nn_subnet *s)
{
  return s->net | ~nn_mask(s->prefix);
}

const struct nn_hostnet *
nn_subnet_conflict(const struct nn_subnet *s, const struct nn_hostnet *l, size_t n,
                   const char *ignore_dev)
{
  for (size_t i = 0; i < n; i++) {
    if (ignore_dev && strcmp(l[i].dev, ignore_dev) == 0) continue;
    if (nn_subnet_overlap(s, &l[i].net)) return &l[i];
  }
  return NULL;
}

int
nn_subnet_choose(const struct nn_subnet *want, const struct nn_hostnet *l, size_t n,
                 const char *bridge, struct nn_subnet *out, struct silo_error *err)
{
  char a[20], b[20];
  if (want) {
    const struct nn_hostnet *c = nn_subnet_conflict(want, l, n, bridge);
    if (c)
      return silo_err(err, EADDRINUSE, "subnet %s overlaps the host's %s %s%s%s",
                      nn_subnet_str(want, a), c->is_addr ? "address" : "route",
                      nn_subnet_str(&c->net, b), c->dev[0] ? " on " : "", c->dev);
    *out = *want;
    return 0;
  }
  for (uint32_t second = 88; second <= 99; second++) {
    struct nn_subnet s = {.net = 10u << 24 | second << 16, .prefix = 16};
    if (!nn_subnet_conflict(&s, l, n, bridge)) {
      *out = s;
      return 0;
    }
  }
  return silo_err(err, EADDRINUSE,
                  "no free subnet: 10.88.0.0/16 to 10.99.0.0/16 all overlap the host's routes "
                  "(set one with the annotation org.silo.network.subnet)");
}

int
nn_ifname_check(const char *name, const char *what, struct silo_error *err)
{
  size_t n = strlen(name);
  if (n == 0) return silo_err(err, EINVAL, "%s: empty interface name", what);
  if (n >= NN_IFNAMSIZ)
    return silo_err(err, EINVAL, "%s: `%s` is longer than %d characters", what, name,
                    NN_IFNAMSIZ - 1);
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return silo_err(err, EINVAL, "%s: `%s` is not a valid interface name", what, name);
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == ':' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '"' ||
        *p == '\\' || (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
      return silo_err(err, EINVAL, "%s: `%s` is not a valid interface name", what, name);
  return 0;
}

uint32_t
nn_hash32(const char *s)
{
  uint32_t h = 2166136261u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}

void
nn_veth_name(const char *id, char out[NN_IFNAMSIZ])
{
  snprintf(out, NN_IFNAMSIZ, "silo%08x", nn_hash32(id));
}

bool
nn_is_veth_name(const char *name)
{
  if (strncmp(name, "silo", 4) != 0 || strlen(name) != 12) return false;
  for (const char *p = name + 4; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
  return true;
}

void
nn_mac_from_ip(uint32_t ip, uint8_t mac[6])
{
  mac[0] = 0x02; /* locally administered, unicast */
  mac[1] = 0x51;
  mac[2] = (uint8_t)(ip >> 24);
  mac[3] = (uint8_t)(ip >> 16);
  mac[4] = (uint8_t)(ip >> 8);
  mac[5] = (uint8_t)ip;
}

void
nn_rule_key(const char *id, char out[NN_KEY_MAX])
{
  /* ids are [A-Za-z0-9_.+-]: safe inside an nft string; long ones are hashed. */
  if (strlen(id) <= 100)
    snprintf(out, NN_KEY_MAX, "silo:%s", id);
  else
    snprintf(out, NN_KEY_MAX, "silo:%.80s~%08x", id, nn_hash32(id));
}

static int
parse_port(const char *s, size_t len, uint16_t *out)
{
  unsigned v = 0;
  if (len == 0 || len > 5) return -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v == 0 || v > 65535) return -1;
  *out = (uint16_t)v;
  return 0;
}

int
nn_port_parse(const char *spec, struct nn_port *out, struct silo_error *err)
{
  memset(out, 0, sizeof *out);
  out->proto = IPPROTO_TCP;
  char buf[64];
  if (strlen(spec) >= sizeof buf) return silo_err(err, EINVAL, "`%s`: too long", spec);
  strcpy(buf, spec);
  char *slash = strchr(buf, '/');
  if (slash) {
    *slash = '\0';
    if (strcmp(slash + 1, "tcp") == 0)
      out->proto = IPPROTO_TCP;
    else if (strcmp(slash + 1, "udp") == 0)
      out->proto = IPPROTO_UDP;
    else
      return silo_err(err, EINVAL, "`%s`: unknown protocol `%s` (tcp or udp)", spec, slash + 1);
  }
  char *parts[4], *p = buf;
  size_t n = 0;
  if (buf[0] == '[') { /* [IPv6]:HOST:CTR */
    char *close = strchr(buf, ']');
    if (!close || close[1] != ':')
      return silo_err(err, EINVAL, "`%s`: expected [IPV6]:HOSTPORT:CONTAINERPORT[/tcp|udp]", spec);
    *close = '\0';
    if (inet_pton(AF_INET6, buf + 1, &out->host_ip6) != 1)
      return silo_err(err, EINVAL, "`%s`: `%s` is not an IPv6 address", spec, buf + 1);
    out->v6 = true;
    p = close + 2;
  }
  for (char *c; n < 4; p = c + 1) {
    parts[n++] = p;
    if (!(c = strchr(p, ':'))) break;
    *c = '\0';
  }
  if (n < 2 || n > 3 || (out->v6 && n != 2))
    return silo_err(err, EINVAL, "`%s`: expected [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]", spec);
  const char *hp = parts[n - 2], *cp = parts[n - 1];
  if (n == 3 && nn_ip_parse(parts[0], &out->host_ip) < 0)
    return silo_err(err, EINVAL, "`%s`: `%s` is not an IPv4 address", spec, parts[0]);
  if (parse_port(hp, strlen(hp), &out->host_port) < 0)
    return silo_err(err, EINVAL, "`%s`: host port `%s` is not a number from 1 to 65535", spec, hp);
  if (parse_port(cp, strlen(cp), &out->ctr_port) < 0)
    return silo_err(err, EINVAL, "`%s`: container port `%s` is not a number from 1 to 65535", spec,
                    cp);
  return 0;
}

int
nn_ports_parse_list(const char *list, struct nn_port **out, size_t *n, struct silo_error *err)
{
  const char *p = list;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && (*p == ' ' || *p == '\t')) p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    if (len) {
      char *one = xmalloc(len + 1);
      memcpy(one, p, len);
      one[len] = '\0';
      struct nn_port port;
      int r = nn_port_parse(one, &port, err);
      free(one);
      if (r < 0) return -1;
      *out = xrealloc(*out, (*n + 1) * sizeof **out);
      (*out)[(*n)++] = port;
    }
    if (!end) break;
    p = end + 1;
  }
  return 0;
}

const char *
nn_proto_name(uint8_t proto)
{
  return proto == IPPROTO_UDP ? "udp" : "tcp";
}

const char *
nn_port_str(const struct nn_port *p, char buf[NN_PORT_STRLEN])
{
  char ip[INET6_ADDRSTRLEN];
  if (p->v6)
    snprintf(buf, NN_PORT_STRLEN, "[%s]:%u:%u/%s",
             inet_ntop(AF_INET6, &p->host_ip6, ip, sizeof ip) ? ip : "?", p->host_port, p->ctr_port,
             nn_proto_name(p->proto));
  else
    snprintf(buf, NN_PORT_STRLEN, "%s:%u:%u/%s", nn_ip_str(p->host_ip, ip), p->host_port,
             p->ctr_port, nn_proto_name(p->proto));
  return buf;
}

bool
nn_ports_clash(const struct nn_port *a, const struct nn_port *b)
{
  if (a->proto != b->proto || a->host_port != b->host_port) return false;
  bool any_a = !a->v6 && a->host_ip == 0, any_b = !b->v6 && b->host_ip == 0;
  if (any_a || any_b) return true; /* every address of both families */
  if (a->v6 != b->v6) return false;
  if (!a->v6) return a->host_ip == b->host_ip;
  static const struct in6_addr any6 = IN6ADDR_ANY_INIT;
  return memcmp(&a->host_ip6, &any6, sizeof any6) == 0 ||
         memcmp(&b->host_ip6, &any6, sizeof any6) == 0 ||
         memcmp(&a->host_ip6, &b->host_ip6, sizeof any6) == 0;
}
