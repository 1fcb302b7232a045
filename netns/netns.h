/* silo netns/: networking of silo's own for standalone containers (see
 * silo-network(7)).  The whole API of the module; lib/network/network.c is its only user.
 *
 *   addr.c    IPv4 addresses and subnets, overlap checks, names, published ports
 *   addr6.c   IPv6 prefixes: parsing, overlap checks, the default ULA /64
 *   ipam.c    the lease store <root>/.network/leases.json (flock'ed)
 *   ipam6.c   IPv6 addresses in the same leases
 *   roots.c   the host's list of state roots, whose leases every allocation sees
 *   nl.c      rtnetlink through libmnl: links, addresses, routes
 *   attach.c  bridge + veth + addresses inside the container; netDevices; sysctls
 *   nft.c     NAT and published ports in `table ip silo` and `table ip6 silo`
 *             (libnftables)
 *   files.c   generated /etc/hosts and /etc/resolv.conf; network.json
 *   vxlan.c   a network spanning hosts: the bridges joined by a VXLAN, peers' FDB
 *   adopt.c   a migrated container's lease, checked and taken into the store
 *   announce.c gratuitous ARP / unsolicited neighbour advertisement after a move
 *
 * Like oci/ and cgroup/ it depends only on lib/base/error.h.  IPv4 addresses are
 * uint32_t in host byte order, IPv6 ones struct in6_addr (network order).  silo
 * is single-threaded: nn_nl_open and nn_netns_sysctl_set may setns() into a
 * container's network namespace for a moment (a socket or an open /proc/sys file
 * stays bound to the namespace it was opened in).
 */
#ifndef SILO_NETNS_H
#define SILO_NETNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

#define NN_IFNAMSIZ       16 /* IFNAMSIZ: 15 characters and the NUL */
#define NN_DEFAULT_BRIDGE "silo0"
#define NN_DEFAULT_MTU    1500
#define NN_TABLE          "silo" /* nftables: table ip silo, table ip6 silo */
#define NN_BRIDGE_ALIAS   "silo" /* ifalias of the bridges silo made (and may remove) */
#define NN_KEY_MAX        128    /* nft comments: 128 bytes at most */
#define NN_STORE_DIR      ".network"
#define NN_STORE_LEASES   "leases.json" /* in NN_STORE_DIR */
#define NN_STORE_MAX      (64 << 20)    /* bytes: a bigger leases.json is refused */

/* ---- addr.c ---- */
struct nn_subnet {
  uint32_t net; /* network address (host bits zero) */
  unsigned prefix;
};
/* Dotted quad -> address; -1 when not one. */
int nn_ip_parse(const char *s, uint32_t *ip);
const char *nn_ip_str(uint32_t ip, char buf[16]);
/* "A.B.C.D/N" with 8 <= N <= 30 and no host bits set. */
int nn_subnet_parse(const char *s, struct nn_subnet *out, struct silo_error *err);
const char *nn_subnet_str(const struct nn_subnet *s, char buf[20]);
uint32_t nn_mask(unsigned prefix);
bool nn_subnet_contains(const struct nn_subnet *s, uint32_t ip);
bool nn_subnet_overlap(const struct nn_subnet *a, const struct nn_subnet *b);
/* The gateway is the first host of the subnet (the bridge's address). */
uint32_t nn_gateway(const struct nn_subnet *s);
uint32_t nn_broadcast(const struct nn_subnet *s);

/* A network the host already reaches: a route of the main table or an address. */
struct nn_hostnet {
  struct nn_subnet net;
  char dev[NN_IFNAMSIZ];
  bool is_addr;
};
/* The first entry that overlaps s (entries on device ignore_dev do not count). */
const struct nn_hostnet *nn_subnet_conflict(const struct nn_subnet *s, const struct nn_hostnet *l,
                                            size_t n, const char *ignore_dev);
/* want: the requested subnet, checked against l; NULL: the first free of
 * 10.88.0.0/16, 10.89.0.0/16 ... 10.99.0.0/16. */
