/* silo oci/: the `linux` object of config.json (all but linux.resources). */
#include "oci/internal.h"

#include <string.h>

static const char *const ns_names[OCI_NS_KINDS + 1] = {
    [OCI_NS_USER] = "user", [OCI_NS_PID] = "pid",     [OCI_NS_NETWORK] = "network",
    [OCI_NS_IPC] = "ipc",   [OCI_NS_UTS] = "uts",     [OCI_NS_CGROUP] = "cgroup",
    [OCI_NS_TIME] = "time", [OCI_NS_MOUNT] = "mount",
};

static const char *const propagations[] = {"private",    "rprivate",    "slave",
                                           "rslave",     "shared",      "rshared",
                                           "unbindable", "runbindable", NULL};

static const char *const seccomp_ops[] = {
    [OCI_SCMP_NE] = "SCMP_CMP_NE",
    [OCI_SCMP_LT] = "SCMP_CMP_LT",
    [OCI_SCMP_LE] = "SCMP_CMP_LE",
    [OCI_SCMP_EQ] = "SCMP_CMP_EQ",
    [OCI_SCMP_GE] = "SCMP_CMP_GE",
    [OCI_SCMP_GT] = "SCMP_CMP_GT",
    [OCI_SCMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
    NULL,
};

static const char *const personality_domains[] = {"LINUX", "LINUX32", NULL};
const char *const oci_mpol_modes[] = {
    "MPOL_DEFAULT",        "MPOL_PREFERRED",           "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL",
    "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE", NULL};
const char *const oci_mpol_flags[] = {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES",
                                      "MPOL_F_STATIC_NODES", NULL};

const char *
oci_ns_type_name(enum oci_ns_type t)
{
  return (unsigned)t < OCI_NS_KINDS ? ns_names[t] : "unknown";
}

const struct oci_namespace *
oci_config_namespace(const struct oci_config *c, enum oci_ns_type t)
{
  if (!c || !c->linux) return NULL;
  for (size_t i = 0; i < c->linux->n_namespaces; i++)
    if (c->linux->namespaces[i].type == t) return &c->linux->namespaces[i];
  return NULL;
}

int
oci_parse_idmap(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                void *out)
{
  struct oci_idmap *m = out;
  if (oci_j_u32(c, o, p, "containerID", &m->container_id, NULL, J_REQ) < 0 ||
      oci_j_u32(c, o, p, "hostID", &m->host_id, NULL, J_REQ) < 0 ||
      oci_j_u32(c, o, p, "size", &m->size, NULL, J_REQ) < 0)
    return -1;
  /* A range reaching (uid_t)-1, "unchanged" to the kernel, is refused by the kernel
   * only once the maps are written after the clone: here, before anything exists. */
  if ((uint64_t)m->container_id + m->size > UINT32_MAX)
    return oci_jerr(c, p, "containerID %u + size %u would map 4294967295, which is not a valid id",
                    m->container_id, m->size);
  if ((uint64_t)m->host_id + m->size > UINT32_MAX)
    return oci_jerr(c, p, "hostID %u + size %u would map 4294967295, which is not a valid id",
                    m->host_id, m->size);
  return 0;
}

static int
parse_namespace(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                void *out)
{
  struct oci_namespace *ns = out;
  const char *type = NULL;
  int t;

  if (oci_j_str(c, o, p, "type", &type, J_REQ) < 0) return -1;
  if ((t = oci_lookup(ns_names, type)) < 0)
    return oci_jerr(c, &JP_KEY(p, "type"), "unknown namespace type \"%s\"", type);
  ns->type = (enum oci_ns_type)t;
  /* "path": "" is no path, a new namespace: runc reads it so (Go's empty string). */
  const char *path = NULL;
  if (oci_j_str(c, o, p, "path", &path, J_OPT) < 0) return -1;
  if (!path || !path[0]) return 0;
  return oci_j_abspath(c, o, p, "path", &ns->path, J_OPT);
}

static int
parse_time_offset(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                  void *out)
{
  struct oci_time_offset *t = out;
  if (oci_j_i64(c, o, p, "secs", &t->secs, NULL, J_OPT) < 0 ||
      oci_j_u32(c, o, p, "nanosecs", &t->nanosecs, NULL, J_OPT) < 0)
    return -1;
  t->set = true;
  return 0;
}

static int
parse_time_offsets(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                   void *out)
{
  struct oci_linux *l = out;
  if (oci_j_object_in(c, o, p, "monotonic", &l->time_monotonic, parse_time_offset, J_OPT) < 0 ||
      oci_j_object_in(c, o, p, "boottime", &l->time_boottime, parse_time_offset, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_device(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_device *d = out;
  const char *type = NULL;

  if (oci_j_str(c, o, p, "type", &type, J_REQ) < 0) return -1;
  if (strlen(type) != 1 || !strchr("cbup", type[0]))
    return oci_jerr(c, &JP_KEY(p, "type"), "invalid device type \"%s\" (expected c, b, u or p)",
                    type);
  d->type = type[0];
  bool numbers = d->type != 'p'; /* a fifo has no device numbers */
  if (oci_j_abspath(c, o, p, "path", &d->path, J_REQ) < 0 ||
      oci_j_i64(c, o, p, "major", &d->major, NULL, numbers) < 0 ||
      oci_j_i64(c, o, p, "minor", &d->minor, NULL, numbers) < 0 ||
      oci_j_u32(c, o, p, "fileMode", &d->file_mode, &d->has_file_mode, J_OPT) < 0 ||
      oci_j_u32(c, o, p, "uid", &d->uid, &d->has_uid, J_OPT) < 0 ||
      oci_j_u32(c, o, p, "gid", &d->gid, &d->has_gid, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_net_device(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                 void *out)
{
  struct oci_net_device *d = out;
  d->host_name = key;
  return oci_j_str(c, o, p, "name", &d->name, J_OPT);
}

static int
parse_seccomp_arg(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                  void *out)
{
  struct oci_seccomp_arg *a = out;
  const char *op = NULL;
  int i;

  if (oci_j_u32(c, o, p, "index", &a->index, NULL, J_REQ) < 0 ||
      oci_j_u64(c, o, p, "value", &a->value, NULL, J_REQ) < 0 ||
      oci_j_u64(c, o, p, "valueTwo", &a->value_two, NULL, J_OPT) < 0 ||
      oci_j_str(c, o, p, "op", &op, J_REQ) < 0)
    return -1;
  if ((i = oci_lookup(seccomp_ops, op)) < 0)
    return oci_jerr(c, &JP_KEY(p, "op"), "unknown operator \"%s\"", op);
  a->op = (enum oci_seccomp_op)i;
  return 0;
}

static int
parse_seccomp_syscall(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                      void *out)
{
  struct oci_seccomp_syscall *s = out;
  if (oci_j_strv(c, o, p, "names", &s->names, &s->n_names, NULL, J_REQ) < 0 ||
      oci_j_str(c, o, p, "action", &s->action, J_REQ) < 0 ||
      oci_j_u32(c, o, p, "errnoRet", &s->errno_ret, &s->has_errno_ret, J_OPT) < 0 ||
      J_LIST(c, o, p, "args", s->args, s->n_args, parse_seccomp_arg, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_seccomp(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_seccomp *s = out;
  if (oci_j_str(c, o, p, "defaultAction", &s->default_action, J_REQ) < 0 ||
      oci_j_u32(c, o, p, "defaultErrnoRet", &s->default_errno_ret, &s->has_default_errno_ret,
                J_OPT) < 0 ||
      oci_j_strv(c, o, p, "architectures", &s->architectures, &s->n_architectures, NULL, J_OPT) <
          0 ||
      oci_j_strv(c, o, p, "flags", &s->flags, &s->n_flags, NULL, J_OPT) < 0 ||
      oci_j_str(c, o, p, "listenerPath", &s->listener_path, J_OPT) < 0 ||
      oci_j_str(c, o, p, "listenerMetadata", &s->listener_metadata, J_OPT) < 0 ||
      J_LIST(c, o, p, "syscalls", s->syscalls, s->n_syscalls, parse_seccomp_syscall, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_intel_rdt(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                void *out)
{
  struct oci_intel_rdt *r = out;
  if (oci_j_str(c, o, p, "closID", &r->clos_id, J_OPT) < 0 ||
      oci_j_str(c, o, p, "l3CacheSchema", &r->l3_cache_schema, J_OPT) < 0 ||
      oci_j_str(c, o, p, "memBwSchema", &r->mem_bw_schema, J_OPT) < 0 ||
      oci_j_bool(c, o, p, "enableCMT", &r->enable_cmt, NULL, J_OPT) < 0 ||
      oci_j_bool(c, o, p, "enableMBM", &r->enable_mbm, NULL, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_personality(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                  void *out)
{
  struct oci_personality *pe = out;
  if (oci_j_str(c, o, p, "domain", &pe->domain, J_REQ) < 0) return -1;
  if (oci_lookup(personality_domains, pe->domain) < 0)
    return oci_jerr(c, &JP_KEY(p, "domain"), "unknown domain \"%s\" (expected LINUX or LINUX32)",
                    pe->domain);
  return oci_j_strv(c, o, p, "flags", &pe->flags, &pe->n_flags, NULL, J_OPT);
}

static int
parse_memory_policy(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                    void *out)
{
  struct oci_memory_policy *m = out;
  if (oci_j_str(c, o, p, "mode", &m->mode, J_REQ) < 0 ||
      oci_j_str(c, o, p, "nodes", &m->nodes, J_OPT) < 0 ||
      oci_j_strv(c, o, p, "flags", &m->flags, &m->n_flags, NULL, J_OPT) < 0)
    return -1;
  if (oci_lookup(oci_mpol_modes, m->mode) < 0)
    return oci_jerr(c, &JP_KEY(p, "mode"), "unknown mode \"%s\"", m->mode);
  struct jpath fp = JP_KEY(p, "flags");
  for (size_t i = 0; i < m->n_flags; i++)
    if (oci_lookup(oci_mpol_flags, m->flags[i]) < 0)
      return oci_jerr(c, &JP_IDX(&fp, i), "unknown flag \"%s\"", m->flags[i]);
  return 0;
}

/* Each namespace type at most once. */
static int
check_namespaces(struct pctx *c, const struct jpath *p, const struct oci_linux *l)
{
  unsigned seen = 0;
  for (size_t i = 0; i < l->n_namespaces; i++) {
    unsigned bit = 1u << l->namespaces[i].type;
    if (seen & bit) {
      struct jpath lp = JP_KEY(p, "namespaces"), ip = JP_IDX(&lp, i);
      return oci_jerr(c, &JP_KEY(&ip, "type"), "duplicate namespace type \"%s\"",
                      ns_names[l->namespaces[i].type]);
    }
    seen |= bit;
  }
  return 0;
}

int
oci_parse_linux(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                void *out)
{
  struct oci_linux *l = out;

  if (J_LIST(c, o, p, "namespaces", l->namespaces, l->n_namespaces, parse_namespace, J_OPT) < 0 ||
      check_namespaces(c, p, l) < 0 ||
      J_LIST(c, o, p, "uidMappings", l->uid_mappings, l->n_uid_mappings, oci_parse_idmap, J_OPT) <
          0 ||
      J_LIST(c, o, p, "gidMappings", l->gid_mappings, l->n_gid_mappings, oci_parse_idmap, J_OPT) <
          0 ||
      oci_j_object_in(c, o, p, "timeOffsets", l, parse_time_offsets, J_OPT) < 0 ||
      J_LIST(c, o, p, "devices", l->devices, l->n_devices, parse_device, J_OPT) < 0 ||
      J_MAP(c, o, p, "netDevices", l->net_devices, l->n_net_devices, parse_net_device) < 0 ||
      oci_j_str(c, o, p, "cgroupsPath", &l->cgroups_path, J_OPT) < 0 ||
      J_NEW(c, o, p, "resources", l->resources, oci_parse_resources, J_OPT) < 0 ||
      oci_j_str(c, o, p, "rootfsPropagation", &l->rootfs_propagation, J_OPT) < 0)
    return -1;
  if (l->rootfs_propagation && !l->rootfs_propagation[0]) l->rootfs_propagation = NULL; /* unset */
  if (l->rootfs_propagation && oci_lookup(propagations, l->rootfs_propagation) < 0)
    return oci_jerr(c, &JP_KEY(p, "rootfsPropagation"), "invalid propagation \"%s\"",
                    l->rootfs_propagation);
  if (J_NEW(c, o, p, "seccomp", l->seccomp, parse_seccomp, J_OPT) < 0 ||
      oci_j_kv(c, o, p, "sysctl", &l->sysctl, &l->n_sysctl) < 0 ||
      oci_j_strv(c, o, p, "maskedPaths", &l->masked_paths, &l->n_masked_paths, NULL, J_OPT) < 0 ||
      oci_j_strv(c, o, p, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths, NULL, J_OPT) <
          0 ||
      oci_j_str(c, o, p, "mountLabel", &l->mount_label, J_OPT) < 0 ||
      J_NEW(c, o, p, "intelRdt", l->intel_rdt, parse_intel_rdt, J_OPT) < 0 ||
      J_NEW(c, o, p, "personality", l->personality, parse_personality, J_OPT) < 0 ||
      J_NEW(c, o, p, "memoryPolicy", l->memory_policy, parse_memory_policy, J_OPT) < 0)
    return -1;
  return 0;
}
