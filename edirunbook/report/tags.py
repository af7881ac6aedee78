"""Scenario tags: which exist, what `@rto:5-30m` means, and `--tags` selection with pytest's `-m` grammar.

Tags in a .feature file (pytest-bdd passes them without the `@`):
  plain      `destructive`, `readonly`, `slow`, `smoke`, `shipped`, or any marker registered in the `markers` ini option
  runbook    `runbook:<section-slug>` -- the runbook section the scenario executes (several allowed)
  rto        `rto:<duration>` -- the runbook's recovery target: `30s`, `15m`, `1h`, `1h30m`, or a range
             `5-30m` (`30s-2m`); the verdict uses the upper end and says whether the lower end was met
Any other `name:value` tag is an error naming the feature file, the line and the tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pytest
from _pytest.mark.expression import Expression  # pytest's own -m grammar; pinned pytest, see pyproject

from edirunbook.durations import HELP as _DURATION_HELP_BASE
from edirunbook.durations import format_duration, parse_duration
from edirunbook.errors import DurationError, ReportError

PLAIN_TAGS = {
    "destructive": "the scenario changes or breaks the environment (refused on live unless in game-day mode)",
    "gameday": "a game-day scenario: runs on a live environment only (make gameday), against the cluster attached to",
    "multinode": "needs a cluster with more than one schedulable node (a drain must leave somewhere to go)",
    "readonly": "the scenario only reads: safe against any environment",
    "slow": "the scenario takes minutes (waits for rollouts, restores, recoveries)",
    "smoke": "a quick check that the environment answers at all",
    "shipped": "the scenario reads the deployment as `make deploy` left it: it runs first, before the known state "
    "changes anything",
}
RUNBOOK, RTO = "runbook", "rto"
GAMEDAY = "gameday"
VALUE_TAGS = {
    RUNBOOK: "runbook(slug): the scenario executes the runbook section with this slug (from @runbook:<slug>)",
    RTO: "rto(target): the runbook's recovery target for this procedure (from @rto:<duration>, e.g. 15m or 5-30m)",
}
_BARE_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SLUG = re.compile(r"[\w-]+")  # the alphabet of runbook.slugify: GitHub's heading anchors
_DURATION_HELP = f"{_DURATION_HELP_BASE}, or a range such as 5-30m"


@dataclass(frozen=True)
class Target:
    """A time the runbook promises: at most `high` seconds; a range also names the hoped-for `low` end."""

    text: str  # as written in the tag, e.g. "5-30m"
    low: float | None
    high: float
    low_text: str | None = None  # the lower end as a duration, e.g. "5m"

    @classmethod
    def parse(cls, text: str) -> Target:
        low_text, dash, high_text = text.partition("-")
        if not dash:
            return cls(text, None, parse_duration(text, _DURATION_HELP))
        if _BARE_NUMBER.fullmatch(low_text):  # "5-30m": the unit of the upper end applies to both
            low_text += high_text.rstrip("0123456789.")[-1:]
        low, high = parse_duration(low_text, _DURATION_HELP), parse_duration(high_text, _DURATION_HELP)
        if low >= high:
            raise DurationError(f"{text!r} is a range whose lower end is not below its upper end; {_DURATION_HELP}")
        return cls(text, low, high, low_text)

    @classmethod
    def of_seconds(cls, seconds: float) -> Target:
        if seconds <= 0:
            raise ReportError(f"target_seconds={seconds!r}: a target must be a positive number of seconds")
        return cls(format_duration(seconds), None, float(seconds))

    def met_by(self, seconds: float) -> bool:
        return seconds <= self.high

    def lower_end_met_by(self, seconds: float) -> bool | None:
        return None if self.low is None else seconds <= self.low


@dataclass(frozen=True)
class ScenarioTags:
    """What a scenario's tags say: every tag as written, its runbook sections and its recovery target."""

    tags: frozenset[str]
    runbook: tuple[str, ...]
    target: Target | None


