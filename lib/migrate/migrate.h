/* silo lib/migrate/: live migration internals, shared by its files only.
 *
 *   lib/migrate/proto.c  frames over TCP, the handshake, the token file
 *   lib/migrate/tls.c    TLS 1.3 under the frames (GnuTLS, dlopen'ed): PSK or X.509
 *   lib/migrate/interrupt.c  SIGINT/SIGTERM end any wait
 *   lib/migrate/tree.c   directory trees: rootfs manifests (path, size, mode, sha256),
 *                    file transfer (rootfs and CRIU images)
 *   lib/migrate/sync.c   the receiver's side of a rootfs sync (the diff)
 *   lib/migrate/proc.c   helper processes (CRIU actions in a child), guardians,
 *                    CRIU checks, the lazy-pages daemon, the stdio of a restore
 *   lib/migrate/pump.c   the page-server tunnel (postcopy) and the wait loops
 *   lib/migrate/migrate.c `silo migrate`: the steps in order
 *   lib/migrate/src.c    its checks, rootfs, pre-dumps, cold switch, fallback
 *                    (their part of this header is at the end)
 *   lib/migrate/lazy.c   `silo migrate`: the postcopy/hybrid switch
 *   lib/migrate/dst.c    `silo migrate-receive`
 *   lib/migrate/report.c the report, text or JSON
 *   lib/migrate/stage.c  postcopy's image trees on a private, detached tmpfs
 *
 * The wire protocol is documented in docs/migration.md; the frame types below
 * are its numbers.
 */
#ifndef SILO_MIGRATE_H
#define SILO_MIGRATE_H

#include <jansson.h>
#include <stdint.h>

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"

/* ---- frames: type (1 byte), flags (1, zero), reserved (2, zero), length (4, BE) ---- */
#define MIG_HDR_LEN     8
#define MIG_MAX_PAYLOAD (16u << 20)
#define MIG_CHUNK       (1u << 20) /* read size for file data and tunnel payloads */
#define MIG_PROTO       1
/* Before authentication (docs/migration.md, "The receiver's limits"): frames of at
 * most 64 KiB, at most two of them worth of bytes, and a hard deadline counted
 * from accept, not reset by traffic. */
#define MIG_AUTH_MAX_PAYLOAD (64u << 10)
#define MIG_AUTH_DEADLINE_MS 10000

enum mig_type {
  MIG_HELLO = 1,     /* src: {"proto","nonce"} */
  MIG_CHALLENGE,     /* dst: {"nonce","mac"} */
  MIG_AUTH,          /* src: {"mac"} */
  MIG_AUTH_OK,       /* dst: {} */
  MIG_ERROR,         /* either: {"message"}; the sender closes after it */
  MIG_OFFER = 16,    /* src: what is coming (id, strategy, config) */
  MIG_ACCEPT,        /* dst: {"bundle","rootfs_present"} */
  MIG_MANIFEST = 32, /* src: [entry...] (several frames) */
  MIG_MANIFEST_END,  /* src: {"tree","count"} */
  MIG_WANT,          /* dst: [path...] (several frames) */
  MIG_WANT_END,      /* dst: {"count","bytes"} */
  MIG_SYNCED,        /* dst: {}: the rootfs pass is applied */
  MIG_FILE = 48,     /* src: {"tree","path","type","mode",...} */
  MIG_DATA,          /* src: raw file bytes */
  MIG_FILE_END,      /* src: {} */
  MIG_TREE_END,      /* src: {"tree","files","bytes"} */
  MIG_RESTORE = 64,  /* src: {"images","lazy"}: restore now */
  MIG_RESTORED,      /* dst: {"pid"}: the container runs on the destination */
  MIG_COMMIT,        /* src: the source gives the container up */
  MIG_DONE,          /* dst: {"pages"}: committed (postcopy: every page is here) */
  MIG_ABORT,         /* either: {"message"}: undo what was done */
  MIG_PAGES = 80,    /* either: page-server tunnel bytes */
  MIG_PAGES_EOF,     /* either: one direction of the tunnel is closed */
  MIG_PING = 96,     /* either: {} keepalive while one side works */
};
const char *mig_type_name(int type);

