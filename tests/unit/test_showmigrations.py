from __future__ import annotations

from edirunbook.app import parse_showmigrations

LISTING = """admin
 [X] 0001_initial
 [ ] 0002_logentry_remove_auto_add
auth
 [X] 0001_initial
sessions
 [X] 0001_initial
"""


def test_showmigrations_is_read_as_app_migration_applied() -> None:
    assert parse_showmigrations(LISTING) == {
        "admin": {"0001_initial": True, "0002_logentry_remove_auto_add": False},
        "auth": {"0001_initial": True},
        "sessions": {"0001_initial": True},
    }


def test_an_app_without_migrations_lists_none() -> None:
    assert parse_showmigrations("bots\n (no migrations)\n") == {"bots": {}}
