/* silo oci/: the state document, as `runc state` prints it. */
#include "oci/internal.h"

static const char *const status_names[] = {
    [OCI_STATUS_CREATING] = "creating", [OCI_STATUS_CREATED] = "created",
    [OCI_STATUS_RUNNING] = "running",   [OCI_STATUS_STOPPED] = "stopped",
    [OCI_STATUS_PAUSED] = "paused",
};

const char *
oci_status_name(enum oci_status s)
{
  return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

/* A JSON string; bytes that are not UTF-8 (paths may hold any) are kept as they are. */
static json_t *
str(const char *s)
{
  json_t *v;
  if (!s) s = "";
  v = json_string(s);
  return v ? v : json_string_nocheck(s);
}

/* Keys in runc's order: ociVersion id pid status bundle rootfs created [annotations] owner. */
char *
oci_state_to_json(const struct oci_state *s, bool pretty)
{
  json_t *o = json_object();
  char *out;

  if (!o) return NULL;
  json_object_set_new(o, "ociVersion", str(s->oci_version ? s->oci_version : OCI_VERSION));
  json_object_set_new(o, "id", str(s->id));
  json_object_set_new(o, "pid", json_integer(s->pid));
  json_object_set_new(o, "status", str(oci_status_name(s->status)));
  json_object_set_new(o, "bundle", str(s->bundle));
  json_object_set_new(o, "rootfs", str(s->rootfs));
  json_object_set_new(o, "created", str(s->created));
  if (s->n_annotations) {
    json_t *a = json_object();
    for (size_t i = 0; a && i < s->n_annotations; i++) {
      const struct oci_kv *kv = &s->annotations[i];
      if (json_object_set_new(a, kv->key, str(kv->value)) < 0)
        json_object_set_new_nocheck(a, kv->key, str(kv->value));
    }
    json_object_set_new(o, "annotations", a);
  }
  json_object_set_new(o, "owner", str(s->owner));
  out = json_dumps(o, pretty ? JSON_INDENT(2) : JSON_COMPACT);
  json_decref(o);
  return out;
}

/* The runtime-spec's state (ociVersion, id, status, pid, bundle, annotations) of a
 * state document as oci_state_to_json writes it: runc's extra keys (rootfs, created,
 * owner) dropped.  NULL when json is not an object. */
char *
oci_state_spec_json(const char *json)
{
  static const char *const keep[] = {"ociVersion", "id", "status", "pid", "bundle", "annotations"};
  json_t *in = json ? json_loads(json, 0, NULL) : NULL, *out = json_object();
  char *text = NULL;
  if (json_is_object(in) && out) {
    for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
      json_t *v = json_object_get(in, keep[i]);
      if (v) json_object_set(out, keep[i], v);
    }
    text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
  }
  json_decref(in);
  json_decref(out);
  return text;
}
