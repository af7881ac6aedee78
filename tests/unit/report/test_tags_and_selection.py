"""Scenario tags become pytest markers and report metadata; `--tags` selects scenarios with pytest's -m grammar."""

from __future__ import annotations

import pytest

from .helpers import OPS, feature, junit_properties, scenario_of, summary

pytest_plugins = ["pytester"]


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
