/* silo: glue between the container lifecycle and netns/ (silo's own networking,
 * see silo-network(7)).
 *
 * With no --network, no org.silo.network* annotation and no linux.netDevices,
 * nothing happens: the container gets whatever its config says (runc's behaviour),
 * and a config that joins a network namespace by path is never touched.
 *
 *   network_plan          flags and annotations decoded and checked (no side effects)
 *   network_before_clone  lease an address (<root>/.network), write network.json,
 *                         generate hosts/resolv.conf and add their bind mounts
 *   network_after_clone   pin the namespace on <state>/netns, bridge, veth, NAT,
 *                         published ports, linux.netDevices
 *   network_teardown      undo what network.json records, best effort
 *
 * IPv6 (--ipv6, --subnet6) is planned and its subnet chosen in network6.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "lib/base/base.h"
#include "lib/network/network.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "netns/netns.h"
#include "oci/oci.h"

#define NSFS_MAGIC_ 0x6e736673

static int
plan_bridge(struct container_plan *c, struct network_plan *n, struct silo_error *err)
{
  const char *br = annotation(c->cfg, ANN_BRIDGE);
  n->rec.bridge = true;
  if (!br) br = NN_DEFAULT_BRIDGE;
  if (nn_ifname_check(br, "annotation " ANN_BRIDGE, err) < 0) return -1;
  snprintf(n->rec.bridge_name, sizeof n->rec.bridge_name, "%s", br);
  const char *sn = annotation(c->cfg, ANN_SUBNET);
  if (sn) {
    if (nn_subnet_parse(sn, &n->want, err) < 0) return silo_err_wrap(err, "annotation " ANN_SUBNET);
    n->has_subnet = true;
  }
  if (network_plan_ipv6(c, n, err) < 0) return -1;
  const char *vni = annotation(c->cfg, ANN_VXLAN);
  if (vni && nn_vxlan_parse(vni, annotation(c->cfg, ANN_VXLAN_PEERS), &n->vx, err) < 0)
    return silo_err_wrap(err, "annotation " ANN_VXLAN);
  if (!vni && annotation(c->cfg, ANN_VXLAN_PEERS))
    return silo_err(err, EINVAL, "annotation " ANN_VXLAN_PEERS " needs " ANN_VXLAN);
  if ((sn = annotation(c->cfg, ANN_RANGE))) {
    if (nn_subnet_parse(sn, &n->range, err) < 0) return silo_err_wrap(err, "annotation " ANN_RANGE);
    n->has_range = true;
  }
  /* --publish replaces the annotation's list. */
  const char *psrc = c->opts->n_publish ? "--publish" : "annotation " ANN_PUBLISH;
  if (c->opts->n_publish) {
    for (size_t i = 0; i < c->opts->n_publish; i++)
      if (nn_ports_parse_list(c->opts->publish[i], &n->rec.ports, &n->rec.n_ports, err) < 0)
        return silo_err_wrap(err, "--publish");
  } else if ((sn = annotation(c->cfg, ANN_PUBLISH))) {
    if (nn_ports_parse_list(sn, &n->rec.ports, &n->rec.n_ports, err) < 0)
      return silo_err_wrap(err, "annotation " ANN_PUBLISH);
  }
  for (size_t j = 0; j < n->rec.n_ports; j++) {
    char pb[NN_PORT_STRLEN];
    if (n->rec.ports[j].v6 && !n->ipv6)
      return silo_err(err, EINVAL, "%s: `%s`: an IPv6 host address needs --ipv6", psrc,
                      nn_port_str(&n->rec.ports[j], pb));
  }
  for (size_t j = 0; j < n->rec.n_ports; j++)
    for (size_t k = 0; k < j; k++)
      if (nn_ports_clash(&n->rec.ports[j], &n->rec.ports[k]))
        return silo_err(err, EINVAL, "%s: host port %u/%s is published twice", psrc,
                        n->rec.ports[j].host_port, nn_proto_name(n->rec.ports[j].proto));
  nn_veth_name(c->id, n->rec.veth);
  nn_rule_key(c->id, n->rec.key);
  return 0;
}

