"""init-db: create (or repair) the complete Bots schema on MySQL/MariaDB, idempotently.

1. the engine's four raw-SQL tables (ta, mutex, persist, uniek) with the defaults it needs (schema.py);
2. `migrate --run-syncdb`: Django's own tables and the remaining Bots tables (the bots app has no
   migrations, so only --run-syncdb creates them; existing tables are left alone);
3. repair: tables made earlier without those defaults (plain migrate, or the persist table of bots'
   SQL script without an `id`) are altered in place;
4. the route of this image (seed.py) and, if BOTS_ADMIN_USER/BOTS_ADMIN_PASSWORD are set, a superuser.
A database advisory lock keeps concurrent runs (db-init Job, webserver start) apart.
"""

import argparse
import os
import sys
import time

from botsedi import paths, schema

LOCK_NAME = "botsedi-init-db"


class InitDbError(Exception):
    """The schema could not be created; the message says why and what to do."""


def _log(message: str) -> None:
    print("init-db: " + message, flush=True)


def _wait_for_database(timeout: float) -> None:
    from django.db import connection

    from botsedi.db import describe_error

    deadline = time.monotonic() + timeout
    while True:
        try:
            connection.ensure_connection()
            return
        except Exception as exc:
            last = describe_error(exc.__cause__ or exc)
            connection.close()
            if time.monotonic() >= deadline:
                db = connection.settings_dict
                raise InitDbError(
                    f"database {db['NAME']} on {db['HOST']}:{db['PORT']} not reachable after {timeout:.0f} s "
                    f"(last error: {last}). Check DB_HOST, DB_PORT, DB_USER, DB_PASSWORD (Secret "
                    "bots-edidb-secret) and that the database runs."
                ) from exc
            time.sleep(1)


def _existing_tables(cursor) -> set:
    cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
    return {row[0].lower() for row in cursor.fetchall()}


def _columns(cursor, table: str) -> dict:
    cursor.execute(
        "SELECT column_name, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND table_name = %s",
        [table],
    )
    return {name.lower(): (nullable, default) for name, nullable, default in cursor.fetchall()}


def _indexes(cursor, table: str) -> list:
    cursor.execute(
        "SELECT index_name, non_unique, column_name FROM information_schema.statistics "
        "WHERE table_schema = DATABASE() AND table_name = %s ORDER BY index_name, seq_in_index",
        [table],
    )
    found = {}
    for name, non_unique, column in cursor.fetchall():
        found.setdefault(name, (name, not int(non_unique), []))[2].append(column.lower())
    return list(found.values())


def create_schema(verbosity: int = 1) -> list:
    """Steps 1-3; returns a list of what was done (empty when the schema was complete already)."""
    from django.core.management import call_command
    from django.db import connection

    done = []
    with connection.cursor() as cursor:
        existing = _existing_tables(cursor)
        for table in schema.TABLES:
            if table not in existing:
                cursor.execute(schema.create_statement(table))
                done.append("created table " + table)
    before = _existing_tables(connection.cursor())
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=verbosity)
    after = _existing_tables(connection.cursor())
    done += ["created table " + t for t in sorted(after - before)]
    with connection.cursor() as cursor:
        for table in schema.TABLES:
            statement = schema.repair_statement(table, _columns(cursor, table), _indexes(cursor, table))
            if statement:
                cursor.execute(statement)
                done.append("repaired: " + statement)
    return done


def _ensure_superuser() -> str:
    user = os.environ.get("BOTS_ADMIN_USER", "")
    password = os.environ.get("BOTS_ADMIN_PASSWORD", "")
    if not (user and password):
        return "no BOTS_ADMIN_USER/BOTS_ADMIN_PASSWORD: no superuser created"
    from django.contrib.auth import get_user_model

    model = get_user_model()
    if model.objects.filter(username=user).exists():
        return f"superuser {user} present"
    model.objects.create_superuser(user, os.environ.get("BOTS_ADMIN_EMAIL", ""), password)
    return f"created superuser {user}"


def run(wait_seconds: float, verbosity: int) -> None:
    from django.db import connection

    from botsedi import seed

    _wait_for_database(wait_seconds)
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, %s)", [LOCK_NAME, 300])
        if cursor.fetchone()[0] != 1:
            raise InitDbError(f"another init-db holds the lock {LOCK_NAME!r} for more than 300 s")
    try:
        done = create_schema(verbosity)
        for line in done:
            _log(line)
        if not done:
            _log("schema complete, nothing to do")
        for line in seed.seed_route():
            _log(line)
        _log(_ensure_superuser())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [LOCK_NAME])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="init-db", description=__doc__.splitlines()[0])
    parser.add_argument("-c", dest="configdir", default=paths.CONFIG_DIR, help="Bots config dir")
    parser.add_argument(
        "--wait", type=float, default=float(os.environ.get("BOTS_DB_WAIT_SECONDS", "60")),
        help="seconds to wait for the database to answer (default 60, env BOTS_DB_WAIT_SECONDS)",
    )
    parser.add_argument("-v", "--verbosity", type=int, default=1)
    args = parser.parse_args(argv)
    from bots import botsinit

    try:
        botsinit.generalinit(args.configdir)
        run(args.wait, args.verbosity)
    except InitDbError as exc:
        _log(f"FAILED: {exc}")
        return 1
    except Exception as exc:
        from botsedi.db import describe_error

        _log(f"FAILED: {describe_error(exc)}")
        return 1
    _log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
