/* Unit tests for lib/runtime/process/seccomp.c: profile validation (error texts), and real filters
 * loaded in forked children (errno, argument conditions, notify, kill, Docker's profile).
 * Needs root or unprivileged seccomp (children set no_new_privs); run from the repo root. */
#include "seccomp_helpers.h"

/* ---- validation ---- */

static void
test_no_seccomp(void **state UNUSED)
{
  struct silo_error err = {0};
  struct silo_seccomp *f = (struct silo_seccomp *)&err;
  struct oci_seccomp empty = {0};
  int fd = 7;

  assert_int_equal(silo_seccomp_build(NULL, &f, &err), 0);
  assert_null(f);
  assert_int_equal(silo_seccomp_build(&empty, &f, &err), 0); /* runc: no action, no rules */
  assert_null(f);
  assert_int_equal(silo_seccomp_load(NULL, &fd, &err), 0);
  assert_int_equal(fd, -1);
  assert_false(silo_seccomp_uses_notify(NULL));
  silo_seccomp_free(NULL);
}

static void
test_errors_top(void **state UNUSED)
{
  struct oci_seccomp_syscall allow[] = {RULE("SCMP_ACT_ALLOW", "getpid")};

  expect_error(&(struct oci_seccomp){.syscalls = allow, .n_syscalls = 1},
               "linux.seccomp.defaultAction: missing");
  expect_error(&(struct oci_seccomp){.default_action = "SCMP_ACT_FOO"},
               "linux.seccomp.defaultAction: unknown action `SCMP_ACT_FOO`");
  expect_error(&(struct oci_seccomp){.default_action = "SCMP_ACT_NOTIFY"},
               "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
  expect_error(&(struct oci_seccomp){.default_action = "SCMP_ACT_ALLOW",
                                     .has_default_errno_ret = true,
                                     .default_errno_ret = 1},
               "linux.seccomp.defaultErrnoRet: not valid with `SCMP_ACT_ALLOW` (only "
               "SCMP_ACT_ERRNO and SCMP_ACT_TRACE)");
  expect_error(&(struct oci_seccomp){.default_action = "SCMP_ACT_ERRNO",
                                     .has_default_errno_ret = true,
                                     .default_errno_ret = 70000},
               "linux.seccomp.defaultErrnoRet: 70000 is out of range (0-65535)");
  expect_error(&(struct oci_seccomp){.default_action = "SCMP_ACT_ALLOW",
                                     .architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_FOO"),
                                     .n_architectures = 2},
               "linux.seccomp.architectures[1]: unknown architecture `SCMP_ARCH_FOO`");
  expect_error(&(struct oci_seccomp){.default_action = "SCMP_ACT_ALLOW",
                                     .flags = NAMES("SECCOMP_FILTER_FLAG_LOG", "FLAG_FOO"),
                                     .n_flags = 2},
               "linux.seccomp.flags[1]: unknown flag `FLAG_FOO`");
}

static void
test_errors_syscalls(void **state UNUSED)
{
  struct oci_seccomp s = {.default_action = "SCMP_ACT_ERRNO"};
  struct oci_seccomp_syscall sc[4] = {
      RULE("SCMP_ACT_ALLOW", "read"),
      RULE("SCMP_ACT_ALLOW", "getpid"),
      RULE("SCMP_ACT_ALLOW", "personality"),
  };
  struct oci_seccomp_arg arg = {.index = 6, .op = OCI_SCMP_EQ};

  s.syscalls = sc;
  s.n_syscalls = 3;

  sc[2].action = "SCMP_ACT_FOO";
  expect_error(&s, "linux.seccomp.syscalls[2].action: unknown action `SCMP_ACT_FOO`");
  sc[2].action = NULL;
  expect_error(&s, "linux.seccomp.syscalls[2].action: missing");
  sc[2].action = "SCMP_ACT_LOG";
  sc[2].has_errno_ret = true;
  expect_error(&s, "linux.seccomp.syscalls[2].errnoRet: not valid with `SCMP_ACT_LOG` (only "
                   "SCMP_ACT_ERRNO and SCMP_ACT_TRACE)");
  sc[2].has_errno_ret = false;
  sc[2].args = &arg;
  sc[2].n_args = 1;
  expect_error(&s, "linux.seccomp.syscalls[2].args[0].index: must be < 6");
  arg.index = 0;
  arg.op = (enum oci_seccomp_op)42;
  expect_error(&s, "linux.seccomp.syscalls[2].args[0].op: unknown operator 42");
  arg.op = OCI_SCMP_EQ;

  sc[1].n_names = 0;
  expect_error(&s, "linux.seccomp.syscalls[1].names: must not be empty");
  sc[1] = (struct oci_seccomp_syscall)RULE("SCMP_ACT_ALLOW", "getpid", "");
  expect_error(&s, "linux.seccomp.syscalls[1].names[1]: empty syscall name");
  sc[1] = (struct oci_seccomp_syscall)RULE("SCMP_ACT_NOTIFY", "getpid", "write");
  expect_error(&s, "linux.seccomp.syscalls[1].names[1]: SCMP_ACT_NOTIFY cannot be used for "
                   "`write`");
  sc[1].names[1] = "sendmsg";
  expect_error(&s, "linux.seccomp.syscalls[1].names[1]: SCMP_ACT_NOTIFY cannot be used for "
                   "`sendmsg`");
  sc[1] = (struct oci_seccomp_syscall)RULE("SCMP_ACT_NOTIFY", "getpid");
  expect_error(&s, "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
  char long_path[200];
  memset(long_path, 'a', sizeof long_path - 1);
  long_path[sizeof long_path - 1] = '\0';
  s.listener_path = long_path;
  expect_error(&s, "linux.seccomp.listenerPath: longer than 107 bytes");
  s.listener_path = "/run/agent.sock";
  silo_seccomp_free(build_ok(&s)); /* the same profile, now valid */
}

/* Unknown names are skipped (runc), rules repeating the default action too, and the
 * native architecture may be listed. */
static void
test_lenient(void **state UNUSED)
{
  struct oci_seccomp_syscall sc[] = {
      RULE("SCMP_ACT_ALLOW", "no_such_syscall_at_all", "getpid"),
      RULE("SCMP_ACT_ERRNO", "getppid"), /* == default: skipped */
      RULE("SCMP_ACT_NOTIFY", "no_such_syscall_either"),
      RULE("SCMP_ACT_KILL", "sethostname"),
      RULE("SCMP_ACT_TRACE", "uselib"),
      RULE("SCMP_ACT_LOG", "getuid"),
      RULE("SCMP_ACT_TRAP", "getgid"),
      RULE("SCMP_ACT_KILL_THREAD", "setdomainname"),
      RULE("SCMP_ACT_KILL_PROCESS", "swapon"),
  };
  struct oci_seccomp s = {
      .default_action = "SCMP_ACT_ERRNO",
      .architectures =
          NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"),
      .n_architectures = 4,
      .flags = NAMES("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                     "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
      .n_flags = 4,
      .syscalls = sc,
      .n_syscalls = ARRAY_SIZE(sc)};
  struct silo_seccomp *f = build_ok(&s);
  /* The only notify rule names an unknown syscall: no listener, none needed. */
  assert_false(silo_seccomp_uses_notify(f));
  silo_seccomp_free(f);
}

/* With SILO_SECCOMP_FAIL_UNKNOWN (crun's run.oci.seccomp_fail_unknown_syscall) an unknown
 * name is an error naming it; known names still build. */
static void
test_fail_unknown(void **state UNUSED)
{
  struct oci_seccomp_syscall sc[] = {
      RULE("SCMP_ACT_ERRNO", "getpid"),
      RULE("SCMP_ACT_ALLOW", "getppid", "no_such_syscall_at_all"),
  };
  struct oci_seccomp s = {
      .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = ARRAY_SIZE(sc)};
  struct silo_error err = {0};
  struct silo_seccomp *f = (struct silo_seccomp *)&err;
  assert_int_equal(silo_seccomp_build_opts(&s, SILO_SECCOMP_FAIL_UNKNOWN, &f, &err), -1);
  assert_null(f);
  assert_string_equal(
      err.msg, "linux.seccomp.syscalls[1].names[1]: unknown syscall `no_such_syscall_at_all`");
  /* without the option the same profile builds (the name is skipped) */
  silo_seccomp_free(build_ok(&s));
  s.n_syscalls = 1;
  struct silo_error err2 = {0};
  assert_int_equal(silo_seccomp_build_opts(&s, SILO_SECCOMP_FAIL_UNKNOWN, &f, &err2), 0);
  assert_non_null(f);
  silo_seccomp_free(f);
}

static bool
in_list(const char *const *l, const char *name)
{
  for (; *l; l++)
    if (strcmp(*l, name) == 0) return true;
  return false;
}

static void
sorted(const char *const *l)
{
  assert_non_null(l[0]);
  for (size_t i = 1; l[i]; i++) assert_true(strcmp(l[i - 1], l[i]) < 0);
}

static void
test_features(void **state UNUSED)
{
  sorted(silo_seccomp_actions());
  sorted(silo_seccomp_ops());
  sorted(silo_seccomp_archs());
  assert_true(in_list(silo_seccomp_actions(), "SCMP_ACT_KILL_PROCESS"));
  assert_true(in_list(silo_seccomp_actions(), "SCMP_ACT_NOTIFY"));
  assert_true(in_list(silo_seccomp_ops(), "SCMP_CMP_MASKED_EQ"));
  assert_true(in_list(silo_seccomp_archs(), "SCMP_ARCH_X86_64"));
  assert_true(in_list(silo_seccomp_archs(), "SCMP_ARCH_RISCV64"));
  assert_true(in_list(silo_seccomp_flags(), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
  assert_true(silo_seccomp_flag_supported("SECCOMP_FILTER_FLAG_TSYNC"));
  assert_true(silo_seccomp_flag_supported("SECCOMP_FILTER_FLAG_LOG")); /* Linux >= 4.14 */
  assert_false(silo_seccomp_flag_supported("SECCOMP_FILTER_FLAG_FOO"));
  assert_false(silo_seccomp_flag_supported(NULL));
  assert_non_null(strchr(silo_seccomp_lib_version(), '.')); /* "2.5.4" */
}

/* ---- filters in a child ---- */

static int
child_mkdir(int fd, void *arg)
{
  char path[128];
  CHECK(fd == -1);
  snprintf(path, sizeof path, "%s/d", (const char *)arg);
  errno = 0;
  CHECK(mkdir(path, 0700) < 0 && errno == ENOSYS);
  CHECK(access(path, F_OK) < 0);
  CHECK(getpid() > 0); /* everything else still works */
  return 0;
}

static void
test_errno_ret(void **state UNUSED)
{
  struct oci_seccomp_syscall sc[] = {RULE("SCMP_ACT_ERRNO", "mkdir", "mkdirat")};
  sc[0].has_errno_ret = true;
  sc[0].errno_ret = ENOSYS;
  struct oci_seccomp s = {
      .default_action = "SCMP_ACT_ALLOW", .flags = NAMES("SECCOMP_FILTER_FLAG_LOG"), .n_flags = 1};
  s.syscalls = sc;
  s.n_syscalls = 1;
  char dir[] = "/tmp/silo-seccomp-XXXXXX";
  assert_non_null(mkdtemp(dir));

  struct silo_seccomp *f = build_ok(&s);
  assert_false(silo_seccomp_uses_notify(f));
  assert_exit0(run_child(f, child_mkdir, dir, NULL));
  silo_seccomp_free(f);
  assert_int_equal(rmdir(dir), 0);
}

/* Ids above the kernel's PID_MAX_LIMIT (4 Mi): no process or group has them, so an
 * unmatched call fails with ESRCH whatever runs on the host. Ids like 4243 did not:
 * with pid_max 32768, a busy CI run had a live process 4243. */
#define NO_PID 5000000

static long
sys1(long nr, unsigned long a)
{
  errno = 0;
  return syscall(nr, a);
}

static int
child_args(int fd, void *arg)
{
  (void)fd;
  (void)arg;
  /* personality: only the query 0xffffffff is allowed. */
  CHECK(personality(0xffffffff) >= 0);
  CHECK(personality(PER_LINUX) < 0 && errno == EPERM);
  /* EQ, NE, LT, LE, GE, GT and MASKED_EQ, each on a harmless syscall (EXDEV = matched). */
  CHECK(sys1(SYS_getpgid, 12345) < 0 && errno == EXDEV);
  CHECK(sys1(SYS_getpgid, 0) >= 0);
  CHECK(sys1(SYS_getsid, 1) < 0 && errno == EXDEV);
  CHECK(sys1(SYS_getsid, 0) >= 0);
  CHECK(sys1(SYS_sched_get_priority_max, 99) < 0 && errno == EXDEV);
  CHECK(sys1(SYS_sched_get_priority_max, 100) < 0 && errno == EINVAL);
  CHECK(sys1(SYS_sched_get_priority_min, 100) < 0 && errno == EXDEV);
  CHECK(sys1(SYS_sched_get_priority_min, 101) < 0 && errno == EINVAL);
  CHECK(sys1(SYS_sched_getscheduler, 5000000) < 0 && errno == EXDEV);
  CHECK(sys1(SYS_sched_getscheduler, 0) >= 0);
  struct sched_param sp;
  errno = 0;
  CHECK(syscall(SYS_sched_getparam, NO_PID + 1, &sp) < 0 && errno == EXDEV);
  CHECK(syscall(SYS_sched_getparam, NO_PID, &sp) < 0 && errno == ESRCH);
  CHECK(sys1(SYS_umask, 0577) < 0 && errno == EXDEV); /* (0577 & 0700) == 0500 */
  CHECK(sys1(SYS_umask, 0777) >= 0);
  /* Two conditions on arg 0: split into two rules, either one matches (runc). */
  struct timespec ts;
  errno = 0;
  CHECK(syscall(SYS_sched_rr_get_interval, 111, &ts) < 0 && errno == EXDEV);
  CHECK(syscall(SYS_sched_rr_get_interval, 222, &ts) < 0 && errno == EXDEV);
  CHECK(syscall(SYS_sched_rr_get_interval, 0, &ts) == 0);
  /* Conditions on two arguments: both must match. */
  errno = 0;
  CHECK(syscall(SYS_getpriority, PRIO_PROCESS, NO_PID) < 0 && errno == EXDEV);
  CHECK(syscall(SYS_getpriority, PRIO_PROCESS, NO_PID + 1) < 0 && errno == ESRCH);
  CHECK(syscall(SYS_getpriority, PRIO_PGRP, NO_PID) < 0 && errno == ESRCH);
  return 0;
}

static void
test_arg_conditions(void **state UNUSED)
{
  /* The child expects EXDEV where a rule matches. */
#define A(i, o, v, v2)                                                                             \
  {                                                                                                \
    .index = i, .op = OCI_SCMP_##o, .value = v, .value_two = v2                                    \
  }
  struct {
    const char *name;
    struct oci_seccomp_arg a[2];
    size_t n;
  } t[] = {
      {"personality", {A(0, NE, 0xffffffff, 0)}, 1}, /* EPERM */
      {"getpgid", {A(0, EQ, 12345, 0)}, 1},
      {"getsid", {A(0, NE, 0, 0)}, 1},
      {"sched_get_priority_max", {A(0, LT, 100, 0)}, 1},
      {"sched_get_priority_min", {A(0, LE, 100, 0)}, 1},
      {"sched_getscheduler", {A(0, GE, 5000000, 0)}, 1},
      {"sched_getparam", {A(0, GT, NO_PID, 0)}, 1},
      {"umask", {A(0, MASKED_EQ, 0700, 0500)}, 1},
      {"sched_rr_get_interval", {A(0, EQ, 111, 0), A(0, EQ, 222, 0)}, 2},
      {"getpriority", {A(0, EQ, PRIO_PROCESS, 0), A(1, EQ, NO_PID, 0)}, 2},
  };
  struct oci_seccomp_syscall sc[ARRAY_SIZE(t)];
  const char *names[ARRAY_SIZE(t)][2];
  for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
    names[i][0] = t[i].name;
    names[i][1] = NULL;
    sc[i] = (struct oci_seccomp_syscall){.names = names[i],
                                         .n_names = 1,
                                         .action = "SCMP_ACT_ERRNO",
                                         .has_errno_ret = i > 0,
                                         .errno_ret = EXDEV,
                                         .args = t[i].a,
                                         .n_args = t[i].n};
  }
  struct oci_seccomp s = {
      .default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = ARRAY_SIZE(sc)};
  struct silo_seccomp *f = build_ok(&s);
  assert_exit0(run_child(f, child_args, NULL, NULL));
  silo_seccomp_free(f);
}

static int
child_getpgid(int fd, void *arg)
{
  (void)fd;
  (void)arg;
  syscall(SYS_getpgid, 0);
  return 0; /* not reached */
}

static void
test_kill(void **state UNUSED)
{
  const char *acts[] = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                        "SCMP_ACT_TRAP"};
  for (size_t i = 0; i < ARRAY_SIZE(acts); i++) {
    struct oci_seccomp_syscall sc[] = {RULE(acts[i], "getpgid")};
    struct oci_seccomp s = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sc, .n_syscalls = 1};
    struct silo_seccomp *f = build_ok(&s);
    int st = run_child(f, child_getpgid, NULL, NULL);
    silo_seccomp_free(f);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
      fail_msg("%s: child status %#x, expected SIGSYS", acts[i], st);
  }
}

/* ---- notify: the listener reaches an agent, which answers the child's syscall ---- */

static int
child_notify(int fd, void *arg)
{
  const char *path = arg;
  struct silo_error err = {0};
  char buf[SILO_ERROR_MSG_MAX + 64];
  char state_json[256];

  CHECK(fd >= 0);
  snprintf(state_json, sizeof state_json,
           "{\"ociVersion\":\"1.2.0\",\"id\":\"web\",\"status\":\"creating\",\"pid\":%d,"
           "\"bundle\":\"/b\"}",
           (int)getpid());
  if (silo_seccomp_send_notify(path, "meta \"1\"\n", fd, getpid(), state_json, &err) < 0) {
    dprintf(2, "child: %s\n", silo_err_str(&err, buf, sizeof buf));
    return 1;
  }
  close(fd);
  errno = 0;
  CHECK(syscall(SYS_getpgid, 4242) == 777); /* answered by the agent */
  return 0;
}

static void
wait_readable(int fd)
{
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, 10000) != 1) fail_msg("timed out waiting for the child");
}

