"""Wiring: the fixtures and every step module, registered once for all features.

The report plugin (edirunbook.report) is loaded by `make verify` with `-p edirunbook.report`, so the
library's unit tests do not write scenario reports.
"""
pytest_plugins = [
    "fixtures.environment",
    "fixtures.scenario",
    "steps.commands",
    "steps.workloads",
    "steps.http",
    "steps.database",
    "steps.engine",
    "steps.backup",
    "steps.disk",
]
