/* silo: a container's own network namespace, external to CRIU when it holds
 * nothing a new one would not (issue #17).
 *
 * CRIU dumps a network namespace by running `ip addr/route/-6 route/rule save`,
 * `iptables-save` and `ip6tables-save` (nft and legacy) and restores it with
 * their counterparts: a fork and an exec each, with the tasks frozen, the
 * largest share of a postcopy migration's downtime.  Most containers never
 * touch their namespace beyond the `lo` the runtime brought up, and a new
 * namespace with `lo` up is then exactly what they had:
 *
 *   dump     the container's namespace (/proc/PID/ns/net, kept open) is
 *            described (ckpt_netns_collect): every link with its flags and
 *            attributes (its IPv4 and IPv6 per-device settings included),
 *            every address, every route of every table and family, every
 *            policy rule, the netns ids, the nftables tables, the legacy
 *            iptables tables in use, and the value of every writable sysctl
 *            under /proc/sys/net.  A namespace made new right then on this
 *            host, `lo` up as the runtime does (nn_loopback_up), is described
 *            the same way; when the two agree (counters, timestamps and other
 *            values the kernel changes by itself left out), the namespace is
 *            declared external (net[INODE]:extRootNetNS) and the manifest says
 *            "netns": "new".  Anything else, or a legacy iptables table (its
 *            rules are not looked at), leaves it to CRIU as before.
 *   freeze   the description is made again once the cgroup is frozen (CRIU's
 *            pre-dump notification, as the tmpfs mounts are checked): a
 *            container that changed its namespace in between makes the dump
 *            start again with the namespace left to CRIU.
 *   restore  for "netns": "new" (and a config whose network namespace is the
 *            container's own), silo makes a namespace, brings `lo` up, and
 *            hands it to CRIU (--inherit-fd extRootNetNS): CRIU restores the
 *            processes and their sockets (listening, established with
 *            --tcp-established) into it.  A local `silo restore` and a
 *            migration's receiver run the same code.
 *
 * Nothing CRIU would keep is lost: the namespace is external only when what CRIU
 * dumps of it (and more) is what a new one holds, and no process outside the
 * container's cgroup is in it (it would not be frozen with the container).  What
 * neither reads (xfrm, nexthops, neighbours, qdiscs...) is lost either way.  A
 * new namespace has the defaults of the host that makes it: a container restored
 * on another host gets that host's (as a container started there would).  Not
 * with a user namespace (its network namespace would belong to it), not with
 * --empty-ns network, not without silo's early freeze.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "netns/netns.h"
#include "oci/oci.h"

#define NL_BUF      32768
#define DESC_MAX    (1 << 20) /* a longer description is not a new namespace's */
#define SYSCTL_ROOT "/proc/sys/net"

/* ---- the description (made inside the namespace) ---- */

static void
hex(FILE *f, const void *p, size_t n)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) fprintf(f, "%02x", b[i]);
}

/* Attributes of a message, each as type:hex, but those skip() names. */
struct attr_out {
  FILE *f;
  bool (*skip)(const struct nlattr *a, FILE *f); /* true: left out (or written by it) */
};