static int
plan_devices(struct container_plan *c, struct network_plan *n, struct silo_error *err)
{
  const struct oci_linux *l = c->cfg->linux;
  n->rec.devs = xcalloc(l->n_net_devices + 1, sizeof *n->rec.devs);
  struct nn_nl *host = nn_nl_open(-1, err);
  if (!host) return silo_err_wrap(err, "linux.netDevices");
  int ret = -1;
  for (size_t i = 0; i < l->n_net_devices; i++) {
    const struct oci_net_device *d = &l->net_devices[i];
    struct nn_netdev *x = &n->rec.devs[n->rec.n_devs++];
    const char *name = d->name && d->name[0] ? d->name : d->host_name;
    char what[64];
    snprintf(what, sizeof what, "linux.netDevices[%zu]", i);
    if (nn_ifname_check(d->host_name, what, err) < 0 || nn_ifname_check(name, what, err) < 0)
      goto out;
    snprintf(x->host_name, sizeof x->host_name, "%s", d->host_name);
    snprintf(x->name, sizeof x->name, "%s", name);
    if (strcmp(name, "lo") == 0 || (n->rec.bridge && strcmp(name, "eth0") == 0)) {
      silo_err(err, EEXIST, "%s: the container already has an interface `%s`", what, name);
      goto out;
    }
    for (size_t k = 0; k + 1 < n->rec.n_devs; k++)
      if (strcmp(n->rec.devs[k].name, name) == 0) {
        silo_err(err, EEXIST, "%s: two devices named `%s` in the container", what, name);
        goto out;
      }
    struct nn_link link;
    int r = nn_link_get(host, d->host_name, &link, err);
    if (r != 0) {
      if (r == 1) silo_err(err, ENODEV, "%s: no interface `%s` on the host", what, d->host_name);
      goto out;
    }
  }
  ret = 0;
out:
  nn_nl_close(host);
  return ret;
}

int
network_plan(struct container_plan *c, struct silo_error *err)
{
  const struct oci_config *cfg = c->cfg;
  const char *mode = c->opts->network, *src = "--network";
  if (!mode) {
    mode = annotation(cfg, ANN_MODE);
    src = "annotation " ANN_MODE;
  }
  bool bridge = mode && strcmp(mode, "bridge") == 0;
  if (mode && !bridge && strcmp(mode, "none") != 0)
    return silo_err(err, EINVAL, "%s: unknown mode `%s` (none or bridge)", src, mode);
  if (c->opts->n_publish && !bridge)
    return silo_err(err, EINVAL, "--publish needs --network bridge");
  if ((c->opts->ipv6 || c->opts->subnet6) && !bridge)
    return silo_err(err, EINVAL, "%s needs --network bridge",
                    c->opts->subnet6 ? "--subnet6" : "--ipv6");
  size_t n_devs = cfg->linux ? cfg->linux->n_net_devices : 0;
  if (!bridge && !n_devs) return 0;

  const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_NETWORK);
  if (bridge && !ns)
    return silo_err(err, EINVAL,
                    "%s bridge needs a new network namespace, and linux.namespaces has none "
                    "(the container would share the host's)",
                    src);
  if (bridge && ns->path)
    return silo_err(err, EINVAL,
                    "%s bridge needs a new network namespace, and the config joins `%s`", src,
                    ns->path);
  if (!ns)
    return silo_err(err, EINVAL,
                    "linux.netDevices: the container has no network namespace of its own");
  if (c->unshare_flags & CLONE_NEWNET)
    return silo_err(err, ENOTSUP,
                    "%s: not supported when the config joins a user namespace by path",
                    bridge ? "--network bridge" : "linux.netDevices");

  struct network_plan *n = xcalloc(1, sizeof *n);
  n->netns_fd = -1;
  c->net = n;
  c->net_free = network_plan_free;
  if (bridge && plan_bridge(c, n, err) < 0) return -1;
  if (n_devs && plan_devices(c, n, err) < 0) return -1;
  return 0;
}

void
network_plan_free(struct network_plan *n)
{
  if (!n) return;
  nn_record_free(&n->rec);
  nn_vxlan_free(&n->vx);
  if (n->netns_fd >= 0) close(n->netns_fd);
  for (size_t i = 0; i < ARRAY_SIZE(n->file_src); i++) free(n->file_src[i]);
  free(n);
}

/* ---- before clone: the lease, network.json, hosts and resolv.conf ---- */

/* A lease whose container is gone: what it may have left on the host goes too. */
struct reclaimed {
  struct nn_lease *v; /* bridge, has_ip6 and subnet6 of each (ids and ports dropped) */
  size_t n;
};

