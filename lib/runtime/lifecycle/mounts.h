/* silo: `mounts add` / `mounts remove`, what they share (internal). */
#ifndef SILO_RUNTIME_LIFECYCLE_MOUNTS_H
#define SILO_RUNTIME_LIFECYCLE_MOUNTS_H

#include <stdint.h>
#include <stddef.h>

#include "lib/base/error.h"

/* The record (mounts.json in the container's state directory): what `add`
 * attached, by destination and mount id. */
struct added {
  char *dest; /* lexically clean */
  uint64_t id;
};

struct record {
  struct added *v;
  size_t n;
};

void record_free(struct record *r);
void record_push(struct record *r, const char *dest, uint64_t id);
/* Drops the entry of mount id (the last one with it). */
void record_drop(struct record *r, uint64_t id);
/* A missing file is an empty record; anything unreadable is an error (never guessed). */
int record_read(int dirfd, struct record *r, struct silo_error *err);
/* Replaces the file (or removes it when r is empty). */
int record_write(int dirfd, const struct record *r, struct silo_error *err);

#endif
