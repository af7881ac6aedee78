"""Wait on state with a timeout; on failure say what was awaited and what was last seen."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from edirunbook.errors import NotSettled, StopWaiting, WaitTimeout


@dataclass
class Observation:
    done: bool
    seen: str


def wait_for(what: str, probe: Callable[[], Observation], *, timeout: float, interval: float = 0.5) -> float:
    """Poll `probe` until it reports done; returns the seconds it took.

    An exception from the probe counts as 'not yet' (and is what was last seen), except StopWaiting, which
    ends the wait at once; on timeout WaitTimeout says what was awaited and what was last seen.
    """
    started = time.monotonic()
    deadline = started + timeout
    last = "nothing observed yet"
    while True:
        try:
            observation = probe()
            last = observation.seen
            if observation.done:
                return time.monotonic() - started
        except StopWaiting:
            raise
        except Exception as error:  # noqa: BLE001 - an unreachable target is a state to wait through
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() >= deadline:
            raise WaitTimeout(what, timeout, last)
        time.sleep(interval)


def hold_for(what: str, probe: Callable[[], Observation], *, seconds: float, interval: float = 1.0) -> None:
    """Check that `probe` keeps reporting done for `seconds` (a rollout that stays up, not one that crashes
    a moment later); NotSettled says when it stopped holding and what was seen then."""
    started = time.monotonic()
    while True:
        observation = probe()
        held = time.monotonic() - started
        if not observation.done:
            raise NotSettled(f"{what} did not hold for {seconds:.0f}s: after {held:.1f}s: {observation.seen}")
        if held >= seconds:
            return
        time.sleep(interval)
