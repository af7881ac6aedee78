"""The report.html parts pytest-html cannot know: the procedure table, and per scenario its runbook link,
timings, command transcript (each command collapsed) and screenshots (embedded, so report.html stays one
self-contained file). Registered only when pytest-html is active."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

import pytest

from edirunbook.durations import format_duration
from edirunbook.report.model import FAILED, OVER, Attachment, ScenarioRecord
from edirunbook.report.secrets import redact
from edirunbook.report.summary import cells, headline

_STYLE = ("<style>.edirunbook table{border-collapse:collapse;margin:4px 0}"
          ".edirunbook td,.edirunbook th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
          ".edirunbook .bad{color:#b00;font-weight:bold}.edirunbook pre{white-space:pre-wrap;max-height:40em;"
          "overflow:auto;background:#f6f6f6;padding:4px}"
          ".edirunbook img.screenshot{max-width:100%;border:1px solid #ccc;margin:4px 0}</style>")
# A screenshot larger than this is linked, not embedded (report.html stays loadable).
MAX_EMBEDDED_BYTES = 4 * 1024 * 1024


def html_tested(tested: dict[str, str]) -> str:
    """What the run tested (target, image and digest, manifests and commit, versions, coverage): first on the page."""
    if not tested:
        return ""
    rows = "".join(f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>" for name, value in tested.items())
    return redact(f'{_STYLE}<div class="edirunbook"><h2>Under test</h2><table>{rows}</table></div>')


def html_summary(records: Sequence[ScenarioRecord]) -> str:
    """The procedure table shown above pytest-html's results table."""
    head = "".join(f"<th>{h}</th>" for h in ("procedure", "result", "duration", "recovery", "runbook target",
                                             "verdict"))
    body = []
    for record in records:
        c = cells(record)
        bad = ' class="bad"' if record.verdict in (OVER, FAILED) else ""
        body.append(f"<tr><td>{escape(c['procedure'])}</td><td>{c['result']}</td><td>{c['duration']}</td>"
                    f"<td>{c['recovery']}</td><td>{escape(c['target'])}</td><td{bad}>{escape(c['verdict'])}</td></tr>")
    return redact(f'{_STYLE}<div class="edirunbook"><h2>Runbook procedures</h2><p>{escape(headline(records))}</p>'
                  f"<table><tr>{head}</tr>{''.join(body)}</table></div>")


def html_details(record: ScenarioRecord, report_dir: Path | None = None) -> str:
    """One scenario's runbook link, timings, command transcript (each command collapsed) and attachments.

    Attachment paths are shown relative to `report_dir` (where report.html is), so their links work there.
    """
    target = record.tags.target
    facts = [f"<b>runbook</b>: {escape(', '.join(record.tags.runbook) or '-')}",
             f"<b>target</b>: {escape(target.text) if target else '-'}",
             f"<b>verdict</b>: {escape(record.verdict_text)}"]
    parts = [f'<div class="edirunbook"><p>{" &middot; ".join(facts)}</p>']
    if record.timings:
        rows = "".join(f"<tr><td>{escape(t.name)}</td><td>{format_duration(t.seconds)}</td>"
                       f"<td>{escape(t.target.text) if t.target else '-'}</td><td>{t.verdict}</td></tr>"
                       for t in record.timings)
        parts.append(f"<table><tr><th>timing</th><th>took</th><th>target</th><th>verdict</th></tr>{rows}</table>")
    if record.commands:
        parts.append(f"<p><b>commands</b> ({len(record.commands)})</p>")
    for command in record.commands:
        status = "did not finish" if command.exit_code is None else f"exit {command.exit_code}"
        parts.append(f"<details><summary><code>$ {escape(command.command)}</code> &mdash; {status}, "
                     f"{format_duration(command.seconds)}</summary><pre>{escape(command.output)}</pre></details>")
    if record.attachments:
        parts.append(f"<p><b>screenshots</b> ({len(record.attachments)})</p>")
    parts += [_attachment(attachment, report_dir) for attachment in record.attachments]
    parts.append("</div>")
    return redact(_STYLE + "".join(parts))


def _attachment(attachment: Attachment, report_dir: Path | None) -> str:
    """One attachment, collapsed: its title, a link to the file, and an image embedded as a data URI."""
    shown = escape(attachment.shown(report_dir))
    head = f'<summary>{escape(attachment.title)} &mdash; <a href="{shown}">{escape(attachment.path.name)}</a></summary>'
    try:
        size = attachment.path.stat().st_size
    except OSError:
        return f"<details>{head}<p>(the file is gone)</p></details>"
    if not attachment.is_image or size > MAX_EMBEDDED_BYTES:
        return f"<details>{head}</details>"
    mime = "image/png" if attachment.path.suffix.lower() == ".png" else "image/jpeg"
    data = base64.b64encode(attachment.path.read_bytes()).decode("ascii")
    return (f'<details>{head}<img class="screenshot" alt="{escape(attachment.title)}" '
            f'src="data:{mime};base64,{data}"/></details>')


class HtmlReportHooks:
    """pytest-html hooks (its hook names are unknown to pytest without it, so this is a separate plugin)."""

    def __init__(self, records: Callable[[], list[ScenarioRecord]],
                 tested: Callable[[], dict[str, str]] = dict) -> None:
        self.records = records
        self.tested = tested

    def pytest_html_report_title(self, report: Any) -> None:
        report.title = "Runbook verification"

    def pytest_html_results_summary(self, prefix: list[str]) -> None:
        prefix.append(html_tested(self.tested()) + html_summary(self.records()))

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[3:3] = ['<th class="sortable" data-column-type="target">Runbook target</th>',
                      '<th class="sortable" data-column-type="verdict">Verdict</th>']

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        record = next((r for r in self.records() if r.nodeid == report.nodeid), None)
        target = record.tags.target.text if record is not None and record.tags.target else "-"
        verdict = record.verdict_text if record is not None else "-"
        cells[3:3] = [f'<td class="col-target">{escape(target)}</td>',
                      f'<td class="col-verdict">{escape(verdict)}</td>']
