/* Unit tests of lib/runtime/create/sync.c: the parent <-> child protocol. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/base/error.h"
#include "lib/runtime/plan.h"

#define UNUSED __attribute__((unused))

/* The child fails before it reads GO: it sends ERROR and exits with GO unread in
 * its queue.  The kernel then flags the parent's socket with ECONNRESET, which a
 * receive reports before the queued ERROR; the parent must still get the child's
 * error, not "Connection reset by peer". */
static void
test_error_survives_unread_go(void **state UNUSED)
{
  int sp[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
  struct silo_error child_err = {0}, err = {0};
  silo_err(&child_err, EINVAL, "mounts[0].destination: refused");
  assert_int_equal(sync_send_error(sp[1], &child_err), 0);
  assert_int_equal(sync_send(sp[0], SYNC_GO, 42, -1, &err), 0);
  close(sp[1]); /* GO unread */
  struct sync_msg m;
  if (sync_recv(sp[0], &m, NULL, &err) < 0) fail_msg("sync_recv: %s", err.msg);
  assert_int_equal(m.type, SYNC_ERROR);
  assert_int_equal(m.errnum, EINVAL);
  assert_string_equal(m.msg, "mounts[0].destination: refused");
  /* then the end, as "exited during set-up" */
  assert_int_equal(sync_recv(sp[0], &m, NULL, &err), -1);
  assert_int_equal(err.errnum, EPIPE);
  close(sp[0]);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_survives_unread_go),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
