"""Django migrations: what `showmigrations` lists, a migration made pending, and the app's readiness answer."""
from __future__ import annotations

import json

from pytest_bdd import given, parsers, then

from edirunbook.app import parse_showmigrations
from fixtures.scenario import ScenarioContext


@given(parsers.parse("a migration is pending: {app} is migrated back to {migration}"))
def migration_pending(ctx: ScenarioContext, app: str, migration: str) -> None:
    """`manage.py migrate <app> <migration>` unapplies the later ones (as a release with new migrations finds it)."""
    ctx.bots.exec_web(f"python manage.py migrate {app} {migration}", timeout=300)


@then("the output lists every migration applied")
def all_applied(ctx: ScenarioContext) -> None:
    """The last showmigrations lists migrations of several apps, every one `[X]`."""
    listed = parse_showmigrations(ctx.last.output)
    pending = [f"{app}.{name}" for app, names in listed.items() for name, done in names.items() if not done]
    assert sum(len(names) for names in listed.values()) > 1 and not pending, \
        f"pending: {pending or 'nothing listed'}\n{ctx.last.output}"


@then(parsers.parse("the output lists migrations of {app} not applied"))
def some_pending(ctx: ScenarioContext, app: str) -> None:
    """The last showmigrations lists at least one `[ ]` migration under the app."""
    names = parse_showmigrations(ctx.last.output).get(app, {})
    assert any(not done for done in names.values()), f"no pending migration of {app}:\n{ctx.last.output}"


@then("the output is a health report saying ok")
def health_report_ok(ctx: ScenarioContext) -> None:
    """The last output is the JSON health report with status ok (curl without -f exits 0 on a 503 too)."""
    report = json.loads(ctx.last.output.strip().splitlines()[-1])
    assert report.get("status") == "ok", f"the application is not ready: {report}"
