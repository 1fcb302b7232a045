/* silo oci/: linux.resources, in config.json or alone (`update --resources`). */
#include "oci/internal.h"

#include <string.h>

struct resources_priv {
  struct oci_resources_doc pub;
  struct oci_arena arena;
};

static int
parse_device_cgroup(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                    void *out)
{
  struct oci_device_cgroup *d = out;
  const char *type = NULL;

  d->type = 'a';
  d->major = d->minor = -1;
  if (oci_j_bool(c, o, p, "allow", &d->allow, NULL, J_REQ) < 0 ||
      oci_j_str(c, o, p, "type", &type, J_OPT) < 0)
    return -1;
  if (type) {
    if (strlen(type) != 1 || !strchr("acb", type[0]))
      return oci_jerr(c, &JP_KEY(p, "type"), "invalid device type \"%s\" (expected a, c or b)",
                      type);
    d->type = type[0];
  }
  if (oci_j_i64(c, o, p, "major", &d->major, &d->has_major, J_OPT) < 0 ||
      oci_j_i64(c, o, p, "minor", &d->minor, &d->has_minor, J_OPT) < 0 ||
      oci_j_str(c, o, p, "access", &d->access, J_OPT) < 0)
    return -1;
  if (d->access && d->access[strspn(d->access, "rwm")])
    return oci_jerr(c, &JP_KEY(p, "access"), "invalid access \"%s\" (expected letters of \"rwm\")",
                    d->access);
  return 0;
}