static int
attr_put(const struct nlattr *a, void *data)
{
  struct attr_out *o = data;
  if (o->skip && o->skip(a, o->f)) return MNL_CB_OK;
  fprintf(o->f, " %u:", mnl_attr_get_type(a));
  hex(o->f, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
  return MNL_CB_OK;
}

/* IFLA_AF_SPEC / AF_INET6: the settings, not the statistics or the cache info
 * (its reachable time is drawn at random). */
static bool
inet6_skip(const struct nlattr *a, FILE *f)
{
  (void)f;
  switch (mnl_attr_get_type(a)) {
  case IFLA_INET6_STATS:
  case IFLA_INET6_MCAST:
  case IFLA_INET6_CACHEINFO:
  case IFLA_INET6_ICMP6STATS:
    return true;
  default:
    return false;
  }
}

static bool
af_spec_family(const struct nlattr *a, FILE *f)
{
  if (mnl_attr_get_type(a) != AF_INET6) return false;
  fprintf(f, " inet6{");
  struct attr_out o = {f, inet6_skip};
  mnl_attr_parse_nested(a, attr_put, &o);
  fprintf(f, " }");
  return true;
}

static bool
link_skip(const struct nlattr *a, FILE *f)
{
  switch (mnl_attr_get_type(a)) {
  case IFLA_STATS:
  case IFLA_STATS64:
    return true;
  case IFLA_AF_SPEC: {
    fprintf(f, " af{");
    struct attr_out o = {f, af_spec_family};
    mnl_attr_parse_nested(a, attr_put, &o);
    fprintf(f, " }");
    return true;
  }
  default:
    return false;
  }
}

/* IFA_CACHEINFO: the lifetimes only (not when the address was made). */
static bool
addr_skip(const struct nlattr *a, FILE *f)
{
  if (mnl_attr_get_type(a) != IFA_CACHEINFO) return false;
  if (mnl_attr_get_payload_len(a) >= sizeof(struct ifa_cacheinfo)) {
    const struct ifa_cacheinfo *ci = mnl_attr_get_payload(a);
    fprintf(f, " life:%u/%u", ci->ifa_prefered, ci->ifa_valid);
  }
  return true;
}

/* RTA_CACHEINFO: use counts and times. */
static bool
route_skip(const struct nlattr *a, FILE *f)
{
  (void)f;
  return mnl_attr_get_type(a) == RTA_CACHEINFO;
}

struct dump {
  FILE *f;
  const char *tag;
  size_t hdr; /* the family header's size, written as hex */
  bool (*skip)(const struct nlattr *a, FILE *f);
};

static int
dump_cb(const struct nlmsghdr *nlh, void *data)
{
  struct dump *d = data;
  /* a namespace with a million routes is not a new one: no need to read them all */
  if (ftell(d->f) > DESC_MAX) {
    errno = EFBIG;
    return MNL_CB_ERROR;
  }
  fprintf(d->f, "%s %u ", d->tag, nlh->nlmsg_type);
  hex(d->f, mnl_nlmsg_get_payload(nlh), d->hdr);
  struct attr_out o = {d->f, d->skip};
  mnl_attr_parse(nlh, (unsigned)d->hdr, attr_put, &o);
  fputc('\n', d->f);
  return MNL_CB_OK;
}

/* One dump request on sk; every answer written.  -1: failed (errno). */
static int
nl_dump(struct mnl_socket *sk, char *buf, uint16_t type, const void *hdr, size_t hdr_len,
        struct dump *d)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1;
  memcpy(mnl_nlmsg_put_extra_header(nlh, hdr_len), hdr, hdr_len);
  if (mnl_socket_sendto(sk, nlh, nlh->nlmsg_len) < 0) return -1;
  unsigned portid = mnl_socket_get_portid(sk);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sk, buf, NL_BUF);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    int r = mnl_cb_run(buf, (size_t)n, 1, portid, dump_cb, d);
    if (r < 0) return -1;
    if (r == MNL_CB_STOP) return 0;
  }
}

static struct mnl_socket *
nl_open(int bus)
{
  struct mnl_socket *sk = mnl_socket_open2(bus, SOCK_CLOEXEC);
  if (sk && mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
    mnl_socket_close(sk);
    sk = NULL;
  }
  return sk;
}

/* Links, addresses, routes, rules, netns ids; the nftables tables.  A request
 * that fails is written as its errno (the same failure on both sides agrees). */
static void
describe_netlink(FILE *f)
{
  _cleanup_free_ char *buf = xmalloc(NL_BUF);
  struct mnl_socket *sk = nl_open(NETLINK_ROUTE);
  struct ifinfomsg ifm = {.ifi_family = AF_UNSPEC};
  struct ifaddrmsg ifa = {.ifa_family = AF_UNSPEC};
  struct rtmsg rtm = {.rtm_family = AF_UNSPEC};
  struct rtgenmsg gen = {.rtgen_family = AF_UNSPEC};
  const struct {
    const char *tag;
    uint16_t type;
    const void *hdr;
    size_t len;
    bool (*skip)(const struct nlattr *a, FILE *f);
  } q[] = {
      {"link", RTM_GETLINK, &ifm, sizeof ifm, link_skip},
      {"addr", RTM_GETADDR, &ifa, sizeof ifa, addr_skip},
      {"route", RTM_GETROUTE, &rtm, sizeof rtm, route_skip},
      {"rule", RTM_GETRULE, &rtm, sizeof rtm, NULL},
      {"nsid", RTM_GETNSID, &gen, sizeof gen, NULL},
  };
  for (size_t i = 0; i < ARRAY_SIZE(q); i++) {
    struct dump d = {f, q[i].tag, q[i].len, q[i].skip};
    if (!sk || nl_dump(sk, buf, q[i].type, q[i].hdr, q[i].len, &d) < 0)
      fprintf(f, "%s !%d\n", q[i].tag, errno);
  }
  if (sk) mnl_socket_close(sk);
  /* nftables: any table at all (iptables-nft's included) is the container's */
  sk = nl_open(NETLINK_NETFILTER);
  struct nfgenmsg nfg = {.nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0};
  struct dump d = {f, "nft", sizeof nfg, NULL};
  if (!sk ||
      nl_dump(sk, buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, &nfg, sizeof nfg, &d) < 0)
    fprintf(f, "nft !%d\n", errno);
  if (sk) mnl_socket_close(sk);
}

