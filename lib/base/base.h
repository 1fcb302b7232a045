/* silo lib/base/: what every part of lib/ stands on, and nothing of containers.
 *
 *   error.c    the one error convention (error.h, also installed as <silo/error.h>)
 *   log.c      --log / --log-format / --debug (declared in lib/silo.h: cmd/ uses it)
 *   fsutil.c   files, and paths resolved safely inside a root (openat2 RESOLVE_IN_ROOT)
 *   time.c     clocks and timestamps
 *   child.c    waiting for a child with a deadline
 *   signals.c  signal names
 *   sha256.c   SHA-256, to verify image blobs and for the migration HMAC
 *   archive.c  libarchive, loaded with dlopen on first use (images and checkpoints)
 *
 * Includes only error.h and lib/silo.h's logging; nothing here knows of containers.
 */
#ifndef SILO_BASE_H
#define SILO_BASE_H

#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/base/error.h"

/* ---- log.c (the rest is in lib/silo.h) ---- */
/* An error line made of the NULL-terminated parts (at most 8), to stderr and to
 * --log, with write(2) alone: for a process whose heap may be half-updated and must
 * not be touched again (exec.c: a child that shared silo's memory was killed). */
void log_error_heapless(const char *const *parts);

/* ---- fsutil.c: files, and paths resolved safely inside a root ---- */
int fs_read_file(const char *path, char **buf, size_t *len, struct silo_error *err);
int fs_read_file_at(int dirfd, const char *path, char **buf, size_t *len, struct silo_error *err);
/* Writes data to an existing file (e.g. in /proc or /sys): open, one write, close. */
int fs_write_file(const char *path, const char *data, size_t len, struct silo_error *err);
int fs_write_file_at(int dirfd, const char *path, const char *data, size_t len,
                     struct silo_error *err);
/* Replaces dirfd/name atomically (write to a new temp name, fsync not needed on tmpfs,
 * rename); safe in a directory others can write to. */
int fs_write_file_atomic(int dirfd, const char *name, const char *data, size_t len,
                         struct silo_error *err);
/* The same, synced: the file before the rename, the directory after (for records
 * that must survive a crash of the host). */
int fs_write_file_durable(int dirfd, const char *name, const char *data, size_t len,
                          struct silo_error *err);
/* fsync of the directory dirfd (which may be an O_PATH fd). */
int fs_sync_dir(int dirfd, struct silo_error *err);
/* Opens path inside rootfd as if rootfd were "/": symlinks and ".." cannot leave it
 * (openat2 RESOLVE_IN_ROOT, with a component-by-component fallback). */
int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct silo_error *err);
/* Where path leads inside rootfd, as RESOLVE_IN_ROOT would take it, as a path
 * relative to it with no symlink ("" for the root itself); *climbed is set when a
 * ".." (written, or from a symlink) would have gone above the root.  A lexical
 * answer for messages and checks: what is then opened must still be opened with
 * fs_open_in_root, which the kernel holds inside. */
int fs_canonical_in_root(int rootfd, const char *path, char out[PATH_MAX], bool *climbed,
                         struct silo_error *err);
/* The id of the mount fd is on (statx; the unique id of Linux 6.8 when there is one). */
int fs_mount_id(int fd, uint64_t *id, struct silo_error *err);
/* Whether the mount of unique id (fs_mount_id's, Linux 6.8) is attached in our mount
 * namespace: 1 or 0; -1 with err (ENOSYS before Linux 6.8, where ids are reused). */
int fs_mount_attached(uint64_t id, struct silo_error *err);
/* Creates the directories of path inside rootfd; returns an O_PATH fd of the last one. */
int fs_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct silo_error *err);
/* Makes sure path exists inside rootfd as a directory (is_dir) or an empty file, creating
 * parents; returns an O_PATH fd of it, to mount onto through /proc/self/fd. */
int fs_mkpath_in_root(int rootfd, const char *path, bool is_dir, struct silo_error *err);
/* Opens a regular file of at most max bytes inside rootfd for reading; anything else
 * (a FIFO, a device, a socket, a directory) is refused without blocking or side
 * effects: for files from untrusted images. */
int fs_open_regular_in_root(int rootfd, const char *path, size_t max, struct silo_error *err);
/* Reads a user's file (path followed as given) whole, refused as above when it is
 * not a regular file of at most max bytes (NUL-terminated; *len may be NULL). */
int fs_read_regular(const char *path, size_t max, char **buf, size_t *len, struct silo_error *err);
/* Reads such a file whole (NUL-terminated; *len may be NULL). */
int fs_read_regular_in_root(int rootfd, const char *path, size_t max, char **buf, size_t *len,
                            struct silo_error *err);
/* 64 random bits (getrandom, or a time and pid mix before the pool is ready). */
uint64_t fs_random_u64(void);
/* Creates and opens (write-only, 0600) a new file "<prefix>.<random>.tmp" in dirfd with
 * O_EXCL|O_NOFOLLOW (prefix may be a path); its name is put in tmp. */
int fs_create_tmp_file(int dirfd, const char *prefix, char *tmp, size_t len,
                       struct silo_error *err);
/* mkdir -p: the missing parents of path with parent_mode, path itself with mode
 * (an existing directory is fine; symlinks on the way are followed: for paths the
 * user or silo chose, never for paths inside a container). */
int fs_mkdir_p(const char *path, mode_t parent_mode, mode_t mode, struct silo_error *err);
/* Removes a directory tree (no symlinks followed); missing is fine.  err may be
 * NULL where the removal is best effort (a clean-up after another failure). */
