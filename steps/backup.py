"""Backup and restore round trips: fingerprint, back up, destroy, restore, compare."""
from __future__ import annotations

from dataclasses import dataclass

from pytest_bdd import given, then, when

from edirunbook import backup, botsdb
from edirunbook.backup import Fingerprint
from fixtures.scenario import ScenarioContext

# Recreated by the restore tooling itself, not by the backup: Django's migration log (`applied`
# timestamps of the restore) and its session table.
REBUILT_BY_MIGRATE = frozenset({"django_migrations", "django_session"})


@dataclass(frozen=True)
class Original:
    """What the deployment held before the disaster: the restore must bring exactly this back."""

    fingerprint: Fingerprint
    transactions_metric: float | None  # None: the app exports no bots_transactions_total (its own step says so)


@given("persist and uniek rows exist")
def persist_rows(ctx: ScenarioContext) -> None:
    """Rows in persist (kept by mappings between runs) and uniek (counters) exist, as production has them."""
    botsdb.add_persist_and_uniek(ctx.env.database)


@given("every table and every data file is fingerprinted", target_fixture="original")
def fingerprint_before(ctx: ScenarioContext) -> Original:
    """Rows and CHECKSUM TABLE of every table, sha256 of every data file, and the web UI's transaction count."""
    original = Original(backup.fingerprint(ctx.env.database, ctx.bots), _transactions_metric(ctx, required=False))
    assert original.fingerprint.referenced, "no ta row points at a data file: the engine produced nothing to back up"
    return original


@when("the database and the data files are destroyed")
def destroy(ctx: ScenarioContext) -> None:
    """The disaster: the database dropped and recreated empty, the data directories emptied."""
    backup.destroy(ctx.env.database, ctx.bots)
    tables = backup.table_fingerprints(ctx.env.database)
    files = backup.file_checksums(ctx.bots)
    assert not tables and not files, f"the destroy step left {len(tables)} tables and {len(files)} files behind"


@when("the database is destroyed")
def destroy_database(ctx: ScenarioContext) -> None:
    """The database dropped and recreated empty; the data files stay."""
    backup.drop_database(ctx.env.database)
    assert not backup.table_fingerprints(ctx.env.database), "the database still has tables after the drop"


@then("every table's row count and checksum and every data file equal the originals")
def compare(ctx: ScenarioContext, original: Original) -> None:
    """The restore brought every table and every file back unchanged, and every file a ta row names."""
    _compare(ctx, original, frozenset())


@then("every table's row count and checksum and every data file equal the originals, except what migrate rebuilds")
def compare_after_migrate(ctx: ScenarioContext, original: Original) -> None:
    """As above, except django_migrations and django_session, which `migrate` writes anew; timestamps compared to
    the millisecond (dumpdata writes no finer: a login's last_login loses its microseconds)."""
    _compare(ctx, original, REBUILT_BY_MIGRATE, to_the_millisecond=True)


def _compare(ctx: ScenarioContext, original: Original, ignore: frozenset[str], *,
             to_the_millisecond: bool = False) -> None:
    after = backup.fingerprint(ctx.env.database, ctx.bots)
    problems = original.fingerprint.differences(after, ignore_tables=ignore, to_the_millisecond=to_the_millisecond)
    assert not problems, "the restore did not bring everything back:\n" + "\n".join(problems[:40])


@then("the web UI shows the restored transactions")
def web_shows(ctx: ScenarioContext, original: Original) -> None:
    """The webserver's bots_transactions_total equals the count from before the disaster (and is not 0)."""
    after = _transactions_metric(ctx)
    assert original.transactions_metric is not None, "/metrics had no bots_transactions_total before the disaster"
    assert after == original.transactions_metric > 0, \
        f"bots_transactions_total was {original.transactions_metric} before the disaster, {after} after the restore"


def _transactions_metric(ctx: ScenarioContext, *, required: bool = True) -> float | None:
    """The webserver's bots_transactions_total (the runbook's Monitoring queries use it); when not `required`, None
    if the app does not export it, so the backup and restore are still proven and only the step about it fails."""
    response = ctx.bots.get("/metrics")
    if response.status_code == 200:
        for line in response.text.splitlines():
            if line.startswith("bots_transactions_total "):
                return float(line.split()[1])
    if not required:
        return None
    assert response.status_code == 200, f"/metrics answered {response.status_code}: {response.text[:200]}"
    raise AssertionError("/metrics has no bots_transactions_total, which the runbook's Monitoring queries use")