/* fd: the file, or -errno when it could not be opened */
static void
put_sysctl(FILE *f, const char *name, int fd)
{
  char val[4096];
  ssize_t n = fd >= 0 ? pread(fd, val, sizeof val, 0) : -1;
  int e = fd >= 0 ? errno : -fd;
  fprintf(f, "sysctl %s=", name);
  if (n < 0)
    fprintf(f, "!%d\n", e);
  else
    fprintf(f, "%.*s%s", (int)n, val, n > 0 && val[n - 1] == '\n' ? "" : "\n");
}

/* Every writable sysctl under dirfd (path rel): what the container could have
 * set.  Read-only ones (counters, nf_conntrack_count) it cannot.  keep: the
 * files stay open there, for describe_sysctls_again (a /proc/sys file stays
 * bound to the namespace it was opened in; reading it again by its fd takes a
 * sixth of the time of a lookup by path, which counts under the freeze). */
static void
describe_sysctls(FILE *f, int dirfd, const char *rel, int depth, struct ckpt_netns_sysctls *keep)
{
  int dup = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
  if (!d) {
    if (dup >= 0) close(dup);
    fprintf(f, "sysctl %s !dir\n", rel);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    struct stat st;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      _cleanup_close_ int sub =
          openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      _cleanup_free_ char *p = xasprintf("%s/%s", rel, de->d_name);
      if (sub >= 0 && depth < 8) describe_sysctls(f, sub, p, depth + 1, keep);
      continue;
    }
    /* what the container can set and read back (not route/flush) */
    if (!S_ISREG(st.st_mode) || !(st.st_mode & 0222) || !(st.st_mode & 0444)) continue;
    _cleanup_free_ char *name = xasprintf("%s/%s", rel, de->d_name);
    _cleanup_close_ int fd = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fd = -errno;
    put_sysctl(f, name, fd);
    if (!keep) continue;
    keep->v = xrealloc(keep->v, (keep->n + 1) * sizeof *keep->v);
    keep->v[keep->n].fd = steal_fd(&fd);
    keep->v[keep->n++].name = steal_ptr(&name);
  }
  closedir(d);
}

static void
sysctls_free(struct ckpt_netns_sysctls *k)
{
  for (size_t i = 0; i < k->n; i++) {
    if (k->v[i].fd >= 0) close(k->v[i].fd);
    free(k->v[i].name);
  }
  free(k->v);
  k->v = NULL;
  k->n = 0;
}

/* The legacy iptables tables in use: 1 when there is one (its rules are not
 * looked at: such a namespace stays CRIU's). */
static int
legacy_tables(void)
{
  static const char *const files[] = {"/proc/self/net/ip_tables_names",
                                      "/proc/self/net/ip6_tables_names",
                                      "/proc/self/net/arp_tables_names"};
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    _cleanup_close_ int fd = open(files[i], O_RDONLY | O_CLOEXEC);
    char c;
    if (fd >= 0 && read(fd, &c, 1) > 0) return 1;
  }
  return 0;
}

/* Privileged (CAP_SYS_ADMIN over the namespace): silo enters nsfd for the time
 * it reads the namespace (netlink sockets are made in it, /proc/sys/net and
 * /proc/self/net show it), and comes straight back; nothing is written, and
 * nothing of the container's runs in silo.  silo is single-threaded here.
 * nsfd -1: the current namespace.  NULL: cannot be described, or holds a legacy
 * iptables table.  keep (the first look): the sysctl files kept open; again
 * (under the freeze): read through those instead of by path.  expect: the
 * description it is compared with; once the netlink part differs from it, the
 * sysctls are not read (a namespace with many links has many of them). */
