/* silo oci/: the default config.json of `silo spec`, the one runc's `spec` writes
 * (libcontainer/specconv: Example and ToRootless), with keys in the same order. */
#include "oci/internal.h"

#include <string.h>

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                                           NULL};

static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL};

struct mount_def {
  const char *destination, *type, *source;
  const char *options[8];
};

static const struct mount_def default_mounts[] = {
    {"/proc", "proc", "proc", {NULL}},
    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
    {"/dev/pts",
     "devpts",
     "devpts",
     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL}},
    {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}},
    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev", NULL}},
    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro", NULL}},
    {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro", NULL}},
};

/* Rootless: sysfs cannot be mounted without owning the network namespace. */
static const struct mount_def rootless_sys = {
    "/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro", NULL}};

/* runc's list, with the /sys/devices/virtual/tpm of its newest releases. */
static const char *const masked_paths[] = {"/proc/acpi",
                                           "/proc/asound",
                                           "/proc/kcore",
                                           "/proc/keys",
                                           "/proc/latency_stats",
                                           "/proc/timer_list",
                                           "/proc/timer_stats",
                                           "/proc/sched_debug",
                                           "/sys/firmware",
                                           "/proc/scsi",
                                           "/sys/devices/virtual/tpm",
                                           NULL};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

static const char *const namespaces[] = {"pid", "network", "ipc", "uts", "mount", "cgroup", NULL};

/* An array of strings; rootless drops the uid=/gid= options. */
static json_t *
strv(const char *const *v, bool rootless)
{
  json_t *a = json_array();
  for (; a && *v; v++) {
    if (rootless && (strncmp(*v, "uid=", 4) == 0 || strncmp(*v, "gid=", 4) == 0)) continue;
    json_array_append_new(a, json_string(*v));
  }
  return a;
}

static json_t *
mount(const struct mount_def *m, bool rootless)
{
  json_t *o = json_pack("{s:s, s:s, s:s}", "destination", m->destination, "type", m->type, "source",
                        m->source);
  if (o && m->options[0]) json_object_set_new(o, "options", strv(m->options, rootless));
  return o;
}

static json_t *
idmap(unsigned host_id)
{
  return json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)host_id, "size", 1);
}

static json_t *
build(const struct oci_spec_opts *o)
{
  bool rootless = o->rootless;
  uid_t uid = o->uid;
  gid_t gid = o->gid;
  /* clang-format off */
  json_t *process = json_pack("{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:{s:o, s:o, s:o}, "
                              "s:[{s:s, s:i, s:i}], s:b}",
      "terminal", o->terminal,
      "user", "uid", 0, "gid", 0,
      "args", strv(o->args && o->args[0] ? o->args : (const char *const[]){"sh", NULL}, false),
      "env", strv(default_env, false),
      "cwd", "/",
      "capabilities",
        "bounding", strv(default_caps, false),
        "effective", strv(default_caps, false),
        "permitted", strv(default_caps, false),
      "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
      "noNewPrivileges", 1);
  /* clang-format on */

  json_t *mounts = json_array();
  for (size_t i = 0; mounts && i < ARRAY_SIZE(default_mounts); i++) {
    const struct mount_def *m = &default_mounts[i];
    if (rootless && strcmp(m->destination, "/sys") == 0) m = &rootless_sys;
    json_array_append_new(mounts, mount(m, rootless));
  }

  json_t *ns = json_array();
  for (size_t i = 0; ns && namespaces[i]; i++) {
    if (rootless && strcmp(namespaces[i], "network") == 0) continue;
    json_array_append_new(ns, json_pack("{s:s}", "type", namespaces[i]));
  }
  if (ns && rootless) json_array_append_new(ns, json_pack("{s:s}", "type", "user"));

  json_t *linux = json_object();
  if (linux && rootless) {
    json_object_set_new(linux, "uidMappings", idmap(uid));
    json_object_set_new(linux, "gidMappings", idmap(gid));
  } else if (linux) {
    json_object_set_new(linux, "resources",
                        json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
  }
  if (linux) {
    json_object_set_new(linux, "namespaces", ns);
    ns = NULL;
    json_object_set_new(linux, "maskedPaths", strv(masked_paths, false));
    json_object_set_new(linux, "readonlyPaths", strv(readonly_paths, false));
  }
  json_decref(ns);

  /* json_pack's `o` takes the references, also when it fails. */
  /* clang-format off */
  return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}",
      "ociVersion", OCI_VERSION,
      "process", process,
      "root", "path", "rootfs", "readonly", 1,
      "hostname", "silo",
      "mounts", mounts,
      "linux", linux);
  /* clang-format on */
}

char *
oci_spec_default(const struct oci_spec_opts *o)
{
  json_t *spec = build(o);
  char *out;
  size_t len;

  if (!spec) return NULL;
  out = json_dumps(spec, JSON_INDENT(2));
  json_decref(spec);
  if (!out) return NULL;
  len = strlen(out);
  out = xrealloc(out, len + 2);
  out[len] = '\n';
  out[len + 1] = '\0';
  return out;
}
