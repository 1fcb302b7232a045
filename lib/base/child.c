/* silo: waiting for a child of ours to exit, with a deadline. */
#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/base.h"

/* A pidfd becomes readable when the process exits: one poll() sleeps until then
 * or the deadline, where a waitpid(WNOHANG) + sleep loop would wake every few
 * milliseconds (and, under load, take its number of calls from the machine's
 * speed).  Kernels without pidfd_open (< 5.3) get that loop. */
int
child_wait_ms(pid_t pid, int timeout_ms, int *status)
{
  _cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  int64_t end = time_mono_ms() + timeout_ms;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) break;
    int64_t left = end - time_mono_ms();
    if (left <= 0) return 0;
    if (fd >= 0) {
      struct pollfd p = {.fd = fd, .events = POLLIN};
      poll(&p, 1, (int)left);
    } else {
      usleep(left < 2 ? (useconds_t)left * 1000 : 2000);
    }
  }
  return 1;
}