def plain_tag_known(tag: str) -> bool:
    """Whether `tag` is a marker pytest accepts here (built in, registered by us or in the `markers` ini)."""
    try:
        getattr(pytest.mark, tag)
    except pytest.fail.Exception:  # --strict-markers and not registered
        return False
    return True


def read_tags(tags: Iterable[str], where: str) -> tuple[ScenarioTags, list[str]]:
    """The meaning of one scenario's tags, plus one problem message per tag that cannot be used."""
    problems: list[str] = []
    slugs: list[str] = []
    targets: list[Target] = []
    for tag in sorted(tags):
        name, colon, value = tag.partition(":")
        if not colon:
            if not plain_tag_known(tag):
                problems.append(
                    f"{where}: unknown tag @{tag}: use one of {_listed(PLAIN_TAGS)}, @runbook:<section-slug>, "
                    f"@rto:<duration>, or register it under `markers` in pyproject.toml"
                )
        elif name == RUNBOOK:
            if _SLUG.fullmatch(value) and value == value.lower():
                slugs.append(value)
            else:
                problems.append(
                    f"{where}: @{tag} names no runbook section: write @runbook:<section-slug>, the section's "
                    f"GitHub-style anchor (lower case, words joined by '-')"
                )
        elif name == RTO:
            try:
                targets.append(Target.parse(value))
            except DurationError as error:
                problems.append(f"{where}: malformed recovery target @{tag}: {error}")
        else:
            problems.append(
                f"{where}: unknown tag @{tag}: the only name:value tags are @runbook:<section-slug> and "
                f"@rto:<duration>; fix the tag or drop it"
            )
    if len(targets) > 1:
        written = ", ".join(f"@rto:{t.text}" for t in targets)
        problems.append(f"{where}: more than one recovery target ({written}): keep the one the runbook states")
    if {"destructive", "readonly"} <= set(tags):
        problems.append(f"{where}: tagged both @destructive and @readonly: a scenario is one or the other")
    return ScenarioTags(frozenset(tags), tuple(slugs), targets[0] if targets else None), problems


def _listed(tags: Iterable[str]) -> str:
    return ", ".join(f"@{tag}" for tag in tags)


class TagSelection:
    """`--tags EXPR`: pytest's `-m` grammar (and, or, not, parentheses) over scenario tags.

    An identifier matches a scenario that carries it as written (`readonly`, `runbook:restart-a-service`,
    `rto:15m`), or, without a value, any tag of that name (`runbook`, `rto`: has such a tag). A leading `@`
    is allowed (`@readonly and not @slow`). Markers of plain pytest tests count as their tags.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        cleaned = re.sub(r"(?<![\w:./\\-])@(?=[\w])", "", text)
        try:
            self._expression = Expression.compile(cleaned)
        except SyntaxError as error:
            raise pytest.UsageError(
                f"--tags {text!r} is not a tag expression ({error.msg} at column {error.offset}): write tags "
                f"joined by and/or/not with parentheses, e.g. --tags 'readonly and not slow' or "
                f"--tags 'runbook:restart-a-service'"
            ) from None
        unknown_names = {
            ident.partition(":")[0]
            for ident in self._expression.idents()
            if ":" in ident and ident.partition(":")[0] not in VALUE_TAGS
        }
        if unknown_names:
            raise pytest.UsageError(
                f"--tags {text!r} uses {', '.join(sorted(n + ':' for n in unknown_names))} but the only "
                f"name:value tags are runbook:<section-slug> and rto:<duration>"
            )

    def idents(self) -> frozenset[str]:
        return self._expression.idents()

    def matches(self, tags: Iterable[str]) -> bool:
        names = set(tags)
        names |= {tag.partition(":")[0] for tag in names}

        def matcher(name: str, /, **kwargs: str | int | bool | None) -> bool:
            if kwargs:
                raise pytest.UsageError(f"--tags {self.text!r}: tags take no arguments; write runbook:<slug>")
            return name in names

        return self._expression.evaluate(matcher)
