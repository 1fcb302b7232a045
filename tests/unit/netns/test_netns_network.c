/* Unit tests of netns/: addresses and subnets, overlap checks, names, published
 * ports, the lease store (allocation, release, stale reclaim, exhaustion, locking
 * across processes), and the generated texts (nft script, resolv.conf, hosts,
 * network.json).  Nothing here touches the host's network: the store lives in a
 * temporary directory.
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
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/error.h"
#include "netns/netns.h"

static uint32_t
ip(const char *s)
{
  uint32_t v = 0;
  assert_int_equal(nn_ip_parse(s, &v), 0);
  return v;
}

static struct nn_subnet
subnet(const char *s)
{
  struct nn_subnet n;
  struct silo_error e = {0};
  assert_int_equal(nn_subnet_parse(s, &n, &e), 0);
  return n;
}

/* ---- addresses ---- */

static void
test_ip_parse(void **state)
{
  (void)state;
  char b[16];
  uint32_t v;
  assert_int_equal(ip("10.88.0.1"), 0x0a580001);
  assert_string_equal(nn_ip_str(0x0a580001, b), "10.88.0.1");
  assert_string_equal(nn_ip_str(ip("255.255.255.255"), b), "255.255.255.255");
  static const char *const bad[] = {"",        "1.2.3",  "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ",
                                    "a.b.c.d", "1..2.3", "01.2.3.4",  "1.2.3.-4"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(nn_ip_parse(bad[i], &v), -1);
}

static void
test_subnet_parse(void **state)
{
  (void)state;
  char b[20];
  struct nn_subnet s = subnet("10.88.0.0/16");
  assert_int_equal(s.net, 0x0a580000);
  assert_int_equal(s.prefix, 16);
  assert_string_equal(nn_subnet_str(&s, b), "10.88.0.0/16");
  assert_string_equal(nn_ip_str(nn_gateway(&s), b), "10.88.0.1");
  assert_string_equal(nn_ip_str(nn_broadcast(&s), b), "10.88.255.255");
  assert_true(nn_subnet_contains(&s, ip("10.88.200.3")));
  assert_false(nn_subnet_contains(&s, ip("10.89.0.1")));
  s = subnet("192.168.7.4/30");
  assert_string_equal(nn_ip_str(nn_broadcast(&s), b), "192.168.7.7");

  static const char *const bad[] = {"10.88.0.0",  "10.88.0.0/",  "10.88.0.1/16", "10.88.0.0/31",
                                    "10.0.0.0/7", "127.0.0.0/8", "10.88.0.0/33", "10.88.0.0/1x",
                                    "x/16",       "224.0.0.0/8", "0.0.0.0/8"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct silo_error e = {0};
    assert_int_equal(nn_subnet_parse(bad[i], &s, &e), -1);
    assert_int_equal(e.errnum, EINVAL);
    assert_non_null(strstr(e.msg, bad[i]));
  }
  struct silo_error e = {0};
  nn_subnet_parse("10.88.0.1/16", &s, &e);
  assert_non_null(strstr(e.msg, "did you mean 10.88.0.0/16"));
}

static void
test_overlap(void **state)
{
  (void)state;
  struct {
    const char *a, *b;
    bool overlap;
  } t[] = {
      {"10.88.0.0/16", "10.88.5.0/24", true},  {"10.88.0.0/16", "10.89.0.0/16", false},
      {"10.0.0.0/8", "10.250.0.0/16", true},   {"192.168.1.0/24", "192.168.2.0/24", false},
      {"10.88.0.0/30", "10.88.0.4/30", false}, {"10.88.0.0/30", "10.88.0.0/16", true},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    struct nn_subnet a = subnet(t[i].a), b = subnet(t[i].b);
    assert_int_equal(nn_subnet_overlap(&a, &b), t[i].overlap);
    assert_int_equal(nn_subnet_overlap(&b, &a), t[i].overlap);
  }
}

static void
test_subnet_choose(void **state)
{
  (void)state;
  struct nn_hostnet l[] = {
      {.net = {0xc0000200, 24}, .dev = "eth0", .is_addr = true}, /* 192.0.2.0/24 */
      {.net = {0x0a580000, 16}, .dev = "silo0"},                 /* 10.88.0.0/16 */
      {.net = {0x0a590000, 24}, .dev = "wg0"},                   /* 10.89.0.0/24 */
  };
  struct nn_subnet out, want = subnet("192.0.2.0/25");
  struct silo_error e = {0};
  char b[20];

  /* explicit: refused with the overlapping network named */
  assert_int_equal(nn_subnet_choose(&want, l, 3, "silo0", &out, &e), -1);
  assert_int_equal(e.errnum, EADDRINUSE);
  assert_non_null(strstr(e.msg, "192.0.2.0/24"));
  assert_non_null(strstr(e.msg, "eth0"));
  assert_non_null(strstr(e.msg, "address"));
  want = subnet("10.200.0.0/16");
  assert_int_equal(nn_subnet_choose(&want, l, 3, "silo0", &out, &e), 0);
  assert_string_equal(nn_subnet_str(&out, b), "10.200.0.0/16");
  /* the bridge's own route does not count against it */
  want = subnet("10.88.0.0/16");
  assert_int_equal(nn_subnet_choose(&want, l, 3, "silo0", &out, &e), 0);
  assert_int_equal(nn_subnet_choose(&want, l, 3, "silo1", &out, &e), -1);
  assert_non_null(strstr(e.msg, "route 10.88.0.0/16 on silo0"));

  /* default: 10.88 unless taken, then 10.89 ... (10.89.0.0/24 is taken: 10.90) */
  assert_int_equal(nn_subnet_choose(NULL, l, 1, "silo0", &out, &e), 0);
  assert_string_equal(nn_subnet_str(&out, b), "10.88.0.0/16");
  assert_int_equal(nn_subnet_choose(NULL, l, 3, "other", &out, &e), 0);
  assert_string_equal(nn_subnet_str(&out, b), "10.90.0.0/16");
  struct nn_hostnet all = {.net = {0x0a000000, 8}, .dev = "tun0"};
  assert_int_equal(nn_subnet_choose(NULL, &all, 1, "silo0", &out, &e), -1);
  assert_non_null(strstr(e.msg, "org.silo.network.subnet"));
  assert_ptr_equal(nn_subnet_conflict(&out, &all, 1, "tun0"), NULL);
}

/* ---- names ---- */

static void
test_names(void **state)
{
  (void)state;
  char a[NN_IFNAMSIZ], b[NN_IFNAMSIZ], key[NN_KEY_MAX];
  struct silo_error e = {0};
  nn_veth_name("web", a);
  nn_veth_name("web", b);
  assert_string_equal(a, b);
  assert_int_equal(strlen(a), 12);
  assert_memory_equal(a, "silo", 4);
  assert_true(nn_is_veth_name(a));
  nn_veth_name("web2", b);
  assert_string_not_equal(a, b);
  assert_false(nn_is_veth_name("silo0"));
  assert_false(nn_is_veth_name("siloXXXXXXXX"));
  char id[1100];
  memset(id, 'x', sizeof id - 1);
  id[sizeof id - 1] = '\0';
  nn_veth_name(id, a);
  assert_int_equal(strlen(a), 12);

  assert_int_equal(nn_ifname_check("silo0", "t", &e), 0);
  assert_int_equal(nn_ifname_check("abcdefghijklmno", "t", &e), 0); /* 15 */
  assert_int_equal(nn_ifname_check("abcdefghijklmnop", "bridge", &e), -1);
  assert_non_null(strstr(e.msg, "longer than 15"));
  assert_int_equal(nn_ifname_check("", "t", &e), -1);
  assert_int_equal(nn_ifname_check("a/b", "t", &e), -1);
  assert_int_equal(nn_ifname_check("a b", "t", &e), -1);
  assert_int_equal(nn_ifname_check("..", "t", &e), -1);

  uint8_t mac[6];
  nn_mac_from_ip(ip("10.88.0.2"), mac);
  static const uint8_t want[6] = {0x02, 0x51, 10, 88, 0, 2};
  assert_memory_equal(mac, want, 6);
  assert_int_equal(mac[0] & 1, 0); /* unicast */
  assert_int_equal(mac[0] & 2, 2); /* locally administered */

  nn_rule_key("web", key);
  assert_string_equal(key, "silo:web");
  nn_rule_key(id, key);
  assert_true(strlen(key) < NN_KEY_MAX);
  char key2[NN_KEY_MAX];
  id[5] = 'y';
  nn_rule_key(id, key2);
  assert_string_not_equal(key, key2);
}

/* ---- published ports ---- */

static void
test_publish(void **state)
{
  (void)state;
  struct nn_port p;
  struct silo_error e = {0};
  char b[NN_PORT_STRLEN];
  assert_int_equal(nn_port_parse("8080:80", &p, &e), 0);
  assert_int_equal(p.host_ip, 0);
  assert_int_equal(p.host_port, 8080);
  assert_int_equal(p.ctr_port, 80);
  assert_int_equal(p.proto, IPPROTO_TCP);
  assert_string_equal(nn_port_str(&p, b), "0.0.0.0:8080:80/tcp");
  assert_int_equal(nn_port_parse("127.0.0.1:5353:53/udp", &p, &e), 0);
  assert_int_equal(p.host_ip, 0x7f000001);
  assert_int_equal(p.proto, IPPROTO_UDP);
  assert_string_equal(nn_port_str(&p, b), "127.0.0.1:5353:53/udp");
  assert_int_equal(nn_port_parse("65535:1/tcp", &p, &e), 0);

  static const char *const bad[] = {"80",         "abc:80",      "80:abc",    "0:80",   "65536:80",
                                    "80:80/sctp", "1.2.3:80:80", "a:b:c:d",   "80:80/", ":80",
                                    "80:",        "-1:80",       "1:2:3:4:5", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    silo_err_clear(&e);
    assert_int_equal(nn_port_parse(bad[i], &p, &e), -1);
    assert_int_equal(e.errnum, EINVAL);
  }

  struct nn_port *list = NULL;
  size_t n = 0;
  assert_int_equal(nn_ports_parse_list("8080:80/tcp, 9090:90 ,,", &list, &n, &e), 0);
  assert_int_equal(n, 2);
  assert_int_equal(list[1].host_port, 9090);
  assert_int_equal(nn_ports_parse_list("1:1,bad", &list, &n, &e), -1);
  free(list);

  struct nn_port a = {.host_ip = 0, .host_port = 80, .ctr_port = 80, .proto = IPPROTO_TCP},
                 c = {.host_ip = 0x7f000001, .host_port = 80, .ctr_port = 81, .proto = IPPROTO_TCP},
                 d = {.host_ip = 0x7f000001, .host_port = 80, .ctr_port = 81, .proto = IPPROTO_UDP},
                 f = {.host_ip = 0x7f000002, .host_port = 80, .ctr_port = 81, .proto = IPPROTO_TCP};
  assert_true(nn_ports_clash(&a, &c));
  assert_false(nn_ports_clash(&c, &d));
  assert_false(nn_ports_clash(&c, &f));
}

/* ---- the lease store ---- */

#include "store_fixture.h"

static void
live(const char *id)
{
  assert_int_equal(mkdirat(rootfd, id, 0700), 0);
}

static void
test_store_allocate_release(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error e = {0};
  struct nn_subnet s = subnet("10.88.0.0/16");
  uint32_t a, b, c, d;
  char x[16];

  assert_int_equal(nn_store_open(rootfd, 0, &st, &e), 1); /* no store yet */
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &e), 0);
  assert_int_equal(nn_store_allocate(&st, "a", "silo0", &s, NULL, 0, &a, &e), 0);
  assert_int_equal(nn_store_allocate(&st, "b", "silo0", &s, NULL, 0, &b, &e), 0);
  assert_int_equal(nn_store_allocate(&st, "c", "silo0", &s, NULL, 0, &c, &e), 0);
  assert_string_equal(nn_ip_str(a, x), "10.88.0.2"); /* .1 is the gateway */
  assert_string_equal(nn_ip_str(b, x), "10.88.0.3");
  assert_string_equal(nn_ip_str(c, x), "10.88.0.4");
  assert_int_equal(nn_store_allocate(&st, "a", "silo0", &s, NULL, 0, &d, &e), -1);
  assert_true(nn_store_release(&st, "b"));
  assert_false(nn_store_release(&st, "b"));
  assert_int_equal(nn_store_save(&st, &e), 0);
  nn_store_close(&st);

  /* persisted; the freed address is the next one handed out */
  assert_int_equal(nn_store_open(rootfd, 0, &st, &e), 0);
  assert_int_equal(st.n, 2);
  assert_non_null(nn_store_find(&st, "c"));
  assert_null(nn_store_find(&st, "b"));
  assert_int_equal(nn_store_allocate(&st, "d", "silo0", &s, NULL, 0, &d, &e), 0);
  assert_string_equal(nn_ip_str(d, x), "10.88.0.3");
  struct nn_subnet got;
  assert_true(nn_store_bridge_subnet(&st, "silo0", &got));
  assert_false(nn_store_bridge_subnet(&st, "silo1", &got));
  assert_int_equal(nn_store_count(&st, "silo0"), 3);

  /* one subnet per bridge; bridges may not overlap */
  struct nn_subnet other = subnet("10.89.0.0/16"), over = subnet("10.88.128.0/24");
  assert_int_equal(nn_store_allocate(&st, "e", "silo0", &other, NULL, 0, &d, &e), -1);
  assert_non_null(strstr(e.msg, "serves subnet 10.88.0.0/16"));
  assert_int_equal(nn_store_allocate(&st, "e", "silo1", &over, NULL, 0, &d, &e), -1);
  assert_int_equal(e.errnum, EADDRINUSE);
  assert_int_equal(nn_store_allocate(&st, "e", "silo1", &other, NULL, 0, &d, &e), 0);
  assert_string_equal(nn_ip_str(d, x), "10.89.0.2");

  /* host ports: one owner */
  struct nn_port p = {.host_ip = 0, .host_port = 8080, .ctr_port = 80, .proto = IPPROTO_TCP},
                 q = {.host_ip = 0x7f000001,
                      .host_port = 8080,
                      .ctr_port = 81,
                      .proto = IPPROTO_TCP};
  assert_int_equal(nn_store_allocate(&st, "f", "silo0", &s, &p, 1, &d, &e), 0);
  assert_int_equal(nn_store_allocate(&st, "g", "silo0", &s, &q, 1, &d, &e), -1);
  assert_non_null(strstr(e.msg, "already published by `f`"));
  struct nn_port twice[2] = {p, q};
  assert_int_equal(nn_store_allocate(&st, "g", "silo1", &other, twice, 2, &d, &e), -1);
  assert_int_equal(nn_store_save(&st, &e), 0);
  nn_store_close(&st);

  assert_int_equal(nn_store_open(rootfd, 0, &st, &e), 0);
  const struct nn_lease *l = nn_store_find(&st, "f");
  assert_non_null(l);
  assert_int_equal(l->n_ports, 1);
  assert_int_equal(l->ports[0].host_port, 8080);
  nn_store_close(&st);
}

