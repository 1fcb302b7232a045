/* Unit tests of oci/: config.json (real configs, errors of the top level, process,
 * mounts and hooks), process.json, the state document and the default spec.
 * The `linux` object and resources are in test_oci_linux.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lib/base/error.h"
#include "lib/network/network.h"
#include "oci/oci.h"

#define UNUSED __attribute__((unused))

/* ---- helpers ---- */

/* Fixtures: $SILO_FIXTURES, else tests/fixtures (tests run from the repo root). */
static char *
fixture(const char *name)
{
  const char *dir = getenv("SILO_FIXTURES");
  return xasprintf("%s/specs/%s", dir && *dir ? dir : "tests/fixtures", name);
}

/* JSON written with single quotes, for readability: 'a' -> "a". */
static char *
q(const char *s)
{
  char *r = xstrdup(s);
  for (char *p = r; *p; p++)
    if (*p == '\'') *p = '"';
  return r;
}

/* A minimal valid config.json followed by `extra` members.  jansson keeps the last of
 * duplicate keys, so `extra` may also replace root or process. */
#define BASE "{'root':{'path':'rootfs'},'process':{'args':['sh'],'cwd':'/'}"

static struct oci_config *
parse_q(const char *extra, struct silo_error *err)
{
  char *json = xasprintf(BASE "%s}", extra);
  char *j = q(json);
  struct oci_config *c = oci_config_parse(j, strlen(j), err);
  free(j);
  free(json);
  return c;
}

struct bad {
  const char *json; /* appended to BASE (config) or whole document (others) */
  const char *msg;
};

enum doc_kind { DOC_CONFIG, DOC_PROCESS, DOC_WHOLE_CONFIG, DOC_MOUNTS };

/* Parses each case, expects a failure with exactly `msg`; reports every mismatch. */
static void
check_bad(const struct bad *cases, size_t n, enum doc_kind kind)
{
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    struct silo_error err = {0};
    void *doc;
    if (kind == DOC_CONFIG) {
      doc = parse_q(cases[i].json, &err);
    } else {
      char *j = q(cases[i].json);
      doc = kind == DOC_PROCESS  ? (void *)oci_process_parse(j, strlen(j), &err)
            : kind == DOC_MOUNTS ? (void *)oci_mounts_parse(j, strlen(j), &err)
                                 : (void *)oci_config_parse(j, strlen(j), &err);
      free(j);
    }
    if (doc) {
      print_error("case %zu (%s): parsed, expected \"%s\"\n", i, cases[i].json, cases[i].msg);
      if (kind == DOC_PROCESS)
        oci_process_doc_free(doc);
      else if (kind == DOC_MOUNTS)
        oci_mounts_doc_free(doc);
      else
        oci_config_free(doc);
      failures++;
    } else if (strcmp(err.msg, cases[i].msg) != 0) {
      print_error("case %zu (%s):\n  expected \"%s\"\n  got      \"%s\"\n", i, cases[i].json,
                  cases[i].msg, err.msg);
      failures++;
    }
  }
  assert_int_equal(failures, 0);
}

static struct oci_config *
load_fixture(const char *name)
{
  struct silo_error err = {0};
  char *path = fixture(name);
  struct oci_config *c = oci_config_load(path, &err);
  if (!c) print_error("%s: %s\n", path, err.msg);
  free(path);
  assert_non_null(c);
  return c;
}

/* ---- the real configs ---- */

