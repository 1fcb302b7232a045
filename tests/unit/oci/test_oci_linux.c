/* Unit tests of oci/: the `linux` object of config.json and linux.resources, in a
 * config and alone (`update --resources`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/error.h"
#include "lib/network/network.h"
#include "oci/oci.h"

#define UNUSED __attribute__((unused))

/* JSON written with single quotes, for readability: 'a' -> "a". */
static char *
q(const char *s)
{
  char *r = xstrdup(s);
  for (char *p = r; *p; p++)
    if (*p == '\'') *p = '"';
  return r;
}

/* A minimal valid config.json with the given `linux` object. */
static struct oci_config *
parse_linux(const char *linux_json, struct silo_error *err)
{
  char *json = xasprintf("{'root':{'path':'rootfs'},'process':{'args':['sh'],'cwd':'/'},"
                         "'linux':%s}",
                         linux_json);
  char *j = q(json);
  struct oci_config *c = oci_config_parse(j, strlen(j), err);
  free(j);
  free(json);
  return c;
}

struct bad {
  const char *json; /* the `linux` object, or the resources document */
  const char *msg;
};

/* Parses each case, expects a failure with exactly `msg`; reports every mismatch. */
static void
check_bad(const struct bad *cases, size_t n, bool resources_doc)
{
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    struct silo_error err = {0};
    bool parsed;
    if (resources_doc) {
      char *j = q(cases[i].json);
      struct oci_resources_doc *r = oci_resources_parse(j, strlen(j), &err);
      free(j);
      parsed = r != NULL;
      oci_resources_doc_free(r);
    } else {
      struct oci_config *c = parse_linux(cases[i].json, &err);
      parsed = c != NULL;
      oci_config_free(c);
    }
    if (parsed) {
      print_error("case %zu (%s): parsed, expected \"%s\"\n", i, cases[i].json, cases[i].msg);
      failures++;
    } else if (strcmp(err.msg, cases[i].msg) != 0) {
      print_error("case %zu (%s):\n  expected \"%s\"\n  got      \"%s\"\n", i, cases[i].json,
                  cases[i].msg, err.msg);
      failures++;
    }
  }
  assert_int_equal(failures, 0);
}

/* ---- a config using every part of `linux` ---- */

static const char full_linux[] =
    "{'namespaces':[{'type':'user'},{'type':'pid'},{'type':'network','path':'/run/netns/x'},"
    "{'type':'ipc'},{'type':'uts'},{'type':'cgroup'},{'type':'time'},{'type':'mount'}],"
    "'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
    "'gidMappings':[{'containerID':0,'hostID':200000,'size':1},"
    "{'containerID':1,'hostID':300000,'size':10}],"
    "'timeOffsets':{'monotonic':{'secs':-86400,'nanosecs':5},'boottime':{'secs':3600}},"
    "'devices':[{'type':'c','path':'/dev/fuse','major':10,'minor':229,'fileMode':438,'uid':0,"
    "'gid':0},{'type':'p','path':'/dev/fifo'}],"
    "'netDevices':{'eth1':{'name':'net0'},'ens3':{}},"
    "'cgroupsPath':'system.slice:silo:web',"
    "'rootfsPropagation':'rslave',"
    "'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,"
    "'architectures':['SCMP_ARCH_X86_64'],'flags':['SECCOMP_FILTER_FLAG_LOG'],"
    "'listenerPath':'/run/seccomp.sock','listenerMetadata':'meta',"
    "'syscalls':[{'names':['clone'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,"
    "'value':2114060288,'valueTwo':0,'op':'SCMP_CMP_MASKED_EQ'}]},"
    "{'names':['mount','umount2'],'action':'SCMP_ACT_ERRNO','errnoRet':38},"
    "{'names':['kexec_load'],'action':'SCMP_ACT_KILL','args':[{'index':5,"
    "'value':18446744073709551615,'op':'SCMP_CMP_GE'}]}]},"
    "'sysctl':{'net.ipv4.ip_forward':'1','kernel.msgmax':'65536'},"
    "'maskedPaths':['/proc/kcore'],'readonlyPaths':['/proc/sys','/proc/bus'],"
    "'mountLabel':'system_u:object_r:container_file_t:s0',"
    "'intelRdt':{'closID':'guaranteed','l3CacheSchema':'L3:0=7f','memBwSchema':'MB:0=20',"
    "'enableCMT':true,'enableMBM':false},"
    "'personality':{'domain':'LINUX32','flags':[]},"
    "'memoryPolicy':{'mode':'MPOL_BIND','nodes':'0-3,7','flags':['MPOL_F_STATIC_NODES']}}";

