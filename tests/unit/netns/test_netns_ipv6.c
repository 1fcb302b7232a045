/* Unit tests of netns/'s IPv6 parts: prefixes (parsing, refusals, overlap, host
 * numbers), the default ULA choice, IPv6 in the lease store (allocation next to
 * IPv4, exhaustion, one subnet per bridge, persistence, reclaim), and the
 * generated texts (table ip6 silo, /etc/hosts, network.json).  Nothing here
 * touches the host's network: the store lives in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/error.h"
#include "netns/netns.h"

static struct in6_addr
ip6(const char *s)
{
  struct in6_addr v;
  assert_int_equal(nn_ip6_parse(s, &v), 0);
  return v;
}

static struct nn_subnet6
subnet6(const char *s)
{
  struct nn_subnet6 n;
  struct silo_error e = {0};
  assert_int_equal(nn_subnet6_parse(s, &n, &e), 0);
  return n;
}

static void
test_subnet6_parse(void **state)
{
  (void)state;
  char b[NN_SUBNET6_STRLEN], x[NN_IP6_STRLEN];
  struct nn_subnet6 s = subnet6("fd88::/64");
  assert_int_equal(s.prefix, 64);
  assert_string_equal(nn_subnet6_str(&s, b), "fd88::/64");
  struct in6_addr gw = nn_gateway6(&s);
  assert_string_equal(nn_ip6_str(&gw, x), "fd88::1");
  assert_false(nn_subnet6_contains(&s, &(struct in6_addr){0}));
  struct in6_addr in = ip6("fd88::ffff:1"), out = ip6("fd88:0:0:1::1");
  assert_true(nn_subnet6_contains(&s, &in));
  assert_false(nn_subnet6_contains(&s, &out));
  s = subnet6("2001:db8:1:2::ff00/120");
  assert_string_equal(nn_subnet6_str(&s, b), "2001:db8:1:2::ff00/120");
  assert_int_equal(nn_subnet6_last(&s), 255);
  s = subnet6("fd00:1:2:3::/126");
  assert_int_equal(nn_subnet6_last(&s), 3);
  s = subnet6("FD88:0000::/64"); /* any spelling inet_pton takes */
  assert_string_equal(nn_subnet6_str(&s, b), "fd88::/64");

  static const struct {
    const char *in, *msg;
  } bad[] = {
      {"fd88::", "expected PREFIX/LENGTH"},
      {"fd88::zz/64", "`fd88::zz` is not an IPv6 address"},
      {"10.88.0.0/16", "is not an IPv6 address"},
      {"fd88::/", "bad prefix length"},
      {"fd88::/6x", "bad prefix length"},
      {"fd88::/-64", "bad prefix length"},
      {"fd88::/129", "bad prefix length"},
      {"fd88::/0064", "bad prefix length"},
      {"fd88::/48", "prefix too short"},
      {"fd88::/63", "prefix too short"},
      {"fd88::/127", "prefix too long"},
      {"fd88::/128", "prefix too long"},
      {"fd88::1/64", "host bits set (did you mean fd88::/64?)"},
      {"fe80::/64", "not a global unicast"},
      {"ff02::/64", "not a global unicast"},
      {"::/64", "not a global unicast"},
      {"::ffff:0:0/96", "not a global unicast"},
      {"4000::/64", "not a global unicast"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct silo_error e = {0};
    assert_int_equal(nn_subnet6_parse(bad[i].in, &s, &e), -1);
    assert_int_equal(e.errnum, EINVAL);
    assert_non_null(strstr(e.msg, bad[i].in));
    if (!strstr(e.msg, bad[i].msg)) fail_msg("`%s`: got \"%s\"", bad[i].in, e.msg);
  }
  /* the accepted range */
  struct silo_error e = {0};
  assert_int_equal(nn_subnet6_parse("2001:db8::/64", &s, &e), 0);
  assert_int_equal(nn_subnet6_parse("fc00::/126", &s, &e), 0);
  assert_int_equal(nn_subnet6_parse("fd88::4/126", &s, &e), 0); /* aligned on its /126 */
  assert_int_equal(nn_subnet6_parse("fd88::2/126", &s, &e), -1);
}

