"""pytest plugin: runbook tags, `--tags` selection, timings against the runbook's targets, and the run's reports.

Load it from the rootdir's (or the features folder's) conftest.py: `pytest_plugins = ["edirunbook.report"]`
(the package re-exports this module's hooks and the recording API).

Options:
  --tags EXPR          run only the scenarios whose tags match EXPR: pytest's -m grammar over tags, e.g.
                       'readonly and not slow', 'runbook:restart-a-service', '(destructive or slow) and rto';
                       a leading @ is allowed. Nothing matched: pytest exits 5 and says so. Empty: everything.
  --report-dir DIR     where the reports go (default: reports/, relative to where pytest was started)
  --fail-over-target   a scenario that passed but took longer than its target fails (default: only reported)
  --shard i/n          run part i of n of the selected scenarios, balanced by recorded durations (report/shard.py)
  --shard-durations F  the recorded durations --shard balances by (default: tests/scenarios/durations.json)

Every run writes into the report dir, also when scenarios fail or the run is interrupted: junit.xml
(unless --junitxml was given), cucumber.json (unless --cucumberjson was given), report.html (pytest-html,
self-contained, unless --html was given), summary.json and summary.md (schema in report/summary.py), and prints
the table procedure | result | duration | recovery | runbook target | verdict.

For steps and fixtures, from edirunbook.report (misuse raises edirunbook.errors.ReportError):
  record_duration(request, name, seconds, target_seconds=None)  a measured time; `recovery` is compared with @rto
  record_command(request, command, exit_code, output, seconds)  a shell command for the transcript
  record_attachment(request, path, title)                      a saved file (a screenshot): shown in report.html
  attachment_dir(request, kind)                                 <report dir>/<kind>/<scenario slug>/ for such files
  stopwatch  (fixture) .start(name), .stop(name) -> seconds, `with stopwatch.measure(name): ...`
  register_secret(value)                                        never write or print `value` (process-wide)
  unregister_secret(value)                                      forget it again (tests that register one)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_bdd.parser import Feature, Scenario, ScenarioTemplate, Step
from pytest_bdd.scenario import scenario_wrapper_template_registry

from edirunbook import interrupts
from edirunbook.report.html import HtmlReportHooks, html_details
from edirunbook.report.model import (
    ERROR,
    FAILED,
    NOT_RUN,
    OVER,
    PASSED,
    SCENARIO,
    ScenarioRecord,
    Stopwatch,
    record_item_duration,
    record_of,
    tested,
)
from edirunbook.report.secrets import first_line, redact, redact_report, scrub_file
from edirunbook.report.shard import DURATIONS_FILE, FORM, Shard, ShardPlugin, parse_shard
from edirunbook.report.summary import RunInfo, headline, summary_json, summary_markdown, table_rows
from edirunbook.report.tags import (
    GAMEDAY,
    PLAIN_TAGS,
    VALUE_TAGS,
    ScenarioTags,
    TagSelection,
    plain_tag_known,
    read_tags,
)

SUMMARY_JSON, SUMMARY_MD = "summary.json", "summary.md"


@pytest.fixture
def stopwatch(request: pytest.FixtureRequest) -> Stopwatch:
    """Times named parts of this scenario: start(name)/stop(name), or `with stopwatch.measure(name):`."""
    return Stopwatch(request)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("edirunbook", "runbook tags and reports")
    group.addoption("--tags", dest="edirunbook_tags", default="", metavar="EXPR",
                    help="run the scenarios whose tags match EXPR, e.g. 'readonly and not slow' or "
                         "'runbook:restart-a-service' (pytest's -m grammar over scenario tags)")
    group.addoption("--report-dir", dest="edirunbook_report_dir", default="reports", metavar="DIR",
                    help="folder for junit.xml, cucumber.json, report.html, summary.json, summary.md "
                         "(default: reports)")
    group.addoption("--fail-over-target", dest="edirunbook_fail_over_target", action="store_true",
                    help="fail a scenario that passed but took longer than its runbook target")
    group.addoption("--shard", dest="edirunbook_shard", default="", metavar="i/n",
                    help=f"run part i of n of the selected scenarios, balanced by recorded durations ({FORM})")
    group.addoption("--shard-durations", dest="edirunbook_shard_durations", default=str(DURATIONS_FILE),
                    metavar="FILE", help=f"recorded scenario durations for --shard, relative to the rootdir "
                                         f"(default: {DURATIONS_FILE})")


@pytest.hookimpl(tryfirst=True)  # before junitxml, pytest-bdd and pytest-html read their output paths
def pytest_configure(config: pytest.Config) -> None:
    for tag, meaning in PLAIN_TAGS.items():
        config.addinivalue_line("markers", f"{tag}: {meaning}")
    interrupts.sigterm_as_interrupt()  # a cancelled CI job's SIGTERM tears down like Ctrl-C
    for meaning in VALUE_TAGS.values():
        config.addinivalue_line("markers", meaning)
    if hasattr(config, "workerinput"):  # an xdist worker: the controller writes the reports
        return
    report_dir = config.invocation_params.dir / config.option.edirunbook_report_dir
    option = config.option
    if not option.xmlpath:
        option.xmlpath = str(report_dir / "junit.xml")
    if not option.cucumber_json_path:
        option.cucumber_json_path = str(report_dir / "cucumber.json")
    html = config.pluginmanager.hasplugin("html")
    if html and not option.htmlpath:
        option.htmlpath = str(report_dir / "report.html")
        option.self_contained_html = True
    selection = TagSelection(option.edirunbook_tags) if option.edirunbook_tags.strip() else None
    shard = parse_shard(option.edirunbook_shard) if option.edirunbook_shard else None
    state = RunState(report_dir, selection, html, shard)
    config.pluginmanager.register(ReportPlugin(config, state), "edirunbook-report")
    if shard is not None:
        durations = config.rootpath / option.edirunbook_shard_durations
        shard_plugin = ShardPlugin(shard, durations, state.notes, option.edirunbook_shard_durations)
        config.pluginmanager.register(shard_plugin, "edirunbook-shard")
    if html:
        config.pluginmanager.register(HtmlReportHooks(state.records, tested), "edirunbook-html")


def environment_type() -> str:
    """The type of the environment of $ENV (kind, live); kind when its file cannot be read (the session fixture
    then says what is wrong with it)."""
    from edirunbook.environment import config as env_config
    from edirunbook.errors import ConfigError

    try:
        return env_config.load().type
    except ConfigError:
        return "kind"


def pytest_bdd_apply_tag(tag: str, function: Callable[..., object]) -> object:
    """Plain tags become markers, `runbook:x` and `rto:x` become `runbook("x")` and `rto("x")`.

    A tag that cannot be used is left off here and reported at collection, where the feature file is known.
    """
    name, colon, value = tag.partition(":")
    if colon and name in VALUE_TAGS:
        getattr(pytest.mark, name)(value)(function)
    elif not colon and plain_tag_known(tag):
        getattr(pytest.mark, tag)(function)
    return True


@dataclass
class RunState:
    report_dir: Path
    selection: TagSelection | None
    html: bool
    shard: Shard | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    items: list[pytest.Item] = field(default_factory=list)
    matched: int | None = None  # how many items --tags selected
    tags_seen: set[str] = field(default_factory=set)
    tags_read: bool = False
    interrupted: bool = False
    current: str | None = None
    notes: list[str] = field(default_factory=list)
    write_error: str | None = None

    def records(self) -> list[ScenarioRecord]:
        return [record_of(item) for item in self.items]

    def record(self, nodeid: str) -> ScenarioRecord | None:
        return next((record_of(item) for item in self.items if item.nodeid == nodeid), None)


def _template_of(item: pytest.Item) -> ScenarioTemplate | None:
    try:
        return scenario_wrapper_template_registry.get(getattr(item, "function", None))  # type: ignore[arg-type]
    except TypeError:  # not weak-referenceable: not a scenario
        return None


def _marker_tags(item: pytest.Item) -> set[str]:
    tags = set()
    for mark in item.iter_markers():
        tags.add(f"{mark.name}:{mark.args[0]}" if mark.name in VALUE_TAGS and mark.args else mark.name)
    return tags


class ReportPlugin:
    def __init__(self, config: pytest.Config, state: RunState) -> None:
        self.config = config
        self.state = state

    # --- collection: read tags, select -----------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)  # before -m/-k deselect: a bad tag anywhere is an error
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        problems: dict[str, None] = {}
        selectable: list[tuple[pytest.Item, set[str]]] = []
        for item in items:
            tags, found = self._read(item)
            problems.update(dict.fromkeys(found))
            record = record_of(item)
            record.tags = tags
            item.user_properties += [("runbook", slug) for slug in tags.runbook]
            if tags.target is not None:
                item.user_properties.append(("rto", tags.target.text))
            selectable.append((item, set(tags.tags) | _marker_tags(item)))
            self.state.tags_seen |= selectable[-1][1]
        if problems:
            raise pytest.UsageError("\n".join(["scenario tags this suite cannot use:", *problems]))
        self.state.tags_read = True
        selectable = self._for_this_environment(config, items, selectable)
        if self.state.selection is not None:
            selected = [item for item, tags in selectable if self.state.selection.matches(tags)]
            chosen = set(selected)
            deselected = [item for item in items if item not in chosen]
            if deselected:
                config.hook.pytest_deselected(items=deselected)
                items[:] = selected
            self.state.matched = len(selected)
            seen = self.state.tags_seen | {t.partition(":")[0] for t in self.state.tags_seen}
            for ident in sorted(self.state.selection.idents() - seen):
                self.state.notes.append(f"--tags names {ident!r}, which no collected scenario carries")

    def _for_this_environment(self, config: pytest.Config, items: list[pytest.Item],
                              selectable: list[tuple[pytest.Item, set[str]]]) -> list[tuple[pytest.Item, set[str]]]:
        """@gameday scenarios run on a live environment (make gameday), and a live environment runs nothing else:
        the other scenarios own their throw-away cluster. Left out, with a note saying so."""
        live = environment_type() == "live"
        kept = [(item, tags) for item, tags in selectable if (GAMEDAY in tags) == live]
        if len(kept) < len(selectable):
            chosen = {item for item, _ in kept}
            left = [item for item in items if item not in chosen]
            config.hook.pytest_deselected(items=left)
            items[:] = [item for item in items if item in chosen]
            self.state.notes.append(
                f"{len(left)} scenarios left out: " + ("a live environment runs only @gameday scenarios" if live
                                                       else "@gameday scenarios run on a live environment "
                                                            "(make gameday)"))
        return kept

    def _read(self, item: pytest.Item) -> tuple[ScenarioTags, list[str]]:
        record = record_of(item)
        template = _template_of(item)
        if template is None:  # a plain pytest test: its markers are its tags
            return read_tags(_marker_tags(item) - {"parametrize", "usefixtures"}, item.nodeid)
        feature = template.feature
        where = os.path.relpath(feature.filename, self.config.rootpath)
        rule_tags = template.rule.tags if template.rule is not None else set()
        record.feature, record.feature_file, record.line = feature.name or where, where, template.line_number
        callspec = getattr(item, "callspec", None)
        record.scenario = template.name + (f" [{callspec.id}]" if callspec else "")
        record.procedure = f"{record.feature}: {record.scenario}"
        return read_tags(template.tags | feature.tags | rule_tags,
                         f"{where}:{template.line_number} (scenario {template.name!r})")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.state.tags_read:  # else collection failed: nothing will run, there is nothing to list
            self.state.items = list(session.items)

    # --- running: results, times, redaction ------------------------------------------------------------------

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.state.current = nodeid

    def pytest_runtest_logfinish(self) -> None:
        self.state.current = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        record = record_of(item)
        error = first_line(report) if report.failed else None
        redact_report(report)
        if report.when == "setup" and report.failed:
            record.result, record.error = ERROR, error
        elif report.when == "call":
            record_item_duration(item, SCENARIO, call.duration)
            record.result = {"passed": PASSED, "failed": FAILED}.get(report.outcome, NOT_RUN)
            record.error = error
            if record.result == PASSED and record.verdict == OVER and self.config.option.edirunbook_fail_over_target:
                record.result, record.failed_for_time = FAILED, True
                record.error = record.over_target_message()
                report.outcome, report.longrepr = "failed", f"OVER TARGET: {record.error}"
        elif report.when == "teardown":
            if report.failed and record.result == PASSED:
                record.result, record.error = ERROR, error
            report.user_properties += [("edirunbook.result", record.result), ("edirunbook.verdict", record.verdict)]
            if self.state.html:
                from pytest_html import extras

                details = extras.html(html_details(record, self.state.report_dir))
                report.extras = [*getattr(report, "extras", []), details]  # type: ignore[attr-defined]
        return report

    def pytest_bdd_step_error(self, request: pytest.FixtureRequest, step: Step) -> None:
        if isinstance(request.node, pytest.Item):
            record_of(request.node).failed_step = redact(f"{step.keyword} {step.name}")

    def pytest_bdd_step_func_lookup_error(
        self, request: pytest.FixtureRequest, feature: Feature, scenario: Scenario, step: Step
    ) -> None:
        if isinstance(request.node, pytest.Item):
            record_of(request.node).failed_step = redact(f"{step.keyword} {step.name} (no step definition)")

    def pytest_keyboard_interrupt(self) -> None:
        self.state.interrupted = True
        record = self.state.record(self.state.current or "")
        if record is not None:
            record.interrupted = True

    # --- the end: files, table --------------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)  # after the runner tore down fixtures, which may still record
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        state = self.state
        if state.matched == 0 and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
        records = state.records()
        run = RunInfo(state.started.isoformat(timespec="seconds"),
                      datetime.now(UTC).isoformat(timespec="seconds"), int(session.exitstatus),
                      state.interrupted, state.selection.text if state.selection else None, str(state.report_dir),
                      tested())
        try:
            state.report_dir.mkdir(parents=True, exist_ok=True)
            summary = summary_json(records, run)
            summary["run"]["shard"] = None if state.shard is None else str(state.shard)
            (state.report_dir / SUMMARY_JSON).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            (state.report_dir / SUMMARY_MD).write_text(summary_markdown(records, run), encoding="utf-8")
        except OSError as error:
            state.write_error = f"cannot write the run summary into {state.report_dir}: {error}; pass --report-dir DIR"
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        state, tr = self.state, terminalreporter
        records = state.records()
        tr.write_sep("=", "runbook procedures")
        if state.matched == 0 and state.selection is not None:
            known = ", ".join(sorted(t for t in state.tags_seen if t not in ("parametrize", "usefixtures")))
            tr.write_line(f"no scenario matched the tags {state.selection.text!r}; tags in use: {known or 'none'}",
                          red=True)
        for line, bad in table_rows(records, tr._tw.fullwidth) if records else []:
            tr.write_line(line, red=bad)
        if records:
            tr.write_line(headline(records) + (" (run interrupted)" if state.interrupted else ""))
        for note in state.notes:
            tr.write_line(f"note: {redact(note)}", yellow=True)
        if not state.html:
            tr.write_line("note: report.html not written: pytest-html is not active (pyproject pins pytest-html)",
                          yellow=True)
        if state.write_error:
            tr.write_line(redact(state.write_error), red=True)
        else:
            tr.write_line(f"summary: {state.report_dir / SUMMARY_MD}, {state.report_dir / SUMMARY_JSON}")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Last: take every registered secret out of the files other plugins wrote (in any escaping)."""
        option = config.option
        for path in (option.xmlpath, option.cucumber_json_path, getattr(option, "htmlpath", None)):
            if path:
                scrub_file(Path(path))
        for name in (SUMMARY_JSON, SUMMARY_MD):
            scrub_file(self.state.report_dir / name)