static void
test_full_linux(void **state UNUSED)
{
  struct silo_error err = {0};
  struct oci_config *c = parse_linux(full_linux, &err);
  if (!c) print_error("%s\n", err.msg);
  assert_non_null(c);
  const struct oci_linux *l = c->linux;

  assert_int_equal(l->n_namespaces, OCI_NS_KINDS);
  for (int t = 0; t < OCI_NS_KINDS; t++) assert_non_null(oci_config_namespace(c, t));
  assert_int_equal(l->namespaces[6].type, OCI_NS_TIME);
  assert_string_equal(oci_config_namespace(c, OCI_NS_NETWORK)->path, "/run/netns/x");
  assert_int_equal(l->n_uid_mappings, 1);
  assert_int_equal(l->uid_mappings[0].host_id, 100000);
  assert_int_equal(l->uid_mappings[0].size, 65536);
  assert_int_equal(l->n_gid_mappings, 2);
  assert_int_equal(l->gid_mappings[1].container_id, 1);
  assert_true(l->time_monotonic.set);
  assert_int_equal(l->time_monotonic.secs, -86400);
  assert_int_equal(l->time_monotonic.nanosecs, 5);
  assert_true(l->time_boottime.set);
  assert_int_equal(l->time_boottime.secs, 3600);

  assert_int_equal(l->n_devices, 2);
  assert_int_equal(l->devices[0].type, 'c');
  assert_string_equal(l->devices[0].path, "/dev/fuse");
  assert_int_equal(l->devices[0].major, 10);
  assert_int_equal(l->devices[0].minor, 229);
  assert_true(l->devices[0].has_file_mode && l->devices[0].has_uid && l->devices[0].has_gid);
  assert_int_equal(l->devices[0].file_mode, 0666);
  assert_int_equal(l->devices[1].type, 'p');
  assert_false(l->devices[1].has_file_mode);

  assert_int_equal(l->n_net_devices, 2);
  assert_string_equal(l->net_devices[0].host_name, "eth1");
  assert_string_equal(l->net_devices[0].name, "net0");
  assert_string_equal(l->net_devices[1].host_name, "ens3");
  assert_null(l->net_devices[1].name);

  assert_string_equal(l->cgroups_path, "system.slice:silo:web");
  assert_string_equal(l->rootfs_propagation, "rslave");
  assert_null(l->resources);

  const struct oci_seccomp *s = l->seccomp;
  assert_string_equal(s->default_action, "SCMP_ACT_ERRNO");
  assert_true(s->has_default_errno_ret);
  assert_int_equal(s->default_errno_ret, 1);
  assert_string_equal(s->flags[0], "SECCOMP_FILTER_FLAG_LOG");
  assert_string_equal(s->listener_path, "/run/seccomp.sock");
  assert_string_equal(s->listener_metadata, "meta");
  assert_int_equal(s->n_syscalls, 3);
  assert_int_equal(s->syscalls[0].args[0].op, OCI_SCMP_MASKED_EQ);
  assert_int_equal(s->syscalls[0].args[0].value, 2114060288);
  assert_int_equal(s->syscalls[1].n_names, 2);
  assert_string_equal(s->syscalls[1].names[1], "umount2");
  assert_null(s->syscalls[1].names[2]);
  assert_true(s->syscalls[1].has_errno_ret);
  assert_int_equal(s->syscalls[1].errno_ret, 38);
  assert_int_equal(s->syscalls[1].n_args, 0);
  assert_int_equal(s->syscalls[2].args[0].index, 5);
  assert_true(s->syscalls[2].args[0].value == UINT64_MAX);
  assert_int_equal(s->syscalls[2].args[0].op, OCI_SCMP_GE);

  assert_string_equal(oci_kv_get(l->sysctl, l->n_sysctl, "kernel.msgmax"), "65536");
  assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
  assert_int_equal(l->n_masked_paths, 1);
  assert_string_equal(l->readonly_paths[1], "/proc/bus");
  assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0");
  assert_string_equal(l->intel_rdt->clos_id, "guaranteed");
  assert_string_equal(l->intel_rdt->l3_cache_schema, "L3:0=7f");
  assert_string_equal(l->intel_rdt->mem_bw_schema, "MB:0=20");
  assert_true(l->intel_rdt->enable_cmt);
  assert_false(l->intel_rdt->enable_mbm);
  assert_string_equal(l->personality->domain, "LINUX32");
  assert_int_equal(l->personality->n_flags, 0);
  assert_string_equal(l->memory_policy->mode, "MPOL_BIND");
  assert_string_equal(l->memory_policy->nodes, "0-3,7");
  assert_int_equal(l->memory_policy->n_flags, 1);
  assert_string_equal(l->memory_policy->flags[0], "MPOL_F_STATIC_NODES");
  oci_config_free(c);

  /* An empty rootfsPropagation means "not set". */
  c = parse_linux("{'rootfsPropagation':''}", &err);
  assert_non_null(c);
  assert_null(c->linux->rootfs_propagation);
  assert_null(c->linux->seccomp);
  assert_false(c->linux->time_monotonic.set);
  oci_config_free(c);
}

