/* silo lib/: what a sandbox runs — the process (from the options and the image's
 * config, resolved in the mounted root) and the config.json given to silo_run.
 *
 * The image config is honoured as `docker run` does: Entrypoint + Cmd when no
 * command is given (a given command replaces both: the sandbox runs exactly what
 * it is told), Env (then --env on top), WorkingDir (created when missing) and User
 * ("name", "uid", "name:group", "uid:gid", names looked up in the image's
 * /etc/passwd and /etc/group, supplementary groups included).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "lib/base/base.h"
#include "lib/image/image.h"
#include "lib/sandbox/sandbox.h"
#include "lib/silo.h"
#include "oci/oci.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void
strv_push(char ***v, size_t *n, char *s)
{
  *v = xrealloc(*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

/* Sets NAME=VALUE (entry is "NAME=VALUE", taken), replacing an earlier one. */
static void
env_set(char ***env, size_t *n, char *entry)
{
  size_t len = strcspn(entry, "=");
  for (size_t i = 0; i < *n; i++) {
    if (strncmp((*env)[i], entry, len) == 0 && (*env)[i][len] == '=') {
      free((*env)[i]);
      (*env)[i] = entry;
      return;
    }
  }
  strv_push(env, n, entry);
}

/* ---- /etc/passwd and /etc/group of the image ---- */

struct pw {
  bool found;
  uint32_t uid, gid;
  char name[256], home[PATH_MAX];
};

/* Largest /etc/passwd or /etc/group read from an image. */
#define ETC_MAX (16 << 20)

/* A file of the image, or NULL when it is missing or unusable.  The image is
 * untrusted: a FIFO (an open that never returns) or a device is not opened for
 * reading, and a huge file is not read (fs_read_regular_in_root). */
static char *
read_in_root(int rootfd, const char *path)
{
  struct silo_error e = {0};
  char *buf = NULL;
  if (fs_read_regular_in_root(rootfd, path, ETC_MAX, &buf, NULL, &e) < 0) {
    char text[SILO_ERROR_MSG_MAX + 64];
    if (e.errnum != ENOENT)
      silo_log_warn("sandbox: the image's %s: ignored", silo_err_str(&e, text, sizeof text));
    return NULL;
  }
  return buf;
}

static bool
parse_id(const char *s, uint32_t *out)
{
  uint32_t g;
  bool has;
  return s && *s && creds_parse_ids(s, out, &g, &has) == 0 && !has;
}

/* Finds a passwd entry by name (name != NULL) or by uid. */
static void
passwd_lookup(char *passwd, const char *name, uint32_t uid, struct pw *pw)
{
  struct creds_pw e;
  if (creds_passwd_lookup(passwd, name, uid, &e) < 0) return;
  pw->found = true;
  pw->uid = e.uid;
  pw->gid = e.gid;
  snprintf(pw->name, sizeof pw->name, "%s", e.name);
  snprintf(pw->home, sizeof pw->home, "%s", e.home);
}

