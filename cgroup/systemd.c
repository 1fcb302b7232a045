/* silo cgroup/: the systemd cgroup driver (--systemd-cgroup, --cgroup-manager systemd).
 *
 * systemd owns the cgroup tree of a host it runs: the container's cgroup is a
 * transient unit asked for over the system bus (sd-bus), not a mkdir.
 * linux.cgroupsPath has runc's form "slice:prefix:name":
 *   "system.slice:silo:abc" -> scope "silo-abc.scope" in system.slice, i.e. the
 *                              cgroup /system.slice/silo-abc.scope;
 *   an empty slice is system.slice, an empty prefix gives "<name>.scope";
 *   a name ending in ".slice" makes the container's cgroup that (transient) slice;
 *   no cgroupsPath at all is "system.slice:silo:<id>".
 * The scope is started with Delegate=yes, so everything below and inside it is
 * silo's, and the rest of the module treats it like any other cgroup: limits are
 * written to its files (as runc does after starting the unit), the eBPF device
 * filter is attached to it, and on delete the unit is stopped (StopUnit), which
 * removes the directory.
 *
 * A scope cannot start empty, but the container process does not exist yet when
 * the cgroup is created (it is cloned straight into it).  So the scope starts
 * with a placeholder: a child of silo blocked on a pipe, released once the
 * container process is in (cgroup_enter) or when the handle is freed.  On a
 * failed create the placeholder goes, the scope is empty and systemd removes it.
 */
#include "cgroup/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dlfcn.h>
#include <systemd/sd-bus.h>

/* libsystemd is opened only when the systemd manager is used: every other command
 * keeps its start-up free of it and of what it pulls in (libgcrypt, lz4, zstd...),
 * which cost each silo invocation ~1 ms and 1.5 MiB of RSS.  The names below are
 * redirected to a table filled by dlsym, so the code reads as plain sd-bus. */
/* clang-format off */
#define SD_FUNCS(X) X(sd_bus_call) X(sd_bus_call_method) X(sd_bus_error_free) X(sd_bus_error_get_errno) X(sd_bus_error_is_set) X(sd_bus_flush_close_unref) X(sd_bus_match_signal) X(sd_bus_message_append) X(sd_bus_message_close_container) X(sd_bus_message_new_method_call) X(sd_bus_message_open_container) X(sd_bus_message_read) X(sd_bus_message_unref) X(sd_bus_open_system) X(sd_bus_process) X(sd_bus_slot_unref) X(sd_bus_wait)
/* clang-format on */
#define SD_PTR(n) __typeof__(n) *p_##n;
static struct {
  SD_FUNCS(SD_PTR)
} libsd;
#undef SD_PTR

