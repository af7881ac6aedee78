"""Django migrations: what `showmigrations` lists, a migration made pending, and the app's readiness answer."""
from __future__ import annotations

import json
import re

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
    """The last output is a JSON health report that says healthy (curl without -f exits 0 on a 503 too)."""
    _healthy_report(ctx.last.output)


@then(parsers.parse("the output is a health report saying ok, its {check} check passing"))
def health_report_check_ok(ctx: ScenarioContext, check: str) -> None:
    """A JSON health report that says healthy, and whose checks include this one, passing."""
    report = _healthy_report(ctx.last.output)
    checks = report.get("checks")
    assert isinstance(checks, dict) and check in checks, f"the health report has no {check} check: {report}"


# A health report's status when healthy: the reference says ok; Bots 4.0's views say ok (liveness), ready
# (readiness) and started (startup). A check passes as true or "ok".
HEALTHY = frozenset({"ok", "ready", "started"})


def _healthy_report(output: str) -> dict[str, object]:
    """The last JSON object in the output (curl's progress meter on stderr may share its line)."""
    report = None
    for candidate in reversed(re.findall(r"\{.*\}", output)):
        try:
            report = json.loads(candidate)
            break
        except json.JSONDecodeError:
            continue
    assert isinstance(report, dict), f"the output is not a JSON health report:\n{output[-500:]}"
    checks = report.get("checks") or {}
    failing = {name: value for name, value in checks.items() if value not in (True, "ok")} \
        if isinstance(checks, dict) else checks
    assert report.get("status") in HEALTHY and not failing, f"the application is not healthy: {report}"
    return report
