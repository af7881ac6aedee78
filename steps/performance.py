"""Performance investigation: the processlist dbshell shows and the data volume's write test, checked by the suite."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from edirunbook import performance, volume
from edirunbook.performance import ProcessRow
from edirunbook.report import record_duration
from fixtures.scenario import ScenarioContext

MIB = 1024 * 1024


@dataclass
class HeldConnection:
    """A database connection the suite keeps open, and the connections the database listed when it was opened."""

    connection: Any
    id: int
    before: list[ProcessRow]


@given("the suite holds a database connection of its own", target_fixture="held_connection")
def hold_connection(ctx: ScenarioContext, request: pytest.FixtureRequest) -> HeldConnection:
    """A connection as the application's user stays open through the scenario; the processlist is read directly."""
    connection = ctx.env.database.connect()
    request.addfinalizer(connection.close)
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        (connection_id,) = cursor.fetchone()
    return HeldConnection(connection, int(connection_id), performance.processlist(connection))


@then("the processlist shown lists every connection information_schema.processlist lists")
def processlist_complete(ctx: ScenarioContext, held_connection: HeldConnection) -> None:
    """The last SHOW FULL PROCESSLIST table has each connection the suite read before and after it (its own too), and dbshell's."""  # noqa: E501
    shown = {row.id: row for row in performance.shown_processlist(ctx.last.output)}
    after = {row.id: row for row in performance.processlist(held_connection.connection)}
    lasting = [row for row in held_connection.before if row.id in after]  # alive all the time the terminal ran
    missing = [row for row in lasting if row.id not in shown]
    listing = "\n".join(f"  {r.id} {r.user}@{r.host} {r.command} {r.info}" for r in held_connection.before)
    assert held_connection.id in shown and not missing, \
        f"SHOW FULL PROCESSLIST did not list connections {[r.id for r in missing] or [held_connection.id]} that " \
        f"information_schema.processlist listed before and after it (the suite's own is {held_connection.id}):\n" \
        f"{listing}\nshown: {sorted(shown)}"
    own = [row for row in shown.values() if row.info == "SHOW FULL PROCESSLIST" and row.id not in after]
    assert own, f"the processlist shown has no row of dbshell's own connection running SHOW FULL PROCESSLIST: " \
        f"{list(shown.values())}"


@then(parsers.parse("the output reports {count:d} bytes copied and a rate"))
def dd_reports(ctx: ScenarioContext, request: pytest.FixtureRequest, count: int) -> None:
    """The last command's output has dd's summary line: exactly this many bytes copied, the seconds, a rate."""
    summary = performance.parse_dd(ctx.last.output)
    assert summary.bytes == count, f"dd copied {summary.bytes} bytes, not {count}:\n{ctx.last.output}"
    record_duration(request, "dd write test", summary.seconds)


@then(parsers.parse('the data volume keeps a {size:d} MiB file "{path}"'))
def volume_keeps_file(ctx: ScenarioContext, size: int, path: str) -> None:
    """The file is on the data volume (as the webserver pod sees it) with exactly this size."""
    found = performance.file_size(ctx.bots, path)
    used = volume.used_percent(ctx.bots)
    assert found == size * MIB, f"{path} is {'missing' if found is None else f'{found} bytes'}, not {size} MiB " \
        f"(the data volume is {used}% full)"


@then(parsers.parse("the data volume is at least {percent:d}% full"))
def volume_at_least(ctx: ScenarioContext, percent: int) -> None:
    """The last `df` shows the Bots home (the data volume) at this Use% or more."""
    used = volume.df_use_percent(ctx.last.output, ctx.bots.paths.data_volume)
    assert used >= percent, f"the data volume is {used}% full, not at least {percent}%:\n{ctx.last.output}"


@then(parsers.parse('the data volume has no file "{path}"'))
def volume_lacks_file(ctx: ScenarioContext, path: str) -> None:
    """No such file on the data volume (as the webserver pod sees it)."""
    found = performance.file_size(ctx.bots, path)
    assert found is None, f"{path} is still on the data volume ({found} bytes)"
