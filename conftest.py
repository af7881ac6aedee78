"""Wiring: the report plugin, the fixtures and every step module, registered once for all features."""
pytest_plugins = [
    "edirunbook.report",
    "fixtures.environment",
    "fixtures.scenario",
    "steps.commands",
    "steps.workloads",
    "steps.http",
    "steps.database",
    "steps.engine",
    "steps.backup",
    "steps.disk",
    "steps.rollout",
    "steps.conformance",
]
