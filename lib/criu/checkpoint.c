/* silo: `checkpoint` — dump a running container with CRIU (runc's semantics).
 *
 *   1. lock the container, load its state and config
 *   2. tell CRIU what lies outside the container: every bind mount of the config
 *      (key = destination), masked files (/dev/null binds, key "/dev/null"), the
 *      device binds of a user-namespaced container, namespaces joined by path
 *      (net, pid: extRoot<TYPE>NS), and the init's stdio when it comes from the
 *      host (pipes are found by CRIU; files, ttys: --external file[..]/tty[..])
 *   3. dump (pre-dump / page server / lazy pages as asked)
 *   4. write silo-checkpoint.json into the image directory: what restore needs
 *      to map the stdio back and to recognise an image of another container
 *   5. --export: one archive; without --leave-running the container is then
 *      deleted (its processes are gone), as runc does
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "cgroup/cgroup.h"
#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"
#include "oci/oci.h"

static bool
mount_is_bind(const struct oci_mount *m)
{
  if (m->type && strcmp(m->type, "bind") == 0) return true;
  for (size_t i = 0; i < m->n_options; i++)
    if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0) return true;
  return false;
}

static int cgroup_mount_dump(const struct ckpt_mountinfo *m, void *arg);

static const char *const default_devices[] = {"/dev/null",   "/dev/zero",    "/dev/full",
                                              "/dev/random", "/dev/urandom", "/dev/tty"};

int
ckpt_ext_mounts(const struct oci_config *cfg, const char *bundle, pid_t pid, bool restore,
                struct criu_req *r, struct silo_error *err)
{
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    if (!mount_is_bind(m)) continue;
    if (!restore) {
      criu_req_mount(r, m->destination, m->destination);
      continue;
    }
    if (!m->source || !m->source[0])
      return silo_err(err, EINVAL, "mounts[%zu].source: missing for a bind mount", i);
    _cleanup_free_ char *src =
        m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", bundle, m->source);
    if (access(src, F_OK) < 0) return silo_err(err, errno, "mounts[%zu]: bind source `%s`", i, src);
    criu_req_mount(r, m->destination, src);
  }
  const struct oci_linux *l = cfg->linux;
  /* Masked files are binds of /dev/null: all share the key "/dev/null" (as runc). */
  for (size_t i = 0; l && i < l->n_masked_paths; i++) {
    if (restore) {
      criu_req_mount(r, "/dev/null", "/dev/null");
      break;
    }
    _cleanup_free_ char *p = xasprintf("/proc/%d/root%s", (int)pid, l->masked_paths[i]);
    struct stat st;
    if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
      criu_req_mount(r, l->masked_paths[i], "/dev/null");
  }
  if (!restore) ckpt_mountinfo_each(pid, cgroup_mount_dump, r);
  /* With a terminal, /dev/console is a bind of the pty (rootfs_console): external,
   * restore binds the new pty there (map_stdio in restore.c). */
  if (!restore && cfg->process && cfg->process->terminal)
    criu_req_mount(r, "/dev/console", "/dev/console");
  /* In a user namespace the device nodes are binds of the host's (devices.c). */
  const struct oci_namespace *userns = oci_config_namespace(cfg, OCI_NS_USER);
  if (userns && !userns->path) {
    for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
      criu_req_mount(r, default_devices[i], default_devices[i]);
    for (size_t i = 0; l && i < l->n_devices; i++)
      criu_req_mount(r, l->devices[i].path, l->devices[i].path);
  }
  return 0;
}

/* (criu.h) getline: a line of any length is one mount. */
int
ckpt_mountinfo_each(pid_t pid, int (*fn)(const struct ckpt_mountinfo *m, void *arg), void *arg)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mountinfo", (int)pid);
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  if (!f) return -1;
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    /* id parent major:minor root point options [optional...] - fstype source super-options */
    char *tok[6], *save = NULL, *t = strtok_r(line, " \n", &save);
    size_t n = 0;
    for (; t && n < 6; t = strtok_r(NULL, " \n", &save)) tok[n++] = t;
    struct ckpt_mountinfo m = {0};
    for (; t && strcmp(t, "-") != 0; t = strtok_r(NULL, " \n", &save)) m.propagates = true;
    m.fstype = t ? strtok_r(NULL, " \n", &save) : NULL;
    m.source = m.fstype ? strtok_r(NULL, " \n", &save) : NULL;
    m.sopts = m.source ? strtok_r(NULL, " \n", &save) : NULL;
    char *end;
    if (n < 6 || !m.sopts) continue;
    m.id = strtoull(tok[0], &end, 10);
    if (*end) continue;
    m.root = tok[3];
    m.point = tok[4];
    m.opts = tok[5];
    int r = fn(&m, arg);
    if (r) return r;
  }
  return 0;
}

