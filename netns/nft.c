/* silo netns: NAT and published ports, in tables of silo's own (libnftables).
 *
 *   table ip silo
 *     chain prerouting   nat, dstnat     published ports, from outside and containers
 *     chain output       nat, dstnat     published ports, from the host itself
 *     chain postrouting  nat, srcnat     masquerade: outgoing, from 127/8, hairpin
 *     chain guard        filter, raw     no 127/8 from a bridge (route_localnet)
 *   table ip6 silo                       containers with IPv6 only
 *     chain prerouting   nat, dstnat     published ports (those not bound to an IPv4
 *     chain output       nat, dstnat       address), to the container's IPv6 address
 *     chain postrouting  nat, srcnat     NAT66 masquerade: outgoing, hairpin
 *
 * An ip6 table beside the ip one rather than one inet table: the IPv4 rules stay
 * exactly what they were, and a host without IPv6 containers never gets the ip6
 * table.  (::1 needs no guard: the kernel never routes ::1 off the loopback.)
 *
 * Every rule of a container carries the comment "silo:<id>" (nn_rule_key): removal
 * lists each table (JSON, with handles) and deletes those rules by handle; the last
 * rule to go takes its table with it.  Each change is one nft transaction.
 *
 * libnftables (with libnftnl, libxtables and libgmp behind it) is loaded with
 * dlopen when rules change, not at every start of silo: `silo state` and friends
 * would pay for loading it otherwise.
 */
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

#include "netns/netns.h"

#define T  "ip " NN_TABLE
#define T6 "ip6 " NN_TABLE

static struct {
  void *lib;
  struct nft_ctx *(*ctx_new)(uint32_t flags);
  void (*ctx_free)(struct nft_ctx *ctx);
  void (*output_set_flags)(struct nft_ctx *ctx, unsigned int flags);
  int (*buffer_output)(struct nft_ctx *ctx);
  int (*buffer_error)(struct nft_ctx *ctx);
  const char *(*get_output_buffer)(struct nft_ctx *ctx);
  const char *(*get_error_buffer)(struct nft_ctx *ctx);
  int (*run_cmd_from_buffer)(struct nft_ctx *nft, const char *buf);
} nft;

static int
nft_load(struct silo_error *err)
{
  if (nft.lib) return 0;
  void *lib = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) lib = dlopen("libnftables.so", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return silo_err(err, ENOENT,
                    "nftables: cannot load libnftables (%s): is libnftables1 installed?",
                    dlerror());
  static const struct {
    const char *name;
    size_t offset;
  } syms[] = {
#define SYM(field, name) {name, offsetof(__typeof__(nft), field)}
      SYM(ctx_new, "nft_ctx_new"),
      SYM(ctx_free, "nft_ctx_free"),
      SYM(output_set_flags, "nft_ctx_output_set_flags"),
      SYM(buffer_output, "nft_ctx_buffer_output"),
      SYM(buffer_error, "nft_ctx_buffer_error"),
      SYM(get_output_buffer, "nft_ctx_get_output_buffer"),
      SYM(get_error_buffer, "nft_ctx_get_error_buffer"),
      SYM(run_cmd_from_buffer, "nft_run_cmd_from_buffer"),
#undef SYM
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
    void *f = dlsym(lib, syms[i].name);
    if (!f) {
      dlclose(lib);
      return silo_err(err, ENOENT, "nftables: libnftables has no %s", syms[i].name);
    }
    memcpy((char *)&nft + syms[i].offset, &f, sizeof f);
  }
  nft.lib = lib;
  return 0;
}