static void
reclaim_gone(const struct nn_lease *l, void *data)
{
  struct reclaimed *rc = data;
  struct silo_error e = {0};
  char veth[NN_IFNAMSIZ], key[NN_KEY_MAX];
  nn_veth_name(l->id, veth);
  nn_rule_key(l->id, key);
  silo_log_debug("network: reclaiming the lease of `%s` (no such container)", l->id);
  struct nn_nl *host = nn_nl_open(-1, &e);
  if (host) nn_endpoint_remove(host, veth);
  nn_nl_close(host);
  if (nn_nft_remove(key, &e) < 0) silo_log_warn("network: %s", e.msg);
  rc->v = xrealloc(rc->v, (rc->n + 1) * sizeof *rc->v);
  rc->v[rc->n++] =
      (struct nn_lease){.bridge = xstrdup(l->bridge), .has_ip6 = l->has_ip6, .subnet6 = l->subnet6};
}

/* After a reclaim, the bridges those leases were the last of: their IPv6 gateway,
 * and the bridge itself when silo made it and nothing is attached (as a delete
 * would have done).  Otherwise the next container would find the old IPv6 subnet
 * on the bridge and take it for the bridge's own. */
static void
reclaim_bridges(const struct nn_store *st, struct reclaimed *rc)
{
  struct silo_error e = {0};
  struct nn_nl *host = rc->n ? nn_nl_open(-1, &e) : NULL;
  for (size_t i = 0; i < rc->n; i++) {
    const struct nn_lease *l = &rc->v[i];
    if (host && l->has_ip6 && nn_store_count6(st, l->bridge) == 0)
      nn_bridge_release6(host, l->bridge, &l->subnet6);
    if (host && nn_store_count(st, l->bridge) == 0) nn_bridge_release(host, l->bridge);
    free(l->bridge);
  }
  nn_nl_close(host);
  free(rc->v);
}

static bool
same_subnet(const struct nn_subnet *a, const struct nn_subnet *b)
{
  return a->net == b->net && a->prefix == b->prefix;
}

/* The bridge's subnet: its leases', else its address's, else a free one. */
static int
choose_subnet(struct network_plan *n, const struct nn_store *st, struct silo_error *err)
{
  const char *br = n->rec.bridge_name;
  const struct nn_subnet *want = n->has_subnet ? &n->want : NULL;
  struct nn_subnet s;
  char a[20], b[20];
  if (nn_store_bridge_subnet(st, br, &s)) {
    if (want && !same_subnet(want, &s))
      return silo_err(err, EINVAL, "bridge `%s` serves subnet %s, not %s (" ANN_SUBNET ")", br,
                      nn_subnet_str(&s, a), nn_subnet_str(want, b));
    n->rec.subnet = s;
    return 0;
  }
  struct nn_nl *host = nn_nl_open(-1, err);
  if (!host) return -1;
  int ret = -1;
  struct nn_hostnet *nets = NULL;
  struct nn_addr *addrs = NULL;
  size_t n_nets = 0, n_addrs = 0;
  struct nn_link l;
  int r = nn_link_get(host, br, &l, err);
  if (r < 0) goto out;
  if (r == 0 && strcmp(l.kind, "bridge") != 0) {
    silo_err(err, EINVAL, "`%s` exists and is not a bridge", br);
    goto out;
  }
  if (r == 0 && nn_addr_list(host, l.index, AF_INET, &addrs, &n_addrs, err) < 0) goto out;
  if (n_addrs) { /* an existing bridge with an address: its subnet */
    uint32_t ip;
    memcpy(&ip, addrs[0].addr, 4);
    s.prefix = addrs[0].prefix;
    s.net = ntohl(ip) & nn_mask(s.prefix);
    if (want && !same_subnet(want, &s)) {
      silo_err(err, EINVAL, "bridge `%s` has subnet %s, not %s (" ANN_SUBNET ")", br,
               nn_subnet_str(&s, a), nn_subnet_str(want, b));
      goto out;
    }
    n->rec.subnet = s;
    ret = 0;
    goto out;
  }
  if (nn_host_nets(host, &nets, &n_nets, err) < 0) goto out;
  /* The subnets of silo's other bridges count as taken even while they are down. */
  for (size_t i = 0; i < st->n; i++) {
    nets = xrealloc(nets, (n_nets + 1) * sizeof *nets);
    struct nn_hostnet h = {.net = st->leases[i].subnet};
    snprintf(h.dev, sizeof h.dev, "%s", st->leases[i].bridge);
    nets[n_nets++] = h;
  }
  ret = nn_subnet_choose(want, nets, n_nets, br, &n->rec.subnet, err);
  if (ret < 0 && want) silo_err_wrap(err, "annotation " ANN_SUBNET);
out:
  free(nets);
  free(addrs);
  nn_nl_close(host);
  return ret;
}

