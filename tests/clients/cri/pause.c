/*
 * The pod sandbox's process for tests/clients/test_cri.sh: the CRI runs one
 * per pod to hold the pod's namespaces.  It sleeps, reaps the children it
 * inherits as pid 1 of a shared pid namespace, and exits 0 on SIGINT or
 * SIGTERM.  Built static by the test (gcc -static) and put alone in an image.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void
on_stop(int sig)
{
  (void)sig;
  _exit(0);
}

static void
on_child(int sig)
{
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
}

int
main(void)
{
  struct sigaction stop = {.sa_handler = on_stop};
  struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP | SA_RESTART};

  if (sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0 ||
      sigaction(SIGCHLD, &child, NULL) < 0)
    return 1;
  for (;;) pause();
}
