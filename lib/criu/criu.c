/* silo: CRIU through libcriu, for checkpoint and restore.
 *
 * libcriu is dlopen'ed here, on the first checkpoint or restore, and never linked
 * into ./silo: create/run/exec pay nothing for it (no extra DT_NEEDED, no
 * libprotobuf-c relocation at every start).  Debian's `criu` package ships it.
 * The criu binary it drives (swrk mode: libcriu forks `<criu> swrk <fd>` and talks
 * protobuf RPC over a socketpair) is --criu, $CRIU, or `criu` in PATH.
 *
 * A hung CRIU cannot hang silo: criu_run arms a timer, and when it fires every
 * child of silo (the swrk process and, on restore, the half-restored init) is
 * killed, so libcriu's read and waitpid return and the caller cleans up.
 *
 * CRIU's failures are explained from its log (dump.log / restore.log in the work
 * directory): the first real error lines, with the log's path.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* criu.h is only used for the types of the function table below (no link). */
#include <criu/criu.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/silo.h"

/* libcriu < 3.18 has no setter for empty_ns, and none has one for lazy_pages:
 * those go straight into the RPC message, which is the first member of libcriu's
 * private `struct criu_opts { CriuOpts *rpc; ... }` in every release since 3.0.
 * CriuOpts is the protobuf message of rpc.proto, whose fields only ever get added
 * at the end: the header of the library at hand describes them. */
typedef void (*set_empty_ns_fn)(criu_opts *opts, int namespaces);
static CriuOpts *
rpc_of(criu_opts *o)
{
  return *(CriuOpts **)o;
}

/* Every function silo calls, typed from criu.h, so a wrong signature cannot compile. */
#define CRIU_FUNCS(X)                                                                              \
  X(local_init_opts)                                                                               \
  X(local_free_opts)                                                                               \
  X(local_set_service_binary)                                                                      \
  X(local_set_pid)                                                                                 \
  X(local_set_images_dir_fd)                                                                       \
  X(local_set_work_dir_fd)                                                                         \
  X(local_set_parent_images)                                                                       \
  X(local_set_log_file)                                                                            \
  X(local_set_log_level)                                                                           \
  X(local_set_leave_running)                                                                       \
  X(local_set_tcp_established)                                                                     \
  X(local_set_tcp_close)                                                                           \
  X(local_set_ext_unix_sk)                                                                         \
  X(local_set_shell_job)                                                                           \
  X(local_set_file_locks)                                                                          \
  X(local_set_track_mem)                                                                           \
  X(local_set_auto_dedup)                                                                          \
  X(local_set_evasive_devices)                                                                     \
  X(local_set_root)                                                                                \
  X(local_set_manage_cgroups)                                                                      \
  X(local_set_manage_cgroups_mode)                                                                 \
  X(local_set_freeze_cgroup)                                                                       \
  X(local_add_cg_root)                                                                             \
  X(local_add_ext_mount)                                                                           \
  X(local_add_external)                                                                            \
  X(local_add_inherit_fd)                                                                          \
  X(local_set_page_server_address_port)                                                            \
  X(local_set_network_lock)                                                                        \
  X(local_set_notify_cb)                                                                           \
  X(notify_pid)                                                                                    \
  X(local_dump)                                                                                    \
  X(local_pre_dump)                                                                                \
  X(local_restore_child)                                                                           \
  X(local_get_version)                                                                             \
  X(local_feature_check)

#define CRIU_FIELD(n) __typeof__(&criu_##n) n;
static struct {
  void *handle;
  CRIU_FUNCS(CRIU_FIELD)
  set_empty_ns_fn set_empty_ns; /* may be NULL */
} lib;

