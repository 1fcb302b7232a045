/* silo: the one error convention and the cleanup helpers every module uses.
 *
 * This header (with lib/base/error.c) is the leaf of the dependency graph: oci/, cgroup/
 * and netns/ include it, and it includes nothing of silo's.
 *
 * Convention: a function that can fail returns int (negative on failure) and fills
 * the `struct silo_error *err` it was given.  Callers add context as the error goes
 * up, so the user reads the whole path:
 *     create `web`: mount `/proc`: Permission denied
 *
 * The convention is part of libsilo's public API (docs/libsilo.md): `make install`
 * installs this header as <silo/error.h>, without silo's own helpers (the marked
 * part below).
 */
#ifndef SILO_ERROR_H
#define SILO_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef __cplusplus /* a C++ program links the C names */
extern "C" {
#endif

/* Marks the functions of the public API (this header and silo.h): libsilo.so is
 * built with -fvisibility=hidden, so they are the only symbols it exports. */
#ifndef SILO_API
#define SILO_API __attribute__((visibility("default")))
#endif

#define SILO_ERROR_MSG_MAX 2048

struct silo_error {
  int errnum;                   /* errno of the root cause, 0 if none */
  char msg[SILO_ERROR_MSG_MAX]; /* message without the errno text */
};

/* Sets errnum and a formatted message; returns -1 so that `return silo_err(...)` works. */
SILO_API int silo_err(struct silo_error *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, from a va_list. */
SILO_API int silo_verr(struct silo_error *e, int errnum, const char *fmt, va_list ap);
/* Prefixes context: "ctx: <previous message>"; keeps errnum; returns -1. */
SILO_API int silo_err_wrap(struct silo_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Full text: "<msg>: <strerror(errnum)>" (or just msg when errnum is 0). */
SILO_API const char *silo_err_str(const struct silo_error *e, char *buf, size_t len);
/* Clears an error. */
SILO_API void silo_err_clear(struct silo_error *e);

/* SILO_INTERNAL_BEGIN: silo's own helpers, not installed (make install drops
 * everything from here to SILO_INTERNAL_END; libsilo.so does not export them). */

/* ---- cleanup attributes: return from anywhere without leaking ---- */

static inline void
silo_freep(void *p)
{
  free(*(void **)p);
}
static inline void
silo_closep(int *fd)
{
  if (*fd >= 0) close(*fd);
}
static inline void
silo_fclosep(FILE **f)
{
  if (*f) fclose(*f);
}
static inline void
silo_strvfreep(char ***v)
{
  if (*v) {
    for (char **p = *v; *p; p++) free(*p);
    free(*v);
  }
}

#define _cleanup_free_   __attribute__((cleanup(silo_freep)))
#define _cleanup_close_  __attribute__((cleanup(silo_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(silo_fclosep)))
#define _cleanup_strv_   __attribute__((cleanup(silo_strvfreep)))

/* Closes an fd kept in a struct and marks it closed. */
static inline void
close_fd(int *fd)
{
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Hands a cleaned-up value to the caller: `return steal_fd(&fd);` */
static inline int
steal_fd(int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}
static inline void *
steal_ptr(void *pp)
{
  void **p = (void **)pp;
  void *r = *p;
  *p = NULL;
  return r;
}

/* Allocation that cannot fail silently: out of memory ends the process with a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* SILO_INTERNAL_END */

#ifdef __cplusplus
}
#endif

#endif
