/* Unit tests of the ENOSYS check silo puts in front of libseccomp's program (runc's
 * patchbpf): a syscall newer than the profile fails with ENOSYS, so that libc falls
 * back to the older call; the rules' own actions are untouched. */
#include "seccomp_helpers.h"

/* ---- ENOSYS for syscalls newer than the profile ---- */

#define NR_NEWER 1000 /* above every syscall of x86_64 and aarch64 today */

static int
child_enosys(int fd, void *arg)
{
  bool killing = arg != NULL;
  CHECK(fd == -1);
  CHECK(getpid() > 0); /* allowed */
  errno = 0;
  CHECK(syscall(SYS_getppid) < 0 && errno == EACCES); /* the rule's own errno */
  errno = 0;
  CHECK(syscall(NR_NEWER, 0) < 0 && errno == ENOSYS); /* newer than the profile */
  errno = 0;
  CHECK(syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS); /* 435 > rseq (334) */
  if (!killing) {
    errno = 0; /* known, older than the newest name, not allowed: the default */
    CHECK(syscall(SYS_personality, 0xffffffffUL) < 0 && errno == EPERM);
  }
  return 0;
}

static int
child_kill_personality(int fd, void *arg)
{
  (void)fd;
  (void)arg;
  syscall(SYS_personality, 0xffffffffUL);
  return 0; /* not reached */
}

/* The calls AddressSanitizer's runtime makes in the child (make check SANITIZE=1) are
 * allowed too: all older than rseq, so the newest name, and the check, stay the same. */
static struct oci_seccomp_syscall enosys_rules[] = {
    RULE("SCMP_ACT_ALLOW", "exit_group", "exit", "getpid", "write", "rt_sigreturn", "rseq",
         "mmap", "munmap", "madvise", "sigaltstack", "rt_sigaction", "rt_sigprocmask"),
    RULE("SCMP_ACT_ERRNO", "getppid"),
};

static void
test_enosys_newer_syscalls(void **state UNUSED)
{
#if !defined(__x86_64__) && !defined(__aarch64__)
  skip();
#endif
  enosys_rules[1].has_errno_ret = true;
  enosys_rules[1].errno_ret = EACCES;
  struct oci_seccomp s = {
      .default_action = "SCMP_ACT_ERRNO", .syscalls = enosys_rules, .n_syscalls = 2};
  struct silo_seccomp *f = build_ok(&s);
  assert_exit0(run_child(f, child_enosys, NULL, NULL));
  silo_seccomp_free(f);

  /* A killing default: a newer syscall is ENOSYS too, not death; a known one kills. */
  s.default_action = "SCMP_ACT_KILL_PROCESS";
  f = build_ok(&s);
  assert_exit0(run_child(f, child_enosys, "kill", NULL));
  int st = run_child(f, child_kill_personality, NULL, NULL);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
  silo_seccomp_free(f);
}

/* No check where the default lets things through or is ENOSYS already: the program
 * is libseccomp's alone, exactly as long. */
static void
test_enosys_only_when_refusing(void **state UNUSED)
{
  const void *insns;
  unsigned len[4], flags;
  bool notify;
  const char *defaults[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_ERRNO", "SCMP_ACT_ERRNO"};
  struct oci_seccomp_syscall sc[] = {RULE("SCMP_ACT_TRAP", "getppid")};
  for (size_t i = 0; i < 4; i++) {
    struct oci_seccomp s = {.default_action = defaults[i], .syscalls = sc, .n_syscalls = 1};
    if (i == 2) s.has_default_errno_ret = true, s.default_errno_ret = ENOSYS;
    struct silo_seccomp *f = build_ok(&s);
    silo_seccomp_bpf(f, &insns, &len[i], &flags, &notify);
    silo_seccomp_free(f);
  }
  assert_int_equal(len[0], len[1]);
  assert_int_equal(len[0], len[2]);
  assert_true(len[3] > len[2]); /* EPERM: the stub is there */
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_enosys_newer_syscalls),
      cmocka_unit_test(test_enosys_only_when_refusing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