/* Another state root's leases (nn_store_add_foreign puts them in with their root):
 * they hold their addresses and ports, but are never found, released, reclaimed
 * or saved as this root's. */
static void
test_store_foreign(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error e = {0};
  struct nn_subnet s = subnet("10.88.0.0/16"), other = subnet("10.89.0.0/16");
  uint32_t a;
  char x[16];

  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &e), 0);
  assert_int_equal(nn_store_parse(&st,
                                  "{\"leases\": [{\"id\": \"x\", \"bridge\": \"silo0\", "
                                  "\"subnet\": \"10.88.0.0/16\", \"ip\": \"10.88.0.2\", "
                                  "\"ports\": [\"0.0.0.0:8080:80/tcp\"]}]}",
                                  &e),
                   0);
  assert_int_equal(st.n, 1);
  st.leases[0].root = xstrdup("/run/other-root");

  assert_null(nn_store_find(&st, "x")); /* an id of another root is not ours */
  assert_false(nn_store_release(&st, "x"));
  /* not the same id here (the veth and rules are named after it) */
  assert_int_equal(nn_store_allocate(&st, "x", "silo0", &s, NULL, 0, &a, &e), -1);
  assert_non_null(strstr(e.msg, "container `x` of state root /run/other-root"));
  /* another id: the next address; the foreign bridge's subnet holds */
  assert_int_equal(nn_store_allocate(&st, "w", "silo0", &s, NULL, 0, &a, &e), 0);
  assert_string_equal(nn_ip_str(a, x), "10.88.0.3");
  assert_int_equal(nn_store_allocate(&st, "y", "silo0", &other, NULL, 0, &a, &e), -1);
  assert_non_null(strstr(e.msg, "serves subnet 10.88.0.0/16"));
  struct nn_port p = {.host_port = 8080, .ctr_port = 80, .proto = IPPROTO_TCP};
  assert_int_equal(nn_store_allocate(&st, "y", "silo0", &s, &p, 1, &a, &e), -1);
  assert_non_null(strstr(e.msg, "already published by `x` (state root /run/other-root)"));
  /* no <root>/w here: our w is reclaimed, the other root's x is not */
  assert_int_equal(nn_store_reclaim(&st, rootfd, 0, NULL, NULL), 1);
  assert_int_equal(st.n, 1);
  assert_non_null(st.leases[0].root);
  assert_int_equal(nn_store_allocate(&st, "z", "silo0", &s, NULL, 0, &a, &e), 0);
  assert_int_equal(nn_store_save(&st, &e), 0);
  nn_store_close(&st);

  assert_int_equal(nn_store_open(rootfd, 0, &st, &e), 0);
  assert_int_equal(st.n, 1); /* z only: the other root's lease was not saved here */
  assert_non_null(nn_store_find(&st, "z"));
  assert_null(st.leases[0].root);
  nn_store_close(&st);
}