/* A group's gid by name; and (member != NULL) the gids of groups listing member. */
static int
group_scan(char *group, const char *name, uint32_t *gid, const char *member, uint32_t **gids,
           size_t *n)
{
  int found = -1;
  char *save = NULL;
  for (char *l = strtok_r(group, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    char *f[4] = {0};
    char *p = l;
    for (int i = 0; i < 4 && p; i++) {
      f[i] = p;
      p = strchr(p, ':');
      if (p) *p++ = '\0';
    }
    uint32_t g;
    if (!f[2] || !parse_id(f[2], &g)) continue;
    if (name && strcmp(f[0], name) == 0) *gid = g, found = 0;
    if (!member || !f[3]) continue;
    char *s2 = NULL;
    for (char *m = strtok_r(f[3], ",", &s2); m; m = strtok_r(NULL, ",", &s2)) {
      if (strcmp(m, member) != 0) continue;
      *gids = xrealloc(*gids, (*n + 1) * sizeof **gids);
      (*gids)[(*n)++] = g;
    }
  }
  return found;
}

/* "user[:group]" -> uid, gid, supplementary gids, home. */
static int
resolve_user(struct sandbox *sb, int rootfd, const char *spec, struct pw *pw,
             struct silo_error *err)
{
  _cleanup_free_ char *copy = xstrdup(spec && *spec ? spec : "0");
  char *grp = strchr(copy, ':');
  if (grp) *grp++ = '\0';
  _cleanup_free_ char *passwd = read_in_root(rootfd, "/etc/passwd");
  _cleanup_free_ char *group = read_in_root(rootfd, "/etc/group");
  uint32_t uid = 0;
  bool numeric = parse_id(copy, &uid);
  memset(pw, 0, sizeof *pw);
  if (passwd) passwd_lookup(passwd, numeric ? NULL : copy, uid, pw);
  if (!numeric && !pw->found)
    return silo_err(err, ENOENT, "user `%s`: no such user in the image's /etc/passwd", copy);
  if (numeric && !pw->found) { /* an id without an entry: group 0, as Docker */
    pw->uid = uid;
    snprintf(pw->home, sizeof pw->home, "/");
  }
  sb->uid = pw->uid;
  sb->gid = pw->gid;
  if (grp && *grp) {
    _cleanup_free_ char *g2 = group ? xstrdup(group) : NULL;
    if (!parse_id(grp, &sb->gid) && (!g2 || group_scan(g2, grp, &sb->gid, NULL, NULL, NULL) < 0))
      return silo_err(err, ENOENT, "group `%s`: no such group in the image's /etc/group", grp);
  } else if (group && pw->name[0]) {
    group_scan(group, NULL, NULL, pw->name, &sb->gids, &sb->n_gids);
  }
  if ((sb->userns || sb->rootless) && (sb->uid >= sb->id_count || sb->gid >= sb->id_count))
    return silo_err(err, EINVAL, "user `%s`: ids above %u are not mapped in the sandbox%s", spec,
                    sb->id_count - 1,
                    sb->rootless && sb->id_count == 1
                        ? " (rootless without subordinate ids: see /etc/subuid, newuidmap)"
                        : "");
  return 0;
}

/* 0 found, else the exit code 126 / 127 with err set. */
static int
check_command(struct sandbox *sb, int rootfd, struct silo_error *err)
{
  const char *arg0 = sb->args[0];
  int why = ENOENT;
  if (strchr(arg0, '/')) {
    _cleanup_free_ char *abs = arg0[0] == '/' ? xstrdup(arg0) : xasprintf("%s/%s", sb->cwd, arg0);
    struct silo_error e = {0};
    struct stat st;
    _cleanup_close_ int fd = fs_open_in_root(rootfd, abs, O_PATH, 0, &e);
    if (fd >= 0 && fstat(fd, &st) == 0) {
      if (S_ISREG(st.st_mode) && (st.st_mode & 0111)) return 0;
      why = EACCES;
    }
  } else {
    const char *path = env_get((const char *const *)sb->env, sb->n_env, "PATH");
    _cleanup_free_ char *dirs = xstrdup(path ? path : DEFAULT_PATH);
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
      _cleanup_free_ char *cand = xasprintf("%s/%s", d[0] == '/' ? d : sb->cwd, arg0);
      struct silo_error e = {0};
      struct stat st;
      _cleanup_close_ int fd = fs_open_in_root(rootfd, cand, O_PATH, 0, &e);
      if (fd < 0 || fstat(fd, &st) < 0) continue;
      if (S_ISREG(st.st_mode) && (st.st_mode & 0111)) return 0;
      if (S_ISREG(st.st_mode)) why = EACCES;
    }
  }
  if (why == EACCES) {
    silo_err(err, 0, "`%s`: not an executable file", arg0);
    return SILO_SANDBOX_NOT_EXEC;
  }
  silo_err(err, 0, "`%s`: command not found%s", arg0,
           strchr(arg0, '/') ? "" : " in the sandbox's $PATH");
  return SILO_SANDBOX_NOT_FOUND;
}