int nn_subnet_choose(const struct nn_subnet *want, const struct nn_hostnet *l, size_t n,
                     const char *bridge, struct nn_subnet *out, struct silo_error *err);

/* Interface names: 1-15 characters, no '/', ':', whitespace, not "." or "..". */
int nn_ifname_check(const char *name, const char *what, struct silo_error *err);
uint32_t nn_hash32(const char *s); /* FNV-1a */
/* The host end of a container's veth: "silo" + 8 hex digits of the id's hash. */
void nn_veth_name(const char *id, char out[NN_IFNAMSIZ]);
bool nn_is_veth_name(const char *name);
/* Locally administered unicast MAC from the address: 02:51:a:b:c:d. */
void nn_mac_from_ip(uint32_t ip, uint8_t mac[6]);
/* The comment that marks a container's nft rules: "silo:<id>" (long ids hashed). */
void nn_rule_key(const char *id, char out[NN_KEY_MAX]);

/* Published ports: "[IP:]HOSTPORT:CTRPORT[/tcp|udp]", IP an IPv4 address or an
 * IPv6 one in brackets ("[fd00::1]:8080:80"). */
#define NN_PORT_STRLEN 72
struct nn_port {
  uint32_t host_ip; /* 0 (and !v6): every local address, IPv4 and IPv6 */
  uint16_t host_port, ctr_port;
  uint8_t proto; /* IPPROTO_TCP / IPPROTO_UDP */
  bool v6;       /* IPv6 only: host_ip6 ("::": every local IPv6 address) */
  struct in6_addr host_ip6;
};
int nn_port_parse(const char *spec, struct nn_port *out, struct silo_error *err);
/* Comma-separated specs, appended to *out. */
int nn_ports_parse_list(const char *list, struct nn_port **out, size_t *n, struct silo_error *err);
/* Canonical form "IP:HOST:CTR/proto" or "[IP6]:HOST:CTR/proto" (the store and
 * network.json keep this). */
const char *nn_port_str(const struct nn_port *p, char buf[NN_PORT_STRLEN]);
const char *nn_proto_name(uint8_t proto);
/* Both would take the same host port (on the same address family). */
bool nn_ports_clash(const struct nn_port *a, const struct nn_port *b);

/* ---- addr6.c: IPv6 ---- */
#define NN_PREFIX6_MIN    64  /* a bridge is one link: /64 at most (SLAAC's size) */
#define NN_PREFIX6_MAX    126 /* the gateway and two containers */
#define NN_IP6_STRLEN     46  /* INET6_ADDRSTRLEN */
#define NN_SUBNET6_STRLEN 50
struct nn_subnet6 {
  struct in6_addr net; /* host bits zero */
  unsigned prefix;
};
/* Textual IPv6 address (inet_pton) -> address; -1 when not one. */
int nn_ip6_parse(const char *s, struct in6_addr *ip);
const char *nn_ip6_str(const struct in6_addr *ip, char buf[NN_IP6_STRLEN]);
bool nn_ip6_equal(const struct in6_addr *a, const struct in6_addr *b);
/* "PREFIX/N", NN_PREFIX6_MIN <= N <= NN_PREFIX6_MAX, no host bits, and a global
 * unicast (2000::/3) or unique local (fc00::/7) prefix. */
int nn_subnet6_parse(const char *s, struct nn_subnet6 *out, struct silo_error *err);
const char *nn_subnet6_str(const struct nn_subnet6 *s, char buf[NN_SUBNET6_STRLEN]);
bool nn_subnet6_equal(const struct nn_subnet6 *a, const struct nn_subnet6 *b);
bool nn_subnet6_contains(const struct nn_subnet6 *s, const struct in6_addr *ip);
bool nn_subnet6_overlap(const struct nn_subnet6 *a, const struct nn_subnet6 *b);
/* ip with the bits past prefix cleared. */
struct in6_addr nn_ip6_masked(const struct in6_addr *ip, unsigned prefix);
/* Host number n of s (n < 2^(128-prefix); s->prefix >= 64): 1 is the gateway. */
struct in6_addr nn_subnet6_host(const struct nn_subnet6 *s, uint64_t n);
uint64_t nn_subnet6_host_of(const struct nn_subnet6 *s, const struct in6_addr *ip);
uint64_t nn_subnet6_last(const struct nn_subnet6 *s); /* the highest host number */
struct in6_addr nn_gateway6(const struct nn_subnet6 *s);

