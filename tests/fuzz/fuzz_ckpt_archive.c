/* libFuzzer target: a checkpoint archive (lib/criu/checkpoint_archive.c:
 * ckpt_archive_import), the file `silo restore --import` takes.  The importer
 * reads a file by name, so each input is written to a temporary file, imported
 * into a fresh temporary directory (0700), and both are removed before the next
 * input.  Mutations keep tar header checksums right (tar_checksum.h). */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "tests/fuzz/tar_checksum.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *tmp = getenv("TMPDIR");
  char dir[4096], file[4200], out[4200];
  snprintf(dir, sizeof dir, "%s/silo-fuzz-ckpt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) abort();
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct silo_error err = {0};
  if (dfd < 0 || fs_write_file_atomic(dfd, "in.tar", (const char *)data, size, &err) < 0 ||
      mkdirat(dfd, "out", 0700) < 0)
    abort();
  close(dfd);
  snprintf(file, sizeof file, "%s/in.tar", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  ckpt_archive_import(file, out, &err);
  if (fs_rm_rf_at(AT_FDCWD, dir, &err) < 0) abort();
  return 0;
}
