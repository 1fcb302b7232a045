/* silo lib/: `silo sandbox` — one command in a throw-away, hardened container made
 * from an image or a directory (see sandbox.h for the layout on disk).
 *
 *   1. every option is checked, the capability set computed and a --seccomp file
 *      read: nothing exists yet;
 *   2. stale sandboxes are cleaned, the bundle directory <run> is made with our pid
 *      and start time in it, and the watchdog forked (lib/sandbox/clean.c);
 *   3. the --timeout clock starts (reading an image counts: it is untrusted input);
 *      the image's layers are unpacked into the cache if missing (image.c), under a
 *      shared lock that --prune takes exclusively;
 *   4. a private mount namespace with the overlay root (lib/sandbox/mount.c);
 *   5. the process is resolved in that root, the default seccomp profile rendered
 *      and config.json written (lib/sandbox/config.c), then silo_run does the rest
 *      as for any container: the foreground relay, signals, the tty, the exit code,
 *      and the delete;
 *   6. dismiss the watchdog (the container is gone), unmount, remove the bundle, reap
 *      the watchdog.
 * Hardening by default: every namespace (pid, net, ipc, uts, mount, cgroup, and user
 * where the layers can be idmapped), Docker's capability set and seccomp profile,
 * no_new_privs, read-only lower layers, nodev on the root.
 * An unprivileged caller gets the same in a user namespace of the sandbox's own,
 * entered between steps 1 and 2 (lib/sandbox/rootless.c).
 */
#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/base/base.h"
#include "lib/image/image.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"
#include "lib/sandbox/sandbox.h"
#include "lib/silo.h"

/* Docker's default capabilities (moby oci/caps/defaults.go). */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

static void
caps_remove(struct sandbox *sb, const char *cap)
{
  for (size_t i = 0; i < sb->n_caps; i++) {
    if (strcmp(sb->caps[i], cap) != 0) continue;
    free(sb->caps[i]);
    sb->caps[i] = sb->caps[--sb->n_caps];
    return;
  }
}

static void
caps_add(struct sandbox *sb, const char *cap)
{
  for (size_t i = 0; i < sb->n_caps; i++)
    if (strcmp(sb->caps[i], cap) == 0) return;
  sb->caps = xrealloc(sb->caps, (sb->n_caps + 2) * sizeof *sb->caps);
  sb->caps[sb->n_caps++] = xstrdup(cap);
  sb->caps[sb->n_caps] = NULL;
}

static int
check_caps(struct sandbox *sb, struct silo_error *err)
{
  const struct silo_sandbox_opts *o = sb->o;
  for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++) caps_add(sb, default_caps[i]);
  for (size_t i = 0; i < o->n_cap_drop; i++) {
    _cleanup_free_ char *c = sandbox_cap_name(o->cap_drop[i], err);
    if (!c) return silo_err_wrap(err, "--cap-drop");
    if (strcmp(c, "ALL") != 0) {
      caps_remove(sb, c);
      continue;
    }
    while (sb->n_caps) free(sb->caps[--sb->n_caps]);
  }
  for (size_t i = 0; i < o->n_cap_add; i++) {
    _cleanup_free_ char *c = sandbox_cap_name(o->cap_add[i], err);
    if (!c) return silo_err_wrap(err, "--cap-add");
    if (strcmp(c, "ALL") != 0) {
      caps_add(sb, c);
      continue;
    }
    /* Every capability this kernel knows. */
    _cleanup_free_ char *last = NULL;
    struct silo_error e = {0};
    int n = fs_read_file("/proc/sys/kernel/cap_last_cap", &last, NULL, &e) == 0 ? atoi(last) : 40;
    for (int k = 0; k <= n && k < 64; k++) {
      const char *name = capng_capability_to_name((unsigned)k);
      _cleanup_free_ char *full = name ? sandbox_cap_name(name, &e) : NULL;
      if (full) caps_add(sb, full);
    }
  }
  return 0;
}

static char *
absolute(const char *path)
{
  if (path[0] == '/') return xstrdup(path);
  char cwd[PATH_MAX];
  return getcwd(cwd, sizeof cwd) ? xasprintf("%s/%s", cwd, path) : xstrdup(path);
}