/* Reads one connection: the JSON and the fd that came with it. */
static char *
agent_receive(int lsock, int *fd)
{
  static char data[8192];
  size_t len = 0;
  wait_readable(lsock);
  int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  assert_true(c >= 0);
  *fd = -1;
  for (;;) {
    union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = data + len, .iov_len = sizeof data - 1 - len};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    wait_readable(c);
    ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
    assert_true(n >= 0);
    if (n == 0) break;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (cm && cm->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(cm), sizeof(int));
    len += (size_t)n;
  }
  close(c);
  data[len] = '\0';
  return data;
}

static void
test_notify(void **state UNUSED)
{
  char dir[] = "/tmp/silo-seccomp-XXXXXX", path[64];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/agent.sock", dir);
  int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  strcpy(sun.sun_path, path);
  assert_int_equal(bind(lsock, (struct sockaddr *)&sun, sizeof sun), 0);
  assert_int_equal(listen(lsock, 1), 0);

  struct oci_seccomp_syscall sc[] = {RULE("SCMP_ACT_NOTIFY", "getpgid")};
  struct oci_seccomp s = {.default_action = "SCMP_ACT_ALLOW",
                          .flags = NAMES("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
                          .n_flags = 1,
                          .listener_path = path,
                          .syscalls = sc,
                          .n_syscalls = 1};
  struct silo_seccomp *f = build_ok(&s);
  assert_true(silo_seccomp_uses_notify(f));
  pid_t pid;
  run_child(f, child_notify, path, &pid);

  int nfd;
  char *msg = agent_receive(lsock, &nfd);
  assert_true(nfd >= 0);
  json_error_t je;
  json_t *j = json_loads(msg, 0, &je);
  if (j == NULL) fail_msg("bad JSON `%s`: %s", msg, je.text);
  assert_string_equal(json_string_value(json_object_get(j, "ociVersion")), OCI_VERSION);
  json_t *fds = json_object_get(j, "fds");
  assert_int_equal(json_array_size(fds), 1);
  assert_string_equal(json_string_value(json_array_get(fds, 0)), "seccompFd");
  assert_int_equal(json_integer_value(json_object_get(j, "pid")), pid);
  assert_string_equal(json_string_value(json_object_get(j, "metadata")), "meta \"1\"\n");
  json_t *st = json_object_get(j, "state");
  assert_string_equal(json_string_value(json_object_get(st, "id")), "web");
  assert_int_equal(json_integer_value(json_object_get(st, "pid")), pid);
  json_decref(j);

  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  memset(&req, 0, sizeof req);
  wait_readable(nfd);
  assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
  assert_int_equal(req.pid, pid);
  assert_int_equal(req.data.nr, SYS_getpgid);
  assert_int_equal(req.data.args[0], 4242);
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.val = 777;
  assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);

  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_exit0(status);
  close(nfd);
  close(lsock);
  silo_seccomp_free(f);
  unlink(path);
  rmdir(dir);
}