static void
test_ctr(void **state UNUSED)
{
  struct oci_config *c = load_fixture("ctr.json");
  const struct oci_process *p = c->process;

  assert_string_equal(c->oci_version, "1.0.2-dev");
  assert_string_equal(c->root_path, "rootfs");
  assert_false(c->root_readonly);
  assert_int_equal(p->n_args, 2);
  assert_string_equal(p->args[0], "sleep");
  assert_string_equal(p->args[1], "100");
  assert_null(p->args[2]);
  assert_string_equal(p->cwd, "/");
  assert_false(p->terminal);
  assert_true(p->no_new_privileges);
  assert_int_equal(p->user.n_additional_gids, 1);
  assert_int_equal(p->user.additional_gids[0], 0);
  assert_false(p->user.has_umask);
  assert_int_equal(p->capabilities->n_bounding, 14);
  assert_string_equal(p->capabilities->bounding[0], "CAP_CHOWN");
  assert_false(p->capabilities->has_ambient);
  assert_int_equal(p->n_rlimits, 1);
  assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
  assert_int_equal(p->rlimits[0].soft, 1024);
  assert_int_equal(p->rlimits[0].hard, 1024);

  assert_int_equal(c->n_mounts, 7);
  assert_string_equal(c->mounts[6].destination, "/run");
  assert_string_equal(c->mounts[6].type, "tmpfs");
  assert_int_equal(c->mounts[6].n_options, 4);
  assert_string_equal(c->mounts[6].options[2], "mode=755");
  assert_null(c->mounts[6].options[4]);
  assert_int_equal(c->mounts[2].n_options, 6);
  assert_string_equal(c->mounts[2].options[5], "gid=5");

  assert_non_null(c->linux);
  assert_string_equal(c->linux->cgroups_path, "/probe/sp2");
  assert_int_equal(c->linux->n_namespaces, 5);
  assert_int_equal(c->linux->namespaces[4].type, OCI_NS_NETWORK);
  assert_null(oci_config_namespace(c, OCI_NS_NETWORK)->path);
  assert_null(oci_config_namespace(c, OCI_NS_USER));
  assert_null(c->linux->seccomp);
  assert_int_equal(c->linux->n_masked_paths, 10);
  assert_int_equal(c->linux->n_readonly_paths, 5);
  assert_string_equal(c->linux->readonly_paths[4], "/proc/sysrq-trigger");

  const struct oci_resources *r = c->linux->resources;
  assert_int_equal(r->n_devices, 10);
  assert_false(r->devices[0].allow);
  assert_int_equal(r->devices[0].type, 'a');
  assert_int_equal(r->devices[0].major, -1);
  assert_string_equal(r->devices[0].access, "rwm");
  assert_true(r->devices[8].allow);
  assert_int_equal(r->devices[8].type, 'c');
  assert_int_equal(r->devices[8].major, 136);
  assert_false(r->devices[8].has_minor);
  assert_int_equal(r->devices[8].minor, -1);
  assert_true(r->cpu->has_shares);
  assert_int_equal(r->cpu->shares, 1024);
  assert_null(r->memory);
  assert_false(r->has_pids_limit);
  for (int k = 0; k < OCI_HOOK_KINDS; k++) assert_int_equal(c->hooks.n[k], 0);
  assert_int_equal(c->n_annotations, 0);
  oci_config_free(c);
}

static void
test_docker(void **state UNUSED)
{
  struct oci_config *c = load_fixture("docker.json");

  assert_string_equal(c->hostname, "53468d2b33b0");
  assert_true(c->process->has_oom_score_adj);
  assert_int_equal(c->process->oom_score_adj, 0);
  assert_int_equal(c->process->n_env, 2);
  assert_string_equal(c->process->env[1], "HOSTNAME=53468d2b33b0");
  assert_int_equal(c->n_mounts, 10);
  assert_string_equal(c->mounts[7].destination, "/etc/resolv.conf");
  assert_string_equal(c->mounts[7].type, "bind");
  assert_string_equal(c->mounts[7].options[0], "rbind");

  assert_int_equal(c->hooks.n[OCI_HOOK_PRESTART], 1);
  const struct oci_hook *h = &c->hooks.list[OCI_HOOK_PRESTART][0];
  assert_string_equal(h->path, "/proc/9884/exe");
  assert_int_equal(h->n_args, 4);
  assert_string_equal(h->args[0], "libnetwork-setkey");
  assert_string_equal(h->args[3], "f2ede8d1b4b2");
  assert_false(h->has_timeout);
  assert_int_equal(c->hooks.n[OCI_HOOK_POSTSTOP], 0);

  const struct oci_linux *l = c->linux;
  assert_int_equal(l->namespaces[0].type, OCI_NS_MOUNT);
  assert_int_equal(l->n_sysctl, 2);
  assert_string_equal(oci_kv_get(l->sysctl, l->n_sysctl, "net.ipv4.ping_group_range"),
                      "0 2147483647");
  assert_null(oci_kv_get(l->sysctl, l->n_sysctl, "kernel.shmmax"));
  assert_true(l->resources->memory->has_disable_oom_killer);
  assert_false(l->resources->memory->disable_oom_killer);
  assert_false(l->resources->memory->has_limit);
  assert_true(l->resources->blkio->has_weight);
  assert_int_equal(l->resources->blkio->weight, 0);
  assert_int_equal(l->resources->n_devices, 8);
  assert_int_equal(l->resources->devices[7].major, 10);
  assert_int_equal(l->resources->devices[7].minor, 229);
  assert_string_equal(l->masked_paths[0], "/proc/asound");

  const struct oci_seccomp *s = l->seccomp;
  assert_string_equal(s->default_action, "SCMP_ACT_ERRNO");
  assert_false(s->has_default_errno_ret);
  assert_int_equal(s->n_architectures, 3);
  assert_string_equal(s->architectures[0], "SCMP_ARCH_X86_64");
  assert_int_equal(s->n_syscalls, 12);
  assert_int_equal(s->syscalls[0].n_names, 346);
  assert_string_equal(s->syscalls[0].names[0], "accept");
  assert_string_equal(s->syscalls[0].action, "SCMP_ACT_ALLOW");
  assert_string_equal(s->syscalls[2].names[0], "personality");
  assert_int_equal(s->syscalls[2].n_args, 1);
  assert_int_equal(s->syscalls[2].args[0].index, 0);
  assert_int_equal(s->syscalls[2].args[0].op, OCI_SCMP_EQ);
  assert_int_equal(s->syscalls[6].args[0].value, 4294967295u);
  assert_int_equal(s->syscalls[9].args[0].op, OCI_SCMP_MASKED_EQ);
  assert_int_equal(s->syscalls[9].args[0].value, 2114060288);
  oci_config_free(c);
}