/* Step 1: everything that can be checked without making anything. */
static int
check_options(struct sandbox *sb, struct silo_error *err)
{
  const struct silo_sandbox_opts *o = sb->o;
  char buf[PATH_MAX];
  struct stat st;
  if (!o->image == !o->rootfs) return silo_err(err, EINVAL, "give one of --image and --rootfs");
  if (o->rootfs) {
    if (!realpath(o->rootfs, buf) || stat(buf, &st) < 0)
      return silo_err(err, errno, "--rootfs `%s`", o->rootfs);
    if (!S_ISDIR(st.st_mode)) return silo_err(err, ENOTDIR, "--rootfs `%s`", o->rootfs);
    sb->rootfs = xstrdup(buf);
  }
  if (o->keep_changes) {
    sb->keep = absolute(o->keep_changes);
    /* The path goes into the overlay's mount options. */
    if (strpbrk(sb->keep, ",:\\"))
      return silo_err(err, EINVAL, "--keep-changes `%s`: no `,`, `:` or `\\` allowed", sb->keep);
  }
  sb->binds = xcalloc(o->n_binds + 1, sizeof *sb->binds);
  for (size_t i = 0; i < o->n_binds; i++) {
    struct sandbox_bind *b = &sb->binds[i];
    if (sandbox_parse_bind(o->binds[i], b, err) < 0) return silo_err_wrap(err, "--bind");
    sb->n_binds++; /* freed by sandbox_free from here on */
    if (!realpath(b->src, buf)) return silo_err(err, errno, "--bind: `%s`", b->src);
    free(b->src);
    b->src = xstrdup(buf);
  }
  for (size_t i = 0; i < o->n_tmpfs; i++)
    if (o->tmpfs[i][0] != '/')
      return silo_err(err, EINVAL, "--tmpfs `%s`: not absolute", o->tmpfs[i]);
  if (o->memory && sandbox_parse_size(o->memory, &sb->memory, err) < 0)
    return silo_err_wrap(err, "--memory");
  if (o->cpus && sandbox_parse_cpus(o->cpus, &sb->cpu_quota, &sb->cpu_period, err) < 0)
    return silo_err_wrap(err, "--cpus");
  if (o->pids) {
    uint32_t n, g;
    bool has;
    if (creds_parse_ids(o->pids, &n, &g, &has) < 0 || has || n == 0)
      return silo_err(err, EINVAL, "--pids `%s`: not a positive number", o->pids);
    sb->pids = n;
  }
  if (o->timeout && sandbox_parse_duration(o->timeout, &sb->timeout_ms, err) < 0)
    return silo_err_wrap(err, "--timeout");
  if (o->network && strcmp(o->network, "none") != 0 && strcmp(o->network, "bridge") != 0)
    return silo_err(err, EINVAL, "--network `%s`: none or bridge", o->network);
  if (o->hostname && (!*o->hostname || strlen(o->hostname) > 64 ||
                      strspn(o->hostname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789.-") != strlen(o->hostname)))
    return silo_err(err, EINVAL, "--hostname `%s`: not a host name", o->hostname);
  if (o->user && !*o->user) return silo_err(err, EINVAL, "--user: empty");
  if (check_caps(sb, err) < 0) return -1;
  /* A profile file is input: checked now.  The default profile is rendered in step
   * 5 (default_seccomp), after the watchdog's fork: the JSON it allocates would
   * otherwise be shared copy-on-write with the watchdog, and every page of it
   * written or freed later copied. */
  if (o->seccomp && strcmp(o->seccomp, "default") != 0 && strcmp(o->seccomp, "unconfined") != 0 &&
      !(sb->seccomp = sandbox_seccomp_file(o->seccomp, sb->caps, sb->n_caps, err)))
    return silo_err_wrap(err, "--seccomp");
  sb->terminal = isatty(STDIN_FILENO) == 1;
  return 0;
}

/* Step 2: the sandbox's directories, its id and its bundle. */
static int
make_bundle_dir(struct sandbox *sb, struct silo_error *err)
{
  char root[PATH_MAX];
  if ((sb->rootfd = state_root_open(sb->ctx, err)) < 0) return -1;
  if (!realpath(sb->ctx->root, root)) return silo_err(err, errno, "state root `%s`", sb->ctx->root);
  /* 0711 whatever the umask: a container with a user namespace walks through to its
   * rootfs (and nobody can list what is there). */
  if (mkdirat(sb->rootfd, ".sandbox", 0711) < 0 && errno != EEXIST)
    return silo_err(err, errno, "create `%s/.sandbox`", root);
  if (fchmodat(sb->rootfd, ".sandbox", 0711, 0) < 0)
    return silo_err(err, errno, "chmod `%s/.sandbox`", root);
  _cleanup_close_ int sbfd =
      openat(sb->rootfd, ".sandbox", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sbfd < 0) return silo_err(err, errno, "open `%s/.sandbox`", root);
  if (mkdirat(sbfd, "run", 0711) < 0 && errno != EEXIST)
    return silo_err(err, errno, "create `%s/.sandbox`", root);
  if (fchmodat(sbfd, "run", 0711, 0) < 0)
    return silo_err(err, errno, "chmod `%s/.sandbox/run`", root);
  sb->dir = xasprintf("%s/.sandbox", root);
  if (sandbox_cache_dirs(sb, true, err) < 0) return -1;
  sandbox_clean_stale(sb->ctx, sbfd, sb->layers);

  uint32_t rnd = 0;
  if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) rnd = (uint32_t)time(NULL) ^ (uint32_t)getpid();
  snprintf(sb->id, sizeof sb->id, SANDBOX_ID_PREFIX "%d-%08x", (int)getpid(), rnd);
  sb->run = xasprintf("%s/run/%s", sb->dir, sb->id);
  if (mkdir(sb->run, 0711) < 0 || chmod(sb->run, 0711) < 0)
    return silo_err(err, errno, "create `%s`", sb->run);
  _cleanup_close_ int runfd = open(sb->run, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  unsigned long long start = 0;
  char owner[64];
  if (runfd < 0 || fs_proc_stat(getpid(), NULL, &start) < 0)
    return silo_err(err, errno ? errno : EIO, "sandbox `%s`", sb->id);
  int n = snprintf(owner, sizeof owner, "%d %llu\n", (int)getpid(), start);
  if (fs_write_file_atomic(runfd, "owner", owner, (size_t)n, err) < 0) return -1;
  silo_log_debug("sandbox `%s`: bundle %s", sb->id, sb->run);
  return 0;
}

/* Step 3. */
static int
prepare_image(struct sandbox *sb, struct silo_error *err)
{
  if (!sb->o->image) {
    sb->lowers = (const char *const *)&sb->rootfs;
    sb->n_lowers = 1;
    return 0;
  }
  _cleanup_free_ char *lock = xasprintf("%s/layers.lock", sb->cache);
  sb->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (sb->lock_fd < 0) return silo_err(err, errno, "open `%s`", lock);
  /* Shared: sandboxes run side by side; --prune waits for none of them. */
  while (flock(sb->lock_fd, LOCK_SH) < 0)
    if (errno != EINTR) return silo_err(err, errno, "lock `%s`", lock);
  /* Rootless: we are root of the sandbox's user namespace, which maps id_count ids. */
  struct image_unpack_opts uo = {.id_count = sb->rootless ? sb->id_count : 0,
                                 .userxattr = sb->rootless,
                                 .cancel = sb->timed_out};
  /* The parsed images beside the layers: a cached image starts without its archive
   * being read (lib/image/cache.c). */
  _cleanup_free_ char *index = xasprintf("%s/images", sb->cache);
  if (image_prepare(sb->o->image, sb->layers, index, &uo, &sb->img, err) < 0) return -1;
  if (!sb->img.n_layers) return silo_err(err, EINVAL, "image `%s`: it has no layers", sb->o->image);
  sb->lowers = (const char *const *)sb->img.layers;
  sb->n_lowers = sb->img.n_layers;
  return 0;
}

/* After a --timeout: the message, exit code 124 (and no error): true. */
static bool
timed_out(struct sandbox *sb, int *exit_code, struct silo_error *err)
{
  if (!*sb->timed_out) return false;
  char d[64];
  sandbox_format_duration(sb->timeout_ms, d, sizeof d);
  silo_log_error("silo: sandbox: timed out after %s", d);
  *exit_code = SILO_SANDBOX_TIMEOUT;
  silo_err_clear(err);
  return true;
}

/* Step 5. */
static int
run(struct sandbox *sb, int *exit_code, struct silo_error *err)
{
  if (sandbox_process(sb, exit_code, err) < 0) return -1;
  if ((!sb->o->seccomp || strcmp(sb->o->seccomp, "default") == 0) &&
      !(sb->seccomp = sandbox_seccomp_default(sb->caps, sb->n_caps, err)))
    return silo_err_wrap(err, "--seccomp");
  _cleanup_free_ char *json = sandbox_config_json(sb, err);
  if (!json) return -1;
  _cleanup_close_ int runfd = open(sb->run, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (runfd < 0 || fs_write_file_atomic(runfd, "config.json", json, strlen(json), err) < 0)
    return runfd < 0 ? silo_err(err, errno, "open `%s`", sb->run) : -1;
  silo_log_debug("sandbox `%s`: %s, %zu layer(s), user namespace: %s", sb->id,
                 sb->o->image ? sb->o->image : sb->rootfs, sb->n_lowers,
                 sb->rootless ? "the sandbox's (rootless)"
                 : sb->userns ? "yes"
                              : "no");
  struct silo_create_opts co = {.id = sb->id, .bundle = sb->run, .network = sb->o->network};
  int code = 0;
  /* Timed out while the image was read: the container is not even made. */
  int r = *sb->timed_out ? -1 : silo_run(sb->ctx, &co, &code, err);
  if (timed_out(sb, exit_code, err)) return 0;
  if (r < 0) return -1;
  *exit_code = code;
  return 0;
}

static void
sandbox_free(struct sandbox *sb)
{
  for (size_t i = 0; i < sb->n_binds; i++) free(sb->binds[i].src), free(sb->binds[i].dst);
  free(sb->binds);
  for (size_t i = 0; i < sb->n_caps; i++) free(sb->caps[i]);
  free(sb->caps);
  for (size_t i = 0; i < sb->n_args; i++) free(sb->args[i]);
  free(sb->args);
  for (size_t i = 0; i < sb->n_env; i++) free(sb->env[i]);
  free(sb->env);
  free(sb->gids);
  free(sb->cwd);
  json_decref(sb->seccomp);
  image_free(&sb->img);
  free(sb->rootfs);
  free(sb->keep);
  free(sb->merged);
  free(sb->run);
  free(sb->dir);
  free(sb->cache);
  free(sb->layers);
  free(sb->cgroup_parent);
  if (sb->lock_fd >= 0) close(sb->lock_fd);
  if (sb->rootfd >= 0) close(sb->rootfd);
}

int
silo_sandbox(struct silo_context *ctx, const struct silo_sandbox_opts *o, int *exit_code,
             struct silo_error *err)
{
  static int no_timeout;
  struct sandbox sb = {
      .ctx = ctx, .o = o, .rootfd = -1, .lock_fd = -1, .wd_fd = -1, .timed_out = &no_timeout};
  *exit_code = SILO_SANDBOX_FAILED;
  int r = -1;
  if (check_options(&sb, err) < 0) goto out;
  if (geteuid() != 0 && sandbox_rootless_check(&sb, err) < 0) goto out;
  /* A container that may hold CAP_SYS_PTRACE without a user namespace makes
   * silo_run re-execute silo from a sealed copy (cloned.c); that must happen now,
   * before the watchdog and the mounts exist, not half-way. */
  struct container_plan probe;
  plan_init(&probe);
  probe.pidns = true; /* the sandbox's: its own pid namespace, maybe no user namespace */
  struct capsets ptrace = {.bounding = 1ULL << CAP_SYS_PTRACE};
  for (size_t i = 0; i < sb.n_caps; i++)
    if (strcmp(sb.caps[i], "CAP_SYS_PTRACE") == 0 && cloned_needed(&probe, &ptrace, true) &&
        cloned_reexec(err) < 0)
      goto out;
  if (sb.rootless && sandbox_rootless_enter(&sb, err) < 0) goto out;
  /* The --timeout clock starts before the image is read: an image is untrusted
   * input, and reading it (a huge or slow archive) counts against the time given. */
  if (make_bundle_dir(&sb, err) == 0 && sandbox_watchdog_start(&sb, err) == 0) {
    sandbox_watchdog_arm(&sb);
    if (prepare_image(&sb, err) == 0 && sandbox_mount(&sb, err) == 0)
      r = run(&sb, exit_code, err);
    else if (timed_out(&sb, exit_code, err))
      r = 0;
  }

  /* Step 6.  The container is deleted (silo_run) or was never made: the watchdog
   * exits while we unmount and remove the bundle (a silo killed meanwhile leaves a
   * bundle of plain directories, which the next sandbox's stale cleanup removes), and
   * is reaped last, without waiting for it to be scheduled. */
  sandbox_watchdog_dismiss(&sb);
  sandbox_umount(&sb);
  if (sb.dir) {
    _cleanup_free_ char *rundir = xasprintf("%s/run", sb.dir);
    _cleanup_close_ int runfd = open(rundir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (runfd >= 0 && sandbox_remove_run(runfd, sb.id) < 0 && r == 0)
      r = silo_err(err, ENOTEMPTY, "sandbox `%s`: could not remove %s", sb.id, sb.run);
  }
  sandbox_watchdog_stop(&sb);
  if (sb.timed_out != &no_timeout) munmap((void *)sb.timed_out, sizeof(int));
out:
  sandbox_free(&sb);
  return r < 0 ? silo_err_wrap(err, "sandbox") : 0;
}

static int
prune(struct sandbox *sb, size_t *n_layers, struct silo_error *err)
{
  /* Rootless: in the same user namespace as a sandbox, to remove what it unpacked. */
  if (geteuid() != 0 &&
      (sandbox_rootless_check(sb, err) < 0 || sandbox_rootless_enter(sb, err) < 0))
    return -1;
  char root[PATH_MAX];
  _cleanup_close_ int rootfd = state_root_open(sb->ctx, err);
  if (rootfd < 0) return -1;
  if (!realpath(sb->ctx->root, root)) return silo_err(err, errno, "state root `%s`", sb->ctx->root);
  sb->dir = xasprintf("%s/.sandbox", root);
  if (sandbox_cache_dirs(sb, false, err) < 0) return -1;
  _cleanup_close_ int sbfd =
      openat(rootfd, ".sandbox", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sbfd < 0 && errno != ENOENT) return silo_err(err, errno, "open `%s`", sb->dir);
  if (sbfd >= 0) sandbox_clean_stale(sb->ctx, sbfd, sb->layers);
  _cleanup_close_ int cfd = open(sb->cache, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cfd < 0) return errno == ENOENT ? 0 : silo_err(err, errno, "open `%s`", sb->cache);
  _cleanup_close_ int lock = openat(cfd, "layers.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) return silo_err(err, errno, "open `%s/layers.lock`", sb->cache);
  if (flock(lock, LOCK_EX | LOCK_NB) < 0)
    return silo_err(err, errno == EWOULDBLOCK ? EBUSY : errno,
                    "the layer cache is in use by a running sandbox");
  /* layers/ (root) or layers-<mapping>/ (rootless: one per id mapping, see
   * lib/sandbox/rootless.c; those of other mappings go entirely). */
  const char *current = strrchr(sb->layers, '/') + 1;
  DIR *top = fdopendir(dup(cfd));
  if (!top) return silo_err(err, errno, "read `%s`", sb->cache);
  int r = 0;
  for (struct dirent *te; r == 0 && (te = readdir(top));) {
    /* The images' index records (they name layers that go now). */
    if (strcmp(te->d_name, "images") == 0 && fs_rm_rf_at(cfd, te->d_name, err) < 0) {
      r = silo_err_wrap(err, "remove the image index records");
      break;
    }
    if (strcmp(te->d_name, "layers") != 0 && strncmp(te->d_name, "layers-", 7) != 0) continue;
    _cleanup_close_ int lfd =
        openat(cfd, te->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = lfd >= 0 ? fdopendir(dup(lfd)) : NULL;
    if (!d) continue;
    for (struct dirent *de; (de = readdir(d));) {
      if (de->d_name[0] == '.') continue;
      if (fs_rm_rf_at(lfd, de->d_name, err) < 0) {
        r = silo_err_wrap(err, "remove layer of %s", te->d_name);
        break;
      }
      if (strncmp(de->d_name, "tmp-", 4) != 0) (*n_layers)++;
    }
    closedir(d);
    if (r == 0 && strcmp(te->d_name, current) != 0 && unlinkat(cfd, te->d_name, AT_REMOVEDIR) < 0)
      r = silo_err(err, errno, "remove `%s/%s`", sb->cache, te->d_name);
  }
  closedir(top);
  return r;
}

int
silo_sandbox_prune(struct silo_context *ctx, size_t *n_layers, struct silo_error *err)
{
  static const struct silo_sandbox_opts none = {0};
  static int no_timeout;
  struct sandbox sb = {
      .ctx = ctx, .o = &none, .rootfd = -1, .lock_fd = -1, .wd_fd = -1, .timed_out = &no_timeout};
  *n_layers = 0;
  int r = prune(&sb, n_layers, err);
  sandbox_free(&sb);
  return r < 0 ? silo_err_wrap(err, "sandbox --prune") : 0;
}