static char *
describe(int nsfd, struct ckpt_netns_sysctls *keep, const struct ckpt_netns_sysctls *again,
         const char *expect)
{
  _cleanup_close_ int self = -1;
  if (nsfd >= 0) {
    if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) return NULL;
    if (setns(nsfd, CLONE_NEWNET) < 0) return NULL;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  int legacy = legacy_tables();
  _cleanup_close_ int sys = again ? -1 : open(SYSCTL_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (f && !legacy) {
    describe_netlink(f);
    bool differs = expect && (fflush(f) != 0 || strncmp(text, expect, len) != 0);
    if (differs)
      fprintf(f, "(the rest not read)\n");
    else if (again)
      for (size_t i = 0; i < again->n; i++) put_sysctl(f, again->v[i].name, again->v[i].fd);
    else if (sys >= 0)
      describe_sysctls(f, sys, "", 0, keep);
    else
      fprintf(f, "sysctl !%d\n", errno);
  }
  if (self >= 0 && setns(self, CLONE_NEWNET) < 0) {
    /* Staying in the container's namespace would dump and restore the wrong one. */
    fprintf(stderr, "silo: cannot return to silo's network namespace: %s\n", strerror(errno));
    abort();
  }
  if (f) fclose(f);
  if (!f || legacy) {
    free(text);
    return NULL;
  }
  return text;
}

/* ---- a new namespace ---- */

/* Privileged (CAP_SYS_ADMIN): silo makes a network namespace, brings its `lo`
 * up (nn_loopback_up, as every container's own namespace gets it) and goes back
 * to its own; the new one lives on in the returned fd (not close-on-exec when
 * for_criu: CRIU, a child of ours, takes it by number).  text: its description. */
static int
new_netns(bool for_criu, char **text, struct silo_error *err)
{
  _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return silo_err(err, errno, "open /proc/self/ns/net");
  if (unshare(CLONE_NEWNET) < 0) return silo_err(err, errno, "unshare a network namespace");
  int fd = open("/proc/self/ns/net", O_RDONLY | (for_criu ? 0 : O_CLOEXEC));
  int r = fd < 0 ? silo_err(err, errno, "open the new network namespace") : nn_loopback_up(err);
  if (r > 0) r = silo_err(err, ENODEV, "no `lo` in a new network namespace");
  if (r == 0 && text && !(*text = describe(-1, NULL, NULL, NULL)))
    r = silo_err(err, EIO, "describe a new network namespace");
  if (setns(self, CLONE_NEWNET) < 0) {
    fprintf(stderr, "silo: cannot return to silo's network namespace: %s\n", strerror(errno));
    abort();
  }
  if (r < 0) {
    if (fd >= 0) close(fd);
    return silo_err_wrap(err, "a new network namespace");
  }
  return fd;
}

/* ---- dump ---- */

/* Is the config's network namespace the container's own, one silo could make
 * again (no path, no user namespace)? */
static bool
own_netns(const struct oci_config *cfg)
{
  const struct oci_namespace *net = oci_config_namespace(cfg, OCI_NS_NETWORK);
  return net && !net->path && !oci_config_namespace(cfg, OCI_NS_USER);
}

/* The first line where a and b differ, for the debug log. */
static void
log_difference(const char *a, const char *b)
{
  size_t i = 0;
  while (a[i] && a[i] == b[i]) i++;
  while (i > 0 && a[i - 1] != '\n') i--;
  silo_log_debug(
      "checkpoint: the network namespace differs from a new one at: %.200s | new: %.200s", a + i,
      b + i);
}

/* Whether a process outside the container's cgroup is in the namespace n->fd: it is
 * not frozen with the container, and could change the namespace while CRIU dumps
 * the container (another container that joined it by path, a host shell that ran
 * `nsenter --net`): CRIU's dump then, which reads the namespace after the tasks.
 * Threads are not looked at one by one (/proc/PID/ns/net is the thread group
 * leader's), nor fds or bind mounts of the namespace through which a process could
 * enter it later: the host's root can always reach into a container. */
static bool
held_outside(const struct ckpt_netns *n, const struct cgroup *cg)
{
  struct silo_error e = {0};
  _cleanup_free_ pid_t *in = NULL;
  size_t nin = 0;
  struct stat ns;
  if (fstat(n->fd, &ns) < 0 || !cg || cgroup_pids(cg, &in, &nin, &e) < 0) return true;
  DIR *d = opendir("/proc");
  if (!d) return true;
  pid_t held = 0, me = getpid();
  struct dirent *de;
  while (!held && (de = readdir(d))) {
    char *end, p[64];
    long pid = strtol(de->d_name, &end, 10);
    if (*end || pid <= 0 || pid == me) continue;
    snprintf(p, sizeof p, "/proc/%ld/ns/net", pid);
    struct stat st;
    if (stat(p, &st) < 0 || st.st_ino != ns.st_ino || st.st_dev != ns.st_dev) continue;
    bool inside = false;
    for (size_t i = 0; i < nin && !inside; i++) inside = in[i] == (pid_t)pid;
    if (!inside) held = (pid_t)pid;
  }
  closedir(d);
  if (held)
    silo_log_debug("checkpoint: process %d, not in the container's cgroup, is in its network "
                   "namespace: left to CRIU",
                   (int)held);
  return held != 0;
}

void
ckpt_netns_collect(const struct oci_config *cfg, pid_t pid, const struct cgroup *cg,
                   struct ckpt_netns *n)
{
  *n = (struct ckpt_netns){.fd = -1};
  if (!own_netns(cfg)) return;
  struct silo_error e = {0};
  _cleanup_free_ char *mine = NULL;
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/ns/net", (int)pid);
  _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) return;
  int ref = new_netns(false, &n->fresh, &e);
  if (ref < 0) {
    silo_log_debug("checkpoint: %s: the network namespace left to CRIU", e.msg);
    return;
  }
  close(ref);
  double t0 = time_mono_s();
  mine = describe(fd, &n->sysctls, NULL, n->fresh);
  silo_log_debug("checkpoint: the network namespace described in %.1f ms (%zu bytes)",
                 (time_mono_s() - t0) * 1e3, mine ? strlen(mine) : 0);
  if (!mine || strcmp(mine, n->fresh) != 0) {
    if (mine) log_difference(mine, n->fresh);
    silo_log_debug("checkpoint: the network namespace holds more than a new one: left to CRIU");
    ckpt_netns_free(n);
    return;
  }
  n->fd = steal_fd(&fd);
  n->ino = (unsigned long long)st.st_ino;
  if (held_outside(n, cg)) ckpt_netns_free(n);
}

