/* silo lib/: the seccomp profile of `silo sandbox`.
 *
 * The default is Docker's default profile: the data below is moby's
 * profiles/seccomp/default.json (Apache-2.0; rules and values unchanged, only
 * compacted into a C string).  That file is a template, not an OCI profile: rules
 * carry "includes"/"excludes" conditions on capabilities, architectures and the
 * kernel version, and "archMap" lists the architectures per native one.  It is
 * rendered here the way dockerd renders it for a container (moby
 * profiles/seccomp/seccomp_linux.go): the architectures of this host's entry, and
 * the rules whose conditions hold for this host and the container's capabilities
 * (so --cap-add SYS_ADMIN also allows mount, unshare...).  The result is an OCI
 * `linux.seccomp` object that silo compiles like any other.
 *
 * --seccomp FILE takes the same template format, or a plain OCI linux.seccomp.
 */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "lib/base/error.h"
#include "lib/image/image.h"
#include "lib/sandbox/sandbox.h"

/* clang-format off */
static const char docker_default[] =
    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"archMap\":[{"
    "\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\","
    "\"SCMP_ARCH_X32\"]},{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":["
    "\"SCMP_ARCH_ARM\"]},{\"architecture\":\"SCMP_ARCH_MIPS64\",\"subArchitectures\":["
    "\"SCMP_ARCH_MIPS\",\"SCMP_ARCH_MIPS64N32\"]},{\"architecture\":\"SCMP_ARCH_MIPS64N32\","
    "\"subArchitectures\":[\"SCMP_ARCH_MIPS\",\"SCMP_ARCH_MIPS64\"]},{"
    "\"architecture\":\"SCMP_ARCH_MIPSEL64\",\"subArchitectures\":[\"SCMP_ARCH_MIPSEL\","
    "\"SCMP_ARCH_MIPSEL64N32\"]},{\"architecture\":\"SCMP_ARCH_MIPSEL64N32\","
    "\"subArchitectures\":[\"SCMP_ARCH_MIPSEL\",\"SCMP_ARCH_MIPSEL64\"]},{"
    "\"architecture\":\"SCMP_ARCH_S390X\",\"subArchitectures\":[\"SCMP_ARCH_S390\"]},{"
    "\"architecture\":\"SCMP_ARCH_RISCV64\",\"subArchitectures\":null}],\"syscalls\":[{"
    "\"names\":[\"accept\",\"accept4\",\"access\",\"adjtimex\",\"alarm\",\"bind\",\"brk\","
    "\"capget\",\"capset\",\"chdir\",\"chmod\",\"chown\",\"chown32\",\"clock_adjtime\","
    "\"clock_adjtime64\",\"clock_getres\",\"clock_getres_time64\",\"clock_gettime\","
    "\"clock_gettime64\",\"clock_nanosleep\",\"clock_nanosleep_time64\",\"close\","
    "\"close_range\",\"connect\",\"copy_file_range\",\"creat\",\"dup\",\"dup2\",\"dup3\","
    "\"epoll_create\",\"epoll_create1\",\"epoll_ctl\",\"epoll_ctl_old\",\"epoll_pwait\","
    "\"epoll_pwait2\",\"epoll_wait\",\"epoll_wait_old\",\"eventfd\",\"eventfd2\",\"execve\","
    "\"execveat\",\"exit\",\"exit_group\",\"faccessat\",\"faccessat2\",\"fadvise64\","
    "\"fadvise64_64\",\"fallocate\",\"fanotify_mark\",\"fchdir\",\"fchmod\",\"fchmodat\","
    "\"fchown\",\"fchown32\",\"fchownat\",\"fcntl\",\"fcntl64\",\"fdatasync\",\"fgetxattr\","
    "\"flistxattr\",\"flock\",\"fork\",\"fremovexattr\",\"fsetxattr\",\"fstat\",\"fstat64\","
    "\"fstatat64\",\"fstatfs\",\"fstatfs64\",\"fsync\",\"ftruncate\",\"ftruncate64\","
    "\"futex\",\"futex_time64\",\"futex_waitv\",\"futimesat\",\"getcpu\",\"getcwd\","
    "\"getdents\",\"getdents64\",\"getegid\",\"getegid32\",\"geteuid\",\"geteuid32\","
    "\"getgid\",\"getgid32\",\"getgroups\",\"getgroups32\",\"getitimer\",\"getpeername\","
    "\"getpgid\",\"getpgrp\",\"getpid\",\"getppid\",\"getpriority\",\"getrandom\","
    "\"getresgid\",\"getresgid32\",\"getresuid\",\"getresuid32\",\"getrlimit\","
    "\"get_robust_list\",\"getrusage\",\"getsid\",\"getsockname\",\"getsockopt\","
    "\"get_thread_area\",\"gettid\",\"gettimeofday\",\"getuid\",\"getuid32\",\"getxattr\","
    "\"inotify_add_watch\",\"inotify_init\",\"inotify_init1\",\"inotify_rm_watch\","
    "\"io_cancel\",\"ioctl\",\"io_destroy\",\"io_getevents\",\"io_pgetevents\","
    "\"io_pgetevents_time64\",\"ioprio_get\",\"ioprio_set\",\"io_setup\",\"io_submit\","
    "\"io_uring_enter\",\"io_uring_register\",\"io_uring_setup\",\"ipc\",\"kill\","
    "\"landlock_add_rule\",\"landlock_create_ruleset\",\"landlock_restrict_self\",\"lchown\","
    "\"lchown32\",\"lgetxattr\",\"link\",\"linkat\",\"listen\",\"listxattr\",\"llistxattr\","
    "\"_llseek\",\"lremovexattr\",\"lseek\",\"lsetxattr\",\"lstat\",\"lstat64\",\"madvise\","
    "\"membarrier\",\"memfd_create\",\"memfd_secret\",\"mincore\",\"mkdir\",\"mkdirat\","
    "\"mknod\",\"mknodat\",\"mlock\",\"mlock2\",\"mlockall\",\"mmap\",\"mmap2\",\"mprotect\","
    "\"mq_getsetattr\",\"mq_notify\",\"mq_open\",\"mq_timedreceive\","
    "\"mq_timedreceive_time64\",\"mq_timedsend\",\"mq_timedsend_time64\",\"mq_unlink\","
    "\"mremap\",\"msgctl\",\"msgget\",\"msgrcv\",\"msgsnd\",\"msync\",\"munlock\","
    "\"munlockall\",\"munmap\",\"name_to_handle_at\",\"nanosleep\",\"newfstatat\","
    "\"_newselect\",\"open\",\"openat\",\"openat2\",\"pause\",\"pidfd_open\","
    "\"pidfd_send_signal\",\"pipe\",\"pipe2\",\"pkey_alloc\",\"pkey_free\",\"pkey_mprotect\","
    "\"poll\",\"ppoll\",\"ppoll_time64\",\"prctl\",\"pread64\",\"preadv\",\"preadv2\","
    "\"prlimit64\",\"process_mrelease\",\"pselect6\",\"pselect6_time64\",\"pwrite64\","
    "\"pwritev\",\"pwritev2\",\"read\",\"readahead\",\"readlink\",\"readlinkat\",\"readv\","
    "\"recv\",\"recvfrom\",\"recvmmsg\",\"recvmmsg_time64\",\"recvmsg\",\"remap_file_pages\","
    "\"removexattr\",\"rename\",\"renameat\",\"renameat2\",\"restart_syscall\",\"rmdir\","
    "\"rseq\",\"rt_sigaction\",\"rt_sigpending\",\"rt_sigprocmask\",\"rt_sigqueueinfo\","
    "\"rt_sigreturn\",\"rt_sigsuspend\",\"rt_sigtimedwait\",\"rt_sigtimedwait_time64\","
    "\"rt_tgsigqueueinfo\",\"sched_getaffinity\",\"sched_getattr\",\"sched_getparam\","
    "\"sched_get_priority_max\",\"sched_get_priority_min\",\"sched_getscheduler\","
    "\"sched_rr_get_interval\",\"sched_rr_get_interval_time64\",\"sched_setaffinity\","
    "\"sched_setattr\",\"sched_setparam\",\"sched_setscheduler\",\"sched_yield\",\"seccomp\","
    "\"select\",\"semctl\",\"semget\",\"semop\",\"semtimedop\",\"semtimedop_time64\","
    "\"send\",\"sendfile\",\"sendfile64\",\"sendmmsg\",\"sendmsg\",\"sendto\",\"setfsgid\","
    "\"setfsgid32\",\"setfsuid\",\"setfsuid32\",\"setgid\",\"setgid32\",\"setgroups\","
    "\"setgroups32\",\"setitimer\",\"setpgid\",\"setpriority\",\"setregid\",\"setregid32\","
    "\"setresgid\",\"setresgid32\",\"setresuid\",\"setresuid32\",\"setreuid\",\"setreuid32\","
    "\"setrlimit\",\"set_robust_list\",\"setsid\",\"setsockopt\",\"set_thread_area\","
    "\"set_tid_address\",\"setuid\",\"setuid32\",\"setxattr\",\"shmat\",\"shmctl\",\"shmdt\","
    "\"shmget\",\"shutdown\",\"sigaltstack\",\"signalfd\",\"signalfd4\",\"sigprocmask\","
    "\"sigreturn\",\"socketcall\",\"socketpair\",\"splice\",\"stat\",\"stat64\",\"statfs\","
    "\"statfs64\",\"statx\",\"symlink\",\"symlinkat\",\"sync\",\"sync_file_range\","
    "\"syncfs\",\"sysinfo\",\"tee\",\"tgkill\",\"time\",\"timer_create\",\"timer_delete\","
    "\"timer_getoverrun\",\"timer_gettime\",\"timer_gettime64\",\"timer_settime\","
    "\"timer_settime64\",\"timerfd_create\",\"timerfd_gettime\",\"timerfd_gettime64\","
    "\"timerfd_settime\",\"timerfd_settime64\",\"times\",\"tkill\",\"truncate\","
    "\"truncate64\",\"ugetrlimit\",\"umask\",\"uname\",\"unlink\",\"unlinkat\",\"utime\","
    "\"utimensat\",\"utimensat_time64\",\"utimes\",\"vfork\",\"vmsplice\",\"wait4\","
    "\"waitid\",\"waitpid\",\"write\",\"writev\"],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":["
    "\"process_vm_readv\",\"process_vm_writev\",\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\","
    "\"includes\":{\"minKernel\":\"4.8\"}},{\"names\":[\"socket\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":40,"
    "\"op\":\"SCMP_CMP_NE\"}]},{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","
    "\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":["
    "\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":8,"
    "\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","
    "\"args\":[{\"index\":0,\"value\":131072,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":["
    "\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":131080,"
    "\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","
    "\"args\":[{\"index\":0,\"value\":4294967295,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":["
    "\"sync_file_range2\",\"swapcontext\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{"
    "\"arches\":[\"ppc64le\"]}},{\"names\":[\"arm_fadvise64_64\",\"arm_sync_file_range\","
    "\"sync_file_range2\",\"breakpoint\",\"cacheflush\",\"set_tls\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"arm\",\"arm64\"]}},{"
    "\"names\":[\"arch_prctl\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":["
    "\"amd64\",\"x32\"]}},{\"names\":[\"modify_ldt\"],\"action\":\"SCMP_ACT_ALLOW\","
    "\"includes\":{\"arches\":[\"amd64\",\"x32\",\"x86\"]}},{\"names\":["
    "\"s390_pci_mmio_read\",\"s390_pci_mmio_write\",\"s390_runtime_instr\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"s390\",\"s390x\"]}},{"
    "\"names\":[\"riscv_flush_icache\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{"
    "\"arches\":[\"riscv64\"]}},{\"names\":[\"open_by_handle_at\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_DAC_READ_SEARCH\"]}},{"
    "\"names\":[\"bpf\",\"clone\",\"clone3\",\"fanotify_init\",\"fsconfig\",\"fsmount\","
    "\"fsopen\",\"fspick\",\"lookup_dcookie\",\"mount\",\"mount_setattr\",\"move_mount\","
    "\"open_tree\",\"perf_event_open\",\"quotactl\",\"quotactl_fd\",\"setdomainname\","
    "\"sethostname\",\"setns\",\"syslog\",\"umount\",\"umount2\",\"unshare\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},{\"names\":["
    "\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":2114060288,"
    "\"op\":\"SCMP_CMP_MASKED_EQ\"}],\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\"],\"arches\":["
    "\"s390\",\"s390x\"]}},{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{"
    "\"index\":1,\"value\":2114060288,\"op\":\"SCMP_CMP_MASKED_EQ\"}],\"includes\":{"
    "\"arches\":[\"s390\",\"s390x\"]},\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},{"
    "\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,\"excludes\":{"
    "\"caps\":[\"CAP_SYS_ADMIN\"]}},{\"names\":[\"reboot\"],\"action\":\"SCMP_ACT_ALLOW\","
    "\"includes\":{\"caps\":[\"CAP_SYS_BOOT\"]}},{\"names\":[\"chroot\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_CHROOT\"]}},{\"names\":["
    "\"delete_module\",\"init_module\",\"finit_module\"],\"action\":\"SCMP_ACT_ALLOW\","
    "\"includes\":{\"caps\":[\"CAP_SYS_MODULE\"]}},{\"names\":[\"acct\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_PACCT\"]}},{\"names\":["
    "\"kcmp\",\"pidfd_getfd\",\"process_madvise\",\"process_vm_readv\",\"process_vm_writev\","
    "\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_PTRACE\"]}},"
    "{\"names\":[\"iopl\",\"ioperm\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":["
    "\"CAP_SYS_RAWIO\"]}},{\"names\":[\"settimeofday\",\"stime\",\"clock_settime\","
    "\"clock_settime64\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":["
    "\"CAP_SYS_TIME\"]}},{\"names\":[\"vhangup\"],\"action\":\"SCMP_ACT_ALLOW\","
    "\"includes\":{\"caps\":[\"CAP_SYS_TTY_CONFIG\"]}},{\"names\":[\"get_mempolicy\","
    "\"mbind\",\"set_mempolicy\",\"set_mempolicy_home_node\"],\"action\":\"SCMP_ACT_ALLOW\","
    "\"includes\":{\"caps\":[\"CAP_SYS_NICE\"]}},{\"names\":[\"syslog\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYSLOG\"]}},{\"names\":["
    "\"bpf\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_BPF\"]}},{"
    "\"names\":[\"perf_event_open\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":["
    "\"CAP_PERFMON\"]}}]}";
/* clang-format on */

/* The libseccomp name of the host's native architecture. */
static const char *
native_scmp_arch(void)
{
  static const struct {
    const char *arch, *scmp;
  } map[] = {
      {"amd64", "SCMP_ARCH_X86_64"},
      {"arm64", "SCMP_ARCH_AARCH64"},
      {"386", "SCMP_ARCH_X86"},
      {"arm", "SCMP_ARCH_ARM"},
      {"ppc64le", "SCMP_ARCH_PPC64LE"},
      {"s390x", "SCMP_ARCH_S390X"},
      {"riscv64", "SCMP_ARCH_RISCV64"},
      {"mips64", "SCMP_ARCH_MIPS64"},
      {"loong64", "SCMP_ARCH_LOONGARCH64"},
  };
  const char *a = image_host_arch();
  for (size_t i = 0; i < ARRAY_SIZE(map); i++)
    if (strcmp(a, map[i].arch) == 0) return map[i].scmp;
  return NULL;
}

/* Kernel "6.18.44-..." >= "4.8"? */
static bool
kernel_at_least(const char *want)
{
  struct utsname u;
  unsigned a = 0, b = 0, wa = 0, wb = 0;
  if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &a, &b) < 1) return true;
  if (sscanf(want, "%u.%u", &wa, &wb) < 1) return true;
  return a > wa || (a == wa && b >= wb);
}

static bool
in_strings(json_t *arr, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr, i,
                     v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return true;
  return false;
}

static bool
has_cap(char *const *caps, size_t n, const char *cap)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(caps[i], cap) == 0) return true;
  return false;
}

/* A rule's "includes" (all must hold) and "excludes" (none may). */
static bool
rule_applies(json_t *rule, char *const *caps, size_t n_caps)
{
  json_t *inc = json_object_get(rule, "includes"), *exc = json_object_get(rule, "excludes");
  const char *arch = image_host_arch();
  size_t i;
  json_t *v;
  if (json_is_object(inc)) {
    json_t *c = json_object_get(inc, "caps"), *a = json_object_get(inc, "arches");
    json_t *k = json_object_get(inc, "minKernel");
    json_array_foreach(c, i, v) if (!json_is_string(v) ||
                                    !has_cap(caps, n_caps, json_string_value(v))) return false;
    if (json_array_size(a) && !in_strings(a, arch)) return false;
    if (json_is_string(k) && !kernel_at_least(json_string_value(k))) return false;
  }
  if (json_is_object(exc)) {
    json_t *c = json_object_get(exc, "caps"), *a = json_object_get(exc, "arches");
    json_t *k = json_object_get(exc, "minKernel");
    json_array_foreach(c, i, v) if (json_is_string(v) &&
                                    has_cap(caps, n_caps, json_string_value(v))) return false;
    if (in_strings(a, arch)) return false;
    if (json_is_string(k) && kernel_at_least(json_string_value(k))) return false;
  }
  return true;
}

/* Template (or OCI profile) -> linux.seccomp for this host and these caps. */
static json_t *
render(json_t *p, char *const *caps, size_t n_caps, const char *what, struct silo_error *err)
{
  if (!json_is_object(p)) return silo_err(err, EINVAL, "%s: not a JSON object", what), NULL;
  json_t *out = json_object();
  const char *key;
  json_t *v;
  json_object_foreach(p, key, v)
  {
    if (strcmp(key, "archMap") == 0 || strcmp(key, "syscalls") == 0) continue;
    json_object_set(out, key, v);
  }
  json_t *map = json_object_get(p, "archMap");
  const char *native = native_scmp_arch();
  if (json_is_array(map) && !json_object_get(p, "architectures")) {
    size_t i;
    json_t *e;
    json_t *archs = json_array();
    json_array_foreach(map, i, e)
    {
      json_t *a = json_object_get(e, "architecture");
      if (!native || !json_is_string(a) || strcmp(json_string_value(a), native) != 0) continue;
      json_array_append(archs, a);
      size_t k;
      json_t *sub;
      json_array_foreach(json_object_get(e, "subArchitectures"), k, sub)
          json_array_append(archs, sub);
    }
    json_object_set_new(out, "architectures", archs);
  }
  json_t *rules = json_object_get(p, "syscalls"), *kept = json_array();
  size_t i;
  json_t *r;
  json_array_foreach(rules, i, r)
  {
    if (!json_is_object(r) || !rule_applies(r, caps, n_caps)) continue;
    json_t *c = json_deep_copy(r);
    json_object_del(c, "includes");
    json_object_del(c, "excludes");
    json_object_del(c, "comment");
    /* Docker's old single-name form. */
    json_t *name = json_object_get(c, "name");
    if (json_is_string(name) && !json_object_get(c, "names")) {
      json_object_set_new(c, "names", json_pack("[O]", name));
      json_object_del(c, "name");
    }
    json_array_append_new(kept, c);
  }
  json_object_set_new(out, "syscalls", kept);
  return out;
}

json_t *
sandbox_seccomp_default(char *const *caps, size_t n_caps, struct silo_error *err)
{
  json_error_t je;
  json_t *p = json_loads(docker_default, 0, &je);
  if (!p) return silo_err(err, EINVAL, "built-in seccomp profile: %s", je.text), NULL;
  json_t *out = render(p, caps, n_caps, "built-in seccomp profile", err);
  json_decref(p);
  return out;
}

json_t *
sandbox_seccomp_file(const char *path, char *const *caps, size_t n_caps, struct silo_error *err)
{
  json_error_t je;
  json_t *p = json_load_file(path, 0, &je);
  if (!p)
    return silo_err(err, EINVAL, "seccomp profile `%s`: %s (line %d)", path, je.text, je.line),
           NULL;
  /* A whole config.json's profile is fine too. */
  json_t *inner = json_object_get(json_object_get(p, "linux"), "seccomp");
  json_t *out = render(inner ? inner : p, caps, n_caps, path, err);
  json_decref(p);
  return out;
}
