/* silo lib/: the parsed image of an archive file (its config and the digests of its
 * layers), kept by the file's identity, so that a sandbox from an image it has seen
 * reads neither the archive nor libarchive (loading libarchive and its libraries is
 * most of what reading a small image costs; see docs/performance.md).
 *
 * A record is <dir>/<sha256 of "dev:ino">.json (one per archive inode: a changed
 * archive overwrites its record), a JSON object
 *   {"v": 1, "dev", "ino", "size", "mtime", "ctime" (ns),
 *    "config": "<the image config, verbatim>", "config_sha256", "layers": [hex...]}
 *
 * Why a changed archive is never taken for the one recorded: the record is used only
 * when device, inode, size, mtime and ctime (in ns) of the file at the path are all
 * the recorded ones.  Any write, truncate, chmod, rename onto the path or
 * replacement gives another inode or a new ctime, and ctime cannot be set from user
 * space.  The one gap is a change within the clock tick of the recorded ctime (file
 * timestamps are coarse on some filesystems), so, as git does for its index, an
 * archive is recorded only once its ctime is RECORD_SETTLE_NS old: a later change
 * then has a later ctime.
 *
 * Why a record is not an attack surface: the directory is the cache's (0700, made by
 * us, owned by our euid, checked on open, no group/other write); the record is opened
 * with O_NOFOLLOW|O_NONBLOCK beneath it, must be a regular file of ours, no
 * group/other write, at most RECORD_MAX bytes; and its content is checked like image
 * input (config through image_config_parse, and against its digest; layers as sha256
 * hex, each of which must be a complete, verified layer of the cache).  Anything
 * wrong: the record is ignored (the image is read from the archive, and the record
 * written anew).  Records are written with fs_write_file_atomic (a temp file and a
 * rename), so two sandboxes writing at once leave one whole record.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/image/image.h"
#include "lib/silo.h"

#define RECORD_VERSION   1
#define RECORD_MAX       (17 << 20)   /* a config of up to 16 MiB, escaped, and the rest */
#define RECORD_SETTLE_NS 1000000000LL /* see above */

static int64_t
ns_of(const struct timespec *t)
{
  return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

void
image_cache_id_of(const struct stat *st, struct image_cache_id *id)
{
  id->dev = (uint64_t)st->st_dev;
  id->ino = (uint64_t)st->st_ino;
  id->size = (int64_t)st->st_size;
  id->mtime_ns = ns_of(&st->st_mtim);
  id->ctime_ns = ns_of(&st->st_ctim);
}

void
image_cache_name(const struct image_cache_id *id, char name[80])
{
  char key[64], hex[65];
  struct sha256 s;
  int n = snprintf(key, sizeof key, "%llu:%llu", (unsigned long long)id->dev,
                   (unsigned long long)id->ino);
  sha256_init(&s);
  sha256_update(&s, key, (size_t)n);
  sha256_hex(&s, hex);
  snprintf(name, 80, "%s.json", hex);
}

static void
sha_hex(const char *buf, size_t len, char hex[65])
{
  struct sha256 s;
  sha256_init(&s);
  sha256_update(&s, buf, len);
  sha256_hex(&s, hex);
}

char *
image_cache_record(const struct image_cache_id *id, const char *config, size_t len,
                   char *const *hexes, size_t n)
{
  char digest[65];
  sha_hex(config, len, digest);
  json_t *layers = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(layers, json_string(hexes[i]));
  /* Numbers as JSON integers: json_int_t is 64 bits (dev and ino fit as their bits). */
  json_t *r = json_pack(
      "{si sI sI sI sI sI ss% ss so}", "v", RECORD_VERSION, "dev", (json_int_t)id->dev, "ino",
      (json_int_t)id->ino, "size", (json_int_t)id->size, "mtime", (json_int_t)id->mtime_ns, "ctime",
      (json_int_t)id->ctime_ns, "config", config, len, "config_sha256", digest, "layers", layers);
  if (!r) return NULL;
  char *out = json_dumps(r, JSON_COMPACT);
  json_decref(r);
  return out;
}

static bool
int_is(json_t *o, const char *key, json_int_t want)
{
  json_t *v = json_object_get(o, key);
  return json_is_integer(v) && json_integer_value(v) == want;
}

int
image_cache_parse(const char *buf, size_t len, const struct image_cache_id *id, char **config,
                  size_t *clen, char ***hexes, size_t *n, struct silo_error *err)
{
  *config = NULL;
  *hexes = NULL;
  *n = 0;
  json_error_t je;
  json_t *r = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(r)) {
    json_decref(r);
    return silo_err(err, EINVAL, "not a JSON object");
  }
  int ret = -1;
  json_t *c = json_object_get(r, "config"), *d = json_object_get(r, "config_sha256");
  json_t *l = json_object_get(r, "layers");
  if (!int_is(r, "v", RECORD_VERSION)) {
    silo_err(err, EINVAL, "not a version %d record", RECORD_VERSION);
    goto out;
  }
  if (!int_is(r, "dev", (json_int_t)id->dev) || !int_is(r, "ino", (json_int_t)id->ino) ||
      !int_is(r, "size", (json_int_t)id->size) || !int_is(r, "mtime", (json_int_t)id->mtime_ns) ||
      !int_is(r, "ctime", (json_int_t)id->ctime_ns)) {
    silo_err(err, ESTALE, "the archive is not the one recorded");
    goto out;
  }
  if (!json_is_string(c) || !json_is_string(d) || !json_is_array(l) || !json_array_size(l)) {
    silo_err(err, EINVAL, "config, config_sha256 or layers missing");
    goto out;
  }
  char got[65];
  sha_hex(json_string_value(c), json_string_length(c), got);
  if (strcmp(got, json_string_value(d)) != 0) {
    silo_err(err, EINVAL, "the config does not match its digest");
    goto out;
  }
  size_t i;
  json_t *v;
  *hexes = xcalloc(json_array_size(l) + 1, sizeof **hexes);
  json_array_foreach(l, i, v)
  {
    char hex[65], dg[80];
    snprintf(dg, sizeof dg, "sha256:%s", json_is_string(v) ? json_string_value(v) : "");
    if (!image_digest_hex(dg, hex) || strcmp(hex, json_string_value(v)) != 0) {
      silo_err(err, EINVAL, "layers[%zu]: not a sha256 hex digest", i);
      goto out;
    }
    (*hexes)[(*n)++] = xstrdup(hex);
  }
  *clen = json_string_length(c);
  *config = xmalloc(*clen + 1);
  memcpy(*config, json_string_value(c), *clen);
  (*config)[*clen] = '\0';
  ret = 0;
out:
  if (ret < 0) {
    image_cache_strv_free(*hexes, *n);
    *hexes = NULL;
    *n = 0;
  }
  json_decref(r);
  return ret;
}

