"""Durations as tags and features write them, and the runbook targets (`@rto:15m`, `@rto:5-30m`) built on them."""

from __future__ import annotations

import pytest

from edirunbook.durations import format_duration, parse_duration
from edirunbook.errors import DurationError, ReportError, RunbookSuiteError
from edirunbook.report.tags import Target


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2.5m", 150), ("90s", 90)],
)
def test_durations_are_read_in_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15", "fifteen", "15 min", "m", "0s", "-5m", "15M"])
def test_a_malformed_duration_says_how_to_write_one(text: str) -> None:
    with pytest.raises(DurationError, match="write it like 30s, 15m, 1h"):
        parse_duration(text)


def test_a_duration_error_is_a_suite_error_and_a_value_error() -> None:
    assert issubclass(DurationError, RunbookSuiteError) and issubclass(DurationError, ValueError)


def test_a_range_target_has_both_ends_and_the_unit_of_the_upper_end_applies_to_a_bare_lower_end() -> None:
    assert Target.parse("5-30m") == Target("5-30m", 300, 1800, "5m")
    assert Target.parse("30s-2m") == Target("30s-2m", 30, 120, "30s")
    with pytest.raises(DurationError, match="lower end is not below its upper end"):
        Target.parse("30-5m")


def test_a_malformed_target_says_a_range_is_allowed_too() -> None:
    with pytest.raises(DurationError, match="'fifteen' is not a duration: write it like .*, or a range such as 5-30m"):
        Target.parse("fifteen")


def test_a_target_in_seconds_must_be_positive() -> None:
    assert Target.of_seconds(90) == Target("1m30s", None, 90.0)
    with pytest.raises(ReportError, match="a target must be a positive number of seconds"):
        Target.of_seconds(0)


def test_durations_are_shown_short() -> None:
    assert [format_duration(s) for s in (0.25, 12.34, 192, 3720)] == ["250ms", "12.3s", "3m12s", "1h02m"]
