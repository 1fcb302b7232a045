/* silo: the OCI features document (runtime-spec features.md) and the --version
 * feature line.  Every entry says what this build really does. */
#include <cap-ng.h>
#include <linux/capability.h>
#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/process/process.h"
#include "lib/silo.h"
#include "oci/oci.h"

const char *
silo_feature_line(void)
{
  return "+SECCOMP +CAP +CGROUPFS +SYSTEMD +USERNS +TIMENS +CLONE3 +OPENAT2 +NEWMOUNTAPI +CRIU "
         "+IDMAP";
}

static json_t *
strings(const char *const *v)
{
  json_t *a = json_array();
  for (; v && *v; v++) json_array_append_new(a, json_string(*v));
  return a;
}

static json_t *
capabilities(void)
{
  json_t *a = json_array();
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
    const char *name = capng_capability_to_name((unsigned)cap);
    if (!name || strncmp(name, "unknown", 7) == 0) continue;
    char up[64] = "CAP_";
    size_t k = 4;
    for (const char *p = name; *p && k < sizeof up - 1; p++)
      up[k++] = (char)toupper((unsigned char)*p);
    up[k] = '\0';
    json_array_append_new(a, json_string(up));
  }
  return a;
}

char *
silo_features(void)
{
  static const char *const hooks[] = {
      "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
      NULL};
  /* clang-format off */
  static const char *const mount_opts[] = {
      "async",          "atime",          "bind",           "defaults",       "dev",
      "diratime",       "dirsync",        "exec",           "loud",           "mand",
      "noatime",        "nodev",          "nodiratime",     "noexec",         "nomand",
      "norelatime",     "nostrictatime",  "nosuid",         "nosymfollow",    "private",
      "ratime",         "rbind",          "rdev",           "rdiratime",      "relatime",
      "remount",        "rexec",          "rnoatime",       "rnodev",         "rnodiratime",
      "rnoexec",        "rnorelatime",    "rnostrictatime", "rnosuid",        "rnosymfollow",
      "ro",             "rprivate",       "rrelatime",      "rro",            "rrw",
      "rshared",        "rslave",         "rstrictatime",   "rsuid",          "rsymfollow",
      "runbindable",    "rw",             "shared",         "silent",         "slave",
      "strictatime",    "suid",           "symfollow",      "sync",           "tmpcopyup",
      "unbindable", NULL};
  /* clang-format on */
  static const char *const namespaces[] = {"cgroup", "ipc",  "mount", "network", "pid",
                                           "time",   "user", "uts",   NULL};
  json_t *supported = json_array();
  for (const char *const *f = silo_seccomp_flags(); f && *f; f++)
    if (silo_seccomp_flag_supported(*f)) json_array_append_new(supported, json_string(*f));

  json_t *doc = json_pack(
      "{s:s, s:s, s:o, s:o, s:{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:{s:b, s:o, s:o, s:o, "
      "s:o, s:o}, s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}, s:{s:b}}, s:{s:s, s:s}}",
      "ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION, "hooks", strings(hooks),
      "mountOptions", strings(mount_opts), "linux", "namespaces", strings(namespaces),
      "capabilities", capabilities(), "cgroup", "v1", 1, "v2", 1, "systemd", 1, "systemdUser", 0,
      "rdma", 1, "seccomp", "enabled", 1, "actions", strings(silo_seccomp_actions()), "operators",
      strings(silo_seccomp_ops()), "archs", strings(silo_seccomp_archs()), "knownFlags",
      strings(silo_seccomp_flags()), "supportedFlags", supported, "apparmor", "enabled", 1,
      "selinux", "enabled", 1, "intelRdt", "enabled", 0, "mountExtensions", "idmap", "enabled", 1,
      "netDevices", "enabled", 1, "annotations", "io.github.seccomp.libseccomp.version",
      silo_seccomp_lib_version(), "org.silo.version", SILO_VERSION);
  if (!doc) return NULL;
  /* crun's annotations, which change what silo does (runtime-spec 1.2): a client such as
   * containerd keeps them away from containers it does not trust. */
  json_object_set_new(doc, "potentiallyUnsafeConfigAnnotations", json_pack("[s]", "run.oci."));
  /* runtime-spec 1.3's memory policy: what linux.memoryPolicy may name. */
  json_object_set_new(
      json_object_get(doc, "linux"), "memoryPolicy",
      json_pack("{s:o, s:o}", "modes", strings(oci_mpol_modes), "flags", strings(oci_mpol_flags)));
  char *out = json_dumps(doc, JSON_INDENT(4));
  json_decref(doc);
  return out;
}
