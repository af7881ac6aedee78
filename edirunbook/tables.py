"""Reading what kubectl and the runbook's scripts print: tables by their header columns, scripts by section."""
from __future__ import annotations

import re

_SECTION = re.compile(r"^(?P<title>[A-Z][\w ]*):\s*$")


def rows(text: str) -> list[dict[str, str]]:
    """A `kubectl get` table as one dict a row, keyed by header; cells cut at the header's column starts.

    Column positions, not whitespace, delimit cells: a SCHEDULE like `0 2 * * *` or an empty ADDRESS stays one
    cell. Lines before the header (a script's title) are skipped; text without a header gives no rows.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("NAME ") or line.strip() == "NAME"), None)
    if start is None:
        return []
    header = lines[start]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    found = []
    for line in lines[start + 1:]:
        cells = [line[begin:end].strip() for begin, end in zip(starts, [*starts[1:], None], strict=True)]
        found.append(dict(zip(names, cells, strict=True)))
    return found


def sections(text: str) -> dict[str, str]:
    """A script's output cut at its `Title:` lines (the quick status script's `Pods:`, `Services:` ...)."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _SECTION.match(line)
        if match:
            current = found.setdefault(match["title"], [])
        elif current is not None:
            current.append(line)
    return {title: "\n".join(lines).strip("\n") for title, lines in found.items()}