static void
test_hosts6(void **state)
{
  (void)state;
  char x[NN_IP6_STRLEN];
  struct nn_subnet6 s = subnet6("fd88:0:0:7::/64");
  struct in6_addr h = nn_subnet6_host(&s, 2);
  assert_string_equal(nn_ip6_str(&h, x), "fd88:0:0:7::2");
  assert_int_equal(nn_subnet6_host_of(&s, &h), 2);
  h = nn_subnet6_host(&s, UINT64_MAX);
  assert_string_equal(nn_ip6_str(&h, x), "fd88::7:ffff:ffff:ffff:ffff");
  assert_int_equal(nn_subnet6_last(&s), UINT64_MAX);
  s = subnet6("fd88::100/120");
  h = nn_subnet6_host(&s, 0x1ff); /* masked to the host bits */
  assert_string_equal(nn_ip6_str(&h, x), "fd88::1ff");
  struct in6_addr a = ip6("fd88::1:2:3:4"), m = nn_ip6_masked(&a, 68);
  assert_string_equal(nn_ip6_str(&m, x), "fd88::");
  m = nn_ip6_masked(&a, 100);
  assert_string_equal(nn_ip6_str(&m, x), "fd88::1:2:0:0");
}

static void
test_overlap6(void **state)
{
  (void)state;
  struct {
    const char *a, *b;
    bool overlap;
  } t[] = {
      {"fd88::/64", "fd88::/120", true},        {"fd88::/64", "fd88:0:0:1::/64", false},
      {"fd88::100/120", "fd88::/120", false},   {"fd88::/126", "fd88::4/126", false},
      {"2001:db8::/64", "2001:db8::/64", true},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    struct nn_subnet6 a = subnet6(t[i].a), b = subnet6(t[i].b);
    assert_int_equal(nn_subnet6_overlap(&a, &b), t[i].overlap);
    assert_int_equal(nn_subnet6_overlap(&b, &a), t[i].overlap);
  }
  /* a host network shorter than silo accepts: built by hand */
  struct nn_subnet6 a = subnet6("fd88:0:0:5::/64"), wide = {.net = ip6("fd00::"), .prefix = 8};
  assert_true(nn_subnet6_overlap(&a, &wide));
}

static void
test_subnet6_choose(void **state)
{
  (void)state;
  struct nn_hostnet6 l[] = {
      {.net = {ip6("fd00::"), 64}, .dev = "eth0", .is_addr = true},
      {.net = {ip6("fd88::"), 64}, .dev = "silo0"},
      {.net = {ip6("fd88:0:0:1::"), 80}, .dev = "wg0"},
      {.net = {ip6("fe80::"), 64}, .dev = "eth0"},
  };
  struct nn_subnet6 out, want = subnet6("fd00::/64");
  struct silo_error e = {0};
  char b[NN_SUBNET6_STRLEN];
  assert_int_equal(nn_subnet6_choose(&want, l, 4, "silo0", &out, &e), -1);
  assert_int_equal(e.errnum, EADDRINUSE);
  assert_non_null(strstr(e.msg, "subnet6 fd00::/64 overlaps the host's address fd00::/64 on eth0"));
  want = subnet6("fd88:0:0:1::/120");
  assert_int_equal(nn_subnet6_choose(&want, l, 4, "silo0", &out, &e), -1);
  assert_non_null(strstr(e.msg, "route fd88:0:0:1::/80 on wg0"));
  /* the bridge's own route does not count against it */
  want = subnet6("fd88::/64");
  assert_int_equal(nn_subnet6_choose(&want, l, 4, "silo0", &out, &e), 0);
  assert_int_equal(nn_subnet6_choose(&want, l, 4, "silo1", &out, &e), -1);
  /* default: fd88::/64 unless taken, then fd88:0:0:1::/64 ... */
  assert_int_equal(nn_subnet6_choose(NULL, l, 1, "silo0", &out, &e), 0);
  assert_string_equal(nn_subnet6_str(&out, b), "fd88::/64");
  assert_int_equal(nn_subnet6_choose(NULL, l, 4, "other", &out, &e), 0);
  assert_string_equal(nn_subnet6_str(&out, b), "fd88:0:0:2::/64");
  struct nn_hostnet6 all = {.net = {ip6("fd00::"), 8}, .dev = "tun0"};
  assert_int_equal(nn_subnet6_choose(NULL, &all, 1, "silo0", &out, &e), -1);
  assert_non_null(strstr(e.msg, "--subnet6"));
  assert_non_null(strstr(e.msg, "org.silo.network.subnet6"));
}

