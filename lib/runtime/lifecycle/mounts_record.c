/* silo: the record of `mounts add` (mounts.json in the container's state
 * directory): destination and mount id of every mount it attached, written before
 * the attach, so `mounts remove` only ever takes away one of those. */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/runtime/lifecycle/lifecycle.h"

#define RECORD     "mounts.json"
#define RECORD_MAX (4 << 20)

void
record_free(struct record *r)
{
  for (size_t i = 0; i < r->n; i++) free(r->v[i].dest);
  free(r->v);
  r->v = NULL;
  r->n = 0;
}

void
record_push(struct record *r, const char *dest, uint64_t id)
{
  r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
  r->v[r->n++] = (struct added){xstrdup(dest), id};
}

/* Drops the entry of mount id (the last one with it). */
void
record_drop(struct record *r, uint64_t id)
{
  for (size_t i = r->n; i-- > 0;) {
    if (r->v[i].id != id) continue;
    free(r->v[i].dest);
    memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof *r->v);
    r->n--;
    return;
  }
}

/* A missing file is an empty record; anything unreadable is an error (never guessed). */
int
record_read(int dirfd, struct record *r, struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  struct silo_error e = {0};
  if (fs_read_regular_in_root(dirfd, RECORD, RECORD_MAX, &buf, &len, &e) < 0) {
    if (e.errnum == ENOENT) return 0;
    *err = e;
    return -1;
  }
  json_error_t je;
  json_t *j = json_loadb(buf, len, 0, &je);
  size_t i;
  json_t *v;
  if (!j || !json_is_array(j)) goto bad;
  json_array_foreach(j, i, v)
  {
    json_t *d = json_object_get(v, "destination"), *id = json_object_get(v, "mntId");
    if (!json_is_string(d) || !json_is_integer(id)) goto bad;
    record_push(r, json_string_value(d), (uint64_t)json_integer_value(id));
  }
  json_decref(j);
  return 0;
bad:
  json_decref(j);
  return silo_err(err, EINVAL, "%s in the state directory is damaged", RECORD);
}

int
record_write(int dirfd, const struct record *r, struct silo_error *err)
{
  if (r->n == 0) {
    if (unlinkat(dirfd, RECORD, 0) < 0) {
      if (errno == ENOENT) return 0;
      return silo_err(err, errno, "remove %s", RECORD);
    }
    return fs_sync_dir(dirfd, err);
  }
  json_t *j = json_array();
  for (size_t i = 0; i < r->n; i++)
    json_array_append_new(
        j, json_pack("{s:s, s:I}", "destination", r->v[i].dest, "mntId", (json_int_t)r->v[i].id));
  _cleanup_free_ char *txt = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  if (!txt) return silo_err(err, ENOMEM, "build %s", RECORD);
  return fs_write_file_durable(dirfd, RECORD, txt, strlen(txt), err);
}
