"""reports/gate.md: the release gate's verdict on a target, for a person and for CI.

It names what was tested (the target, its image reference and digest, its manifests and git commit), every
change the test overlay and the environment made to the target's manifests with its reason, every failed
procedure with its cause in one line (as a defect of the target: what is wrong, where), and the runbook
coverage. Inputs are the report dir's files, so a merged report of shards gives the same gate.md as one run.

target-changes.json schema: {"target": str, "deploy_error": str | null (the deployment did not come up: why),
                              "changes": [{"object": "Kind/name", "change": str, "reason": str, "by": str}]}
"""
from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from edirunbook import paths
from edirunbook.report.secrets import redact

if TYPE_CHECKING:
    from edirunbook.target import Target

GATE_MD = "gate.md"
CHANGES_JSON = "target-changes.json"
NO_REASON = "NO REASON GIVEN"
GREEN, RED = "GREEN", "RED"
_IMAGE_FIELD = re.compile(r"\.image$")


@dataclass(frozen=True)
class Change:
    object: str
    change: str
    reason: str
    by: str = ""  # who made it: the environment (environments/<env>) or the target's test overlay


def _objects(manifests: str) -> dict[str, dict[str, Any]]:
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc for doc in yaml.safe_load_all(manifests) if doc}


def _differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Field paths that differ between two objects (lists of containers compared by name, other lists by index)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after), key=str):
            if key not in after:
                out.append(f"{path}.{key} removed")
            elif key not in before:
                out.append(f"{path}.{key} added")
            else:
                out += _differences(before[key], after[key], f"{path}.{key}")
        return out
    if isinstance(before, list) and isinstance(after, list):
        if all(isinstance(x, dict) and "name" in x for x in before + after):
            named_before = {x["name"]: x for x in before}
            named_after = {x["name"]: x for x in after}
            out = []
            for name in list(named_before) + [n for n in named_after if n not in named_before]:
                where = f"{path}[{name}]"
                if name not in named_after:
                    out.append(f"{where} removed")
                elif name not in named_before:
                    out.append(f"{where} added")
                else:
                    out += _differences(named_before[name], named_after[name], where)
            return out
        if len(before) != len(after):
            return [f"{path} changed"]
        pairs = enumerate(zip(before, after, strict=True))
        return [d for i, (b, a) in pairs for d in _differences(b, a, f"{path}[{i}]")]
    return [] if before == after else [f"{path} changed"]


def manifest_changes(team: str, deployed: str, reasons: dict[str, str], by: str = "") -> list[Change]:
    """Every object the test overlay and the environment removed, added or changed, with its reason.

    `reasons` maps `Kind/name` (globs allowed: `Deployment/*`) to why; the image mapping (the team's image
    names to the image built here) is one change of its own, not one per container.
    """
    before, after = _objects(team), _objects(deployed)
    changes = []
    for ref in sorted(set(before) | set(after)):
        if ref not in after:
            what = "removed"
        elif ref not in before:
            what = "added"
        else:
            fields = [d for d in _differences(before[ref], after[ref]) if not _IMAGE_FIELD.search(d.split(" ")[0])]
            if not fields:
                continue
            what = "changed " + ", ".join(f.lstrip(".") for f in fields)
        changes.append(Change(ref, what, reason_for(ref, reasons), by))
    return changes


def reason_for(ref: str, reasons: dict[str, str]) -> str:
    if ref in reasons:
        return reasons[ref]
    for pattern, reason in reasons.items():
        if fnmatch.fnmatchcase(ref, pattern):
            return reason
    return NO_REASON


def fixes_applied(target: Target) -> list[dict[str, Any]]:
    """The target's fix overlay: each patch, the files of the team's repository it changes, and what it fixes."""
    return [{"patch": paths.shown(patch), "files": _patched_files(patch), "fixes": reason}
            for patch, reason in target.fixes.items()]


