/* silo: sd-notify through a container (NOTIFY_SOCKET), as runc and crun pass it.
 *
 * When silo's environment has NOTIFY_SOCKET (systemd's Type=notify, podman's
 * --sdnotify=container), the container gets a socket of its own instead of the
 * host's: `<root>/<id>/notify/` is bound read-only (nosuid, nodev, noexec) at
 * /run/notify, and NOTIFY_SOCKET=/run/notify/notify.sock is put in the process's
 * environment.  The host's socket itself never enters the container.  Whoever
 * starts the program (`run`, or `start` after `create`) binds notify.sock and
 * relays each datagram to the host's NOTIFY_SOCKET; at READY=1 it adds
 * MAINPID=<the container's pid> and stops (runc's notify_socket.go does the same).
 * `start` and `run --detach` return only then; a foreground `run` relays while it
 * waits for the container.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/rootfs/rootfs.h"
#include "lib/silo.h"
#include "oci/oci.h"

#define NOTIFY_DIR_IN_CONTAINER "/run/notify"
#define NOTIFY_ENV              "NOTIFY_SOCKET=" NOTIFY_DIR_IN_CONTAINER "/notify.sock"
/* A notify message is small; systemd accepts up to 4 KiB of it (plus fds, not relayed). */
#define NOTIFY_MSG_MAX 4096

/* The host's NOTIFY_SOCKET: an absolute path or an abstract name ("@..."); NULL when
 * unset, empty or unusable (then silo does nothing of sd-notify). */
static const char *
host_socket(void)
{
  const char *s = getenv("NOTIFY_SOCKET");
  if (!s || !*s) return NULL;
  if ((s[0] != '/' && s[0] != '@') || strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    silo_log_warn("NOTIFY_SOCKET `%s`: not an absolute path or @name: ignored", s);
    return NULL;
  }
  return s;
}

int
notify_setup(struct container_plan *c, struct silo_error *err)
{
  if (!host_socket()) return 0;
  /* 0755: the container's root (another uid with a user namespace) connects to the
   * socket inside; the state directory above it is never reached by a path. */
  if (mkdirat(c->statefd, "notify", 0755) < 0 || fchmodat(c->statefd, "notify", 0755, 0) < 0)
    return silo_err(err, errno, "NOTIFY_SOCKET: create the notify directory");
  char statedir[PATH_MAX], fdp[PROC_FD_PATH_MAX];
  ssize_t len = readlink(fs_proc_fd_path(fdp, c->statefd), statedir, sizeof statedir - 1);
  if (len < 0) return silo_err(err, errno, "state directory path");
  statedir[len] = '\0';

  static const char *const opts[] = {"bind", "ro", "nosuid", "nodev", "noexec", NULL};
  c->sdnotify_src = xasprintf("%s/notify", statedir);
  struct oci_mount *m = &c->sdnotify_mount;
  m->destination = NOTIFY_DIR_IN_CONTAINER;
  m->type = "bind";
  m->source = c->sdnotify_src;
  m->options = (const char **)opts;
  m->n_options = ARRAY_SIZE(opts) - 1;
  c->mounts = xrealloc(c->mounts, (c->n_mounts + 2) * sizeof *c->mounts);
  memset(&c->mounts[c->n_mounts], 0, 2 * sizeof *c->mounts);
  if (mountopts_parse(m, c->n_mounts, c->bundle, &c->mounts[c->n_mounts], err) < 0)
    return silo_err_wrap(err, "NOTIFY_SOCKET");
  c->n_mounts++;

  /* The process's NOTIFY_SOCKET is the container's socket, replacing any the
   * config has (the host's path would mean nothing inside). */
  struct oci_process *p = c->cfg->process;
  c->sdnotify_env = xcalloc(p->n_env + 2, sizeof *c->sdnotify_env);
  size_t k = 0;
  for (size_t i = 0; i < p->n_env; i++)
    if (strncmp(p->env[i], "NOTIFY_SOCKET=", 14) != 0) c->sdnotify_env[k++] = p->env[i];
  c->sdnotify_env[k++] = NOTIFY_ENV;
  p->env = c->sdnotify_env;
  p->n_env = k;
  return 0;
}

int
notify_listen(int statefd, int *sock, struct silo_error *err)
{
  *sock = -1;
  if (!host_socket()) return 0;
  _cleanup_close_ int dir =
      openat(statefd, "notify", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) {
    if (errno == ENOENT) return 0; /* created without NOTIFY_SOCKET */
    return silo_err(err, errno, "NOTIFY_SOCKET: open the notify directory");
  }
  /* Bound through our fd of the directory: the state path may be longer than
   * sun_path allows, and it is never resolved again. */
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/notify.sock", dir);
  unlinkat(dir, "notify.sock", 0);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return silo_err(err, errno, "NOTIFY_SOCKET: socket");
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
    return silo_err(err, errno, "NOTIFY_SOCKET: bind notify.sock");
  /* Anyone in the container may notify, as with runc (its root may be another uid). */
  if (fchmodat(dir, "notify.sock", 0777, 0) < 0)
    return silo_err(err, errno, "NOTIFY_SOCKET: chmod notify.sock");
  *sock = steal_fd(&fd);
  return 0;
}

static int
send_host(const char *msg, size_t len, struct silo_error *err)
{
  const char *host = host_socket();
  if (!host) return 0;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  size_t n = strlen(host);
  memcpy(a.sun_path, host, n);
  if (host[0] == '@') a.sun_path[0] = '\0'; /* abstract: no terminating NUL counted */
  socklen_t alen =
      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (host[0] == '@' ? 0 : 1));
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return silo_err(err, errno, "NOTIFY_SOCKET: socket");
  if (sendto(fd, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&a, alen) < 0)
    return silo_err(err, errno, "NOTIFY_SOCKET: send to `%s`", host);
  return 0;
}

int
notify_forward(int sock, pid_t pid, struct silo_error *err)
{
  char buf[NOTIFY_MSG_MAX + 1];
  ssize_t n = recv(sock, buf, NOTIFY_MSG_MAX, MSG_DONTWAIT);
  if (n < 0)
    return errno == EAGAIN || errno == EINTR ? 0 : silo_err(err, errno, "NOTIFY_SOCKET: recv");
  buf[n] = '\0';
  bool ready = false;
  for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (strncmp(l, "READY=1", 7) == 0 && (l[7] == '\n' || l[7] == '\0')) ready = true;
  if (send_host(buf, (size_t)n, err) < 0) return -1;
  if (!ready) return 0;
  /* The service's main process is the container's, not silo (which may exit now). */
  char mainpid[32];
  int m = snprintf(mainpid, sizeof mainpid, "MAINPID=%d\n", (int)pid);
  if (send_host(mainpid, (size_t)m, err) < 0) return -1;
  return 1;
}

int
notify_wait_ready(int sock, pid_t pid, int pidfd, struct silo_error *err)
{
  for (;;) {
    struct pollfd p[2] = {{.fd = sock, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return silo_err(err, errno, "NOTIFY_SOCKET: poll");
    }
    if (p[0].revents & POLLIN) {
      int r = notify_forward(sock, pid, err);
      if (r != 0) return r < 0 ? -1 : 0;
      continue;
    }
    if (p[1].revents & POLLIN)
      return silo_err(err, ESRCH, "NOTIFY_SOCKET: the container's process exited before READY=1");
  }
}