static void
test_podman(void **state UNUSED)
{
  struct oci_config *c = load_fixture("podman-bridge.json");

  assert_true(c->process->user.has_umask);
  assert_int_equal(c->process->user.umask, 18);
  assert_int_equal(c->process->n_rlimits, 2);
  assert_string_equal(c->process->rlimits[1].type, "RLIMIT_NPROC");
  assert_int_equal(c->process->rlimits[1].hard, 32768);
  assert_string_equal(c->process->env[0], "container=podman");
  assert_int_equal(c->n_mounts, 11);
  assert_string_equal(c->mounts[10].destination, "/sys/fs/cgroup");
  assert_int_equal(c->mounts[10].n_options, 6);

  const struct oci_namespace *net = oci_config_namespace(c, OCI_NS_NETWORK);
  assert_non_null(net);
  assert_string_equal(net->path, "/run/netns/netns-90fb29ac-c51c-2eb4-1f0a-1339df245340");
  assert_null(oci_config_namespace(c, OCI_NS_PID)->path);

  assert_int_equal(c->n_annotations, 8);
  assert_string_equal(c->annotations[0].key, "io.container.manager");
  assert_string_equal(oci_kv_get(c->annotations, c->n_annotations, "io.container.manager"),
                      "libpod");
  assert_string_equal(
      oci_kv_get(c->annotations, c->n_annotations, "org.opencontainers.image.stopSignal"), "15");

  const struct oci_linux *l = c->linux;
  assert_true(l->resources->has_pids_limit);
  assert_int_equal(l->resources->pids_limit, 2048);
  assert_int_equal(l->n_masked_paths, 11);
  assert_string_equal(l->masked_paths[10], "/sys/dev/block");
  assert_int_equal(l->n_readonly_paths, 6);
  assert_true(l->seccomp->has_default_errno_ret);
  assert_int_equal(l->seccomp->default_errno_ret, 38);
  assert_int_equal(l->seccomp->n_syscalls, 19);
  assert_true(l->seccomp->syscalls[0].has_errno_ret);
  assert_int_equal(l->seccomp->syscalls[0].errno_ret, 1);
  assert_int_equal(l->seccomp->syscalls[0].n_names, 28);
  assert_int_equal(l->seccomp->syscalls[1].n_names, 374);
  assert_false(l->seccomp->syscalls[1].has_errno_ret);
  oci_config_free(c);
}

/* ---- the default spec ---- */

static void
test_spec_default(void **state UNUSED)
{
  struct silo_error err = {0};
  char *s = oci_spec_default(&(struct oci_spec_opts){.terminal = true});
  size_t len = strlen(s);

  assert_true(len > 2 && s[len - 1] == '\n' && s[len - 2] == '}');
  assert_non_null(strstr(s, "\n  \"process\": {\n    \"terminal\": true,\n"));
  struct oci_config *c = oci_config_parse(s, len, &err);
  assert_non_null(c);
  assert_string_equal(c->oci_version, OCI_VERSION);
  assert_string_equal(c->root_path, "rootfs");
  assert_true(c->root_readonly);
  assert_string_equal(c->hostname, "silo");
  assert_true(c->process->terminal);
  assert_int_equal(c->process->n_args, 1);
  assert_string_equal(c->process->args[0], "sh");
  assert_true(c->process->no_new_privileges);
  assert_int_equal(c->process->capabilities->n_bounding, 3);
  assert_int_equal(c->process->capabilities->n_permitted, 3);
  assert_string_equal(c->process->capabilities->effective[2], "CAP_NET_BIND_SERVICE");
  assert_false(c->process->capabilities->has_ambient);
  assert_string_equal(c->process->rlimits[0].type, "RLIMIT_NOFILE");
  assert_int_equal(c->process->rlimits[0].hard, 1024);
  assert_int_equal(c->n_mounts, 7);
  assert_null(c->mounts[0].options);
  assert_string_equal(c->mounts[2].options[5], "gid=5");
  assert_string_equal(c->mounts[5].type, "sysfs");
  assert_int_equal(c->linux->n_namespaces, 6);
  assert_non_null(oci_config_namespace(c, OCI_NS_NETWORK));
  assert_non_null(oci_config_namespace(c, OCI_NS_CGROUP));
  assert_null(oci_config_namespace(c, OCI_NS_USER));
  assert_int_equal(c->linux->n_uid_mappings, 0);
  assert_int_equal(c->linux->resources->n_devices, 1);
  assert_false(c->linux->resources->devices[0].allow);
  assert_int_equal(c->linux->n_masked_paths, 11);
  assert_int_equal(c->linux->n_readonly_paths, 5);
  oci_config_free(c);
  free(s);
}