/* The IPv6 half: NAT66 for the container's address, DNAT of its published ports. */
static void
script6(FILE *f, const struct nn_nft_rules *r, const char *c)
{
  char ip6[NN_IP6_STRLEN], sn6[NN_SUBNET6_STRLEN];
  nn_ip6_str(&r->ip6, ip6);
  nn_subnet6_str(&r->subnet6, sn6);
  fprintf(f, "add table " T6 "\n");
  fprintf(f, "add chain " T6 " prerouting "
             "{ type nat hook prerouting priority dstnat; policy accept; }\n");
  fprintf(f, "add chain " T6 " output { type nat hook output priority -100; policy accept; }\n");
  fprintf(f, "add chain " T6 " postrouting "
             "{ type nat hook postrouting priority srcnat; policy accept; }\n");
  /* Outgoing connections leave with the host's address on the way out (NAT66):
   * the subnet is usually a ULA, which nothing outside routes back. */
  fprintf(f, "add rule " T6 " postrouting ip6 saddr %s ip6 daddr != %s masquerade %s\n", ip6, sn6,
          c);
  size_t n6 = 0;
  for (size_t i = 0; i < r->n_ports; i++) {
    const struct nn_port *p = &r->ports[i];
    if (p->host_ip) continue; /* bound to an IPv4 address: IPv4 only */
    static const struct in6_addr any6 = IN6ADDR_ANY_INIT;
    char match[NN_IP6_STRLEN + 16], hip6[NN_IP6_STRLEN];
    if (p->v6 && !nn_ip6_equal(&p->host_ip6, &any6))
      snprintf(match, sizeof match, "ip6 daddr %s", nn_ip6_str(&p->host_ip6, hip6));
    else
      snprintf(match, sizeof match, "fib daddr type local");
    static const char *const chains[] = {"prerouting", "output"};
    for (size_t k = 0; k < 2; k++)
      fprintf(f, "add rule " T6 " %s %s %s dport %u dnat to [%s]:%u %s\n", chains[k], match,
              nn_proto_name(p->proto), p->host_port, ip6, p->ctr_port, c);
    n6++;
  }
  if (n6) /* Hairpin: a container reaching a published port of the same bridge. */
    fprintf(f,
            "add rule " T6 " postrouting ip6 saddr %s ip6 daddr %s ct status dnat masquerade %s\n",
            sn6, ip6, c);
}

char *
nn_nft_script(const struct nn_nft_rules *r)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  char ip[16], sn[20], hip[16], c[NN_KEY_MAX + 16];
  nn_ip_str(r->ip, ip);
  nn_subnet_str(&r->subnet, sn);
  snprintf(c, sizeof c, "comment \"%s\"", r->key);

  fprintf(f, "add table " T "\n");
  fprintf(f, "add chain " T " prerouting "
             "{ type nat hook prerouting priority dstnat; policy accept; }\n");
  fprintf(f, "add chain " T " output { type nat hook output priority -100; policy accept; }\n");
  fprintf(f, "add chain " T " postrouting "
             "{ type nat hook postrouting priority srcnat; policy accept; }\n");
  fprintf(f,
          "add chain " T " guard { type filter hook prerouting priority raw; policy accept; }\n");
  /* Outgoing connections leave with the host's address. */
  fprintf(f, "add rule " T " postrouting ip saddr %s ip daddr != %s masquerade %s\n", ip, sn, c);
  /* The bridge may have route_localnet=1 (published ports reachable on 127.0.0.1):
   * packets from containers to 127/8 must not reach the host's loopback services. */
  fprintf(f, "add rule " T " guard iifname \"%s\" ip daddr 127.0.0.0/8 drop %s\n", r->bridge, c);
  size_t n4 = 0;
  for (size_t i = 0; i < r->n_ports; i++) n4 += !r->ports[i].v6;
  if (n4) {
    /* From the host's 127.0.0.1: the container answers to the bridge's address. */
    fprintf(f,
            "add rule " T " postrouting oifname \"%s\" ip saddr 127.0.0.0/8 ip daddr %s "
            "masquerade %s\n",
            r->bridge, ip, c);
    /* Hairpin: a container reaching a published port of the same bridge. */
    fprintf(f, "add rule " T " postrouting ip saddr %s ip daddr %s ct status dnat masquerade %s\n",
            sn, ip, c);
  }
  for (size_t i = 0; i < r->n_ports; i++) {
    const struct nn_port *p = &r->ports[i];
    if (p->v6) continue; /* bound to an IPv6 address: table ip6 silo only */
    char match[48];
    if (p->host_ip)
      snprintf(match, sizeof match, "ip daddr %s", nn_ip_str(p->host_ip, hip));
    else
      snprintf(match, sizeof match, "fib daddr type local");
    static const char *const chains[] = {"prerouting", "output"};
    for (size_t k = 0; k < 2; k++)
      fprintf(f, "add rule " T " %s %s %s dport %u dnat to %s:%u %s\n", chains[k], match,
              nn_proto_name(p->proto), p->host_port, ip, p->ctr_port, c);
  }
  if (r->has_ip6) script6(f, r, c);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static struct nft_ctx *