/* ---- published ports on IPv6 addresses ---- */

static void
test_ports6(void **state)
{
  (void)state;
  struct nn_port p, q;
  struct silo_error e = {0};
  char b[NN_PORT_STRLEN], x[NN_IP6_STRLEN];
  assert_int_equal(nn_port_parse("[fd88::1]:8080:80", &p, &e), 0);
  assert_true(p.v6);
  assert_int_equal(p.host_ip, 0);
  assert_string_equal(nn_ip6_str(&p.host_ip6, x), "fd88::1");
  assert_int_equal(p.host_port, 8080);
  assert_int_equal(p.ctr_port, 80);
  assert_string_equal(nn_port_str(&p, b), "[fd88::1]:8080:80/tcp");
  /* the canonical form reads back */
  assert_int_equal(nn_port_parse(b, &q, &e), 0);
  assert_true(q.v6 && nn_ip6_equal(&p.host_ip6, &q.host_ip6));
  assert_int_equal(nn_port_parse("[2001:db8:0:0:0:0:0:1]:53:53/udp", &p, &e), 0);
  assert_string_equal(nn_port_str(&p, b), "[2001:db8::1]:53:53/udp");
  assert_int_equal(nn_port_parse("[::]:8080:80", &p, &e), 0);
  assert_string_equal(nn_port_str(&p, b), "[::]:8080:80/tcp");

  static const char *const bad[] = {"[fd88::1]:80",      "[fd88::1]8080:80", "[fd88::zz]:1:2",
                                    "[fd88::1:8080:80",  "[]:1:2",           "[10.0.0.1]:1:2",
                                    "[fd88::1]:1:2:3",   "fd88::1:8080:80",  "[fd88::1]:0:80",
                                    "[fd88::1]:1:2/sctp"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    silo_err_clear(&e);
    if (nn_port_parse(bad[i], &p, &e) != -1) fail_msg("`%s` was accepted", bad[i]);
    assert_int_equal(e.errnum, EINVAL);
    assert_non_null(strstr(e.msg, bad[i]));
  }
  assert_int_equal(nn_port_parse("[fd88::zz]:1:2", &p, &e), -1);
  assert_non_null(strstr(e.msg, "`fd88::zz` is not an IPv6 address"));

  /* clashes: "any" takes both families; an IPv4 and an IPv6 address never clash */
  struct nn_port any, v4, a6, b6, all6;
  assert_int_equal(nn_port_parse("8080:80", &any, &e), 0);
  assert_int_equal(nn_port_parse("127.0.0.1:8080:80", &v4, &e), 0);
  assert_int_equal(nn_port_parse("[fd88::1]:8080:81", &a6, &e), 0);
  assert_int_equal(nn_port_parse("[fd88::2]:8080:81", &b6, &e), 0);
  assert_int_equal(nn_port_parse("[::]:8080:82", &all6, &e), 0);
  assert_true(nn_ports_clash(&any, &a6));
  assert_true(nn_ports_clash(&a6, &any));
  assert_false(nn_ports_clash(&v4, &a6));
  assert_false(nn_ports_clash(&a6, &b6));
  assert_true(nn_ports_clash(&a6, &a6));
  assert_true(nn_ports_clash(&all6, &b6));
  assert_false(nn_ports_clash(&all6, &v4));
  assert_int_equal(nn_port_parse("[fd88::1]:8080:81/udp", &b6, &e), 0);
  assert_false(nn_ports_clash(&a6, &b6));
}

/* ---- the lease store ---- */

#include "store_fixture.h"

static uint32_t
ip4(const char *s)
{
  uint32_t v = 0;
  assert_int_equal(nn_ip_parse(s, &v), 0);
  return v;
}

/* An IPv4 lease, then its IPv6 address. */
static int
alloc(struct nn_store *st, const char *id, const char *br, const char *sn4, const char *sn6,
      struct in6_addr *out, struct silo_error *e)
{
  struct nn_subnet s4;
  struct nn_subnet6 s6 = subnet6(sn6);
  assert_int_equal(nn_subnet_parse(sn4, &s4, e), 0);
  uint32_t v;
  if (nn_store_allocate(st, id, br, &s4, NULL, 0, &v, e) < 0) return -1;
  return nn_store_allocate6(st, id, &s6, out, e);
}

