/* silo netns: plugging a container in — the bridge, the veth pair, the addresses and
 * routes inside the container's namespace, and the host devices of linux.netDevices.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "netns/netns.h"

int
nn_sysctl_get(const char *key, char *buf, size_t len)
{
  char path[256];
  snprintf(path, sizeof path, "/proc/sys/%s", key);
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  if (n < 0) return -1;
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
  return 0;
}

int
nn_sysctl_set(const char *key, const char *value, struct silo_error *err)
{
  char path[256];
  snprintf(path, sizeof path, "/proc/sys/%s", key);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "open %s", path);
  size_t len = strlen(value);
  if (write(fd, value, len) != (ssize_t)len) return silo_err(err, errno, "write %s", path);
  return 0;
}

#define NET_LOCK         "/run/silo-network.lock"
#define FORWARD_MARK     "/run/silo-forwarding"
#define FORWARD_MARK_MAX (1 << 16) /* bytes: a line per namespace and family */

int
nn_host_net_lock(struct silo_error *err)
{
  /* Containers of every state root (silo's own, Podman's, a second --root) share
   * the host's bridges and forwarding switches, so "create the bridge, turn
   * forwarding on, plug the veth in" and "nobody uses it any more: remove the
   * bridge, turn forwarding off" must not interleave between roots: one root's
   * teardown while another's container is between its look at the bridge or the
   * switch and the creation of its veth would leave that container without a
   * bridge or without forwarding.  A file of /run rather than anything of one
   * network namespace: the lists in /run (state roots, forwarding marks) are
   * shared by silos running in every namespace. */
  int fd = open(NET_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return silo_err(err, errno, "open " NET_LOCK);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) {
      int e = errno;
      close(fd);
      return silo_err(err, e, "lock " NET_LOCK);
    }
  return fd;
}

/* Which forwarding switches silo turned on, for the network namespace rather than
 * per state root: the root whose container turned a switch on may not be the root
 * of the last container to leave.  Lines "FAMILY NETNS" (the namespace's nsfs
 * inode); a line without NETNS, from an older silo, stands for any namespace.
 * Read and written under nn_host_net_lock. */
static bool
mark_is(const char *line, const char *family, uint64_t ns)
{
  char fam[8];
  unsigned long long ino = 0;
  int k = sscanf(line, "%7s %llu", fam, &ino);
  return k >= 1 && strcmp(fam, family) == 0 && (k < 2 || ino == ns);
}