ctx_new(unsigned flags, struct silo_error *err)
{
  if (nft_load(err) < 0) return NULL;
  struct nft_ctx *ctx = nft.ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return silo_err(err, ENOMEM, "nftables: cannot create a context"), NULL;
  nft.output_set_flags(ctx, flags);
  nft.buffer_output(ctx);
  nft.buffer_error(ctx);
  return ctx;
}

/* nft's error text, on one line. */
static int
nft_fail(struct nft_ctx *ctx, const char *what, struct silo_error *err)
{
  const char *e = nft.get_error_buffer(ctx);
  char line[512];
  snprintf(line, sizeof line, "%s", e ? e : "");
  char *nl = strchr(line, '\n');
  if (nl) *nl = '\0';
  return silo_err(err, 0, "nftables: %s: %s", what, line[0] ? line : "failed");
}

int
nn_nft_add(const struct nn_nft_rules *r, struct silo_error *err)
{
  _cleanup_free_ char *script = nn_nft_script(r);
  if (!script) return silo_err(err, ENOMEM, "nftables: build rules");
  struct nft_ctx *ctx = ctx_new(0, err);
  if (!ctx) return -1;
  int ret = 0;
  if (nft.run_cmd_from_buffer(ctx, script) != 0) ret = nft_fail(ctx, "add rules", err);
  nft.ctx_free(ctx);
  return ret;
}

/* Deletes key's rules of one table ("ip silo" or "ip6 silo"), or the table when
 * nothing else is left in it. */
static int
remove_in(struct nft_ctx *ctx, const char *table, const char *key, struct silo_error *err)
{
  int ret = 0;
  char *cmds = NULL, list[64];
  size_t len = 0;
  FILE *f = NULL;
  json_t *doc = NULL;
  snprintf(list, sizeof list, "list table %s", table);
  if (nft.run_cmd_from_buffer(ctx, list) != 0) goto out; /* no table: done */
  json_error_t je;
  doc = json_loads(nft.get_output_buffer(ctx), 0, &je);
  if (!doc) {
    ret =
        silo_err(err, EINVAL, "nftables: cannot read the listing of table %s: %s", table, je.text);
    goto out;
  }
  f = open_memstream(&cmds, &len);
  if (!f) {
    ret = silo_err(err, errno, "nftables");
    goto out;
  }
  size_t i, others = 0, ours = 0;
  json_t *item;
  json_array_foreach(json_object_get(doc, "nftables"), i, item)
  {
    json_t *rule = json_object_get(item, "rule");
    if (!rule) continue;
    const char *comment = json_string_value(json_object_get(rule, "comment"));
    const char *chain = json_string_value(json_object_get(rule, "chain"));
    json_t *handle = json_object_get(rule, "handle");
    if (comment && chain && json_is_integer(handle) && strcmp(comment, key) == 0) {
      fprintf(f, "delete rule %s %s handle %lld\n", table, chain,
              (long long)json_integer_value(handle));
      ours++;
    } else {
      others++;
    }
  }
  if (others == 0) {
    /* Last user: the table goes, chains and all (replacing the rule deletions). */
    fflush(f);
    rewind(f);
    fprintf(f, "delete table %s\n", table);
  }
  fputc('\0', f); /* rewind+shorter text: terminate explicitly */
  fclose(f);
  f = NULL;
  if ((ours || others == 0) && nft.run_cmd_from_buffer(ctx, cmds) != 0)
    ret = nft_fail(ctx, "remove rules", err);
out:
  if (f) fclose(f);
  free(cmds);
  json_decref(doc);
  return ret;
}

int
nn_nft_remove(const char *key, struct silo_error *err)
{
  struct nft_ctx *ctx = ctx_new(NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE, err);
  if (!ctx) return -1;
  /* Both tables even when one fails: the other's rules should not stay. */
  struct silo_error e6 = {0};
  int r4 = remove_in(ctx, T, key, err);
  int r6 = remove_in(ctx, T6, key, r4 < 0 ? &e6 : err);
  nft.ctx_free(ctx);
  return r4 < 0 || r6 < 0 ? -1 : 0;
}
