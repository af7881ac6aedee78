"""A short-lived MySQLdb connection with tight timeouts, for probes and metrics.

Not Django's connection: a probe must give up in a few seconds when the database hangs (e.g. paused), and
must never leave a half-dead connection behind for the next request.
"""

import contextlib
import os

import MySQLdb
from django.conf import settings

PROBE_TIMEOUT = int(os.environ.get("BOTS_HEALTH_DB_TIMEOUT", "3"))


@contextlib.contextmanager
def probe_connection():
    db = settings.DATABASES["default"]
    conn = MySQLdb.connect(
        host=db["HOST"],
        port=int(db["PORT"] or 3306),
        user=db["USER"],
        passwd=db["PASSWORD"],
        db=db["NAME"],
        charset="utf8mb4",
        connect_timeout=PROBE_TIMEOUT,
        read_timeout=PROBE_TIMEOUT,
        write_timeout=PROBE_TIMEOUT,
    )
    try:
        yield conn
    finally:
        conn.close()


def describe_error(exc: Exception) -> str:
    """MySQLdb errors as 'code: message'; never contains the password (MySQL does not echo it)."""
    if isinstance(exc, MySQLdb.Error) and len(exc.args) == 2:
        return f"{exc.args[0]}: {exc.args[1]}"
    return f"{type(exc).__name__}: {exc}"
