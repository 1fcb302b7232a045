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
import sys
import time

import phasefd

argv = sys.argv[sys.argv.index("--") + 1:]
p, r, w = phasefd.start(argv, packets=True)


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
        if phasefd.blocked_on(c, w):
            os.kill(c, signal.SIGKILL)
            print(f"phase_kill_child: killed {c} at its first mark", file=sys.stderr)
            killed = True
    if not killed and phasefd.blocked_on(p.pid, w):
        os.read(r, 4096)  # one packet out: silo's mark in
    time.sleep(0.002)
if not killed:
    print("phase_kill_child: no child of silo blocked on its phase fd", file=sys.stderr)
phasefd.drain(p, r)
sys.exit(p.returncode if killed else 125)