/* ---- real profiles from tests/fixtures (read with jansson, no oci/ parser needed) ---- */

struct profile {
  json_t *doc;
  struct oci_seccomp s;
};

static const char **
strv(json_t *a, size_t *n)
{
  *n = json_array_size(a);
  const char **v = calloc(*n + 1, sizeof *v);
  for (size_t i = 0; i < *n; i++) v[i] = json_string_value(json_array_get(a, i));
  return v;
}

static enum oci_seccomp_op
op_from(const char *s)
{
  for (int i = 0; silo_seccomp_ops()[i]; i++) {
    static const enum oci_seccomp_op by_sorted_name[] = {
        OCI_SCMP_EQ, OCI_SCMP_GE,        OCI_SCMP_GT, OCI_SCMP_LE,
        OCI_SCMP_LT, OCI_SCMP_MASKED_EQ, OCI_SCMP_NE};
    if (strcmp(silo_seccomp_ops()[i], s) == 0) return by_sorted_name[i];
  }
  fail_msg("unknown op %s", s);
  return OCI_SCMP_EQ;
}

static void
profile_load(struct profile *p, const char *path)
{
  json_error_t je;
  memset(p, 0, sizeof *p);
  p->doc = json_load_file(path, 0, &je);
  if (p->doc == NULL) fail_msg("%s: %s", path, je.text);
  json_t *sec = json_object_get(json_object_get(p->doc, "linux"), "seccomp"), *v;
  assert_non_null(sec);
  p->s.default_action = json_string_value(json_object_get(sec, "defaultAction"));
  if ((v = json_object_get(sec, "defaultErrnoRet"))) {
    p->s.has_default_errno_ret = true;
    p->s.default_errno_ret = (uint32_t)json_integer_value(v);
  }
  p->s.architectures = strv(json_object_get(sec, "architectures"), &p->s.n_architectures);
  if ((v = json_object_get(sec, "flags"))) p->s.flags = strv(v, &p->s.n_flags);
  json_t *scs = json_object_get(sec, "syscalls");
  p->s.n_syscalls = json_array_size(scs);
  p->s.syscalls = calloc(p->s.n_syscalls, sizeof *p->s.syscalls);
  for (size_t i = 0; i < p->s.n_syscalls; i++) {
    json_t *o = json_array_get(scs, i), *args = json_object_get(o, "args");
    struct oci_seccomp_syscall *sc = &p->s.syscalls[i];
    sc->names = strv(json_object_get(o, "names"), &sc->n_names);
    sc->action = json_string_value(json_object_get(o, "action"));
    if ((v = json_object_get(o, "errnoRet"))) {
      sc->has_errno_ret = true;
      sc->errno_ret = (uint32_t)json_integer_value(v);
    }
    sc->n_args = json_array_size(args);
    sc->args = calloc(sc->n_args + 1, sizeof *sc->args);
    for (size_t k = 0; k < sc->n_args; k++) {
      json_t *a = json_array_get(args, k);
      sc->args[k].index = (uint32_t)json_integer_value(json_object_get(a, "index"));
      sc->args[k].value = (uint64_t)json_integer_value(json_object_get(a, "value"));
      sc->args[k].value_two = (uint64_t)json_integer_value(json_object_get(a, "valueTwo"));
      sc->args[k].op = op_from(json_string_value(json_object_get(a, "op")));
    }
  }
}