static int gone_calls;

static void
count_gone(const struct nn_lease *l, void *data)
{
  assert_string_equal(data, "tag");
  assert_true(strcmp(l->id, "dead1") == 0 || strcmp(l->id, "dead2") == 0);
  gone_calls++;
}

static void
test_store_reclaim(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error e = {0};
  struct nn_subnet s = subnet("10.88.0.0/24");
  uint32_t v;
  char x[16];
  live("alive1");
  live("alive2");
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &e), 0);
  const char *ids[] = {"alive1", "dead1", "alive2", "dead2"};
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(nn_store_allocate(&st, ids[i], "silo0", &s, NULL, 0, &v, &e), 0);
  st.dirty = false;
  gone_calls = 0;
  assert_int_equal(nn_store_reclaim(&st, rootfd, 0, count_gone, "tag"), 2);
  assert_int_equal(gone_calls, 2);
  assert_true(st.dirty);
  assert_int_equal(st.n, 2);
  assert_non_null(nn_store_find(&st, "alive1"));
  assert_non_null(nn_store_find(&st, "alive2"));
  /* the reclaimed addresses are free again */
  assert_int_equal(nn_store_allocate(&st, "new", "silo0", &s, NULL, 0, &v, &e), 0);
  assert_string_equal(nn_ip_str(v, x), "10.88.0.3");
  assert_int_equal(nn_store_reclaim(&st, rootfd, 0, NULL, NULL), 1); /* "new" has no dir */
  nn_store_close(&st);
}