/* ---- resources ---- */

static const char full_resources[] =
    "{'devices':[{'allow':false},{'allow':true,'type':'b','major':8,'minor':0,'access':'r'}],"
    "'memory':{'limit':-1,'reservation':1048576,'swap':2147483648,'kernel':0,'kernelTCP':0,"
    "'swappiness':60,'disableOOMKiller':true,'useHierarchy':true,'checkBeforeUpdate':false},"
    "'cpu':{'shares':512,'quota':-1,'burst':1000,'period':100000,'realtimeRuntime':950000,"
    "'realtimePeriod':1000000,'cpus':'0-3','mems':'0','idle':1},"
    "'pids':{'limit':-1},"
    "'blockIO':{'weight':500,'leafWeight':300,'weightDevice':[{'major':8,'minor':0,"
    "'weight':700}],'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}],"
    "'throttleWriteBpsDevice':[{'major':8,'minor':16,'rate':2}],"
    "'throttleReadIOPSDevice':[{'major':8,'minor':0,'rate':300}],"
    "'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':400},{'major':8,'minor':1,"
    "'rate':500}]},"
    "'hugepageLimits':[{'pageSize':'2MB','limit':209715200},{'pageSize':'1GB','limit':0}],"
    "'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':500}]},"
    "'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':10000},'mlx4_0':{'hcaObjects':1}},"
    "'unified':{'memory.high':'1073741824','io.weight':'default 100'}}";