static int
lease(struct container_plan *c, struct network_plan *n, struct silo_error *err)
{
  struct nn_store st;
  if (nn_store_open(c->rootdirfd, NN_STORE_CREATE, &st, err) < 0) return -1;
  struct reclaimed rc = {0};
  nn_store_reclaim(&st, c->rootdirfd, 0, reclaim_gone, &rc);
  /* Other state roots' leases count too (they share the bridges and host ports);
   * under the host's network lock, after our store's (the order every silo takes
   * them in), so no root allocates between our look and our save.  Their dead
   * leases are reclaimed on the way, when their store is not busy. */
  _cleanup_close_ int net_lock = nn_host_net_lock(err);
  struct silo_error fe = {0};
  char fb[SILO_ERROR_MSG_MAX + 64];
  if (net_lock >= 0 && nn_store_add_foreign(&st, c->rootdirfd, reclaim_gone, &rc, &fe) < 0)
    silo_log_warn("network: other state roots' leases: %s", silo_err_str(&fe, fb, sizeof fb));
  /* A bridge goes with its last lease of any root (silo0 is shared). */
  reclaim_bridges(&st, &rc);
  if (net_lock < 0) {
    nn_store_close(&st);
    return -1;
  }
  int r = choose_subnet(n, &st, err);
  if (r == 0 && n->has_range) {
    /* The host's slice of a subnet that spans hosts: its addresses only. */
    char a[20], b[20];
    if (n->range.prefix < n->rec.subnet.prefix || !nn_subnet_contains(&n->rec.subnet, n->range.net))
      r = silo_err(err, EINVAL, "annotation " ANN_RANGE ": %s is not inside the subnet %s",
                   nn_subnet_str(&n->range, a), nn_subnet_str(&n->rec.subnet, b));
    st.range = n->range;
  }
  if (r == 0)
    r = nn_store_allocate(&st, c->id, n->rec.bridge_name, &n->rec.subnet, n->rec.ports,
                          n->rec.n_ports, &n->rec.ip, err);
  if (r == 0 && n->ipv6) {
    r = network_choose_subnet6(n, &st, err);
    if (r == 0) r = nn_store_allocate6(&st, c->id, &n->rec.subnet6, &n->rec.ip6, err);
    if (r == 0)
      n->rec.has_ip6 = true;
    else
      nn_store_release(&st, c->id); /* the IPv4 address taken above is not kept either */
  }
  if (st.dirty) {
    struct silo_error e = {0};
    if (nn_store_save(&st, r < 0 ? &e : err) < 0 && r == 0) r = -1;
  }
  if (r < 0 && nn_store_count_own(&st) == 0) {
    /* listed by nn_store_add_foreign: not if the root has no lease left */
    struct silo_error e = {0};
    nn_roots_forget(c->rootdirfd, &e);
  }
  nn_store_close(&st);
  if (r == 0) {
    char ip[16], sn[20];
    silo_log_debug("container `%s`: address %s in %s on bridge %s", c->id, nn_ip_str(n->rec.ip, ip),
                   nn_subnet_str(&n->rec.subnet, sn), n->rec.bridge_name);
  }
  if (r == 0 && n->rec.has_ip6) {
    char ip6[NN_IP6_STRLEN], sn6[NN_SUBNET6_STRLEN];
    silo_log_debug("container `%s`: IPv6 address %s in %s", c->id, nn_ip6_str(&n->rec.ip6, ip6),
                   nn_subnet6_str(&n->rec.subnet6, sn6));
  }
  return r;
}

static bool
config_mounts(const struct oci_config *cfg, const char *dest)
{
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const char *d = cfg->mounts[i].destination;
    while (d[0] == '/' && d[1] == '/') d++;
    size_t len = strlen(d);
    while (len > 1 && d[len - 1] == '/') len--;
    if (len == strlen(dest) && strncmp(d, dest, len) == 0) return true;
  }
  return false;
}

/* Writes <state>/<name> and arranges its read-only bind mount on dest: a mount of
 * the plan, made by the container process; with a user namespace, whose root
 * cannot reach the state directory, silo mounts it after the clone instead
 * (mount_ns_files). */