/* netns given: only the dead leases made in that network namespace go (the veth
 * and rules of the others are not there to remove). */
static void
test_store_reclaim_netns(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error e = {0};
  struct nn_subnet s = subnet("10.88.0.0/24");
  uint32_t v;
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &e), 0);
  const char *ids[] = {"here", "there", "old"};
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(nn_store_allocate(&st, ids[i], "silo0", &s, NULL, 0, &v, &e), 0);
  st.leases[0].netns = 7;
  st.leases[1].netns = 8;
  st.leases[2].netns = 0; /* an older silo's: unknown, kept */
  assert_int_equal(nn_store_reclaim(&st, rootfd, 7, NULL, NULL), 1);
  assert_null(nn_store_find(&st, "here"));
  assert_non_null(nn_store_find(&st, "there"));
  assert_non_null(nn_store_find(&st, "old"));
  assert_int_equal(nn_store_count_own(&st), 2);
  nn_store_close(&st);
}

/* NN_STORE_TRY: a store locked elsewhere is not waited for. */
static void
test_store_try(void **state)
{
  (void)state;
  struct nn_store a, b;
  struct silo_error e = {0};
  assert_int_equal(nn_store_open(rootfd, NN_STORE_TRY, &b, &e), 1); /* none yet */
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &a, &e), 0);
  /* flock conflicts between open files, even of one process */
  assert_int_equal(nn_store_open(rootfd, NN_STORE_TRY, &b, &e), -1);
  assert_int_equal(e.errnum, EWOULDBLOCK);
  assert_int_equal(b.lockfd, -1);
  /* NN_STORE_NOLOCK: read at once all the same, the lock neither taken nor made */
  struct nn_subnet s = subnet("10.88.0.0/24");
  uint32_t v;
  assert_int_equal(nn_store_allocate(&a, "x", "silo0", &s, NULL, 0, &v, &e), 0);
  assert_int_equal(nn_store_save(&a, &e), 0);
  assert_int_equal(nn_store_open(rootfd, NN_STORE_NOLOCK, &b, &e), 0);
  assert_int_equal(b.lockfd, -1);
  assert_non_null(nn_store_find(&b, "x"));
  nn_store_close(&b);
  nn_store_close(&a);
  assert_int_equal(nn_store_open(rootfd, NN_STORE_TRY, &b, &e), 0);
  nn_store_close(&b);
}

