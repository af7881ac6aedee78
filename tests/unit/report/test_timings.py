"""Timings, command transcripts and verdicts that steps record, shown in the terminal table and the reports."""

from __future__ import annotations

import pytest

from edirunbook.report.model import FAILED, OVER, WITHIN

from .helpers import OPS, feature, junit_properties, own_steps, scenario_of, summary

pytest_plugins = ["pytester"]


def test_times_recorded_by_steps_are_shown_against_the_runbook_target(suite: pytest.Pytester) -> None:
    feature(suite, """
        @runbook:database-outage
        Feature: Database outage

          @rto:15m
          Scenario: Recover in time
            When the recovery took 600 seconds

          @rto:15m
          Scenario: Recover too slowly
            When the recovery took 1000 seconds

          @rto:5-30m
          Scenario: Recover within the range
            When the recovery took 600 seconds

          Scenario: Roll out
            When the rollout took 30 seconds against 20
    """)
    result = suite.runpytest()
    result.assert_outcomes(passed=4)
    verdicts = {s["scenario"]: (s["recovery_s"], s["verdict"], s["lower_end_met"]) for s in summary(suite)["scenarios"]}
    assert verdicts == {
        "Recover in time": (600, WITHIN, None),
        "Recover too slowly": (1000, OVER, None),
        "Recover within the range": (600, WITHIN, False),
        "Roll out": (None, OVER, None),
    }
    result.stdout.fnmatch_lines([
        "*= runbook procedures =*",
        "procedure * result * duration * recovery * target * verdict",
        "Database outage (features/ops.feature)",
        "  Recover in time * passed * 10m00s * 15m * within target",
        "  Recover too slowly * passed * 16m40s * 15m * OVER TARGET",
        "  Recover within the range",
        "  * passed * 10m00s * 5-30m * within target (>5m)",
        "  Roll out * passed * - * - * OVER TARGET",
        "4 procedures: 4 passed; 2 OVER TARGET",
    ])
    assert ("edirunbook.duration.recovery", "1000.000") in junit_properties(suite, "test_recover_too_slowly")
    assert ("edirunbook.verdict", OVER) in junit_properties(suite, "test_recover_too_slowly")
    markdown = (suite.path / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "| Database outage: Recover too slowly | passed |" in markdown
    assert "recovery took 16m40s, over the runbook's target @rto:15m" in markdown


def test_every_scenario_has_its_wall_time_and_the_table_fits_80_columns(suite: pytest.Pytester) -> None:
    feature(suite, OPS)
    result = suite.runpytest()
    result.assert_outcomes(passed=3)
    for scenario in summary(suite)["scenarios"]:
        assert scenario["duration_s"] >= 0 and scenario["timings"][-1]["name"] == "scenario"
    table = result.stdout.lines[result.stdout.lines.index(next(
        line for line in result.stdout.lines if "runbook procedures" in line)):]
    assert all(len(line) <= 80 for line in table[:6]), table[:6]


def test_fail_over_target_fails_a_scenario_that_passed_too_slowly(suite: pytest.Pytester) -> None:
    feature(suite, """
        Feature: Database outage

          @rto:15m
          Scenario: Recover too slowly
            When the recovery took 1000 seconds
    """)
    result = suite.runpytest("--fail-over-target")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*OVER TARGET: recovery took 16m40s, over the runbook's target @rto:15m*"])
    scenario = scenario_of(suite, "Recover too slowly")
    assert (scenario["result"], scenario["verdict"]) == (FAILED, OVER)


def test_the_stopwatch_times_parts_of_a_scenario_and_refuses_misuse(suite: pytest.Pytester) -> None:
    feature(suite, """
        Feature: Stopwatch

          Scenario: Time parts
            When the parts are timed
    """)
    own_steps(suite, "test_stopwatch", '''
        import pytest
        from pytest_bdd import scenarios, when

        from edirunbook.errors import ReportError
        from edirunbook.report import record_duration

        scenarios("features")


        @when("the parts are timed")
        def _(request, stopwatch):
            with pytest.raises(ReportError, match="'scenario' is the name of the scenario's own wall time"):
                record_duration(request, "scenario", 1.0)
            stopwatch.start("rollout")
            assert stopwatch.stop("rollout") >= 0
            with pytest.raises(ValueError), stopwatch.measure("recovery"):
                raise ValueError("recorded anyway")
            with pytest.raises(ReportError, match="'backup' was never started"):
                stopwatch.stop("backup")
            stopwatch.start("restore")
            with pytest.raises(ReportError, match="'restore' is already running"):
                stopwatch.start("restore")
    ''')
    result = suite.runpytest()
    result.assert_outcomes(passed=1)
    assert [t["name"] for t in scenario_of(suite, "Time parts")["timings"]] == ["rollout", "recovery", "scenario"]


def test_recording_from_a_session_fixture_says_to_use_the_tests_request(suite: pytest.Pytester) -> None:
    feature(suite, """
        Feature: Misuse

          Scenario: From a session fixture
            Given the cluster
    """)
    own_steps(suite, "test_misuse", '''
        import pytest
        from pytest_bdd import given, scenarios

        from edirunbook.report import record_duration

        scenarios("features")


        @pytest.fixture(scope="session")
        def cluster(request):
            record_duration(request, "cluster", 1.0)


        @given("the cluster")
        def _(cluster):
            pass
    ''')
    result = suite.runpytest()
    result.assert_outcomes(failed=1)  # pytest-bdd sets up a step's fixtures when the step runs
    result.stdout.fnmatch_lines(["*record_duration needs the test's own `request` (function scope), not one of "
                                 "scope 'session'*"])


def test_commands_are_listed_in_the_summary_and_collapsed_in_the_html_report(suite: pytest.Pytester) -> None:
    feature(suite, OPS)
    suite.runpytest().assert_outcomes(passed=3)
    commands = scenario_of(suite, "Check health")["commands"]
    assert commands == [{"command": "curl -fsS http://127.0.0.1:18080/health", "exit_code": 0, "seconds": 0.05,
                         "output": "ok"}]
    page = (suite.path / "reports" / "report.html").read_text(encoding="utf-8")
    assert "&lt;details&gt;&lt;summary&gt;&lt;code&gt;$ curl -fsS http://127.0.0.1:18080/health" in page
    assert "Runbook procedures" in page and "Runbook target" in page
