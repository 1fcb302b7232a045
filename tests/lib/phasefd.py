"""The full phase-mark pipe that tests/lib/phase_hold.py and phase_kill_child.py
give silo (SILO_PHASE_FD): silo's marks block in write(2) on it until the script
lets them through, so a test can act at an exact point of a silo command."""
import os
import subprocess
import time


def start(argv, packets=False):
    """silo (argv) with SILO_PHASE_FD on a pipe that is already full: its first
    mark blocks.  packets: O_DIRECT, one mark per packet (read one to let one
    through).  Returns (the process, the read end, the fd number silo writes to)."""
    r, w = os.pipe2(os.O_DIRECT) if packets else os.pipe()
    os.set_blocking(w, False)
    for chunk in ((b"x",) if packets else (b"x" * 4096, b"x")):
        try:
            while True:
                os.write(w, chunk)
        except BlockingIOError:
            pass
    os.set_blocking(w, True)
    env = dict(os.environ, SILO_PHASE_FD=str(w))
    p = subprocess.Popen(argv, env=env, pass_fds=(w,))
    os.close(w)
    return p, r, w


def blocked_on(pid, fd):
    """pid is in write(2) (x86-64: 1, arm64: 64) on fd."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            fields = f.read().split()
    except OSError:
        return False
    return len(fields) > 1 and fields[0] in ("1", "64") and int(fields[1], 16) == fd


def drain(p, r):
    """Lets every mark through until silo exits."""
    os.set_blocking(r, False)
    while p.poll() is None:
        try:
            os.read(r, 65536)
        except BlockingIOError:
            time.sleep(0.01)
