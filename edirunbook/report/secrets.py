"""Secrets: every registered value is replaced by `***` in everything the report plugin writes or prints.

The registry is process-wide on purpose: library code registers a password where it makes or reads one.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edirunbook import redaction
from edirunbook.redaction import MASK

_SECRETS: set[str] = set()


def register_secret(value: str) -> None:
    """Never show `value` in a report, a summary or the terminal (empty values are ignored)."""
    if value and value.strip():
        _SECRETS.add(value)


def unregister_secret(value: str) -> None:
    """Forget a value registered with register_secret (tests that register one clean up after themselves)."""
    _SECRETS.discard(value)


def redact(text: str) -> str:
    """`text` without any registered secret, also as Python's repr or JSON would quote it."""
    return redaction.redact(text, _SECRETS)


def redact_value(value: Any) -> Any:
    """`value` with every string in it redacted (dicts, lists and tuples are walked)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


def scrub_file(path: Path) -> None:
    """Rewrite a report file written by another plugin without any registered secret, in any escaping."""
    if not _SECRETS or not path.is_file():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    cleaned = text
    for form in _escaped_forms():
        cleaned = cleaned.replace(form, MASK)
    if cleaned != text:
        path.write_text(cleaned, encoding="utf-8")


def _escaped_forms() -> list[str]:
    """Every quoted form, also HTML-escaped inside JSON inside HTML (pytest-html's logs), longest first."""
    forms = set(redaction.quoted_forms(_SECRETS))
    for _ in range(2):
        forms |= {variant for form in forms for variant in _html_forms(form)}
        forms |= {json.dumps(form)[1:-1] for form in forms}
    return sorted(forms, key=len, reverse=True)


def _html_forms(text: str) -> set[str]:
    base = html.escape(text, quote=False)
    forms = {base.replace('"', double).replace("'", single)
             for double in ('"', "&quot;", "&#34;") for single in ("'", "&#x27;", "&#39;")}
    return forms | {form.replace("\n", "&#10;") for form in forms}


@dataclass(frozen=True)
class _Crash:
    path: str
    lineno: int
    message: str


class RedactedRepr:
    """A failure's text with the secrets taken out; keeps the one-line message for pytest's short summary."""

    def __init__(self, text: str, crash: _Crash | None) -> None:
        self.text, self.reprcrash = text, crash

    def __str__(self) -> str:
        return self.text

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)


def first_line(report: pytest.TestReport) -> str:
    """The failure's message in one line, without secrets: its first line, and when that introduces what was seen
    (`... in the output of X:`), the first line of that too (it usually says what is wrong)."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(crash.message if crash is not None else report.longrepr).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return redact(report.outcome)
    shown = f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]
    return redact(shown)


def redact_report(report: pytest.TestReport) -> None:
    """Take registered secrets out of what junitxml, cucumber JSON, pytest-html and the terminal show."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        if redact(text) != text:
            crash = getattr(report.longrepr, "reprcrash", None)
            kept = None if crash is None else _Crash(crash.path, crash.lineno, redact(crash.message))
            report.longrepr = RedactedRepr(redact(text), kept)  # type: ignore[assignment]
    report.sections = [(redact(title), redact(body)) for title, body in report.sections]
    report.user_properties = [(redact(str(name)), redact_value(value)) for name, value in report.user_properties]