static void
check_full_resources(const struct oci_resources *r)
{
  assert_int_equal(r->n_devices, 2);
  assert_int_equal(r->devices[0].type, 'a');
  assert_null(r->devices[0].access);
  assert_false(r->devices[0].has_major);
  assert_int_equal(r->devices[1].type, 'b');
  assert_true(r->devices[1].has_major && r->devices[1].has_minor);
  assert_int_equal(r->devices[1].minor, 0);
  assert_string_equal(r->devices[1].access, "r");

  assert_true(r->memory->has_limit);
  assert_int_equal(r->memory->limit, -1);
  assert_int_equal(r->memory->reservation, 1048576);
  assert_int_equal(r->memory->swap, 2147483648);
  assert_true(r->memory->has_kernel && r->memory->has_kernel_tcp);
  assert_int_equal(r->memory->swappiness, 60);
  assert_true(r->memory->has_disable_oom_killer && r->memory->disable_oom_killer);
  assert_true(r->memory->has_use_hierarchy && r->memory->use_hierarchy);
  assert_true(r->memory->has_check_before_update);
  assert_false(r->memory->check_before_update);

  assert_int_equal(r->cpu->shares, 512);
  assert_int_equal(r->cpu->quota, -1);
  assert_int_equal(r->cpu->burst, 1000);
  assert_int_equal(r->cpu->period, 100000);
  assert_int_equal(r->cpu->realtime_runtime, 950000);
  assert_int_equal(r->cpu->realtime_period, 1000000);
  assert_string_equal(r->cpu->cpus, "0-3");
  assert_string_equal(r->cpu->mems, "0");
  assert_true(r->cpu->has_idle);
  assert_int_equal(r->cpu->idle, 1);

  assert_true(r->has_pids_limit);
  assert_int_equal(r->pids_limit, -1);

  const struct oci_blkio *b = r->blkio;
  assert_int_equal(b->weight, 500);
  assert_int_equal(b->leaf_weight, 300);
  assert_int_equal(b->n_weight_device, 1);
  assert_true(b->weight_device[0].has_weight);
  assert_false(b->weight_device[0].has_leaf_weight);
  assert_int_equal(b->weight_device[0].weight, 700);
  assert_int_equal(b->throttle_read_bps[0].rate, 1048576);
  assert_int_equal(b->throttle_write_bps[0].minor, 16);
  assert_int_equal(b->throttle_read_iops[0].rate, 300);
  assert_int_equal(b->n_throttle_write_iops, 2);
  assert_int_equal(b->throttle_write_iops[1].rate, 500);

  assert_int_equal(r->n_hugepage_limits, 2);
  assert_string_equal(r->hugepage_limits[1].page_size, "1GB");
  assert_int_equal(r->hugepage_limits[0].limit, 209715200);
  assert_true(r->has_net_class_id);
  assert_int_equal(r->net_class_id, 1048577);
  assert_string_equal(r->net_priorities[0].name, "eth0");
  assert_int_equal(r->net_priorities[0].priority, 500);
  assert_int_equal(r->n_rdma, 2);
  assert_string_equal(r->rdma[0].device, "mlx5_1");
  assert_int_equal(r->rdma[0].hca_handles, 3);
  assert_false(r->rdma[1].has_hca_handles);
  assert_int_equal(r->rdma[1].hca_objects, 1);
  assert_string_equal(oci_kv_get(r->unified, r->n_unified, "io.weight"), "default 100");
}

static void
test_resources(void **state UNUSED)
{
  struct silo_error err = {0};
  char *linux_json = xasprintf("{'resources':%s}", full_resources);
  struct oci_config *c = parse_linux(linux_json, &err);
  free(linux_json);
  if (!c) print_error("%s\n", err.msg);
  assert_non_null(c);
  check_full_resources(c->linux->resources);
  oci_config_free(c);

  char *j = q(full_resources);
  struct oci_resources_doc *r = oci_resources_parse(j, strlen(j), &err);
  free(j);
  assert_non_null(r);
  check_full_resources(&r->resources);
  oci_resources_doc_free(r);

  j = q("{'memory':{'limit':536870912},'unknown':{}}");
  r = oci_resources_parse(j, strlen(j), &err);
  free(j);
  assert_non_null(r);
  assert_int_equal(r->resources.memory->limit, 536870912);
  assert_null(r->resources.cpu);
  assert_false(r->resources.has_pids_limit);
  assert_int_equal(r->resources.n_devices, 0);
  oci_resources_doc_free(r);
}

/* ---- errors ---- */

