/* silo: the lifecycle commands — create, start, state, kill, delete, list, spec. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <regex.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/lifecycle/lifecycle.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

int
silo_create(struct silo_context *ctx, const struct silo_create_opts *o, struct silo_error *err)
{
  struct container_plan c;
  plan_init(&c);
  c.ctx = ctx;
  c.opts = o;
  c.mode = MODE_CREATE;
  c.id = o->id;
  int r = container_prepare(&c, err);
  if (r == 0 && (r = container_spawn(&c, err)) < 0) container_abort(&c);
  plan_free(&c);
  return r < 0 ? silo_err_wrap(err, "create `%s`", o->id) : 0;
}

/* Reads a container's state without locking it (state, kill, list). */
static int
open_state(struct silo_context *ctx, const char *id, int *rootfd, int *dirfd, struct silo_state *s,
           struct silo_error *err)
{
  if (state_validate_id(id, err) < 0) return -1;
  *rootfd = state_root_open(ctx, err);
  if (*rootfd < 0) return -1;
  *dirfd = openat(*rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (*dirfd < 0) {
    if (errno == ENOENT) return silo_err(err, ENOENT, "container `%s` does not exist", id);
    return silo_err(err, errno, "open state of `%s`", id);
  }
  if (state_read(*dirfd, s, err) < 0) {
    if (err->errnum == ENOENT) return silo_err(err, ENOENT, "container `%s` does not exist", id);
    return -1;
  }
  return 0;
}

int
silo_start(struct silo_context *ctx, const char *id, struct silo_error *err)
{
  _cleanup_close_ int rootfd = state_root_open(ctx, err);
  if (rootfd < 0 || state_validate_id(id, err) < 0) return silo_err_wrap(err, "start `%s`", id);
  _cleanup_close_ int dirfd = state_dir_lock(rootfd, id, err);
  if (dirfd < 0) return silo_err_wrap(err, "start `%s`", id);
  struct silo_state s;
  if (state_read(dirfd, &s, err) < 0) return silo_err_wrap(err, "start `%s`", id);

  int ret = -1;
  _cleanup_close_ int fifo = -1, pidfd = -1, nsock = -1;
  enum oci_status st = state_status(dirfd, &s);
  if (st != OCI_STATUS_CREATED) {
    silo_err(err, 0, "cannot start a container that is %s", oci_status_name(st));
    goto out;
  }
  /* The pidfd first: once the fifo is open the process may run, exit and be
   * reaped before we look, which would be no error at all. */
  pidfd = (int)syscall(SYS_pidfd_open, s.pid, 0);
  if (pidfd < 0) {
    silo_err(err, 0, "the container process exited before start");
    goto out;
  }
  /* sd-notify (create/notify.c): bound before the program can run. */
  if (notify_listen(dirfd, &nsock, err) < 0) goto out;
  /* Non-blocking open: we are the reader the container process waits for. */
  fifo = openat(dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0) {
    silo_err(err, errno, "open exec.fifo");
    goto out;
  }
  struct pollfd p[2] = {{.fd = fifo, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
  while (poll(p, 2, -1) < 0) {
    if (errno != EINTR) {
      silo_err(err, errno, "wait for the container process");
      goto out;
    }
  }
  char byte;
  if (!(p[0].revents & POLLIN) || read(fifo, &byte, 1) != 1) {
    silo_err(err, ESRCH, "the container process exited before start");
    goto out;
  }
  unlinkat(dirfd, "exec.fifo", 0);
  /* EOF on the fifo: the process closed it by execve (or died): poststart now. */
  fcntl(fifo, F_SETFL, 0);
  while (read(fifo, &byte, 1) > 0) {
  }

  struct silo_error herr = {0};
  struct oci_config *cfg = state_load_config(dirfd, &herr);
  if (cfg && cfg->hooks.n[OCI_HOOK_POSTSTART]) {
    _cleanup_free_ char *json = state_json(&s, cfg, OCI_STATUS_RUNNING, false);
    /* A failing poststart hook is a warning: the container runs on (runtime spec). */
    hooks_run_warn(cfg, OCI_HOOK_POSTSTART, json, dirfd, id);
  }
  if (cfg) oci_config_free(cfg);
  if (nsock >= 0) {
    /* As runc: `start` returns once the program said READY=1, relaying what it says
     * to the host's NOTIFY_SOCKET.  The lock goes first: kill, state and delete must
     * not wait for the program to be ready. */
    close_fd(&dirfd);
    if (notify_wait_ready(nsock, s.pid, pidfd, err) < 0) goto out;
  }
  ret = 0;
out:
  state_free(&s);
  return ret < 0 ? silo_err_wrap(err, "start `%s`", id) : 0;
}

/* What list and state show of a state directory without state.json (a create
 * killed before its first write, a delete killed while removing it): a container
 * with no process and an empty bundle, for the user to see and delete rather than
 * an invisible one (docs/reliability.md). */
static void
bare_state(const char *id, struct silo_state *s)
{
  *s = (struct silo_state){
      .id = xstrdup(id), .bundle = xstrdup(""), .rootfs = xstrdup(""), .created = xstrdup("")};
}

int
silo_state(struct silo_context *ctx, const char *id, char **json, struct silo_error *err)
{
  _cleanup_close_ int rootfd = -1, dirfd = -1;
  struct silo_state s = {0};
  enum oci_status st;
  if (open_state(ctx, id, &rootfd, &dirfd, &s, err) == 0) {
    st = state_status(dirfd, &s);
  } else if (dirfd >= 0 && err->errnum == ENOENT) {
    /* The directory is there, its state.json is not: shown as list shows it
     * (runc says "does not exist" and leaves the directory to a client that then
     * never deletes it). */
    silo_err_clear(err);
    state_free(&s);
    bare_state(id, &s);
    st = state_status_bare(dirfd);
  } else {
    state_free(&s);
    return silo_err_wrap(err, "state `%s`", id);
  }
  struct silo_error cerr = {0};
  struct oci_config *cfg = state_load_config(dirfd, &cerr);
  *json = state_json(&s, cfg, st, true);
  if (cfg) oci_config_free(cfg);
  state_free(&s);
  return 0;
}

int
silo_kill(struct silo_context *ctx, const char *id, int sig, bool all, struct silo_error *err)
{
  _cleanup_close_ int rootfd = -1, dirfd = -1;
  struct silo_state s = {0};
  int ret = -1;
  _cleanup_close_ int pidfd = -1;
  if (open_state(ctx, id, &rootfd, &dirfd, &s, err) < 0) goto out;
  enum oci_status st = state_status(dirfd, &s);
  /* A stopped container's cgroup may still hold processes (init's children,
   * when it had no pid namespace of its own): --all signals them, as runc does,
   * and succeeds when the cgroup is gone.  containerd's shim sends `kill --all
   * ID KILL` after every init exit and takes no other outcome for success. */
  if (st == OCI_STATUS_STOPPED && !all) {
    /* runc's words: containerd's shim matches "container not running". */
    silo_err(err, 0, "container not running");
    goto out;
  }
  if (all && s.cgroup_path && s.cgroup_manager != CGROUP_MANAGER_DISABLED) {
    struct cgroup *cg = NULL;
    if (cgroup_open(s.cgroup_path, s.cgroup_manager, &cg, err) < 0) goto out;
    if (st == OCI_STATUS_STOPPED && cgroup_check_exists(cg, err) < 0) {
      ret = err->errnum == ENOENT ? (silo_err_clear(err), 0) : -1;
      cgroup_free(cg);
      goto out;
    }
    ret = cgroup_signal_all(cg, sig, err);
    cgroup_free(cg);
    goto out;
  }
  if (st == OCI_STATUS_STOPPED) {
    silo_err(err, 0, "container not running");
    goto out;
  }
  /* pidfd first, then verify the start time: the signal cannot hit a recycled pid. */
  pidfd = (int)syscall(SYS_pidfd_open, s.pid, 0);
  unsigned long long start;
  if (pidfd < 0 || fs_proc_stat(s.pid, NULL, &start) < 0 || start != s.start_time) {
    silo_err(err, 0, "container not running");
    goto out;
  }
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
    silo_err(err, errno, "send signal %d", sig);
    goto out;
  }
  ret = 0;
out:
  state_free(&s);
  return ret < 0 ? silo_err_wrap(err, "kill `%s`", id) : 0;
}

int
silo_delete(struct silo_context *ctx, const char *id, bool force, struct silo_error *err)
{
  _cleanup_close_ int rootfd = state_root_open(ctx, err);
  if (rootfd < 0 || state_validate_id(id, err) < 0) return silo_err_wrap(err, "delete `%s`", id);
  _cleanup_close_ int dirfd = state_dir_lock(rootfd, id, err);
  if (dirfd < 0) {
    /* runc: --force on a missing container is not an error. */
    if (force && err->errnum == ENOENT) return silo_err_clear(err), 0;
    return silo_err_wrap(err, "delete `%s`", id);
  }
  struct silo_state s;
  if (state_read(dirfd, &s, err) < 0) {
    /* A create that died before writing its state: only the directory is left. */
    if (err->errnum == ENOENT) {
      state_dir_remove(rootfd, id, dirfd, NULL);
      return silo_err_clear(err), 0;
    }
    return silo_err_wrap(err, "delete `%s`", id);
  }
  int ret = 0;
  enum oci_status st = state_status(dirfd, &s);
  if (!force && (st == OCI_STATUS_RUNNING || st == OCI_STATUS_PAUSED))
    ret =
        silo_err(err, 0, "cannot delete a container that is %s (use --force)", oci_status_name(st));
  else
    ret = container_destroy(rootfd, dirfd, &s, NULL, NULL, err);
  state_free(&s);
  return ret < 0 ? silo_err_wrap(err, "delete `%s`", id) : 0;
}

struct names {
  char **v;
  size_t n;
};

static int
cmp_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One pass over the state root; returns how many names it added. */
static int
list_pass(int rootfd, struct names *ns, struct silo_error *err)
{
  int fd = dup(rootfd);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    int e = errno;
    if (fd >= 0) close(fd);
    return silo_err(err, e, "list: open the state root");
  }
  rewinddir(d); /* the dup shares rootfd's offset: start from the top every pass */
  int added = 0;
  struct dirent *de;
  while ((errno = 0, de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    bool known = false;
    for (size_t i = 0; i < ns->n && !known; i++) known = strcmp(ns->v[i], de->d_name) == 0;
    if (known) continue;
    ns->v = xrealloc(ns->v, (ns->n + 1) * sizeof *ns->v);
    ns->v[ns->n++] = xstrdup(de->d_name);
    added++;
  }
  int e = errno;
  closedir(d);
  return e ? silo_err(err, e, "list: read the state root") : added;
}

int
silo_list(struct silo_context *ctx, enum silo_list_format fmt, struct silo_error *err)
{
  _cleanup_close_ int rootfd = state_root_open(ctx, err);
  if (rootfd < 0) return silo_err_wrap(err, "list");
  /* The names first, in passes until one finds nothing new: a directory read while
   * other containers are created and deleted may miss an entry that was there all along
   * (ext4 may change how it orders a growing directory mid-read), and a live container
   * must never be left out.  Entries that vanish before they are read are skipped
   * below.  Sorted by name, as runc lists them. */
  struct names ns = {0};
  int r;
  for (int pass = 0; pass < 8 && (r = list_pass(rootfd, &ns, err)) != 0; pass++) {
    if (r < 0) {
      for (size_t i = 0; i < ns.n; i++) free(ns.v[i]);
      free(ns.v);
      return -1;
    }
  }
  if (ns.n) qsort(ns.v, ns.n, sizeof *ns.v, cmp_name);
  if (fmt == SILO_LIST_TABLE)
    printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
           "OWNER");
  if (fmt == SILO_LIST_JSON) printf("[");
  bool first = true;
  for (size_t i = 0; i < ns.n; i++) {
    _cleanup_close_ int dirfd = openat(rootfd, ns.v[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct silo_state s;
    struct silo_error e = {0};
    if (dirfd < 0) {
      /* Gone (deleted meanwhile): not a container to list.  Anything else is said,
       * not hidden. */
      if (errno != ENOENT && errno != ENOTDIR)
        silo_log_warn("list: `%s`: %s", ns.v[i], strerror(errno));
      continue;
    }
    enum oci_status st;
    if (state_read(dirfd, &s, &e) == 0) {
      st = state_status(dirfd, &s);
    } else if (e.errnum == ENOENT) {
      /* No state.json yet (or any more): still a container for the user to see and
       * delete, not an invisible one. */
      bare_state(ns.v[i], &s);
      st = state_status_bare(dirfd);
    } else {
      if (e.errnum != ENOTDIR) silo_log_warn("list: `%s`: %s", ns.v[i], e.msg);
      continue;
    }
    if (fmt == SILO_LIST_QUIET) {
      printf("%s\n", s.id);
    } else if (fmt == SILO_LIST_TABLE) {
      /* OWNER: whoever owns the container's state directory, as runc shows it. */
      struct stat dst;
      char owner[64] = "?";
      if (fstat(dirfd, &dst) == 0) {
        struct passwd pw, *res = NULL;
        char pwbuf[1024];
        if (getpwuid_r(dst.st_uid, &pw, pwbuf, sizeof pwbuf, &res) == 0 && res)
          snprintf(owner, sizeof owner, "%s", res->pw_name);
        else
          snprintf(owner, sizeof owner, "%u", (unsigned)dst.st_uid);
      }
      printf("%-12s %-8d %-10s %-40s %-30s %s\n", s.id, st == OCI_STATUS_STOPPED ? 0 : s.pid,
             oci_status_name(st), s.bundle, s.created, owner);
    } else {
      _cleanup_free_ char *json = state_json(&s, NULL, st, false);
      printf("%s%s", first ? "" : ",", json);
    }
    first = false;
    state_free(&s);
  }
  for (size_t i = 0; i < ns.n; i++) free(ns.v[i]);
  free(ns.v);
  if (fmt == SILO_LIST_JSON) printf("]\n");
  return 0;
}

int
silo_delete_regex(struct silo_context *ctx, const char *pattern, bool force, struct silo_error *err)
{
  regex_t re;
  int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char msg[256];
    regerror(rc, &re, msg, sizeof msg);
    return silo_err(err, EINVAL, "delete --regex `%s`: %s", pattern, msg);
  }
  _cleanup_close_ int rootfd = state_root_open(ctx, err);
  if (rootfd < 0) {
    regfree(&re);
    return silo_err_wrap(err, "delete --regex");
  }
  /* Every name in the state root that matches, as with crun; each is then deleted as
   * `delete ID` would (its own lock, its own checks), and one that cannot be is said
   * and does not stop the others: the first failure is the error. */
  struct names ns = {0};
  int r = 0, ret = 0;
  for (int pass = 0; pass < 8 && (r = list_pass(rootfd, &ns, err)) > 0; pass++) {
  }
  if (r < 0) ret = -1;
  for (size_t i = 0; r >= 0 && i < ns.n; i++) {
    if (regexec(&re, ns.v[i], 0, NULL, 0) != 0) continue;
    struct silo_error e = {0};
    if (silo_delete(ctx, ns.v[i], force, &e) == 0) continue;
    char buf[SILO_ERROR_MSG_MAX + 64];
    if (ret == 0)
      *err = e;
    else
      silo_log_warn("%s", silo_err_str(&e, buf, sizeof buf));
    ret = -1;
  }
  for (size_t i = 0; i < ns.n; i++) free(ns.v[i]);
  free(ns.v);
  regfree(&re);
  return ret;
}

int
silo_spec(const struct silo_spec_opts *o, struct silo_error *err)
{
  _cleanup_free_ char *path = xasprintf("%s/config.json", o->bundle ? o->bundle : ".");
  if (access(path, F_OK) == 0)
    return silo_err(err, EEXIST, "spec: `%s` exists: remove it first", path);
  struct oci_spec_opts so = {.rootless = o->rootless,
                             .terminal = !o->no_terminal,
                             .args = o->args,
                             .uid = getuid(),
                             .gid = getgid()};
  _cleanup_free_ char *json = oci_spec_default(&so);
  if (!json) return silo_err(err, ENOMEM, "spec: generate config.json");
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return silo_err(err, errno, "spec: create `%s`", path);
  size_t len = strlen(json);
  if (write(fd, json, len) != (ssize_t)len) return silo_err(err, errno, "spec: write `%s`", path);
  return 0;
}