static void
test_store_exhaustion(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error e = {0};
  struct nn_subnet s = subnet("10.77.0.0/30"), t = subnet("10.78.0.0/29");
  uint32_t v;
  char x[16];
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &e), 0);
  /* /30: network, gateway, one container, broadcast */
  assert_int_equal(nn_store_allocate(&st, "one", "tiny", &s, NULL, 0, &v, &e), 0);
  assert_string_equal(nn_ip_str(v, x), "10.77.0.2");
  assert_int_equal(nn_store_allocate(&st, "two", "tiny", &s, NULL, 0, &v, &e), -1);
  assert_int_equal(e.errnum, EADDRNOTAVAIL);
  assert_non_null(strstr(e.msg, "no free address left in 10.77.0.0/30"));
  /* /29: 5 containers */
  char id[16];
  for (int i = 0; i < 5; i++) {
    snprintf(id, sizeof id, "s%d", i);
    assert_int_equal(nn_store_allocate(&st, id, "small", &t, NULL, 0, &v, &e), 0);
  }
  assert_string_equal(nn_ip_str(v, x), "10.78.0.6");
  assert_int_equal(nn_store_allocate(&st, "s5", "small", &t, NULL, 0, &v, &e), -1);
  assert_true(nn_store_release(&st, "s2"));
  assert_int_equal(nn_store_allocate(&st, "s5", "small", &t, NULL, 0, &v, &e), 0);
  assert_string_equal(nn_ip_str(v, x), "10.78.0.4");
  nn_store_close(&st);
}

