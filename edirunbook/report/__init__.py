"""The report: runbook tags, timings against the runbook's targets, command transcripts, secrets, report files.

`pytest_plugins = ["edirunbook.report"]` loads the pytest plugin (report/plugin.py). Steps and fixtures use
the recording API re-exported here. The parts: model.py (what is recorded and the verdicts), tags.py (what a
scenario's tags mean, `--tags` selection), secrets.py (never shown), summary.py (summary.json, summary.md,
the terminal table), html.py (report.html's extra parts), plugin.py (the pytest hooks).
"""
from edirunbook.report.model import (
    Stopwatch,
    attachment_dir,
    record_attachment,
    record_command,
    record_duration,
    record_tested,
)
from edirunbook.report.plugin import pytest_addoption, pytest_bdd_apply_tag, pytest_configure, stopwatch
from edirunbook.report.secrets import register_secret, unregister_secret

__all__ = [
    "Stopwatch",
    "attachment_dir",
    "pytest_addoption",
    "pytest_bdd_apply_tag",
    "pytest_configure",
    "record_attachment",
    "record_command",
    "record_duration",
    "record_tested",
    "register_secret",
    "stopwatch",
    "unregister_secret",
]
