/* silo netns: address management.
 *
 *   <root>/.network/lock         flock()ed while the store is open (blocking)
 *   <root>/.network/leases.json  {"ipForwardChanged": bool, "ip6ForwardChanged": bool,
 *                                 "leases": [{"id", "bridge", "subnet", "ip", "ports",
 *                                             "netns" (its nsfs inode),
 *                                             "subnet6", "ip6" (with IPv6 only)}]}
 *
 * Every silo command that allocates, releases or changes the bridges and the nft
 * table holds the lock, so concurrent creates get distinct addresses.  A lease
 * whose container has no state directory any more (a silo killed mid-create, a
 * state dir removed by hand) is reclaimed by the next allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "netns/netns.h"

void
nn_lease_free(struct nn_lease *l)
{
  free(l->id);
  free(l->bridge);
  free(l->ports);
  free(l->root);
  memset(l, 0, sizeof *l);
}

int
nn_store_parse(struct nn_store *st, const char *buf, struct silo_error *err)
{
  json_error_t je;
  json_t *root = json_loads(buf, 0, &je);
  if (!root || !json_is_object(root)) {
    json_decref(root);
    return silo_err(err, EINVAL, "%s: %s", NN_STORE_LEASES, root ? "not an object" : je.text);
  }
  st->forward_changed = json_is_true(json_object_get(root, "ipForwardChanged"));
  st->forward6_changed = json_is_true(json_object_get(root, "ip6ForwardChanged"));
  json_t *arr = json_object_get(root, "leases"), *it;
  size_t i;
  json_array_foreach(arr, i, it)
  {
    const char *id = json_string_value(json_object_get(it, "id"));
    const char *br = json_string_value(json_object_get(it, "bridge"));
    const char *sn = json_string_value(json_object_get(it, "subnet"));
    const char *ip = json_string_value(json_object_get(it, "ip"));
    struct nn_lease l = {0};
    struct silo_error e = {0};
    /* A damaged entry is dropped rather than blocking every create. */
    if (!id || !br || !sn || !ip || nn_subnet_parse(sn, &l.subnet, &e) < 0 ||
        nn_ip_parse(ip, &l.ip) < 0)
      continue;
    const char *sn6 = json_string_value(json_object_get(it, "subnet6"));
    const char *ip6 = json_string_value(json_object_get(it, "ip6"));
    /* A damaged IPv6 part still holds the IPv4 address: kept without it. */
    if (sn6 && ip6 && nn_subnet6_parse(sn6, &l.subnet6, &e) == 0 && nn_ip6_parse(ip6, &l.ip6) == 0)
      l.has_ip6 = true;
    json_t *ports = json_object_get(it, "ports"), *p;
    size_t k;
    json_array_foreach(ports, k, p)
    {
      const char *s = json_string_value(p);
      if (s) nn_ports_parse_list(s, &l.ports, &l.n_ports, &e);
    }
    json_t *ns = json_object_get(it, "netns");
    if (json_is_integer(ns) && json_integer_value(ns) > 0)
      l.netns = (uint64_t)json_integer_value(ns);
    json_t *pend = json_object_get(it, "receiver");
    if (json_is_integer(pend) && json_integer_value(pend) > 0 &&
        json_integer_value(pend) < INT32_MAX)
      l.pending = (int)json_integer_value(pend);
    l.id = xstrdup(id);
    l.bridge = xstrdup(br);
    st->leases = xrealloc(st->leases, (st->n + 1) * sizeof *st->leases);
    st->leases[st->n++] = l;
  }
  json_decref(root);
  return 0;
}

