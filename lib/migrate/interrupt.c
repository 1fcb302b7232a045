/* silo: SIGINT and SIGTERM end any wait of a migration, on either side: the
 * handler only sets mig_interrupted, and, installed without SA_RESTART, makes the
 * blocking call return EINTR; every wait loop (proto.c, tls.c, proc.c, dst.c)
 * checks the flag. */
#include <signal.h>
#include <string.h>

#include "lib/migrate/migrate.h"

volatile sig_atomic_t mig_interrupted;

static void
on_signal(int sig)
{
  (void)sig;
  mig_interrupted = 1;
}

void
mig_catch_signals(void)
{
  struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: waits return EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}
