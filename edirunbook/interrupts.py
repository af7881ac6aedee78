"""SIGTERM handled like Ctrl-C, so a cancelled run still rolls back what it changed.

A CI system cancels a job with SIGTERM (then SIGKILL after a grace period). Python's default for SIGTERM ends the
process at once: no fixture teardown, so a fault a scenario injected (a scaled-down deployment, a stopped
database, a NetworkPolicy) would stay. Here SIGTERM raises KeyboardInterrupt in the main thread, exactly what
Ctrl-C raises, and pytest runs every finalizer as it does on Ctrl-C. Further SIGTERMs while that rollback runs are
noted and ignored: only SIGKILL stops it.

A parent that runs pytest (the gate) forwards SIGTERM to it and waits for it to finish its rollback, instead of
dying first and leaving it orphaned (`run_forwarding`). Ctrl-C reaches the child from the terminal itself (the
whole foreground process group gets it); forwarding it too would be a second Ctrl-C, which cuts pytest's teardown
short, so the parent only waits.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be (pytest treats both as an interrupted run)."""


class _SigtermAsInterrupt:
    def __init__(self) -> None:
        self.received = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.received += 1
        if self.received == 1:
            raise Terminated("SIGTERM: stopping, rolling back what the running scenario changed")
        print(f"\nSIGTERM again ({self.received}): the rollback is still running; SIGKILL stops it at once, "
              "leaving what it has not restored", file=sys.stderr, flush=True)


def sigterm_as_interrupt() -> bool:
    """From now on SIGTERM raises `Terminated` (a KeyboardInterrupt) in the main thread. False when it cannot be
    installed (not the main thread, e.g. a pytest embedded in a thread), and nothing changes then."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, _SigtermAsInterrupt())
    return True


def run_forwarding(argv: Sequence[str], **popen: Any) -> int:
    """subprocess.run's return code, but a SIGTERM received meanwhile goes to the child, a SIGINT is left to the
    child (it has it from the terminal), and this waits for the child to end (its teardown), then returns its
    code. The handlers before are restored afterwards."""
    process = subprocess.Popen(list(argv), **popen)  # noqa: S603 (argv is the suite's own)
    return wait_forwarding([process])[0]


def wait_forwarding(processes: Sequence[subprocess.Popen[Any]]) -> list[int]:
    """Wait for every process to end, forwarding a SIGTERM received meanwhile to each one still running (a SIGINT
    is left to them: they have it from the terminal); their return codes. The handlers before are restored."""
    def forward(signum: int, frame: FrameType | None) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)

    if threading.current_thread() is not threading.main_thread():
        return [process.wait() for process in processes]
    before = {signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
              signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN)}
    try:
        return [process.wait() for process in processes]
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