/* An IPv6 network the host already reaches (main-table route or address). */
struct nn_hostnet6 {
  struct nn_subnet6 net;
  char dev[NN_IFNAMSIZ];
  bool is_addr;
};
const struct nn_hostnet6 *nn_subnet6_conflict(const struct nn_subnet6 *s,
                                              const struct nn_hostnet6 *l, size_t n,
                                              const char *ignore_dev);
/* want: checked against l; NULL: the first free of fd88:0:0:0::/64 ...
 * fd88:0:0:ff::/64. */
int nn_subnet6_choose(const struct nn_subnet6 *want, const struct nn_hostnet6 *l, size_t n,
                      const char *bridge, struct nn_subnet6 *out, struct silo_error *err);

/* ---- ipam.c: <root>/.network/leases.json, under an flock of <root>/.network/lock ---- */
struct nn_lease {
  char *id, *bridge;
  struct nn_subnet subnet;
  uint32_t ip;
  bool has_ip6; /* also an IPv6 address (nn_store_allocate6) */
  struct nn_subnet6 subnet6;
  struct in6_addr ip6;
  struct nn_port *ports;
  size_t n_ports;
  /* NULL: this root's.  Else the state root of a lease nn_store_add_foreign read:
   * it counts when addresses, subnets and host ports are chosen, and is never
   * saved, released or reclaimed here. */
  char *root;
  /* The network namespace (its nsfs inode) silo ran in when it made the lease:
   * the bridge and the host ports are that namespace's.  0: not recorded. */
  uint64_t netns;
  /* A migrated container's lease before its restore made <root>/<id>: the
   * receiver's pid (nn_store_adopt); reclaims keep it while that process lives. */
  int pending;
};
struct nn_store {
  int dirfd, lockfd;
  struct nn_lease *leases;
  size_t n;
  bool forward_changed;  /* silo set net.ipv4.ip_forward from 0 to 1 */
  bool forward6_changed; /* silo set net.ipv6.conf.all.forwarding from 0 to 1 */
  bool dirty;
  /* prefix non-zero: nn_store_allocate takes addresses of this range only (the
   * host's slice of a network that spans hosts, org.silo.network.range) */
  struct nn_subnet range;
};
/* Opens and locks the store.  No store yet and not NN_STORE_CREATE: returns 1
 * (nothing).  NN_STORE_TRY: the lock is not waited for; held elsewhere, -1 with
 * errnum EWOULDBLOCK.  NN_STORE_NOLOCK: only read, without the lock (another
 * root's store, which is replaced by rename and so always whole); never saved. */
#define NN_STORE_CREATE 1u
#define NN_STORE_TRY    2u
#define NN_STORE_NOLOCK 4u
int nn_store_open(int rootfd, unsigned flags, struct nn_store *st, struct silo_error *err);
int nn_store_save(struct nn_store *st, struct silo_error *err);
void nn_store_close(struct nn_store *st); /* unlocks; does not save */
const struct nn_lease *nn_store_find(const struct nn_store *st, const char *id);
/* Leases of containers whose <root>/<id> is gone: gone() is called for each (to
 * remove what the container left), then the lease is dropped.  netns non-zero:
 * only the leases made in that network namespace (what the others left is not in
 * this one to remove).  Returns how many. */
size_t nn_store_reclaim(struct nn_store *st, int rootfd, uint64_t netns,
                        void (*gone)(const struct nn_lease *l, void *data), void *data);
