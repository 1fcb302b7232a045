/* silo netns: the host's list of state roots that hold leases.
 *
 *   /run/silo-network-roots   one absolute state root per line
 *
 * Each state root (silo's default /run/silo, a second --root, a test's) keeps its
 * own lease store, but all of them share the host's bridges and ports: two roots
 * on one bridge must not lease the same address, nor publish the same host port.
 * So an allocation reads the leases of every other root in this list, and lists
 * its own root.  Reading another root's leases.json needs no lock of that root:
 * it is replaced by rename, so it is always whole, and it only grows under
 * nn_host_net_lock, which the allocation holds.
 *
 * The allocation also reclaims another root's dead leases (their container's
 * state directory is gone), which that root would otherwise keep until its own
 * next allocation.  That changes the other store, so it takes the other root's
 * lock, but only if it is free: every silo takes its own store's lock and then the
 * host's, so waiting here for another store's lock, with both held, could
 * deadlock with that root's allocation doing the same to us.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "netns/netns.h"

struct roots {
  char **v;
  size_t n;
  bool changed;
};

static void
roots_free(struct roots *r)
{
  for (size_t i = 0; i < r->n; i++) free(r->v[i]);
  free(r->v);
}

static void
roots_drop(struct roots *r, size_t i)
{
  free(r->v[i]);
  memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof *r->v);
  r->n--;
  r->changed = true;
}

static int
roots_read(struct roots *r, struct silo_error *err)
{
  _cleanup_free_ char *buf = NULL;
  int x = nn_read_file_at(AT_FDCWD, NN_ROOTS_FILE, 1 << 20, &buf, err);
  if (x != 0) return x < 0 ? -1 : 0;
  for (char *save = NULL, *w = strtok_r(buf, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
    if (w[0] != '/') continue; /* not a path silo wrote */
    r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
    r->v[r->n++] = xstrdup(w);
  }
  return 0;
}

static int
roots_write(const struct roots *r, struct silo_error *err)
{
  if (r->n == 0) {
    if (unlink(NN_ROOTS_FILE) < 0 && errno != ENOENT)
      return silo_err(err, errno, "remove " NN_ROOTS_FILE);
    return 0;
  }
  const char *tmp = NN_ROOTS_FILE ".tmp";
  _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return silo_err(err, errno, "create %s", tmp);
  for (size_t i = 0; i < r->n; i++) {
    if (dprintf(fd, "%s\n", r->v[i]) < 0) {
      int e = errno;
      unlink(tmp);
      return silo_err(err, e, "write %s", tmp);
    }
  }
  if (rename(tmp, NN_ROOTS_FILE) < 0) {
    int e = errno;
    unlink(tmp);
    return silo_err(err, e, "rename %s", tmp);
  }
  return 0;
}

/* Opens the store of the root at dirfd, its dead leases reclaimed when its lock is
 * free: nobody of that root is then between a look at its leases and a save.  Held
 * (the root is allocating, or deleting): only read, its dead leases left to it. */
static int
open_root(int dirfd, uint64_t netns, void (*gone)(const struct nn_lease *l, void *data), void *data,
          struct nn_store *other, struct silo_error *err)
{
  if (!gone) return nn_store_open(dirfd, NN_STORE_NOLOCK, other, err);
  int x = nn_store_open(dirfd, NN_STORE_TRY, other, err);
  if (x < 0 && err->errnum == EWOULDBLOCK) return nn_store_open(dirfd, NN_STORE_NOLOCK, other, err);
  if (x != 0) return x;
  if (nn_store_reclaim(other, dirfd, netns, gone, data) && nn_store_save(other, err) < 0) {
    nn_store_close(other);
    return -1;
  }
  return 0;
}

/* Adds the leases of the state root at path to st.  1: it has none (or is gone). */
static int
add_root(struct nn_store *st, const char *path, uint64_t netns,
         void (*gone)(const struct nn_lease *l, void *data), void *data, struct silo_error *err)
{
  _cleanup_close_ int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return errno == ENOENT || errno == ENOTDIR ? 1 : silo_err(err, errno, "open %s", path);
  struct nn_store other;
  int x = open_root(dirfd, netns, gone, data, &other, err);
  if (x != 0) return x < 0 ? silo_err_wrap(err, "%s", path) : 1;
  if (other.n == 0) {
    nn_store_close(&other);
    return 1;
  }
  st->leases = xrealloc(st->leases, (st->n + other.n) * sizeof *st->leases);
  for (size_t i = 0; i < other.n; i++) {
    struct nn_lease *l = &other.leases[i];
    /* Made in another network namespace: its bridge and ports are not ours.  (A
     * lease without one, from an older silo, counts: the safe side.) */
    if (l->netns && netns && l->netns != netns) {
      nn_lease_free(l);
      continue;
    }
    l->root = xstrdup(path);
    st->leases[st->n++] = *l; /* moved: other keeps none */
  }
  other.n = 0;
  nn_store_close(&other); /* and its lock, if taken */
  return 0;
}

/* The root by its canonical path: the same root given as a relative --root, or
 * through a symlink, is still recognised as itself. */
static int
root_path(int rootfd, char self[PATH_MAX], struct silo_error *err)
{
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", rootfd);
  ssize_t len = readlink(link, self, PATH_MAX - 1);
  if (len <= 0) return silo_err(err, errno, "readlink %s", link);
  self[len] = '\0';
  return 0;
}

int
nn_store_add_foreign(struct nn_store *st, int rootfd,
                     void (*gone)(const struct nn_lease *l, void *data), void *data,
                     struct silo_error *err)
{
  char self[PATH_MAX];
  if (root_path(rootfd, self, err) < 0) return -1;
  struct roots r = {0};
  if (roots_read(&r, err) < 0) return -1;
  uint64_t netns = nn_netns_self();
  /* A root that cannot be read stays listed and its leases unseen this time; the
   * others still count, and the first such error is returned after. */
  struct silo_error first = {0}, e = {0};
  bool listed = false, failed = false;
  for (size_t i = 0; i < r.n;) {
    if (strcmp(r.v[i], self) == 0) {
      listed = true;
      i++;
      continue;
    }
    int x = add_root(st, r.v[i], netns, gone, data, &e);
    if (x < 0 && !failed) first = e, failed = true;
    if (x == 1) /* nothing leased there: listed again by its next allocation */
      roots_drop(&r, i);
    else
      i++;
  }
  if (!listed) {
    r.v = xrealloc(r.v, (r.n + 1) * sizeof *r.v);
    r.v[r.n++] = xstrdup(self);
    r.changed = true;
  }
  int ret = r.changed ? roots_write(&r, err) : 0;
  roots_free(&r);
  if (ret == 0 && failed) {
    *err = first;
    ret = -1;
  }
  return ret;
}

int
nn_roots_forget(int rootfd, struct silo_error *err)
{
  char self[PATH_MAX];
  if (root_path(rootfd, self, err) < 0) return -1;
  struct roots r = {0};
  int ret = roots_read(&r, err);
  for (size_t i = 0; ret == 0 && i < r.n;) {
    if (strcmp(r.v[i], self) == 0)
      roots_drop(&r, i);
    else
      i++;
  }
  if (ret == 0 && r.changed) ret = roots_write(&r, err);
  roots_free(&r);
  return ret;
}