static void
test_spec_rootless(void **state UNUSED)
{
  struct silo_error err = {0};
  char *s = oci_spec_default(
      &(struct oci_spec_opts){.rootless = true, .terminal = true, .uid = 1000, .gid = 1001});
  struct oci_config *c = oci_config_parse(s, strlen(s), &err);

  assert_non_null(c);
  assert_null(oci_config_namespace(c, OCI_NS_NETWORK));
  assert_int_equal(c->linux->n_namespaces, 6);
  assert_int_equal(c->linux->namespaces[5].type, OCI_NS_USER);
  assert_int_equal(c->linux->n_uid_mappings, 1);
  assert_int_equal(c->linux->uid_mappings[0].container_id, 0);
  assert_int_equal(c->linux->uid_mappings[0].host_id, 1000);
  assert_int_equal(c->linux->uid_mappings[0].size, 1);
  assert_int_equal(c->linux->gid_mappings[0].host_id, 1001);
  assert_null(c->linux->resources);
  assert_string_equal(c->mounts[2].destination, "/dev/pts");
  assert_int_equal(c->mounts[2].n_options, 5); /* no gid=5 */
  assert_string_equal(c->mounts[5].destination, "/sys");
  assert_string_equal(c->mounts[5].type, "none");
  assert_string_equal(c->mounts[5].source, "/sys");
  assert_string_equal(c->mounts[5].options[0], "rbind");
  assert_string_equal(c->mounts[5].options[4], "ro");
  oci_config_free(c);
  free(s);
}

/* ---- details of parsing ---- */

static void
test_lenient(void **state UNUSED)
{
  struct silo_error err = {0};
  /* Unknown members, nulls for optional ones, no ociVersion, no linux. */
  struct oci_config *c =
      parse_q(",'future':{'x':[1]},'hostname':null,'process':{'args':['a'],'cwd':'/',"
              "'user':null,'bogus':1,'env':null},'hooks':{'prestart':[{'path':'/h','timeout':5}]}",
              &err);
  assert_non_null(c);
  assert_null(c->oci_version);
  assert_null(c->hostname);
  assert_null(c->linux);
  assert_null(c->process->env);
  assert_int_equal(c->process->n_env, 0);
  assert_null(c->process->capabilities);
  assert_true(c->hooks.list[OCI_HOOK_PRESTART][0].has_timeout);
  assert_int_equal(c->hooks.list[OCI_HOOK_PRESTART][0].timeout, 5);
  oci_config_free(c);

  /* Empty arrays are present (non-NULL, NULL-terminated). */
  c = parse_q(",'process':{'args':['a'],'cwd':'/','env':[],'capabilities':{'ambient':[]}}", &err);
  assert_non_null(c);
  assert_non_null(c->process->env);
  assert_null(c->process->env[0]);
  assert_true(c->process->capabilities->has_ambient);
  assert_false(c->process->capabilities->has_bounding);
  oci_config_free(c);
}

static void
test_process_fields(void **state UNUSED)
{
  struct silo_error err = {0};
  struct oci_config *c =
      parse_q(",'process':{'terminal':true,'consoleSize':{'height':24,'width':80},'args':['a'],"
              "'cwd':'/w','user':{'uid':1000,'gid':100,'additionalGids':[4,27],'umask':63},"
              "'apparmorProfile':'ap','selinuxLabel':'sl','oomScoreAdj':-1000,"
              "'scheduler':{'policy':'SCHED_DEADLINE','runtime':10,'deadline':20,'period':30,"
              "'flags':['SCHED_FLAG_RESET_ON_FORK'],'nice':-5},"
              "'ioPriority':{'class':'IOPRIO_CLASS_IDLE','priority':7},"
              "'execCPUAffinity':{'initial':'0','final':'1-3'}}",
              &err);
  assert_non_null(c);
  const struct oci_process *p = c->process;
  assert_true(p->has_console_size);
  assert_int_equal(p->console_height, 24);
  assert_int_equal(p->console_width, 80);
  assert_int_equal(p->user.uid, 1000);
  assert_int_equal(p->user.gid, 100);
  assert_int_equal(p->user.n_additional_gids, 2);
  assert_int_equal(p->user.additional_gids[1], 27);
  assert_int_equal(p->user.umask, 63);
  assert_string_equal(p->apparmor_profile, "ap");
  assert_string_equal(p->selinux_label, "sl");
  assert_int_equal(p->oom_score_adj, -1000);
  assert_string_equal(p->scheduler->policy, "SCHED_DEADLINE");
  assert_true(p->scheduler->has_runtime && p->scheduler->has_period && p->scheduler->has_nice);
  assert_false(p->scheduler->has_priority);
  assert_int_equal(p->scheduler->deadline, 20);
  assert_int_equal(p->scheduler->nice, -5);
  assert_string_equal(p->scheduler->flags[0], "SCHED_FLAG_RESET_ON_FORK");
  assert_string_equal(p->io_priority->class, "IOPRIO_CLASS_IDLE");
  assert_int_equal(p->io_priority->priority, 7);
  assert_string_equal(p->exec_cpu_affinity_initial, "0");
  assert_string_equal(p->exec_cpu_affinity_final, "1-3");
  oci_config_free(c);
}

