"""What steps hand to the report: every command run, every measured duration."""
from __future__ import annotations

import pytest

from edirunbook import report
from edirunbook.runner import CommandResult


def command(request: pytest.FixtureRequest, result: CommandResult) -> None:
    report.record_command(request, result.executed, result.exit_code, result.output, result.seconds)


def duration(request: pytest.FixtureRequest, name: str, seconds: float, target_seconds: float | None = None) -> None:
    report.record_duration(request, name, seconds, target_seconds=target_seconds)