static int
sd_load(struct silo_error *err)
{
  static void *lib;
  if (lib) return 0;
  void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return silo_err(err, ENOENT, "systemd cgroup manager: cannot load libsystemd: %s", dlerror());
#define SD_SYM(n)                                                                                  \
  if (!(libsd.p_##n = (__typeof__(libsd.p_##n))dlsym(h, #n))) {                                    \
    dlclose(h);                                                                                    \
    return silo_err(err, ENOENT, "systemd cgroup manager: libsystemd lacks %s", #n);               \
  }
  SD_FUNCS(SD_SYM)
#undef SD_SYM
  lib = h;
  return 0;
}

/* clang-format off */
#define sd_bus_call (*libsd.p_sd_bus_call)
#define sd_bus_call_method (*libsd.p_sd_bus_call_method)
#define sd_bus_error_free (*libsd.p_sd_bus_error_free)
#define sd_bus_error_get_errno (*libsd.p_sd_bus_error_get_errno)
#define sd_bus_error_is_set (*libsd.p_sd_bus_error_is_set)
#define sd_bus_flush_close_unref (*libsd.p_sd_bus_flush_close_unref)
#define sd_bus_match_signal (*libsd.p_sd_bus_match_signal)
#define sd_bus_message_append (*libsd.p_sd_bus_message_append)
#define sd_bus_message_close_container (*libsd.p_sd_bus_message_close_container)
#define sd_bus_message_new_method_call (*libsd.p_sd_bus_message_new_method_call)
#define sd_bus_message_open_container (*libsd.p_sd_bus_message_open_container)
#define sd_bus_message_read (*libsd.p_sd_bus_message_read)
#define sd_bus_message_unref (*libsd.p_sd_bus_message_unref)
#define sd_bus_open_system (*libsd.p_sd_bus_open_system)
#define sd_bus_process (*libsd.p_sd_bus_process)
#define sd_bus_slot_unref (*libsd.p_sd_bus_slot_unref)
#define sd_bus_wait (*libsd.p_sd_bus_wait)

#define SD_DEST  "org.freedesktop.systemd1"
#define SD_PATH  "/org/freedesktop/systemd1"
#define SD_IFACE "org.freedesktop.systemd1.Manager"
/* clang-format on */
/* How long a start or stop job may take. */
#define JOB_TIMEOUT_US (30 * 1000000ULL)

struct cg_systemd {
  char *unit;
  pid_t helper;  /* the placeholder process, 0 when none */
  int helper_fd; /* write end of its pipe */
};

/* ---- names (pure) ---- */

static bool
valid_unit_chars(const char *s)
{
  if (!*s || strlen(s) > 200) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr(":-_.@\\", *s)))
      return false;
  return true;
}

/* "a-b.slice" -> "/a.slice/a-b.slice" (each dash-separated prefix is a parent
 * slice); "-.slice", the root slice, is "". */
static int
slice_path(const char *slice, char **out, struct silo_error *err)
{
  size_t n = strlen(slice);
  *out = NULL;
  if (n < 6 || strcmp(slice + n - 6, ".slice") != 0 || !valid_unit_chars(slice))
    return silo_err(err, EINVAL, "\"%s\" is not a slice unit name", slice);
  if (strcmp(slice, "-.slice") == 0) {
    *out = xstrdup("");
    return 0;
  }
  n -= 6; /* the name without ".slice" */
  if (slice[0] == '-' || slice[n - 1] == '-' || memmem(slice, n, "--", 2))
    return silo_err(err, EINVAL, "\"%s\" is not a valid slice name", slice);
  char *p = xmalloc(2 * n * (n + 7) + 1), *w = p;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && slice[i] != '-') continue;
    w += sprintf(w, "/%.*s.slice", (int)i, slice);
  }
  *out = p;
  return 0;
}

