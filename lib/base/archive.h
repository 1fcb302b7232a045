/* silo lib/: the libarchive functions image*.c use, called through a table filled by
 * dlopen (see lib/base/archive.c).  archive.h is included for its types and constants
 * only: nothing here links against libarchive. */
#ifndef SILO_IMAGE_ARCHIVE_H
#define SILO_IMAGE_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include "lib/image/image.h"

#define LA_FN(name) __typeof__(archive_##name) *name
struct libarchive {
  LA_FN(read_new);
  LA_FN(read_support_filter_gzip);
  LA_FN(read_support_filter_zstd);
  LA_FN(read_support_filter_xz);
  LA_FN(read_support_filter_bzip2);
  LA_FN(read_support_format_tar);
  LA_FN(read_support_format_empty);
  LA_FN(read_open);
  LA_FN(read_open_fd);
  LA_FN(read_next_header);
  LA_FN(read_data);
  LA_FN(read_data_block);
  LA_FN(read_data_skip);
  LA_FN(read_free);
  LA_FN(write_disk_new);
  LA_FN(write_disk_set_options);
  LA_FN(write_header);
  LA_FN(write_data_block);
  LA_FN(write_finish_entry);
  LA_FN(write_free);
  LA_FN(error_string);
  __typeof__(archive_errno) *errnum; /* `errno` is a macro */
  LA_FN(entry_pathname);
  LA_FN(entry_set_pathname);
  LA_FN(entry_hardlink);
  LA_FN(entry_set_hardlink);
  LA_FN(entry_symlink);
  LA_FN(entry_filetype);
  LA_FN(entry_size);
  LA_FN(entry_mtime);
  LA_FN(entry_mtime_nsec);
  LA_FN(entry_size_is_set);
  LA_FN(entry_uid);
  LA_FN(entry_gid);
  LA_FN(entry_set_uid);
  LA_FN(entry_set_gid);
  LA_FN(entry_mode);
  LA_FN(entry_set_mode);
  LA_FN(entry_xattr_clear);
  LA_FN(entry_xattr_add_entry);
  LA_FN(entry_xattr_reset);
  LA_FN(entry_xattr_next);
  LA_FN(entry_clone);
  LA_FN(entry_free);
};
#undef LA_FN

/* A reader for tar streams, with the decompressors images use (gzip, zstd, and xz /
 * bzip2 for hand-made archives); NULL (err set) on failure. */
struct archive *libarchive_tar_reader(const struct libarchive *la, struct silo_error *err);

#endif