struct mig_tls;
struct mig_conn {
  int fd;              /* non-blocking */
  struct mig_tls *tls; /* every byte goes through it (lib/migrate/tls.c) */
  unsigned char *rbuf;
  size_t rlen, rcap, rpos; /* bytes [rpos, rlen) are unread */
  unsigned char *wbuf;
  size_t wlen, wcap, wpos; /* bytes [wpos, wlen) are unsent */
  uint64_t sent, received; /* bytes on the wire */
  unsigned idle_ms;        /* a wait for the peer fails after this long */
  size_t max_payload;      /* a longer frame is refused on its header (0: MIG_MAX_PAYLOAD) */
  char peer[80];
  /* called from the flushes at most every 0.2 s (progress lines) */
  void (*progress)(void *arg);
  void *progress_arg;
  double progress_at;
};
struct mig_frame {
  int type;
  const unsigned char *data; /* valid until the next receive */
  size_t len;
};

void mig_conn_init(struct mig_conn *c, int fd);
/* The socket's kernel buffers (both ways): 4 MiB from mig_conn_init. */
void mig_conn_buffers(struct mig_conn *c, int bytes);
void mig_conn_close(struct mig_conn *c);
/* "HOST:PORT" / "[V6]:PORT" -> sockaddr; listen/connect return the fd. */
int mig_listen(const char *addr, struct silo_error *err);
int mig_connect(const char *addr, unsigned timeout_ms, struct silo_error *err);
/* Queues a frame; mig_send also flushes (waits for the socket, idle_ms). */
void mig_queue(struct mig_conn *c, int type, const void *data, size_t len);
int mig_send(struct mig_conn *c, int type, const void *data, size_t len, struct silo_error *err);
int mig_send_json(struct mig_conn *c, int type, json_t *j, struct silo_error *err); /* steals j */
void mig_queue_json(struct mig_conn *c, int type, json_t *j);                       /* steals j */
/* One frame whose payload is the next len bytes of fd (sendfile). */
int mig_send_fd(struct mig_conn *c, int type, int fd, size_t len, struct silo_error *err);
int mig_flush(struct mig_conn *c, struct silo_error *err);
/* Calls c->progress if 0.2 s went by since the last call. */
void mig_progress_tick(struct mig_conn *c);
/* Non-blocking parts, for poll loops: write what the socket takes; read what is
 * there (0, or -1 on error / EOF with err set); a whole frame buffered? */
int mig_try_flush(struct mig_conn *c, struct silo_error *err);
int mig_try_read(struct mig_conn *c, struct silo_error *err);
bool mig_next_frame(struct mig_conn *c, struct mig_frame *f);
/* The error for a frame mig_next_frame rejected (type < 0): too long, or garbage. */
int mig_bad_frame(const struct mig_conn *c, const struct mig_frame *f, struct silo_error *err);
/* Blocking receive of one frame (idle_ms; PING frames are skipped). */
int mig_recv(struct mig_conn *c, struct mig_frame *f, struct silo_error *err);
/* Receives a JSON frame of type `want` (an ERROR frame becomes err). */
int mig_recv_json(struct mig_conn *c, int want, json_t **out, struct silo_error *err);
/* An ERROR / ABORT frame's message into err ("destination: ..."). */
int mig_frame_error(const struct mig_frame *f, const char *who, struct silo_error *err);
json_t *mig_frame_json(const struct mig_frame *f);
/* After a failed send: an ERROR frame the peer left behind explains it better. */
void mig_explain_failure(struct mig_conn *c, const char *who, struct silo_error *err);
/* Set by SIGINT/SIGTERM while a migration runs: every wait gives up. */
extern volatile sig_atomic_t mig_interrupted;
void mig_catch_signals(void);

/* ---- authentication ---- */
#define MIG_KEY_MAX 4096
struct mig_token {
  unsigned char key[MIG_KEY_MAX];
  size_t len;
};
int mig_token_load(const char *path, struct mig_token *t, struct silo_error *err);
/* Challenge-response both ways (docs/migration.md): the source proves it holds the
 * token and checks that the receiver does too. */
