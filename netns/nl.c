/* silo netns: rtnetlink through libmnl — links, addresses, routes.
 *
 * One request at a time, each acknowledged (NLM_F_ACK), so an error names the
 * request that failed.  A socket for another network namespace is created inside
 * it (setns there and straight back): the socket keeps talking to that namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "netns/netns.h"

#define RECV_SIZE 32768

struct nn_nl {
  struct mnl_socket *sk;
  unsigned portid, seq;
  char buf[RECV_SIZE];
};

struct nn_nl *
nn_nl_open(int netns_fd, struct silo_error *err)
{
  _cleanup_close_ int self = -1;
  if (netns_fd >= 0) {
    self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) return silo_err(err, errno, "open /proc/self/ns/net"), NULL;
    if (setns(netns_fd, CLONE_NEWNET) < 0)
      return silo_err(err, errno, "enter the container's network namespace"), NULL;
  }
  struct mnl_socket *sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  int e = errno;
  if (self >= 0 && setns(self, CLONE_NEWNET) < 0) {
    /* Staying in the container's namespace would configure the wrong one. */
    fprintf(stderr, "silo: cannot return to the host's network namespace: %s\n", strerror(errno));
    abort();
  }
  if (!sk) return silo_err(err, e, "netlink socket"), NULL;
  if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
    e = errno;
    mnl_socket_close(sk);
    return silo_err(err, e, "bind netlink socket"), NULL;
  }
  struct nn_nl *nl = xcalloc(1, sizeof *nl);
  nl->sk = sk;
  nl->portid = mnl_socket_get_portid(sk);
  nl->seq = (unsigned)time(NULL);
  return nl;
}

void
nn_nl_close(struct nn_nl *nl)
{
  if (!nl) return;
  mnl_socket_close(nl->sk);
  free(nl);
}

/* Sends one request and runs cb on every answer until the ack (or the end of a
 * dump).  -1 with errno set on failure (the kernel's error for NLMSG_ERROR). */
static int
talk(struct nn_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
  nlh->nlmsg_seq = ++nl->seq;
  /* Not by the flags alone: NLM_F_EXCL shares its bit with NLM_F_MATCH (of DUMP). */
  bool dump = nlh->nlmsg_type % 4 == 2 /* RTM_GET* */ && (nlh->nlmsg_flags & NLM_F_DUMP);
  if (!dump) nlh->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0) return -1;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof nl->buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    int r = mnl_cb_run(nl->buf, (size_t)n, nl->seq, nl->portid, cb, data);
    if (r < 0) return -1;
    if (r == MNL_CB_STOP) return 0;
  }
}

struct nlmsghdr *
nn_nl_msg(char *buf, uint16_t type, uint16_t flags)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  return nlh;
}

struct nlmsghdr *
nn_nl_newlink(char *buf, const char *name, const char *kind, int master, int mtu,
              struct nlattr **info)
{
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  if (mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
  if (master > 0) mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
  *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
  return nlh;
}

/* ---- links ---- */

struct attrs {
  const struct nlattr **tb;
  int max;
};

static int
attr_cb(const struct nlattr *a, void *data)
{
  struct attrs *t = data;
  int type = mnl_attr_get_type(a);
  if (type <= t->max) t->tb[type] = a;
  return MNL_CB_OK;
}

static void
copy_str(char *dst, size_t len, const struct nlattr *a)
{
  if (a) snprintf(dst, len, "%s", mnl_attr_get_str(a));
}

static void
parse_link(const struct nlmsghdr *nlh, struct nn_link *l)
{
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
  const struct nlattr *tb[IFLA_MAX + 1] = {0};
  struct attrs t = {tb, IFLA_MAX};
  memset(l, 0, sizeof *l);
  mnl_attr_parse(nlh, sizeof *ifm, attr_cb, &t);
  l->index = ifm->ifi_index;
  l->flags = ifm->ifi_flags;
  copy_str(l->name, sizeof l->name, tb[IFLA_IFNAME]);
  copy_str(l->alias, sizeof l->alias, tb[IFLA_IFALIAS]);
  if (tb[IFLA_MTU]) l->mtu = (int)mnl_attr_get_u32(tb[IFLA_MTU]);
  if (tb[IFLA_MASTER]) l->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
  if (tb[IFLA_LINKINFO]) {
    const struct nlattr *ti[IFLA_INFO_MAX + 1] = {0};
    struct attrs tt = {ti, IFLA_INFO_MAX};
    mnl_attr_parse_nested(tb[IFLA_LINKINFO], attr_cb, &tt);
    copy_str(l->kind, sizeof l->kind, ti[IFLA_INFO_KIND]);
  }
}

static int
link_one_cb(const struct nlmsghdr *nlh, void *data)
{
  parse_link(nlh, data);
  return MNL_CB_OK;
}

int
nn_link_get(struct nn_nl *nl, const char *name, struct nn_link *out, struct silo_error *err)
{
  char buf[1024];
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_GETLINK, 0);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  memset(out, 0, sizeof *out);
  if (talk(nl, nlh, link_one_cb, out) < 0) {
    if (errno == ENODEV) return 1;
    return silo_err(err, errno, "look up interface `%s`", name);
  }
  return out->index > 0 ? 0 : 1;
}

