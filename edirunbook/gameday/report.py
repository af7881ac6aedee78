"""The game-day report: what was done to which cluster, when each fault was found and recovered from, against the
runbook's targets, what people had to do by hand and which runbook steps did not work as written.

Made from the run's summary.json (results, recovery times and targets: the report plugin's) and gameday.json (the
timelines, faults and end state: fixtures/gameday.py), into gameday.md and gameday.html beside them.
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from edirunbook.report.secrets import redact

MARKDOWN, HTML = "gameday.md", "gameday.html"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{value:.1f}s"


def _joined(summary: dict[str, Any], gameday: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each scenario of the summary with its game-day record (by test name); scenarios that never reached their
    fixture (a refused run) have an empty record."""
    records = {entry["scenario"]: entry for entry in gameday.get("scenarios", [])}
    return [(scenario, records.get(scenario["nodeid"].rsplit("::", 1)[-1], {}))
            for scenario in summary.get("scenarios", [])]


def _detection(record: dict[str, Any]) -> str:
    injected = next((t for t, what in record.get("timeline", []) if what.startswith("fault injected")), None)
    found = next((t for t, what in record.get("timeline", []) if what.startswith("detected by")), None)
    if record.get("detected_by") is None or injected is None or found is None:
        return "-"
    return f"`{record['detected_by']}` after {_seconds(found - injected)}"


def rows(summary: dict[str, Any], gameday: dict[str, Any]) -> list[list[str]]:
    table = []
    for scenario, record in _joined(summary, gameday):
        faults = ", ".join(f["name"] for f in record.get("faults", [])) or "-"
        table.append([scenario["procedure"], scenario["result"], faults, _detection(record),
                      _seconds(scenario.get("recovery_s")), _target(scenario.get("target")), scenario["verdict"]])
    return table


def _target(target: dict[str, Any] | None) -> str:
    """The runbook's target as its tag says it (`rto:5-30m` -> `5-30m`)."""
    return str(target["tag"]).removeprefix("rto:") if target else "-"


HEADER = ["procedure", "result", "fault", "detected by", "recovery", "runbook target", "verdict"]


def markdown(summary: dict[str, Any], gameday: dict[str, Any]) -> str:
    run = summary.get("run", {})
    end = gameday.get("end", {})
    lines = [f"# Game day on {gameday.get('context', '?')}, {run.get('started', '?')[:10]}", "",
             f"- cluster: context `{gameday.get('context', '?')}`, API server {gameday.get('server', '?')}, "
             f"namespace `{gameday.get('namespace', '?')}`",
             f"- mode: {gameday.get('mode', '?')}; started {run.get('started', '?')}, finished "
             f"{run.get('finished', '?')}" + (" (INTERRUPTED)" if run.get("interrupted") else ""),
             f"- result: {_totals(summary)}", "", "## Recovery against the runbook's targets", "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows(summary, gameday)]
    lines += ["", "## Timelines", ""]
    for scenario, record in _joined(summary, gameday):
        if not record.get("timeline"):
            continue
        lines += [f"### {scenario['procedure']}", "", "| at | what |", "|---|---|"]
        lines += [f"| +{_seconds(at)} | {_cell(what)} |" for at, what in record["timeline"]]
        for fault in record.get("faults", []):
            state = "rolled back, state equal to before" if fault["rolled_back"] else \
                "NOT fully rolled back: " + "; ".join(fault["differences"])
            lines.append(f"\nfault `{fault['name']}` ({fault['description']}): ended by {fault['ended_by']}; {state}")
        if scenario.get("failed_step"):
            lines.append(f"\nfailed at: {scenario['failed_step']}: {scenario.get('error') or ''}")
        lines.append("")
    by_hand = [item for _, record in _joined(summary, gameday) for item in record.get("by_hand", [])]
    wanting = [item for _, record in _joined(summary, gameday) for item in record.get("not_as_written", [])]
    failed = [f"{s['procedure']}: {s.get('failed_step') or s.get('error') or s['result']}"
              for s, _ in _joined(summary, gameday) if s["result"] not in ("passed",)]
    lines += ["## What the operators had to do by hand", ""] + [f"- {item}" for item in by_hand or ["nothing"]]
    lines += ["", "## Runbook steps that did not work as written", ""]
    lines += [f"- {item}" for item in wanting + failed] or ["- none"]
    lines += ["", "## The namespace at the end, against how the game day found it", ""]
    lines += [f"- differences found: {'; '.join(end.get('differences_found', [])) or 'none'}",
              f"- put back with: {'; '.join(end.get('restored_with', [])) or 'nothing needed'}",
              f"- still different: {'; '.join(end.get('still_different', [])) or 'nothing'}",
              f"- for a person to look at: {'; '.join(end.get('for_a_person', [])) or 'nothing'}"]
    return redact("\n".join(lines) + "\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _totals(summary: dict[str, Any]) -> str:
    totals = summary.get("totals", {})
    return ", ".join(f"{totals[key]} {key}" for key in ("passed", "failed", "error", "within target",
                                                        "OVER TARGET") if totals.get(key))


def as_html(text: str) -> str:
    """The markdown report as a page: headings, lists, tables and paragraphs (the only constructs it uses)."""
    out = ["<!doctype html><meta charset=utf-8><title>Game day</title>",
           "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}</style>"]
    table: list[str] = []

    def inline(cell: str) -> str:
        parts = html.escape(cell.replace("\\|", "|")).split("`")
        return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))

    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").replace("\\|", "\0").split("|")]
            cells = [c.replace("\0", "\\|") for c in cells]
            if set("".join(cells)) <= {"-"}:
                continue
            tag = "th" if not table else "td"
            table.append("<tr>" + "".join(f"<{tag}>{inline(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if table:
            out.append("<table>" + "".join(table) + "</table>")
            table = []
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{inline(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("- "):
            out.append(f"<li>{inline(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    if table:
        out.append("<table>" + "".join(table) + "</table>")
    return "\n".join(out) + "\n"


def write(report_dir: Path) -> Path:
    """gameday.md and gameday.html from the run's files; returns the markdown's path."""
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    gameday_file = report_dir / "gameday.json"
    gameday = json.loads(gameday_file.read_text(encoding="utf-8")) if gameday_file.exists() else {}
    text = markdown(summary, gameday)
    (report_dir / MARKDOWN).write_text(text, encoding="utf-8")
    (report_dir / HTML).write_text(as_html(text), encoding="utf-8")
    return report_dir / MARKDOWN