/* Many processes allocating at once: the flock makes every address distinct. */
static void
test_store_concurrent(void **state)
{
  (void)state;
  enum { N = 16 };
  struct nn_subnet s = subnet("10.88.0.0/16");
  for (int i = 0; i < N; i++) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      struct nn_store st;
      struct silo_error e = {0};
      char id[16];
      uint32_t v;
      snprintf(id, sizeof id, "p%d", i);
      if (nn_store_open(rootfd, NN_STORE_CREATE, &st, &e) < 0) _exit(1);
      usleep(1000); /* widen the window a race would need */
      if (nn_store_allocate(&st, id, "silo0", &s, NULL, 0, &v, &e) < 0) _exit(2);
      if (nn_store_save(&st, &e) < 0) _exit(3);
      nn_store_close(&st);
      _exit(0);
    }
  }
  for (int i = 0; i < N; i++) {
    int status;
    assert_true(wait(&status) > 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  struct nn_store st;
  struct silo_error e = {0};
  assert_int_equal(nn_store_open(rootfd, 0, &st, &e), 0);
  assert_int_equal(st.n, N);
  for (size_t i = 0; i < st.n; i++)
    for (size_t k = 0; k < i; k++) assert_int_not_equal(st.leases[i].ip, st.leases[k].ip);
  nn_store_close(&st);
}

static void
test_store_damaged(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error e = {0};
  assert_int_equal(mkdirat(rootfd, NN_STORE_DIR, 0700), 0);
  int fd = openat(rootfd, NN_STORE_DIR "/leases.json", O_WRONLY | O_CREAT, 0600);
  const char *text = "{\"leases\":[{\"id\":\"x\"},{\"id\":\"ok\",\"bridge\":\"b\","
                     "\"subnet\":\"10.1.0.0/16\",\"ip\":\"10.1.0.9\",\"ports\":[\"bad\"]}]}";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  assert_int_equal(nn_store_open(rootfd, 0, &st, &e), 0);
  assert_int_equal(st.n, 1); /* the incomplete entry is dropped */
  assert_string_equal(st.leases[0].id, "ok");
  nn_store_close(&st);
  fd = openat(rootfd, NN_STORE_DIR "/leases.json", O_WRONLY | O_TRUNC);
  assert_int_equal(write(fd, "[", 1), 1);
  close(fd);
  assert_int_equal(nn_store_open(rootfd, 0, &st, &e), -1);
  assert_non_null(strstr(e.msg, "leases.json"));
}

/* ---- generated texts ---- */

static void
test_nft_script(void **state)
{
  (void)state;
  struct nn_port ports[] = {
      {.host_ip = 0, .host_port = 8080, .ctr_port = 80, .proto = IPPROTO_TCP},
      {.host_ip = 0x7f000001, .host_port = 5353, .ctr_port = 53, .proto = IPPROTO_UDP}};
  struct nn_nft_rules r = {.key = "silo:web",
                           .bridge = "silo0",
                           .subnet = subnet("10.88.0.0/16"),
                           .ip = ip("10.88.0.2"),
                           .ports = ports,
                           .n_ports = 2};
  char *s = nn_nft_script(&r);
  assert_non_null(s);
  assert_non_null(strstr(s, "add table ip silo\n"));
  assert_non_null(strstr(s, "ip saddr 10.88.0.2 ip daddr != 10.88.0.0/16 masquerade "
                            "comment \"silo:web\""));
  assert_non_null(strstr(s, "add rule ip silo prerouting fib daddr type local tcp dport 8080 "
                            "dnat to 10.88.0.2:80 comment \"silo:web\""));
  assert_non_null(strstr(s, "add rule ip silo output fib daddr type local tcp dport 8080 "));
  assert_non_null(strstr(s, "output ip daddr 127.0.0.1 udp dport 5353 dnat to 10.88.0.2:53"));
  assert_non_null(strstr(s, "iifname \"silo0\" ip daddr 127.0.0.0/8 drop"));
  /* every rule is marked */
  for (char *line = strstr(s, "add rule"); line; line = strstr(line + 1, "add rule")) {
    char *end = strchr(line, '\n');
    assert_non_null(end);
    assert_memory_equal(end - 18, "comment \"silo:web\"", 18);
  }
  free(s);
  r.n_ports = 0;
  s = nn_nft_script(&r);
  assert_null(strstr(s, "dnat"));
  free(s);
}

static void
test_resolv_hosts(void **state)
{
  (void)state;
  char *s = nn_resolv_content("# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n"
                              "search example.test\noptions edns0\nnameserver ::1\n",
                              NULL);
  assert_non_null(strstr(s, "nameserver 10.0.0.2\n"));
  assert_null(strstr(s, "127.0.0.53"));
  assert_null(strstr(s, "::1"));
  assert_non_null(strstr(s, "search example.test\n"));
  assert_non_null(strstr(s, "options edns0\n"));
  free(s);
  /* systemd-resolved: the stub is dropped, the upstream list used */
  s = nn_resolv_content("nameserver 127.0.0.53\nsearch lan\n", "nameserver 192.0.2.53\n");
  assert_non_null(strstr(s, "nameserver 192.0.2.53\n"));
  assert_non_null(strstr(s, "search lan\n"));
  free(s);
  s = nn_resolv_content("nameserver 127.0.0.1\n", NULL);
  assert_null(strstr(s, "\nnameserver"));
  assert_non_null(strstr(s, "# silo: no nameserver"));
  assert_non_null(strstr(s, "127.0.0.1"));
  free(s);
  s = nn_resolv_content(NULL, NULL);
  assert_non_null(strstr(s, "# silo: no nameserver"));
  free(s);

  s = nn_hosts_content("box", ip("10.88.0.7"), NULL);
  assert_non_null(strstr(s, "127.0.0.1\tlocalhost\n"));
  assert_non_null(strstr(s, "\n10.88.0.7\tbox\n"));
  free(s);
}

static void
test_record(void **state)
{
  (void)state;
  struct silo_error e = {0};
  struct nn_record r = {0}, back;
  assert_int_equal(nn_record_read(rootfd, &back, &e), 1);
  r.bridge = true;
  strcpy(r.bridge_name, "silo0");
  nn_veth_name("web", r.veth);
  nn_rule_key("web", r.key);
  r.subnet = subnet("10.88.0.0/16");
  r.ip = ip("10.88.0.9");
  struct nn_port p = {.host_ip = 0, .host_port = 8080, .ctr_port = 80, .proto = IPPROTO_UDP};
  r.ports = &p;
  r.n_ports = 1;
  r.pinned = true;
  struct nn_addr addrs[2] = {{.family = AF_INET, .addr = {10, 1, 2, 3}, .prefix = 24},
                             {.family = AF_INET6, .addr = {0xfd, 0, [15] = 1}, .prefix = 64}};
  struct nn_netdev dev = {.host_name = "dummy0",
                          .name = "net1",
                          .addrs = addrs,
                          .n_addrs = 2,
                          .up = true,
                          .moved = true};
  r.devs = &dev;
  r.n_devs = 1;
  assert_int_equal(nn_record_write(rootfd, &r, &e), 0);
  assert_int_equal(nn_record_read(rootfd, &back, &e), 0);
  assert_true(back.bridge && back.pinned);
  assert_string_equal(back.bridge_name, "silo0");
  assert_string_equal(back.veth, r.veth);
  assert_string_equal(back.key, "silo:web");
  assert_int_equal(back.ip, r.ip);
  assert_int_equal(back.subnet.prefix, 16);
  assert_int_equal(back.n_ports, 1);
  assert_int_equal(back.ports[0].proto, IPPROTO_UDP);
  assert_int_equal(back.n_devs, 1);
  assert_string_equal(back.devs[0].host_name, "dummy0");
  assert_string_equal(back.devs[0].name, "net1");
  assert_true(back.devs[0].up && back.devs[0].moved);
  assert_int_equal(back.devs[0].n_addrs, 2);
  assert_memory_equal(back.devs[0].addrs[0].addr, addrs[0].addr, 4);
  assert_int_equal(back.devs[0].addrs[1].family, AF_INET6);
  assert_memory_equal(back.devs[0].addrs[1].addr, addrs[1].addr, 16);
  assert_int_equal(back.devs[0].addrs[1].prefix, 64);
  nn_record_free(&back);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ip_parse),
      cmocka_unit_test(test_subnet_parse),
      cmocka_unit_test(test_overlap),
      cmocka_unit_test(test_subnet_choose),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_publish),
      cmocka_unit_test_setup_teardown(test_store_allocate_release, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_store_foreign, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_store_reclaim, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_store_reclaim_netns, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_store_try, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_store_exhaustion, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_store_concurrent, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_store_damaged, store_setup, store_teardown),
      cmocka_unit_test(test_nft_script),
      cmocka_unit_test(test_resolv_hosts),
      cmocka_unit_test_setup_teardown(test_record, store_setup, store_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
