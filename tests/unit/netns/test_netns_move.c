/* Unit tests of netns/ for a network that spans hosts and a container that
 * migrates: the VXLAN annotations' parser, the announcement frames (gratuitous
 * ARP, unsolicited neighbour advertisement), a host's slice of the subnet, and a
 * migrated lease checked as hostile input (nn_store_adopt).  Nothing here touches
 * the host's network: the store lives in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/error.h"
#include "netns/netns.h"
#include "store_fixture.h"

static uint32_t
ip(const char *s)
{
  uint32_t v = 0;
  assert_int_equal(nn_ip_parse(s, &v), 0);
  return v;
}

static void
test_vxlan_parse(void **state)
{
  (void)state;
  struct nn_vxlan v;
  struct silo_error err = {0};
  assert_int_equal(nn_vxlan_parse("4242", "10.0.0.1, 10.0.0.2,10.0.0.3", &v, &err), 0);
  assert_int_equal(v.vni, 4242);
  assert_int_equal(v.n_peers, 3);
  assert_int_equal(v.peers[1], ip("10.0.0.2"));
  nn_vxlan_free(&v);
  char name[NN_IFNAMSIZ];
  nn_vxlan_name(16777215, name);
  assert_string_equal(name, "silovx16777215");
  assert_false(nn_is_veth_name(name));
  const char *bad_vni[] = {"0", "16777216", "-1", "12x", "", NULL};
  for (size_t i = 0; bad_vni[i]; i++) {
    assert_int_equal(nn_vxlan_parse(bad_vni[i], "10.0.0.1", &v, &err), -1);
    assert_non_null(strstr(err.msg, "VNI"));
  }
  assert_int_equal(nn_vxlan_parse(NULL, "10.0.0.1", &v, &err), -1);
  const char *bad_peers[] = {"", "10.0.0", "127.0.0.1", "224.0.0.1", "0.0.0.0", "x", NULL};
  for (size_t i = 0; bad_peers[i]; i++)
    assert_int_equal(nn_vxlan_parse("1", bad_peers[i], &v, &err), -1);
  assert_int_equal(nn_vxlan_parse("1", NULL, &v, &err), -1);
}

static void
test_garp_frame(void **state)
{
  (void)state;
  uint8_t mac[6], f[NN_GARP_LEN];
  nn_mac_from_ip(ip("10.252.1.70"), mac);
  assert_int_equal(nn_garp_frame(mac, ip("10.252.1.70"), f), 42);
  static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  assert_memory_equal(f, bcast, 6);
  assert_memory_equal(f + 6, mac, 6);
  assert_int_equal(f[12], 0x08);
  assert_int_equal(f[13], 0x06);
  assert_int_equal(f[14 + 7], 1); /* a request */
  assert_memory_equal(f + 14 + 8, mac, 6);
  static const uint8_t a[4] = {10, 252, 1, 70};
  assert_memory_equal(f + 14 + 14, a, 4); /* sender */
  assert_memory_equal(f + 14 + 24, a, 4); /* target: the same */
}

static void
test_unsol_na(void **state)
{
  (void)state;
  uint8_t mac[6] = {2, 0x51, 1, 2, 3, 4}, na[NN_NA_LEN];
  struct in6_addr a;
  assert_int_equal(inet_pton(AF_INET6, "fd88::5", &a), 1);
  assert_int_equal(nn_unsol_na(mac, &a, na), 32);
  assert_int_equal(na[0], 136);  /* neighbour advertisement */
  assert_int_equal(na[4], 0x20); /* override, not solicited */
  assert_memory_equal(na + 8, &a, 16);
  assert_int_equal(na[24], 2); /* target link-layer address */
  assert_int_equal(na[25], 1);
  assert_memory_equal(na + 26, mac, 6);
}

static void
subnet(const char *s, struct nn_subnet *out)
{
  struct silo_error err = {0};
  assert_int_equal(nn_subnet_parse(s, out, &err), 0);
}

static void
test_range(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error err = {0};
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &err), 0);
  struct nn_subnet s;
  subnet("10.252.1.0/24", &s);
  subnet("10.252.1.128/26", &st.range);
  uint32_t a;
  assert_int_equal(nn_store_allocate(&st, "a", "br", &s, NULL, 0, &a, &err), 0);
  assert_int_equal(a, ip("10.252.1.128"));
  assert_int_equal(nn_store_allocate(&st, "b", "br", &s, NULL, 0, &a, &err), 0);
  assert_int_equal(a, ip("10.252.1.129"));
  /* the slice used up: no address of another host's slice */
  char id[16];
  for (int i = 0; i < 62; i++) {
    snprintf(id, sizeof id, "c%d", i);
    assert_int_equal(nn_store_allocate(&st, id, "br", &s, NULL, 0, &a, &err), 0);
    assert_true(a >= ip("10.252.1.128") && a <= ip("10.252.1.191"));
  }
  assert_int_equal(nn_store_allocate(&st, "full", "br", &s, NULL, 0, &a, &err), -1);
  assert_int_equal(err.errnum, EADDRNOTAVAIL);
  nn_store_close(&st);
}