int mig_auth_source(struct mig_conn *c, const struct mig_token *t, struct silo_error *err);
int mig_auth_receiver(struct mig_conn *c, const struct mig_token *t, struct silo_error *err);
/* The receiver's side one frame at a time, for a poll loop over several peers:
 * queues the answer to f (flush it); 0: go on, 1: authenticated (AUTH_OK queued),
 * -1: refused (err; an ERROR frame for the peer may be queued). */
struct mig_auth {
  int stage; /* 0: HELLO expected, 1: AUTH expected, 2: done */
  unsigned char ns[32], nr[32];
};
int mig_auth_receiver_step(struct mig_conn *c, struct mig_auth *a, const struct mig_token *t,
                           const struct mig_frame *f, struct silo_error *err);

/* ---- TLS 1.3 (lib/migrate/tls.c) ----
 * Default: a PSK derived from the token (mig_tls_psk); with all three files, X.509
 * certificates both ways, verified against the CA.  GnuTLS is dlopen'ed. */
struct mig_tls_files {
  const char *cert, *key, *ca; /* all NULL: PSK from the token */
};
struct mig_tls_creds;
/* HMAC-SHA256(token, "silo-migrate/1 tls-psk\n"): the PSK of identity "silo-migrate". */
void mig_tls_psk(const struct mig_token *t, unsigned char out[32]);
int mig_tls_creds_load(const struct mig_token *t, const struct mig_tls_files *f, bool server,
                       struct mig_tls_creds **out, struct silo_error *err);
void mig_tls_creds_free(struct mig_tls_creds *cr);
/* Puts a TLS session (client or server, as cr says) on c; the handshake is next. */
int mig_tls_start(struct mig_conn *c, const struct mig_tls_creds *cr, struct silo_error *err);
/* One non-blocking step: 1 done, 0 call again when the socket is ready
 * (mig_tls_wants_write: for writing), -1 failed (err says why). */
int mig_tls_handshake_step(struct mig_conn *c, struct silo_error *err);
bool mig_tls_wants_write(const struct mig_conn *c);
/* The whole handshake, blocking, within timeout_ms. */
int mig_tls_handshake(struct mig_conn *c, unsigned timeout_ms, struct silo_error *err);
/* mig_try_flush / mig_try_read of a TLS connection; mig_conn_close's part. */
int mig_tls_flush(struct mig_conn *c, struct silo_error *err);
int mig_tls_read(struct mig_conn *c, struct silo_error *err);
void mig_tls_close(struct mig_conn *c);

/* ---- the receiver's listening socket (lib/migrate/listen.c) ----
 * Accepts in a loop and runs the handshakes of unauthenticated peers side by side
 * (poll), each with MIG_AUTH_DEADLINE_MS from its accept and MIG_AUTH_MAX_PAYLOAD
 * frames; at most MIG_PENDING_MAX at once (the oldest goes when one more comes).
 * Peers that connect while a migration is served wait until the next call. */
#define MIG_PENDING_MAX 32
struct mig_pending;
struct mig_listener {
  int fd; /* non-blocking */
  struct mig_pending *p[MIG_PENDING_MAX];
  size_t n;
  const struct mig_tls_creds *creds; /* the receiver's TLS credentials */
  /* told of every peer refused before authentication */
  void (*refused)(void *arg, const char *peer, const char *why);
  void *arg;
};
void mig_listener_init(struct mig_listener *l, int fd);
/* Until a peer authenticates: its connection into *out (AUTH_OK queued or sent,
 * no frame limit left); -1 on an accept error or a signal. */
int mig_listener_next(struct mig_listener *l, const struct mig_token *t, struct mig_conn *out,
                      struct silo_error *err);
void mig_listener_close(struct mig_listener *l);
void mig_hex(const unsigned char *in, size_t n, char *out);
int mig_unhex(const char *in, unsigned char *out, size_t n);

/* ---- trees (lib/migrate/tree.c) ---- */
struct mig_stats {
  uint64_t rootfs_bytes, image_bytes, page_bytes;
  uint64_t files;
};
/* The source's view of a rootfs: entries with the stat data that lets a second
 * pass reuse the hashes of files that did not change. */
struct mig_manifest {
  json_t *entries; /* object path -> entry */
};
void mig_manifest_free(struct mig_manifest *m);
/* Walks root; `prev` (or NULL) lends hashes of unchanged files. */
int mig_manifest_build(const char *root, const struct mig_manifest *prev, struct mig_manifest *out,
                       struct silo_error *err);