static int
parse_memory(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_memory *m = out;
  if (oci_j_i64(c, o, p, "limit", &m->limit, &m->has_limit, J_OPT) < 0 ||
      oci_j_i64(c, o, p, "reservation", &m->reservation, &m->has_reservation, J_OPT) < 0 ||
      oci_j_i64(c, o, p, "swap", &m->swap, &m->has_swap, J_OPT) < 0 ||
      oci_j_i64(c, o, p, "kernel", &m->kernel, &m->has_kernel, J_OPT) < 0 ||
      oci_j_i64(c, o, p, "kernelTCP", &m->kernel_tcp, &m->has_kernel_tcp, J_OPT) < 0 ||
      oci_j_u64(c, o, p, "swappiness", &m->swappiness, &m->has_swappiness, J_OPT) < 0 ||
      oci_j_bool(c, o, p, "disableOOMKiller", &m->disable_oom_killer, &m->has_disable_oom_killer,
                 J_OPT) < 0 ||
      oci_j_bool(c, o, p, "useHierarchy", &m->use_hierarchy, &m->has_use_hierarchy, J_OPT) < 0 ||
      oci_j_bool(c, o, p, "checkBeforeUpdate", &m->check_before_update, &m->has_check_before_update,
                 J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_cpu(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_cpu *u = out;
  if (oci_j_u64(c, o, p, "shares", &u->shares, &u->has_shares, J_OPT) < 0 ||
      oci_j_i64(c, o, p, "quota", &u->quota, &u->has_quota, J_OPT) < 0 ||
      oci_j_u64(c, o, p, "burst", &u->burst, &u->has_burst, J_OPT) < 0 ||
      oci_j_u64(c, o, p, "period", &u->period, &u->has_period, J_OPT) < 0 ||
      oci_j_i64(c, o, p, "realtimeRuntime", &u->realtime_runtime, &u->has_realtime_runtime, J_OPT) <
          0 ||
      oci_j_u64(c, o, p, "realtimePeriod", &u->realtime_period, &u->has_realtime_period, J_OPT) <
          0 ||
      oci_j_str(c, o, p, "cpus", &u->cpus, J_OPT) < 0 ||
      oci_j_str(c, o, p, "mems", &u->mems, J_OPT) < 0 ||
      oci_j_i64(c, o, p, "idle", &u->idle, &u->has_idle, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_weight_device(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                    void *out)
{
  struct oci_weight_device *w = out;
  if (oci_j_i64(c, o, p, "major", &w->major, NULL, J_REQ) < 0 ||
      oci_j_i64(c, o, p, "minor", &w->minor, NULL, J_REQ) < 0 ||
      oci_j_u16(c, o, p, "weight", &w->weight, &w->has_weight, J_OPT) < 0 ||
      oci_j_u16(c, o, p, "leafWeight", &w->leaf_weight, &w->has_leaf_weight, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_throttle_device(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                      void *out)
{
  struct oci_throttle_device *t = out;
  if (oci_j_i64(c, o, p, "major", &t->major, NULL, J_REQ) < 0 ||
      oci_j_i64(c, o, p, "minor", &t->minor, NULL, J_REQ) < 0 ||
      oci_j_u64(c, o, p, "rate", &t->rate, NULL, J_REQ) < 0)
    return -1;
  return 0;
}

static int
parse_blkio(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_blkio *b = out;
  if (oci_j_u16(c, o, p, "weight", &b->weight, &b->has_weight, J_OPT) < 0 ||
      oci_j_u16(c, o, p, "leafWeight", &b->leaf_weight, &b->has_leaf_weight, J_OPT) < 0 ||
      J_LIST(c, o, p, "weightDevice", b->weight_device, b->n_weight_device, parse_weight_device,
             J_OPT) < 0 ||
      J_LIST(c, o, p, "throttleReadBpsDevice", b->throttle_read_bps, b->n_throttle_read_bps,
             parse_throttle_device, J_OPT) < 0 ||
      J_LIST(c, o, p, "throttleWriteBpsDevice", b->throttle_write_bps, b->n_throttle_write_bps,
             parse_throttle_device, J_OPT) < 0 ||
      J_LIST(c, o, p, "throttleReadIOPSDevice", b->throttle_read_iops, b->n_throttle_read_iops,
             parse_throttle_device, J_OPT) < 0 ||
      J_LIST(c, o, p, "throttleWriteIOPSDevice", b->throttle_write_iops, b->n_throttle_write_iops,
             parse_throttle_device, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_hugepage(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
               void *out)
{
  struct oci_hugepage_limit *h = out;
  if (oci_j_str(c, o, p, "pageSize", &h->page_size, J_REQ) < 0 ||
      oci_j_u64(c, o, p, "limit", &h->limit, NULL, J_REQ) < 0)
    return -1;
  return 0;
}

static int
parse_net_priority(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                   void *out)
{
  struct oci_net_priority *n = out;
  if (oci_j_str(c, o, p, "name", &n->name, J_REQ) < 0 ||
      oci_j_u32(c, o, p, "priority", &n->priority, NULL, J_REQ) < 0)
    return -1;
  return 0;
}

static int
parse_network(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_resources *r = out;
  if (oci_j_u32(c, o, p, "classID", &r->net_class_id, &r->has_net_class_id, J_OPT) < 0 ||
      J_LIST(c, o, p, "priorities", r->net_priorities, r->n_net_priorities, parse_net_priority,
             J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_pids(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_resources *r = out;
  return oci_j_i64(c, o, p, "limit", &r->pids_limit, &r->has_pids_limit, J_REQ);
}

static int
parse_rdma(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_rdma *r = out;
  r->device = key;
  if (oci_j_u32(c, o, p, "hcaHandles", &r->hca_handles, &r->has_hca_handles, J_OPT) < 0 ||
      oci_j_u32(c, o, p, "hcaObjects", &r->hca_objects, &r->has_hca_objects, J_OPT) < 0)
    return -1;
  return 0;
}

int
oci_parse_resources(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                    void *out)
{
  struct oci_resources *r = out;
  if (J_LIST(c, o, p, "devices", r->devices, r->n_devices, parse_device_cgroup, J_OPT) < 0 ||
      J_NEW(c, o, p, "memory", r->memory, parse_memory, J_OPT) < 0 ||
      J_NEW(c, o, p, "cpu", r->cpu, parse_cpu, J_OPT) < 0 ||
      oci_j_object_in(c, o, p, "pids", r, parse_pids, J_OPT) < 0 ||
      J_NEW(c, o, p, "blockIO", r->blkio, parse_blkio, J_OPT) < 0 ||
      J_LIST(c, o, p, "hugepageLimits", r->hugepage_limits, r->n_hugepage_limits, parse_hugepage,
             J_OPT) < 0 ||
      oci_j_object_in(c, o, p, "network", r, parse_network, J_OPT) < 0 ||
      J_MAP(c, o, p, "rdma", r->rdma, r->n_rdma, parse_rdma) < 0 ||
      oci_j_kv(c, o, p, "unified", &r->unified, &r->n_unified) < 0)
    return -1;
  return 0;
}

struct oci_resources_doc *
oci_resources_parse(const char *buf, size_t len, struct silo_error *err)
{
  struct resources_priv *priv = xcalloc(1, sizeof *priv);
  if (oci_doc_fill(buf, len, &priv->arena, &priv->pub.doc, oci_parse_resources,
                   &priv->pub.resources, err) < 0) {
    oci_resources_doc_free(&priv->pub);
    return NULL;
  }
  return &priv->pub;
}

void
oci_resources_doc_free(struct oci_resources_doc *rd)
{
  struct resources_priv *priv = (struct resources_priv *)rd;
  if (rd) oci_doc_release(&priv->arena, rd->doc, priv);
}