/* Without a cgroup namespace the container's cgroup mounts are binds of its own
 * cgroup directories (rootfs.c), which CRIU cannot make from the image: they are
 * external too.  dump: every cgroup mount whose root is not "/" (key = its mount
 * point); restore: what the new container's cgroup gives, for every hierarchy
 * (keys the image does not use are ignored). */
static int
cgroup_mount_dump(const struct ckpt_mountinfo *m, void *arg)
{
  if ((strcmp(m->fstype, "cgroup") == 0 || strcmp(m->fstype, "cgroup2") == 0) &&
      strcmp(m->root, "/") != 0)
    criu_req_mount(arg, m->point, m->point);
  return 0;
}

int
ckpt_cgroup_mounts(const struct oci_config *cfg, const char *cgpath, struct criu_req *r,
                   struct silo_error *err)
{
  const struct cgroup_hierarchy *h;
  size_t n;
  enum cgroup_mode mode;
  if (cgroup_detect(&mode, err) < 0 || cgroup_hierarchies(&h, &n, err) < 0) return -1;
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    if (!m->type || (strcmp(m->type, "cgroup") && strcmp(m->type, "cgroup2"))) continue;
    for (size_t k = 0; k < n; k++) {
      _cleanup_free_ char *src = xasprintf("%s%s", h[k].mountpoint, cgpath ? cgpath : "");
      _cleanup_free_ char *key = mode == CGROUP_MODE_UNIFIED
                                     ? xstrdup(m->destination)
                                     : xasprintf("%s/%s", m->destination, h[k].name);
      criu_req_mount(r, key, access(src, F_OK) == 0 ? src : h[k].mountpoint);
    }
  }
  return 0;
}

/* Namespaces the config joins by path are external to the image: CRIU records
 * them as <type>[inode]:extRoot<Type>NS, and restore hands the fd back. */
static const struct {
  enum oci_ns_type type;
  const char *criu, *key;
} ext_ns[] = {{OCI_NS_NETWORK, "net", "extRootNetNS"}, {OCI_NS_PID, "pid", "extRootPidNS"}};

static int
external_namespaces(const struct oci_config *cfg, struct criu_req *r, struct silo_error *err)
{
  for (size_t i = 0; i < ARRAY_SIZE(ext_ns); i++) {
    const struct oci_namespace *ns = oci_config_namespace(cfg, ext_ns[i].type);
    if (!ns || !ns->path) continue;
    struct stat st;
    if (stat(ns->path, &st) < 0) return silo_err(err, errno, "namespace `%s`", ns->path);
    char key[128];
    snprintf(key, sizeof key, "%s[%llu]:%s", ext_ns[i].criu, (unsigned long long)st.st_ino,
             ext_ns[i].key);
    criu_req_external(r, key);
  }
  return 0;
}

int
ckpt_restore_namespaces(const struct oci_config *cfg, struct criu_req *r, int fds[2],
                        struct silo_error *err)
{
  for (size_t i = 0; i < ARRAY_SIZE(ext_ns); i++) {
    fds[i] = -1;
    const struct oci_namespace *ns = oci_config_namespace(cfg, ext_ns[i].type);
    if (!ns || !ns->path) continue;
    /* Not close-on-exec: CRIU (a child of ours) takes it by number. */
    fds[i] = open(ns->path, O_RDONLY);
    if (fds[i] < 0) return silo_err(err, errno, "namespace `%s`", ns->path);
    criu_req_inherit(r, fds[i], ext_ns[i].key);
  }
  return 0;
}

/* Is mount id `mnt` one of the container's? */
static int
is_mount(const struct ckpt_mountinfo *m, void *arg)
{
  return m->id == *(uint64_t *)arg;
}

static bool
in_container_mounts(pid_t pid, int mnt)
{
  uint64_t id = (uint64_t)mnt;
  return ckpt_mountinfo_each(pid, is_mount, &id) == 1;
}

