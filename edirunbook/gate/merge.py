"""`edirunbook gate merge DIR... --out DIR`: the report dirs of a sharded run merged into one report dir.

Each DIR is the report dir of one run (`make verify SHARD=i/n`, `pytest --shard i/n --report-dir DIR`) and must
hold summary.json, junit.xml and cucumber.json. Written to --out:
  junit.xml       one <testsuites> with one <testsuite> holding every shard's testcases; tests, failures, errors,
                  skipped and time are the shards' sums (time: machine time, not wall time)
  cucumber.json   the features of the same uri merged into one, their elements concatenated
  summary.json    the scenarios concatenated, totals recomputed, run.started the earliest, run.finished the
                  latest, run.exit_status the worst, run.shards "1/3 (DIR), 2/3 (DIR), ..." (schema: report/summary.py)
  summary.md      rendered from those scenarios as a run renders it, plus a Shards section
  coverage.json, coverage.md     the coverage of the verified runbook (docs/runbook.md), with the merged results
  coverage-<name>.json, .md      the same for each --runbook <path>/<name>.md (the customer's runbook), as gate run
  the attachments (screenshots) a shard's summary.json names inside its dir, at the same relative path
Refused, exit 2, nothing written: a DIR without one of those three files, or unreadable; a scenario in two DIRs;
DIRs that are not the shards of one run (each of 1/n..n/n once, with the same --tags); --out one of the DIRs.
Exit 0 (green) when there are scenarios, every one passed, every shard exited 0 and docs/runbook.md's coverage
meets --min-coverage (default 0); else 1 (red).
"""

from __future__ import annotations

import argparse
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edirunbook import coverage, paths
from edirunbook.environment import config as env_config
from edirunbook.errors import RunbookSuiteError
from edirunbook.gate import verdict
from edirunbook.report.model import (
    FAILED,
    OVER,
    PASSED,
    Attachment,
    CommandRecord,
    ScenarioRecord,
    Timing,
)
from edirunbook.report.summary import RunInfo, headline, summary_json, summary_markdown
from edirunbook.report.tags import ScenarioTags, Target
from edirunbook.runbook import Runbook, parse_runbook

SUMMARY, JUNIT, CUCUMBER = "summary.json", "junit.xml", "cucumber.json"
REQUIRED = (SUMMARY, JUNIT, CUCUMBER)
COVERAGE = "coverage"
# pytest's exit codes from best to worst: ok, no tests, tests failed, interrupted, usage error, internal error
SEVERITY = (0, 5, 1, 2, 4, 3)
JUNIT_TOTALS = ("errors", "failures", "skipped", "tests")


class MergeError(RunbookSuiteError):
    """The report dirs cannot be merged into one (the CLI exits 2)."""


@dataclass
class ShardReport:
    """One run's report dir, read."""

    dir: Path
    summary: dict[str, Any]
    junit: ET.Element
    cucumber: list[dict[str, Any]]

    @property
    def run(self) -> dict[str, Any]:
        run: dict[str, Any] = self.summary["run"]
        return run

    @property
    def shard(self) -> str | None:
        return self.run.get("shard")

    @property
    def scenarios(self) -> list[dict[str, Any]]:
        scenarios: list[dict[str, Any]] = self.summary["scenarios"]
        return scenarios


@dataclass
class Merged:
    """What the merge wrote, and the verdict."""

    records: list[ScenarioRecord]
    run: RunInfo
    shards: list[ShardReport]
    coverage: list[tuple[Path, coverage.Report]] = field(default_factory=list)
    min_coverage: float = 0.0
    deploy_error: str | None = None  # the target's deployment did not come up on a shard

    @property
    def problems(self) -> list[str]:
        """Why the merged run is red; empty: green."""
        found = [] if self.records else ["no scenario in the merged reports"]
        bad = [r for r in self.records if r.result != PASSED]
        if bad:
            found.append(headline(self.records))
        found += [f"{s.dir} ({s.shard or 'not a shard'}) exited {s.run.get('exit_status')}"
                  + (", interrupted" if s.run.get("interrupted") else "")
                  for s in self.shards if s.run.get("exit_status") != 0 or s.run.get("interrupted")]
        if self.deploy_error:
            found.append(f"the target's deployment did not come up: {self.deploy_error}")
        if self.coverage and not self.coverage[0][1].meets(self.min_coverage):
            path, report = self.coverage[0]
            found.append(f"the coverage of {path} is {report.percent}%, below --min-coverage {self.min_coverage}%")
        return found


