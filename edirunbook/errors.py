"""One exception type per layer; every message says what is wrong and what to do."""


class RunbookSuiteError(Exception):
    """Base class: the CLI prints the message (no traceback) and exits non-zero."""


class SetupError(RunbookSuiteError):
    """The machine cannot host the environment (no Docker, no permission, no disk ...)."""


class BuildError(RunbookSuiteError):
    """An image or binary could not be built."""


class EnvironmentNotReady(RunbookSuiteError):
    """The environment is down, half up, or does not answer."""


class CoverageError(RunbookSuiteError):
    """The runbook or the features could not be read."""
