/* silo: the network of a container that migrates (silo-migrate(8), "The
 * network").  lib/migrate calls these; the container keeps its addresses and MAC.
 *
 *   source    network_move_offer: the lease (network.json) for the OFFER;
 *             network_move_quiet: the veth's host end down while the frozen copy
 *             waits (postcopy), so it answers no ARP on the shared network
 *   receiver  network_move_in: the lease checked (hostile input) and taken, a new
 *             network namespace pinned on a file, the bridge (and the VXLAN of the
 *             config's annotations), the veth with the same MAC and addresses
 *             (host end down until the switch), NAT and the ports it can publish;
 *             CRIU then restores into that namespace (external: no netns dumped)
 *             network_move_up at the switch, network_move_adopt once restored
 *             (<state>/netns, network.json, the lease settled), then
 *             network_move_announce (gratuitous ARP, unsolicited NA)
 *   either    network_move_undo: what network_move_in made, removed
 * The source's cold fallback re-creates its network with network_move_in too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "lib/base/base.h"
#include "lib/network/network.h"
#include "netns/netns.h"
#include "oci/oci.h"

struct network_move {
  struct nn_record rec;
  struct nn_vxlan vx;
  int rootfd, nsfd;
  char *id, *pin;
  char *root; /* the state root's path: a guardian (lib/migrate) has no fds of ours */
  bool leased, pinned, adopted;
  size_t n_dropped;
};

int
network_move_offer(int statefd, json_t **out, struct silo_error *err)
{
  struct nn_record r;
  int x = nn_record_read(statefd, &r, err);
  if (x != 0) return x;
  int ret = 0;
  if (r.n_devs) {
    ret = silo_err(err, ENOTSUP,
                   "linux.netDevices: host interfaces lent to a container do not "
                   "migrate");
  } else if (!r.bridge || !r.pinned) {
    ret = silo_err(err, ENOTSUP, "network.json: no pinned network namespace to migrate");
  } else {
    char sn[20], ip[16], pb[NN_PORT_STRLEN];
    json_t *ports = json_array();
    for (size_t i = 0; i < r.n_ports; i++)
      json_array_append_new(ports, json_string(nn_port_str(&r.ports[i], pb)));
    *out = json_pack("{s:s, s:s, s:s, s:o}", "bridge", r.bridge_name, "subnet",
                     nn_subnet_str(&r.subnet, sn), "ip", nn_ip_str(r.ip, ip), "ports", ports);
    if (r.has_ip6) {
      char sn6[NN_SUBNET6_STRLEN], ip6[NN_IP6_STRLEN];
      json_object_set_new(*out, "subnet6", json_string(nn_subnet6_str(&r.subnet6, sn6)));
      json_object_set_new(*out, "ip6", json_string(nn_ip6_str(&r.ip6, ip6)));
    }
  }
  nn_record_free(&r);
  return ret;
}

/* The peer's "network" object into m->rec: every field checked. */
static int
parse_offer(struct network_move *m, json_t *net, struct silo_error *err)
{
  struct nn_record *r = &m->rec;
  const char *br = json_string_value(json_object_get(net, "bridge"));
  const char *sn = json_string_value(json_object_get(net, "subnet"));
  const char *ip = json_string_value(json_object_get(net, "ip"));
  json_t *ports = json_object_get(net, "ports");
  if (!json_is_object(net) || !br || !sn || !ip || (ports && !json_is_array(ports)))
    return silo_err(err, EPROTO, "network: malformed (bridge, subnet, ip and ports expected)");
  if (nn_ifname_check(br, "network: bridge", err) < 0) return -1;
  r->bridge = true;
  snprintf(r->bridge_name, sizeof r->bridge_name, "%s", br);
  if (nn_subnet_parse(sn, &r->subnet, err) < 0) return silo_err_wrap(err, "network: subnet");
  if (nn_ip_parse(ip, &r->ip) < 0) return silo_err(err, EINVAL, "network: ip `%s`", ip);
  const char *sn6 = json_string_value(json_object_get(net, "subnet6"));
  const char *ip6 = json_string_value(json_object_get(net, "ip6"));
  if (!sn6 != !ip6) return silo_err(err, EPROTO, "network: subnet6 and ip6 go together");
  if (sn6) {
    if (nn_subnet6_parse(sn6, &r->subnet6, err) < 0) return silo_err_wrap(err, "network: subnet6");
    if (nn_ip6_parse(ip6, &r->ip6) < 0) return silo_err(err, EINVAL, "network: ip6 `%s`", ip6);
    r->has_ip6 = true;
  }
  size_t i;
  json_t *p;
  json_array_foreach(ports, i, p)
  {
    if (!json_is_string(p)) return silo_err(err, EPROTO, "network: ports[%zu] is not a string", i);
    if (nn_ports_parse_list(json_string_value(p), &r->ports, &r->n_ports, err) < 0)
      return silo_err_wrap(err, "network: ports[%zu]", i);
  }
  for (size_t j = 0; j < r->n_ports; j++)
    if (r->ports[j].v6 && !r->has_ip6) return silo_err(err, EINVAL, "network: IPv6 port, no ip6");
  return 0;
}

