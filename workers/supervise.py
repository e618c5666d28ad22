"""A tiny supervisor for the Celery worker: restart it when it dies of something it could not
recover from (kombu can give up on a broker connection lost during a Redis restart), forward
SIGTERM/SIGINT/SIGHUP to it for a warm shutdown, and die with whoever started us.

    python -m workers.supervise CELERY_ARGV...
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections import deque
from types import FrameType

from dialer.private import protect_process
from workers.logs import configure
from workers.processes import die_with_parent

log = logging.getLogger("dialer.supervise")
RESTART_DELAY_S = 1.0
MAX_RESTARTS = 20  # within RESTART_WINDOW_S; more means something is badly wrong: give up
RESTART_WINDOW_S = 300.0


def supervise(argv: list[str]) -> int:
    """Run `argv` until it exits cleanly or we are told to stop; returns its last exit code."""
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, stop)
    restarts: deque[float] = deque(maxlen=MAX_RESTARTS)
    while True:
        child = subprocess.Popen(argv, preexec_fn=die_with_parent)
        code = child.wait()
        if stopping or code == 0:
            return code
        now = time.monotonic()
        if len(restarts) == MAX_RESTARTS and now - restarts[0] < RESTART_WINDOW_S:
            log.error("worker keeps dying (exit %s); giving up", code)
            return code
        restarts.append(now)
        log.warning("worker exited with %s; restarting", code)
        time.sleep(RESTART_DELAY_S)


def main() -> None:
    """Entry point of `python -m workers.supervise` (its worker holds the API key)."""
    protect_process()
    configure()
    sys.exit(supervise(sys.argv[1:]))


if __name__ == "__main__":
    main()