static int
lock_store(struct nn_store *st, bool try, struct silo_error *err)
{
  st->lockfd = openat(st->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (st->lockfd < 0) return silo_err(err, errno, "open %s/lock", NN_STORE_DIR);
  while (flock(st->lockfd, try ? LOCK_EX | LOCK_NB : LOCK_EX) < 0)
    if (errno != EINTR) return silo_err(err, errno, "lock %s", NN_STORE_DIR);
  return 0;
}

int
nn_store_open(int rootfd, unsigned flags, struct nn_store *st, struct silo_error *err)
{
  bool create = flags & NN_STORE_CREATE;
  memset(st, 0, sizeof *st);
  st->dirfd = st->lockfd = -1;
  if (create && mkdirat(rootfd, NN_STORE_DIR, 0700) < 0 && errno != EEXIST)
    return silo_err(err, errno, "create %s", NN_STORE_DIR);
  st->dirfd = openat(rootfd, NN_STORE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (st->dirfd < 0) {
    if (errno == ENOENT && !create) return 1;
    return silo_err(err, errno, "open %s", NN_STORE_DIR);
  }
  if (!(flags & NN_STORE_NOLOCK) && lock_store(st, flags & NN_STORE_TRY, err) < 0) {
    nn_store_close(st);
    return -1;
  }
  _cleanup_free_ char *buf = NULL;
  int r = nn_read_file_at(st->dirfd, NN_STORE_LEASES, NN_STORE_MAX, &buf, err);
  if (r == 0 && buf[0]) r = nn_store_parse(st, buf, err);
  if (r < 0) {
    nn_store_close(st);
    return silo_err_wrap(err, "%s", NN_STORE_DIR);
  }
  return 0;
}

int
nn_store_save(struct nn_store *st, struct silo_error *err)
{
  json_t *root = json_object(), *arr = json_array();
  json_object_set_new(root, "ipForwardChanged", json_boolean(st->forward_changed));
  json_object_set_new(root, "ip6ForwardChanged", json_boolean(st->forward6_changed));
  for (size_t i = 0; i < st->n; i++) {
    const struct nn_lease *l = &st->leases[i];
    if (l->root) continue; /* another root's, kept in its own store */
    char sn[20], ip[16], pb[NN_PORT_STRLEN], sn6[NN_SUBNET6_STRLEN], ip6[NN_IP6_STRLEN];
    json_t *ports = json_array();
    for (size_t k = 0; k < l->n_ports; k++)
      json_array_append_new(ports, json_string(nn_port_str(&l->ports[k], pb)));
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", l->id, "bridge", l->bridge, "subnet",
                  nn_subnet_str(&l->subnet, sn), "ip", nn_ip_str(l->ip, ip), "ports", ports);
    if (l->netns) json_object_set_new(o, "netns", json_integer((json_int_t)l->netns));
    if (l->pending) json_object_set_new(o, "receiver", json_integer(l->pending));
    if (l->has_ip6) {
      json_object_set_new(o, "subnet6", json_string(nn_subnet6_str(&l->subnet6, sn6)));
      json_object_set_new(o, "ip6", json_string(nn_ip6_str(&l->ip6, ip6)));
    }
    json_array_append_new(arr, o);
  }
  json_object_set_new(root, "leases", arr);
  _cleanup_free_ char *text = json_dumps(root, JSON_INDENT(1));
  json_decref(root);
  if (!text) return silo_err(err, ENOMEM, "encode %s", NN_STORE_LEASES);

  const char *tmp = "." NN_STORE_LEASES ".tmp";
  _cleanup_close_ int fd =
      openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return silo_err(err, errno, "create %s/%s", NN_STORE_DIR, tmp);
  size_t len = strlen(text);
  ssize_t w = write(fd, text, len);
  if (w < 0 || (size_t)w != len) {
    int e = w < 0 ? errno : EIO;
    unlinkat(st->dirfd, tmp, 0);
    return silo_err(err, e, "write %s/%s", NN_STORE_DIR, tmp);
  }
  if (renameat(st->dirfd, tmp, st->dirfd, NN_STORE_LEASES) < 0) {
    int e = errno;
    unlinkat(st->dirfd, tmp, 0);
    return silo_err(err, e, "rename %s/%s", NN_STORE_DIR, NN_STORE_LEASES);
  }
  st->dirty = false;
  return 0;
}

void
nn_store_close(struct nn_store *st)
{
  for (size_t i = 0; i < st->n; i++) nn_lease_free(&st->leases[i]);
  free(st->leases);
  st->leases = NULL;
  st->n = 0;
  if (st->lockfd >= 0) close(st->lockfd); /* releases the flock */
  if (st->dirfd >= 0) close(st->dirfd);
  st->lockfd = st->dirfd = -1;
}

const struct nn_lease *
nn_store_find(const struct nn_store *st, const char *id)
{
  for (size_t i = 0; i < st->n; i++)
    if (!st->leases[i].root && strcmp(st->leases[i].id, id) == 0) return &st->leases[i];
  return NULL;
}

static void
drop(struct nn_store *st, size_t i)
{
  nn_lease_free(&st->leases[i]);
  memmove(&st->leases[i], &st->leases[i + 1], (st->n - i - 1) * sizeof *st->leases);
  st->n--;
  st->dirty = true;
}

size_t
nn_store_reclaim(struct nn_store *st, int rootfd, uint64_t netns,
                 void (*gone)(const struct nn_lease *l, void *data), void *data)
{
  size_t n = 0;
  for (size_t i = 0; i < st->n;) {
    struct stat sb;
    bool exists;
    const struct nn_lease *l = &st->leases[i];
    if (l->root) /* another root's, read from its store: reclaimed in that store */
      exists = true;
    else if (netns && l->netns != netns) /* its veth and rules are not in this namespace */
      exists = true;
    else if (nn_lease_pending(l)) /* a migration's, before its restore made <root>/<id> */
      exists = true;
    else if (fstatat(rootfd, l->id, &sb, AT_SYMLINK_NOFOLLOW) == 0)
      exists = S_ISDIR(sb.st_mode);
    else
      exists = errno != ENOENT && errno != ENOTDIR; /* unsure: keep it */
    if (exists) {
      i++;
      continue;
    }
    if (gone) gone(l, data);
    drop(st, i);
    n++;
  }
  return n;
}

bool
nn_store_bridge_subnet(const struct nn_store *st, const char *bridge, struct nn_subnet *out)
{
  for (size_t i = 0; i < st->n; i++) {
    if (strcmp(st->leases[i].bridge, bridge) == 0) {
      *out = st->leases[i].subnet;
      return true;
    }
  }
  return false;
}

size_t
nn_store_count_own(const struct nn_store *st)
{
  size_t n = 0;
  for (size_t i = 0; i < st->n; i++) n += !st->leases[i].root;
  return n;
}

size_t
nn_store_count(const struct nn_store *st, const char *bridge)
{
  size_t n = 0;
  for (size_t i = 0; i < st->n; i++)
    if (!bridge || strcmp(st->leases[i].bridge, bridge) == 0) n++;
  return n;
}

static bool
ip_taken(const struct nn_store *st, const char *bridge, uint32_t ip)
{
  for (size_t i = 0; i < st->n; i++)
    if (st->leases[i].ip == ip && strcmp(st->leases[i].bridge, bridge) == 0) return true;
  return false;
}

int
nn_store_allocate(struct nn_store *st, const char *id, const char *bridge,
                  const struct nn_subnet *s, const struct nn_port *ports, size_t n_ports,
                  uint32_t *ip, struct silo_error *err)
{
  char a[20], b[48];
  if (nn_store_find(st, id)) return silo_err(err, EEXIST, "`%s` already has an address", id);
  for (size_t i = 0; i < st->n; i++) {
    const struct nn_lease *l = &st->leases[i];
    if (l->root && strcmp(l->id, id) == 0)
      return silo_err(err, EEXIST,
                      "container `%s` of state root %s has silo's networking here too: the veth "
                      "and nft rules are named after the id, so ids must differ between roots",
                      id, l->root);
    if (strcmp(l->bridge, bridge) == 0 &&
        (l->subnet.net != s->net || l->subnet.prefix != s->prefix))
      return silo_err(err, EINVAL, "bridge `%s` serves subnet %s, not %s", bridge,
                      nn_subnet_str(&l->subnet, a), nn_subnet_str(s, b));
    if (strcmp(l->bridge, bridge) != 0 && nn_subnet_overlap(&l->subnet, s))
      return silo_err(err, EADDRINUSE, "subnet %s overlaps %s of bridge `%s`", nn_subnet_str(s, b),
                      nn_subnet_str(&l->subnet, a), l->bridge);
    for (size_t k = 0; k < l->n_ports; k++)
      for (size_t j = 0; j < n_ports; j++)
        if (nn_ports_clash(&l->ports[k], &ports[j]))
          return silo_err(err, EADDRINUSE, "host port %u/%s is already published by `%s`%s%s%s",
                          ports[j].host_port, nn_proto_name(ports[j].proto), l->id,
                          l->root ? " (state root " : "", l->root ? l->root : "",
                          l->root ? ")" : "");
  }
  for (size_t j = 0; j < n_ports; j++)
    for (size_t k = 0; k < j; k++)
      if (nn_ports_clash(&ports[j], &ports[k]))
        return silo_err(err, EINVAL, "host port %u/%s is published twice", ports[j].host_port,
                        nn_proto_name(ports[j].proto));

  uint32_t gw = nn_gateway(s), bc = nn_broadcast(s);
  for (uint32_t cand = gw + 1; cand < bc; cand++) {
    if (ip_taken(st, bridge, cand)) continue;
    if (st->range.prefix && !nn_subnet_contains(&st->range, cand)) continue; /* another host's */
    struct nn_lease l = {.id = xstrdup(id),
                         .bridge = xstrdup(bridge),
                         .subnet = *s,
                         .ip = cand,
                         .netns = nn_netns_self()};
    if (n_ports) {
      l.ports = xcalloc(n_ports, sizeof *ports);
      memcpy(l.ports, ports, n_ports * sizeof *ports);
      l.n_ports = n_ports;
    }
    st->leases = xrealloc(st->leases, (st->n + 1) * sizeof *st->leases);
    st->leases[st->n++] = l;
    st->dirty = true;
    *ip = cand;
    return 0;
  }
  return silo_err(err, EADDRNOTAVAIL, "no free address left in %s on bridge `%s` (%zu in use)",
                  nn_subnet_str(s, a), bridge, nn_store_count(st, bridge));
}

bool
nn_store_release(struct nn_store *st, const char *id)
{
  for (size_t i = 0; i < st->n; i++) {
    if (!st->leases[i].root && strcmp(st->leases[i].id, id) == 0) {
      drop(st, i);
      return true;
    }
  }
  return false;
}
