"""Backup and restore round trips: fingerprint, back up, destroy, restore, compare."""
from __future__ import annotations

from pytest_bdd import given, then, when

from edirunbook import backup
from fixtures.scenario import ScenarioContext

# Recreated by the restore tooling itself, not by the backup: Django's migration log (`applied`
# timestamps of the restore) and its session table.
REBUILT_BY_MIGRATE = frozenset({"django_migrations", "django_session"})


@given("persist and uniek rows exist")
def persist_rows(ctx: ScenarioContext) -> None:
    backup.add_persist_and_uniek(ctx.env.database)


@given("every table and every data file is fingerprinted")
def fingerprint_before(ctx: ScenarioContext) -> None:
    ctx.snapshot["before"] = backup.fingerprint(ctx.env.database, ctx.bots)
    ctx.snapshot["metric_before"] = _transactions_metric(ctx)
    before = ctx.snapshot["before"]
    assert before.referenced, "no ta row points at a data file: the engine produced nothing to back up"


@when("the database and the data files are destroyed")
def destroy(ctx: ScenarioContext) -> None:
    backup.destroy(ctx.env.database, ctx.bots)
    tables = backup.table_fingerprints(ctx.env.database)
    files = backup.file_checksums(ctx.bots)
    assert not tables and not files, f"the destroy step left {len(tables)} tables and {len(files)} files behind"


@then("every table's row count and checksum and every data file equal the originals")
def compare(ctx: ScenarioContext) -> None:
    _compare(ctx, frozenset())


@then("every table's row count and checksum and every data file equal the originals, except what migrate rebuilds")
def compare_after_migrate(ctx: ScenarioContext) -> None:
    _compare(ctx, REBUILT_BY_MIGRATE)


def _compare(ctx: ScenarioContext, ignore: frozenset[str]) -> None:
    after = backup.fingerprint(ctx.env.database, ctx.bots)
    problems = ctx.snapshot["before"].differences(after, ignore_tables=ignore)
    assert not problems, "the restore did not bring everything back:\n" + "\n".join(problems[:40])


@then("the web UI shows the restored transactions")
def web_shows(ctx: ScenarioContext) -> None:
    after = _transactions_metric(ctx)
    assert after == ctx.snapshot["metric_before"] > 0, \
        f"bots_transactions_total was {ctx.snapshot['metric_before']} before the disaster, {after} after the restore"


def _transactions_metric(ctx: ScenarioContext) -> float:
    response = ctx.bots.get("/metrics")
    assert response.status_code == 200, f"/metrics answered {response.status_code}: {response.text[:200]}"
    for line in response.text.splitlines():
        if line.startswith("bots_transactions_total "):
            return float(line.split()[1])
    raise AssertionError("/metrics has no bots_transactions_total")