static void
test_big_integers(void **state UNUSED)
{
  struct silo_error err = {0};
  /* docker's `--ulimit memlock=-1` writes RLIM_INFINITY, above jansson's int64. */
  struct oci_config *c =
      parse_q(",'hostname':'\\\"18446744073709551615','process':{'args':['a'],'cwd':'/','rlimits':"
              "[{'type':'RLIMIT_MEMLOCK','soft':18446744073709551615,'hard':9223372036854775808}"
              "]}",
              &err);
  if (!c) print_error("%s\n", err.msg);
  assert_non_null(c);
  assert_true(c->process->rlimits[0].soft == UINT64_MAX);
  assert_true(c->process->rlimits[0].hard == (uint64_t)INT64_MAX + 1);
  assert_string_equal(c->hostname, "\"18446744073709551615");
  oci_config_free(c);

  static const struct bad cases[] = {
      {",'hostname':99999999999999999999", "hostname: expected a string"},
      {",'process':{'args':['a'],'cwd':'/','rlimits':[{'type':'RLIMIT_CORE','soft':0,"
       "'hard':18446744073709551616}]}",
       "process.rlimits[0].hard: 18446744073709551616 is out of range (0..18446744073709551615)"},
      {",'process':{'args':['a'],'cwd':'/','oomScoreAdj':9223372036854775808}",
       "process.oomScoreAdj: 9223372036854775808 is out of range (-2147483648..2147483647)"},
      {",'x':18446744073709551615,'hostname':'a\\u0000b'", "hostname: must not contain NUL bytes"},
  };
  check_bad(cases, ARRAY_SIZE(cases), DOC_CONFIG);
}

/* ---- errors ---- */

static void
test_errors_top(void **state UNUSED)
{
  static const struct bad cases[] = {
      {"[]", "expected a JSON object"},
      {"{}", "root: missing"},
      {"{'root':'rootfs'}", "root: expected an object"},
      {"{'root':{}}", "root.path: missing"},
      {"{'root':{'path':1}}", "root.path: expected a string"},
      {"{'root':{'path':''}}", "root.path: must not be empty"},
      {"{'root':{'path':'r','readonly':'yes'}}", "root.readonly: expected a boolean"},
      {"{'root':{'path':'r'}}", "process: missing"},
      {"{'root':{'path':'r'},'process':[]}", "process: expected an object"},
      {"{'ociVersion':1.2,'root':{'path':'r'}}", "ociVersion: expected a string"},
      {BASE ",'hostname':[]}", "hostname: expected a string"},
      {BASE ",'domainname':false}", "domainname: expected a string"},
      {BASE ",'annotations':[]}", "annotations: expected an object"},
      {BASE ",'annotations':{'io.x':1}}", "annotations[\"io.x\"]: expected a string"},
      {BASE ",'annotations':{'plain':true}}", "annotations.plain: expected a string"},
      {BASE ",'x':-9223372036854775809}", "invalid JSON at line 1, column 86: too big negative "
                                          "integer near '-9223372036854775809'"},
      {"{'a':1,}", "invalid JSON at line 1, column 8: string or '}' expected near '}'"},
      {"", "invalid JSON at line 1, column 0: '[' or '{' expected near end of file"},
  };
  check_bad(cases, ARRAY_SIZE(cases), DOC_WHOLE_CONFIG);
}

#define P(members) ",'process':{'args':['sh'],'cwd':'/'," members "}"