struct link_vec {
  struct nn_link *v;
  size_t n;
};

static int
link_list_cb(const struct nlmsghdr *nlh, void *data)
{
  struct link_vec *lv = data;
  lv->v = xrealloc(lv->v, (lv->n + 1) * sizeof *lv->v);
  parse_link(nlh, &lv->v[lv->n++]);
  return MNL_CB_OK;
}

int
nn_link_list(struct nn_nl *nl, struct nn_link **out, size_t *n, struct silo_error *err)
{
  char buf[256];
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_GETLINK, NLM_F_DUMP);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  struct link_vec lv = {0};
  if (talk(nl, nlh, link_list_cb, &lv) < 0) {
    free(lv.v);
    return silo_err(err, errno, "list interfaces");
  }
  *out = lv.v;
  *n = lv.n;
  return 0;
}

int
nn_bridge_add(struct nn_nl *nl, const char *name, int mtu, struct silo_error *err)
{
  char buf[1024];
  struct nlattr *info;
  struct nlmsghdr *nlh = nn_nl_newlink(buf, name, "bridge", 0, mtu, &info);
  mnl_attr_nest_end(nlh, info);
  if (talk(nl, nlh, NULL, NULL) < 0) return silo_err(err, errno, "create bridge `%s`", name);
  return 0;
}

int
nn_veth_add(struct nn_nl *nl, const char *name, int master, int mtu, const char *peer,
            int peer_netns_fd, const uint8_t peer_mac[6], struct silo_error *err)
{
  char buf[2048];
  struct nlattr *info;
  struct nlmsghdr *nlh = nn_nl_newlink(buf, name, "veth", master, mtu, &info);
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  struct nlattr *pa = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header(nlh, sizeof *pifm);
  pifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
  if (mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
  if (peer_mac) mnl_attr_put(nlh, IFLA_ADDRESS, 6, peer_mac);
  if (peer_netns_fd >= 0) mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
  mnl_attr_nest_end(nlh, pa);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  if (talk(nl, nlh, NULL, NULL) < 0)
    return silo_err(err, errno, "create veth pair `%s` / `%s`", name, peer);
  return 0;
}

int
nn_link_set(struct nn_nl *nl, int index, const struct nn_link_change *ch, struct silo_error *err)
{
  char buf[1024];
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_NEWLINK, 0);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  if (ch->up || ch->down) {
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = ch->up ? IFF_UP : 0;
  }
  if (ch->name) mnl_attr_put_strz(nlh, IFLA_IFNAME, ch->name);
  if (ch->alias) mnl_attr_put_strz(nlh, IFLA_IFALIAS, ch->alias);
  if (ch->mac) mnl_attr_put(nlh, IFLA_ADDRESS, 6, ch->mac);
  if (ch->netns_fd > 0) mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)ch->netns_fd);
  if (talk(nl, nlh, NULL, NULL) < 0) {
    const char *what = ch->netns_fd > 0 ? "move" : ch->name ? "rename" : "set up";
    return silo_err(err, errno, "%s interface %d%s%s", what, index, ch->name ? " to " : "",
                    ch->name ? ch->name : "");
  }
  return 0;
}

