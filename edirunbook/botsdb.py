"""What Bots EDI keeps in its database, read the way an operator would: transactions, errors, its tables."""
from __future__ import annotations

from edirunbook.database import RunningDatabase

# statust in ta and filereport: 1 error, 3 done
ERROR, DONE = 1, 3
BOTS_TABLES = frozenset({"ta", "mutex", "persist", "uniek", "report", "filereport", "routes", "channel",
                         "translate", "partner"})


def transactions_done(db: RunningDatabase) -> int:
    return int(db.query("SELECT COUNT(*) FROM ta WHERE statust = %s", (DONE,))[0][0])


def error_transactions(db: RunningDatabase) -> list[tuple[str, str]]:
    """(file name, reason) of every file the engine recorded as an error (filereport statust 1)."""
    rows = db.query("SELECT infilename, errortext FROM filereport WHERE statust = %s ORDER BY idta", (ERROR,))
    return [(str(name), str(text or "")) for name, text in rows]


def missing_bots_tables(db: RunningDatabase) -> set[str]:
    present = {row[0] for row in db.query("SHOW TABLES")}
    return set(BOTS_TABLES - present)


def add_persist_and_uniek(db: RunningDatabase) -> None:
    """Rows like the ones mappings keep between runs (persist) and counters (uniek)."""
    with db.cursor() as cursor:
        cursor.executemany("INSERT INTO persist (domein, botskey, content) VALUES (%s, %s, %s) "
                           "ON DUPLICATE KEY UPDATE content = VALUES(content)",
                           [("edirunbook", "last-order", "ORD-1001"), ("edirunbook", "partner", "ACME")])
        cursor.execute("INSERT INTO uniek (domein, nummer) VALUES ('edirunbook-messages', 42) "
                       "ON DUPLICATE KEY UPDATE nummer = 42")


def file_reports(db: RunningDatabase, names: list[str]) -> dict[str, tuple[int, str]]:
    """statust and errortext of the newest filereport row of each inbound file (by file name)."""
    found: dict[str, tuple[int, str]] = {}
    for name in names:
        rows = db.query("SELECT statust, errortext FROM filereport WHERE infilename LIKE %s ORDER BY idta DESC "
                        "LIMIT 1", (f"%/{name}",))
        if rows:
            found[name] = (int(rows[0][0]), str(rows[0][1]))
    return found


def applied_migrations(db: RunningDatabase) -> frozenset[tuple[str, str]]:
    """The Django migrations the database records as applied: (app, name)."""
    return frozenset((str(app), str(name)) for app, name in db.query("SELECT app, name FROM django_migrations"))
