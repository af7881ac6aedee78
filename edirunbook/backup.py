"""Proof for backup and restore: fingerprints of every table and of every data file, before and after.

A backup is proven only by destroying the original and comparing what the restore brought back
(Velero's end-to-end discipline): row counts and CHECKSUM TABLE for every table, sha256 of every file
under botssys/data, and every file the `ta` rows point at present. botssys is where the target keeps it
(Bots.paths.botssys).
"""
from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

from edirunbook.app import Bots
from edirunbook.database import RunningDatabase

# What a restore must bring back: message files (data/), translated output (outfile/), inbound (infile/).
# Logs (logging/) keep growing while the app runs and are not part of the backup.
DATA_DIRS = ("data", "outfile", "infile")


@dataclass(frozen=True)
class Fingerprint:
    tables: dict[str, tuple[int, int]]  # table -> (rows, CHECKSUM TABLE)
    files: dict[str, str]  # path under botssys -> sha256
    referenced: frozenset[str]  # paths the ta rows name
    # table -> digest of its rows with timestamps cut to the millisecond (tables with finer timestamps only):
    # Django's dumpdata writes timestamps to the millisecond, so a dumpdata round trip is compared with these
    millis: dict[str, str] = field(default_factory=dict)

    def differences(self, other: Fingerprint, *, ignore_tables: frozenset[str] = frozenset(),
                    to_the_millisecond: bool = False) -> list[str]:
        problems = []
        for table in sorted(set(self.tables) | set(other.tables)):
            if table in ignore_tables:
                continue
            before, after = self.tables.get(table), other.tables.get(table)
            if to_the_millisecond and table in self.millis and before and after and before[0] == after[0]:
                if self.millis[table] != other.millis.get(table):
                    problems.append(f"table {table}: its rows differ (timestamps compared to the millisecond)")
            elif before != after:
                problems.append(f"table {table}: before {_fmt(before)}, after {_fmt(after)}")
        for path in sorted(set(self.files) | set(other.files)):
            if self.files.get(path) != other.files.get(path):
                problems.append(f"file {path}: before {self.files.get(path, 'missing')}, "
                                f"after {other.files.get(path, 'missing')}")
        missing = sorted(p for p in other.referenced if p not in other.files)
        problems += [f"ta points at {p}, which is not on the volume" for p in missing]
        return problems


def _fmt(value: tuple[int, int] | None) -> str:
    return "missing" if value is None else f"{value[0]} rows, checksum {value[1]}"


def table_fingerprints(db: RunningDatabase) -> dict[str, tuple[int, int]]:
    result = {}
    with db.cursor() as cursor:
        cursor.execute("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM `{table}`")
            rows = cursor.fetchone()[0]
            cursor.execute(f"CHECKSUM TABLE `{table}`")
            result[table] = (int(rows), int(cursor.fetchone()[1] or 0))
    return result


def millisecond_digests(db: RunningDatabase) -> dict[str, str]:
    """For each table with sub-millisecond timestamp columns: sha256 of its rows, timestamps cut to milliseconds."""
    found = db.query("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
                     "AND data_type IN ('datetime', 'timestamp', 'time') AND datetime_precision > 3")
    digests = {}
    for table in sorted({str(row[0]) for row in found}):
        digest = hashlib.sha256()
        for row in sorted(db.query(f"SELECT * FROM `{table}`"), key=repr):
            cut = [v.replace(microsecond=v.microsecond // 1000 * 1000)
                   if isinstance(v, datetime.datetime | datetime.time) else v for v in row]
            digest.update(repr(cut).encode())
        digests[table] = digest.hexdigest()
    return digests


def referenced_files(db: RunningDatabase, botssys: str) -> frozenset[str]:
    """Files the ta rows name, relative to botssys (the deployment's: Bots.paths.botssys).

    Bots keeps a message file's name as its number (stored at data/<n // 1000>/<n>) and an output file's
    as an absolute path.
    """
    names = [row[0] for row in db.query("SELECT DISTINCT filename FROM ta WHERE filename REGEXP '^[0-9]+$' "
                                        "OR filename LIKE %s", (f"{botssys}/%",))]
    paths = {f"data/{int(n) // 1000}/{n}" if n.isdigit() else n.removeprefix(f"{botssys}/") for n in names}
    # inbound files are consumed (removed) by the engine when it reads them; their rows are history
    return frozenset(p for p in paths if not p.startswith("infile/"))


def file_checksums(bots: Bots) -> dict[str, str]:
    dirs = " ".join(DATA_DIRS)
    output = bots.exec_web(f"cd {bots.paths.botssys} && find {dirs} -type f -exec sha256sum {{}} + 2>/dev/null || true")
    checksums = {}
    for line in output.splitlines():
        digest, _, path = line.partition("  ")
        if path:
            checksums[path] = digest
    return checksums


def fingerprint(db: RunningDatabase, bots: Bots) -> Fingerprint:
    return Fingerprint(table_fingerprints(db), file_checksums(bots), referenced_files(db, bots.paths.botssys),
                       millisecond_digests(db))


def destroy(db: RunningDatabase, bots: Bots) -> None:
    """The disaster: the database dropped and recreated empty, the data files deleted."""
    drop_database(db)
    botssys = bots.paths.botssys
    bots.exec_web(" && ".join(f"rm -rf {botssys}/{d} && mkdir -p {botssys}/{d}" for d in DATA_DIRS))


def drop_database(db: RunningDatabase) -> None:
    """The database dropped and recreated empty (the data files untouched)."""
    name = db.spec.database
    with db.cursor(as_root=True, database="") as cursor:
        cursor.execute(f"DROP DATABASE `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