# --- reading and checking ----------------------------------------------------------------------------------------


def read_shard(directory: Path) -> ShardReport:
    missing = [name for name in REQUIRED if not (directory / name).is_file()]
    if missing:
        raise MergeError(f"{directory} has no {' and no '.join(missing)}: pass the report dir of a finished run "
                         f"(make verify SHARD=i/n writes reports/; pytest --report-dir DIR)")
    try:
        summary = json.loads((directory / SUMMARY).read_text(encoding="utf-8"))
        junit = ET.parse(directory / JUNIT).getroot()
        cucumber = json.loads((directory / CUCUMBER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, ET.ParseError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MergeError(f"cannot read the reports in {directory}: {reason}; run that shard again") from error
    if not _run_summary(summary):
        raise MergeError(f"{directory / SUMMARY} is not a run's summary (run and scenarios with node ids): "
                         f"run that shard again")
    if not (isinstance(cucumber, list) and all(isinstance(f, dict) and "uri" in f for f in cucumber)):
        raise MergeError(f"{directory / CUCUMBER} is not Cucumber JSON (a list of features with a uri): "
                         f"run that shard again")
    return ShardReport(directory, summary, junit, cucumber)


def _run_summary(summary: Any) -> bool:
    run, scenarios = (summary.get("run"), summary.get("scenarios")) if isinstance(summary, dict) else (None, None)
    return (isinstance(run, dict) and all(key in run for key in ("started", "finished", "exit_status"))
            and isinstance(scenarios, list) and all(isinstance(s, dict) and "nodeid" in s for s in scenarios))


def _shard_number(label: str, directory: Path) -> tuple[int, int]:
    index, _, count = label.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise MergeError(f"{directory}/{SUMMARY} names shard {label!r}, which is not i/n: run that shard again")
    return int(index), int(count)


def check(shards: list[ShardReport], out: Path) -> list[ShardReport]:
    """The shards in shard order, once each and complete; MergeError (one line) when they are not."""
    seen_dirs: dict[Path, Path] = {}
    for shard in shards:
        where = shard.dir.resolve()
        if where in seen_dirs:
            raise MergeError(f"{shard.dir} is given twice: name each shard's report dir once")
        seen_dirs[where] = shard.dir
    if out.resolve() in seen_dirs:
        raise MergeError(f"--out {out} is one of the report dirs to merge: write the merge to a dir of its own")
    labelled = [s for s in shards if s.shard is not None]
    if labelled:
        shards = _check_shards(shards, labelled)
    owner: dict[str, ShardReport] = {}
    for shard in shards:
        for scenario in shard.scenarios:
            first = owner.setdefault(scenario["nodeid"], shard)
            if first is not shard:
                raise MergeError(f"scenario {scenario.get('procedure') or scenario['nodeid']!r} is in both "
                                 f"{first.dir} and {shard.dir}: merge the report dirs of one sharded run, each once")
    return shards


def _check_shards(shards: list[ShardReport], labelled: list[ShardReport]) -> list[ShardReport]:
    if len(labelled) != len(shards):
        plain = next(s for s in shards if s.shard is None)
        raise MergeError(f"{plain.dir} is not a shard's report (its run had no --shard) but {labelled[0].dir} is "
                         f"shard {labelled[0].shard}: merge the report dirs of one sharded run")
    numbers = {id(s): _shard_number(str(s.shard), s.dir) for s in shards}
    counts = sorted({count for _, count in numbers.values()})
    if len(counts) > 1:
        raise MergeError(f"the report dirs are shards of runs cut into {' and '.join(map(str, counts))} parts: "
                         f"merge the report dirs of one sharded run")
    by_index: dict[int, ShardReport] = {}
    for shard in shards:
        index = numbers[id(shard)][0]
        if index in by_index:
            raise MergeError(f"shard {shard.shard} is both {by_index[index].dir} and {shard.dir}: pass it once")
        by_index[index] = shard
    missing = [f"{i}/{counts[0]}" for i in range(1, counts[0] + 1) if i not in by_index]
    if missing:
        given = ", ".join(f"{s.shard} ({s.dir})" for s in sorted(shards, key=lambda s: numbers[id(s)]))
        raise MergeError(f"shard {', '.join(missing)} missing (given: {given}): merge the report dirs of every "
                         f"shard of the run")
    tags = {s.run.get("tags") for s in shards}
    if len(tags) > 1:
        raise MergeError(f"the shards ran different selections (--tags {' / '.join(sorted(map(repr, tags)))}): "
                         f"merge the shards of one run")
    return [by_index[i] for i in sorted(by_index)]


# --- merging -------------------------------------------------------------------------------------------------------


def merge_junit(shards: Sequence[ShardReport]) -> ET.Element:
    suites = [suite for shard in shards for suite in shard.junit.iter("testsuite")]
    totals = {key: str(sum(int(suite.get(key, "0")) for suite in suites)) for key in JUNIT_TOTALS}
    time = f"{sum(float(suite.get('time', '0')) for suite in suites):.3f}"
    root = ET.Element("testsuites", {"name": "pytest tests", **totals, "time": time})
    stamps = [suite.get("timestamp", "") for suite in suites if suite.get("timestamp")]
    hosts = list(dict.fromkeys(suite.get("hostname", "") for suite in suites if suite.get("hostname")))
    merged = ET.SubElement(root, "testsuite", {"name": "pytest", **totals, "time": time,
                                               **({"timestamp": min(stamps)} if stamps else {}),
                                               **({"hostname": ",".join(hosts)} if hosts else {})})
    properties: dict[tuple[str | None, str | None], ET.Element] = {}
    for suite in suites:
        for prop in suite.iterfind("properties/property"):
            properties.setdefault((prop.get("name"), prop.get("value")), prop)
    if properties:
        ET.SubElement(merged, "properties").extend(properties.values())
    merged.extend(child for suite in suites for child in suite if child.tag == "testcase")
    merged.extend(child for suite in suites for child in suite if child.tag not in ("testcase", "properties"))
    return root


def merge_cucumber(shards: Sequence[ShardReport]) -> list[dict[str, Any]]:
    features: dict[str, dict[str, Any]] = {}
    for shard in shards:
        for feature in shard.cucumber:
            elements = list(feature.get("elements", []))
            if feature["uri"] in features:
                features[feature["uri"]]["elements"] += elements
            else:
                features[feature["uri"]] = {**feature, "elements": elements}
    return list(features.values())


def record_from_json(data: dict[str, Any], out: Path) -> ScenarioRecord:
    """A scenario of summary.json as the record it was written from; attachments inside the dir now under `out`."""
    target = data.get("target")
    tags = ScenarioTags(frozenset(data["tags"]), tuple(data["runbook"]),
                        Target.parse(target["tag"].removeprefix("rto:")) if target else None)
    return ScenarioRecord(
        nodeid=data["nodeid"], procedure=data["procedure"], scenario=data.get("scenario"),
        feature=data.get("feature"), feature_file=data.get("feature_file"), line=data.get("line"), tags=tags,
        result=data["result"], error=data.get("error"), failed_step=data.get("failed_step"),
        interrupted=bool(data.get("interrupted")),
        failed_for_time=data["result"] == FAILED and data.get("verdict") == OVER,
        timings=[Timing(t["name"], float(t["seconds"]),
                        None if t.get("target_s") is None else Target.of_seconds(t["target_s"]))
                 for t in data.get("timings", [])],
        commands=[CommandRecord(c["command"], c["exit_code"], c["output"], float(c["seconds"]))
                  for c in data.get("commands", [])],
        attachments=[Attachment(_moved(a["path"], out), a["title"]) for a in data.get("attachments", [])],
    )


def _moved(path: str, out: Path) -> Path:
    return Path(path) if Path(path).is_absolute() else out / path


def merge_run(shards: Sequence[ShardReport], out: Path) -> RunInfo:
    runs = [s.run for s in shards]
    tags = list(dict.fromkeys(str(run["tags"]) for run in runs if run.get("tags")))
    return RunInfo(
        started=min(run["started"] for run in runs),
        finished=max(run["finished"] for run in runs),
        exit_status=max((int(run["exit_status"]) for run in runs), key=_severity),
        interrupted=any(run.get("interrupted") for run in runs),
        tags=" ; ".join(tags) if tags else None,
        report_dir=str(out),
        tested=merge_tested(shards),
    )


def merge_tested(shards: Sequence[ShardReport]) -> dict[str, str]:
    """What the shards tested (run.tested): a fact all agree on once, one that differs with each shard's value.

    `differing_tested` names the facts that differ (the command prints them as notes)."""
    names = list(dict.fromkeys(name for s in shards for name in s.run.get("tested") or {}))
    merged = {}
    for name in names:
        values = {s.shard or str(s.dir): str((s.run.get("tested") or {}).get(name, "-")) for s in shards}
        distinct = set(values.values())
        merged[name] = distinct.pop() if len(distinct) == 1 else "; ".join(f"{v} ({k})" for k, v in values.items())
    return merged


def differing_tested(shards: Sequence[ShardReport]) -> list[str]:
    names = list(dict.fromkeys(name for s in shards for name in s.run.get("tested") or {}))
    return [name for name in names if len({str((s.run.get("tested") or {}).get(name)) for s in shards}) > 1]


def _severity(status: int) -> int:
    return SEVERITY.index(status) if status in SEVERITY else len(SEVERITY)


# --- the command ---------------------------------------------------------------------------------------------------


@dataclass
class CoverageInput:
    runbook_path: Path
    stem: str
    runbook: Runbook


DOCS_RUNBOOK = paths.REPO_ROOT / "docs" / "runbook.md"


def merge(dirs: Sequence[Path], out: Path, runbooks: Sequence[Path] = (), verified_runbook: Path = DOCS_RUNBOOK,
          features: Path = paths.REPO_ROOT / "features", env: str = "kind",
          environments: Path = paths.ENVIRONMENTS_DIR, min_coverage: float = 0.0) -> Merged:
    """Read and check every input first (MergeError, CoverageError: nothing written), then write `out`."""
    shards = check([read_shard(d) for d in dirs], out)
    inputs = coverage_inputs(runbooks, verified_runbook)
    substitutions = env_config.load(env, environments).substitutions
    scenarios = coverage.load_scenarios(features)
    changes = merge_changes(shards)
    records = [record_from_json(s, out) for shard in shards for s in shard.scenarios]
    run = merge_run(shards, out)
    merged = Merged(records, run, list(shards), min_coverage=min_coverage)
    try:
        out.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(merge_junit(shards)).write(out / JUNIT, encoding="utf-8", xml_declaration=True)
        (out / CUCUMBER).write_text(json.dumps(merge_cucumber(shards), indent=4) + "\n", encoding="utf-8")
        _copy_attachments(shards, out)
        summary = summary_json(records, run)
        summary["run"] |= {"shard": None, "shards": _shards_text(shards)}
        (out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        (out / "summary.md").write_text(summary_markdown(records, run) + _shards_markdown(shards), encoding="utf-8")
        merged.coverage = write_coverages(out, inputs, scenarios, substitutions, env, min_coverage)
        if changes is not None:
            merged.deploy_error = changes.get("deploy_error")
            (out / verdict.CHANGES_JSON).write_text(json.dumps(changes, indent=2) + "\n", encoding="utf-8")
        verdict.write_gate(out, {paths.shown(item.runbook_path): out / f"{item.stem}.json" for item in inputs})
    except OSError as error:
        raise MergeError(f"cannot write the merged reports to {out}: {error}; pass --out DIR") from error
    return merged


def write_coverages(out: Path, inputs: Sequence[CoverageInput], scenarios: list[coverage.Scenario],
                    substitutions: dict[str, str], env: str, min_coverage: float) -> list[tuple[Path, coverage.Report]]:
    """<stem>.md and <stem>.json per runbook, with the results of out/cucumber.json (a run's or a merge's)."""
    results = out / CUCUMBER if coverage.load_results(out / CUCUMBER, scenarios) else None
    reports = []
    for item in inputs:
        minimum = min_coverage if item.stem == COVERAGE else 0.0
        report = coverage.build_report(item.runbook, scenarios, substitutions, env, results)
        (out / f"{item.stem}.md").write_text(coverage.as_markdown(report, minimum), encoding="utf-8")
        (out / f"{item.stem}.json").write_text(json.dumps(coverage.as_json(report, minimum), indent=2) + "\n",
                                               encoding="utf-8")
        reports.append((item.runbook_path, report))
    return reports


def coverage_inputs(runbooks: Sequence[Path], verified_runbook: Path = DOCS_RUNBOOK) -> list[CoverageInput]:
    """coverage.* for the verified runbook, coverage-<name>.* for each other (MergeError when two names clash)."""
    wanted = [(verified_runbook, COVERAGE), *((path, f"{COVERAGE}-{path.stem}") for path in runbooks)]
    stems = [stem for _, stem in wanted]
    clash = next((stem for stem in stems if stems.count(stem) > 1), None)
    if clash:
        raise MergeError(f"two runbooks would both write {clash}.json: give each --runbook a file name of its own")
    return [CoverageInput(path, stem, parse_runbook(path)) for path, stem in wanted]


def merge_changes(shards: Sequence[ShardReport]) -> dict[str, Any] | None:
    """The target's changes (the same for every shard of one target); a deployment that failed on any shard."""
    found = [json.loads((s.dir / verdict.CHANGES_JSON).read_text(encoding="utf-8")) for s in shards
             if (s.dir / verdict.CHANGES_JSON).exists()]
    if not found:
        return None
    errors = [f"{s.shard or s.dir}: {c['deploy_error']}" for s, c in zip(shards, found, strict=False)
              if c.get("deploy_error")]
    return {**found[0], "deploy_error": "; ".join(errors) or None}



def _copy_attachments(shards: Sequence[ShardReport], out: Path) -> None:
    for shard in shards:
        for scenario in shard.scenarios:
            for attachment in scenario.get("attachments", []):
                source = shard.dir / attachment["path"]
                if not Path(attachment["path"]).is_absolute() and source.is_file():
                    (out / attachment["path"]).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, out / attachment["path"])


def _shards_text(shards: Sequence[ShardReport]) -> str:
    return ", ".join(f"{s.shard} ({s.dir})" if s.shard else str(s.dir) for s in shards)


def _shards_markdown(shards: Sequence[ShardReport]) -> str:
    lines = ["", "## Shards", "", "| shard | report dir | procedures | exit status |", "|---|---|---|---|"]
    lines += [f"| {s.shard or '-'} | {s.dir} | {len(s.scenarios)} | {s.run.get('exit_status')} |" for s in shards]
    return "\n".join(lines) + "\n"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "merge", help="merge the report dirs of a sharded run into one (exit 0 green, 1 red, 2 unusable input)",
        description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="a shard's report dir")
    parser.add_argument("--out", type=Path, required=True, help="the merged report dir, e.g. reports")
    parser.add_argument("--runbook", type=Path, action="append", default=[], metavar="PATH",
                        help="another runbook to report coverage of, as coverage-<name>.md/json (the customer's: "
                             "../shared/seed/operations-runbook.md); docs/runbook.md always is")
    parser.add_argument("--verified-runbook", type=Path, default=DOCS_RUNBOOK, metavar="PATH",
                        help="the verified runbook, reported as coverage.md/json (default: this checkout's "
                             "docs/runbook.md)")
    # the percentages of `coverage --min-coverage`
    parser.add_argument("--min-coverage", type=coverage._percent, default=0.0,
                        help="red when the verified runbook's coverage is below this (make verify uses 100; "
                             "default 0)")
    parser.add_argument("--features", type=Path, default=paths.REPO_ROOT / "features",
                        help="folder of .feature files (default: this checkout's)")
    parser.add_argument("--env", default="kind", help="environment whose substitutions apply (default: kind)")
    parser.add_argument("--environments", type=Path, default=paths.ENVIRONMENTS_DIR,
                        help="folder of environments (default: this checkout's)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    merged = merge(args.dirs, args.out, args.runbook, args.verified_runbook, args.features, args.env,
                   args.environments, args.min_coverage)
    shards = ", ".join(s.shard or str(s.dir) for s in merged.shards)
    print(f"merged {len(merged.shards)} report dirs ({shards}) into {args.out}: {headline(merged.records)}")
    for path, report in merged.coverage:
        print(f"coverage of {path}: {report.covered} of {len(report.rows)} commands ({report.percent}%)")
    for name in differing_tested(merged.shards):
        print(f"note: the shards differ in what they tested, {name}: {merged.run.tested[name]}")
    problems = merged.problems
    print("verdict: green" if not problems else f"verdict: red: {'; '.join(problems)}")
    return 1 if problems else 0