/* The network of the config's annotations that spans hosts, if any. */
static int
parse_vxlan(struct network_move *m, const struct oci_config *cfg, struct silo_error *err)
{
  const char *vni = annotation(cfg, ANN_VXLAN);
  if (!vni) return 0;
  if (nn_vxlan_parse(vni, annotation(cfg, ANN_VXLAN_PEERS), &m->vx, err) < 0)
    return silo_err_wrap(err, "annotation " ANN_VXLAN);
  return 0;
}

static int
take_lease(struct network_move *m, struct silo_error *err)
{
  struct nn_store st;
  if (nn_store_open(m->rootfd, NN_STORE_CREATE, &st, err) < 0) return -1;
  _cleanup_close_ int net_lock = nn_host_net_lock(err);
  int r = net_lock < 0 ? -1 : 0;
  struct silo_error fe = {0};
  /* Other state roots' leases count too (they share the bridges), as in lease(). */
  if (r == 0 && nn_store_add_foreign(&st, m->rootfd, NULL, NULL, &fe) < 0)
    silo_log_warn("network: other state roots' leases: %s", fe.msg);
  struct nn_lease w = {.id = m->id,
                       .bridge = m->rec.bridge_name,
                       .subnet = m->rec.subnet,
                       .ip = m->rec.ip,
                       .has_ip6 = m->rec.has_ip6,
                       .subnet6 = m->rec.subnet6,
                       .ip6 = m->rec.ip6,
                       .ports = m->rec.ports,
                       .n_ports = m->rec.n_ports,
                       .pending = (int)getpid()};
  if (r == 0) r = nn_store_adopt(&st, &w, &m->n_dropped, err);
  if (r == 0) {
    /* the ports kept are the lease's */
    const struct nn_lease *l = nn_store_find(&st, m->id);
    m->rec.n_ports = 0;
    for (size_t i = 0; l && i < l->n_ports; i++) m->rec.ports[m->rec.n_ports++] = l->ports[i];
    r = nn_store_save(&st, err);
    if (r == 0) m->leased = true;
  }
  nn_store_close(&st);
  return r < 0 ? silo_err_wrap(err, "network: the container's lease") : 0;
}

/* A new network namespace: made by unshare and left again at once (silo is
 * single-threaded), held by a bind mount on the file pin. */