/* How many of st's leases are its root's own (not nn_store_add_foreign's). */
size_t nn_store_count_own(const struct nn_store *st);
/* The subnet the store's leases on bridge use; false when it has none. */
bool nn_store_bridge_subnet(const struct nn_store *st, const char *bridge, struct nn_subnet *out);
size_t nn_store_count(const struct nn_store *st, const char *bridge); /* NULL: all */
/* Leases the lowest free host address of s (not the network, gateway or broadcast
 * address) to id; ports must not clash with another lease's. */
int nn_store_allocate(struct nn_store *st, const char *id, const char *bridge,
                      const struct nn_subnet *s, const struct nn_port *ports, size_t n_ports,
                      uint32_t *ip, struct silo_error *err);
bool nn_store_release(struct nn_store *st, const char *id);
void nn_lease_free(struct nn_lease *l);
/* Parses leases.json text into st (adding to its leases). */
int nn_store_parse(struct nn_store *st, const char *buf, struct silo_error *err);
/* Reads dirfd/name (at most max bytes) into *out, NUL-terminated.  1: no such file. */
int nn_read_file_at(int dirfd, const char *name, size_t max, char **out, struct silo_error *err);

/* ---- adopt.c: a migrated container's lease ----
 * w (id, bridge, subnet, ip, IPv6, ports, pending) checked as hostile input and
 * added; the ports that clash with another lease's are left out (*n_dropped). */
int nn_store_adopt(struct nn_store *st, const struct nn_lease *w, size_t *n_dropped,
                   struct silo_error *err);
/* The lease's receiver still lives (it is a migration's, not yet settled). */
bool nn_lease_pending(const struct nn_lease *l);
/* The restore is done: id's lease is an ordinary one. */
bool nn_store_settle(struct nn_store *st, const char *id);

/* ---- roots.c: the host's state roots that hold leases ---- */
/* State roots share the host's bridges and ports, so each allocation must see the
 * others' leases.  Adds those of every other root in the host's list of roots
 * (NN_ROOTS_FILE) to st, with their root set (but not the leases made in another
 * network namespace: other bridges, other ports), drops roots that have none left,
 * and lists rootfd's root.  Under nn_host_net_lock, which every allocation holds: no
 * other root's store changes but by a release, which only frees what was read. */
#define NN_ROOTS_FILE "/run/silo-network-roots"
/* gone non-NULL: first, each other root whose store is not locked at the moment
 * has its dead leases made in this network namespace reclaimed (nn_store_reclaim,
 * saved in its store), as its own next allocation would: a container that vanished
 * without a delete no longer holds its address and ports against every root. */
int nn_store_add_foreign(struct nn_store *st, int rootfd,
                         void (*gone)(const struct nn_lease *l, void *data), void *data,
                         struct silo_error *err);
/* Takes rootfd's root off the list (its last lease is gone; under nn_host_net_lock). */
int nn_roots_forget(int rootfd, struct silo_error *err);

/* ---- ipam6.c: IPv6 in the same leases ---- */
/* The IPv6 subnet of bridge's leases that have one; false when none has. */
bool nn_store_bridge_subnet6(const struct nn_store *st, const char *bridge, struct nn_subnet6 *out);
size_t nn_store_count6(const struct nn_store *st, const char *bridge); /* NULL: all */
/* Adds the lowest free host address of s (after the gateway) to id's lease, made
 * by nn_store_allocate just before.  One IPv6 subnet per bridge; bridges' IPv6
 * subnets may not overlap. */
int nn_store_allocate6(struct nn_store *st, const char *id, const struct nn_subnet6 *s,
                       struct in6_addr *ip, struct silo_error *err);

/* ---- nl.c: rtnetlink ---- */
struct nn_nl;
/* A socket in the network namespace netns_fd (-1: silo's own). */
struct nn_nl *nn_nl_open(int netns_fd, struct silo_error *err);
void nn_nl_close(struct nn_nl *nl);

