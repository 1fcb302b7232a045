/* silo lib/runtime/lifecycle/: a container after create — the state directory, hooks,
 * the foreground loop of run/exec/restore, and the commands of lib/silo.h (start,
 * kill, delete, state, list, exec, pause, resume, ps, update, events, features). */
#ifndef SILO_LIFECYCLE_H
#define SILO_LIFECYCLE_H

#include "lib/base/error.h"
#include "lib/runtime/plan.h"

/* ---- run.c: the foreground loop shared by run, exec and restore ---- */
void foreground_signals(sigset_t *mask);
/* Puts our terminal in raw mode when the container has a pty of ours. */
void foreground_tty(struct container_plan *c);
/* Forwards signals, relays the terminal, reaps; *exit_code as a shell reports it. */
int foreground_wait(struct container_plan *c, int sfd, int *exit_code, struct silo_error *err);
/* The tail of run and restore: unlocks the state dir (so state, kill and exec
 * work from other shells), foreground_wait, then puts the terminal and our
 * signal mask (`old`) back. */
int foreground_finish(struct container_plan *c, int sfd, const sigset_t *old, int *exit_code,
                      struct silo_error *err);

#endif