bool
nn_forward_marked(const char *family)
{
  struct silo_error e = {0};
  _cleanup_free_ char *buf = NULL;
  if (nn_read_file_at(AT_FDCWD, FORWARD_MARK, FORWARD_MARK_MAX, &buf, &e) != 0) return false;
  uint64_t ns = nn_netns_self();
  for (char *save = NULL, *w = strtok_r(buf, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
    if (mark_is(w, family, ns)) return true;
  return false;
}

int
nn_forward_mark(const char *family, bool on, struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL;
  if (nn_read_file_at(AT_FDCWD, FORWARD_MARK, FORWARD_MARK_MAX, &buf, err) < 0) return -1;
  uint64_t ns = nn_netns_self();
  size_t cap = (buf ? strlen(buf) : 0) + 64, len = 0;
  _cleanup_free_ char *out = xmalloc(cap);
  out[0] = '\0';
  for (char *save = NULL, *w = buf ? strtok_r(buf, "\n", &save) : NULL; w;
       w = strtok_r(NULL, "\n", &save))
    if (!mark_is(w, family, ns)) len += (size_t)snprintf(out + len, cap - len, "%s\n", w);
  if (on)
    len += (size_t)snprintf(out + len, cap - len, "%s %llu\n", family, (unsigned long long)ns);
  if (!len) {
    if (unlink(FORWARD_MARK) < 0 && errno != ENOENT)
      return silo_err(err, errno, "remove " FORWARD_MARK);
    return 0;
  }
  _cleanup_close_ int fd = open(FORWARD_MARK, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, out, len) != (ssize_t)len)
    return silo_err(err, errno, "write " FORWARD_MARK);
  return 0;
}

int
nn_netns_sysctl_set(int netns_fd, const char *key, const char *value, struct silo_error *err)
{
  /* /proc/sys/net shows the network namespace of the task that opens the file,
   * and the open file stays bound to it: enter, open, come straight back. */
  char path[256];
  snprintf(path, sizeof path, "/proc/sys/%s", key);
  _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return silo_err(err, errno, "open /proc/self/ns/net");
  if (setns(netns_fd, CLONE_NEWNET) < 0)
    return silo_err(err, errno, "enter the container's network namespace");
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  int e = errno;
  if (setns(self, CLONE_NEWNET) < 0) {
    /* Staying in the container's namespace would configure the wrong one. */
    fprintf(stderr, "silo: cannot return to the host's network namespace: %s\n", strerror(errno));
    abort();
  }
  if (fd < 0) return silo_err(err, e, "open %s in the container", path);
  size_t len = strlen(value);
  if (write(fd, value, len) != (ssize_t)len)
    return silo_err(err, errno, "write %s in the container", path);
  return 0;
}

static struct nn_addr
v4_addr(uint32_t ip, unsigned prefix, int index)
{
  struct nn_addr a = {.family = AF_INET, .prefix = prefix, .index = index};
  uint32_t n = htonl(ip);
  memcpy(a.addr, &n, 4);
  return a;
}

/* A static IPv6 address usable at once: IFA_F_NODAD skips duplicate address
 * detection (the lease store already makes it unique on the bridge), which would
 * otherwise keep it "tentative", unusable, for a second or more. */
static struct nn_addr
v6_addr(const struct in6_addr *ip, unsigned prefix, int index)
{
  struct nn_addr a = {.family = AF_INET6, .prefix = prefix, .index = index, .flags = IFA_F_NODAD};
  memcpy(a.addr, ip, 16);
  return a;
}

int
nn_bridge_ensure(struct nn_nl *nl, const char *name, const struct nn_subnet *s, int *index,
                 int *mtu, bool *created, struct silo_error *err)
{
  struct nn_link l;
  int r = nn_link_get(nl, name, &l, err);
  if (r < 0) return -1;
  *created = false;
  if (r == 1) {
    if (nn_bridge_add(nl, name, NN_DEFAULT_MTU, err) < 0) {
      if (err->errnum != EEXIST) return -1; /* else made meanwhile by another silo */
      silo_err_clear(err);
    } else {
      *created = true;
    }
    r = nn_link_get(nl, name, &l, err);
    if (r < 0) return -1;
    if (r == 1) return silo_err(err, ENODEV, "bridge `%s` vanished after its creation", name);
    if (*created) {
      /* A fixed MAC: otherwise the bridge takes the lowest of its ports' and the
       * containers' ARP entries for the gateway go stale as veths come and go. */
      uint8_t mac[6];
      nn_mac_from_ip(nn_gateway(s), mac);
      struct nn_link_change ch = {.alias = NN_BRIDGE_ALIAS, .mac = mac};
      if (nn_link_set(nl, l.index, &ch, err) < 0) return silo_err_wrap(err, "bridge `%s`", name);
    }
  }
  if (strcmp(l.kind, "bridge") != 0)
    return silo_err(err, EINVAL, "`%s` exists and is not a bridge (kind `%s`)", name,
                    l.kind[0] ? l.kind : "none");
  struct nn_addr gw = v4_addr(nn_gateway(s), s->prefix, l.index);
  if (nn_addr_add(nl, &gw, err) < 0) return silo_err_wrap(err, "bridge `%s`", name);
  if (!(l.flags & IFF_UP)) {
    struct nn_link_change up = {.up = true};
    if (nn_link_set(nl, l.index, &up, err) < 0) return silo_err_wrap(err, "bridge `%s`", name);
  }
  *index = l.index;
  *mtu = l.mtu > 0 ? l.mtu : NN_DEFAULT_MTU;
  return 0;
}

void
nn_bridge_release(struct nn_nl *nl, const char *name)
{
  struct silo_error e = {0};
  struct nn_link br;
  if (nn_link_get(nl, name, &br, &e) != 0) return;
  if (strcmp(br.kind, "bridge") != 0 || strcmp(br.alias, NN_BRIDGE_ALIAS) != 0) return;
  _cleanup_free_ struct nn_link *links = NULL;
  size_t n = 0;
  if (nn_link_list(nl, &links, &n, &e) < 0) return;
  for (size_t i = 0; i < n; i++)
    if (links[i].master == br.index &&
        !(strcmp(links[i].kind, "vxlan") == 0 && strcmp(links[i].alias, NN_BRIDGE_ALIAS) == 0))
      return; /* still in use (silo's VXLAN goes with the bridge) */
  for (size_t i = 0; i < n; i++)
    if (links[i].master == br.index) nn_link_del(nl, links[i].index, &e);
  nn_link_del(nl, br.index, &e);
}

int
nn_bridge_ensure6(struct nn_nl *nl, const char *name, int index, const struct nn_subnet6 *s,
                  struct silo_error *err)
{
  char key[96], val[16];
  snprintf(key, sizeof key, "net/ipv6/conf/%s/disable_ipv6", name);
  if (nn_sysctl_get(key, val, sizeof val) < 0)
    return silo_err(err, errno, "bridge `%s`: no IPv6 (cannot read /proc/sys/%s)", name, key);
  if (strcmp(val, "0") != 0)
    return silo_err(err, EPROTONOSUPPORT, "bridge `%s`: IPv6 is disabled on it (%s = %s)", name,
                    key, val);
  struct in6_addr gw = nn_gateway6(s);
  struct nn_addr a = v6_addr(&gw, s->prefix, index);
  if (nn_addr_add(nl, &a, err) < 0) return silo_err_wrap(err, "bridge `%s`", name);
  return 0;
}

void
nn_bridge_release6(struct nn_nl *nl, const char *name, const struct nn_subnet6 *s)
{
  struct silo_error e = {0};
  struct nn_link br;
  if (nn_link_get(nl, name, &br, &e) != 0) return;
  if (strcmp(br.kind, "bridge") != 0 || strcmp(br.alias, NN_BRIDGE_ALIAS) != 0) return;
  struct in6_addr gw = nn_gateway6(s);
  struct nn_addr a = v6_addr(&gw, s->prefix, br.index);
  nn_addr_del(nl, &a, &e);
}

int
nn_endpoint_create(struct nn_nl *host, const struct nn_endpoint *e, struct silo_error *err)
{
  struct nn_link br, veth, l;
  int r = nn_link_get(host, e->bridge, &br, err);
  if (r != 0) return r < 0 ? -1 : silo_err(err, ENODEV, "bridge `%s` is missing", e->bridge);
  uint8_t mac[6];
  nn_mac_from_ip(e->ip, mac);
  if (e->has_ip6) {
    /* Before eth0 exists, so that it inherits the setting: no duplicate address
     * detection in the container's namespace (its link-local address included),
     * which would delay IPv6 by a second or more.  Only the container's own
     * namespace is changed, and addresses on the bridge are unique by the leases. */
    if (nn_netns_sysctl_set(e->netns_fd, "net/ipv6/conf/default/accept_dad", "0", err) < 0 ||
        nn_netns_sysctl_set(e->netns_fd, "net/ipv6/conf/all/accept_dad", "0", err) < 0)
      return silo_err_wrap(err, "container's IPv6");
  }
  if (nn_veth_add(host, e->veth, br.index, br.mtu, "eth0", e->netns_fd, mac, err) < 0) return -1;
  if ((r = nn_link_get(host, e->veth, &veth, err)) != 0)
    return r < 0 ? -1 : silo_err(err, ENODEV, "veth `%s` vanished", e->veth);
  struct nn_link_change up = {.up = true};
  if (nn_link_set(host, veth.index, &up, err) < 0) return -1;

  struct nn_nl *in = nn_nl_open(e->netns_fd, err);
  if (!in) return -1;
  int ret = -1;
  if ((r = nn_link_get(in, "lo", &l, err)) != 0 || nn_link_set(in, l.index, &up, err) < 0) {
    if (r == 1) silo_err(err, ENODEV, "no lo in the container");
    silo_err_wrap(err, "container's lo");
    goto out;
  }
  if ((r = nn_link_get(in, "eth0", &l, err)) != 0) {
    if (r == 1) silo_err(err, ENODEV, "eth0 did not appear in the container");
    goto out;
  }
  struct nn_addr a = v4_addr(e->ip, e->subnet.prefix, l.index);
  if (nn_addr_add(in, &a, err) < 0 || nn_link_set(in, l.index, &up, err) < 0 ||
      nn_route_add_default(in, nn_gateway(&e->subnet), l.index, err) < 0) {
    silo_err_wrap(err, "container's eth0");
    goto out;
  }
  if (e->has_ip6) {
    /* After the link is up (taking an interface down drops its IPv6 addresses);
     * the address brings the subnet's on-link route the default route needs. */
    struct in6_addr gw = nn_gateway6(&e->subnet6);
    struct nn_addr a6 = v6_addr(&e->ip6, e->subnet6.prefix, l.index);
    if (nn_addr_add(in, &a6, err) < 0 || nn_route_add_default6(in, &gw, l.index, err) < 0) {
      silo_err_wrap(err, "container's eth0");
      goto out;
    }
  }
  ret = 0;
out:
  nn_nl_close(in);
  return ret;
}

void
nn_endpoint_remove(struct nn_nl *host, const char *veth)
{
  struct silo_error e = {0};
  struct nn_link l;
  if (nn_link_get(host, veth, &l, &e) == 0 && strcmp(l.kind, "veth") == 0)
    nn_link_del(host, l.index, &e);
}

bool
nn_any_silo_veth(struct nn_nl *host)
{
  struct silo_error e = {0};
  _cleanup_free_ struct nn_link *links = NULL;
  size_t n = 0;
  if (nn_link_list(host, &links, &n, &e) < 0) return true; /* unsure: say yes */
  for (size_t i = 0; i < n; i++)
    if (strcmp(links[i].kind, "veth") == 0 && nn_is_veth_name(links[i].name)) return true;
  return false;
}

/* Addresses worth carrying along: IPv4, and IPv6 but for link-local ones (the
 * kernel makes those itself). */
static void
keep_addrs(struct nn_netdev *d)
{
  size_t k = 0;
  for (size_t i = 0; i < d->n_addrs; i++)
    if (d->addrs[i].family == AF_INET || d->addrs[i].scope != RT_SCOPE_LINK)
      d->addrs[k++] = d->addrs[i];
  d->n_addrs = k;
}

static int
restore(struct nn_nl *nl, int index, const struct nn_netdev *d, struct silo_error *err)
{
  for (size_t i = 0; i < d->n_addrs; i++) {
    struct nn_addr a = d->addrs[i];
    a.index = index;
    if (nn_addr_add(nl, &a, err) < 0) return -1;
  }
  struct nn_link_change up = {.up = true};
  if (d->up && nn_link_set(nl, index, &up, err) < 0) return -1;
  return 0;
}

int
nn_netdev_move_in(struct nn_nl *host, int netns_fd, struct nn_netdev *d, struct silo_error *err)
{
  struct nn_link l;
  int r = nn_link_get(host, d->host_name, &l, err);
  if (r != 0)
    return r < 0 ? -1 : silo_err(err, ENODEV, "no interface `%s` on the host", d->host_name);
  free(d->addrs);
  d->addrs = NULL;
  d->n_addrs = 0;
  if (nn_addr_list(host, l.index, AF_UNSPEC, &d->addrs, &d->n_addrs, err) < 0) return -1;
  keep_addrs(d);
  d->up = (l.flags & IFF_UP) != 0;
  /* Moved and renamed in one request: the kernel applies the name in the target
   * namespace (so it may be taken on the host, "eth0" say). */
  struct nn_link_change mv = {.netns_fd = netns_fd, .name = d->name};
  if (nn_link_set(host, l.index, &mv, err) < 0) return silo_err_wrap(err, "`%s`", d->host_name);
  d->moved = true;

  struct nn_nl *in = nn_nl_open(netns_fd, err);
  if (!in) return -1;
  int ret = -1;
  if ((r = nn_link_get(in, d->name, &l, err)) == 1) {
    /* a kernel that kept the old name */
    if ((r = nn_link_get(in, d->host_name, &l, err)) == 0) {
      struct nn_link_change rn = {.name = d->name};
      if (nn_link_set(in, l.index, &rn, err) < 0) goto out;
    }
  }
  if (r != 0) {
    if (r == 1) silo_err(err, ENODEV, "`%s` did not appear in the container", d->name);
    goto out;
  }
  if (restore(in, l.index, d, err) < 0) goto out;
  ret = 0;
out:
  nn_nl_close(in);
  return ret < 0 ? silo_err_wrap(err, "`%s`", d->host_name) : 0;
}

int
nn_netdev_move_out(int netns_fd, const struct nn_netdev *d, struct silo_error *err)
{
  _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return silo_err(err, errno, "open /proc/self/ns/net");
  struct nn_nl *in = nn_nl_open(netns_fd, err);
  if (!in) return -1;
  struct nn_link l;
  int r = nn_link_get(in, d->name, &l, err);
  if (r == 0) {
    /* Down (a running interface cannot be renamed), then moved under its host name. */
    struct nn_link_change down = {.down = true}, mv = {.netns_fd = self, .name = d->host_name};
    if (nn_link_set(in, l.index, &down, err) < 0 || nn_link_set(in, l.index, &mv, err) < 0) r = -1;
  }
  nn_nl_close(in);
  if (r != 0) return r < 0 ? silo_err_wrap(err, "`%s`", d->name) : 0; /* gone: nothing to do */

  struct nn_nl *host = nn_nl_open(-1, err);
  if (!host) return -1;
  if ((r = nn_link_get(host, d->host_name, &l, err)) == 1 &&
      (r = nn_link_get(host, d->name, &l, err)) == 0) { /* a kernel that kept the name */
    struct nn_link_change rn = {.name = d->host_name};
    r = nn_link_set(host, l.index, &rn, err);
  }
  if (r == 0) r = restore(host, l.index, d, err);
  nn_nl_close(host);
  return r < 0 ? silo_err_wrap(err, "`%s`", d->host_name) : 0;
}
