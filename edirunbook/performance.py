"""Performance Degradation: the database's processlist as dbshell shows it and as the suite reads it, and dd's
write test on the data volume."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pymysql.connections import Connection

from edirunbook.app import Bots
from edirunbook.errors import AppError

__all__ = ["ProcessRow", "WriteTest", "file_size", "parse_dd", "processlist", "shown_processlist"]

# coreutils dd: `104857600 bytes (105 MB, 100 MiB) copied, 0.0734 s, 1.4 GB/s`
_DD_SUMMARY = re.compile(r"^(?P<bytes>\d+) bytes (?:\([^)]*\) )?copied, (?P<seconds>[\d.,]+) s, "
                         r"(?P<rate>[\d.,]+ [kKMGTP]?i?B/s)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ProcessRow:
    """One connection of a processlist: its thread id, user, client host and what it runs."""

    id: int
    user: str
    host: str
    command: str
    info: str


@dataclass(frozen=True)
class WriteTest:
    """dd's summary line: how much it wrote, in how long, at what rate."""

    bytes: int
    seconds: float
    rate: str


def processlist(connection: Connection[Any]) -> list[ProcessRow]:
    """information_schema.processlist read on `connection`: what its user may see (its own user's connections,
    or every connection with the PROCESS privilege), the same rows SHOW FULL PROCESSLIST shows that user."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT ID, USER, HOST, COMMAND, COALESCE(INFO, '') FROM information_schema.processlist")
        rows = cursor.fetchall()
    return [ProcessRow(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]


def shown_processlist(screen: str) -> list[ProcessRow]:
    """The rows of the last `SHOW FULL PROCESSLIST` table a terminal showed (mysql's `| Id | User | ...` layout)."""
    lines = [line.strip() for line in screen.split("\n")]
    headers = [i for i, line in enumerate(lines) if re.fullmatch(r"\|\s*Id\s*\|\s*User\s*\|.*\|", line)]
    if not headers:
        raise AppError(f"the terminal showed no processlist table (a `| Id | User | ...` header):\n{screen[-2000:]}")
    start = headers[-1]
    columns = [cell.strip() for cell in lines[start][1:-1].split("|")]
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("+"):
            continue
        if not line.startswith("|"):
            break
        cells = dict(zip(columns, (cell.strip() for cell in line[1:-1].split("|")), strict=False))
        rows.append(ProcessRow(int(cells["Id"]), cells.get("User", ""), cells.get("Host", ""),
                               cells.get("Command", ""), "" if cells.get("Info") == "NULL" else cells.get("Info", "")))
    return rows


def parse_dd(output: str) -> WriteTest:
    """dd's summary line in `output`; AppError when there is none (dd failed, or is not coreutils' dd)."""
    match = _DD_SUMMARY.search(output)
    if match is None:
        raise AppError(f"no `N bytes ... copied, S s, RATE` summary of dd in the output:\n{output}")
    return WriteTest(int(match["bytes"]), float(match["seconds"].replace(",", ".")), match["rate"])


def file_size(bots: Bots, path: str) -> int | None:
    """The size of a file in the webserver pod (the data volume's view), None when there is no such file."""
    answer = bots.exec_web(f"if [ -e {path} ]; then stat -c %s {path}; else echo none; fi").strip()
    return None if answer == "none" else int(answer)