int
cgroup_systemd_parse(const char *id, const char *path, char **unit, char **slice, char **cgpath,
                     struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL, *sp = NULL;
  const char *parent, *prefix, *name;

  *unit = *slice = *cgpath = NULL;
  if (!path || !*path) {
    if (!id || !*id) return silo_err(err, 0, "cgroup: no container id for the default unit");
    buf = xasprintf("system.slice:silo:%s", id);
  } else {
    buf = xstrdup(path);
  }
  char *c1 = strchr(buf, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (!c2 || strchr(c2 + 1, ':'))
    return silo_err(err, EINVAL,
                    "linux.cgroupsPath \"%s\": the systemd cgroup manager expects "
                    "\"slice:prefix:name\"",
                    path);
  *c1 = *c2 = '\0';
  parent = *buf ? buf : "system.slice";
  prefix = c1 + 1;
  name = c2 + 1;
  if (!*name) return silo_err(err, EINVAL, "linux.cgroupsPath \"%s\": no name", path);
  size_t nl = strlen(name);
  if (nl > 6 && strcmp(name + nl - 6, ".slice") == 0) {
    /* The container's cgroup is a slice of its own; its place follows from its name. */
    if (slice_path(name, &sp, err) < 0) return silo_err_wrap(err, "linux.cgroupsPath");
    *unit = xstrdup(name);
    *cgpath = steal_ptr(&sp);
    return 0;
  }
  if (slice_path(parent, &sp, err) < 0) return silo_err_wrap(err, "linux.cgroupsPath");
  _cleanup_free_ char *u =
      *prefix ? xasprintf("%s-%s.scope", prefix, name) : xasprintf("%s.scope", name);
  if (!valid_unit_chars(u))
    return silo_err(err, EINVAL, "linux.cgroupsPath \"%s\": \"%s\" is not a valid unit name",
                    path ? path : "", u);
  *cgpath = xasprintf("%s/%s", sp, u);
  *unit = steal_ptr(&u);
  *slice = xstrdup(parent);
  return 0;
}

/* ---- the bus ---- */

static int
bus_open(sd_bus **bus, struct silo_error *err)
{
  if (sd_load(err) < 0) return -1;
  int r = sd_bus_open_system(bus);
  if (r < 0) return silo_err(err, -r, "systemd cgroup manager: no system bus");
  return 0;
}

static int
bus_err(struct silo_error *err, int r, const sd_bus_error *e, const char *what, const char *unit)
{
  if (e && sd_bus_error_is_set(e))
    return silo_err(err, sd_bus_error_get_errno(e), "systemd: %s %s: %s", what, unit,
                    e->message ? e->message : e->name);
  return silo_err(err, -r, "systemd: %s %s", what, unit);
}

struct job_wait {
  const char *job; /* object path of the job to wait for */
  char *result;    /* its result once removed */
};

static int
on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  struct job_wait *w = userdata;
  uint32_t id;
  const char *job, *unit, *result;
  (void)ret_error;
  if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
  if (w->job && !w->result && strcmp(job, w->job) == 0) w->result = xstrdup(result);
  return 0;
}

static uint64_t
now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* Sends `call` (a Manager method returning a job) and waits for the job's
 * JobRemoved signal.  0 with *result set ("done", "failed", ...), or -1. */
static int
run_job(sd_bus *bus, sd_bus_message *call, const char *what, const char *unit, char **result,
        struct silo_error *err)
{
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  sd_bus_slot *slot = NULL;
  struct job_wait w = {0};
  int r, ret = -1;

  *result = NULL;
  /* Matched before the call, so the signal cannot slip by. */
  r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_IFACE, "JobRemoved", on_job_removed, &w);
  if (r < 0) return bus_err(err, r, NULL, "subscribe to jobs of", unit);
  (void)sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_IFACE, "Subscribe", NULL, NULL, "");
  r = sd_bus_call(bus, call, JOB_TIMEOUT_US, &e, &reply);
  if (r < 0) {
    ret = bus_err(err, r, &e, what, unit);
    goto out;
  }
  if ((r = sd_bus_message_read(reply, "o", &w.job)) < 0) {
    ret = bus_err(err, r, NULL, what, unit);
    goto out;
  }
  for (uint64_t end = now_us() + JOB_TIMEOUT_US; !w.result;) {
    r = sd_bus_process(bus, NULL);
    if (r < 0) {
      ret = bus_err(err, r, NULL, what, unit);
      goto out;
    }
    if (r > 0) continue;
    uint64_t t = now_us();
    if (t >= end) {
      ret = silo_err(err, ETIMEDOUT, "systemd: %s %s: job %s did not finish", what, unit, w.job);
      goto out;
    }
    if ((r = sd_bus_wait(bus, end - t)) < 0) {
      ret = bus_err(err, r, NULL, what, unit);
      goto out;
    }
  }
  *result = steal_ptr(&w.result);
  ret = 0;
out:
  sd_bus_error_free(&e);
  sd_bus_message_unref(reply);
  sd_bus_slot_unref(slot);
  free(w.result);
  return ret;
}

/* ---- the placeholder process ---- */