/* Source: manifest out, wants in, wanted files out.  *bytes: file data sent. */
int mig_sync_rootfs_send(struct mig_conn *c, const char *root, struct mig_manifest *m,
                         uint64_t *bytes, struct silo_error *err);
/* Receiver: makes the directory rootfd equal to the manifest that comes in,
 * from its first MIG_MANIFEST frame on; `known` is the previous pass's manifest
 * (no entries: hash what is on disk), replaced by this one. */
int mig_sync_rootfs_recv(struct mig_conn *c, const struct mig_frame *first, int rootfd,
                         struct mig_manifest *known, uint64_t *bytes, struct silo_error *err);
/* Sends every file of dir as tree `name` (regular files, dirs, symlinks), then
 * TREE_END; *bytes: file data sent, *pages: of which pages-*.img. */
int mig_send_tree(struct mig_conn *c, const char *dir, const char *name, uint64_t *bytes,
                  uint64_t *pages, struct silo_error *err);
/* Receiver: files of one tree into dirfd/<tree name> until TREE_END; the first
 * MIG_FILE frame is `first`.  *tree gets the name (malloc'ed).  spill >= 0:
 * dirfd is the capped staging tmpfs; before a file it has no room for, the tree
 * so far moves to spill/<tree name> and the rest goes there (*spilled set). */
int mig_recv_tree(struct mig_conn *c, int dirfd, int spill, bool *spilled,
                  const struct mig_frame *first, char **tree, uint64_t *bytes,
                  struct silo_error *err);
/* A peer's relative path: no "..", no empty or absolute parts. */
bool mig_path_ok(const char *p);
/* The target of a symlink an image tree has at `path` (relative to the tree):
 * relative, `..` only as leading parts and never above the receiver's .migrate
 * directory (the tree is one level below it), e.g. a pre-dump's `../pre-1`. */
bool mig_link_ok(const char *path, const char *target);
/* One clean path component from a peer (a root.path, a tree's name): not empty,
 * not `.` or `..`, no `/`. */
bool mig_name_ok(const char *name);
/* Makes dirfd/name (a mig_name_ok name) unless it is there, and opens it beneath
 * dirfd without following symlinks; *created (or NULL): mkdir made it. */
int mig_mkdir_beneath(int dirfd, const char *name, mode_t mode, bool *created,
                      struct silo_error *err);
/* The directory holding path beneath rootfd (no symlinks followed); *leaf: its name. */
int mig_open_parent(int rootfd, const char *path, const char **leaf, struct silo_error *err);
int mig_hash_fd(int fd, char hex[65], uint64_t *n, struct silo_error *err);
/* DATA frames up to FILE_END into a temporary file, checked against the manifest
 * entry's sha256 (when entry is given: its owner, mode and mtime too), renamed
 * over path. */
int mig_recv_file(struct mig_conn *c, int rootfd, const char *path, json_t *hdr, json_t *entry,
                  uint64_t *bytes, struct silo_error *err);
/* Sum of the sizes of pages-*.img in dir. */
uint64_t mig_pages_size(const char *dir);

/* ---- helper processes (lib/migrate/proc.c) ---- */
struct mig_child {
  pid_t pid;
  int pidfd;  /* readable when it exited */
  int errfd;  /* its error message */
  int status; /* wait status once reaped */
  bool reaped;
};
/* Runs fn in a forked child with stdio (NULL: inherited; -1 entries: /dev/null). */
int mig_child_start(struct mig_child *ch, int (*fn)(void *arg, struct silo_error *err), void *arg,
                    const int stdio[3], struct silo_error *err);
/* Waits (timeout_ms < 0: forever); the child's error becomes err. */
int mig_child_wait(struct mig_child *ch, int timeout_ms, struct silo_error *err);
bool mig_child_exited(struct mig_child *ch);
void mig_child_kill(struct mig_child *ch);
void mig_child_close(struct mig_child *ch);

/* A guardian: a child that runs `action` when the process that made it dies (or
 * closes the guard) before mig_guard_release.  For "never on neither host and
 * never on both" when silo itself is killed in the middle.  It keeps nothing of
 * its parent's open but keep_fd (>= 0), which it has as fd 4. */