int
nn_loopback_up(struct silo_error *err)
{
  struct nn_nl *nl = nn_nl_open(-1, err);
  if (!nl) return -1;
  struct nn_link l;
  struct nn_link_change up = {.up = true};
  int r = nn_link_get(nl, "lo", &l, err);
  if (r == 0 && !(l.flags & IFF_UP)) r = nn_link_set(nl, l.index, &up, err);
  nn_nl_close(nl);
  return r;
}

int
nn_link_del(struct nn_nl *nl, int index, struct silo_error *err)
{
  char buf[256];
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_DELLINK, 0);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  if (talk(nl, nlh, NULL, NULL) < 0 && errno != ENODEV)
    return silo_err(err, errno, "delete interface %d", index);
  return 0;
}

/* ---- addresses ---- */

struct addr_query {
  int index;
  struct nn_addr *v;
  size_t n;
};

static int
addr_cb(const struct nlmsghdr *nlh, void *data)
{
  struct addr_query *q = data;
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
  const struct nlattr *tb[IFA_MAX + 1] = {0};
  struct attrs t = {tb, IFA_MAX};
  if (q->index && (int)ifa->ifa_index != q->index) return MNL_CB_OK;
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return MNL_CB_OK;
  mnl_attr_parse(nlh, sizeof *ifa, attr_cb, &t);
  const struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
  size_t len = ifa->ifa_family == AF_INET ? 4 : 16;
  if (!a || mnl_attr_get_payload_len(a) < len) return MNL_CB_OK;
  struct nn_addr x = {.family = ifa->ifa_family,
                      .prefix = ifa->ifa_prefixlen,
                      .scope = ifa->ifa_scope,
                      .index = (int)ifa->ifa_index};
  memcpy(x.addr, mnl_attr_get_payload(a), len);
  q->v = xrealloc(q->v, (q->n + 1) * sizeof *q->v);
  q->v[q->n++] = x;
  return MNL_CB_OK;
}

int
nn_addr_list(struct nn_nl *nl, int index, int family, struct nn_addr **out, size_t *n,
             struct silo_error *err)
{
  char buf[256];
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_GETADDR, NLM_F_DUMP);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = (unsigned char)family;
  struct addr_query q = {.index = index};
  if (talk(nl, nlh, addr_cb, &q) < 0) {
    free(q.v);
    return silo_err(err, errno, "list addresses");
  }
  *out = q.v;
  *n = q.n;
  return 0;
}

/* RTM_NEWADDR / RTM_DELADDR of a. */
static struct nlmsghdr *
addr_msg(char *buf, uint16_t type, uint16_t flags, const struct nn_addr *a)
{
  struct nlmsghdr *nlh = nn_nl_msg(buf, type, flags);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
  size_t len = a->family == AF_INET ? 4 : 16;
  ifa->ifa_family = (unsigned char)a->family;
  ifa->ifa_prefixlen = (unsigned char)a->prefix;
  ifa->ifa_scope = a->scope;
  ifa->ifa_index = (unsigned)a->index;
  mnl_attr_put(nlh, IFA_LOCAL, len, a->addr);
  mnl_attr_put(nlh, IFA_ADDRESS, len, a->addr);
  return nlh;
}

int
nn_addr_add(struct nn_nl *nl, const struct nn_addr *a, struct silo_error *err)
{
  char buf[512];
  struct nlmsghdr *nlh = addr_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, a);
  if (a->flags) {
    /* IFA_F_NODAD and friends: the 8-bit ifa_flags plus IFA_FLAGS for all 32. */
    struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    ifa->ifa_flags = (unsigned char)a->flags;
    mnl_attr_put_u32(nlh, IFA_FLAGS, a->flags);
  }
  if (a->family == AF_INET && a->prefix < 31) {
    uint32_t ip;
    memcpy(&ip, a->addr, 4);
    uint32_t bc = htonl(ntohl(ip) | ~nn_mask(a->prefix));
    mnl_attr_put(nlh, IFA_BROADCAST, 4, &bc);
  }
  if (talk(nl, nlh, NULL, NULL) < 0 && errno != EEXIST) {
    char s[INET6_ADDRSTRLEN];
    inet_ntop(a->family, a->addr, s, sizeof s);
    return silo_err(err, errno, "add address %s/%u to interface %d", s, a->prefix, a->index);
  }
  return 0;
}

