#!/usr/bin/env python3
"""A hostile (or merely scripted) peer of `silo migrate-receive`, for the tests.

It speaks the frame format and the handshake of lib/migrate/proto.c (see
docs/migration.md): an 8-byte header (type, flags 0, two reserved zero bytes,
payload length big-endian) and a JSON payload; HELLO / CHALLENGE / AUTH /
AUTH_OK with HMAC-SHA256 over the token file.  All of it inside TLS 1.3 with
the PSK silo derives from the token (lib/migrate/tls.c): python's ssl module has
no TLS 1.3 PSK, so the transport is `gnutls-cli` (Debian package gnutls-bin)
with its standard input and output as the stream.  --token names the token the
PSK comes from (a wrong one fails the TLS handshake); without it the peer uses a
random PSK, which gets it no further than the handshake, as a peer without the
token.  Standard library otherwise.

  migrate_peer.py HOST:PORT auth --token F [--config F --id ID] [--manifest]
                                 [--restore-stdio JSON] [--network JSON]
                                 [--hold S]
      authenticates (prints `auth_ok SECONDS`), then optionally offers the
      container (config.json from F), sends an empty rootfs manifest, asks for a
      restore with the given stdio description (--network: the lease the
      OFFER carries); prints every answer as
      `reply TYPE MESSAGE`.
  migrate_peer.py HOST:PORT slow [--max S]
      without TLS, sends the start of a TLS ClientHello one byte a second; prints
      `closed SECONDS` when the receiver cuts it off, or `held SECONDS` after S
      seconds (default 30).
  migrate_peer.py HOST:PORT big --token F [--size N]
      inside TLS, sends a well-formed HELLO of N bytes (default 1 MiB) before the
      HMAC handshake;
      prints `reply CHALLENGE ...` if the receiver took it, or `closed SECONDS`
      / `reply ERROR msg` when it refused it.
"""
import argparse
import hashlib
import hmac
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

HELLO, CHALLENGE, AUTH, AUTH_OK, ERROR = 1, 2, 3, 4, 5
OFFER, ACCEPT = 16, 17
MANIFEST, MANIFEST_END, WANT, WANT_END, SYNCED = 32, 33, 34, 35, 36
FILE, DATA, FILE_END, TREE_END = 48, 49, 50, 51
RESTORE, ABORT, PING = 64, 68, 96
NAMES = {1: "HELLO", 2: "CHALLENGE", 3: "AUTH", 4: "AUTH_OK", 5: "ERROR", 16: "OFFER",
         17: "ACCEPT", 34: "WANT", 35: "WANT_END", 36: "SYNCED", 65: "RESTORED", 67: "DONE",
         68: "ABORT", 96: "PING"}


def frame(t, payload):
    if not isinstance(payload, bytes):
        payload = json.dumps(payload).encode()
    return struct.pack(">BBBBI", t, 0, 0, 0, len(payload)) + payload


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("the receiver closed the connection")
        buf += chunk
    return buf


def recv_frame(s):
    while True:
        h = recv_exact(s, 8)
        t, _, _, _, n = struct.unpack(">BBBBI", h)
        data = recv_exact(s, n)
        if t != PING:
            return t, data


def message(data):
    try:
        return json.loads(data).get("message", "")
    except (ValueError, AttributeError):
        return ""


PSK_LABEL = b"silo-migrate/1 tls-psk\n"
PRIORITY = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+DHE-PSK"


