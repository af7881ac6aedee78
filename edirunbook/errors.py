"""Every exception type of the suite, one per layer; every message says what is wrong and what to do.

The CLI prints a RunbookSuiteError as one paragraph (no traceback) and exits 2.
"""
from __future__ import annotations

from collections.abc import Sequence


class RunbookSuiteError(Exception):
    """Base class of everything below."""


class SetupError(RunbookSuiteError):
    """The machine cannot host the environment (no Docker, no permission, no disk ...)."""


class BuildError(RunbookSuiteError):
    """An image or binary could not be built."""


class ConfigError(RunbookSuiteError):
    """An environment file (environments/<env>/env.yaml) is missing or cannot be used as written."""


class EnvironmentNotReady(RunbookSuiteError):
    """The environment is down, half up, or does not answer."""


class AppError(RunbookSuiteError):
    """The Bots EDI deployment is not in the state a step expects."""


class CoverageError(RunbookSuiteError):
    """The runbook or the features could not be read."""


class ReportError(RunbookSuiteError):
    """A scenario's tags, a timing record or a report cannot be used as given."""


class DurationError(RunbookSuiteError, ValueError):
    """A duration (`90s`, `15m`, `1h30m`) or a target range (`5-30m`) that cannot be read."""


class CommandFailed(RunbookSuiteError):
    """A build or setup subprocess (docker, go, kind, kubectl) exited non-zero."""

    def __init__(self, argv: Sequence[str], code: int, output: str) -> None:
        tail = "\n".join(output.strip().splitlines()[-25:])
        super().__init__(f"command failed (exit {code}): {' '.join(argv)}\n{tail}")
        self.code = code
        self.output = output


class CommandError(RunbookSuiteError):
    """A runbook command the operator runs failed or could not be prepared."""


class WaitTimeout(RunbookSuiteError):
    """A wait ran out of time; says what was awaited and what was last seen."""

    def __init__(self, what: str, timeout: float, last_seen: str) -> None:
        super().__init__(f"timed out after {timeout:.0f}s waiting for {what}; last seen:\n{last_seen}")
        self.what = what
        self.last_seen = last_seen


class NotSettled(RunbookSuiteError):
    """A state that was reached did not hold for the settling period (a pod went unready or restarted)."""


class StopWaiting(RunbookSuiteError):
    """Raised by a probe when the awaited state can no longer come (a Job failed): ends the wait at once."""


class GuardRailRefused(RunbookSuiteError):
    """A game-day guard rail refused: the wrong cluster, a context not allowed, no confirmation, a fault outside its
    blast radius. Nothing was changed."""
