/* silo netns: a container's addresses announced from where it now runs — a
 * gratuitous ARP (IPv4) and an unsolicited neighbour advertisement to all nodes
 * (IPv6), sent from inside its network namespace on eth0, as a VM's move is
 * announced: the switches (the bridges, the VXLAN's learnt entries) and the
 * neighbours' caches learn the new way to the same MAC at once, instead of when
 * their entries age out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns/netns.h"

size_t
nn_garp_frame(const uint8_t mac[6], uint32_t ip, uint8_t out[NN_GARP_LEN])
{
  uint32_t be = htonl(ip);
  memset(out, 0xff, 6); /* to every host of the link */
  memcpy(out + 6, mac, 6);
  out[12] = 0x08, out[13] = 0x06; /* ARP */
  uint8_t *a = out + 14;
  a[0] = 0, a[1] = 1;       /* Ethernet */
  a[2] = 0x08, a[3] = 0x00; /* IPv4 */
  a[4] = 6, a[5] = 4;
  a[6] = 0, a[7] = 1; /* request: what every stack accepts to update its cache */
  memcpy(a + 8, mac, 6);
  memcpy(a + 14, &be, 4);
  memset(a + 18, 0, 6);
  memcpy(a + 24, &be, 4); /* target = sender: gratuitous */
  return NN_GARP_LEN;
}

size_t
nn_unsol_na(const uint8_t mac[6], const struct in6_addr *ip, uint8_t out[NN_NA_LEN])
{
  memset(out, 0, NN_NA_LEN);
  out[0] = ND_NEIGHBOR_ADVERT;
  /* the checksum (bytes 2-3) is the kernel's for a raw ICMPv6 socket */
  out[4] = 0x20; /* override, not solicited, not a router */
  memcpy(out + 8, ip, 16);
  out[24] = ND_OPT_TARGET_LINKADDR;
  out[25] = 1; /* 8 bytes */
  memcpy(out + 26, mac, 6);
  return NN_NA_LEN;
}

/* Sockets of the container's namespace: made there, then back (as nn_nl_open). */
static int
in_netns(int netns_fd, int (*fn)(void *arg, struct silo_error *err), void *arg,
         struct silo_error *err)
{
  _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return silo_err(err, errno, "open /proc/self/ns/net");
  if (setns(netns_fd, CLONE_NEWNET) < 0)
    return silo_err(err, errno, "enter the container's network namespace");
  int r = fn(arg, err);
  if (setns(self, CLONE_NEWNET) < 0) {
    fprintf(stderr, "silo: cannot return to the host's network namespace: %s\n", strerror(errno));
    abort();
  }
  return r;
}

struct announce {
  const char *ifname;
  int index;
  int pkt, icmp6;
};

static int
open_sockets(void *arg, struct silo_error *err)
{
  struct announce *a = arg;
  a->index = (int)if_nametoindex(a->ifname);
  if (!a->index) return silo_err(err, errno, "no `%s` in the container", a->ifname);
  a->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (a->pkt < 0) return silo_err(err, errno, "packet socket");
  a->icmp6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6); /* IPv6 may be off */
  return 0;
}

int
nn_announce(int netns_fd, const char *ifname, uint32_t ip, const struct in6_addr *ip6,
            struct silo_error *err)
{
  struct announce a = {.ifname = ifname, .pkt = -1, .icmp6 = -1};
  if (in_netns(netns_fd, open_sockets, &a, err) < 0) {
    if (a.pkt >= 0) close(a.pkt);
    return silo_err_wrap(err, "announce the container's addresses");
  }
  uint8_t mac[6];
  nn_mac_from_ip(ip, mac);
  uint8_t frame[NN_GARP_LEN];
  nn_garp_frame(mac, ip, frame);
  struct sockaddr_ll ll = {.sll_family = AF_PACKET,
                           .sll_protocol = htons(ETH_P_ARP),
                           .sll_ifindex = a.index,
                           .sll_halen = 6};
  memset(ll.sll_addr, 0xff, 6);
  int ret = 0;
  if (sendto(a.pkt, frame, sizeof frame, 0, (struct sockaddr *)&ll, sizeof ll) < 0)
    ret = silo_err(err, errno, "send a gratuitous ARP");
  close(a.pkt);
  if (ip6 && ret == 0) {
    uint8_t na[NN_NA_LEN];
    nn_unsol_na(mac, ip6, na);
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)a.index};
    inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
    int hops = 255; /* RFC 4861: receivers drop ND messages with any other hop limit */
    if (a.icmp6 < 0 ||
        setsockopt(a.icmp6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) < 0 ||
        setsockopt(a.icmp6, IPPROTO_IPV6, IPV6_MULTICAST_IF, &a.index, sizeof a.index) < 0 ||
        sendto(a.icmp6, na, sizeof na, 0, (struct sockaddr *)&to, sizeof to) < 0)
      ret = silo_err(err, errno, "send a neighbour advertisement");
  }
  if (a.icmp6 >= 0) close(a.icmp6);
  return ret < 0 ? silo_err_wrap(err, "announce the container's addresses") : 0;
}