struct mig_guard {
  pid_t pid;
  int fd; /* write end: 'c' released, EOF: act */
};
int mig_guard_arm(struct mig_guard *g, int (*action)(void *arg), void *arg, int keep_fd,
                  struct silo_error *err);
void mig_guard_release(struct mig_guard *g); /* no action */
void mig_guard_fire(struct mig_guard *g);    /* act now, and wait for it */

/* `criu check --feature F` (the binary of ctx) succeeds? */
bool mig_criu_feature(struct silo_context *ctx, const char *feature);
/* fs.pipe-max-size is enough for CRIU's lazy pages (4 MiB without CAP_SYS_RESOURCE). */
int mig_lazy_pipe_check(struct silo_error *err);
/* `criu lazy-pages --page-server --ps-socket FD -D images -W work`. */
int mig_lazy_daemon_start(struct silo_context *ctx, const char *images, const char *work, int ps_fd,
                          struct mig_child *ch, struct silo_error *err);
/* The first "Error (...)" lines of a CRIU log, each on a line of its own. */
void mig_log_errors(const char *path, char *buf, size_t len);
/* silo_restore -d in a helper (mig_child_start(..., mig_restore_fn, &r, stdio, ...)),
 * with --tcp-established; silo's debug messages off (fds 0-2 are the container's). */
struct mig_restore {
  struct silo_context *ctx;
  const char *id, *bundle, *images, *work;
  unsigned timeout;
  bool lazy;
  bool paused;            /* cold receiver: frozen until the source commits */
  const char *netns_path; /* silo's own network: restored into this namespace */
};
int mig_restore_fn(void *arg, struct silo_error *err);
/* From the images' silo-checkpoint.json: the init's stdio files reopened (on the
 * source, after a failed migration; -1 for the rest) / described with their mode
 * and size as they are now (for the receiver, which makes replacements CRIU takes). */
void mig_stdio_reopen(const char *images, int fds[3]);
json_t *mig_stdio_now(const char *images);
/* The receiver: a stdio device the peer named, opened with flags only when it is
 * a character device of the allow-list (/dev/null, zero, full, random, urandom);
 * a file, a FIFO, a symlink or another device is refused. */
int mig_stdio_dev_open(const char *path, int flags, struct silo_error *err);
/* A free TCP port on 127.0.0.1. */
int mig_free_port(struct silo_error *err);

/* ---- postcopy's image trees on a private tmpfs (lib/migrate/stage.c) ----
 * Attached nowhere; freed by the kernel when its last holder (this process, its
 * forks, CRIU) is gone, killed or not.  path: /proc/<this pid>/fd/<fd>, for
 * helpers and CRIU. */
struct mig_stage {
  int fd; /* -1: none (the trees go to disk) */
  char path[48];
};
/* its size (bytes); SILO_MIGRATE_STAGE_MAX overrides */
#define MIG_STAGE_MAX (256ull << 20)
/* and its inodes (CRIU's image files: a few per task), each of them kernel memory */
#define MIG_STAGE_INODES 32768u
int mig_stage_open(struct mig_stage *st, struct silo_error *err);
void mig_stage_close(struct mig_stage *st);
/* Has the filesystem of fd room for bytes more (and a little)? */
bool mig_stage_room(int fd, uint64_t bytes);

/* ---- the page-server tunnel and the waits (lib/migrate/pump.c) ---- */
struct mig_pump {
  struct mig_conn *c;
  int local;          /* page-server side socket, -1 when closed */
  bool local_eof;     /* it closed its sending side */
  bool peer_eof;      /* the peer's PAGES_EOF arrived */
  bool eof_hold;      /* do not pass it on to `local` (mig_pump_drain_local will) */
  unsigned char *out; /* queued for `local` */
  size_t olen, ocap, opos;
  uint64_t to_peer, from_peer; /* tunnel payload bytes */
  uint64_t local_written;      /* bytes written to local (source: requests to CRIU) */
  uint64_t *shared_written;    /* the same, in memory a guardian shares (or NULL) */
  double last_rx, last_ping;
  /* a frame that is not tunnel traffic goes here; return <0 to stop (err set),
   * 1 to stop the loop successfully, 0 to go on */
  int (*on_frame)(void *arg, const struct mig_frame *f, struct silo_error *err);
  /* called every loop turn (progress, child checks); same return convention */
  int (*on_tick)(void *arg, struct silo_error *err);
  void *arg;
  int extra_fd; /* also wake up when this becomes readable (-1: none) */
};
void mig_pump_init(struct mig_pump *p, struct mig_conn *c, int local);
void mig_pump_free(struct mig_pump *p);
/* Runs until a callback returns 1 (0 returned) or fails (-1).  Pings the peer
 * every second; fails when the peer was silent for c->idle_ms. */