static void
test_errors_process(void **state UNUSED)
{
  static const struct bad cases[] = {
      {",'process':{'cwd':'/'}", "process.args: missing"},
      {",'process':{'args':[],'cwd':'/'}", "process.args: must not be empty"},
      {",'process':{'args':'sh','cwd':'/'}", "process.args: expected an array"},
      {",'process':{'args':['a','b',3],'cwd':'/'}", "process.args[2]: expected a string"},
      {",'process':{'args':['a']}", "process.cwd: missing"},
      {",'process':{'args':['a'],'cwd':'tmp'}", "process.cwd: \"tmp\" is not an absolute path"},
      {",'process':{'args':['a'],'cwd':7}", "process.cwd: expected a string"},
      {P("'env':[1]"), "process.env[0]: expected a string"},
      {P("'env':{}"), "process.env: expected an array"},
      {P("'terminal':1"), "process.terminal: expected a boolean"},
      {P("'noNewPrivileges':'true'"), "process.noNewPrivileges: expected a boolean"},
      {P("'user':[]"), "process.user: expected an object"},
      {P("'user':{'uid':-1}"), "process.user.uid: expected a non-negative integer, got -1"},
      {P("'user':{'uid':4294967296}"),
       "process.user.uid: 4294967296 is out of range (0..4294967295)"},
      /* (uid_t)-1 is "unchanged" to setresuid(2): the process would keep root's ids */
      {P("'user':{'uid':4294967295}"),
       "process.user.uid: 4294967295 is not a valid id (-1 means \"unchanged\" to the kernel)"},
      {P("'user':{'uid':0,'gid':4294967295}"),
       "process.user.gid: 4294967295 is not a valid id (-1 means \"unchanged\" to the kernel)"},
      {P("'user':{'additionalGids':[5,4294967295]}"),
       "process.user.additionalGids[1]: 4294967295 is not a valid id (-1 means \"unchanged\" to "
       "the kernel)"},
      {P("'user':{'gid':'0'}"), "process.user.gid: expected an integer"},
      {P("'user':{'umask':1.5}"), "process.user.umask: expected an integer"},
      {P("'user':{'additionalGids':[1,-5]}"),
       "process.user.additionalGids[1]: expected a non-negative integer, got -5"},
      {P("'user':{'additionalGids':3}"), "process.user.additionalGids: expected an array"},
      {P("'consoleSize':{'height':10}"), "process.consoleSize.width: missing"},
      {P("'consoleSize':{'height':10,'width':true}"), "process.consoleSize.width: expected an "
                                                      "integer"},
      {P("'capabilities':[]"), "process.capabilities: expected an object"},
      {P("'capabilities':{'bounding':[1]}"), "process.capabilities.bounding[0]: expected a string"},
      {P("'capabilities':{'ambient':'CAP_KILL'}"), "process.capabilities.ambient: expected an "
                                                   "array"},
      {P("'rlimits':{}"), "process.rlimits: expected an array"},
      {P("'rlimits':[1]"), "process.rlimits[0]: expected an object"},
      {P("'rlimits':[{'soft':1,'hard':1}]"), "process.rlimits[0].type: missing"},
      {P("'rlimits':[{'type':'RLIMIT_CORE','soft':-1,'hard':1}]"),
       "process.rlimits[0].soft: expected a non-negative integer, got -1"},
      {P("'rlimits':[{'type':'RLIMIT_CORE','soft':1}]"), "process.rlimits[0].hard: missing"},
      {P("'oomScoreAdj':2147483648"),
       "process.oomScoreAdj: 2147483648 is out of range (-2147483648..2147483647)"},
      {P("'apparmorProfile':1"), "process.apparmorProfile: expected a string"},
      {P("'selinuxLabel':{}"), "process.selinuxLabel: expected a string"},
      {P("'scheduler':{}"), "process.scheduler.policy: missing"},
      {P("'scheduler':{'policy':'SCHED_FOO'}"), "process.scheduler.policy: unknown policy "
                                                "\"SCHED_FOO\""},
      {P("'scheduler':{'policy':'SCHED_RR','priority':'high'}"),
       "process.scheduler.priority: expected an integer"},
      {P("'scheduler':{'policy':'SCHED_RR','runtime':-1}"),
       "process.scheduler.runtime: expected a non-negative integer, got -1"},
      {P("'ioPriority':{'class':'X','priority':1}"), "process.ioPriority.class: unknown class "
                                                     "\"X\""},
      {P("'ioPriority':{'class':'IOPRIO_CLASS_BE'}"), "process.ioPriority.priority: missing"},
      {P("'execCPUAffinity':{'initial':1}"), "process.execCPUAffinity.initial: expected a string"},
      {P("'execCPUAffinity':'0-3'"), "process.execCPUAffinity: expected an object"},
  };
  check_bad(cases, ARRAY_SIZE(cases), DOC_CONFIG);
}

