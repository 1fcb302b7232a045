/* silo: phase marks — where the time of one `run`, `create` or `exec` goes.
 *
 * With SILO_PHASE_FD=N in silo's environment every phase_mark() writes one line
 * "NAME PID NANOSECONDS\n" (CLOCK_MONOTONIC, comparable with the caller's own
 * clock) to fd N, from the parent and from the container process alike; the
 * benchmark (tests/bench/run-bench) turns them into the per-phase breakdown of
 * docs/performance.md.  Off (the default), a mark costs one load and a branch:
 * the environment is read once, at the first mark.
 *
 * The fd is the caller's: silo neither opens nor closes it, and the container
 * process closes it with every other runtime fd before execve (process_execve),
 * so it never reaches the container's program.  A write that fails (a bad fd, a
 * full pipe: O_NONBLOCK is the caller's business) is ignored: marks never change
 * what silo does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lib/runtime/plan.h"

static int phase_fd = -2; /* -2: environment not read yet; -1: off */

static int
phase_fd_get(void)
{
  if (phase_fd != -2) return phase_fd;
  const char *s = getenv("SILO_PHASE_FD");
  char *end;
  long fd = s && *s ? strtol(s, &end, 10) : -1;
  phase_fd = (fd >= 0 && fd < 1 << 20 && *end == '\0') ? (int)fd : -1;
  return phase_fd;
}

void
phase_mark(const char *name)
{
  if (phase_fd_get() < 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char line[96];
  int n = snprintf(line, sizeof line, "%s %d %lld\n", name, (int)getpid(),
                   (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  if (n <= 0 || n >= (int)sizeof line) return;
  int saved = errno; /* a mark never disturbs the caller's errno */
  ssize_t w = write(phase_fd, line, (size_t)n);
  (void)w;
  errno = saved;
}