int
sandbox_process(struct sandbox *sb, int *exit_code, struct silo_error *err)
{
  const struct silo_sandbox_opts *o = sb->o;
  const struct image_config *ic = sb->img.n_layers ? &sb->img.config : NULL;
  for (size_t i = 0; i < o->n_args; i++) strv_push(&sb->args, &sb->n_args, xstrdup(o->args[i]));
  if (!o->n_args && ic) {
    for (size_t i = 0; i < ic->n_entrypoint; i++)
      strv_push(&sb->args, &sb->n_args, xstrdup(ic->entrypoint[i]));
    for (size_t i = 0; i < ic->n_cmd; i++) strv_push(&sb->args, &sb->n_args, xstrdup(ic->cmd[i]));
  }
  if (!sb->n_args)
    return silo_err(err, 0, "no command: give one after `--`%s",
                    ic ? " (the image has no Entrypoint or Cmd)" : "");

  const char *wd = o->workdir ? o->workdir : ic && ic->workdir ? ic->workdir : "/";
  if (wd[0] != '/') return silo_err(err, EINVAL, "working directory `%s`: not absolute", wd);
  sb->cwd = xstrdup(wd);

  _cleanup_close_ int rootfd = open(sb->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return silo_err(err, errno, "open `%s`", sb->merged);
  struct pw pw;
  if (resolve_user(sb, rootfd, o->user ? o->user : ic ? ic->user : NULL, &pw, err) < 0) return -1;
  /* Docker creates a missing WORKDIR: in the upper layer, owned by root. */
  _cleanup_close_ int wfd = fs_mkdir_in_root(rootfd, sb->cwd, 0755, err);
  if (wfd < 0) return silo_err_wrap(err, "working directory `%s`", sb->cwd);

  for (size_t i = 0; ic && i < ic->n_env; i++) env_set(&sb->env, &sb->n_env, xstrdup(ic->env[i]));
  if (!env_get((const char *const *)sb->env, sb->n_env, "PATH"))
    env_set(&sb->env, &sb->n_env, xstrdup("PATH=" DEFAULT_PATH));
  env_set(&sb->env, &sb->n_env, xasprintf("HOSTNAME=%s", o->hostname ? o->hostname : "sandbox"));
  if (!env_get((const char *const *)sb->env, sb->n_env, "HOME"))
    env_set(&sb->env, &sb->n_env,
            xasprintf("HOME=%s", pw.found  ? pw.home
                                 : sb->uid ? "/"
                                           : "/root"));
  if (sb->terminal && !env_get((const char *const *)sb->env, sb->n_env, "TERM"))
    env_set(&sb->env, &sb->n_env, xstrdup("TERM=xterm"));
  for (size_t i = 0; i < o->n_env; i++) {
    const char *e = o->env[i];
    if (!*e || *e == '=') return silo_err(err, EINVAL, "--env `%s`: expected K=V or K", e);
    if (strchr(e, '=')) {
      env_set(&sb->env, &sb->n_env, xstrdup(e));
    } else if (getenv(e)) { /* K alone: the caller's value, as docker run -e K */
      env_set(&sb->env, &sb->n_env, xasprintf("%s=%s", e, getenv(e)));
    }
  }
  int code = check_command(sb, rootfd, err);
  if (code) *exit_code = code;
  return code ? -1 : 0;
}

/* ---- config.json ---- */

static json_t *
strv_json(char *const *v, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
  return a;
}

static void
add_mounts(struct sandbox *sb, json_t *mounts)
{
  for (size_t i = 0; i < sb->n_binds; i++) {
    const struct sandbox_bind *b = &sb->binds[i];
    json_t *m =
        json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "destination", b->dst, "type", "bind",
                  "source", b->src, "options", "rbind", b->ro ? "ro" : "rw", "nosuid", "nodev");
    /* A read-only bind is read-only all the way down: "ro" alone is the top mount's
     * (runc's meaning), rro every mount of the tree. */
    if (b->ro) json_array_append_new(json_object_get(m, "options"), json_string("rro"));
    json_array_append_new(mounts, m);
  }
  for (size_t i = 0; i < sb->o->n_tmpfs; i++)
    json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination",
                                            sb->o->tmpfs[i], "type", "tmpfs", "source", "tmpfs",
                                            "options", "nosuid", "nodev", "mode=1777"));
}

/* uid=N / gid=N mount options (devpts's gid=5) need N mapped in the container's
 * user namespace: a rootless sandbox with only the user's own ids has just 0. */
static void
drop_unmapped_owners(struct sandbox *sb, json_t *mounts)
{
  size_t i, k;
  json_t *m, *opt;
  json_array_foreach(mounts, i, m)
  {
    json_t *opts = json_object_get(m, "options");
    for (k = json_array_size(opts); k-- > 0;) {
      opt = json_array_get(opts, k);
      const char *o = json_string_value(opt);
      unsigned long id;
      if (o && (strncmp(o, "uid=", 4) == 0 || strncmp(o, "gid=", 4) == 0) &&
          sscanf(o + 4, "%lu", &id) == 1 && id >= sb->id_count)
        json_array_remove(opts, k);
    }
  }
}

static json_t *
resources(struct sandbox *sb, json_t *linux)
{
  json_t *r = json_object_get(linux, "resources");
  if (!r) json_object_set_new(linux, "resources", r = json_object());
  if (sb->memory)
    json_object_set_new(r, "memory", json_pack("{s:I}", "limit", (json_int_t)sb->memory));
  if (sb->cpu_quota)
    json_object_set_new(r, "cpu",
                        json_pack("{s:I, s:I}", "quota", (json_int_t)sb->cpu_quota, "period",
                                  (json_int_t)sb->cpu_period));
  if (sb->pids) json_object_set_new(r, "pids", json_pack("{s:I}", "limit", (json_int_t)sb->pids));
  return r;
}