static void
test_errors_linux(void **state UNUSED)
{
  static const struct bad cases[] = {
      {"[]", "linux: expected an object"},
      {"{'namespaces':{}}", "linux.namespaces: expected an array"},
      {"{'namespaces':['pid']}", "linux.namespaces[0]: expected an object"},
      {"{'namespaces':[{'type':'pid'},{'path':'/x'}]}", "linux.namespaces[1].type: missing"},
      {"{'namespaces':[{'type':'net'}]}", "linux.namespaces[0].type: unknown namespace type "
                                          "\"net\""},
      {"{'namespaces':[{'type':1}]}", "linux.namespaces[0].type: expected a string"},
      {"{'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'pid'}]}",
       "linux.namespaces[2].type: duplicate namespace type \"pid\""},
      {"{'namespaces':[{'type':'network','path':'proc/1/ns/net'}]}",
       "linux.namespaces[0].path: \"proc/1/ns/net\" is not an absolute path"},
      {"{'uidMappings':[{'containerID':0,'hostID':-1,'size':1}]}",
       "linux.uidMappings[0].hostID: expected a non-negative integer, got -1"},
      {"{'gidMappings':[{'hostID':0,'size':1}]}", "linux.gidMappings[0].containerID: missing"},
      /* a range reaching (uid_t)-1 would let a process ask for "unchanged" ids */
      {"{'uidMappings':[{'containerID':4294967295,'hostID':100000,'size':1}]}",
       "linux.uidMappings[0]: containerID 4294967295 + size 1 would map 4294967295, which is not a "
       "valid id"},
      {"{'gidMappings':[{'containerID':0,'hostID':0,'size':4294967295},"
       "{'containerID':0,'hostID':1,'size':4294967295}]}",
       "linux.gidMappings[1]: hostID 1 + size 4294967295 would map 4294967295, which is not a "
       "valid id"},
      {"{'uidMappings':{'containerID':0}}", "linux.uidMappings: expected an array"},
      {"{'timeOffsets':{'monotonic':{'secs':'1'}}}",
       "linux.timeOffsets.monotonic.secs: expected an integer"},
      {"{'timeOffsets':{'boottime':5}}", "linux.timeOffsets.boottime: expected an object"},
      {"{'timeOffsets':{'boottime':{'nanosecs':-1}}}",
       "linux.timeOffsets.boottime.nanosecs: expected a non-negative integer, got -1"},
      {"{'devices':[{'path':'/dev/x'}]}", "linux.devices[0].type: missing"},
      {"{'devices':[{'type':'x','path':'/dev/x'}]}",
       "linux.devices[0].type: invalid device type \"x\" (expected c, b, u or p)"},
      {"{'devices':[{'type':'cb','path':'/dev/x'}]}",
       "linux.devices[0].type: invalid device type \"cb\" (expected c, b, u or p)"},
      {"{'devices':[{'type':'c','major':1,'minor':3}]}", "linux.devices[0].path: missing"},
      {"{'devices':[{'type':'c','path':'dev/null','major':1,'minor':3}]}",
       "linux.devices[0].path: \"dev/null\" is not an absolute path"},
      {"{'devices':[{'type':'p','path':'/dev/p'},{'type':'b','path':'/dev/sda','minor':0}]}",
       "linux.devices[1].major: missing"},
      {"{'devices':[{'type':'u','path':'/dev/u','major':1}]}", "linux.devices[0].minor: missing"},
      {"{'devices':[{'type':'c','path':'/dev/n','major':'1','minor':3}]}",
       "linux.devices[0].major: expected an integer"},
      {"{'devices':[{'type':'p','path':'/dev/p','fileMode':-1}]}",
       "linux.devices[0].fileMode: expected a non-negative integer, got -1"},
      {"{'devices':[{'type':'p','path':'/dev/p','uid':'root'}]}",
       "linux.devices[0].uid: expected an integer"},
      {"{'netDevices':[]}", "linux.netDevices: expected an object"},
      {"{'netDevices':{'eth0':'x'}}", "linux.netDevices.eth0: expected an object"},
      {"{'netDevices':{'eth0':{'name':1}}}", "linux.netDevices.eth0.name: expected a string"},
      {"{'cgroupsPath':1}", "linux.cgroupsPath: expected a string"},
      {"{'rootfsPropagation':'bogus'}", "linux.rootfsPropagation: invalid propagation \"bogus\""},
      {"{'rootfsPropagation':true}", "linux.rootfsPropagation: expected a string"},
      {"{'sysctl':{'net.ipv4.ip_forward':1}}",
       "linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string"},
      {"{'sysctl':[]}", "linux.sysctl: expected an object"},
      {"{'maskedPaths':['/a',1]}", "linux.maskedPaths[1]: expected a string"},
      {"{'readonlyPaths':'/proc'}", "linux.readonlyPaths: expected an array"},
      {"{'mountLabel':1}", "linux.mountLabel: expected a string"},
      {"{'intelRdt':{'enableCMT':'yes'}}", "linux.intelRdt.enableCMT: expected a boolean"},
      {"{'intelRdt':{'closID':1}}", "linux.intelRdt.closID: expected a string"},
      {"{'personality':{}}", "linux.personality.domain: missing"},
      {"{'personality':{'domain':'LINUX64'}}",
       "linux.personality.domain: unknown domain \"LINUX64\" (expected LINUX or LINUX32)"},
      {"{'personality':{'domain':'LINUX','flags':[1]}}",
       "linux.personality.flags[0]: expected a string"},
      {"{'resources':[]}", "linux.resources: expected an object"},
      {"{'memoryPolicy':{'nodes':'0'}}", "linux.memoryPolicy.mode: missing"},
      {"{'memoryPolicy':{'mode':'MPOL_X'}}", "linux.memoryPolicy.mode: unknown mode \"MPOL_X\""},
      {"{'memoryPolicy':{'mode':'MPOL_BIND','nodes':0}}",
       "linux.memoryPolicy.nodes: expected a string"},
      {"{'memoryPolicy':{'mode':'MPOL_BIND','flags':['MPOL_F_STATIC_NODES','X']}}",
       "linux.memoryPolicy.flags[1]: unknown flag \"X\""},
  };
  check_bad(cases, ARRAY_SIZE(cases), false);
}