int mig_pump_run(struct mig_pump *p, struct silo_error *err);
/* Writes what is still queued for `local` (and its EOF, if the peer sent one). */
void mig_pump_drain_local(struct mig_pump *p, int timeout_ms);
/* Source: makes the lazy dump fail, so that CRIU resumes the tasks: an incomplete
 * request, then EOF. */
void mig_pump_poison(struct mig_pump *p);
/* The same, by a guardian: on fd, `written` bytes written so far. */
void mig_poison_fd(int fd, uint64_t written);

/* ---- the source side: what lib/migrate/src.c (checks, rootfs, pre-dumps, cold
 * switch, fallback) and lib/migrate/lazy.c (the postcopy switch) share.  Private to
 * those two files. ---- */
struct src {
  struct silo_context *ctx;
  const struct silo_migrate_opts *o;
  struct silo_migrate_report *rep;
  struct silo_state st;
  char *config;
  size_t config_len;
  bool readonly_root, lazy;
  char *work;
  char *images;           /* where the image trees go: work, or postcopy's tmpfs */
  struct mig_stage stage; /* postcopy: that tmpfs */
  struct mig_conn c;
  struct mig_tls_creds *tls;
  struct mig_manifest man;
  double t0, t_freeze; /* t_freeze: the tasks stopped (*frozen_at once known) */
  double t_restore;    /* RESTORE sent: the transfer ends, the restore begins */
  double *frozen_at;   /* set by the dump helper at the freeze (MAP_SHARED) */
  char *parent;        /* "../pre-N" for the final dump */
  struct mig_child dump;
  struct mig_guard guard;
  bool conn_broken, restored, dest_done, dump_ok, keep_work;
  struct silo_error conn_err;
  struct mig_pump *pump; /* while one runs */
  struct lazy_shared {   /* postcopy: what the source's guardian needs to know */
    uint64_t written;    /* bytes passed on to CRIU's page server */
    int done;            /* the destination has every page: EOF, not poison */
  } * lazy_shared;
  json_t *net; /* silo's own network: the lease the OFFER carries (lib/network/move.c) */
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
/* The freeze time: what the dump helper recorded, else from CRIU's dump.log in
 * work (it logs from its own start). */
void src_adjust_freeze(struct src *s, const char *work);
char *src_work_path(struct src *s, const char *name);
/* An image tree (final, pre-N): in s->images. */
char *src_images_path(struct src *s, const char *name);
void src_tell_abort(struct src *s, const char *why);
/* The pump's frames while the switch runs: RESTORED, DONE, errors. */
int src_switch_frame(void *arg, const struct mig_frame *f, struct silo_error *err);
int src_frame_unexpected(void *arg, const struct mig_frame *f, struct silo_error *err);
int src_sync_rootfs(struct src *s, bool second, struct silo_error *err);
int src_send_images(struct src *s, const char *name, struct silo_error *err);
void src_remove_work(const char *work);
/* silo's own network: the veth's host end down (quiet) or up again; nothing
 * without it. */
void src_net_quiet(struct src *s, bool quiet);
/* The steps of `silo migrate` (lib/migrate/migrate.c runs them in order). */
int src_load_container(struct src *s, struct silo_error *err);
int src_handshake(struct src *s, struct silo_error *err);
int src_predump(struct src *s, unsigned max, struct silo_error *err);
int src_cold_switch(struct src *s, struct silo_error *err);
/* lib/migrate/lazy.c */
int src_postcopy_switch(struct src *s, struct silo_error *err);

#endif