static void
test_errors_mounts_hooks(void **state UNUSED)
{
  static const struct bad cases[] = {
      {",'mounts':{}", "mounts: expected an array"},
      {",'mounts':['/proc']", "mounts[0]: expected an object"},
      {",'mounts':[{'destination':'/a'},{'destination':'/b'},{'destination':'/c'},{'type':'bind'}]",
       "mounts[3].destination: missing"},
      {",'mounts':[{'destination':''}]", "mounts[0].destination: must not be empty"},
      {",'mounts':[{'destination':'/a','source':5}]", "mounts[0].source: expected a string"},
      {",'mounts':[{'destination':'/a','type':[]}]", "mounts[0].type: expected a string"},
      {",'mounts':[{'destination':'/a','options':'ro'}]", "mounts[0].options: expected an array"},
      {",'mounts':[{'destination':'/a','options':['ro',null]}]",
       "mounts[0].options[1]: expected a string"},
      {",'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1000}]}]",
       "mounts[0].uidMappings[0].size: missing"},
      {",'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':4294967295,'size':"
       "1}]}]",
       "mounts[0].uidMappings[0]: hostID 4294967295 + size 1 would map 4294967295, which is not a "
       "valid id"},
      {",'mounts':[{'destination':'/a','gidMappings':{}}]", "mounts[0].gidMappings: expected an "
                                                            "array"},
      {",'hooks':[]", "hooks: expected an object"},
      {",'hooks':{'prestart':{}}", "hooks.prestart: expected an array"},
      {",'hooks':{'prestart':[{'args':['x']}]}", "hooks.prestart[0].path: missing"},
      {",'hooks':{'createRuntime':[{'path':'/a'},{'path':'hook'}]}",
       "hooks.createRuntime[1].path: \"hook\" is not an absolute path"},
      {",'hooks':{'poststop':[{'path':'/a','timeout':0}]}",
       "hooks.poststop[0].timeout: must be greater than 0, got 0"},
      {",'hooks':{'poststart':[{'path':'/a','timeout':-3}]}",
       "hooks.poststart[0].timeout: must be greater than 0, got -3"},
      {",'hooks':{'poststart':[{'path':'/a','timeout':'5s'}]}",
       "hooks.poststart[0].timeout: expected an integer"},
      {",'hooks':{'startContainer':[{'path':'/a','args':[1]}]}",
       "hooks.startContainer[0].args[0]: expected a string"},
      {",'hooks':{'createContainer':[{'path':'/a','env':'A=1'}]}",
       "hooks.createContainer[0].env: expected an array"},
  };
  check_bad(cases, ARRAY_SIZE(cases), DOC_CONFIG);
}

/* ---- files ---- */

static void
test_load_errors(void **state UNUSED)
{
  struct silo_error err = {0};
  char dir[] = "/tmp/silo-test-oci-XXXXXX", path[64];
  FILE *f;

  assert_null(oci_config_load("/nonexistent/config.json", &err));
  assert_int_equal(err.errnum, ENOENT);
  assert_string_equal(err.msg, "/nonexistent/config.json");

  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/config.json", dir);
  assert_non_null(f = fopen(path, "w"));
  fputs("{\"root\": {\"path\": \"r\"},\n \"process\": {\"args\": [\"a\"], \"cwd\": \"x\"}}", f);
  fclose(f);
  assert_null(oci_config_load(path, &err));
  char *want = xasprintf("%s: process.cwd: \"x\" is not an absolute path", path);
  assert_string_equal(err.msg, want);
  free(want);

  assert_non_null(f = fopen(path, "w"));
  fputs("{\n  \"root\": }", f);
  fclose(f);
  assert_null(oci_config_load(path, &err));
  want = xasprintf("%s: invalid JSON at line 2, column 11: unexpected token near '}'", path);
  assert_string_equal(err.msg, want);
  free(want);
  unlink(path);

  assert_null(oci_config_load(dir, &err));
  assert_int_equal(err.errnum, EISDIR);
  assert_null(oci_process_load(path, &err));
  assert_int_equal(err.errnum, ENOENT);
  rmdir(dir);
}

/* ---- process.json ---- */

static void
test_process_json(void **state UNUSED)
{
  struct silo_error err = {0};
  char *j = q("{'args':['ls','-l'],'cwd':'/srv','env':['A=1'],'user':{'uid':5},"
              "'capabilities':{'bounding':['CAP_KILL']},'terminal':true}");
  struct oci_process_doc *pd = oci_process_parse(j, strlen(j), &err);
  free(j);
  assert_non_null(pd);
  assert_int_equal(pd->process.n_args, 2);
  assert_string_equal(pd->process.args[1], "-l");
  assert_string_equal(pd->process.cwd, "/srv");
  assert_string_equal(pd->process.env[0], "A=1");
  assert_int_equal(pd->process.user.uid, 5);
  assert_true(pd->process.terminal);
  assert_string_equal(pd->process.capabilities->bounding[0], "CAP_KILL");
  oci_process_doc_free(pd);
  oci_process_doc_free(NULL);

  static const struct bad cases[] = {
      {"{'args':[1],'cwd':'/'}", "args[0]: expected a string"},
      {"{'args':['a']}", "cwd: missing"},
      {"{'args':[],'cwd':'/'}", "args: must not be empty"},
      {"{'args':['a'],'cwd':'/','user':{'uid':'root'}}", "user.uid: expected an integer"},
      {"{'args':['a'],'cwd':'/','rlimits':[{'type':1}]}", "rlimits[0].type: expected a string"},
      {"['a']", "expected a JSON object"},
  };
  check_bad(cases, ARRAY_SIZE(cases), DOC_PROCESS);
}

/* ---- the mounts file of `mounts add` / `mounts remove` ---- */