bool
ckpt_netns_unchanged(const struct ckpt_netns *n, const struct cgroup *cg)
{
  double t0 = time_mono_s();
  if (held_outside(n, cg)) return false;
  _cleanup_free_ char *now = describe(n->fd, NULL, &n->sysctls, n->fresh);
  bool same = now && strcmp(now, n->fresh) == 0;
  silo_log_debug("checkpoint: the network namespace looked at again under the freeze in %.1f ms",
                 (time_mono_s() - t0) * 1e3);
  if (same) return true;
  if (now) log_difference(now, n->fresh);
  silo_log_debug("checkpoint: the network namespace changed before the freeze");
  return false;
}

void
ckpt_netns_free(struct ckpt_netns *n)
{
  if (n->fd >= 0) close(n->fd);
  free(n->fresh);
  sysctls_free(&n->sysctls);
  *n = (struct ckpt_netns){.fd = -1};
}

/* ---- restore ---- */

int
ckpt_netns_restore(json_t *manifest, const struct oci_config *cfg, struct criu_req *r, int *fd,
                   struct silo_error *err)
{
  json_t *v = manifest ? json_object_get(manifest, "netns") : NULL;
  if (!v) return 0;
  if (!json_is_string(v) || strcmp(json_string_value(v), "new") != 0)
    return silo_err(err, EINVAL, "%s: \"netns\" is not \"new\"", CKPT_MANIFEST);
  /* the images hold no network namespace: the config must give it one to make */
  if (!own_netns(cfg))
    return silo_err(err, EINVAL,
                    "the checkpoint's network namespace was the container's own and new: the "
                    "config must give it one of its own (no path, no user namespace)");
  if (*fd >= 0) return silo_err(err, EINVAL, "the container's network namespace is given twice");
  *fd = new_netns(true, NULL, err);
  if (*fd < 0) return -1;
  phase_mark("netns-made"); /* (the tests look) */
  criu_req_inherit(r, *fd, "extRootNetNS");
  return 0;
}