static void
test_store6(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error e = {0};
  struct in6_addr a, b, c;
  char x[NN_IP6_STRLEN];
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &e), 0);
  assert_int_equal(alloc(&st, "a", "silo0", "10.88.0.0/16", "fd88::/64", &a, &e), 0);
  assert_int_equal(alloc(&st, "b", "silo0", "10.88.0.0/16", "fd88::/64", &b, &e), 0);
  assert_string_equal(nn_ip6_str(&a, x), "fd88::2"); /* ::1 is the gateway */
  assert_string_equal(nn_ip6_str(&b, x), "fd88::3");
  /* a container without IPv6 on the same bridge */
  struct nn_subnet s4 = {ip4("10.88.0.0"), 16};
  uint32_t v;
  assert_int_equal(nn_store_allocate(&st, "v4", "silo0", &s4, NULL, 0, &v, &e), 0);
  assert_int_equal(nn_store_count(&st, "silo0"), 3);
  assert_int_equal(nn_store_count6(&st, "silo0"), 2);
  assert_int_equal(nn_store_count6(&st, NULL), 2);
  /* once only, and only on a lease */
  struct nn_subnet6 s6 = subnet6("fd88::/64");
  assert_int_equal(nn_store_allocate6(&st, "a", &s6, &c, &e), -1);
  assert_int_equal(e.errnum, EEXIST);
  assert_int_equal(nn_store_allocate6(&st, "nobody", &s6, &c, &e), -1);
  assert_int_equal(e.errnum, ENOENT);
  /* one IPv6 subnet per bridge, and bridges' IPv6 subnets do not overlap */
  struct nn_subnet6 other = subnet6("fd99::/64");
  assert_int_equal(nn_store_allocate6(&st, "v4", &other, &c, &e), -1);
  assert_non_null(strstr(e.msg, "bridge `silo0` serves IPv6 subnet fd88::/64, not fd99::/64"));
  assert_int_equal(alloc(&st, "o", "silo1", "10.89.0.0/16", "fd88::/120", &c, &e), -1);
  assert_int_equal(e.errnum, EADDRINUSE);
  assert_non_null(strstr(e.msg, "subnet6 fd88::/120 overlaps fd88::/64 of bridge `silo0`"));
  assert_int_equal(nn_store_allocate6(&st, "o", &other, &c, &e), 0); /* its IPv4 lease stays */
  assert_true(nn_store_bridge_subnet6(&st, "silo1", &s6));
  assert_true(nn_store_bridge_subnet6(&st, "silo0", &s6));
  assert_false(nn_store_bridge_subnet6(&st, "silo2", &s6));
  /* released with the lease; the lowest free one is handed out next */
  assert_true(nn_store_release(&st, "a"));
  assert_int_equal(alloc(&st, "d", "silo0", "10.88.0.0/16", "fd88::/64", &c, &e), 0);
  assert_string_equal(nn_ip6_str(&c, x), "fd88::2");
  st.forward6_changed = true;
  assert_int_equal(nn_store_save(&st, &e), 0);
  nn_store_close(&st);

  /* persisted */
  assert_int_equal(nn_store_open(rootfd, 0, &st, &e), 0);
  assert_true(st.forward6_changed);
  assert_false(st.forward_changed);
  const struct nn_lease *l = nn_store_find(&st, "d");
  assert_non_null(l);
  assert_true(l->has_ip6);
  assert_string_equal(nn_ip6_str(&l->ip6, x), "fd88::2");
  l = nn_store_find(&st, "v4");
  assert_non_null(l);
  assert_false(l->has_ip6);
  assert_int_equal(nn_store_count6(&st, NULL), 3);
  nn_store_close(&st);
}

