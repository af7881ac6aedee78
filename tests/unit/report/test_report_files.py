"""The report files are always written: when a scenario fails, when the run is interrupted, wherever asked."""

from __future__ import annotations

import json

import pytest

from edirunbook.report.model import FAILED, NOT_RUN, PASSED

from .helpers import OPS, REPORT_FILES, feature, scenario_of, summary

pytest_plugins = ["pytester"]


def test_every_report_is_written_when_a_scenario_fails(suite: pytest.Pytester) -> None:
    feature(suite, """
        @runbook:restart-a-service
        Feature: Restart a service

          Scenario: Pods never come back
            Given the app answers
            Then it fails

          Scenario: Check health
            Given the app answers
    """)
    result = suite.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    assert sorted(p.name for p in (suite.path / "reports").iterdir()) == sorted(REPORT_FILES)
    failed = scenario_of(suite, "Pods never come back")
    assert (failed["result"], failed["verdict"], failed["failed_step"]) == (FAILED, FAILED, "Then it fails")
    assert failed["error"] == "AssertionError: the pods never became Ready: 0/2 ready"
    cucumber = json.loads((suite.path / "reports" / "cucumber.json").read_text(encoding="utf-8"))
    assert [e["name"] for e in cucumber[0]["elements"]] == ["Pods never come back", "Check health"]
    result.stdout.fnmatch_lines(["  Pods never come back * failed * failed"])


def test_the_reports_are_written_when_the_run_is_interrupted(suite: pytest.Pytester) -> None:
    feature(suite, """
        Feature: Interrupted run

          Scenario: First
            Given the app answers

          Scenario: Second
            Then the operator presses Ctrl-C

          Scenario: Third
            Given the app answers
    """)
    result = suite.runpytest(no_reraise_ctrlc=True)  # in-process: keep the Ctrl-C inside the inner run
    assert result.ret == pytest.ExitCode.INTERRUPTED
    for name in REPORT_FILES:
        assert (suite.path / "reports" / name).is_file(), name
    run = summary(suite)
    assert run["run"]["interrupted"] is True
    assert [(s["scenario"], s["result"], s["interrupted"]) for s in run["scenarios"]] == [
        ("First", PASSED, False), ("Second", NOT_RUN, True), ("Third", NOT_RUN, False)]
    result.stdout.fnmatch_lines(["3 procedures: 1 passed, 2 not run (run interrupted)"])


def test_a_junitxml_path_given_by_the_user_is_kept(suite: pytest.Pytester) -> None:
    feature(suite, OPS)
    suite.runpytest("--junitxml=out/mine.xml", "--report-dir=elsewhere").assert_outcomes(passed=3)
    assert (suite.path / "out" / "mine.xml").is_file()
    assert sorted(p.name for p in (suite.path / "elsewhere").iterdir()) == sorted(set(REPORT_FILES) - {"junit.xml"})