int
nn_addr_del(struct nn_nl *nl, const struct nn_addr *a, struct silo_error *err)
{
  char buf[512];
  struct nlmsghdr *nlh = addr_msg(buf, RTM_DELADDR, 0, a);
  if (talk(nl, nlh, NULL, NULL) < 0 && errno != EADDRNOTAVAIL && errno != ENODEV) {
    char s[INET6_ADDRSTRLEN];
    inet_ntop(a->family, a->addr, s, sizeof s);
    return silo_err(err, errno, "delete address %s/%u of interface %d", s, a->prefix, a->index);
  }
  return 0;
}

/* ---- routes ---- */

static int
route_add_default(struct nn_nl *nl, int family, const void *gw, int oif)
{
  char buf[512];
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = (unsigned char)family;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? 4 : 16, gw);
  mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
  return talk(nl, nlh, NULL, NULL) < 0 && errno != EEXIST ? -1 : 0;
}

int
nn_route_add_default(struct nn_nl *nl, uint32_t gateway, int oif, struct silo_error *err)
{
  uint32_t gw = htonl(gateway);
  if (route_add_default(nl, AF_INET, &gw, oif) < 0) {
    char g[16];
    return silo_err(err, errno, "add default route via %s", nn_ip_str(gateway, g));
  }
  return 0;
}

int
nn_route_add_default6(struct nn_nl *nl, const struct in6_addr *gateway, int oif,
                      struct silo_error *err)
{
  if (route_add_default(nl, AF_INET6, gateway, oif) < 0) {
    char g[NN_IP6_STRLEN];
    return silo_err(err, errno, "add IPv6 default route via %s", nn_ip6_str(gateway, g));
  }
  return 0;
}

struct route_query {
  struct nn_hostnet *v;
  size_t n;
  const struct nn_link *links;
  size_t n_links;
};

static void
name_of(const struct route_query *q, int index, char out[NN_IFNAMSIZ])
{
  out[0] = '\0';
  for (size_t i = 0; i < q->n_links; i++)
    if (q->links[i].index == index) snprintf(out, NN_IFNAMSIZ, "%s", q->links[i].name);
}

static int
route_cb(const struct nlmsghdr *nlh, void *data)
{
  struct route_query *q = data;
  const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
  const struct nlattr *tb[RTA_MAX + 1] = {0};
  struct attrs t = {tb, RTA_MAX};
  mnl_attr_parse(nlh, sizeof *rtm, attr_cb, &t);
  uint32_t table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
  if (rtm->rtm_family != AF_INET || table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST ||
      rtm->rtm_dst_len == 0 || !tb[RTA_DST])
    return MNL_CB_OK;
  struct nn_hostnet h = {.net.prefix = rtm->rtm_dst_len};
  uint32_t dst;
  memcpy(&dst, mnl_attr_get_payload(tb[RTA_DST]), 4);
  h.net.net = ntohl(dst) & nn_mask(h.net.prefix);
  if (tb[RTA_OIF]) name_of(q, (int)mnl_attr_get_u32(tb[RTA_OIF]), h.dev);
  q->v = xrealloc(q->v, (q->n + 1) * sizeof *q->v);
  q->v[q->n++] = h;
  return MNL_CB_OK;
}

