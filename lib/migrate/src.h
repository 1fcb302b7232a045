/* silo lib/: what the source side of a migration shares between lib/migrate/src.c
 * (checks, rootfs, pre-dumps, cold switch, fallback) and lib/migrate/lazy.c (the
 * postcopy switch).  Private to those two files. */
#ifndef SILO_MIGRATE_SRC_H
#define SILO_MIGRATE_SRC_H

#include "lib/migrate/migrate.h"

struct src {
  struct silo_context *ctx;
  const struct silo_migrate_opts *o;
  struct silo_migrate_report *rep;
  struct silo_state st;
  char *config;
  size_t config_len;
  bool readonly_root, lazy;
  char *work;
  struct mig_conn c;
  struct mig_manifest man;
  double t0, t_freeze;
  char *parent; /* "../pre-N" for the final dump */
  struct mig_child dump;
  struct mig_guard guard;
  bool conn_broken, restored, dest_done, dump_ok, keep_work;
  struct silo_error conn_err;
  struct mig_pump *pump; /* while one runs */
  struct lazy_shared {   /* postcopy: what the source's guardian needs to know */
    uint64_t written;    /* bytes passed on to CRIU's page server */
    int done;            /* the destination has every page: EOF, not poison */
  } * lazy_shared;
  const char *phase;
  double rate_at;
  uint64_t rate_bytes;
};

struct dump_args {
  struct src *s;
  char *images, *work, *parent, ps[32];
  bool pre, lazy;
  int status_fd;
};

int src_err_then(struct silo_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void src_progress_line(struct src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool src_container_running(struct src *s);
/* silo_checkpoint in a helper (mig_child_start) */
int src_dump_fn(void *arg, struct silo_error *err);
/* The freeze time from CRIU's dump.log in work (it logs from its own start). */
void src_adjust_freeze(struct src *s, const char *work);
char *src_work_path(struct src *s, const char *name);
void src_tell_abort(struct src *s, const char *why);
/* The pump's frames while the switch runs: RESTORED, DONE, errors. */
int src_switch_frame(void *arg, const struct mig_frame *f, struct silo_error *err);
int src_frame_unexpected(void *arg, const struct mig_frame *f, struct silo_error *err);
int src_sync_rootfs(struct src *s, bool second, struct silo_error *err);
int src_send_images(struct src *s, const char *name, struct silo_error *err);
void src_remove_work(const char *work);
/* lib/migrate/lazy.c */
int src_postcopy_switch(struct src *s, struct silo_error *err);

#endif