int fs_rm_rf_at(int dirfd, const char *name, struct silo_error *err);
/* Copies what directory srcdir holds into directory dstdir (both fds of directories):
 * files, directories, symlinks (as links), device nodes and FIFOs, with owners, modes
 * and times; sockets are left out.  Nothing is followed: each entry is opened beneath
 * its parent's fd with O_NOFOLLOW, so a symlink in srcdir cannot lead the copy out of
 * it.  For tmpcopyup (a tmpfs seeded with its mount point's content). */
int fs_copy_tree_at(int srcdir, int dstdir, struct silo_error *err);
/* "/proc/self/fd/N" */
#define PROC_FD_PATH_MAX 32
const char *fs_proc_fd_path(char buf[PROC_FD_PATH_MAX], int fd);
/* Reads state and start time (field 22) of /proc/<pid>/stat.  A query, not an
 * operation: -1 means "no such process (any more)", which callers take as an
 * answer (stopped, reused pid), so it carries no error. */
int fs_proc_stat(pid_t pid, char *state, unsigned long long *start_time);
/* The root directory (O_PATH) of process pid, proven to be the process pidfd names
 * and, with start_time not 0, the one that started then (fs_proc_stat's clock).
 * pidfd -1: one is opened here for the proof.  ESRCH when the process is gone or
 * the pid names another one. */
int fs_proc_open_root(pid_t pid, int pidfd, unsigned long long start_time, struct silo_error *err);

/* ---- time.c ---- */
/* CLOCK_MONOTONIC in milliseconds and in seconds. */
int64_t time_mono_ms(void);
double time_mono_s(void);
/* RFC 3339 UTC timestamp with nanoseconds. */
void time_rfc3339(char *buf, size_t len);

/* ---- child.c ---- */
/* Reaps the child pid, waiting at most timeout_ms: 1 when it was reaped (*status
 * filled), 0 when it still runs after the deadline (not killed, not reaped).
 * A waitpid error (not our child) also ends the wait with 1, *status untouched. */
int child_wait_ms(pid_t pid, int timeout_ms, int *status);

/* ---- creds.c ---- */
/* Becomes uid and gid 0 of the user namespace we are in (joined or new), so that
 * files we create have an owner the namespace maps.  Keeps the capabilities the
 * namespace gave us (the ids change to the namespace's root). */
int creds_become_root(struct silo_error *err);
/* UID[:GID], decimal digits only, each 0..4294967294 ((uid_t)-1 means "unchanged" to
 * the kernel); *has_gid false when no GID is given.  -1 for anything else. */
int creds_parse_ids(const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid);
/* An entry of an /etc/passwd text, found by name (name != NULL) or by uid; the text is
 * cut up on the way.  An empty home is "/".  0 when found, -1 when not. */
struct creds_pw {
  uint32_t uid, gid;
  char name[256], home[4096];
};
int creds_passwd_lookup(char *passwd, const char *name, uint32_t uid, struct creds_pw *pw);

/* ---- env.c ---- */
/* The value of NAME in a list of n "NAME=VALUE" strings, or NULL. */
const char *env_get(const char *const *env, size_t n, const char *name);

/* ---- signals.c ---- */
const char *signal_name(int sig);

/* ---- lib/base/sha256.c ---- */
struct sha256 {
  uint32_t h[8];
  uint64_t len;
  unsigned char buf[64];
  size_t n;
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Finishes and writes the 64 lowercase hex digits (plus NUL). */
void sha256_hex(struct sha256 *s, char out[65]);
/* Finishes and writes the 32 bytes of the digest. */
void sha256_raw(struct sha256 *s, unsigned char out[32]);
/* HMAC-SHA256 (RFC 2104) of msg under key. */
void sha256_hmac(const void *key, size_t keylen, const void *msg, size_t len,
                 unsigned char out[32]);

/* ---- archive.c: the libarchive functions silo uses, called through a table filled
 * by dlopen (see archive.c why).  <archive.h> is included for its types and constants
 * only: nothing links against libarchive. ---- */
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
  /* checkpoint archives (lib/criu/checkpoint_archive.c) */
  LA_FN(entry_clear);
  LA_FN(entry_copy_pathname);
  LA_FN(entry_new);
  LA_FN(entry_set_filetype);
  LA_FN(entry_set_mtime);
  LA_FN(entry_set_perm);
  LA_FN(entry_set_size);
  LA_FN(read_close);
  LA_FN(read_disk_descend);
  LA_FN(read_disk_new);
  LA_FN(read_disk_open);
  LA_FN(read_disk_set_behavior);
  LA_FN(read_disk_set_standard_lookup);
  LA_FN(read_next_header2);
  LA_FN(read_open_filename);
  LA_FN(read_support_filter_all);
  LA_FN(write_add_filter_gzip);
  LA_FN(write_add_filter_zstd);
  LA_FN(write_close);
  LA_FN(write_data);
  LA_FN(write_new);
  LA_FN(write_open_fd);
  LA_FN(write_set_format_pax_restricted);
};
#undef LA_FN

/* libarchive.so.13, loaded on first use (images and checkpoint archives); NULL (err
 * set) when it or one of the functions is missing. */
const struct libarchive *libarchive_get(struct silo_error *err);

/* A reader for tar streams, with the decompressors images use (gzip, zstd, and xz /
 * bzip2 for hand-made archives); NULL (err set) on failure. */
struct archive *libarchive_tar_reader(const struct libarchive *la, struct silo_error *err);

#endif