static int
fd_mnt_id(pid_t pid, int fd)
{
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fd);
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  int mnt = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "mnt_id: %d", &mnt) == 1) break;
  return mnt;
}

json_t *
ckpt_describe_stdio(pid_t pid, struct criu_req *r)
{
  json_t *arr = json_array();
  for (int fd = 0; fd < 3; fd++) {
    char path[64], link[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0) continue; /* closed */
    link[n] = '\0';
    struct stat st;
    if (stat(path, &st) < 0) continue;
    const char *type = "other";
    char key[128] = "";
    if (strncmp(link, "pipe:", 5) == 0) {
      type = "pipe"; /* CRIU dumps it; restore maps it with --inherit-fd */
      snprintf(key, sizeof key, "%.100s", link);
    } else if (strncmp(link, "socket:", 7) == 0) {
      type = "socket"; /* --ext-unix-sk decides */
    } else if (link[0] == '/' && S_ISCHR(st.st_mode) && major(st.st_rdev) >= 136 &&
               major(st.st_rdev) <= 143) {
      /* A pty slave whose master the client holds (console socket). */
      type = "tty";
      snprintf(key, sizeof key, "tty[%llx:%llx]", (unsigned long long)st.st_rdev,
               (unsigned long long)st.st_dev);
      if (r) criu_req_external(r, key);
    } else if (link[0] == '/') {
      int mnt = fd_mnt_id(pid, fd);
      if (mnt >= 0 && !in_container_mounts(pid, mnt)) {
        type = "file"; /* opened on the host (e.g. a log file, /dev/null) */
        snprintf(key, sizeof key, "file[%x:%llx]", (unsigned)mnt, (unsigned long long)st.st_ino);
        if (r) criu_req_external(r, key);
      } else {
        type = "internal";
      }
    }
    json_array_append_new(
        arr, json_pack("{s:i, s:s, s:s, s:s}", "fd", fd, "type", type, "key", key, "path", link));
  }
  return arr;
}

static json_t *
str_array(const char *const *v, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
  return a;
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The fingerprint restore compares: what makes an image belong to a config.  The
 * mounts as a sorted set: clients regenerate configs in another order (Podman's
 * restore --import does). */
json_t *
ckpt_config_fingerprint(const struct oci_config *cfg)
{
  json_t *mounts = json_array();
  _cleanup_free_ const char **dests = xcalloc(cfg->n_mounts + 1, sizeof *dests);
  for (size_t i = 0; i < cfg->n_mounts; i++) dests[i] = cfg->mounts[i].destination;
  qsort(dests, cfg->n_mounts, sizeof *dests, cmp_str);
  for (size_t i = 0; i < cfg->n_mounts; i++) json_array_append_new(mounts, json_string(dests[i]));
  const struct oci_process *p = cfg->process;
  return json_pack("{s:o, s:o, s:b}", "args", p ? str_array(p->args, p->n_args) : json_array(),
                   "mounts", mounts, "terminal", p && p->terminal);
}

static int
write_manifest(int images_fd, const struct silo_state *s, const struct oci_config *cfg,
               json_t *stdio, json_t *tmpfs, bool netns_new, struct silo_error *err)
{
  struct utsname u;
  uname(&u);
  char now[64];
  time_rfc3339(now, sizeof now);
  json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s*, s:o, s:O}", "format", 1, "silo",
                        SILO_VERSION, "arch", u.machine, "id", s->id, "bundle", s->bundle,
                        "created", now, "container_created", s->created, "cgroup_path",
                        s->cgroup_path, "config", ckpt_config_fingerprint(cfg), "stdio", stdio);
  if (!j) return silo_err(err, ENOMEM, "build %s", CKPT_MANIFEST);
  if (json_array_size(tmpfs)) json_object_set(j, "tmpfs", tmpfs);
  if (netns_new) json_object_set_new(j, "netns", json_string("new"));
  _cleanup_free_ char *txt = json_dumps(j, JSON_INDENT(2));
  json_decref(j);
  return fs_write_file_atomic(images_fd, CKPT_MANIFEST, txt, strlen(txt), err);
}