#define SC(syscalls) "{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':" syscalls "}}"

static void
test_errors_seccomp(void **state UNUSED)
{
  static const struct bad cases[] = {
      {"{'seccomp':[]}", "linux.seccomp: expected an object"},
      {"{'seccomp':{}}", "linux.seccomp.defaultAction: missing"},
      {"{'seccomp':{'defaultAction':1}}", "linux.seccomp.defaultAction: expected a string"},
      {"{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','defaultErrnoRet':-1}}",
       "linux.seccomp.defaultErrnoRet: expected a non-negative integer, got -1"},
      {"{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','architectures':'x'}}",
       "linux.seccomp.architectures: expected an array"},
      {"{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','flags':[0]}}",
       "linux.seccomp.flags[0]: expected a string"},
      {"{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':1}}",
       "linux.seccomp.listenerPath: expected a string"},
      {SC("{}"), "linux.seccomp.syscalls: expected an array"},
      {SC("[{'action':'SCMP_ACT_ERRNO'}]"), "linux.seccomp.syscalls[0].names: missing"},
      {SC("[{'names':['read'],'action':'SCMP_ACT_ERRNO'},{'names':['a',5],'action':'x'}]"),
       "linux.seccomp.syscalls[1].names[1]: expected a string"},
      {SC("[{'names':['read']}]"), "linux.seccomp.syscalls[0].action: missing"},
      {SC("[{'names':['read'],'action':'SCMP_ACT_ERRNO','errnoRet':'EPERM'}]"),
       "linux.seccomp.syscalls[0].errnoRet: expected an integer"},
      {SC("[{'names':['read'],'action':'A','args':{}}]"),
       "linux.seccomp.syscalls[0].args: expected an array"},
      {SC("[{'names':['read'],'action':'A','args':[{'index':0,'value':1,'op':'SCMP_CMP_FOO'}]}]"),
       "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\""},
      {SC("[{'names':['read'],'action':'A','args':[{'index':0,'value':1}]}]"),
       "linux.seccomp.syscalls[0].args[0].op: missing"},
      {SC("[{'names':['read'],'action':'A','args':[{'value':1,'op':'SCMP_CMP_EQ'}]}]"),
       "linux.seccomp.syscalls[0].args[0].index: missing"},
      {SC("[{'names':['read'],'action':'A','args':[{'index':0,'op':'SCMP_CMP_EQ'}]}]"),
       "linux.seccomp.syscalls[0].args[0].value: missing"},
      {SC("[{'names':['read'],'action':'A','args':[{'index':0,'value':-1,'op':'SCMP_CMP_EQ'}]}]"),
       "linux.seccomp.syscalls[0].args[0].value: expected a non-negative integer, got -1"},
      {SC("[{'names':['read'],'action':'A','args':[{'index':0,'value':1,'valueTwo':1.5,"
          "'op':'SCMP_CMP_EQ'}]}]"),
       "linux.seccomp.syscalls[0].args[0].valueTwo: expected an integer"},
  };
  check_bad(cases, ARRAY_SIZE(cases), false);
}

