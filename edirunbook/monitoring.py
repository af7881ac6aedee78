"""Transaction Monitoring: what the web UI's selections count, and the same rows counted in the database.

Bots 3.3.1 has no dashboard. Its Select menu leads to forms with a date range (Datefrom, Dateuntil) whose
result pages say `(Page 1 of 2; 31 items)`: Incoming lists the received files (`filereport`, one row per
file: what the metrics call transactions), with Statust Error only the files that failed; Reports (per run)
lists the engine runs (`report`). Bots filters `ts >= Datefrom AND ts < Dateuntil`; here the same bounds
count the same table. "The last 24 hours" is reckoned on the database's clock, which stamps every ts.
"""
from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from edirunbook import botsdb
from edirunbook.database import RunningDatabase
from edirunbook.errors import AppError


@dataclass(frozen=True)
class Selection:
    """One selection an operator makes in the web UI, and where the database keeps the rows it lists."""

    menu_entry: str  # the entry of Bots' Select menu
    table: str  # filereport or report
    choices: Mapping[str, str] = field(default_factory=dict)  # form field id -> the label chosen
    status: int | None = None  # statust of the rows (filereport), None: every status

    def describe(self) -> str:
        chosen = ", ".join(f"{name} {label}" for name, label in self.choices.items())
        return f"Select > {self.menu_entry}" + (f" ({chosen})" if chosen else "")


# What a feature calls a selection -> how it is made.
SELECTIONS: Mapping[str, Selection] = {
    "incoming files": Selection("Incoming", "filereport"),
    "incoming files with errors": Selection("Incoming", "filereport", {"statust": "Error"}, botsdb.ERROR),
    "engine runs": Selection("Reports (per run)", "report"),
}


def selection(name: str) -> Selection:
    try:
        return SELECTIONS[name]
    except KeyError:
        raise AppError(f"the web UI has no selection {name!r} in this suite; known: "
                       f"{', '.join(repr(known) for known in SELECTIONS)}") from None


def hours_ago(db: RunningDatabase, hours: int) -> str:
    """`YYYY-MM-DD HH:MM:SS`, `hours` before now on the database's clock (Bots' timestamps come from it)."""
    rows = db.query("SELECT DATE_FORMAT(NOW() - INTERVAL %s HOUR, '%%Y-%%m-%%d %%H:%%i:%%s')", (hours,))
    return str(rows[0][0])


def count(db: RunningDatabase, chosen: Selection, since: str, until: str) -> int:
    """The rows the selection lists between the bounds, as Bots filters them (ts >= since AND ts < until)."""
    sql = f"SELECT COUNT(*) FROM {chosen.table} WHERE ts >= %s AND ts < %s"
    params: tuple[object, ...] = (since, until)
    if chosen.status is not None:
        sql += " AND statust = %s"
        params += (chosen.status,)
    return int(db.query(sql, params)[0][0])


def file_errors(db: RunningDatabase, since: str, until: str) -> list[tuple[str, str]]:
    """(incoming file, reason) of every file that failed between the bounds, as filereport records it."""
    rows = db.query("SELECT infilename, errortext FROM filereport WHERE statust = %s AND ts >= %s AND ts < %s",
                    (botsdb.ERROR, since, until))
    return sorted((str(name), _flat(str(text or ""))) for name, text in rows)


def shown_errors(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(incoming file, reason) of the rows of the incoming view: its InFile and Error columns (Bots 3.3), or
    its InFile column and, under each file's row, a row of its own with the error (Bots 4.0)."""
    if rows and "InFile" in rows[0] and "Error" not in rows[0]:
        return sorted(_errors_below(rows))
    missing = {"InFile", "Error"} - (set(rows[0]) if rows else set())
    if rows and missing:
        raise AppError(f"the list has no column {', '.join(sorted(missing))}: it is not Bots' incoming view "
                       f"(its columns: {', '.join(rows[0])})")
    return sorted((row["InFile"], _flat(row["Error"])) for row in rows)


def as_shown(recorded: list[tuple[str, str]], shown: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The database's (file, reason) as the web UI names the files: Bots 3.3 shows the path, 4.0 only the name."""
    if shown and not any("/" in name for name, _ in shown):
        return sorted((posixpath.basename(name), reason) for name, reason in recorded)
    return recorded


def _errors_below(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    """Bots 4.0's incoming view: a row with an InFile is a file; the rows under it without one hold its error."""
    found: list[tuple[str, str]] = []
    for row in rows:
        if row.get("InFile"):
            found.append((row["InFile"].removeprefix("View "), ""))  # its link's title: `View <file name>`
        elif found:
            below = " ".join(value for value in row.values() if value)
            found[-1] = (found[-1][0], _flat(f"{found[-1][1]} {below}"))
    return found


def _flat(text: str) -> str:
    """Whitespace as a browser shows it: runs of spaces and line breaks count as one space."""
    return " ".join(text.split())
