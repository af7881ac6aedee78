"""Wiring: the report plugin, the fixtures and every step module of steps/, registered once for all features."""
from pathlib import Path

# Every module of steps/ (a new step module needs no wiring), in a fixed order.
STEP_MODULES = sorted(f"steps.{path.stem}" for path in (Path(__file__).parent / "steps").glob("*.py")
                      if path.stem != "__init__")

pytest_plugins = [
    "edirunbook.report",
    "fixtures.environment",
    "fixtures.scenario",
    "fixtures.gameday",
    *STEP_MODULES,
]
