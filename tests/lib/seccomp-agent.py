#!/usr/bin/env python3
"""Minimal seccomp notify agent for the integration tests.

    seccomp-agent.py SOCKET OUTPUT

Listens on SOCKET, accepts one connection, receives the runc-style message
(JSON container process state + the listener fd via SCM_RIGHTS), writes the JSON
to OUTPUT, the number of fds received to OUTPUT.nfds and "fd=<n>" (the first)
to OUTPUT.fd, then keeps the listener open for 30 s (so
the kernel does not fail notified syscalls) or until SIGTERM.
"""
import array
import signal
import socket
import sys
import time


def main():
    path, out = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(30)
    conn, _ = srv.accept()
    fds = array.array("i")
    data, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(16 * fds.itemsize))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    with open(out, "wb") as f:
        f.write(data)
    with open(out + ".nfds", "w") as f:
        f.write("%d\n" % len(fds))
    with open(out + ".fd", "w") as f:
        f.write("fd=%d\n" % (fds[0] if fds else -1))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    time.sleep(30)


if __name__ == "__main__":
    main()
