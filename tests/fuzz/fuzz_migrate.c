/* libFuzzer target: what `silo migrate-receive` reads from the network before the
 * peer is authenticated: the frame decoder (lib/migrate/proto.c: mig_next_frame,
 * mig_recv, mig_recv_json) driven by the receiver's side of the handshake
 * (mig_auth_receiver).  The input is the byte stream a source would send: it is
 * written into one end of a fresh socketpair, whose sending side is then shut, and
 * the receiver reads the other end (what it answers stays unread).  The nonce the
 * receiver draws is random, so no input can get past AUTH: everything a peer
 * without the token can reach is covered.  Both ends and the connection's buffers
 * are freed before the next input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/migrate/migrate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) abort();
  /* The whole input must fit in the socket: -max_len stays below the default
   * unix socket buffer (208 KiB); a short write would block, not fail. */
  for (size_t off = 0; off < size;) {
    ssize_t n = write(sv[1], data + off, size - off);
    if (n <= 0) abort();
    off += (size_t)n;
  }
  shutdown(sv[1], SHUT_WR);
  static struct mig_token token = {.len = 32};
  if (!token.key[0]) memset(token.key, 'k', 32);
  struct mig_conn c;
  mig_conn_init(&c, sv[0]);
  c.idle_ms = 1000; /* the stream is complete: waiting only ends in EOF */
  strcpy(c.peer, "fuzz");
  struct silo_error err = {0};
  mig_auth_receiver(&c, &token, &err);
  mig_conn_close(&c);
  close(sv[1]);
  return 0;
}
