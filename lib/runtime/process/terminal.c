/* silo: process.terminal — a pty allocated inside the container (from its own
 * devpts), its master handed to --console-socket, or relayed by `run`. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"

int
terminal_setup(struct container_plan *c, struct silo_error *err)
{
  /* /dev/ptmx here is the container's (devpts newinstance): the pty belongs to it. */
  _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return silo_err(err, errno, "open `/dev/ptmx`");
  if (unlockpt(master) < 0) return silo_err(err, errno, "unlockpt");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) {
    char name[64];
    if (ptsname_r(master, name, sizeof name) != 0) return silo_err(err, errno, "ptsname");
    slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0) return silo_err(err, errno, "open `%s`", name);
  }
  if (c->proc->has_console_size) {
    struct winsize ws = {.ws_row = (unsigned short)c->proc->console_height,
                         .ws_col = (unsigned short)c->proc->console_width};
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  /* The process owns its terminal, as on a login; its group and mode stay what
   * devpts gave it (the spec's gid=5,mode=620: group tty, writable by the group for
   * write(1) and wall), as runc leaves them.  Safe: this pty was just made in the
   * container's own devpts, and the fd is not a path anyone can swap. */
  if (fchown(slave, c->proc->user.uid, (gid_t)-1) < 0 && errno != EINVAL) {
    /* an unmapped id in a user namespace: keep root's */
  }
  if (ioctl(slave, TIOCSCTTY, 0) < 0) {
    close(slave);
    return silo_err(err, errno, "set controlling terminal");
  }
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) {
      close(slave);
      return silo_err(err, errno, "dup2 pty");
    }
  if (slave > 2) close(slave);
  return steal_fd(&master);
}

int
terminal_send(const char *socket_path, int master, struct silo_error *err)
{
  _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return silo_err(err, errno, "socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path)
    return silo_err(err, ENAMETOOLONG, "console socket `%s`", socket_path);
  strcpy(addr.sun_path, socket_path);
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0)
    return silo_err(err, errno, "connect to console socket `%s`", socket_path);

  /* runc's protocol: one message whose payload is the pty's name, with the master
   * fd attached (SCM_RIGHTS). */
  char name[64] = "/dev/ptmx";
  ptsname_r(master, name, sizeof name);
  struct iovec iov = {.iov_base = name, .iov_len = strlen(name)};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u = {0};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &master, sizeof(int));
  if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
    return silo_err(err, errno, "send pty to console socket `%s`", socket_path);
  return 0;
}

static struct termios saved;
static bool saved_valid;

void
terminal_raw(int master)
{
  if (!isatty(0) || tcgetattr(0, &saved) < 0) return;
  saved_valid = true;
  struct termios raw = saved;
  cfmakeraw(&raw);
  tcsetattr(0, TCSANOW, &raw);
  terminal_resize(master);
}

void
terminal_restore(void)
{
  if (saved_valid) tcsetattr(0, TCSANOW, &saved);
  saved_valid = false;
}

void
terminal_resize(int master)
{
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
}

int
terminal_copy(int from, int to)
{
  char buf[8192];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR) ? 1 : 0;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    off += w;
  }
  return 1;
}
