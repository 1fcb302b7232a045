/* silo oci/: config.json (top level, root, mounts, process, hooks, annotations) and
 * the process.json of `exec --process`. */
#include "oci/internal.h"

#include <string.h>

/* What the caller gets is the first member: the `*_free` functions cast back. */
struct config_priv {
  struct oci_config pub;
  struct oci_arena arena;
};

struct mounts_priv {
  struct oci_mounts_doc pub;
  struct oci_arena arena;
};

struct process_priv {
  struct oci_process_doc pub;
  struct oci_arena arena;
};

static const char *const hook_names[OCI_HOOK_KINDS + 1] = {
    [OCI_HOOK_PRESTART] = "prestart",
    [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
    [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
    [OCI_HOOK_START_CONTAINER] = "startContainer",
    [OCI_HOOK_POSTSTART] = "poststart",
    [OCI_HOOK_POSTSTOP] = "poststop",
};

const char *const oci_sched_policies[] = {"SCHED_OTHER",    "SCHED_FIFO", "SCHED_RR",
                                          "SCHED_BATCH",    "SCHED_ISO",  "SCHED_IDLE",
                                          "SCHED_DEADLINE", NULL};

const char *const oci_ioprio_classes[] = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE",
                                          NULL};

const char *
oci_hook_kind_name(enum oci_hook_kind k)
{
  return (unsigned)k < OCI_HOOK_KINDS ? hook_names[k] : "unknown";
}

const char *
oci_kv_get(const struct oci_kv *kv, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(kv[i].key, key) == 0) return kv[i].value;
  return NULL;
}

/* ---- process ---- */

static int
parse_user(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_user *u = out;
  /* uid and gid are REQUIRED by the spec, but Go runtimes read an absent one as 0. */
  if (oci_j_id(c, o, p, "uid", &u->uid, J_OPT) < 0 ||
      oci_j_id(c, o, p, "gid", &u->gid, J_OPT) < 0 ||
      oci_j_u32(c, o, p, "umask", &u->umask, &u->has_umask, J_OPT) < 0 ||
      oci_j_u32v(c, o, p, "additionalGids", &u->additional_gids, &u->n_additional_gids) < 0 ||
      oci_j_str(c, o, p, "username", &u->username, J_OPT) < 0)
    return -1;
  struct jpath gp = JP_KEY(p, "additionalGids");
  for (size_t i = 0; i < u->n_additional_gids; i++) {
    struct jpath ip = JP_IDX(&gp, i);
    if (oci_jv_check_id(c, &ip, u->additional_gids[i]) < 0) return -1;
  }
  return 0;
}

static int
parse_console_size(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                   void *out)
{
  struct oci_process *pr = out;
  if (oci_j_u32(c, o, p, "height", &pr->console_height, NULL, J_REQ) < 0 ||
      oci_j_u32(c, o, p, "width", &pr->console_width, NULL, J_REQ) < 0)
    return -1;
  pr->has_console_size = true;
  return 0;
}