def _patched_files(patch: Path) -> list[str]:
    found = []
    for line in patch.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("+++ ") or line.startswith("--- "):
            name = line[4:].strip()
            name = name[2:] if name.startswith(("a/", "b/")) else name
            if name != "/dev/null" and name not in found:
                found.append(name)
    return found


def write_changes(report_dir: Path, target: str, changes: list[Change], deploy_error: str | None = None,
                  fixes: list[dict[str, Any]] | None = None) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    data = {"target": target, "deploy_error": redact(deploy_error) if deploy_error else None,
            "changes": [asdict(c) for c in changes], "fixes": fixes or []}
    (report_dir / CHANGES_JSON).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


_EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Failed|Timeout): ")


def one_line(text: str | None, limit: int = 300) -> str:
    """The first line of a failure that says something (not a traceback header, not the exception's class name),
    shortened: what is wrong, where. A line that introduces what was seen (`... in the output of X:`) gets the
    first line of it, which usually says what is wrong (`sh: 1: mysqldump: not found`)."""
    lines = [_EXCEPTION_PREFIX.sub("", line.strip().removeprefix("E ").strip()) for line in (text or "").splitlines()]
    said = [line for line in lines if line and not line.startswith(_NOT_SAID)]
    if not said:
        return "(no message)"
    line = said[0]
    if line.endswith(":") and len(said) > 1:
        line = f"{line} {said[1]}"
    return line if len(line) <= limit else line[: limit - 1] + "…"


_NOT_SAID = ("Traceback", "File ", "assert ", "During handling", "+", "where ")


def verdict(summary: dict[str, Any], deploy_error: str | None = None) -> str:
    totals = summary.get("totals", {})
    ran = totals.get("procedures", 0)
    bad = totals.get("failed", 0) + totals.get("error", 0) + totals.get("not run", 0)
    return GREEN if ran and not bad and not deploy_error and summary["run"].get("exit_status", 1) == 0 else RED


def gate_markdown(summary: dict[str, Any], changes: dict[str, Any] | None, coverages: dict[str, dict[str, Any]]) -> str:
    """gate.md from summary.json, target-changes.json and the coverage reports (runbook path -> coverage.json)."""
    deploy_error = (changes or {}).get("deploy_error")
    result = verdict(summary, deploy_error)
    tested = summary.get("run", {}).get("tested", {}) or {}
    target = (changes or {}).get("target") or tested.get("target", "?").split(":")[0]
    totals = summary.get("totals", {})
    out = [f"# Release gate: {result} for target {target}", ""]
    counts = ", ".join(f"{totals.get(k, 0)} {k}" for k in ("passed", "failed", "error", "not run") if totals.get(k))
    out += [f"{totals.get('procedures', 0)} runbook procedures: {counts or 'none ran'}."
            + (f" Shards merged: {summary['run']['shards']}." if summary.get("run", {}).get("shards") else ""), ""]
    if deploy_error:
        out += ["**The target's deployment did not come up:** " + one_line(deploy_error), ""]
    out += ["## Under test", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in tested.items()), ""]
    failed = [s for s in summary.get("scenarios", []) if s.get("result") != "passed"]
    unjudged = [s for s in failed if suite_side(s.get("error")) or s.get("result") == "not run"]
    defects = [s for s in failed if s not in unjudged]
    out += ["## Failed procedures: defects of the target" if defects else "## Failed procedures: none", ""]
    out += _failure_table(defects)
    if unjudged:
        out += ["## Not judged: not run (an interrupted run), or the suite could not run them (its problem, not the "
                "target's)", ""]
        out += _failure_table(unjudged)
    out += ["## Runbook coverage", ""]
    for runbook, data in coverages.items():
        part = data.get("summary", {})
        out.append(f"- {runbook}: {part.get('covered', 0)} of {part.get('commands', 0)} commands "
                   f"({part.get('percent', 0.0):.1f}%)")
    out += ["" if coverages else "- not computed", ""]
    fixes = (changes or {}).get("fixes") or []
    if fixes:
        out += [f"## The fix overlay: patches applied to the target's repository ({len(fixes)})", "",
                "Everything above ran on the target's checkout with these patches applied, in this order.", "",
                "| patch | changes | fixes |", "|---|---|---|"]
        out += [f"| {f['patch']} | {', '.join(f['files'])} | {_cell(f['fixes'])} |" for f in fixes]
        out.append("")
    listed = (changes or {}).get("changes", [])
    out += [f"## What the test overlay and the environment changed ({len(listed)})", ""]
    if listed:
        out += ["| object | change | by | reason |", "|---|---|---|---|"]
        out += [f"| {c['object']} | {_cell(c['change'])} | {c.get('by', '')} | {_cell(c['reason'])} |"
                for c in listed]
    else:
        out.append("Nothing: the target ran as its manifests say.")
    out.append("")
    return redact("\n".join(out))


