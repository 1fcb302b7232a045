#!/usr/bin/env python3
"""phase_kill_child.py -- SILO_ARGV...

Runs silo with SILO_PHASE_FD on a full pipe in packet mode (O_DIRECT): every phase
mark is one packet and blocks until this script reads one, so silo's marks go
through one by one.  The first child of silo that blocks on a mark (exec's child at
its "child" mark, the start of its set-up) is killed with SIGKILL there, as the
container's root may kill it.  The exit status is silo's (125: no child was seen
blocked); silo's output goes to this script's stdout/stderr.
"""
import os
import signal
import subprocess
import sys
import time

argv = sys.argv[sys.argv.index("--") + 1:]
r, w = os.pipe2(os.O_DIRECT)
os.set_blocking(w, False)
try:
    while True:
        os.write(w, b"x")  # one packet, one slot of the pipe
except BlockingIOError:
    pass
os.set_blocking(w, True)
env = dict(os.environ, SILO_PHASE_FD=str(w))
p = subprocess.Popen(argv, env=env, pass_fds=(w,))
os.close(w)


def blocked_on_mark(pid):
    """pid is in write(2) (x86-64: 1, arm64: 64) on the phase fd."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            fields = f.read().split()
    except OSError:
        return False
    return len(fields) > 1 and fields[0] in ("1", "64") and int(fields[1], 16) == w


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


killed = False
deadline = time.monotonic() + 30
while p.poll() is None and not killed and time.monotonic() < deadline:
    for c in children(p.pid):
        if blocked_on_mark(c):
            os.kill(c, signal.SIGKILL)
            print(f"phase_kill_child: killed {c} at its first mark", file=sys.stderr)
            killed = True
    if not killed and blocked_on_mark(p.pid):
        os.read(r, 4096)  # one packet out: silo's mark in
    time.sleep(0.002)
if not killed:
    print("phase_kill_child: no child of silo blocked on its phase fd", file=sys.stderr)
os.set_blocking(r, False)
while p.poll() is None:
    try:
        os.read(r, 65536)
    except BlockingIOError:
        time.sleep(0.01)
sys.exit(p.returncode if killed else 125)
