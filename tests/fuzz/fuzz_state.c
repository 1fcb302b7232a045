/* libFuzzer target: a container's state.json (lib/runtime/state.c: state_read),
 * which every command reads back from <root>/<id>/.  state_read takes a directory,
 * so the input is written to state.json in one private temporary directory made at
 * the first input (and removed at exit); each input replaces the file, and the
 * parsed state is freed before the next. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/runtime/plan.h"

static char dir[] = "/tmp/silo-fuzz-state-XXXXXX";
static int dirfd = -1;

static void
cleanup(void)
{
  unlinkat(dirfd, "state.json", 0);
  close(dirfd);
  rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct silo_error err = {0};
  if (dirfd < 0) {
    if (!mkdtemp(dir) || (dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) abort();
    atexit(cleanup);
  }
  if (fs_write_file_atomic(dirfd, "state.json", (const char *)data, size, &err) < 0) abort();
  struct silo_state s;
  if (state_read(dirfd, &s, &err) == 0) state_free(&s);
  return 0;
}