static int
new_netns(struct network_move *m, struct silo_error *err)
{
  _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return silo_err(err, errno, "open /proc/self/ns/net");
  if (unshare(CLONE_NEWNET) < 0) return silo_err(err, errno, "a new network namespace");
  m->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int e = errno;
  if (setns(self, CLONE_NEWNET) < 0) {
    fprintf(stderr, "silo: cannot return to the host's network namespace: %s\n", strerror(errno));
    abort();
  }
  if (m->nsfd < 0) return silo_err(err, e, "open the new network namespace");
  _cleanup_close_ int fd = open(m->pin, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
  if (fd < 0) return silo_err(err, errno, "create `%s`", m->pin);
  char src[PROC_FD_PATH_MAX];
  if (mount(fs_proc_fd_path(src, m->nsfd), m->pin, NULL, MS_BIND, NULL) < 0) {
    e = errno;
    unlink(m->pin);
    return silo_err(err, e, "bind the network namespace on `%s`", m->pin);
  }
  m->pinned = true;
  return 0;
}

static int
make_links(struct network_move *m, struct silo_error *err)
{
  struct nn_nl *host = nn_nl_open(-1, err);
  if (!host) return -1;
  int ret = -1, index, mtu;
  bool created;
  /* As attach_bridge, under the host's network lock until the veth is on the
   * bridge: the bridge with its gateways, the VXLAN to the other hosts, forwarding,
   * the endpoint (same MAC: derived from the address), NAT last. */
  _cleanup_close_ int net_lock = nn_host_net_lock(err);
  if (net_lock < 0) goto out;
  if (nn_bridge_ensure(host, m->rec.bridge_name, &m->rec.subnet, &index, &mtu, &created, err) < 0)
    goto out;
  if (m->rec.has_ip6 &&
      nn_bridge_ensure6(host, m->rec.bridge_name, index, &m->rec.subnet6, err) < 0)
    goto out;
  if (m->vx.vni && nn_vxlan_ensure(host, &m->vx, index, mtu, err) < 0) goto out;
  char val[16];
  if (nn_sysctl_get("net/ipv4/ip_forward", val, sizeof val) < 0 || strcmp(val, "1") != 0) {
    if (nn_sysctl_set("net/ipv4/ip_forward", "1", err) < 0 ||
        nn_forward_mark("ipv4", true, err) < 0)
      goto out;
  }
  if (m->rec.has_ip6 && (nn_sysctl_get("net/ipv6/conf/all/forwarding", val, sizeof val) < 0 ||
                         strcmp(val, "1") != 0)) {
    if (nn_sysctl_set("net/ipv6/conf/all/forwarding", "1", err) < 0 ||
        nn_forward_mark("ipv6", true, err) < 0)
      goto out;
  }
  struct nn_endpoint e = nn_record_endpoint(&m->rec, m->nsfd);
  if (nn_endpoint_create(host, &e, err) < 0) goto out;
  /* Down until the switch: the container still runs on the source, and this
   * namespace must not answer for its address meanwhile. */
  struct nn_link l;
  struct nn_link_change down = {.down = true};
  if (nn_link_get(host, m->rec.veth, &l, err) != 0 || nn_link_set(host, l.index, &down, err) < 0)
    goto out;
  close_fd(&net_lock);
  struct nn_nft_rules rules = nn_record_rules(&m->rec);
  if (nn_nft_add(&rules, err) < 0) goto out;
  ret = 0;
out:
  nn_nl_close(host);
  return ret < 0 ? silo_err_wrap(err, "network") : 0;
}

int
network_move_in(int rootfd, const char *id, const struct oci_config *cfg, json_t *net,
                const char *pin, struct network_move **out, struct silo_error *err)
{
  struct network_move *m = xcalloc(1, sizeof *m);
  m->nsfd = -1;
  m->rootfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  m->id = xstrdup(id);
  m->pin = xstrdup(pin);
  *out = m;
  nn_veth_name(id, m->rec.veth);
  nn_rule_key(id, m->rec.key);
  m->rec.pinned = true;
  if (m->rootfd < 0) return silo_err(err, errno, "dup");
  char link[PROC_FD_PATH_MAX];
  m->root = realpath(fs_proc_fd_path(link, rootfd), NULL);
  if (!m->root) return silo_err(err, errno, "the state root's path");
  if (parse_offer(m, net, err) < 0 || parse_vxlan(m, cfg, err) < 0) return -1;
  if (take_lease(m, err) < 0) return -1;
  if (new_netns(m, err) < 0 || make_links(m, err) < 0) {
    network_move_undo(m);
    return -1;
  }
  return 0;
}

static int
host_end(struct network_move *m, bool up, struct silo_error *err)
{
  struct nn_nl *host = nn_nl_open(-1, err);
  if (!host) return -1;
  struct nn_link l;
  struct nn_link_change ch = {.up = up, .down = !up};
  int r = nn_link_get(host, m->rec.veth, &l, err);
  if (r == 1) r = silo_err(err, ENODEV, "veth `%s` is gone", m->rec.veth);
  if (r == 0) r = nn_link_set(host, l.index, &ch, err);
  nn_nl_close(host);
  return r < 0 ? silo_err_wrap(err, "network") : 0;
}

int
network_move_up(struct network_move *m, struct silo_error *err)
{
  return host_end(m, true, err);
}

int
network_move_adopt(struct network_move *m, int statefd, struct silo_error *err)
{
  /* In this order: network.json first (a teardown from here on knows the names
   * and that a pin may be there), the pin, the lease settled; the receiver's own
   * pin goes last (the state's holds the namespace). */
  if (nn_record_write(statefd, &m->rec, err) < 0) return silo_err_wrap(err, "network");
  _cleanup_close_ int fd =
      openat(statefd, "netns", O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
  if (fd < 0) return silo_err(err, errno, "network: create <state>/netns");
  char src[PROC_FD_PATH_MAX], dst[PROC_FD_PATH_MAX];
  if (mount(fs_proc_fd_path(src, m->nsfd), fs_proc_fd_path(dst, fd), NULL, MS_BIND, NULL) < 0)
    return silo_err(err, errno, "network: bind the network namespace on <state>/netns");
  struct nn_store st;
  if (nn_store_open(m->rootfd, NN_STORE_CREATE, &st, err) < 0) return silo_err_wrap(err, "network");
  nn_store_settle(&st, m->id);
  int r = nn_store_save(&st, err);
  nn_store_close(&st);
  if (r < 0) return silo_err_wrap(err, "network");
  m->adopted = true;
  if (m->pinned && umount2(m->pin, MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
    unlink(m->pin);
    m->pinned = false;
  }
  return 0;
}

int
network_move_announce(struct network_move *m, struct silo_error *err)
{
  return nn_announce(m->nsfd, "eth0", m->rec.ip, m->rec.has_ip6 ? &m->rec.ip6 : NULL, err);
}

void
network_move_undo(struct network_move *m)
{
  if (!m || m->adopted) return; /* the container's: its delete undoes it */
  struct silo_error e = {0};
  struct nn_nl *host = nn_nl_open(-1, &e);
  if (host && m->leased) nn_endpoint_remove(host, m->rec.veth);
  if (m->leased && nn_nft_remove(m->rec.key, &e) < 0) silo_log_warn("network: %s", e.msg);
  _cleanup_close_ int rootfd =
      m->leased && m->root ? open(m->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (m->leased) {
    struct nn_store st;
    if (rootfd >= 0 && nn_store_open(rootfd, 0, &st, &e) == 0) {
      nn_store_release(&st, m->id);
      _cleanup_close_ int net_lock = nn_host_net_lock(&e);
      bool foreign = net_lock >= 0 && nn_store_add_foreign(&st, rootfd, NULL, NULL, &e) == 0;
      if (host && foreign && nn_store_count(&st, m->rec.bridge_name) == 0)
        nn_bridge_release(host, m->rec.bridge_name);
      if (nn_store_count_own(&st) == 0) nn_roots_forget(rootfd, &e);
      st.dirty = true;
      nn_store_save(&st, &e);
      nn_store_close(&st);
    }
    m->leased = false;
  }
  nn_nl_close(host);
  if (m->pinned) {
    umount2(m->pin, MNT_DETACH | UMOUNT_NOFOLLOW);
    unlink(m->pin);
    m->pinned = false;
  }
}

json_t *
network_move_summary(const struct network_move *m)
{
  char ip[16], pb[NN_PORT_STRLEN];
  json_t *ports = json_array();
  for (size_t i = 0; i < m->rec.n_ports; i++)
    json_array_append_new(ports, json_string(nn_port_str(&m->rec.ports[i], pb)));
  return json_pack("{s:s, s:o, s:I}", "ip", nn_ip_str(m->rec.ip, ip), "ports", ports,
                   "ports_dropped", (json_int_t)m->n_dropped);
}

void
network_move_free(struct network_move *m)
{
  if (!m) return;
  nn_record_free(&m->rec);
  nn_vxlan_free(&m->vx);
  if (m->nsfd >= 0) close(m->nsfd);
  if (m->rootfd >= 0) close(m->rootfd);
  free(m->id);
  free(m->pin);
  free(m->root);
  free(m);
}

int
network_move_quiet(int statefd, bool quiet, struct silo_error *err)
{
  struct nn_record r;
  int x = nn_record_read(statefd, &r, err);
  if (x != 0) return x < 0 ? -1 : 0;
  struct network_move m = {.rec = r};
  int ret = r.bridge ? host_end(&m, !quiet, err) : 0;
  nn_record_free(&r);
  return ret;
}
