"""The report model: what the suite records per scenario (result, timings, commands) and the verdict against
the runbook's target; and how steps and fixtures record into it. The writers (summary, html) only read it."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from edirunbook.durations import format_duration
from edirunbook.errors import ReportError
from edirunbook.report.secrets import redact, redact_value
from edirunbook.report.tags import ScenarioTags, Target

PASSED, FAILED, ERROR, NOT_RUN = "passed", "failed", "error", "not run"
WITHIN, OVER, NO_TARGET = "within target", "OVER TARGET", "no target"
RECOVERY = "recovery"  # the timing name compared with @rto
SCENARIO = "scenario"  # the timing name of a scenario's wall time (its steps, without fixture set-up)
MAX_OUTPUT = 20_000  # characters of a command's output kept in the reports (the end: errors come last)
PROPERTY_PREFIX = "edirunbook"
# What the run tested (Kubernetes version, app image and digest, manifests ...), set by the suite's fixtures:
# report.html shows it on its first screen, summary.json under run.tested.
_TESTED: dict[str, str] = {}


def record_tested(name: str, value: str) -> None:
    """One fact about what this run tests (shown first in report.html), e.g. record_tested("app image", ref)."""
    _TESTED[name] = value


def tested() -> dict[str, str]:
    return dict(_TESTED)


@dataclass
class Timing:
    name: str
    seconds: float
    target: Target | None = None

    @property
    def verdict(self) -> str:
        if self.target is None:
            return NO_TARGET
        return WITHIN if self.target.met_by(self.seconds) else OVER


@dataclass
class CommandRecord:
    command: str
    exit_code: int | None
    output: str
    seconds: float


@dataclass
class Attachment:
    """A file a step saved for the report (a screenshot); `path` as given, shown relative to the report dir."""

    path: Path
    title: str

    @property
    def is_image(self) -> bool:
        return self.path.suffix.lower() in (".png", ".jpg", ".jpeg")

    def shown(self, report_dir: Path | str | None) -> str:
        """The path relative to the report dir (where report.html and summary.md are) when it is inside it."""
        if report_dir is not None:
            relative = os.path.relpath(self.path.resolve(), Path(report_dir).resolve())
            if not relative.startswith(".."):
                return Path(relative).as_posix()
        return self.path.as_posix()


@dataclass
class ScenarioRecord:
    """One test item: who it is, what happened, how long it took, what it ran."""

    nodeid: str
    procedure: str  # "<feature name>: <scenario name>", or the node id of a plain pytest test
    scenario: str | None = None  # the scenario's name, with the outline's example id
    feature: str | None = None
    feature_file: str | None = None
    line: int | None = None
    tags: ScenarioTags = field(default_factory=lambda: ScenarioTags(frozenset(), (), None))
    result: str = NOT_RUN
    error: str | None = None  # the failure's first line
    failed_step: str | None = None
    interrupted: bool = False
    failed_for_time: bool = False  # --fail-over-target turned a passed scenario into a failure
    timings: list[Timing] = field(default_factory=list)
    commands: list[CommandRecord] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def wall(self) -> float | None:
        return next((t.seconds for t in self.timings if t.name == SCENARIO), None)

    @property
    def recovery(self) -> float | None:
        """The longest recovery recorded (a scenario may recover more than once)."""
        found = [t.seconds for t in self.timings if t.name == RECOVERY]
        return max(found) if found else None

    @property
    def measured(self) -> float | None:
        """What is compared with @rto: the recovery time when one was recorded, else the scenario's wall time."""
        return self.recovery if self.recovery is not None else self.wall

    @property
    def completed(self) -> bool:
        """Whether the steps all ran, so the times can be compared with the targets."""
        return self.result == PASSED or self.failed_for_time

    @property
    def lower_end_met(self) -> bool | None:
        target, measured = self.tags.target, self.measured
        if not self.completed or target is None or measured is None:
            return None
        return target.lower_end_met_by(measured)

    @property
    def verdict(self) -> str:
        if self.result == NOT_RUN:
            return NOT_RUN
        if not self.completed:
            return FAILED
        checks = [t.verdict for t in self.timings if t.target is not None]
        if self.tags.target is not None and self.measured is not None:
            checks.append(WITHIN if self.tags.target.met_by(self.measured) else OVER)
        if not checks:
            return NO_TARGET
        return OVER if OVER in checks else WITHIN

    @property
    def verdict_text(self) -> str:
        """The verdict, and for a range target whether the lower end was met: `within target (<=5m)`."""
        lower = self.lower_end_met
        if lower is None or self.tags.target is None:
            return self.verdict
        return f"{self.verdict} ({'<=' if lower else '>'}{self.tags.target.low_text})"

    def over_target_message(self) -> str:
        over = [f"{t.name} took {format_duration(t.seconds)}, over its target of {t.target.text}"
                for t in self.timings if t.target is not None and t.verdict == OVER]
        target, measured = self.tags.target, self.measured
        if target is not None and measured is not None and not target.met_by(measured):
            what = RECOVERY if self.recovery is not None else "the procedure"
            over.append(f"{what} took {format_duration(measured)}, over the runbook's target @rto:{target.text}")
        return "; ".join(over)

    def add_timing(self, name: str, seconds: float, target: Target | None) -> Timing:
        if seconds < 0:
            raise ReportError(f"{name}: a duration of {seconds!r} seconds is negative; measure with time.monotonic()")
        timing = Timing(redact(name), float(seconds), target)
        self.timings.append(timing)
        return timing

    def as_json(self, report_dir: Path | str | None = None) -> dict[str, Any]:
        """The scenario for summary.json; attachment paths relative to `report_dir` when inside it."""
        target = self.tags.target
        return redact_value({
            "nodeid": self.nodeid,
            "procedure": self.procedure,
            "scenario": self.scenario,
            "feature": self.feature,
            "feature_file": self.feature_file,
            "line": self.line,
            "tags": sorted(self.tags.tags),
            "runbook": list(self.tags.runbook),
            "result": self.result,
            "interrupted": self.interrupted,
            "error": self.error,
            "failed_step": self.failed_step,
            "duration_s": self.wall,
            "recovery_s": self.recovery,
            "target": None if target is None else {"tag": f"rto:{target.text}", "low_s": target.low,
                                                   "high_s": target.high},
            "measured": None if target is None else (RECOVERY if self.recovery is not None else SCENARIO),
            "verdict": self.verdict,
            "lower_end_met": self.lower_end_met,
            "timings": [{"name": t.name, "seconds": t.seconds, "target_s": t.target.high if t.target else None,
                         "verdict": t.verdict} for t in self.timings],
            "commands": [{"command": c.command, "exit_code": c.exit_code, "seconds": c.seconds,
                          "output": c.output} for c in self.commands],
            "attachments": [{"title": a.title, "path": a.shown(report_dir)} for a in self.attachments],
        })