static struct nn_lease
lease(const char *id, const char *sn, const char *addr)
{
  struct nn_lease l = {.id = (char *)id, .bridge = (char *)"br", .ip = ip(addr)};
  subnet(sn, &l.subnet);
  return l;
}

static void
test_adopt(void **state)
{
  (void)state;
  struct nn_store st;
  struct silo_error err = {0};
  size_t dropped;
  assert_int_equal(nn_store_open(rootfd, NN_STORE_CREATE, &st, &err), 0);
  struct nn_subnet s;
  subnet("10.252.1.0/24", &s);
  struct nn_port p80 = {.host_port = 8080, .ctr_port = 80, .proto = IPPROTO_TCP};
  uint32_t a;
  assert_int_equal(nn_store_allocate(&st, "here", "br", &s, &p80, 1, &a, &err), 0);

  /* refused: not a host address, the gateway, broadcast, taken, other subnet */
  struct {
    const char *sn, *ip, *why;
  } bad[] = {{"10.252.1.0/24", "10.99.0.5", "not a host address"},
             {"10.252.1.0/24", "10.252.1.0", "not a host address"},
             {"10.252.1.0/24", "10.252.1.1", "not a host address"},
             {"10.252.1.0/24", "10.252.1.255", "not a host address"},
             {"10.252.1.0/24", "10.252.1.2", "taken"},
             {"10.252.2.0/24", "10.252.2.9", "serves subnet"},
             {"10.252.0.0/16", "10.252.9.9", "serves subnet"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct nn_lease w = lease("moved", bad[i].sn, bad[i].ip);
    memset(&err, 0, sizeof err);
    assert_int_equal(nn_store_adopt(&st, &w, &dropped, &err), -1);
    assert_non_null(strstr(err.msg, bad[i].why));
    assert_null(nn_store_find(&st, "moved"));
  }
  /* another bridge's overlapping subnet */
  struct nn_lease o = lease("moved", "10.252.1.0/25", "10.252.1.9");
  o.bridge = (char *)"other";
  assert_int_equal(nn_store_adopt(&st, &o, &dropped, &err), -1);
  assert_non_null(strstr(err.msg, "overlaps"));
  /* an id that has a lease */
  struct nn_lease dup = lease("here", "10.252.1.0/24", "10.252.1.9");
  assert_int_equal(nn_store_adopt(&st, &dup, &dropped, &err), -1);

  /* taken, with the clashing port left out, pending on this process */
  struct nn_port ports[2] = {p80, {.host_port = 9090, .ctr_port = 90, .proto = IPPROTO_TCP}};
  struct nn_lease w = lease("moved", "10.252.1.0/24", "10.252.1.70");
  w.ports = ports;
  w.n_ports = 2;
  w.pending = (int)getpid();
  assert_int_equal(nn_store_adopt(&st, &w, &dropped, &err), 0);
  assert_int_equal(dropped, 1);
  const struct nn_lease *l = nn_store_find(&st, "moved");
  assert_non_null(l);
  assert_int_equal(l->ip, ip("10.252.1.70"));
  assert_int_equal(l->n_ports, 1);
  assert_int_equal(l->ports[0].host_port, 9090);
  assert_true(nn_lease_pending(l));
  assert_int_equal(nn_store_save(&st, &err), 0);
  nn_store_close(&st);

  /* pending: a reclaim keeps it although <root>/moved does not exist */
  assert_int_equal(nn_store_open(rootfd, 0, &st, &err), 0);
  assert_int_equal(mkdirat(rootfd, "here", 0700), 0);
  assert_int_equal(nn_store_reclaim(&st, rootfd, 0, NULL, NULL), 0);
  assert_non_null(nn_store_find(&st, "moved"));
  assert_true(nn_store_settle(&st, "moved"));
  assert_false(nn_lease_pending(nn_store_find(&st, "moved")));
  /* settled and without its state directory: an ordinary dead lease */
  assert_int_equal(nn_store_reclaim(&st, rootfd, 0, NULL, NULL), 1);
  assert_null(nn_store_find(&st, "moved"));
  nn_store_close(&st);
  unlinkat(rootfd, "here", AT_REMOVEDIR);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vxlan_parse),
      cmocka_unit_test(test_garp_frame),
      cmocka_unit_test(test_unsol_na),
      cmocka_unit_test_setup_teardown(test_range, store_setup, store_teardown),
      cmocka_unit_test_setup_teardown(test_adopt, store_setup, store_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