# Failures that say the suite itself could not do its part (a build, its own files, a bug in a step), so they say
# nothing about the target; every other failure is what the target did (an assertion, a wait, the app's state).
SUITE_ERRORS = ("SetupError", "BuildError", "ConfigError", "EnvironmentNotReady", "CoverageError", "ReportError",
                "DurationError", "CommandFailed", "StepDefinitionNotFoundError", "GherkinParseError", "TypeError",
                "KeyError", "AttributeError", "NameError", "ImportError", "ModuleNotFoundError", "IndexError",
                "ValueError", "ZeroDivisionError", "RecursionError")


def suite_side(error: str | None) -> bool:
    """Whether a failure is the suite's own (by its exception class), not a finding about the target."""
    match = re.match(r"(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*): ", (error or "").strip())
    return match is not None and match.group(1) in SUITE_ERRORS


def _failure_table(scenarios: list[dict[str, Any]]) -> list[str]:
    if not scenarios:
        return []
    out = ["| procedure | runbook section | result | cause |", "|---|---|---|---|"]
    for s in scenarios:
        out.append(f"| {_cell(s['procedure'])} | {_cell(', '.join(s.get('runbook') or []) or '-')} | "
                   f"{s['result']} | {_cell(_cause(s, s.get('result', '')))} |")
    return [*out, ""]


def _cause(scenario: dict[str, Any], without_error: str) -> str:
    """A failed scenario's cause in one line and the step it failed in; `without_error` when it recorded no error."""
    cause = one_line(scenario.get("error")) if scenario.get("error") else without_error
    return cause + (f" (step: {scenario['failed_step']})" if scenario.get("failed_step") else "")


def failure_lines(report_dir: Path, limit: int = 10) -> list[str]:
    """The failed procedures of <report_dir>/summary.json, one line each with the cause and the step, for the last
    lines a gate prints: a CI log that keeps only its tail still says what failed (gate.md has them too, higher up).
    At most `limit` lines, then how many more; none when the summary is absent."""
    path = report_dir / "summary.json"
    if not path.is_file():
        return []
    scenarios = json.loads(path.read_text(encoding="utf-8")).get("scenarios", [])
    failed = [s for s in scenarios if s.get("result") != "passed"]
    out = []
    for s in failed[:limit]:
        where = f" [{s['feature_file']}]" if s.get("feature_file") else ""
        out.append(redact(f"  {s.get('result', '?')}: {s.get('procedure', '?')}{where}: "
                          f"{_cause(s, 'no cause recorded')}"))
    if len(failed) > limit:
        out.append(f"  ... and {len(failed) - limit} more in {report_dir / GATE_MD}")
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_gate(report_dir: Path, coverage_files: dict[str, Path]) -> str:
    """Write <report_dir>/gate.md from the files there; returns the verdict (GREEN or RED)."""
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    changes_file = report_dir / CHANGES_JSON
    changes = json.loads(changes_file.read_text(encoding="utf-8")) if changes_file.exists() else None
    coverages = {name: json.loads(path.read_text(encoding="utf-8")) for name, path in coverage_files.items()
                 if path.exists()}
    (report_dir / GATE_MD).write_text(gate_markdown(summary, changes, coverages), encoding="utf-8")
    return verdict(summary, (changes or {}).get("deploy_error"))