static void
test_store6_exhaustion(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error e = {0};
  struct in6_addr v;
  char x[NN_IP6_STRLEN];
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &e), 0);
  /* /126: the subnet-router anycast address, the gateway, two containers */
  assert_int_equal(alloc(&st, "one", "tiny", "10.77.0.0/24", "fd77::/126", &v, &e), 0);
  assert_int_equal(alloc(&st, "two", "tiny", "10.77.0.0/24", "fd77::/126", &v, &e), 0);
  assert_string_equal(nn_ip6_str(&v, x), "fd77::3");
  assert_int_equal(alloc(&st, "three", "tiny", "10.77.0.0/24", "fd77::/126", &v, &e), -1);
  assert_int_equal(e.errnum, EADDRNOTAVAIL);
  assert_non_null(
      strstr(e.msg, "no free IPv6 address left in fd77::/126 on bridge `tiny` (2 in use)"));
  assert_true(nn_store_release(&st, "one"));
  assert_true(nn_store_release(&st, "three")); /* its IPv4 lease, as lease() does */
  assert_int_equal(alloc(&st, "three", "tiny", "10.77.0.0/24", "fd77::/126", &v, &e), 0);
  assert_string_equal(nn_ip6_str(&v, x), "fd77::2");
  nn_store_close(&st);
}

static int gone6;

static void
count_gone6(const struct nn_lease *l, void *data)
{
  (void)data;
  assert_string_equal(l->id, "dead");
  assert_true(l->has_ip6);
  gone6++;
}

static void
test_store6_reclaim_and_damage(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error e = {0};
  struct in6_addr v;
  char x[NN_IP6_STRLEN];
  assert_int_equal(mkdirat(rootfd, "alive", 0700), 0);
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &e), 0);
  assert_int_equal(alloc(&st, "dead", "silo0", "10.88.0.0/16", "fd88::/64", &v, &e), 0);
  assert_int_equal(alloc(&st, "alive", "silo0", "10.88.0.0/16", "fd88::/64", &v, &e), 0);
  gone6 = 0;
  assert_int_equal(nn_store_reclaim(&st, rootfd, 0, count_gone6, NULL), 1);
  assert_int_equal(gone6, 1);
  assert_int_equal(alloc(&st, "new", "silo0", "10.88.0.0/16", "fd88::/64", &v, &e), 0);
  assert_string_equal(nn_ip6_str(&v, x), "fd88::2"); /* the reclaimed one */
  nn_store_close(&st);

  /* a damaged IPv6 part keeps the IPv4 lease, without IPv6 */
  int fd = openat(rootfd, NN_STORE_DIR "/leases.json", O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const char *text = "{\"ip6ForwardChanged\":true,\"leases\":[{\"id\":\"x\",\"bridge\":\"b\","
                     "\"subnet\":\"10.1.0.0/16\",\"ip\":\"10.1.0.9\",\"subnet6\":\"fd88::/64\","
                     "\"ip6\":\"not-an-address\"}]}";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  assert_int_equal(nn_store_open(rootfd, 0, &st, &e), 0);
  assert_int_equal(st.n, 1);
  assert_false(st.leases[0].has_ip6);
  assert_true(st.forward6_changed);
  nn_store_close(&st);
}

/* ---- generated texts ---- */

