#!/usr/bin/env python3
"""Captures every frame seen on one network interface into a file (AF_PACKET,
standard library only), for the tests that check what travels on the wire.

  capture.py IFACE OUTFILE [--max SECONDS]

Prints `ready` once the socket is bound; stops on SIGTERM/SIGINT or after
SECONDS (default 120).  OUTFILE holds the raw frames one after the other.
"""
import argparse
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("iface")
    p.add_argument("out")
    p.add_argument("--max", type=float, default=120)
    a = p.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    s.bind((a.iface, 0))
    end = time.monotonic() + a.max
    with open(a.out, "wb") as f:
        print("ready", flush=True)
        while not stop and time.monotonic() < end:
            try:
                r, _, _ = select.select([s], [], [], 0.2)
            except InterruptedError:
                continue
            while r:
                try:
                    f.write(s.recv(1 << 17, socket.MSG_DONTWAIT))
                except BlockingIOError:
                    break
        f.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
