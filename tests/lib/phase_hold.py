#!/usr/bin/env python3
"""phase_hold.py CMD_WHILE_HELD -- SILO_ARGV...

Runs silo with SILO_PHASE_FD on a pipe that is already full: silo's first phase
mark blocks in write(2).  Once it does, CMD_WHILE_HELD runs (sh -c); then the
pipe is drained and silo goes on.  The exit status is silo's; silo's output goes
to this script's stdout/stderr.  A test uses it to act at an exact point of a
checkpoint (e.g. between the first look at the tmpfs mounts and the freeze).
"""
import fcntl
import os
import subprocess
import sys
import time

hold_cmd = sys.argv[1]
argv = sys.argv[sys.argv.index("--") + 1:]
r, w = os.pipe()
os.set_blocking(w, False)
try:
    while True:
        os.write(w, b"x" * 4096)
except BlockingIOError:
    pass
try:
    while True:
        os.write(w, b"x")
except BlockingIOError:
    pass
os.set_blocking(w, True)
env = dict(os.environ, SILO_PHASE_FD=str(w))
p = subprocess.Popen(argv, env=env, pass_fds=(w,))
os.close(w)
held = False
deadline = time.monotonic() + 30
while p.poll() is None and time.monotonic() < deadline:
    try:
        with open(f"/proc/{p.pid}/syscall") as f:
            fields = f.read().split()
    except OSError:
        fields = []
    # write(2) (x86-64: 1, arm64: 64) on the phase fd
    if len(fields) > 1 and fields[0] in ("1", "64") and int(fields[1], 16) == w:
        held = True
        break
    time.sleep(0.01)
if held:
    subprocess.run(["sh", "-c", hold_cmd], check=False)
else:
    print("phase_hold: silo never blocked on its phase fd", file=sys.stderr)
os.set_blocking(r, False)
while p.poll() is None:
    try:
        os.read(r, 65536)
    except BlockingIOError:
        time.sleep(0.01)
sys.exit(p.returncode if held else 125)