static void
profile_free(struct profile *p)
{
  for (size_t i = 0; i < p->s.n_syscalls; i++) {
    free((void *)p->s.syscalls[i].names);
    free(p->s.syscalls[i].args);
  }
  free(p->s.syscalls);
  free((void *)p->s.architectures);
  free((void *)p->s.flags);
  json_decref(p->doc);
}

struct profile_expect {
  int default_errno, clone3_errno;
};

static int
child_profile(int fd, void *arg)
{
  const struct profile_expect *e = arg;
  CHECK(fd == -1);
  CHECK(getpid() > 0);
  CHECK(personality(0xffffffff) >= 0); /* allowed by an argument condition */
  errno = 0;
  CHECK(personality(ADDR_NO_RANDOMIZE) < 0 && errno == e->default_errno);
  errno = 0;
  CHECK(syscall(SYS_clone3, NULL, 0) < 0 && errno == e->clone3_errno);
  errno = 0;
  CHECK(syscall(SYS_kexec_load, 0, 0, 0, 0) < 0 && errno == EPERM);
  return 0;
}

static void
run_profile(const char *path, struct profile_expect e)
{
  struct profile p;
  if (access(path, F_OK) < 0) {
    print_message("%s: missing, test skipped\n", path);
    skip();
  }
  profile_load(&p, path);
  struct silo_seccomp *f = build_ok(&p.s);
  assert_exit0(run_child(f, child_profile, &e, NULL));
  silo_seccomp_free(f);
  profile_free(&p);
}

static void
test_docker_profile(void **state UNUSED)
{
  /* Default EPERM; clone3 gets ENOSYS so that glibc falls back to clone. */
  run_profile("tests/fixtures/specs/docker.json", (struct profile_expect){EPERM, ENOSYS});
}

static void
test_podman_profile(void **state UNUSED)
{
  /* Default ENOSYS (defaultErrnoRet 38); clone3 allowed (EINVAL: no arguments). */
  run_profile("tests/fixtures/specs/podman-bridge.json", (struct profile_expect){ENOSYS, EINVAL});
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_seccomp),      cmocka_unit_test(test_errors_top),
      cmocka_unit_test(test_errors_syscalls), cmocka_unit_test(test_lenient),
      cmocka_unit_test(test_features),        cmocka_unit_test(test_errno_ret),
      cmocka_unit_test(test_arg_conditions),  cmocka_unit_test(test_kill),
      cmocka_unit_test(test_notify),          cmocka_unit_test(test_docker_profile),
      cmocka_unit_test(test_podman_profile),  cmocka_unit_test(test_fail_unknown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