/* "ADDR:PORT" or "[v6]:PORT". */
static int
parse_page_server(const char *s, char **addr, int *port, struct silo_error *err)
{
  const char *colon = strrchr(s, ':');
  char *end = NULL;
  long p = colon ? strtol(colon + 1, &end, 10) : 0;
  if (!colon || colon == s || !end || *end || end == colon + 1 || p <= 0 || p > 65535)
    return silo_err(err, EINVAL, "--page-server `%s`: expected ADDRESS:PORT", s);
  const char *a = s;
  size_t n = (size_t)(colon - s);
  if (a[0] == '[' && n >= 2 && a[n - 1] == ']') a++, n -= 2;
  *addr = strndup(a, n);
  *port = (int)p;
  return 0;
}

/* A directory made if missing (parents too), opened. */
int
ckpt_open_dir(const char *path, bool create, struct silo_error *err)
{
  if (create && fs_mkdir_p(path, 0755, 0700, err) < 0) return -1;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return silo_err(err, errno, "`%s`", path);
  return fd;
}

/* The v1 freezer (or the v2 directory): CRIU freezes the whole tree at once. */
static char *
freezer_of(const char *cgpath)
{
  const struct cgroup_hierarchy *h;
  size_t n;
  struct silo_error e = {0};
  enum cgroup_mode mode;
  if (!cgpath || cgroup_hierarchies(&h, &n, &e) < 0 || cgroup_detect(&mode, &e) < 0) return NULL;
  for (size_t i = 0; i < n; i++) {
    bool v1 = !h[i].v2 && strstr(h[i].name, "freezer");
    bool v2 = h[i].v2 && mode == CGROUP_MODE_UNIFIED;
    if (!v1 && !v2) continue;
    char *p = xasprintf("%s%s", h[i].mountpoint, cgpath);
    if (access(p, F_OK) == 0) return p;
    free(p);
  }
  return NULL;
}

/* CRIU freezes the cgroup itself, then polls it every 100 ms: a busy container
 * is seldom frozen at the first look, so that poll put 100 ms into the frozen
 * time of most dumps.  silo freezes it at CRIU's "pre-dump" notification, the
 * moment CRIU would, polling finely; CRIU then finds it frozen and goes on at
 * once.  CRIU re-freezes a container it found frozen before it lets go of it,
 * so whoever froze it here thaws it when CRIU is done. */
struct early_freeze {
  struct cgroup *cg; /* NULL: CRIU freezes the tasks itself */
  bool frozen;
  double *frozen_at;       /* the caller's clock of the freeze, or NULL */
  struct ckpt_tmpfs tmpfs; /* the tmpfs mounts made external (tmpfs.c), checked once frozen */
  struct ckpt_netns netns; /* the network namespace made external (netns.c), the same */
  const struct oci_config *cfg;
  pid_t pid;
  bool changed;                /* they changed before the freeze: the dump starts again without */
  bool drop_tmpfs, drop_netns; /* which of them */
};

/* CRIU's "pre-dump": the moment it is about to stop the tasks (its kernel probes
 * and the rest of its set-up follow, with the tasks stopped). */
static int
freeze_now(void *arg)
{
  struct early_freeze *f = arg;
  struct silo_error e = {0};
  /* (a dump made again after a look at the tmpfs mounts: the container ran
   * between the thaw and this freeze, which is where its downtime starts) */
  if (f->frozen_at) *f->frozen_at = time_mono_s();
  if (!f->cg) return 0;
  if (cgroup_freeze(f->cg, true, &e) < 0) {
    silo_log_debug("early freeze: %s (CRIU freezes it itself)", e.msg);
    /* their checks need the freeze: CRIU's */
    f->drop_tmpfs = json_array_size(f->tmpfs.list) > 0;
    f->drop_netns = f->netns.fd >= 0;
    f->changed = f->drop_tmpfs || f->drop_netns;
    return f->changed ? -1 : 0;
  }
  f->frozen = true;
  /* The external tmpfs mounts, looked at again now that nothing in the
   * container runs: what it wrote there since goes to CRIU's tar; the network
   * namespace, what the container made in it since goes to CRIU's dump (the
   * dump starts again with what changed left to CRIU). */
  f->drop_tmpfs =
      json_array_size(f->tmpfs.list) && !ckpt_tmpfs_unchanged(f->cfg, &f->tmpfs, f->pid);
  f->drop_netns = f->netns.fd >= 0 && !ckpt_netns_unchanged(&f->netns, f->cg);
  f->changed = f->drop_tmpfs || f->drop_netns;
  if (!f->changed && f->netns.fd >= 0) phase_mark("netns-external"); /* (the tests look) */
  return f->changed ? -1 : 0;
}