void
image_cache_strv_free(char **v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) free(v[i]);
  free(v);
}

/* The records' directory: ours, not writable by others (made when `make`). */
static int
open_dir(const char *dir, bool make)
{
  if (make && mkdir(dir, 0700) < 0 && errno != EEXIST) return -1;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022))) {
    silo_log_debug("image cache `%s`: not ours or writable by others: not used", dir);
    close(fd);
    return -1;
  }
  return fd;
}

int
image_cache_load(const char *dir, const struct stat *st, char **config, size_t *clen, char ***hexes,
                 size_t *n)
{
  struct image_cache_id id;
  char name[80];
  image_cache_id_of(st, &id);
  image_cache_name(&id, name);
  _cleanup_close_ int dfd = open_dir(dir, false);
  if (dfd < 0) return 0;
  /* O_NONBLOCK: a FIFO planted there must not block us; O_NOFOLLOW: nor a symlink
   * lead us elsewhere. */
  _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) silo_log_debug("image index record %s: %m: ignored", name);
    return 0;
  }
  struct stat rs;
  if (fstat(fd, &rs) < 0 || !S_ISREG(rs.st_mode) || rs.st_uid != geteuid() || (rs.st_mode & 022) ||
      rs.st_size > RECORD_MAX) {
    silo_log_debug("image index record %s: not a regular file of ours: ignored", name);
    return 0;
  }
  _cleanup_free_ char *buf = xmalloc((size_t)rs.st_size + 1);
  size_t got = 0;
  while (got < (size_t)rs.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)rs.st_size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  struct silo_error e = {0};
  if (got != (size_t)rs.st_size ||
      image_cache_parse(buf, got, &id, config, clen, hexes, n, &e) < 0) {
    silo_log_debug("image index record %s: %s: ignored", name, e.msg[0] ? e.msg : "short read");
    return 0;
  }
  return 1;
}

void
image_cache_save(const char *dir, const struct stat *st, const char *config, size_t clen,
                 char *const *hexes, size_t n)
{
  struct image_cache_id id;
  char name[80];
  image_cache_id_of(st, &id);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  if (ns_of(&now) - id.ctime_ns < RECORD_SETTLE_NS) {
    silo_log_debug("image index: the archive changed less than a second ago: not recorded");
    return;
  }
  image_cache_name(&id, name);
  _cleanup_close_ int dfd = open_dir(dir, true);
  _cleanup_free_ char *rec = dfd >= 0 ? image_cache_record(&id, config, clen, hexes, n) : NULL;
  struct silo_error e = {0};
  if (rec && fs_write_file_atomic(dfd, name, rec, strlen(rec), &e) < 0)
    silo_log_debug("image index record %s: %s", name, e.msg);
  else if (rec)
    silo_log_debug("image index: recorded as %s", name);
}