struct nn_link {
  int index, master, mtu;
  unsigned flags; /* IFF_* */
  char name[NN_IFNAMSIZ], kind[32], alias[64];
};
/* 0: found; 1: no such link; -1: error. */
int nn_link_get(struct nn_nl *nl, const char *name, struct nn_link *out, struct silo_error *err);
int nn_link_list(struct nn_nl *nl, struct nn_link **out, size_t *n, struct silo_error *err);
int nn_bridge_add(struct nn_nl *nl, const char *name, int mtu, struct silo_error *err);
/* A veth pair: name here, attached to master (0: none); peer created directly in
 * peer_netns_fd with that name, mtu and mac. */
int nn_veth_add(struct nn_nl *nl, const char *name, int master, int mtu, const char *peer,
                int peer_netns_fd, const uint8_t peer_mac[6], struct silo_error *err);
/* Changes of one link; fields left at their zero value are not touched. */
struct nn_link_change {
  bool up, down;
  const char *name;   /* rename */
  const char *alias;  /* ifalias */
  const uint8_t *mac; /* 6 bytes */
  int netns_fd;       /* > 0: move into that namespace */
};
int nn_link_set(struct nn_nl *nl, int index, const struct nn_link_change *ch,
                struct silo_error *err);
/* Deleting a missing link is not an error. */
int nn_link_del(struct nn_nl *nl, int index, struct silo_error *err);
/* `lo` of the current network namespace up (as every namespace of the container's
 * own gets it): 0 done; 1 there is no `lo`; -1 error. */
int nn_loopback_up(struct silo_error *err);

struct nn_addr {
  int family; /* AF_INET / AF_INET6 */
  uint8_t addr[16];
  unsigned prefix;
  unsigned char scope;
  int index;
  unsigned flags; /* IFA_F_* to add with (IFA_F_NODAD) */
};
/* index 0: every link; family AF_UNSPEC: both. */
int nn_addr_list(struct nn_nl *nl, int index, int family, struct nn_addr **out, size_t *n,
                 struct silo_error *err);
/* An address already there is not an error. */
int nn_addr_add(struct nn_nl *nl, const struct nn_addr *a, struct silo_error *err);
/* A missing address (or link) is not an error. */
int nn_addr_del(struct nn_nl *nl, const struct nn_addr *a, struct silo_error *err);
int nn_route_add_default(struct nn_nl *nl, uint32_t gateway, int oif, struct silo_error *err);
int nn_route_add_default6(struct nn_nl *nl, const struct in6_addr *gateway, int oif,
                          struct silo_error *err);
/* The host's IPv4 networks: addresses, and unicast routes of the main table other
 * than the default route. */
int nn_host_nets(struct nn_nl *nl, struct nn_hostnet **out, size_t *n, struct silo_error *err);
/* The same for IPv6 (link-local ones included: they never overlap a valid subnet6). */
int nn_host_nets6(struct nn_nl *nl, struct nn_hostnet6 **out, size_t *n, struct silo_error *err);

/* Requests built by other files of netns/ (vxlan.c) and sent by nn_nl_talk,
 * acknowledged: -1 with errno on failure. nn_nl_msg: a request header of type
 * and flags (NLM_F_REQUEST added). nn_nl_newlink: an RTM_NEWLINK creating `name`
 * of `kind` (mtu, master: left out when 0), its IFLA_LINKINFO nest left open in
 * *info for the kind's data: the caller ends it with mnl_attr_nest_end. */
struct nlmsghdr;
struct nlattr;
struct nlmsghdr *nn_nl_msg(char *buf, uint16_t type, uint16_t flags);
struct nlmsghdr *nn_nl_newlink(char *buf, const char *name, const char *kind, int master, int mtu,
                               struct nlattr **info);
int nn_nl_talk(struct nn_nl *nl, struct nlmsghdr *nlh);