static void
early_freeze_thaw(struct early_freeze *f)
{
  struct silo_error e = {0};
  if (f->frozen && cgroup_freeze(f->cg, false, &e) < 0)
    silo_log_warn("thaw after the dump: %s", e.msg);
  f->frozen = false;
}

static void
early_freeze_end(struct early_freeze *f)
{
  early_freeze_thaw(f);
  if (f->cg) cgroup_free(f->cg);
  f->cg = NULL;
  ckpt_tmpfs_free(&f->tmpfs);
  ckpt_netns_free(&f->netns);
}

/* The /etc/hosts and /etc/resolv.conf silo's network generated are binds of
 * files of the state directory: external mounts (key: the mount point), their
 * text carried in the images for the restore to bind again (ckpt_net_files). */
static int
net_files_dump(const struct oci_config *cfg, int dirfd, int images_fd, struct criu_req *r,
               struct silo_error *err)
{
  for (size_t i = 0; i < ARRAY_SIZE(ckpt_net_files); i++) {
    const char *dest = ckpt_net_files[i].dest;
    bool own = false;
    for (size_t k = 0; k < cfg->n_mounts && !own; k++)
      own = strcmp(cfg->mounts[k].destination, dest) == 0;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    struct silo_error e = {0};
    if (own || fs_read_file_at(dirfd, ckpt_net_files[i].state, &buf, &len, &e) < 0) continue;
    if (fs_write_file_atomic(images_fd, ckpt_net_files[i].image, buf, len, err) < 0) return -1;
    criu_req_mount(r, dest, dest);
  }
  return 0;
}

