"""What the report plugin's tests share: a step module, a feature, and readers of the files a run writes.

Each behaviour runs a tiny .feature and its step module through pytest-bdd with pytester (the `suite`
fixture in conftest.py), as pytest-bdd's own tests do, and checks the outcome, the terminal and reports/.
"""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

REPORT_FILES = ("junit.xml", "cucumber.json", "report.html", "summary.json", "summary.md")

STEPS = '''
import time

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from edirunbook.report import record_command, record_duration, register_secret

scenarios("features")


@given("the app answers")
def _(request):
    record_command(request, "curl -fsS http://127.0.0.1:18080/health", 0, "ok", 0.05)


@when(parsers.parse("the {name} took {seconds:g} seconds"))
def _(request, name, seconds):
    record_duration(request, name, seconds)


@when(parsers.parse("the {name} took {seconds:g} seconds against {target:g}"))
def _(request, name, seconds, target):
    record_duration(request, name, seconds, target_seconds=target)


@then("it fails")
def _():
    raise AssertionError("the pods never became Ready: 0/2 ready")


@then("the operator presses Ctrl-C")
def _():
    raise KeyboardInterrupt


@then(parsers.parse("the scenario is marked {marks}"))
def _(request, marks):
    found = {m.name + (f"({m.args[0]})" if m.args else "") for m in request.node.iter_markers()}
    assert set(marks.split(", ")) <= found, f"{marks} not all in {sorted(found)}"
'''

OPS = """
    @runbook:restart-a-service
    Feature: Restart a service

      @readonly @smoke
      Scenario: Check health
        Given the app answers

      @destructive @slow @rto:15m
      Scenario: Restart the webserver
        Given the app answers
        When the recovery took 600 seconds

      @destructive @runbook:backup-the-database
      Scenario: Back up the database
        Given the app answers
"""


def feature(pytester: pytest.Pytester, text: str, name: str = "ops") -> Path:
    path = pytester.path / "features" / f"{name}.feature"
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def summary(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "reports" / "summary.json").read_text(encoding="utf-8"))
    return data


def scenario_of(pytester: pytest.Pytester, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in summary(pytester)["scenarios"] if s["scenario"] == name)
    return found


def junit_properties(pytester: pytest.Pytester, test_name: str) -> list[tuple[str, str]]:
    root = ET.parse(pytester.path / "reports" / "junit.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == test_name)
    return [(p.get("name", ""), p.get("value", "")) for p in case.iter("property")]


def own_steps(pytester: pytest.Pytester, name: str, code: str) -> None:
    """Run the test's own step module `name` instead of the shared STEPS."""
    (pytester.path / "test_steps.py").unlink()
    pytester.makepyfile(**{name: code})


def reports_showing(pytester: pytest.Pytester, text: str) -> list[str]:
    """The report files of the last run that contain `text` (every one of REPORT_FILES must exist)."""
    return [name for name in REPORT_FILES
            if text in (pytester.path / "reports" / name).read_text(encoding="utf-8")]
