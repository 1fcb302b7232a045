/* silo: the seccomp listener hand-over (runc's "seccomp agent" protocol): with
 * SCMP_ACT_NOTIFY rules, the notify fd goes to the agent at linux.seccomp.listenerPath
 * over a unix socket, with the container's state and the "seccompFd" name, from the
 * runtime or from the container process over a socket it connected before
 * pivot_root.  The filter itself is built in seccomp.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "oci/oci.h"

/* s as a JSON string literal (malloc'ed). */
static char *
json_quote(const char *s)
{
  size_t n = 2;
  for (const char *p = s; *p; p++) n += 6;
  char *out = xmalloc(n + 1), *o = out;
  *o++ = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      *o++ = '\\';
      *o++ = (char)*p;
    } else if (*p == '\n') {
      o += sprintf(o, "\\n");
    } else if (*p == '\t') {
      o += sprintf(o, "\\t");
    } else if (*p < 0x20 || *p == 0x7f) {
      o += sprintf(o, "\\u%04x", *p);
    } else {
      *o++ = (char)*p;
    }
  }
  *o++ = '"';
  *o = '\0';
  return out;
}

int
silo_seccomp_listener_connect(const char *listener_path, struct silo_error *err)
{
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  if (listener_path == NULL || listener_path[0] == '\0')
    return silo_err(err, EINVAL, "seccomp listener: no listenerPath");
  if (strlen(listener_path) >= sizeof sun.sun_path)
    return silo_err(err, ENAMETOOLONG, "seccomp listener `%s`", listener_path);
  strcpy(sun.sun_path, listener_path);

  _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return silo_err(err, errno, "seccomp listener: socket");
  while (connect(sock, (struct sockaddr *)&sun, sizeof sun) < 0)
    if (errno != EINTR)
      return silo_err(err, errno, "connect to seccomp listener `%s`", listener_path);
  return steal_fd(&sock);
}

int
silo_seccomp_send_notify_sock(int sock, const char *metadata, int notify_fd, pid_t pid,
                              const char *state_json, struct silo_error *err)
{
  if (notify_fd < 0 || state_json == NULL)
    return silo_err(err, EINVAL, "send the seccomp listener: nothing to send");

  _cleanup_free_ char *meta = metadata && metadata[0] ? json_quote(metadata) : NULL;
  _cleanup_free_ char *msg =
      xasprintf("{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%d%s%s,\"state\":%s}",
                OCI_VERSION, (int)pid, meta ? ",\"metadata\":" : "", meta ? meta : "", state_json);
  size_t len = strlen(msg), off = 0;

  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct iovec iov = {.iov_base = msg, .iov_len = len};
  struct msghdr mh = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &notify_fd, sizeof(int));

  while (off < len) {
    ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return silo_err(err, errno, "send the seccomp listener");
    }
    off += (size_t)n;
    iov.iov_base = msg + off; /* the fd went with the first bytes */
    iov.iov_len = len - off;
    mh.msg_control = NULL;
    mh.msg_controllen = 0;
  }
  return 0;
}

int
silo_seccomp_send_notify(const char *listener_path, const char *metadata, int notify_fd, pid_t pid,
                         const char *state_json, struct silo_error *err)
{
  /* One connection per container process state, closed after it (runtime-spec). */
  _cleanup_close_ int sock = silo_seccomp_listener_connect(listener_path, err);
  if (sock < 0) return -1;
  if (silo_seccomp_send_notify_sock(sock, metadata, notify_fd, pid, state_json, err) < 0)
    return silo_err_wrap(err, "seccomp listener `%s`", listener_path);
  return 0;
}