static void
test_nft_script6(void **state)
{
  (void)state;
  struct nn_port ports[] = {
      {.host_ip = 0, .host_port = 8080, .ctr_port = 80, .proto = IPPROTO_TCP},
      {.host_ip = 0x7f000001, .host_port = 5353, .ctr_port = 53, .proto = IPPROTO_UDP}};
  struct nn_nft_rules r = {.key = "silo:web",
                           .bridge = "silo0",
                           .subnet = {ip4("10.88.0.0"), 16},
                           .ip = ip4("10.88.0.2"),
                           .has_ip6 = true,
                           .subnet6 = subnet6("fd88::/64"),
                           .ip6 = ip6("fd88::2"),
                           .ports = ports,
                           .n_ports = 2};
  char *s = nn_nft_script(&r);
  assert_non_null(s);
  assert_non_null(strstr(s, "add table ip silo\n")); /* the IPv4 side is unchanged */
  assert_non_null(strstr(s, "add table ip6 silo\n"));
  assert_non_null(strstr(s, "add rule ip6 silo postrouting ip6 saddr fd88::2 ip6 daddr != "
                            "fd88::/64 masquerade comment \"silo:web\""));
  assert_non_null(strstr(s, "add rule ip6 silo prerouting fib daddr type local tcp dport 8080 "
                            "dnat to [fd88::2]:80 comment \"silo:web\""));
  assert_non_null(strstr(s, "add rule ip6 silo output fib daddr type local tcp dport 8080 "));
  assert_non_null(strstr(s, "ip6 saddr fd88::/64 ip6 daddr fd88::2 ct status dnat masquerade"));
  /* bound to 127.0.0.1: IPv4 only */
  assert_null(strstr(s, "ip6 silo prerouting fib daddr type local udp dport 5353"));
  assert_null(strstr(s, "ip6 silo guard"));
  for (char *line = strstr(s, "add rule"); line; line = strstr(line + 1, "add rule")) {
    char *end = strchr(line, '\n');
    assert_non_null(end);
    assert_memory_equal(end - 18, "comment \"silo:web\"", 18);
  }
  free(s);
  r.has_ip6 = false;
  s = nn_nft_script(&r);
  assert_null(strstr(s, "ip6"));
  free(s);

  /* a port bound to an IPv6 address: in table ip6 silo only, for that address */
  struct nn_port p6[2];
  struct silo_error e = {0};
  assert_int_equal(nn_port_parse("[fd88::1]:8443:443", &p6[0], &e), 0);
  assert_int_equal(nn_port_parse("[::]:9000:90/udp", &p6[1], &e), 0);
  r.has_ip6 = true;
  r.ports = p6;
  s = nn_nft_script(&r);
  assert_non_null(strstr(s, "add rule ip6 silo prerouting ip6 daddr fd88::1 tcp dport 8443 dnat "
                            "to [fd88::2]:443 comment"));
  assert_non_null(strstr(s, "add rule ip6 silo output ip6 daddr fd88::1 tcp dport 8443 "));
  assert_non_null(strstr(s, "ip6 silo prerouting fib daddr type local udp dport 9000 dnat to "
                            "[fd88::2]:90"));
  assert_null(strstr(s, "dport 8443 dnat to 10.88.0.2"));
  assert_null(strstr(s, "dport 9000 dnat to 10.88.0.2"));
  assert_null(strstr(s, "127.0.0.0/8 ip daddr 10.88.0.2 masquerade")); /* no IPv4 port */
  free(s);
}

static void
test_files6(void **state)
{
  (void)state;
  struct in6_addr a = ip6("fd88::7");
  char *s = nn_hosts_content("box", ip4("10.88.0.7"), &a);
  assert_non_null(strstr(s, "\n10.88.0.7\tbox\n"));
  assert_non_null(strstr(s, "\nfd88::7\tbox\n"));
  free(s);
  s = nn_hosts_content("box", ip4("10.88.0.7"), NULL);
  assert_null(strstr(s, "fd88"));
  free(s);
}

static void
test_record6(void **state)
{
  (void)state;
  struct silo_error e = {0};
  struct nn_record r = {0}, back;
  r.bridge = true;
  strcpy(r.bridge_name, "silo0");
  nn_veth_name("web", r.veth);
  nn_rule_key("web", r.key);
  r.subnet = (struct nn_subnet){ip4("10.88.0.0"), 16};
  r.ip = ip4("10.88.0.9");
  r.has_ip6 = true;
  r.subnet6 = subnet6("fd88::/64");
  r.ip6 = ip6("fd88::9");
  assert_int_equal(nn_record_write(rootfd, &r, &e), 0);
  assert_int_equal(nn_record_read(rootfd, &back, &e), 0);
  assert_true(back.has_ip6);
  assert_true(nn_subnet6_equal(&back.subnet6, &r.subnet6));
  assert_true(nn_ip6_equal(&back.ip6, &r.ip6));
  nn_record_free(&back);
  r.has_ip6 = false;
  assert_int_equal(nn_record_write(rootfd, &r, &e), 0);
  assert_int_equal(nn_record_read(rootfd, &back, &e), 0);
  assert_false(back.has_ip6);
  nn_record_free(&back);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_subnet6_parse),
      cmocka_unit_test(test_hosts6),
      cmocka_unit_test(test_overlap6),
      cmocka_unit_test(test_subnet6_choose),
      cmocka_unit_test(test_ports6),
      cmocka_unit_test_setup_teardown(test_store6, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_store6_exhaustion, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_store6_reclaim_and_damage, store_setup, store_teardown),
      cmocka_unit_test(test_nft_script6),
      cmocka_unit_test(test_files6),
      cmocka_unit_test_setup_teardown(test_record6, store_setup, store_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