class TLSPipe:
    """A stream over gnutls-cli: sendall/recv/settimeout/close like a socket."""

    def __init__(self, host, port, psk):
        self.p = subprocess.Popen(
            ["gnutls-cli", "--logfile=/dev/null", "--priority=" + PRIORITY,
             "--pskusername=silo-migrate", "--pskkey=" + psk.hex(), "-p", str(port), host],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.timeout = None

    def settimeout(self, t):
        self.timeout = t

    def sendall(self, data):
        try:
            self.p.stdin.write(data)
            self.p.stdin.flush()
        except (BrokenPipeError, ValueError) as e:
            raise ConnectionError("the receiver closed the connection") from e

    def recv(self, n):
        r, _, _ = select.select([self.p.stdout], [], [], self.timeout)
        if not r:
            raise socket.timeout("timed out")
        return os.read(self.p.stdout.fileno(), n)

    def close(self):
        try:
            self.p.kill()
        except OSError:
            pass
        self.p.wait()


def connect(addr, key=None):
    host, port = addr.rsplit(":", 1)
    psk = hmac.new(key if key is not None else os.urandom(32), PSK_LABEL, hashlib.sha256).digest()
    return TLSPipe(host.strip("[]"), int(port), psk)


def load_token(path):
    with open(path, "rb") as f:
        return f.read().rstrip(b"\r\n \t")


def authenticate(s, key):
    ns = os.urandom(32)
    s.sendall(frame(HELLO, {"proto": 1, "nonce": ns.hex(), "silo": "test-peer"}))
    t, data = recv_frame(s)
    if t != CHALLENGE:
        raise RuntimeError("expected CHALLENGE, got %s %s" % (NAMES.get(t, t), message(data)))
    ch = json.loads(data)
    nr = bytes.fromhex(ch["nonce"])
    want = hmac.new(key, b"silo-migrate/1 receiver\n" + ns + nr, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, ch["mac"]):
        raise RuntimeError("the receiver does not hold the token")
    mac = hmac.new(key, b"silo-migrate/1 sender\n" + nr + ns, hashlib.sha256).hexdigest()
    s.sendall(frame(AUTH, {"mac": mac}))
    t, data = recv_frame(s)
    if t != AUTH_OK:
        raise RuntimeError("expected AUTH_OK, got %s %s" % (NAMES.get(t, t), message(data)))


def reply(s):
    """Prints the next frame; returns its type (None at the end of the stream)."""
    try:
        t, data = recv_frame(s)
    except (EOFError, ConnectionError, socket.timeout) as e:
        print("closed %s" % e, flush=True)
        return None
    print("reply %s %s" % (NAMES.get(t, t), message(data)), flush=True)
    return t


def do_auth(a):
    key = load_token(a.token)
    t0 = time.monotonic()
    s = connect(a.addr, key)
    s.settimeout(a.timeout)
    authenticate(s, key)
    print("auth_ok %.2f" % (time.monotonic() - t0), flush=True)
    if not a.config:
        return 0
    with open(a.config) as f:
        config = f.read()
    offer = {"id": a.id, "strategy": "cold", "config": config,
             "arch": os.uname().machine, "silo": "test-peer",
             "rootfs_readonly": True, "lazy": False}
    if a.network:
        offer["network"] = json.loads(a.network)
    s.sendall(frame(OFFER, offer))
    if reply(s) != ACCEPT:
        return 0
    if a.manifest:
        s.sendall(frame(MANIFEST, []) + frame(MANIFEST_END, {"tree": "rootfs", "count": 0}))
        t = reply(s)
        while t == WANT:
            t = reply(s)
        if t != WANT_END:
            return 0
        s.sendall(frame(TREE_END, {"tree": "rootfs"}))  # no file was wanted
        if reply(s) != SYNCED:
            return 0
    if a.images:
        # the image tree "final": each DIR/NAME as a file of it
        n = 0
        for name in sorted(os.listdir(a.images)):
            with open(os.path.join(a.images, name), "rb") as f:
                data = f.read()
            s.sendall(frame(FILE, {"tree": "final", "path": name, "t": "f", "m": 0o600,
                                   "s": len(data)}))
            if data:
                s.sendall(frame(DATA, data))
            s.sendall(frame(FILE_END, {}))
            n += len(data)
        s.sendall(frame(TREE_END, {"tree": "final", "bytes": n}))
    if a.restore_stdio:
        s.sendall(frame(RESTORE, {"images": "final", "lazy": False,
                                  "stdio": json.loads(a.restore_stdio)}))
        reply(s)
    if a.hold:
        print("holding", flush=True)
        time.sleep(a.hold)
    return 0


def do_slow(a):
    # No token, no TLS: the start of a TLS record (a ClientHello of 16 KiB, under
    # any limit) on a plain socket, its payload one byte a second.
    host, port = a.addr.rsplit(":", 1)
    s = socket.create_connection((host.strip("[]"), int(port)), timeout=60)
    t0 = time.monotonic()
    data = b"\x16\x03\x01\x40\x00" + b"\x01" + b" " * 16383
    s.settimeout(1.0)
    for b in data:
        try:
            s.sendall(bytes([b]))
            got = s.recv(4096)
            if not got:
                break
            # a TLS alert is fine too: the receiver gave up on us
            break
        except socket.timeout:
            pass
        except (ConnectionError, BrokenPipeError):
            break
        if time.monotonic() - t0 > a.max:
            print("held %.2f" % (time.monotonic() - t0), flush=True)
            return 0
    print("closed %.2f" % (time.monotonic() - t0), flush=True)
    return 0


def do_big(a):
    s = connect(a.addr, load_token(a.token) if a.token else None)
    s.settimeout(15)
    t0 = time.monotonic()
    hello = {"proto": 1, "nonce": os.urandom(32).hex(), "silo": "test-peer", "pad": ""}
    pad = a.size - len(json.dumps(hello).encode())
    hello["pad"] = "x" * max(pad, 0)
    try:
        s.sendall(frame(HELLO, hello))
    except (ConnectionError, BrokenPipeError):
        pass
    if reply(s) is None:
        pass
    print("elapsed %.2f" % (time.monotonic() - t0), flush=True)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("addr")
    p.add_argument("mode", choices=["auth", "slow", "big"])
    p.add_argument("--token")
    p.add_argument("--config")
    p.add_argument("--id", default="hostile")
    p.add_argument("--manifest", action="store_true")
    p.add_argument("--restore-stdio")
    p.add_argument("--images")  # a directory whose files are sent as the tree "final"
    p.add_argument("--network")  # the OFFER's "network" object (JSON)
    p.add_argument("--hold", type=float, default=0)  # keep the connection this long at the end
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--max", type=float, default=30)
    p.add_argument("--size", type=int, default=1 << 20)
    a = p.parse_args()
    try:
        return {"auth": do_auth, "slow": do_slow, "big": do_big}[a.mode](a)
    except (RuntimeError, EOFError, ConnectionError, socket.timeout) as e:
        print("error %s" % e, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