int
nn_host_nets(struct nn_nl *nl, struct nn_hostnet **out, size_t *n, struct silo_error *err)
{
  _cleanup_free_ struct nn_link *links = NULL;
  _cleanup_free_ struct nn_addr *addrs = NULL;
  size_t nl_links = 0, n_addrs = 0;
  if (nn_link_list(nl, &links, &nl_links, err) < 0) return -1;
  if (nn_addr_list(nl, 0, AF_INET, &addrs, &n_addrs, err) < 0) return -1;
  struct route_query q = {.links = links, .n_links = nl_links};
  for (size_t i = 0; i < n_addrs; i++) {
    uint32_t ip;
    memcpy(&ip, addrs[i].addr, 4);
    struct nn_hostnet h = {.net = {ntohl(ip) & nn_mask(addrs[i].prefix), addrs[i].prefix},
                           .is_addr = true};
    name_of(&q, addrs[i].index, h.dev);
    q.v = xrealloc(q.v, (q.n + 1) * sizeof *q.v);
    q.v[q.n++] = h;
  }
  char buf[256];
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_GETROUTE, NLM_F_DUMP);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  if (talk(nl, nlh, route_cb, &q) < 0) {
    free(q.v);
    return silo_err(err, errno, "list routes");
  }
  *out = q.v;
  *n = q.n;
  return 0;
}

/* ---- the same for IPv6 ---- */

struct route6_query {
  struct nn_hostnet6 *v;
  size_t n;
  const struct route_query *names;
};

static int
route6_cb(const struct nlmsghdr *nlh, void *data)
{
  struct route6_query *q = data;
  const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
  const struct nlattr *tb[RTA_MAX + 1] = {0};
  struct attrs t = {tb, RTA_MAX};
  mnl_attr_parse(nlh, sizeof *rtm, attr_cb, &t);
  uint32_t table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
  if (rtm->rtm_family != AF_INET6 || table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST ||
      rtm->rtm_dst_len == 0 || !tb[RTA_DST] || mnl_attr_get_payload_len(tb[RTA_DST]) < 16)
    return MNL_CB_OK;
  struct nn_hostnet6 h = {.net.prefix = rtm->rtm_dst_len};
  struct in6_addr dst;
  memcpy(&dst, mnl_attr_get_payload(tb[RTA_DST]), 16);
  h.net.net = nn_ip6_masked(&dst, h.net.prefix);
  if (tb[RTA_OIF]) name_of(q->names, (int)mnl_attr_get_u32(tb[RTA_OIF]), h.dev);
  q->v = xrealloc(q->v, (q->n + 1) * sizeof *q->v);
  q->v[q->n++] = h;
  return MNL_CB_OK;
}

int
nn_host_nets6(struct nn_nl *nl, struct nn_hostnet6 **out, size_t *n, struct silo_error *err)
{
  _cleanup_free_ struct nn_link *links = NULL;
  _cleanup_free_ struct nn_addr *addrs = NULL;
  size_t nl_links = 0, n_addrs = 0;
  if (nn_link_list(nl, &links, &nl_links, err) < 0) return -1;
  if (nn_addr_list(nl, 0, AF_INET6, &addrs, &n_addrs, err) < 0) return -1;
  struct route_query names = {.links = links, .n_links = nl_links};
  struct route6_query q = {.names = &names};
  for (size_t i = 0; i < n_addrs; i++) {
    struct in6_addr ip;
    memcpy(&ip, addrs[i].addr, 16);
    struct nn_hostnet6 h = {.net = {nn_ip6_masked(&ip, addrs[i].prefix), addrs[i].prefix},
                            .is_addr = true};
    name_of(&names, addrs[i].index, h.dev);
    q.v = xrealloc(q.v, (q.n + 1) * sizeof *q.v);
    q.v[q.n++] = h;
  }
  char buf[256];
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_GETROUTE, NLM_F_DUMP);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET6;
  if (talk(nl, nlh, route6_cb, &q) < 0) {
    free(q.v);
    return silo_err(err, errno, "list IPv6 routes");
  }
  *out = q.v;
  *n = q.n;
  return 0;
}

/* A request of another file of netns/ (vxlan.c), acknowledged; -1 with errno. */
int
nn_nl_talk(struct nn_nl *nl, struct nlmsghdr *nlh)
{
  return talk(nl, nlh, NULL, NULL);
}