static int
checkpoint(struct silo_context *ctx, const struct silo_checkpoint_opts *o, int rootfd, int dirfd,
           const struct silo_state *s, struct silo_error *err)
{
  enum oci_status st = state_status(dirfd, s);
  if (st != OCI_STATUS_RUNNING && st != OCI_STATUS_PAUSED)
    return silo_err(err, 0, "cannot checkpoint a container that is %s", oci_status_name(st));
  if (!o->ext_netns && faccessat(dirfd, "network.json", F_OK, 0) == 0)
    return silo_err(err, ENOTSUP, "containers with silo's own networking cannot be checkpointed");
  _cleanup_free_ char *cfg_buf = NULL;
  size_t cfg_len;
  if (fs_read_file_at(dirfd, "config.json", &cfg_buf, &cfg_len, err) < 0) return -1;
  struct oci_config *cfg = oci_config_parse(cfg_buf, cfg_len, err);
  if (!cfg) return silo_err_wrap(err, "config.json of the container");
  /* Its root is a detached mount tree in silo's namespace (rootfs_leave_mntns): CRIU
   * dumps mount namespaces, and this tree is in none. */
  if (!oci_config_namespace(cfg, OCI_NS_MOUNT)) {
    oci_config_free(cfg);
    return silo_err(err, ENOTSUP,
                    "a container without a mount namespace cannot be checkpointed: its root "
                    "is a mount tree outside every namespace, which CRIU cannot dump");
  }

  int ret = -1;
  struct criu_req r;
  criu_req_init(&r, o->pre_dump ? CRIU_OP_PRE_DUMP : CRIU_OP_DUMP);
  _cleanup_free_ char *tmp_images = NULL, *ps_addr = NULL, *freezer = NULL;
  _cleanup_close_ int images_fd = -1, work_fd = -1;
  json_t *stdio = NULL;
  struct early_freeze ef = {.frozen_at = o->frozen_at, .netns = {.fd = -1}};
  const char *images = o->criu.image_path;
  if (!images && o->export_path) {
    tmp_images = xstrdup("/var/tmp/silo-export-XXXXXX");
    if (!mkdtemp(tmp_images)) {
      silo_err(err, errno, "mkdtemp `%s`", tmp_images);
      goto out;
    }
    images = tmp_images;
  }
  if (!images) images = "checkpoint";
  const char *work = o->criu.work_path ? o->criu.work_path : images;
  if ((images_fd = ckpt_open_dir(images, true, err)) < 0 ||
      (work_fd = ckpt_open_dir(work, true, err)) < 0)
    goto out;

  r.criu = ctx->criu;
  r.pid = s->pid;
  r.images_fd = images_fd;
  r.work_fd = work_fd;
  r.work_path = work;
  r.log_name = o->pre_dump ? "pre-dump.log" : "dump.log";
  r.parent = o->parent_path;
  r.leave_running = o->leave_running || o->pre_dump;
  r.track_mem = o->pre_dump || o->parent_path;
  r.tcp_established = o->criu.tcp_established;
  r.no_network_lock = o->criu.no_network_lock;
  r.ext_unix_sk = o->criu.ext_unix_sk;
  r.shell_job = o->criu.shell_job;
  r.file_locks = o->criu.file_locks;
  r.auto_dedup = o->criu.auto_dedup;
  r.lazy_pages = o->criu.lazy_pages;
  r.status_fd = o->status_fd;
  r.timeout = o->criu.timeout;
  if (o->criu.empty_netns) r.empty_ns = CLONE_NEWNET;
  if (o->criu.manage_cgroups_mode && criu_cg_mode_parse(o->criu.manage_cgroups_mode, &r.cg_mode)) {
    silo_err(err, EINVAL, "--manage-cgroups-mode `%s`: not soft, full, strict or ignore",
             o->criu.manage_cgroups_mode);
    goto out;
  }
  if (o->page_server) {
    if (parse_page_server(o->page_server, &ps_addr, &r.ps_port, err) < 0) goto out;
    r.ps_addr = ps_addr;
  } else if (o->criu.lazy_pages) {
    silo_err(err, EINVAL, "--lazy-pages needs --page-server ADDRESS:PORT");
    goto out;
  }
  if (s->cgroup_manager != CGROUP_MANAGER_DISABLED && (freezer = freezer_of(s->cgroup_path))) {
    r.freeze_cgroup = freezer;
    struct silo_error e = {0};
    if (st == OCI_STATUS_RUNNING &&
        cgroup_open(s->cgroup_path, s->cgroup_manager, &ef.cg, &e) == 0) {
      r.on_pre_dump = freeze_now;
      r.arg = &ef;
    }
  }
  if (ef.frozen_at) { /* the time of the freeze even when CRIU does it */
    r.on_pre_dump = freeze_now;
    r.arg = &ef;
  }
  if (ckpt_ext_mounts(cfg, s->bundle, s->pid, false, &r, err) < 0 ||
      external_namespaces(cfg, &r, err) < 0)
    goto out;
  if (o->ext_netns) {
    /* silo's own network: the namespace it pinned is external, re-created by the
     * migration's receiver (no netns in the images, nothing of it dumped) */
    struct stat nst;
    if (fstatat(dirfd, "netns", &nst, AT_SYMLINK_NOFOLLOW) < 0) {
      silo_err(err, errno, "<state>/netns");
      goto out;
    }
    char key[128];
    snprintf(key, sizeof key, "net[%llu]:extRootNetNS", (unsigned long long)nst.st_ino);
    criu_req_external(&r, key);
    if (net_files_dump(cfg, dirfd, images_fd, &r, err) < 0) goto out;
  }
  stdio = ckpt_describe_stdio(s->pid, &r);
  /* The runtime's tmpfs mounts silo can make again (tmpfs.c): external, not
   * tarred by CRIU.  Only with the early freeze, under which they are checked
   * again before CRIU dumps anything. */
  size_t n_mnts = r.n_mnts, n_externals = r.n_externals;
  if (!o->pre_dump && ef.cg && r.on_pre_dump == freeze_now) {
    ckpt_tmpfs_collect(cfg, s->pid, s->start_time, &r, &ef.tmpfs);
    /* The container's own network namespace, when it holds what a new one
     * holds (netns.c): external, made new by the restore, not dumped by CRIU's
     * `ip` and `iptables-save` runs.  Checked again under the freeze. */
    if (!o->ext_netns && !o->criu.empty_netns) ckpt_netns_collect(cfg, s->pid, ef.cg, &ef.netns);
    if (ef.netns.fd >= 0) {
      char key[128];
      snprintf(key, sizeof key, "net[%llu]:extRootNetNS", ef.netns.ino);
      criu_req_external(&r, key);
    }
    phase_mark("tmpfs-listed"); /* the first look done (a test acts here: phase_hold.py) */
    ef.pid = s->pid;
    ef.cfg = cfg;
    size_t i;
    json_t *m;
    json_array_foreach(ef.tmpfs.list, i, m)
    {
      const char *key = json_string_value(json_object_get(m, "key"));
      criu_req_mount(&r, key, key);
    }
  }

  silo_log_debug("container `%s`: %s %d into %s", s->id, o->pre_dump ? "pre-dump" : "dump",
                 (int)s->pid, images);
  int crc;
  for (;;) {
    /* The manifest goes first: a lazy-pages restore starts while the dump still runs. */
    if (!o->pre_dump &&
        (write_manifest(images_fd, s, cfg, stdio, ef.tmpfs.list, ef.netns.fd >= 0, err) < 0 ||
         fs_write_file_atomic(images_fd, "config.json", cfg_buf, cfg_len, err) < 0))
      goto out;
    crc = criu_run(&r, NULL, err);
    early_freeze_thaw(&ef);
    if (crc == 0 || !ef.changed) break;
    /* changed since the first look: CRIU tars the tmpfs mounts, or dumps the
     * network namespace, after all (each retry leaves one more to CRIU) */
    silo_log_debug("container `%s`: dump again with its%s%s left to CRIU", s->id,
                   ef.drop_tmpfs ? " tmpfs mounts" : "", ef.drop_netns ? " network namespace" : "");
    if (ef.drop_tmpfs) {
      ckpt_tmpfs_free(&ef.tmpfs);
      criu_req_mounts_truncate(&r, n_mnts);
    }
    if (ef.drop_netns) {
      ckpt_netns_free(&ef.netns);
      criu_req_externals_truncate(&r, n_externals);
    }
    ef.changed = ef.drop_tmpfs = ef.drop_netns = false;
    silo_err_clear(err);
  }
  early_freeze_end(&ef);
  if (crc < 0) {
    unlinkat(images_fd, CKPT_MANIFEST, 0);
    goto out;
  }
  if (o->pre_dump) {
    ret = 0;
    goto out;
  }

  if (o->export_path) {
    char version[32] = "unknown";
    struct silo_error verr = {0};
    if (criu_version(ctx->criu, version, sizeof version, &verr) < 0) silo_log_warn("%s", verr.msg);
    struct ckpt_archive_info info = {
        .id = s->id,
        .created = s->created,
        .criu_version = version,
        .rootfs = cfg->root_readonly ? NULL : s->rootfs,
    };
    if (ckpt_archive_export(o->export_path, images_fd, &info, err) < 0) {
      if (tmp_images) {
        silo_err_wrap(err, "export (the images stay in %s)", tmp_images);
        free(steal_ptr(&tmp_images)); /* keep them: the container may be gone */
      }
      goto out;
    }
  }
  ret = 0;
  /* Without --leave-running CRIU has killed the processes: delete the container. */
  if (!r.leave_running) {
    struct silo_error derr = {0};
    if (container_destroy(rootfd, dirfd, s, cfg, NULL, &derr) < 0)
      silo_log_warn("container `%s`: delete after checkpoint: %s", s->id, derr.msg);
  }
out:
  early_freeze_end(&ef);
  if (stdio) json_decref(stdio);
  if (tmp_images) {
    _cleanup_close_ int parent = open("/var/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent >= 0) fs_rm_rf_at(parent, tmp_images + strlen("/var/tmp/"), NULL);
  }
  criu_req_free(&r);
  oci_config_free(cfg);
  return ret;
}

int
silo_checkpoint(struct silo_context *ctx, const struct silo_checkpoint_opts *o,
                struct silo_error *err)
{
  _cleanup_close_ int rootfd = state_root_open(ctx, err);
  if (rootfd < 0 || state_validate_id(o->id, err) < 0)
    return silo_err_wrap(err, "checkpoint `%s`", o->id);
  _cleanup_close_ int dirfd = state_dir_lock(rootfd, o->id, err);
  if (dirfd < 0) return silo_err_wrap(err, "checkpoint `%s`", o->id);
  struct silo_state s;
  if (state_read(dirfd, &s, err) < 0) return silo_err_wrap(err, "checkpoint `%s`", o->id);
  int r = checkpoint(ctx, o, rootfd, dirfd, &s, err);
  state_free(&s);
  return r < 0 ? silo_err_wrap(err, "checkpoint `%s`", o->id) : 0;
}