#define R(res) "{'resources':" res "}"

static void
test_errors_resources(void **state UNUSED)
{
  static const struct bad cases[] = {
      {R("{'memory':{'limit':'1G'}}"), "linux.resources.memory.limit: expected an integer"},
      {R("{'memory':{'limit':1.5}}"), "linux.resources.memory.limit: expected an integer"},
      {R("{'memory':{'swap':9223372036854775808}}"),
       "linux.resources.memory.swap: 9223372036854775808 is out of range "
       "(-9223372036854775808..9223372036854775807)"},
      {R("{'memory':{'swappiness':-1}}"),
       "linux.resources.memory.swappiness: expected a non-negative integer, got -1"},
      {R("{'memory':{'disableOOMKiller':1}}"),
       "linux.resources.memory.disableOOMKiller: expected a boolean"},
      {R("{'memory':[]}"), "linux.resources.memory: expected an object"},
      {R("{'cpu':{'shares':-2}}"), "linux.resources.cpu.shares: expected a non-negative integer, "
                                   "got -2"},
      {R("{'cpu':{'cpus':0}}"), "linux.resources.cpu.cpus: expected a string"},
      {R("{'cpu':{'quota':'max'}}"), "linux.resources.cpu.quota: expected an integer"},
      {R("{'pids':{}}"), "linux.resources.pids.limit: missing"},
      {R("{'pids':{'limit':'max'}}"), "linux.resources.pids.limit: expected an integer"},
      {R("{'devices':[{'access':'rwm'}]}"), "linux.resources.devices[0].allow: missing"},
      {R("{'devices':[{'allow':false},{'allow':true,'type':'x'}]}"),
       "linux.resources.devices[1].type: invalid device type \"x\" (expected a, c or b)"},
      {R("{'devices':[{'allow':true,'access':'rwx'}]}"),
       "linux.resources.devices[0].access: invalid access \"rwx\" (expected letters of \"rwm\")"},
      {R("{'devices':[{'allow':true,'major':'8'}]}"),
       "linux.resources.devices[0].major: expected an integer"},
      {R("{'blockIO':{'weight':70000}}"),
       "linux.resources.blockIO.weight: 70000 is out of range (0..65535)"},
      {R("{'blockIO':{'weightDevice':[{'minor':0,'weight':10}]}}"),
       "linux.resources.blockIO.weightDevice[0].major: missing"},
      {R("{'blockIO':{'throttleReadBpsDevice':[{'major':8,'minor':0}]}}"),
       "linux.resources.blockIO.throttleReadBpsDevice[0].rate: missing"},
      {R("{'blockIO':{'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':-5}]}}"),
       "linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: expected a non-negative "
       "integer, got -5"},
      {R("{'hugepageLimits':[{'limit':1}]}"), "linux.resources.hugepageLimits[0].pageSize: "
                                              "missing"},
      {R("{'hugepageLimits':[{'pageSize':'2MB'}]}"),
       "linux.resources.hugepageLimits[0].limit: missing"},
      {R("{'network':{'classID':-1}}"),
       "linux.resources.network.classID: expected a non-negative integer, got -1"},
      {R("{'network':{'priorities':[{'name':'eth0','priority':-1}]}}"),
       "linux.resources.network.priorities[0].priority: expected a non-negative integer, got -1"},
      {R("{'rdma':{'mlx5_1':{'hcaHandles':'x'}}}"),
       "linux.resources.rdma.mlx5_1.hcaHandles: expected an integer"},
      {R("{'rdma':[]}"), "linux.resources.rdma: expected an object"},
      {R("{'unified':{'memory.max':5}}"), "linux.resources.unified[\"memory.max\"]: expected a "
                                          "string"},
  };
  check_bad(cases, ARRAY_SIZE(cases), false);

  /* Alone, paths start at the resources object. */
  static const struct bad alone[] = {
      {"{'memory':{'limit':'1G'}}", "memory.limit: expected an integer"},
      {"{'pids':{'limit':null}}", "pids.limit: missing"},
      {"{'devices':[{'allow':'yes'}]}", "devices[0].allow: expected a boolean"},
      {"[{'memory':{}}]", "expected a JSON object"},
      {"{'memory':", "invalid JSON at line 1, column 10: unexpected token near end of file"},
  };
  check_bad(alone, ARRAY_SIZE(alone), true);
}

