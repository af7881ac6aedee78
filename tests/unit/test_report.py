"""The report plugin: runbook tags, --tags selection, timings against targets, transcripts, secrets, report files.

Each behaviour runs a tiny .feature and its step module through pytest-bdd with pytester, as pytest-bdd's own
tests do, and checks the outcome, the terminal and the files in reports/.
"""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from edirunbook.report_records import FAILED, NO_TARGET, NOT_RUN, OVER, PASSED, WITHIN, ScenarioRecord
from edirunbook.report_secrets import redact, register_secret
from edirunbook.report_tags import ReportError, ScenarioTags, Target, format_duration, parse_duration

pytest_plugins = ["pytester"]

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


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project like ours: strict markers, the plugin loaded from the rootdir conftest, one step module."""
    pytester.makeini(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
        # this process imported the plugin already, so the inner runs cannot rewrite its asserts (it has none)
        "filterwarnings = ignore:Module already imported:pytest.PytestAssertRewriteWarning\n"
    )
    pytester.makeconftest('pytest_plugins = ["edirunbook.report"]\n')
    pytester.makepyfile(test_steps=STEPS)
    return pytester


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


# --- durations and targets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2.5m", 150), ("90s", 90)],
)
def test_durations_are_read_in_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15", "fifteen", "15 min", "m", "0s", "-5m", "15M"])
def test_a_malformed_duration_says_how_to_write_one(text: str) -> None:
    with pytest.raises(ReportError, match="write it like 30s, 15m, 1h"):
        parse_duration(text)


def test_a_range_target_has_both_ends_and_the_unit_of_the_upper_end_applies_to_a_bare_lower_end() -> None:
    assert Target.parse("5-30m") == Target("5-30m", 300, 1800, "5m")
    assert Target.parse("30s-2m") == Target("30s-2m", 30, 120, "30s")
    with pytest.raises(ReportError, match="lower end is not below its upper end"):
        Target.parse("30-5m")


def test_durations_are_shown_short() -> None:
    assert [format_duration(s) for s in (0.25, 12.34, 192, 3720)] == ["250ms", "12.3s", "3m12s", "1h02m"]


def record(result: str, target: str | None, recovery: float | None, wall: float = 40.0) -> ScenarioRecord:
    tags = ScenarioTags(frozenset(), (), Target.parse(target) if target else None)
    scenario = ScenarioRecord("n", "p", tags=tags, result=result)
    scenario.add_timing("scenario", wall, None)
    if recovery is not None:
        scenario.add_timing("recovery", recovery, None)
    return scenario


@pytest.mark.parametrize(
    ("result", "target", "recovery", "verdict", "text"),
    [
        (PASSED, "15m", 600, WITHIN, "within target"),
        (PASSED, "15m", 900, WITHIN, "within target"),
        (PASSED, "15m", 901, OVER, "OVER TARGET"),
        (PASSED, "5-30m", 200, WITHIN, "within target (<=5m)"),
        (PASSED, "5-30m", 600, WITHIN, "within target (>5m)"),
        (PASSED, "5-30m", 1801, OVER, "OVER TARGET (>5m)"),
        (PASSED, None, 600, NO_TARGET, "no target"),
        (FAILED, "15m", 60, FAILED, "failed"),
        (NOT_RUN, "15m", None, NOT_RUN, "not run"),
    ],
)
def test_the_verdict_compares_the_recovery_time_with_the_upper_end_and_says_whether_the_lower_end_was_met(
    result: str, target: str | None, recovery: float | None, verdict: str, text: str
) -> None:
    scenario = record(result, target, recovery)
    assert (scenario.verdict, scenario.verdict_text) == (verdict, text)


def test_without_a_recovery_time_the_procedure_wall_time_is_compared_with_the_target() -> None:
    assert record(PASSED, "30s", None, wall=40).verdict == OVER
    assert record(PASSED, "1m", None, wall=40).verdict == WITHIN


def test_a_timing_with_its_own_target_counts_in_the_verdict() -> None:
    scenario = record(PASSED, None, None)
    scenario.add_timing("rollout", 120, Target.of_seconds(60))
    assert scenario.verdict == OVER
    assert scenario.over_target_message() == "rollout took 2m00s, over its target of 1m00s"


# --- tags become markers and metadata ---------------------------------------------------------------------------


def test_plain_tags_become_registered_markers_and_runbook_and_rto_tags_markers_with_their_value(
    suite: pytest.Pytester,
) -> None:
    feature(suite, """
        @runbook:restart-a-service
        Feature: Restart a service

          @destructive @slow @smoke @rto:5-30m
          Scenario: Restart the webserver
            Then the scenario is marked destructive, slow, smoke, runbook(restart-a-service), rto(5-30m)
    """)
    result = suite.runpytest()
    result.assert_outcomes(passed=1)
    scenario = scenario_of(suite, "Restart the webserver")
    assert scenario["runbook"] == ["restart-a-service"]
    assert scenario["target"] == {"tag": "rto:5-30m", "low_s": 300, "high_s": 1800}
    assert scenario["tags"] == ["destructive", "rto:5-30m", "runbook:restart-a-service", "slow", "smoke"]
    properties = junit_properties(suite, "test_restart_the_webserver")
    assert ("runbook", "restart-a-service") in properties and ("rto", "5-30m") in properties


def test_the_tag_markers_are_documented_in_pytest_markers(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.destructive: *", "@pytest.mark.runbook(slug): *",
                                 "@pytest.mark.rto(target): *"])


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ("@owner:alice", "features/ops.feature:4 (scenario 'Restart'): unknown tag @owner:alice: the only name:value*"),
        ("@rto:fifteen", "features/ops.feature:4 (scenario 'Restart'): malformed recovery target @rto:fifteen: "
                         "'fifteen' is not a duration: write it like 30s, 15m, 1h*"),
        ("@wip", "features/ops.feature:4 (scenario 'Restart'): unknown tag @wip: use one of @destructive*"),
        ("@runbook:Restart_A", "features/ops.feature:4 (scenario 'Restart'): @runbook:Restart_A names no runbook*"),
        ("@rto:15m @rto:30m", "*: more than one recovery target (@rto:15m, @rto:30m)*"),
        ("@destructive @readonly", "*: tagged both @destructive and @readonly*"),
    ],
)
def test_a_tag_that_cannot_be_used_fails_collection_naming_the_feature_file_line_and_tag(
    suite: pytest.Pytester, tags: str, message: str
) -> None:
    feature(suite, f"""
        Feature: Restart a service

          {tags}
          Scenario: Restart
            Given the app answers
    """)
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: scenario tags this suite cannot use:", message])


# --- --tags selection -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "selected"),
    [
        ("readonly and not slow", ["Check health"]),
        ("runbook:restart-a-service", ["Check health", "Restart the webserver", "Back up the database"]),
        ("runbook:backup-the-database", ["Back up the database"]),
        ("@destructive and not @slow", ["Back up the database"]),
        ("rto", ["Restart the webserver"]),
        ("rto:15m or (smoke and readonly)", ["Check health", "Restart the webserver"]),
        ("", ["Check health", "Restart the webserver", "Back up the database"]),
    ],
)
def test_tags_selects_scenarios_with_pytest_m_grammar(
    suite: pytest.Pytester, expression: str, selected: list[str]
) -> None:
    feature(suite, OPS)
    result = suite.runpytest(f"--tags={expression}")  # "=": pytest reads a lone "@arg" as a file
    result.assert_outcomes(passed=len(selected), deselected=3 - len(selected))
    assert [s["scenario"] for s in summary(suite)["scenarios"]] == selected


def test_tags_that_match_nothing_exit_non_zero_and_say_so(suite: pytest.Pytester) -> None:
    feature(suite, OPS)
    result = suite.runpytest("--tags=runbook:restore-the-database")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines([
        "no scenario matched the tags 'runbook:restore-the-database'; tags in use: *runbook:restart-a-service*",
        "note: --tags names 'runbook:restore-the-database', which no collected scenario carries",
    ])
    assert summary(suite)["scenarios"] == []


@pytest.mark.parametrize(
    ("expression", "message"),
    [("readonly and", "ERROR: --tags 'readonly and' is not a tag expression (*): write tags joined by and/or/not*"),
     ("owner:alice", "ERROR: --tags 'owner:alice' uses owner: but the only name:value tags are runbook:*")],
)
def test_a_malformed_tag_expression_is_a_usage_error(suite: pytest.Pytester, expression: str, message: str) -> None:
    feature(suite, OPS)
    result = suite.runpytest(f"--tags={expression}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


# --- timings, transcripts and verdicts from steps ----------------------------------------------------------------


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
    suite.makepyfile(test_stopwatch='''
        import pytest
        from pytest_bdd import scenarios, when

        from edirunbook.report import ReportError, record_duration

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
    (suite.path / "test_steps.py").unlink()
    result = suite.runpytest()
    result.assert_outcomes(passed=1)
    assert [t["name"] for t in scenario_of(suite, "Time parts")["timings"]] == ["rollout", "recovery", "scenario"]


def test_recording_from_a_session_fixture_says_to_use_the_tests_request(suite: pytest.Pytester) -> None:
    feature(suite, """
        Feature: Misuse

          Scenario: From a session fixture
            Given the cluster
    """)
    suite.makepyfile(test_misuse='''
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
    (suite.path / "test_steps.py").unlink()
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


# --- report files: always written ---------------------------------------------------------------------------------


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


# --- secrets --------------------------------------------------------------------------------------------------------


def test_a_registered_secret_never_appears_in_any_report_or_the_terminal(suite: pytest.Pytester) -> None:
    secret = 'Pa55-"<word>"&\'x'
    feature(suite, """
        Feature: Database credentials

          Scenario: Log in
            When the password is used
    """)
    (suite.path / "test_steps.py").unlink()
    suite.makepyfile(test_secret=f'''
        import logging

        from pytest_bdd import scenarios, when

        from edirunbook.report import record_command, record_duration, register_secret

        scenarios("features")
        SECRET = {secret!r}


        @when("the password is used")
        def _(request):
            register_secret(SECRET)
            print("connecting with", SECRET)
            logging.getLogger("db").warning("password=%s", SECRET)
            record_command(request, f"mysql -uroot -p{{SECRET}} -e 'select 1'", 1, f"denied for {{SECRET}}", 0.1)
            record_duration(request, f"login-{{SECRET}}", 0.5)
            request.node.user_properties.append(("password", SECRET))
            assert SECRET == "expected", f"login failed with {{SECRET}}"
    ''')
    result = suite.runpytest("-v", "-rA")
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "***" in output and secret not in output
    for name in REPORT_FILES:
        text = (suite.path / "reports" / name).read_text(encoding="utf-8")
        assert "Pa55" not in text, f"{name} shows the secret"
    assert "mysql -uroot -p*** -e 'select 1'" in json.dumps(scenario_of(suite, "Log in")["commands"][0]["command"])
    result.stdout.fnmatch_lines(["FAILED test_secret.py::test_log_in - AssertionError: login failed with ***"])


def test_a_secret_registered_late_is_still_taken_out_of_every_report_file(suite: pytest.Pytester) -> None:
    feature(suite, """
        Feature: Late secret

          Scenario: Leak before registering
            Then the token leaks

          Scenario: Register
            When the token is registered
    """)
    (suite.path / "test_steps.py").unlink()
    suite.makepyfile(test_late='''
        from pytest_bdd import scenarios, then, when

        from edirunbook.report import register_secret

        scenarios("features")
        TOKEN = "late-t0ken-<&>-7781"


        @then("the token leaks")
        def _():
            raise AssertionError(f"bad token {TOKEN}")


        @when("the token is registered")
        def _():
            register_secret(TOKEN)
    ''')
    suite.runpytest().assert_outcomes(passed=1, failed=1)
    for name in REPORT_FILES:
        text = (suite.path / "reports" / name).read_text(encoding="utf-8")
        assert "t0ken" not in text, f"{name} shows the secret"
    junit = (suite.path / "reports" / "junit.xml").read_text(encoding="utf-8")
    assert "bad token ***" in junit


def test_redact_masks_every_registered_secret_and_ignores_empty_ones() -> None:
    register_secret("")
    register_secret("s3cr3t-token-9")
    assert redact("token=s3cr3t-token-9; other") == "token=***; other"
    assert redact("nothing here") == "nothing here"
