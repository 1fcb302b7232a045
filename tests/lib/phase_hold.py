#!/usr/bin/env python3
"""phase_hold.py CMD_WHILE_HELD -- SILO_ARGV...

Runs silo with SILO_PHASE_FD on a pipe that is already full: silo's first phase
mark blocks in write(2).  Once it does, CMD_WHILE_HELD runs (sh -c); then the
pipe is drained and silo goes on.  The exit status is silo's; silo's output goes
to this script's stdout/stderr.  A test uses it to act at an exact point of a
checkpoint (e.g. between the first look at the tmpfs mounts and the freeze).
"""
import subprocess
import sys
import time

import phasefd

hold_cmd = sys.argv[1]
argv = sys.argv[sys.argv.index("--") + 1:]
p, r, w = phasefd.start(argv)
held = False
deadline = time.monotonic() + 30
while p.poll() is None and time.monotonic() < deadline:
    if phasefd.blocked_on(p.pid, w):
        held = True
        break
    time.sleep(0.01)
if held:
    subprocess.run(["sh", "-c", hold_cmd], check=False)
else:
    print("phase_hold: silo never blocked on its phase fd", file=sys.stderr)
phasefd.drain(p, r)
sys.exit(p.returncode if held else 125)