static int
add_file(struct container_plan *c, const char *statedir, size_t slot, const char *name,
         const char *dest, const char *content, struct silo_error *err)
{
  struct network_plan *n = c->net;
  _cleanup_free_ char *in_root = xasprintf("%s%s", c->rootfs, dest);
  _cleanup_free_ char *etc = xasprintf("%s/etc", c->rootfs);
  struct stat sb;
  /* The mount point is made in the image only when missing and writable. */
  if (lstat(in_root, &sb) < 0 && access(etc, W_OK) < 0) {
    silo_log_warn("container `%s`: no %s: the rootfs has none and cannot get one", c->id, dest);
    return 0;
  }
  if (fs_write_file_atomic(c->statefd, name, content, strlen(content), err) < 0 ||
      fchmodat(c->statefd, name, 0644, 0) < 0)
    return silo_err_wrap(err, "generate %s", dest);
  n->file_src[slot] = xasprintf("%s/%s", statedir, name);
  if (c->userns) {
    n->ns_file_dest[slot] = dest;
    n->ns_files = true;
    return 0;
  }
  static const char *const opts[] = {"bind", "ro", "nosuid", "nodev", "noexec", NULL};
  struct oci_mount *m = &n->files[slot];
  m->destination = dest;
  m->type = "bind";
  m->source = n->file_src[slot];
  m->options = (const char **)opts;
  m->n_options = ARRAY_SIZE(opts) - 1;
  c->mounts = xrealloc(c->mounts, (c->n_mounts + 2) * sizeof *c->mounts);
  memset(&c->mounts[c->n_mounts], 0, 2 * sizeof *c->mounts);
  if (mountopts_parse(m, c->n_mounts, c->bundle, &c->mounts[c->n_mounts], err) < 0) return -1;
  c->n_mounts++;
  return 0;
}

static int
add_files(struct container_plan *c, struct silo_error *err)
{
  struct network_plan *n = c->net;
  char statedir[PATH_MAX], fdp[PROC_FD_PATH_MAX];
  ssize_t len = readlink(fs_proc_fd_path(fdp, c->statefd), statedir, sizeof statedir - 1);
  if (len < 0) return silo_err(err, errno, "state directory path");
  statedir[len] = '\0';
  if (!config_mounts(c->cfg, "/etc/hosts")) {
    char host[64];
    snprintf(host, sizeof host, "%s", c->cfg->hostname ? c->cfg->hostname : c->id);
    _cleanup_free_ char *text =
        nn_hosts_content(host, n->rec.ip, n->rec.has_ip6 ? &n->rec.ip6 : NULL);
    if (add_file(c, statedir, 0, "hosts", "/etc/hosts", text, err) < 0) return -1;
  }
  if (!config_mounts(c->cfg, "/etc/resolv.conf")) {
    _cleanup_free_ char *host = NULL, *fallback = NULL;
    struct silo_error e = {0};
    fs_read_file("/etc/resolv.conf", &host, NULL, &e);
    fs_read_file("/run/systemd/resolve/resolv.conf", &fallback, NULL, &e);
    _cleanup_free_ char *text = nn_resolv_content(host, fallback);
    if (add_file(c, statedir, 1, "resolv.conf", "/etc/resolv.conf", text, err) < 0) return -1;
  }
  return 0;
}

int
network_before_clone(struct container_plan *c, struct silo_error *err)
{
  struct network_plan *n = c->net;
  /* Recorded first: whatever fails from here on, teardown knows the names. */
  if (nn_record_write(c->statefd, &n->rec, err) < 0) return silo_err_wrap(err, "network");
  if (!n->rec.bridge) return 0;
  if (lease(c, n, err) < 0 || nn_record_write(c->statefd, &n->rec, err) < 0)
    return silo_err_wrap(err, "network");
  if (add_files(c, err) < 0) return silo_err_wrap(err, "network");
  return 0;
}

/* ---- after clone: the namespace, the bridge, NAT, netDevices ---- */

/* A container with a user namespace waits for GO before mounting anything, in a
 * mount namespace that is still a copy of ours (its mounts slaves of ours: nothing
 * propagates back).  silo enters it and attaches the generated files, as detached
 * read-only mounts made here, on <rootfs>/etc/...; rootfs_prepare's recursive
 * bind of the rootfs then carries them into the container. */