/* ---- vxlan.c: a network spanning hosts ---- */
#define NN_VXLAN_PORT      4789 /* IANA */
#define NN_VXLAN_VNI_MAX   16777215u
#define NN_VXLAN_PEERS_MAX 64u
struct nn_vxlan {
  uint32_t vni;
  uint32_t *peers; /* the hosts' underlay IPv4 addresses (this one's is skipped) */
  size_t n_peers;
};
/* vni: decimal 1..2^24-1; peers: comma-separated unicast IPv4 addresses. */
int nn_vxlan_parse(const char *vni, const char *peers, struct nn_vxlan *out,
                   struct silo_error *err);
void nn_vxlan_free(struct nn_vxlan *v);
void nn_vxlan_name(uint32_t vni, char out[NN_IFNAMSIZ]); /* "silovx<vni>" */
/* The VXLAN device silovx<vni> on the bridge (made with alias NN_BRIDGE_ALIAS
 * and mtu when missing), up, with an all-zero FDB entry for each peer that is
 * not one of this host's addresses. */
int nn_vxlan_ensure(struct nn_nl *nl, const struct nn_vxlan *v, int bridge_index, int mtu,
                    struct silo_error *err);
/* Appends the all-zero FDB entry "flood to dst" on the VXLAN device index. */
int nn_fdb_append(struct nn_nl *nl, int index, uint32_t dst, struct silo_error *err);

/* ---- announce.c ---- */
#define NN_GARP_LEN 42 /* Ethernet header + ARP */
#define NN_NA_LEN   32 /* ICMPv6 neighbour advertisement + target link-layer option */
size_t nn_garp_frame(const uint8_t mac[6], uint32_t ip, uint8_t out[NN_GARP_LEN]);
size_t nn_unsol_na(const uint8_t mac[6], const struct in6_addr *ip, uint8_t out[NN_NA_LEN]);
/* From inside netns_fd, on ifname: a gratuitous ARP for ip (MAC nn_mac_from_ip)
 * and, ip6 non-NULL, an unsolicited neighbour advertisement to ff02::1. */
int nn_announce(int netns_fd, const char *ifname, uint32_t ip, const struct in6_addr *ip6,
                struct silo_error *err);

/* ---- attach.c ---- */
/* The bridge name with its gateway address, up; created (with alias NN_BRIDGE_ALIAS)
 * when missing.  *mtu gets its MTU. */
int nn_bridge_ensure(struct nn_nl *nl, const char *name, const struct nn_subnet *s, int *index,
                     int *mtu, bool *created, struct silo_error *err);
/* Removes the bridge if silo made it and no interface is attached to it. */
void nn_bridge_release(struct nn_nl *nl, const char *name);
/* IPv6 on the bridge (up, made by nn_bridge_ensure): the gateway of s, without
 * duplicate address detection. */
int nn_bridge_ensure6(struct nn_nl *nl, const char *name, int index, const struct nn_subnet6 *s,
                      struct silo_error *err);
/* Removes the gateway of s from the bridge if silo made the bridge. */
void nn_bridge_release6(struct nn_nl *nl, const char *name, const struct nn_subnet6 *s);
/* The container's side: veth host <-> eth0 in netns_fd, address, routes, lo up. */
struct nn_endpoint {
  const char *veth, *bridge;
  struct nn_subnet subnet;
  uint32_t ip;
  bool has_ip6;
  struct nn_subnet6 subnet6;
  struct in6_addr ip6;
  int netns_fd;
};
int nn_endpoint_create(struct nn_nl *host, const struct nn_endpoint *e, struct silo_error *err);
/* Deletes the host end (and so the pair) if it is still there. */
void nn_endpoint_remove(struct nn_nl *host, const char *veth);
/* Any veth named like silo's left on the host. */
bool nn_any_silo_veth(struct nn_nl *host);

/* linux.netDevices: a host interface lent to the container. */
struct nn_netdev {
  char host_name[NN_IFNAMSIZ], name[NN_IFNAMSIZ];
  struct nn_addr *addrs; /* read before the move, re-added after each move */
  size_t n_addrs;
  bool up;
  bool moved;
};
/* Reads d->host_name's addresses into d, moves it into netns_fd as d->name. */
int nn_netdev_move_in(struct nn_nl *host, int netns_fd, struct nn_netdev *d,
                      struct silo_error *err);
