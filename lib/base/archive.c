/* silo lib/base/: libarchive, loaded on demand: the one loader that images
 * (lib/image/) and checkpoint archives (lib/criu/checkpoint_archive.c) share.
 *
 * Only `silo sandbox --image`, `checkpoint --export` and `restore --import` use
 * archives.  Linking libarchive would make every
 * silo process (`run`, `create`, `exec`: the hot path of every container) map it and
 * its own dependencies (libxml2, liblzma, libzstd, libcrypto...) at start-up; with
 * dlopen they are loaded once an image is actually opened, and `ldd silo` does not
 * list them.  The table holds the few functions silo calls; a missing library or
 * symbol is a clear error of those commands alone.
 */
#include <dlfcn.h>
#include <errno.h>

#include "lib/base/base.h"

#define LIBARCHIVE_SONAME "libarchive.so.13"

static struct libarchive la;
static bool loaded;

const struct libarchive *
libarchive_get(struct silo_error *err)
{
  if (loaded) return &la;
  void *h = dlopen(LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return silo_err(err, ENOENT, "archives need libarchive (%s, Debian package libarchive13): %s",
                    LIBARCHIVE_SONAME, dlerror()),
           NULL;
  struct {
    const char *name;
    void **slot;
  } syms[] = {
#define SYM(n) {"archive_" #n, (void **)&la.n}
      SYM(read_new),
      SYM(read_support_filter_gzip),
      SYM(read_support_filter_zstd),
      SYM(read_support_filter_xz),
      SYM(read_support_filter_bzip2),
      SYM(read_support_format_tar),
      SYM(read_support_format_empty),
      SYM(read_open),
      SYM(read_open_fd),
      SYM(read_next_header),
      SYM(read_data),
      SYM(read_data_block),
      SYM(read_data_skip),
      SYM(read_free),
      SYM(write_disk_new),
      SYM(write_disk_set_options),
      SYM(write_header),
      SYM(write_data_block),
      SYM(write_finish_entry),
      SYM(write_free),
      SYM(error_string),
      {"archive_errno", (void **)&la.errnum},
      SYM(entry_pathname),
      SYM(entry_set_pathname),
      SYM(entry_hardlink),
      SYM(entry_set_hardlink),
      SYM(entry_symlink),
      SYM(entry_filetype),
      SYM(entry_size),
      SYM(entry_mtime),
      SYM(entry_mtime_nsec),
      SYM(entry_size_is_set),
      SYM(entry_uid),
      SYM(entry_gid),
      SYM(entry_set_uid),
      SYM(entry_set_gid),
      SYM(entry_mode),
      SYM(entry_set_mode),
      SYM(entry_xattr_clear),
      SYM(entry_xattr_add_entry),
      SYM(entry_xattr_reset),
      SYM(entry_xattr_next),
      SYM(entry_clone),
      SYM(entry_free),
      SYM(entry_clear),
      SYM(entry_copy_pathname),
      SYM(entry_new),
      SYM(entry_set_filetype),
      SYM(entry_set_mtime),
      SYM(entry_set_perm),
      SYM(entry_set_size),
      SYM(read_close),
      SYM(read_disk_descend),
      SYM(read_disk_new),
      SYM(read_disk_open),
      SYM(read_disk_set_behavior),
      SYM(read_disk_set_standard_lookup),
      SYM(read_next_header2),
      SYM(read_open_filename),
      SYM(read_support_filter_all),
      SYM(write_add_filter_gzip),
      SYM(write_add_filter_zstd),
      SYM(write_close),
      SYM(write_data),
      SYM(write_new),
      SYM(write_open_fd),
      SYM(write_set_format_pax_restricted),
#undef SYM
  };
  for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
    *syms[i].slot = dlsym(h, syms[i].name);
    if (!*syms[i].slot) {
      silo_err(err, ENOENT, "%s: missing symbol %s", LIBARCHIVE_SONAME, syms[i].name);
      dlclose(h);
      return NULL;
    }
  }
  loaded = true;
  return &la;
}

struct archive *
libarchive_tar_reader(const struct libarchive *l, struct silo_error *err)
{
  struct archive *a = l->read_new();
  if (!a) return silo_err(err, ENOMEM, "archive_read_new"), NULL;
  /* ARCHIVE_WARN from a filter means "would run an external program": fine, the
   * Debian build has them all built in, and an archive that needs one just fails. */
  l->read_support_filter_gzip(a);
  l->read_support_filter_zstd(a);
  l->read_support_filter_xz(a);
  l->read_support_filter_bzip2(a);
  if (l->read_support_format_tar(a) != ARCHIVE_OK ||
      l->read_support_format_empty(a) != ARCHIVE_OK) {
    silo_err(err, EINVAL, "libarchive: %s", l->error_string(a));
    l->read_free(a);
    return NULL;
  }
  return a;
}