static int
mount_ns_files(struct container_plan *c, struct silo_error *err)
{
  struct network_plan *n = c->net;
  _cleanup_close_ int t0 = -1, t1 = -1;
  int *trees[2] = {&t0, &t1};
  for (size_t i = 0; i < 2; i++) {
    if (!n->ns_file_dest[i]) continue;
    *trees[i] = open_tree(AT_FDCWD, n->file_src[i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (*trees[i] < 0) return silo_err(err, errno, "clone a mount of `%s`", n->file_src[i]);
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                       MOUNT_ATTR_NOEXEC};
    if (mount_setattr(*trees[i], "", AT_EMPTY_PATH, &a, sizeof a) < 0)
      return silo_err(err, errno, "make the mount of `%s` read-only", n->file_src[i]);
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)c->pid);
  _cleanup_close_ int target = open(path, O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (target < 0 || self < 0 || cwd < 0) return silo_err(err, errno, "open mount namespaces");
  if (setns(target, CLONE_NEWNS) < 0)
    return silo_err(err, errno, "enter the container's mount namespace");
  int ret = 0;
  _cleanup_close_ int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) ret = silo_err(err, errno, "open rootfs `%s`", c->rootfs);
  for (size_t i = 0; i < 2 && ret == 0; i++) {
    if (*trees[i] < 0) continue;
    _cleanup_close_ int dest = fs_mkpath_in_root(rootfd, n->ns_file_dest[i], false, err);
    if (dest < 0)
      ret = silo_err_wrap(err, "mount point %s", n->ns_file_dest[i]);
    else if (move_mount(*trees[i], "", dest, "",
                        MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      ret = silo_err(err, errno, "mount %s", n->ns_file_dest[i]);
  }
  if (setns(self, CLONE_NEWNS) < 0) {
    /* Going on in the container's mount namespace would act on the wrong files. */
    silo_log_error("cannot return to silo's mount namespace: %s", strerror(errno));
    abort();
  }
  if (fchdir(cwd) < 0) silo_log_warn("network: cannot return to the working directory");
  return ret;
}

/* <state>/netns: a bind mount of the namespace, so it outlives the container's
 * processes until teardown (veth and lent devices are still there to be undone). */
static int
pin_netns(struct container_plan *c, struct silo_error *err)
{
  struct network_plan *n = c->net;
  n->rec.pinned = true;
  if (nn_record_write(c->statefd, &n->rec, err) < 0) return -1;
  _cleanup_close_ int fd =
      openat(c->statefd, "netns", O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
  if (fd < 0) return silo_err(err, errno, "create <state>/netns");
  char src[PROC_FD_PATH_MAX], dst[PROC_FD_PATH_MAX];
  if (mount(fs_proc_fd_path(src, n->netns_fd), fs_proc_fd_path(dst, fd), NULL, MS_BIND, NULL) < 0)
    return silo_err(err, errno, "bind the network namespace on <state>/netns");
  return 0;
}

static int
attach_bridge(struct container_plan *c, struct silo_error *err)
{
  struct network_plan *n = c->net;
  struct nn_store st;
  if (nn_store_open(c->rootdirfd, NN_STORE_CREATE, &st, err) < 0) return -1;
  struct nn_nl *host = nn_nl_open(-1, err);
  _cleanup_close_ int net_lock = -1;
  int ret = -1;
  if (!host) goto out;
  /* In this order, under the store's lock: the bridge with its gateways (the
   * container's default routes need them on-link); forwarding (traffic flows as
   * soon as eth0 is up), recorded in the store at once so that teardown can turn it
   * off again even if what follows fails; the endpoint; the NAT rules last, when
   * the addresses they name exist.  Each step only adds what is the container's
   * or silo's own (a bridge it may share, its tables), and a failure anywhere is
   * undone by network_teardown from network.json and the lease. */
  /* Held until the veth is on the bridge: another root's teardown then sees it and
   * leaves the bridge and forwarding alone (nn_host_net_lock). */
  net_lock = nn_host_net_lock(err);
  if (net_lock < 0) goto out;
  int index, mtu;
  bool created;
  if (nn_bridge_ensure(host, n->rec.bridge_name, &n->rec.subnet, &index, &mtu, &created, err) < 0)
    goto out;
  if (created) silo_log_debug("network: created bridge %s", n->rec.bridge_name);
  if (n->rec.has_ip6 &&
      nn_bridge_ensure6(host, n->rec.bridge_name, index, &n->rec.subnet6, err) < 0)
    goto out;
  /* A network that spans hosts: the bridge joined to the others' by the VXLAN. */
  if (n->vx.vni && nn_vxlan_ensure(host, &n->vx, index, mtu, err) < 0) goto out;
  char val[16];
  if (nn_sysctl_get("net/ipv4/ip_forward", val, sizeof val) < 0 || strcmp(val, "1") != 0) {
    if (nn_sysctl_set("net/ipv4/ip_forward", "1", err) < 0) goto out;
    if (nn_forward_mark("ipv4", true, err) < 0) goto out;
  }
  if (n->rec.has_ip6 && (nn_sysctl_get("net/ipv6/conf/all/forwarding", val, sizeof val) < 0 ||
                         strcmp(val, "1") != 0)) {
    /* "all" sets every interface's forwarding (the kernel has no single IPv6 switch);
     * like ip_forward it is turned off again with silo's last container. */
    if (nn_sysctl_set("net/ipv6/conf/all/forwarding", "1", err) < 0) goto out;
    silo_log_debug("network: turned on net.ipv6.conf.all.forwarding");
    if (nn_forward_mark("ipv6", true, err) < 0) goto out;
  }
  if (n->rec.n_ports) {
    /* Published ports reachable from the host's 127.0.0.1 (see nft.c's guard). */
    char key[64];
    snprintf(key, sizeof key, "net/ipv4/conf/%s/route_localnet", n->rec.bridge_name);
    if (nn_sysctl_set(key, "1", err) < 0) goto out;
  }
  struct nn_endpoint e = nn_record_endpoint(&n->rec, n->netns_fd);
  if (nn_endpoint_create(host, &e, err) < 0) goto out;
  close_fd(&net_lock);
  struct nn_nft_rules rules = nn_record_rules(&n->rec);
  if (nn_nft_add(&rules, err) < 0) goto out;
  ret = 0;
out:
  nn_nl_close(host);
  nn_store_close(&st);
  return ret;
}

int
network_after_clone(struct container_plan *c, struct silo_error *err)
{
  struct network_plan *n = c->net;
  if (c->join_fd[OCI_NS_NETWORK] >= 0) {
    n->netns_fd = fcntl(c->join_fd[OCI_NS_NETWORK], F_DUPFD_CLOEXEC, 3);
  } else {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)c->pid);
    n->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
  }
  if (n->netns_fd < 0) /* its error, if any, is on the sync socket */
    return silo_err(err, ESRCH, "network: the container process exited during set-up");
  if (pin_netns(c, err) < 0) return silo_err_wrap(err, "network");
  if (n->ns_files && mount_ns_files(c, err) < 0) return silo_err_wrap(err, "network");
  if (n->rec.bridge && attach_bridge(c, err) < 0) return silo_err_wrap(err, "network");

  struct nn_nl *host = n->rec.n_devs ? nn_nl_open(-1, err) : NULL;
  if (n->rec.n_devs && !host) return silo_err_wrap(err, "linux.netDevices");
  int r = 0;
  for (size_t i = 0; i < n->rec.n_devs && r == 0; i++) {
    r = nn_netdev_move_in(host, n->netns_fd, &n->rec.devs[i], err);
    struct silo_error e = {0};
    /* Recorded as soon as it moved, addresses included, for teardown. */
    if (n->rec.devs[i].moved) nn_record_write(c->statefd, &n->rec, &e);
    if (r < 0) silo_err_wrap(err, "linux.netDevices");
  }
  nn_nl_close(host);
  if (r < 0) return -1;
  return nn_record_write(c->statefd, &n->rec, err) < 0 ? silo_err_wrap(err, "network") : 0;
}

/* ---- teardown ---- */

static void
detach_bridge(int statefd, const char *id, const struct nn_record *r)
{
  struct silo_error e = {0};
  _cleanup_close_ int rootfd = openat(statefd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct nn_store st;
  int s = rootfd < 0 ? -1 : nn_store_open(rootfd, 0, &st, &e);
  if (s < 0) silo_log_warn("container `%s`: network: %s", id, e.msg);
  struct nn_nl *host = nn_nl_open(-1, &e);
  /* The veth and the rules are named after the id: without a lease here (the
   * allocation failed, say because another root's container has this id and
   * these names), they are not this container's to remove.  An unreadable
   * store: removed, as the container's most likely. */
  bool ours = s < 0 || (s == 0 && nn_store_find(&st, id));
  if (host && ours) nn_endpoint_remove(host, r->veth);
  if (ours && r->key[0] && nn_nft_remove(r->key, &e) < 0)
    silo_log_warn("container `%s`: network: %s", id, e.msg);
  if (s == 0) {
    nn_store_release(&st, id);
    /* Our veth is gone; under the host's network lock no container of any root is
     * between its look at the bridge or the switch and its veth (nn_host_net_lock). */
    _cleanup_close_ int net_lock = nn_host_net_lock(&e);
    /* Other roots' containers may use the bridge and its IPv6 gateway too: their
     * leases count below (unread, the bridge's address stays: the safe side). */
    bool foreign = net_lock >= 0 && nn_store_add_foreign(&st, rootfd, NULL, NULL, &e) == 0;
    /* The IPv6 gateway goes with the bridge's last IPv6 container (the bridge may
     * stay, for IPv4 containers). */
    if (host && foreign && r->has_ip6 && r->bridge_name[0] &&
        nn_store_count6(&st, r->bridge_name) == 0)
      nn_bridge_release6(host, r->bridge_name, &r->subnet6);
    if (host && r->bridge_name[0] && nn_store_count(&st, r->bridge_name) == 0)
      nn_bridge_release(host, r->bridge_name);
    /* silo turned forwarding on (this root or another, or an older silo that kept
     * the mark in the root's store): off again with the host's last container. */
    bool no_veth = host && !nn_any_silo_veth(host);
    if (no_veth && (st.forward_changed || nn_forward_marked("ipv4")) &&
        nn_sysctl_set("net/ipv4/ip_forward", "0", &e) == 0) {
      st.forward_changed = false;
      nn_forward_mark("ipv4", false, &e);
    }
    if (no_veth && (st.forward6_changed || nn_forward_marked("ipv6")) &&
        nn_sysctl_set("net/ipv6/conf/all/forwarding", "0", &e) == 0) {
      st.forward6_changed = false;
      nn_forward_mark("ipv6", false, &e);
    }
    /* The root's last lease: off the host's list of roots, so nothing of it is left. */
    if (nn_store_count_own(&st) == 0 && rootfd >= 0 && nn_roots_forget(rootfd, &e) < 0)
      silo_log_warn("container `%s`: network: %s", id, e.msg);
    st.dirty = true;
    if (nn_store_save(&st, &e) < 0) silo_log_warn("container `%s`: network: %s", id, e.msg);
    nn_store_close(&st);
  }
  nn_nl_close(host);
}

void
network_teardown(int statefd, const char *id)
{
  struct nn_record r;
  struct silo_error e = {0};
  int x = nn_record_read(statefd, &r, &e);
  if (x == 1) return;
  if (x < 0) {
    /* Unreadable: what silo would have made has names derived from the id. */
    silo_log_warn("container `%s`: network: %s", id, e.msg);
    memset(&r, 0, sizeof r);
    r.bridge = r.pinned = true;
    nn_veth_name(id, r.veth);
    nn_rule_key(id, r.key);
  }
  _cleanup_close_ int nsfd = -1;
  struct statfs sfs;
  if (r.pinned) {
    nsfd = openat(statefd, "netns", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (nsfd >= 0 && (fstatfs(nsfd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC_)) {
      close(nsfd);
      nsfd = -1;
    }
  }
  for (size_t i = 0; i < r.n_devs; i++) {
    if (!r.devs[i].moved) continue;
    if (nsfd < 0) {
      /* The namespace died: the kernel gave physical devices back to the host's
       * namespace (under their container name) and destroyed virtual ones. */
      silo_log_warn("container `%s`: linux.netDevices: `%s`: the network namespace is gone", id,
                    r.devs[i].name);
      continue;
    }
    if (nn_netdev_move_out(nsfd, &r.devs[i], &e) < 0)
      silo_log_warn("container `%s`: linux.netDevices: %s", id, e.msg);
  }
  if (r.bridge) detach_bridge(statefd, id, &r);
  if (nsfd >= 0) close(steal_fd(&nsfd));
  if (r.pinned) {
    char dir[PROC_FD_PATH_MAX];
    _cleanup_free_ char *pin = xasprintf("%s/netns", fs_proc_fd_path(dir, statefd));
    if (umount2(pin, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
      silo_log_warn("container `%s`: network: unmount <state>/netns: %s", id, strerror(errno));
    unlinkat(statefd, "netns", 0);
  }
  unlinkat(statefd, "network.json", 0);
  nn_record_free(&r);
}
