"""The verdict of a scenario: its recovery time (or wall time) and its own timings against their targets."""

from __future__ import annotations

import pytest

from edirunbook.errors import ReportError
from edirunbook.report.model import FAILED, NO_TARGET, NOT_RUN, OVER, PASSED, WITHIN, ScenarioRecord
from edirunbook.report.tags import ScenarioTags, Target


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


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ReportError, match="rollout: a duration of -1.0 seconds is negative"):
        record(PASSED, None, None).add_timing("rollout", -1.0, None)
