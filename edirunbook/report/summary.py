"""The run's summary as JSON, Markdown and the terminal table (report.html's parts: report/html.py).

summary.json schema:
  {"run": {"started": ISO-8601, "finished": ISO-8601, "exit_status": int, "interrupted": bool,
           "tags": str | null, "report_dir": str},
   "totals": {"procedures": int, "passed": int, "failed": int, "error": int, "not run": int,
              "within target": int, "OVER TARGET": int, "no target": int},
   "scenarios": [{"nodeid", "procedure", "feature", "feature_file", "line", "tags": [str], "runbook": [slug],
                  "result": "passed" | "failed" | "error" | "not run", "interrupted": bool,
                  "error": str | null, "failed_step": str | null,
                  "duration_s": float | null (the steps' wall time), "recovery_s": float | null,
                  "target": {"tag": "rto:5-30m", "low_s": float | null, "high_s": float} | null,
                  "measured": "recovery" | "scenario" | null (what was compared with the target),
                  "verdict": "within target" | "OVER TARGET" | "no target" | "failed" | "not run",
                  "lower_end_met": bool | null,
                  "timings": [{"name", "seconds", "target_s": float | null, "verdict"}],
                  "commands": [{"command", "exit_code": int | null, "seconds", "output"}],
                  "attachments": [{"title", "path" (relative to report_dir when inside it)}]}]}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edirunbook.durations import format_duration
from edirunbook.report.model import (
    ERROR,
    FAILED,
    NO_TARGET,
    NOT_RUN,
    OVER,
    PASSED,
    SCENARIO,
    WITHIN,
    ScenarioRecord,
)
from edirunbook.report.secrets import redact, redact_value


@dataclass
class RunInfo:
    started: str
    finished: str
    exit_status: int
    interrupted: bool
    tags: str | None
    report_dir: str
    tested: dict[str, str] = field(default_factory=dict)  # what was tested: image, manifests, versions, coverage


def totals(records: Sequence[ScenarioRecord]) -> dict[str, int]:
    results = Counter(r.result for r in records)
    verdicts = Counter(r.verdict for r in records)
    return {"procedures": len(records), **{k: results[k] for k in (PASSED, FAILED, ERROR, NOT_RUN)},
            **{k: verdicts[k] for k in (WITHIN, OVER, NO_TARGET)}}


def summary_json(records: Sequence[ScenarioRecord], run: RunInfo) -> dict[str, Any]:
    return {"run": redact_value(vars(run)), "totals": totals(records),
            "scenarios": [r.as_json(run.report_dir) for r in records]}


def cells(record: ScenarioRecord) -> dict[str, str]:
    target = record.tags.target
    return {
        "procedure": record.procedure,
        "result": record.result,
        "duration": "-" if record.wall is None else format_duration(record.wall),
        "recovery": "-" if record.recovery is None else format_duration(record.recovery),
        "target": "-" if target is None else target.text,
        "verdict": record.verdict_text,
    }


def headline(records: Sequence[ScenarioRecord]) -> str:
    counts = totals(records)
    parts = [f"{counts[k]} {k}" for k in (PASSED, FAILED, ERROR, NOT_RUN) if counts[k]]
    line = f"{len(records)} procedure{'s' if len(records) != 1 else ''}: " + (", ".join(parts) or "none")
    if counts[OVER]:
        line += f"; {counts[OVER]} OVER TARGET"
    return line


def table_rows(records: Sequence[ScenarioRecord], width: int) -> list[tuple[str, bool]]:
    """The terminal table, fitted to `width` columns (80..120), scenarios under a line naming their feature.

    A scenario name too long for its column gets a line of its own, its figures on the next line.

    Each line comes with whether it is bad news (failed, error, OVER TARGET), for colour.
    """
    width = max(80, min(width, 120))
    columns = ["procedure", "result", "duration", "recovery", "target", "verdict"]
    if all(r.recovery is None for r in records):
        columns.remove("recovery")
    rows = [cells(r) | {"procedure": "  " + (r.scenario or r.nodeid)} for r in records]
    sizes = {c: max([len(c)] + [len(row[c]) for row in rows]) for c in columns[1:]}
    fixed = sum(sizes.values()) + 2 * (len(columns) - 1)
    sizes["procedure"] = max(24, min(width - fixed, max([9] + [len(row["procedure"]) for row in rows])))
    lines = [(_line({c: c for c in columns}, columns, sizes), False)]
    group: str | None = None
    for record, row in zip(records, rows, strict=True):
        heading = f"{record.feature} ({record.feature_file})" if record.feature else "tests"
        if heading != group:
            lines.append((_fit(heading, width), False))
            group = heading
        bad = record.verdict in (OVER, FAILED) or record.result in (FAILED, ERROR)
        if len(row["procedure"]) > sizes["procedure"]:  # a long name gets a line of its own
            lines.append((_fit(row["procedure"], width), bad))
            row["procedure"] = ""
        lines.append((_line(row, columns, sizes), bad))
    return [(redact(line), bad) for line, bad in lines]


def _fit(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def _line(row: dict[str, str], columns: list[str], sizes: dict[str, int]) -> str:
    return "  ".join(row[c].ljust(sizes[c]) for c in columns).rstrip()


def summary_markdown(records: Sequence[ScenarioRecord], run: RunInfo) -> str:
    status = "interrupted" if run.interrupted else f"exit status {run.exit_status}"
    out = [
        "# Runbook verification",
        "",
        f"{headline(records)}. Run {run.started} to {run.finished}, {status}"
        + (f", tags `{run.tags}`." if run.tags else "."),
        "",
    ]
    if run.tested:
        out += ["| under test | |", "|---|---|", *(f"| {k} | {v} |" for k, v in run.tested.items()), ""]
    out += [
        "| procedure | result | duration | recovery | runbook target | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for record in records:
        c = cells(record)
        out.append(f"| {_md(c['procedure'])} | {c['result']} | {c['duration']} | {c['recovery']} | "
                   f"{c['target']} | {c['verdict']} |")
    failed = [r for r in records if r.result in (FAILED, ERROR) or r.verdict == OVER]
    if failed:
        out += ["", "## What went wrong", ""]
        for record in failed:
            why = record.error or record.over_target_message() or record.result
            step = f" (step: {record.failed_step})" if record.failed_step else ""
            out.append(f"- **{_md(record.procedure)}**{_md(step)}: {_md(why)}")
    timed = [r for r in records if any(t.name != SCENARIO for t in r.timings)]
    if timed:
        out += ["", "## Timings", ""]
        for record in timed:
            parts = [f"{t.name} {format_duration(t.seconds)}" + (f" (target {t.target.text}: {t.verdict})"
                                                                 if t.target else "")
                     for t in record.timings if t.name != SCENARIO]
            out.append(f"- {_md(record.procedure)}: " + ", ".join(parts))
    shot = [r for r in records if r.attachments]
    if shot:
        out += ["", "## Screenshots", ""]
        for record in shot:
            links = ", ".join(f"[{_md(a.title)}]({a.shown(run.report_dir)})" for a in record.attachments)
            out.append(f"- {_md(record.procedure)}: {links}")
    return redact("\n".join(out) + "\n")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
