#!/usr/bin/env python3
"""Minimal --console-socket receiver for the integration tests.

    console-receiver.py SOCKET OUTPUT [INPUT]

Listens on the unix socket SOCKET, accepts one connection, receives the pty
master fd sent with SCM_RIGHTS, optionally writes INPUT to it, and copies
everything read from it to OUTPUT until the container side closes (EIO/EOF)
or 30 seconds pass.  OUTPUT.fd gets "received" once the fd arrived.
"""
import array
import os
import select
import socket
import sys
import time


def main():
    path, out_path = sys.argv[1], sys.argv[2]
    data_in = sys.argv[3] if len(sys.argv) > 3 else None
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(30)
    conn, _ = srv.accept()
    fds = array.array("i")
    _, ancdata, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    conn.close()
    srv.close()
    if not fds:
        sys.exit("no file descriptor received")
    master = fds[0]
    with open(out_path + ".fd", "w") as f:
        f.write("received\n")
    if data_in:
        os.write(master, data_in.encode())
    deadline = time.time() + 30
    with open(out_path, "wb", buffering=0) as out:
        while time.time() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave fd is closed
                break
            if not chunk:
                break
            out.write(chunk)


if __name__ == "__main__":
    main()