char *
sandbox_config_json(struct sandbox *sb, struct silo_error *err)
{
  _cleanup_free_ char *def = oci_spec_default(&(struct oci_spec_opts){.terminal = true});
  json_error_t je;
  json_t *cfg = def ? json_loads(def, 0, &je) : NULL;
  if (!cfg) return silo_err(err, EINVAL, "default spec"), NULL;
  json_t *proc = json_object_get(cfg, "process"), *linux = json_object_get(cfg, "linux");

  json_t *caps = strv_json(sb->caps, sb->n_caps);
  struct rlimit nofile = {1024, 1024};
  getrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_max > (1 << 20))
    nofile.rlim_max = 1 << 20; /* RLIM_INFINITY: fs.nr_open's default */
  if (nofile.rlim_cur > nofile.rlim_max) nofile.rlim_cur = nofile.rlim_max;
  json_t *gids = json_array();
  for (size_t i = 0; i < sb->n_gids; i++) json_array_append_new(gids, json_integer(sb->gids[i]));
  json_object_set_new(proc, "terminal", json_boolean(sb->terminal));
  json_object_set_new(proc, "user",
                      json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)sb->uid, "gid",
                                (json_int_t)sb->gid, "additionalGids", gids));
  json_object_set_new(proc, "args", strv_json(sb->args, sb->n_args));
  json_object_set_new(proc, "env", strv_json(sb->env, sb->n_env));
  json_object_set_new(proc, "cwd", json_string(sb->cwd));
  json_object_set_new(
      proc, "capabilities",
      json_pack("{s:O, s:O, s:O}", "bounding", caps, "effective", caps, "permitted", caps));
  json_decref(caps);
  /* Our own limits: in a user namespace a higher hard limit could not be set. */
  json_object_set_new(proc, "rlimits",
                      json_pack("[{s:s, s:I, s:I}]", "type", "RLIMIT_NOFILE", "soft",
                                (json_int_t)nofile.rlim_cur, "hard", (json_int_t)nofile.rlim_max));
  json_object_set_new(proc, "noNewPrivileges", json_true());

  json_object_set_new(cfg, "root", json_pack("{s:s, s:b}", "path", "rootfs", "readonly", 0));
  json_object_set_new(cfg, "hostname", json_string(sb->o->hostname ? sb->o->hostname : "sandbox"));
  add_mounts(sb, json_object_get(cfg, "mounts"));

  json_t *ns = json_object_get(linux, "namespaces");
  if (sb->userns) {
    json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
    json_t *map = json_pack("[{s:i, s:I, s:I}]", "containerID", 0, "hostID",
                            (json_int_t)sb->id_base, "size", (json_int_t)sb->id_count);
    json_object_set(linux, "uidMappings", map);
    json_object_set_new(linux, "gidMappings", map);
  }
  resources(sb, linux);
  if (sb->userns || sb->rootless) drop_unmapped_owners(sb, json_object_get(cfg, "mounts"));
  /* Rootless without a cgroup of its own, the cgroup mount could only show the
   * host's hierarchies (v1 cannot be mounted in a user namespace): none. */
  if (sb->rootless && !sb->cgroup_parent) {
    json_t *mounts = json_object_get(cfg, "mounts"), *m;
    size_t i;
    json_array_foreach(mounts, i, m)
    {
      if (strcmp(json_string_value(json_object_get(m, "type")) ?: "", "cgroup") != 0) continue;
      json_array_remove(mounts, i);
      break;
    }
  }
  /* Rootless limits: in the delegated cgroup (lib/sandbox/rootless.c). */
  if (sb->cgroup_parent)
    json_object_set_new(linux, "cgroupsPath", json_sprintf("%s/%s", sb->cgroup_parent, sb->id));
  if (sb->seccomp) json_object_set(linux, "seccomp", sb->seccomp);
  json_object_set_new(cfg, "annotations", json_pack("{s:s}", "org.silo.sandbox", "true"));

  /* Compact: silo_run parses it once and nobody reads it (it is gone with the
   * sandbox); Docker's seccomp profile makes it 16 KiB indented. */
  char *out = json_dumps(cfg, JSON_COMPACT);
  json_decref(cfg);
  if (!out) return silo_err(err, ENOMEM, "serialise config.json"), NULL;
  return out;
}