static void
test_mounts_json(void **state UNUSED)
{
  struct silo_error err = {0};
  /* crun's form: a bare array. */
  char *j = q("[{'destination':'/a','type':'bind','source':'/srv','options':['rbind','ro']},"
              "{'destination':'/b','source':'/x','options':['bind']}]");
  struct oci_mounts_doc *d = oci_mounts_parse(j, strlen(j), &err);
  free(j);
  assert_non_null(d);
  assert_int_equal(d->n_mounts, 2);
  assert_string_equal(d->mounts[0].destination, "/a");
  assert_string_equal(d->mounts[0].options[1], "ro");
  assert_null(d->mounts[1].type);
  oci_mounts_doc_free(d);
  /* config.json's form: an object with `mounts`. */
  j = q("{'mounts':[{'destination':'/c','type':'bind','source':'/y'}]}");
  d = oci_mounts_parse(j, strlen(j), &err);
  free(j);
  assert_non_null(d);
  assert_int_equal(d->n_mounts, 1);
  assert_string_equal(d->mounts[0].source, "/y");
  oci_mounts_doc_free(d);
  j = q("[]");
  d = oci_mounts_parse(j, strlen(j), &err);
  free(j);
  assert_non_null(d);
  assert_int_equal(d->n_mounts, 0);
  oci_mounts_doc_free(d);
  oci_mounts_doc_free(NULL);

  static const struct bad cases[] = {
      {"[{'destination':'/a'},{'type':'bind'}]", "mounts[1].destination: missing"},
      {"[{'destination':'/a','options':'ro'}]", "mounts[0].options: expected an array"},
      {"[{'destination':''}]", "mounts[0].destination: must not be empty"},
      {"[1]", "mounts[0]: expected an object"},
      {"{'mounts':[{'destination':3}]}", "mounts[0].destination: expected a string"},
      {"{'other':[]}", "mounts: missing"},
      {"'x'", "invalid JSON at line 1, column 3: '[' or '{' expected near '\"x\"'"},
      {"[{'destination':'/a'}", "invalid JSON at line 1, column 21: ']' expected near end of file"},
  };
  check_bad(cases, ARRAY_SIZE(cases), DOC_MOUNTS);
}

/* ---- state ---- */

static void
test_state_json(void **state UNUSED)
{
  static const struct oci_kv ann[] = {{"a.b", "c"}, {"d", "e\"f"}};
  struct oci_state s = {
      .oci_version = "1.2.0",
      .id = "web",
      .status = OCI_STATUS_RUNNING,
      .pid = 4242,
      .bundle = "/srv/web",
      .rootfs = "/srv/web/rootfs",
      .created = "2024-05-01T10:00:00.123456789Z",
      .owner = "",
  };
  char *out = oci_state_to_json(&s, true);
  assert_string_equal(out, "{\n"
                           "  \"ociVersion\": \"1.2.0\",\n"
                           "  \"id\": \"web\",\n"
                           "  \"pid\": 4242,\n"
                           "  \"status\": \"running\",\n"
                           "  \"bundle\": \"/srv/web\",\n"
                           "  \"rootfs\": \"/srv/web/rootfs\",\n"
                           "  \"created\": \"2024-05-01T10:00:00.123456789Z\",\n"
                           "  \"owner\": \"\"\n"
                           "}");
  free(out);

  s.annotations = ann;
  s.n_annotations = 2;
  s.status = OCI_STATUS_STOPPED;
  s.pid = 0;
  s.oci_version = NULL;
  out = oci_state_to_json(&s, false);
  assert_string_equal(out, "{\"ociVersion\":\"" OCI_VERSION "\",\"id\":\"web\",\"pid\":0,"
                           "\"status\":\"stopped\",\"bundle\":\"/srv/web\","
                           "\"rootfs\":\"/srv/web/rootfs\","
                           "\"created\":\"2024-05-01T10:00:00.123456789Z\","
                           "\"annotations\":{\"a.b\":\"c\",\"d\":\"e\\\"f\"},\"owner\":\"\"}");
  free(out);

  assert_string_equal(oci_status_name(OCI_STATUS_CREATING), "creating");
  assert_string_equal(oci_status_name(OCI_STATUS_CREATED), "created");
  assert_string_equal(oci_status_name(OCI_STATUS_PAUSED), "paused");
  assert_string_equal(oci_hook_kind_name(OCI_HOOK_CREATE_RUNTIME), "createRuntime");
  assert_string_equal(oci_hook_kind_name(OCI_HOOK_POSTSTOP), "poststop");
  assert_string_equal(oci_ns_type_name(OCI_NS_NETWORK), "network");
  assert_string_equal(oci_ns_type_name(OCI_NS_TIME), "time");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ctr),
      cmocka_unit_test(test_docker),
      cmocka_unit_test(test_podman),
      cmocka_unit_test(test_spec_default),
      cmocka_unit_test(test_spec_rootless),
      cmocka_unit_test(test_lenient),
      cmocka_unit_test(test_process_fields),
      cmocka_unit_test(test_big_integers),
      cmocka_unit_test(test_errors_top),
      cmocka_unit_test(test_errors_process),
      cmocka_unit_test(test_errors_mounts_hooks),
      cmocka_unit_test(test_load_errors),
      cmocka_unit_test(test_process_json),
      cmocka_unit_test(test_mounts_json),
      cmocka_unit_test(test_state_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
