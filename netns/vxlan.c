/* silo netns: a network that spans hosts — the bridges of the hosts that carry it
 * joined by an in-kernel VXLAN device (rtnetlink through libmnl, as nl.c), with
 * one all-zero forwarding entry per peer (head-end replication of broadcasts;
 * unicast destinations are learnt from what arrives).
 *
 * Configured by the annotations org.silo.network.vxlan (the VNI) and
 * org.silo.network.vxlan.peers (the hosts' underlay addresses); every host gets
 * the same list, and its own addresses in it are skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "netns/netns.h"

void
nn_vxlan_free(struct nn_vxlan *v)
{
  free(v->peers);
  v->peers = NULL;
  v->n_peers = 0;
}

int
nn_vxlan_parse(const char *vni, const char *peers, struct nn_vxlan *out, struct silo_error *err)
{
  memset(out, 0, sizeof *out);
  char *end;
  errno = 0;
  unsigned long v = vni ? strtoul(vni, &end, 10) : 0;
  if (!vni || !vni[0] || *end || errno || v < 1 || v > NN_VXLAN_VNI_MAX)
    return silo_err(err, EINVAL, "VNI `%s`: not a number from 1 to %u", vni ? vni : "",
                    NN_VXLAN_VNI_MAX);
  out->vni = (uint32_t)v;
  if (!peers || !peers[0])
    return silo_err(err, EINVAL, "a VXLAN needs its peers (the hosts' addresses)");
  _cleanup_free_ char *copy = xstrdup(peers);
  char *save = NULL;
  for (char *p = strtok_r(copy, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
    uint32_t ip;
    if (nn_ip_parse(p, &ip) < 0 || ip == 0 || (ip >> 24) == 127 || (ip >> 28) >= 14) {
      nn_vxlan_free(out);
      return silo_err(err, EINVAL, "peer `%s`: not a unicast IPv4 address", p);
    }
    if (out->n_peers >= NN_VXLAN_PEERS_MAX) {
      nn_vxlan_free(out);
      return silo_err(err, EINVAL, "more than %u peers", NN_VXLAN_PEERS_MAX);
    }
    out->peers = xrealloc(out->peers, (out->n_peers + 1) * sizeof *out->peers);
    out->peers[out->n_peers++] = ip;
  }
  if (!out->n_peers) return silo_err(err, EINVAL, "a VXLAN needs its peers (the hosts' addresses)");
  return 0;
}

void
nn_vxlan_name(uint32_t vni, char out[NN_IFNAMSIZ])
{
  snprintf(out, NN_IFNAMSIZ, "silovx%u", vni);
}

static int
vxlan_add(struct nn_nl *nl, const char *name, uint32_t vni, int master, int mtu,
          struct silo_error *err)
{
  char buf[1024];
  struct nlattr *info;
  struct nlmsghdr *nlh = nn_nl_newlink(buf, name, "vxlan", master, mtu, &info);
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, vni);
  mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(NN_VXLAN_PORT));
  mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 1);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  if (nn_nl_talk(nl, nlh) < 0) return silo_err(err, errno, "create VXLAN `%s`", name);
  return 0;
}

int
nn_fdb_append(struct nn_nl *nl, int index, uint32_t dst, struct silo_error *err)
{
  char buf[512];
  struct nlmsghdr *nlh = nn_nl_msg(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND);
  struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof *nd);
  nd->ndm_family = AF_BRIDGE;
  nd->ndm_ifindex = index;
  nd->ndm_state = NUD_PERMANENT | NUD_NOARP;
  nd->ndm_flags = NTF_SELF;
  static const uint8_t zero[6];
  mnl_attr_put(nlh, NDA_LLADDR, sizeof zero, zero);
  uint32_t be = htonl(dst);
  mnl_attr_put(nlh, NDA_DST, sizeof be, &be);
  if (nn_nl_talk(nl, nlh) < 0 && errno != EEXIST) {
    char ip[16];
    return silo_err(err, errno, "forwarding entry for peer %s", nn_ip_str(dst, ip));
  }
  return 0;
}

static bool
local_address(const struct nn_addr *a, size_t n, uint32_t ip)
{
  for (size_t i = 0; i < n; i++) {
    uint32_t v;
    memcpy(&v, a[i].addr, 4);
    if (a[i].family == AF_INET && ntohl(v) == ip) return true;
  }
  return false;
}

int
nn_vxlan_ensure(struct nn_nl *nl, const struct nn_vxlan *v, int bridge_index, int mtu,
                struct silo_error *err)
{
  char name[NN_IFNAMSIZ];
  nn_vxlan_name(v->vni, name);
  struct nn_link l;
  int r = nn_link_get(nl, name, &l, err);
  if (r < 0) return -1;
  if (r == 1) {
    if (vxlan_add(nl, name, v->vni, bridge_index, mtu, err) < 0 && err->errnum != EEXIST)
      return -1; /* EEXIST: made meanwhile by another silo */
    silo_err_clear(err);
    if ((r = nn_link_get(nl, name, &l, err)) != 0)
      return r < 0 ? -1 : silo_err(err, ENODEV, "VXLAN `%s` vanished after its creation", name);
    struct nn_link_change ch = {.alias = NN_BRIDGE_ALIAS};
    if (nn_link_set(nl, l.index, &ch, err) < 0) return silo_err_wrap(err, "VXLAN `%s`", name);
  }
  if (strcmp(l.kind, "vxlan") != 0)
    return silo_err(err, EINVAL, "`%s` exists and is not a VXLAN", name);
  if (l.master != bridge_index)
    return silo_err(err, EBUSY, "VXLAN `%s` is attached to another bridge", name);
  _cleanup_free_ struct nn_addr *addrs = NULL;
  size_t n = 0;
  if (nn_addr_list(nl, 0, AF_INET, &addrs, &n, err) < 0) return -1;
  /* Every peer but this host itself: its broadcasts are copied to each of them. */
  for (size_t i = 0; i < v->n_peers; i++)
    if (!local_address(addrs, n, v->peers[i]) && nn_fdb_append(nl, l.index, v->peers[i], err) < 0)
      return silo_err_wrap(err, "VXLAN `%s`", name);
  if (!(l.flags & 1 /* IFF_UP */)) {
    struct nn_link_change up = {.up = true};
    if (nn_link_set(nl, l.index, &up, err) < 0) return silo_err_wrap(err, "VXLAN `%s`", name);
  }
  return 0;
}