RECORD_KEY = pytest.StashKey[ScenarioRecord]()


def record_of(item: pytest.Item) -> ScenarioRecord:
    if RECORD_KEY not in item.stash:
        item.stash[RECORD_KEY] = ScenarioRecord(item.nodeid, item.nodeid)
    return item.stash[RECORD_KEY]


def _item_of(request: pytest.FixtureRequest, what: str) -> pytest.Item:
    node = request.node
    if not isinstance(node, pytest.Item):
        raise ReportError(
            f"{what} needs the test's own `request` (function scope), not one of scope {request.scope!r}: "
            f"record from a step or a function-scoped fixture"
        )
    return node


def record_duration(
    request: pytest.FixtureRequest, name: str, seconds: float, target_seconds: float | None = None
) -> None:
    """Record that `name` took `seconds` in this scenario; `recovery` is the one compared with @rto."""
    if name == SCENARIO:
        raise ReportError(f"{SCENARIO!r} is the name of the scenario's own wall time, recorded by the plugin; "
                          f"name your timing after what it measures (e.g. 'rollout', 'recovery')")
    record_item_duration(_item_of(request, "record_duration"), name, seconds, target_seconds)


def record_item_duration(item: pytest.Item, name: str, seconds: float, target_seconds: float | None = None) -> None:
    target = None if target_seconds is None else Target.of_seconds(target_seconds)
    timing = record_of(item).add_timing(name, seconds, target)
    item.user_properties.append((f"{PROPERTY_PREFIX}.duration.{timing.name}", f"{timing.seconds:.3f}"))
    if target is not None:
        item.user_properties.append((f"{PROPERTY_PREFIX}.target.{timing.name}", f"{target.high:.3f}"))


def record_command(
    request: pytest.FixtureRequest, command: str, exit_code: int | None, output: str, seconds: float
) -> None:
    """Record a shell command a step ran, for the report's transcript (`exit_code` None: it never finished)."""
    item = _item_of(request, "record_command")
    if len(output) > MAX_OUTPUT:
        output = f"[first {len(output) - MAX_OUTPUT} characters left out]\n" + output[-MAX_OUTPUT:]
    record_of(item).commands.append(CommandRecord(redact(command), exit_code, redact(output), float(seconds)))


def record_attachment(request: pytest.FixtureRequest, path: Path | str, title: str) -> None:
    """Record a file a step saved (a screenshot) on this scenario: report.html shows it, summary.json lists it."""
    item = _item_of(request, "record_attachment")
    file = Path(path)
    if not file.is_file():
        raise ReportError(f"attachment {file} does not exist: save the file before recording it")
    record_of(item).attachments.append(Attachment(file, redact(title)))
    item.user_properties.append((f"{PROPERTY_PREFIX}.attachment", str(file)))


def attachment_dir(request: pytest.FixtureRequest, kind: str) -> Path:
    """Where this scenario's attachments of one kind go: <report dir>/<kind>/<scenario slug>/ (not created).

    The report dir is the plugin's --report-dir (reports/ by default); the slug is made from the feature and
    scenario name, so each scenario (and each example of an outline) has a folder of its own.
    """
    item = _item_of(request, "attachment_dir")
    config = request.config
    report_dir = config.invocation_params.dir / getattr(config.option, "edirunbook_report_dir", "reports")
    record = record_of(item)
    name = f"{record.feature} {record.scenario}" if record.scenario else item.name
    return report_dir / kind / _slug(name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120] or "test"


class Stopwatch:
    """Times named parts of one scenario and records each with record_duration when it stops."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self._started: dict[str, float] = {}

    def start(self, name: str) -> None:
        if name in self._started:
            raise ReportError(f"stopwatch {name!r} is already running: stop it before starting it again")
        self._started[name] = time.monotonic()

    def running(self, name: str) -> bool:
        return name in self._started

    def stop(self, name: str, target_seconds: float | None = None) -> float:
        if name not in self._started:
            running = ", ".join(sorted(self._started)) or "none"
            raise ReportError(f"stopwatch {name!r} was never started (running: {running}): call start({name!r})")
        seconds = time.monotonic() - self._started.pop(name)
        record_duration(self._request, name, seconds, target_seconds)
        return seconds

    @contextmanager
    def measure(self, name: str, target_seconds: float | None = None) -> Iterator[None]:
        """Time the block; the time is recorded also when the block fails."""
        self.start(name)
        try:
            yield
        finally:
            self.stop(name, target_seconds)