/* Moves d->name from netns_fd back to the host as d->host_name, addresses restored. */
int nn_netdev_move_out(int netns_fd, const struct nn_netdev *d, struct silo_error *err);

/* /proc/sys/<key> ("net/ipv4/ip_forward") of silo's network namespace. */
int nn_sysctl_get(const char *key, char *buf, size_t len);
int nn_sysctl_set(const char *key, const char *value, struct silo_error *err);
/* Takes the host-wide lock (/run/silo-network.lock; an fd to close) under which
 * silo creates and removes shared bridges, turns forwarding on and off and leases
 * addresses: held from the bridge's creation until the container's veth is on it,
 * and from the look for other users until the bridge is gone and forwarding off. */
int nn_host_net_lock(struct silo_error *err);
/* The network namespace silo runs in, by its nsfs inode (0: unknown). */
uint64_t nn_netns_self(void);
/* Whether silo turned the forwarding switch of family ("ipv4", "ipv6") on in this
 * network namespace, for its containers of every state root; and recording it
 * (/run/silo-forwarding, under the lock above). */
bool nn_forward_marked(const char *family);
int nn_forward_mark(const char *family, bool on, struct silo_error *err);
/* The same in the network namespace netns_fd (a container's). */
int nn_netns_sysctl_set(int netns_fd, const char *key, const char *value, struct silo_error *err);

/* ---- nft.c ---- */
struct nn_nft_rules {
  const char *key, *bridge;
  struct nn_subnet subnet;
  uint32_t ip;
  bool has_ip6; /* also NAT66 and IPv6 DNAT in table ip6 silo */
  struct nn_subnet6 subnet6;
  struct in6_addr ip6;
  const struct nn_port *ports;
  size_t n_ports;
};
/* The nft script adding the tables, their chains and the container's rules. */
char *nn_nft_script(const struct nn_nft_rules *r);
int nn_nft_add(const struct nn_nft_rules *r, struct silo_error *err);
/* Deletes the rules commented key in both tables; a table goes with its last rule. */
int nn_nft_remove(const char *key, struct silo_error *err);

/* ---- files.c ---- */
/* /etc/hosts: localhost lines and "ip hostname" (and "ip6 hostname" unless ip6 is
 * NULL). */
char *nn_hosts_content(const char *hostname, uint32_t ip, const struct in6_addr *ip6);
/* /etc/resolv.conf from the host's: search/options kept, loopback nameservers
 * (127.x, ::1) dropped; fallback (systemd-resolved's upstream list) is used when
 * nothing else is left; else a comment says why there is no nameserver. */
char *nn_resolv_content(const char *host, const char *fallback);

/* <state>/network.json: what silo made for a container, for teardown. */
struct nn_record {
  bool bridge;
  char bridge_name[NN_IFNAMSIZ], veth[NN_IFNAMSIZ];
  char key[NN_KEY_MAX];
  struct nn_subnet subnet;
  uint32_t ip;
  bool has_ip6;
  struct nn_subnet6 subnet6;
  struct in6_addr ip6;
  struct nn_port *ports;
  size_t n_ports;
  bool pinned; /* <state>/netns holds the namespace (a bind mount) */
  struct nn_netdev *devs;
  size_t n_devs;
};
int nn_record_write(int dirfd, const struct nn_record *r, struct silo_error *err);
/* 1: no network.json. */
int nn_record_read(int dirfd, struct nn_record *r, struct silo_error *err);
void nn_record_free(struct nn_record *r);
/* The record's veth pair (its container end moved into netns_fd) and nft rules:
 * they point into r, which must outlive them. */
struct nn_endpoint nn_record_endpoint(const struct nn_record *r, int netns_fd);
struct nn_nft_rules nn_record_rules(const struct nn_record *r);

#endif