/* Keys as runc's Go decoder reads them: case-insensitively, the last match winning;
 * a namespace's "path": "" is a new namespace. */
static void
test_go_decoder_keys(void **state UNUSED)
{
  struct silo_error err = {0};
  struct oci_config *c = parse_linux(
      "{'resources':{'hugepageLimits':[{'pagesize':'2MB','limit':4096},{'PageSize':'1GB',"
      "'limit':0}]},'namespaces':[{'type':'pid','path':''},{'Type':'uts','PATH':'/proc/1/ns/uts'}],"
      "'readonlyPaths':['/a'],'readOnlyPaths':['/b']}",
      &err);
  assert_non_null(c);
  const struct oci_resources *r = c->linux->resources;
  assert_int_equal(r->n_hugepage_limits, 2);
  assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
  assert_int_equal(r->hugepage_limits[0].limit, 4096);
  assert_string_equal(r->hugepage_limits[1].page_size, "1GB");
  assert_int_equal(c->linux->n_namespaces, 2);
  assert_int_equal(c->linux->namespaces[0].type, OCI_NS_PID);
  assert_null(c->linux->namespaces[0].path);
  assert_int_equal(c->linux->namespaces[1].type, OCI_NS_UTS);
  assert_string_equal(c->linux->namespaces[1].path, "/proc/1/ns/uts");
  assert_int_equal(c->linux->n_readonly_paths, 1);
  assert_string_equal(c->linux->readonly_paths[0], "/b");
  oci_config_free(c);

  /* A relative path is still an error, named by the key the caller asked for. */
  c = parse_linux("{'namespaces':[{'type':'pid','path':'x'}]}", &err);
  assert_null(c);
  assert_string_equal(err.msg, "linux.namespaces[0].path: \"x\" is not an absolute path");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_linux),       cmocka_unit_test(test_resources),
      cmocka_unit_test(test_errors_linux),     cmocka_unit_test(test_errors_seccomp),
      cmocka_unit_test(test_errors_resources), cmocka_unit_test(test_go_decoder_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
