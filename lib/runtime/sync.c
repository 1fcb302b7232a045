/* silo: the parent <-> container process protocol.  One SOCK_SEQPACKET socketpair:
 * message boundaries are kept, an fd can ride along (SCM_RIGHTS), and a peer that
 * dies shows up as end-of-file instead of a hang.  Also the child's side of GO
 * (sync_await_go), which create/ and rootfs/ both wait on. */
#include <errno.h>
#include <string.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base/base.h"
#include "lib/runtime/plan.h"

static int
send_msg(int sock, const struct sync_msg *m, int fd, struct silo_error *err)
{
  struct iovec iov = {.iov_base = (void *)m,
                      .iov_len = offsetof(struct sync_msg, msg) + strlen(m->msg) + 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    memset(&u, 0, sizeof u);
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  }
  while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return silo_err(err, errno, "sync: send");
  }
  return 0;
}

int
sync_send(int sock, int type, int pid, int fd, struct silo_error *err)
{
  struct sync_msg m = {.type = type, .pid = pid};
  return send_msg(sock, &m, fd, err);
}

int
sync_send_error(int sock, const struct silo_error *e)
{
  struct sync_msg m = {.type = SYNC_ERROR, .errnum = e->errnum};
  snprintf(m.msg, sizeof m.msg, "%s", e->msg);
  return send_msg(sock, &m, -1, NULL);
}

int
sync_recv(int sock, struct sync_msg *m, int *fd, struct silo_error *err)
{
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {.iov_base = m, .iov_len = sizeof *m};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  if (fd) *fd = -1;
  ssize_t n;
  bool reset = false;
  while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0) {
    /* ECONNRESET: the peer closed with a message of ours unread (a child that
     * failed before it read GO).  The kernel reports that once, before what the
     * peer sent: read on, its ERROR is still queued. */
    if (errno == ECONNRESET && !reset) {
      reset = true;
      continue;
    }
    if (errno != EINTR) return silo_err(err, errno, "sync: receive");
  }
  if (n == 0) return silo_err(err, EPIPE, "the container process exited during set-up");
  if ((size_t)n < offsetof(struct sync_msg, msg) + 1)
    return silo_err(err, EPROTO, "sync: short message");
  m->msg[sizeof m->msg - 1] = '\0';
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  if (cm && cm->cmsg_type == SCM_RIGHTS) {
    int got;
    memcpy(&got, CMSG_DATA(cm), sizeof got);
    if (fd)
      *fd = got;
    else
      close(got);
  }
  return 0;
}

int
sync_expect(int sock, int type, struct sync_msg *m, int *fd, struct silo_error *err)
{
  if (sync_recv(sock, m, fd, err) < 0) return -1;
  if (m->type == SYNC_ERROR) return silo_err(err, m->errnum, "%s", m->msg);
  if (m->type != type)
    return silo_err(err, EPROTO, "sync: expected message %d, got %d", type, m->type);
  return 0;
}

int
sync_await_go(struct container_plan *c, struct silo_error *err)
{
  struct sync_msg m;
  if (c->got_go) return 0;
  if (sync_expect(c->sync_child, SYNC_GO, &m, NULL, err) < 0) return -1;
  c->got_go = true;
  c->pid = m.pid;
  /* Not dumpable from here on: a process of the new user namespace must not ptrace
   * us or open our /proc files while we still hold the host's fds.  A failure
   * would leave that open, so it fails the create. */
  if ((c->clone_flags & CLONE_NEWUSER) && prctl(PR_SET_DUMPABLE, 0) < 0)
    return silo_err(err, errno, "prctl(PR_SET_DUMPABLE)");
  /* In our new user namespace the maps now exist: become its root (until now we
   * ran as the host's root, which the namespace does not map, and the kernel
   * refuses to create files for an unmapped owner). */
  if ((c->clone_flags & CLONE_NEWUSER) && creds_become_root(err) < 0) return -1;
  /* On v1 hierarchies the cgroup namespace must be made after the move into our
   * cgroups, so that its root is the container's cgroup. */
  if (c->late_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
    return silo_err(err, errno, "create cgroup namespace");
  return 0;
}

bool
sync_peer_gone(int sock)
{
  /* POLLRDHUP: the peer closed its end (its last copy: silo died), even while
   * messages of its are still unread. */
  struct pollfd p = {.fd = sock, .events = POLLRDHUP};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}