static int
helper_start(struct cg_systemd *sd, struct silo_error *err)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return silo_err(err, errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return silo_err(err, e, "fork the scope's placeholder process");
  }
  if (pid == 0) {
    char c;
    /* It must not outlive silo: a placeholder left behind would keep the scope. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) _exit(1);
    /* Hold nothing of silo's open (state dir locks, the caller's stdio). */
    int nul = open("/dev/null", O_RDWR);
    if (p[0] != 3) dup2(p[0], 3);
    for (int fd = 0; fd < 3 && nul >= 0; fd++) dup2(nul, fd);
    syscall(SYS_close_range, 4, ~0U, 0);
    while (read(3, &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(p[0]);
  sd->helper = pid;
  sd->helper_fd = p[1];
  return 0;
}

void
cgroup_systemd_release(struct cg_systemd *sd)
{
  if (!sd || sd->helper <= 0) return;
  close(sd->helper_fd);
  kill(sd->helper, SIGKILL);
  while (waitpid(sd->helper, NULL, 0) < 0 && errno == EINTR) {
  }
  sd->helper = 0;
  sd->helper_fd = -1;
}

void
cgroup_systemd_free(struct cg_systemd *sd)
{
  if (!sd) return;
  cgroup_systemd_release(sd);
  free(sd->unit);
  free(sd);
}

/* The cgroup path of pid ("0::" line, else the name=systemd one), malloc'ed. */
static char *
pid_cgroup(pid_t pid)
{
  char dir[32];
  snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
  _cleanup_free_ char *text = cgroup_read_all(dir, "cgroup");
  if (!text) return NULL;
  for (const char *want = "0::";; want = ":name=systemd:") {
    const char *s = strstr(text, want);
    if (s && (s == text || s[-1] == '\n' || want[0] == ':')) {
      s += strlen(want);
      return strndup(s, strcspn(s, "\n"));
    }
    if (want[0] == ':') return NULL;
  }
}

/* ---- start, open, stop ---- */

/* StartTransientUnit(name, mode, properties, aux): a scope in `slice` holding
 * pid, or (slice NULL) a slice unit. */
static int
start_message(sd_bus *bus, sd_bus_message **m, const char *id, const char *unit, const char *slice,
              pid_t pid)
{
  _cleanup_free_ char *desc = xasprintf("silo container %s", id ? id : unit);
  int r = sd_bus_message_new_method_call(bus, m, SD_DEST, SD_PATH, SD_IFACE, "StartTransientUnit");
  if (r >= 0) r = sd_bus_message_append(*m, "ss", unit, "fail");
  if (r >= 0) r = sd_bus_message_open_container(*m, 'a', "(sv)");
  if (r >= 0) r = sd_bus_message_append(*m, "(sv)", "Description", "s", desc);
  /* Not stopped with the rest at shutdown ordering time: the runtime stops it. */
  if (r >= 0) r = sd_bus_message_append(*m, "(sv)", "DefaultDependencies", "b", 0);
  /* Accounting on: systemd enables these controllers down to the unit. */
  if (r >= 0) r = sd_bus_message_append(*m, "(sv)", "MemoryAccounting", "b", 1);
  if (r >= 0) r = sd_bus_message_append(*m, "(sv)", "CPUAccounting", "b", 1);
  if (r >= 0) r = sd_bus_message_append(*m, "(sv)", "IOAccounting", "b", 1);
  if (r >= 0) r = sd_bus_message_append(*m, "(sv)", "TasksAccounting", "b", 1);
  if (slice) {
    if (r >= 0) r = sd_bus_message_append(*m, "(sv)", "Slice", "s", slice);
    if (r >= 0) r = sd_bus_message_append(*m, "(sv)", "Delegate", "b", 1);
    if (r >= 0) r = sd_bus_message_append(*m, "(sv)", "PIDs", "au", 1, (uint32_t)pid);
  }
  if (r >= 0) r = sd_bus_message_close_container(*m);
  if (r >= 0) r = sd_bus_message_append(*m, "a(sa(sv))", 0);
  return r;
}

int
cgroup_systemd_start(const char *id, const char *path, struct cg_systemd **out, char **cgpath,
                     struct silo_error *err)
{
  _cleanup_free_ char *slice = NULL, *want = NULL, *result = NULL;
  sd_bus *bus = NULL;
  sd_bus_message *m = NULL;
  struct cg_systemd *sd = xcalloc(1, sizeof *sd);
  int r;

  *out = NULL;
  *cgpath = NULL;
  sd->helper_fd = -1;
  if (cgroup_systemd_parse(id, path, &sd->unit, &slice, &want, err) < 0) goto fail;
  if (bus_open(&bus, err) < 0) goto fail;
  if (slice && helper_start(sd, err) < 0) goto fail;
  if ((r = start_message(bus, &m, id, sd->unit, slice, sd->helper)) < 0) {
    bus_err(err, r, NULL, "start", sd->unit);
    goto fail;
  }
  if (run_job(bus, m, "start", sd->unit, &result, err) < 0) goto fail;
  if (strcmp(result, "done") != 0) {
    silo_err(err, 0, "systemd: start %s: job %s", sd->unit, result);
    goto fail;
  }
  /* Where systemd really put it: the placeholder's cgroup (a scope), or the path
   * its name gives (a slice), which must exist now. */
  if (slice) {
    *cgpath = pid_cgroup(sd->helper);
    if (!*cgpath || strcmp(*cgpath, want) != 0) {
      silo_err(err, 0, "systemd: %s started, but its process is in \"%s\", not \"%s\"", sd->unit,
               *cgpath ? *cgpath : "?", want);
      free(*cgpath);
      *cgpath = NULL;
      goto fail;
    }
  } else {
    *cgpath = steal_ptr(&want);
  }
  sd_bus_message_unref(m);
  sd_bus_flush_close_unref(bus);
  *out = sd;
  return 0;
fail:
  sd_bus_message_unref(m);
  sd_bus_flush_close_unref(bus);
  cgroup_systemd_free(sd);
  return -1;
}

struct cg_systemd *
cgroup_systemd_open(const char *cgpath)
{
  struct cg_systemd *sd = xcalloc(1, sizeof *sd);
  const char *base = strrchr(cgpath, '/');
  sd->unit = xstrdup(base ? base + 1 : cgpath);
  sd->helper_fd = -1;
  return sd;
}

int
cgroup_systemd_stop(struct cg_systemd *sd, struct silo_error *err)
{
  sd_bus_error e = SD_BUS_ERROR_NULL;
  _cleanup_free_ char *result = NULL;
  sd_bus *bus = NULL;
  sd_bus_message *m = NULL;
  int r, ret = 0;

  if (!sd) return 0;
  cgroup_systemd_release(sd);
  if (bus_open(&bus, err) < 0) return -1;
  r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_IFACE, "StopUnit");
  if (r >= 0) r = sd_bus_message_append(m, "ss", sd->unit, "replace");
  if (r < 0) {
    ret = bus_err(err, r, NULL, "stop", sd->unit);
  } else if (run_job(bus, m, "stop", sd->unit, &result, err) < 0) {
    /* Gone already: a scope goes by itself once its last process exited. */
    if (err->errnum == ENOENT || strstr(err->msg, "not loaded"))
      silo_err_clear(err);
    else
      ret = -1;
  } else if (strcmp(result, "done") != 0 && strcmp(result, "skipped") != 0) {
    ret = silo_err(err, 0, "systemd: stop %s: job %s", sd->unit, result);
  }
  /* A unit that failed would stay listed (and its name taken) until reset. */
  (void)sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_IFACE, "ResetFailedUnit", &e, NULL, "s",
                           sd->unit);
  sd_bus_error_free(&e);
  sd_bus_message_unref(m);
  sd_bus_flush_close_unref(bus);
  return ret;
}