static int
parse_caps(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_capabilities *k = out;
  if (oci_j_strv(c, o, p, "bounding", &k->bounding, &k->n_bounding, &k->has_bounding, J_OPT) < 0 ||
      oci_j_strv(c, o, p, "effective", &k->effective, &k->n_effective, &k->has_effective, J_OPT) <
          0 ||
      oci_j_strv(c, o, p, "inheritable", &k->inheritable, &k->n_inheritable, &k->has_inheritable,
                 J_OPT) < 0 ||
      oci_j_strv(c, o, p, "permitted", &k->permitted, &k->n_permitted, &k->has_permitted, J_OPT) <
          0 ||
      oci_j_strv(c, o, p, "ambient", &k->ambient, &k->n_ambient, &k->has_ambient, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_rlimit(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_rlimit *r = out;
  if (oci_j_str(c, o, p, "type", &r->type, J_REQ) < 0 ||
      oci_j_u64(c, o, p, "soft", &r->soft, NULL, J_REQ) < 0 ||
      oci_j_u64(c, o, p, "hard", &r->hard, NULL, J_REQ) < 0)
    return -1;
  return 0;
}

/* A string member that must be one of `table`. */
static int
j_enum(struct pctx *c, json_t *o, const struct jpath *p, const char *k, const char *const *table,
       const char *what, const char **out, bool req)
{
  if (oci_j_str(c, o, p, k, out, req) < 0) return -1;
  if (*out && oci_lookup(table, *out) < 0)
    return oci_jerr(c, &JP_KEY(p, k), "unknown %s \"%s\"", what, *out);
  return 0;
}

static int
parse_scheduler(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                void *out)
{
  struct oci_scheduler *s = out;
  if (j_enum(c, o, p, "policy", oci_sched_policies, "policy", &s->policy, J_REQ) < 0 ||
      oci_j_i32(c, o, p, "nice", &s->nice, &s->has_nice, J_OPT) < 0 ||
      oci_j_i32(c, o, p, "priority", &s->priority, &s->has_priority, J_OPT) < 0 ||
      oci_j_strv(c, o, p, "flags", &s->flags, &s->n_flags, NULL, J_OPT) < 0 ||
      oci_j_u64(c, o, p, "runtime", &s->runtime, &s->has_runtime, J_OPT) < 0 ||
      oci_j_u64(c, o, p, "deadline", &s->deadline, &s->has_deadline, J_OPT) < 0 ||
      oci_j_u64(c, o, p, "period", &s->period, &s->has_period, J_OPT) < 0)
    return -1;
  return 0;
}

static int
parse_io_priority(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                  void *out)
{
  struct oci_io_priority *io = out;
  if (j_enum(c, o, p, "class", oci_ioprio_classes, "class", &io->class, J_REQ) < 0 ||
      oci_j_i32(c, o, p, "priority", &io->priority, NULL, J_REQ) < 0)
    return -1;
  return 0;
}

static int
parse_cpu_affinity(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                   void *out)
{
  struct oci_process *pr = out;
  if (oci_j_str(c, o, p, "initial", &pr->exec_cpu_affinity_initial, J_OPT) < 0 ||
      oci_j_str(c, o, p, "final", &pr->exec_cpu_affinity_final, J_OPT) < 0)
    return -1;
  return 0;
}

int
oci_parse_process(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_,
                  void *out)
{
  struct oci_process *pr = out;

  if (oci_j_bool(c, o, p, "terminal", &pr->terminal, NULL, J_OPT) < 0 ||
      oci_j_object_in(c, o, p, "consoleSize", pr, parse_console_size, J_OPT) < 0 ||
      oci_j_object_in(c, o, p, "user", &pr->user, parse_user, J_OPT) < 0 ||
      oci_j_strv(c, o, p, "args", &pr->args, &pr->n_args, NULL, J_REQ) < 0)
    return -1;
  if (pr->n_args == 0) return oci_jerr(c, &JP_KEY(p, "args"), "must not be empty");
  if (oci_j_str(c, o, p, "commandLine", &pr->command_line, J_OPT) < 0 ||
      oci_j_strv(c, o, p, "env", &pr->env, &pr->n_env, NULL, J_OPT) < 0 ||
      oci_j_abspath(c, o, p, "cwd", &pr->cwd, J_REQ) < 0 ||
      J_NEW(c, o, p, "capabilities", pr->capabilities, parse_caps, J_OPT) < 0 ||
      J_LIST(c, o, p, "rlimits", pr->rlimits, pr->n_rlimits, parse_rlimit, J_OPT) < 0 ||
      oci_j_bool(c, o, p, "noNewPrivileges", &pr->no_new_privileges, NULL, J_OPT) < 0 ||
      oci_j_str(c, o, p, "apparmorProfile", &pr->apparmor_profile, J_OPT) < 0 ||
      oci_j_i32(c, o, p, "oomScoreAdj", &pr->oom_score_adj, &pr->has_oom_score_adj, J_OPT) < 0 ||
      oci_j_str(c, o, p, "selinuxLabel", &pr->selinux_label, J_OPT) < 0 ||
      J_NEW(c, o, p, "scheduler", pr->scheduler, parse_scheduler, J_OPT) < 0 ||
      J_NEW(c, o, p, "ioPriority", pr->io_priority, parse_io_priority, J_OPT) < 0 ||
      oci_j_object_in(c, o, p, "execCPUAffinity", pr, parse_cpu_affinity, J_OPT) < 0)
    return -1;
  return 0;
}

/* ---- root, mounts, hooks ---- */

static int
parse_root(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_config *cfg = out;
  if (oci_j_str(c, o, p, "path", &cfg->root_path, J_REQ) < 0 ||
      oci_j_bool(c, o, p, "readonly", &cfg->root_readonly, NULL, J_OPT) < 0)
    return -1;
  if (!cfg->root_path[0]) return oci_jerr(c, &JP_KEY(p, "path"), "must not be empty");
  return 0;
}

static int
parse_mount(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_mount *m = out;
  if (oci_j_str(c, o, p, "destination", &m->destination, J_REQ) < 0) return -1;
  if (!m->destination[0]) return oci_jerr(c, &JP_KEY(p, "destination"), "must not be empty");
  if (oci_j_str(c, o, p, "type", &m->type, J_OPT) < 0 ||
      oci_j_str(c, o, p, "source", &m->source, J_OPT) < 0 ||
      oci_j_strv(c, o, p, "options", &m->options, &m->n_options, NULL, J_OPT) < 0 ||
      J_LIST(c, o, p, "uidMappings", m->uid_mappings, m->n_uid_mappings, oci_parse_idmap, J_OPT) <
          0 ||
      J_LIST(c, o, p, "gidMappings", m->gid_mappings, m->n_gid_mappings, oci_parse_idmap, J_OPT) <
          0)
    return -1;
  return 0;
}

static int
parse_hook(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_hook *h = out;
  if (oci_j_abspath(c, o, p, "path", &h->path, J_REQ) < 0 ||
      oci_j_strv(c, o, p, "args", &h->args, &h->n_args, NULL, J_OPT) < 0 ||
      oci_j_strv(c, o, p, "env", &h->env, &h->n_env, NULL, J_OPT) < 0 ||
      oci_j_i32(c, o, p, "timeout", &h->timeout, &h->has_timeout, J_OPT) < 0)
    return -1;
  if (h->has_timeout && h->timeout <= 0)
    return oci_jerr(c, &JP_KEY(p, "timeout"), "must be greater than 0, got %d", (int)h->timeout);
  return 0;
}

static int
parse_hooks(struct pctx *c, json_t *o, const struct jpath *p, const char *key _unused_, void *out)
{
  struct oci_hooks *hs = out;
  for (int k = 0; k < OCI_HOOK_KINDS; k++)
    if (J_LIST(c, o, p, hook_names[k], hs->list[k], hs->n[k], parse_hook, J_OPT) < 0) return -1;
  return 0;
}

/* ---- config.json ---- */

static int
parse_config(struct pctx *c, json_t *o, const struct jpath *top, const char *key, void *out)
{
  struct oci_config *cfg = out;
  (void)key;
  if (oci_j_str(c, o, top, "ociVersion", &cfg->oci_version, J_OPT) < 0 ||
      oci_j_object_in(c, o, top, "root", cfg, parse_root, J_REQ) < 0 ||
      J_LIST(c, o, top, "mounts", cfg->mounts, cfg->n_mounts, parse_mount, J_OPT) < 0 ||
      J_NEW(c, o, top, "process", cfg->process, oci_parse_process, J_REQ) < 0 ||
      oci_j_str(c, o, top, "hostname", &cfg->hostname, J_OPT) < 0 ||
      oci_j_str(c, o, top, "domainname", &cfg->domainname, J_OPT) < 0 ||
      oci_j_object_in(c, o, top, "hooks", &cfg->hooks, parse_hooks, J_OPT) < 0 ||
      oci_j_kv(c, o, top, "annotations", &cfg->annotations, &cfg->n_annotations) < 0 ||
      J_NEW(c, o, top, "linux", cfg->linux, oci_parse_linux, J_OPT) < 0)
    return -1;
  /* Only major version 1 is known: a 2.x may change what any field means, and is
   * refused rather than half understood (crun refuses it too).  Any 1.x is fine. */
  const char *v = cfg->oci_version;
  if (v && *v && !(v[0] == '1' && (v[1] == '\0' || v[1] == '.' || v[1] == '-')))
    return oci_jerr(c, &JP_KEY(top, "ociVersion"),
                    "unsupported version \"%s\": silo knows major version 1", v);
  return 0;
}

struct oci_config *
oci_config_parse(const char *buf, size_t len, struct silo_error *err)
{
  struct config_priv *priv = xcalloc(1, sizeof *priv);
  if (oci_doc_fill(buf, len, &priv->arena, &priv->pub.doc, parse_config, &priv->pub, err) < 0) {
    oci_config_free(&priv->pub);
    return NULL;
  }
  return &priv->pub;
}

struct oci_config *
oci_config_load(const char *path, struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  struct oci_config *cfg;

  if (oci_read_file(path, &buf, &len, err) < 0) return NULL;
  cfg = oci_config_parse(buf, len, err);
  if (!cfg) silo_err_wrap(err, "%s", path);
  return cfg;
}

void
oci_config_free(struct oci_config *cfg)
{
  struct config_priv *priv = (struct config_priv *)cfg;
  if (cfg) oci_doc_release(&priv->arena, cfg->doc, priv);
}

/* ---- process.json ---- */

struct oci_process_doc *
oci_process_parse(const char *buf, size_t len, struct silo_error *err)
{
  struct process_priv *priv = xcalloc(1, sizeof *priv);
  if (oci_doc_fill(buf, len, &priv->arena, &priv->pub.doc, oci_parse_process, &priv->pub.process,
                   err) < 0) {
    oci_process_doc_free(&priv->pub);
    return NULL;
  }
  return &priv->pub;
}

struct oci_process_doc *
oci_process_load(const char *path, struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  struct oci_process_doc *pd;

  if (oci_read_file(path, &buf, &len, err) < 0) return NULL;
  pd = oci_process_parse(buf, len, err);
  if (!pd) silo_err_wrap(err, "%s", path);
  return pd;
}

void
oci_process_doc_free(struct oci_process_doc *pd)
{
  struct process_priv *priv = (struct process_priv *)pd;
  if (pd) oci_doc_release(&priv->arena, pd->doc, priv);
}

/* ---- the mounts file of `mounts add` / `mounts remove` ---- */

static int
parse_mounts_doc(struct pctx *c, json_t *top, const struct jpath *p _unused_,
                 const char *key _unused_, void *out)
{
  struct oci_mounts_doc *d = out;
  if (json_is_object(top))
    return J_LIST(c, top, NULL, "mounts", d->mounts, d->n_mounts, parse_mount, J_REQ);
  if (!json_is_array(top))
    return oci_jerr(c, NULL, "expected a JSON array of mounts (or an object with `mounts`)");
  /* crun's form, a bare array: its elements are named as config.json's. */
  struct jpath kp = JP_KEY(NULL, "mounts");
  size_t n = json_array_size(top);
  d->mounts = oci_alloc(c->arena, n, sizeof *d->mounts);
  for (size_t i = 0; i < n; i++) {
    struct jpath ep = JP_IDX(&kp, i);
    json_t *e = json_array_get(top, i);
    if (!json_is_object(e)) return oci_jerr(c, &ep, "expected an object");
    if (parse_mount(c, e, &ep, NULL, &d->mounts[i]) < 0) return -1;
  }
  d->n_mounts = n;
  return 0;
}

struct oci_mounts_doc *
oci_mounts_parse(const char *buf, size_t len, struct silo_error *err)
{
  struct mounts_priv *priv = xcalloc(1, sizeof *priv);
  if (oci_doc_fill_any(buf, len, &priv->arena, &priv->pub.doc, parse_mounts_doc, &priv->pub, err) <
      0) {
    oci_mounts_doc_free(&priv->pub);
    return NULL;
  }
  return &priv->pub;
}

void
oci_mounts_doc_free(struct oci_mounts_doc *m)
{
  struct mounts_priv *priv = (struct mounts_priv *)m;
  if (m) oci_doc_release(&priv->arena, m->doc, priv);
}