static int
criu_lib_load(struct silo_error *err)
{
  if (lib.handle) return 0;
  void *h = dlopen("libcriu.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return silo_err(err, ENOENT,
                    "checkpoint/restore needs libcriu (libcriu.so.2, in Debian's `criu` "
                    "package): %s",
                    dlerror());
#define CRIU_LOAD(n)                                                                               \
  if (!(lib.n = (__typeof__(lib.n))dlsym(h, "criu_" #n))) {                                        \
    dlclose(h);                                                                                    \
    return silo_err(err, ENOSYS, "libcriu.so.2 has no criu_" #n ": too old (need >= 3.16)");       \
  }
  CRIU_FUNCS(CRIU_LOAD)
#undef CRIU_LOAD
  lib.set_empty_ns = (set_empty_ns_fn)dlsym(h, "criu_local_set_empty_ns");
  lib.handle = h;
  return 0;
}

int
criu_cg_mode_parse(const char *s, int *mode)
{
  static const struct {
    const char *name;
    enum criu_cg_mode mode;
  } modes[] = {{"soft", CRIU_CG_MODE_SOFT},     {"full", CRIU_CG_MODE_FULL},
               {"strict", CRIU_CG_MODE_STRICT}, {"ignore", CRIU_CG_MODE_IGNORE},
               {"props", CRIU_CG_MODE_PROPS},   {"none", CRIU_CG_MODE_NONE}};
  for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
    if (strcmp(s, modes[i].name) == 0) return *mode = (int)modes[i].mode, 0;
  return -1;
}

/* ---- the request ---- */

void
criu_req_init(struct criu_req *r, enum criu_op op)
{
  memset(r, 0, sizeof *r);
  r->op = op;
  r->images_fd = r->work_fd = r->status_fd = -1;
  r->cg_mode = -1;
}

void
criu_req_free(struct criu_req *r)
{
  for (size_t i = 0; i < r->n_mnts; i++) free(r->mnts[i].key), free(r->mnts[i].val);
  for (size_t i = 0; i < r->n_externals; i++) free(r->externals[i]);
  for (size_t i = 0; i < r->n_inherit; i++) free(r->inherit[i].key);
  free(r->mnts);
  free(r->externals);
  free(r->inherit);
  r->mnts = NULL, r->externals = NULL, r->inherit = NULL;
  r->n_mnts = r->n_externals = r->n_inherit = 0;
}

void
criu_req_mount(struct criu_req *r, const char *key, const char *val)
{
  for (size_t i = 0; i < r->n_mnts; i++)
    if (strcmp(r->mnts[i].key, key) == 0) return; /* CRIU refuses duplicate keys */
  r->mnts = xrealloc(r->mnts, (r->n_mnts + 1) * sizeof *r->mnts);
  r->mnts[r->n_mnts].key = xstrdup(key);
  r->mnts[r->n_mnts++].val = xstrdup(val);
}

void
criu_req_mounts_truncate(struct criu_req *r, size_t n)
{
  for (; r->n_mnts > n; r->n_mnts--)
    free(r->mnts[r->n_mnts - 1].key), free(r->mnts[r->n_mnts - 1].val);
}

void
criu_req_externals_truncate(struct criu_req *r, size_t n)
{
  for (; r->n_externals > n; r->n_externals--) free(r->externals[r->n_externals - 1]);
}

void
criu_req_external(struct criu_req *r, const char *key)
{
  for (size_t i = 0; i < r->n_externals; i++)
    if (strcmp(r->externals[i], key) == 0) return;
  r->externals = xrealloc(r->externals, (r->n_externals + 1) * sizeof *r->externals);
  r->externals[r->n_externals++] = xstrdup(key);
}

void
criu_req_inherit(struct criu_req *r, int fd, const char *key)
{
  for (size_t i = 0; i < r->n_inherit; i++)
    if (strcmp(r->inherit[i].key, key) == 0) return;
  r->inherit = xrealloc(r->inherit, (r->n_inherit + 1) * sizeof *r->inherit);
  r->inherit[r->n_inherit].fd = fd;
  r->inherit[r->n_inherit++].key = xstrdup(key);
}

/* ---- the timeout: kill every child of silo (async-signal-safe) ---- */

static volatile sig_atomic_t timed_out;

static void
on_alarm(int sig)
{
  (void)sig;
  int saved = errno;
  timed_out = 1;
  char path[64] = "/proc/self/task/";
  /* silo is single-threaded: its tid is its pid. */
  long tid = syscall(SYS_gettid);
  char num[24];
  int n = 0;
  do num[n++] = (char)('0' + tid % 10), tid /= 10;
  while (tid && n < (int)sizeof num);
  size_t len = strlen(path);
  while (n) path[len++] = num[--n];
  memcpy(path + len, "/children", 10);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[4096];
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    long pid = 0;
    for (ssize_t i = 0; got > 0 && i <= got; i++) {
      if (i < got && buf[i] >= '0' && buf[i] <= '9') {
        pid = pid * 10 + (buf[i] - '0');
      } else if (pid > 0) {
        kill((pid_t)pid, SIGKILL);
        pid = 0;
      }
    }
  }
  errno = saved;
}

static void
arm_timeout(unsigned secs, struct sigaction *old)
{
  struct sigaction sa = {.sa_handler = on_alarm};
  sigemptyset(&sa.sa_mask);
  timed_out = 0;
  if (!secs) return;
  sigaction(SIGALRM, &sa, old);
  alarm(secs);
}

static void
disarm_timeout(unsigned secs, const struct sigaction *old)
{
  if (!secs) return;
  alarm(0);
  sigaction(SIGALRM, old, NULL);
}

/* ---- notifications ---- */

static struct criu_req *active; /* libcriu's callback has no user argument */

static int
on_notify(char *action, criu_notify_arg_t na)
{
  struct criu_req *r = active;
  silo_log_debug("criu: notification `%s`", action);
  if (!r) return 0;
  if (strcmp(action, "status-ready") == 0 && r->status_fd >= 0) {
    /* runc's --status-fd: one \0 once the lazy-pages page server is up. */
    char zero = 0;
    if (write(r->status_fd, &zero, 1) < 0) silo_log_warn("--status-fd: %s", strerror(errno));
    close(r->status_fd);
    r->status_fd = -1;
  } else if (strcmp(action, "setup-namespaces") == 0 && r->on_setup_ns) {
    return r->on_setup_ns(r->arg, (pid_t)lib.notify_pid(na));
  } else if (strcmp(action, "pre-dump") == 0 && r->on_pre_dump) {
    return r->on_pre_dump(r->arg);
  } else if (strcmp(action, "pre-resume") == 0 && r->on_pre_resume) {
    return r->on_pre_resume(r->arg);
  }
  return 0;
}

/* ---- the log ---- */

/* Errors CRIU logs on the way that do not make it fail. */
static bool
benign(const char *line)
{
  static const char *const noise[] = {"RLIMIT_NOFILE", "iptables",  "ip6tables",
                                      "execvp(",       "-V failed", "kdat"};
  for (size_t i = 0; i < ARRAY_SIZE(noise); i++)
    if (strstr(line, noise[i])) return true;
  return false;
}

/* Appends the first real "Error (...)" lines of the log to buf. */
static void
explain_log(int work_fd, const char *log_name, char *buf, size_t len)
{
  _cleanup_free_ char *text = NULL;
  size_t n;
  struct silo_error e = {0};
  buf[0] = '\0';
  if (fs_read_file_at(work_fd, log_name, &text, &n, &e) < 0) return;
  size_t used = 0, shown = 0;
  for (int pass = 0; pass < 2 && shown == 0; pass++) {
    for (char *line = text, *next; line && *line; line = next) {
      next = strchr(line, '\n');
      size_t l = next ? (size_t)(next - line) : strlen(line);
      if (next) next++;
      char save = line[l];
      line[l] = '\0';
      char *at = strstr(line, "Error (");
      if (at && (pass == 1 || !benign(line)) && !strstr(line, "FAILED") && shown < 4) {
        int w = snprintf(buf + used, len - used, "\n  %.240s", at);
        if (w > 0 && (size_t)w < len - used) used += (size_t)w, shown++;
      }
      line[l] = save;
    }
  }
}

static const char *
op_name(enum criu_op op)
{
  return op == CRIU_OP_RESTORE ? "restore" : op == CRIU_OP_PRE_DUMP ? "pre-dump" : "dump";
}

static int
fail(const struct criu_req *r, int ret, struct silo_error *err)
{
  char lines[1200];
  explain_log(r->work_fd, r->log_name, lines, sizeof lines);
  const char *log = r->work_path ? r->work_path : ".";
  if (timed_out)
    return silo_err(err, ETIMEDOUT,
                    "criu %s did not finish within %u s and was killed (--criu-timeout); log "
                    "%s/%s%s%s",
                    op_name(r->op), r->timeout, log, r->log_name, lines[0] ? ":" : "", lines);
  if (ret == -ECOMM || ret == -ECONNREFUSED || ret == -EBADMSG) {
    if (!lines[0])
      return silo_err(err, 0,
                      "cannot run criu `%s` (swrk mode): is CRIU installed? (--criu PATH or "
                      "$CRIU choose the binary)",
                      r->criu);
  }
  const char *hint = "";
  if (strstr(lines, "vDSO") || strstr(lines, "vdso"))
    /* Debian 12's CRIU 3.17 on Linux >= 6.13: it cannot parse the new vDSO layout
     * and fails before it does anything. */
    hint = "\n  hint: this CRIU does not know this kernel's vDSO (CRIU before 4.0 on Linux "
           "6.13 or later): use a newer one with --criu PATH or $CRIU; in silo's source tree "
           "`make criu` sets one up and prints its path (see silo-checkpoint(8))";
  else if (r->op == CRIU_OP_PRE_DUMP || r->parent)
    hint = "\n  hint: pre-dump and --parent-path need soft-dirty page tracking "
           "(CONFIG_MEM_SOFT_DIRTY), which this kernel may lack: see `criu check --feature "
           "mem_dirty_track`";
  /* -EBADE is libcriu's "CRIU said no": the log says why, not errno. */
  return silo_err(err, ret < 0 && ret != -EBADE ? -ret : 0, "criu %s failed (log %s/%s)%s%s%s",
                  op_name(r->op), log, r->log_name, lines[0] ? ":" : "", lines, hint);
}

/* iptables is CRIU's default network lock; hosts without it get nftables (which
 * CRIU 3.16+ drives through libnftables). */
static bool
have_iptables(void)
{
  const char *path = getenv("PATH");
  _cleanup_free_ char *dirs = xstrdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    _cleanup_free_ char *p = xasprintf("%s/iptables-restore", d);
    if (access(p, X_OK) == 0) return true;
  }
  return false;
}

/* CRIU locks the container's network for the dump (so no RST leaves for a
 * connection being checkpointed) with iptables by default: iptables-restore is
 * run twice on the way in and twice on the way out, about 70 ms of the frozen
 * time here.  The nftables method does it in-process in a few ms; the image
 * records the method, so restore follows it.  Asked once per process (`criu
 * check`, before any freeze), as CRIU may be built without libnftables.
 *
 * Only from CRIU 4.2: before 4.1 the restore unlocks a table named after the
 * restored task's real pid, not the dumped one's, so the lock table stays and
 * the restored container's network drops every packet (CRIU PR #2550; seen with
 * Debian 12's 3.17 in tests/guest/); 4.1 fails to restore into an external
 * network namespace that still holds the table (CRIU issue #2650, fixed in 4.2). */
#define NFT_LOCK_MIN_CRIU 40200

/* quick_criu(CRIU, OUT, LEN, ARGS...): run `CRIU ARGS...` with its stdout in OUT
 * (NUL-terminated; may be NULL), stderr discarded.  It answers in tens of
 * milliseconds; one that hangs is killed after 2 s (a hung --criu must not delay
 * the --criu-timeout that follows).  Returns its exit status, -1 if it did not exit. */
static int quick_criu_ms(const char *criu, int timeout_ms, char *out, size_t len, const char *a1,
                         const char *a2, const char *a3);
static int
quick_criu(const char *criu, char *out, size_t len, const char *a1, const char *a2, const char *a3)
{
  return quick_criu_ms(criu, 2000, out, len, a1, a2, a3);
}

static int
quick_criu_ms(const char *criu, int timeout_ms, char *out, size_t len, const char *a1,
              const char *a2, const char *a3)
{
  int p[2] = {-1, -1};
  if (out && pipe2(p, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    if (out) close(p[0]), close(p[1]);
    return -1;
  }
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) dup2(null, 1), dup2(null, 2);
    if (out) dup2(p[1], 1);
    execlp(criu, criu, a1, a2, a3, (char *)NULL);
    _exit(127);
  }
  if (out) close(p[1]);
  int status = -1;
  if (child_wait_ms(pid, timeout_ms, &status) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    status = -1;
  }
  if (out) {
    /* the child has exited: what it wrote sits in the pipe, or nothing does */
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    ssize_t n = read(p[0], out, len - 1);
    out[n > 0 ? n : 0] = '\0';
    close(p[0]);
  }
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The version of the CRIU binary (40201), from `criu --version`; 0 when unknown.
 * Asked once per process (before any freeze: criu_prepare), kept for its forks. */
static int
criu_bin_version(const char *criu)
{
  static int known = -1;
  if (known >= 0) return known;
  known = 0;
  char out[256];
  unsigned major = 0, minor = 0, sub = 0;
  if (quick_criu(criu, out, sizeof out, "--version", NULL, NULL) == 0 &&
      sscanf(out, "Version: %u.%u.%u", &major, &minor, &sub) >= 2)
    known = (int)(major * 10000 + minor * 100 + sub);
  else
    silo_log_debug("criu: no version from `%s --version`", criu);
  return known;
}

static bool
nft_lock_supported(const char *criu)
{
  static int known = -1;
  if (known >= 0) return known;
  known = 0;
  const char *bin = criu ? criu : "criu";
  int v = criu_bin_version(bin);
  if (v < NFT_LOCK_MIN_CRIU) {
    silo_log_debug("criu: nftables network lock not used with CRIU %d", v);
    return false;
  }
  known = quick_criu(bin, NULL, 0, "check", "--feature", "network_lock_nftables") == 0;
  silo_log_debug("criu: nftables network lock %ssupported", known ? "" : "not ");
  return known;
}

/* CRIU_NETWORK_LOCK_SKIP (rpc.proto's SKIP = 3; the libcriu headers of Debian 12
 * predate it, the RPC field takes it as it is).  Trusted from the same CRIU 4.2
 * the nftables lock needs. */
#define NETWORK_LOCK_SKIP 3

void
criu_prepare(const char *criu)
{
  if (!criu) criu = "criu";
  criu_bin_version(criu);
  if (have_iptables()) nft_lock_supported(criu);
  criu_kdat_warm(criu);
}

static int
build_opts(criu_opts *o, const struct criu_req *r, struct silo_error *err)
{
  int bad = 0;
  bad |= lib.local_set_service_binary(o, r->criu);
  lib.local_set_images_dir_fd(o, r->images_fd);
  if (r->work_fd >= 0) lib.local_set_work_dir_fd(o, r->work_fd);
  bad |= lib.local_set_log_file(o, r->log_name);
  lib.local_set_log_level(o, 4);
  if (r->op != CRIU_OP_RESTORE) lib.local_set_pid(o, r->pid);
  if (r->parent) bad |= lib.local_set_parent_images(o, r->parent);
  if (r->leave_running) lib.local_set_leave_running(o, true);
  if (r->tcp_established) lib.local_set_tcp_established(o, true);
  if (r->tcp_close) lib.local_set_tcp_close(o, true);
  if (r->ext_unix_sk) lib.local_set_ext_unix_sk(o, true);
  if (r->shell_job) lib.local_set_shell_job(o, true);
  if (r->file_locks) lib.local_set_file_locks(o, true);
  if (r->track_mem) lib.local_set_track_mem(o, true);
  if (r->auto_dedup) lib.local_set_auto_dedup(o, true);
  if (r->lazy_pages) {
    rpc_of(o)->has_lazy_pages = true;
    rpc_of(o)->lazy_pages = true;
  }
  if (r->root) bad |= lib.local_set_root(o, r->root);
  /* Device nodes are found by major:minor, not by path (as runc asks). */
  lib.local_set_evasive_devices(o, true);
  lib.local_set_manage_cgroups(o, true);
  if (r->cg_mode >= 0) lib.local_set_manage_cgroups_mode(o, (enum criu_cg_mode)r->cg_mode);
  if (r->freeze_cgroup) bad |= lib.local_set_freeze_cgroup(o, r->freeze_cgroup);
  if (r->cg_root) bad |= lib.local_add_cg_root(o, NULL, r->cg_root);
  if (r->op != CRIU_OP_RESTORE && r->no_network_lock &&
      criu_bin_version(r->criu) >= NFT_LOCK_MIN_CRIU) {
    /* no TCP connection to protect: no lock to take and to undo */
    rpc_of(o)->has_network_lock = true;
    rpc_of(o)->network_lock = (CriuNetworkLockMethod)NETWORK_LOCK_SKIP;
  } else if (r->op != CRIU_OP_RESTORE && (!have_iptables() || nft_lock_supported(r->criu))) {
    bad |= lib.local_set_network_lock(o, CRIU_NETWORK_LOCK_NFTABLES);
  }
  if (r->ps_addr) {
    /* libcriu <= 3.17 returns -ENOMEM even when it succeeded: check the message. */
    lib.local_set_page_server_address_port(o, r->ps_addr, r->ps_port);
    bad |= !rpc_of(o)->ps || !rpc_of(o)->ps->address;
  }
  for (size_t i = 0; i < r->n_mnts; i++)
    bad |= lib.local_add_ext_mount(o, r->mnts[i].key, r->mnts[i].val);
  for (size_t i = 0; i < r->n_externals; i++) bad |= lib.local_add_external(o, r->externals[i]);
  for (size_t i = 0; i < r->n_inherit; i++)
    bad |= lib.local_add_inherit_fd(o, r->inherit[i].fd, r->inherit[i].key);
  if (r->empty_ns) {
    if (lib.set_empty_ns) {
      lib.set_empty_ns(o, (int)r->empty_ns);
    } else {
      rpc_of(o)->has_empty_ns = true;
      rpc_of(o)->empty_ns = r->empty_ns;
    }
  }
  lib.local_set_notify_cb(o, on_notify);
  if (bad) return silo_err(err, ENOMEM, "criu: cannot set the options");
  return 0;
}

int
criu_run(struct criu_req *r, pid_t *pid, struct silo_error *err)
{
  if (criu_lib_load(err) < 0) return -1;
  if (!r->criu) r->criu = "criu";
  criu_opts *o = NULL;
  if (lib.local_init_opts(&o) < 0) return silo_err(err, ENOMEM, "criu: init options");
  int ret = build_opts(o, r, err);
  if (ret < 0) {
    lib.local_free_opts(o);
    return -1;
  }
  silo_log_debug("criu %s: %s (%zu external mounts, %zu externals, %zu inherited fds)",
                 op_name(r->op), r->criu, r->n_mnts, r->n_externals, r->n_inherit);

  struct sigaction old_sa;
  arm_timeout(r->timeout, &old_sa);
  active = r;
  switch (r->op) {
  case CRIU_OP_DUMP:
    ret = lib.local_dump(o);
    break;
  case CRIU_OP_PRE_DUMP:
    ret = lib.local_pre_dump(o);
    break;
  case CRIU_OP_RESTORE:
    ret = lib.local_restore_child(o);
    break;
  }
  int saved = errno;
  active = NULL;
  disarm_timeout(r->timeout, &old_sa);
  lib.local_free_opts(o);
  if (ret < 0 || timed_out) {
    silo_log_debug("criu %s: libcriu returned %d (errno %d)", op_name(r->op), ret, saved);
    /* A restore that timed out after the init was made: it was killed with the rest. */
    if (r->op == CRIU_OP_RESTORE && ret > 0 && pid) *pid = ret;
    return fail(r, ret < 0 ? ret : -ETIMEDOUT, err);
  }
  if (r->op == CRIU_OP_RESTORE && pid) *pid = ret;
  return 0;
}

int
criu_version(const char *criu, char *buf, size_t len, struct silo_error *err)
{
  if (criu_lib_load(err) < 0) return -1;
  criu_opts *o = NULL;
  if (lib.local_init_opts(&o) < 0) return silo_err(err, ENOMEM, "criu: init options");
  lib.local_set_service_binary(o, criu ? criu : "criu");
  struct sigaction old_sa;
  arm_timeout(30, &old_sa);
  int v = lib.local_get_version(o);
  disarm_timeout(30, &old_sa);
  lib.local_free_opts(o);
  if (v < 0) return silo_err(err, -v, "criu `%s`: cannot get its version", criu ? criu : "criu");
  snprintf(buf, len, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
  return v;
}
