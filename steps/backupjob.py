"""The runbook's nightly backup CronJob: its Jobs, the backup volume's files, their restore and retention."""
from __future__ import annotations

import datetime
import json
import re
import shlex

from pytest_bdd import given, parsers, then, when

from edirunbook import storage
from fixtures.scenario import ScenarioContext

BACKUP_CLAIM = "bots-backup-pvc"


def _backup_dir(ctx: ScenarioContext) -> str:
    """The backup volume's directory on the kind node (edirunbook/storage.py)."""
    return storage.claim_directory(ctx.bots.core, ctx.bots.namespace, BACKUP_CLAIM)


def _on_node(ctx: ScenarioContext, command: str) -> str:
    result = ctx.env.kind.node_exec(command)
    assert result.returncode == 0, f"on the node: {command}\n{result.stdout}{result.stderr}"
    return result.stdout


def _backups(ctx: ScenarioContext) -> dict[str, int]:
    """backup-*.json on the backup volume: name -> size."""
    listing = _on_node(ctx, f"cd {_backup_dir(ctx)} && find . -maxdepth 1 -name 'backup-*.json' -printf '%f %s\\n'")
    return {name: int(size) for name, size in (line.split() for line in listing.splitlines())}


def _newest(ctx: ScenarioContext) -> tuple[str, int]:
    found = _backups(ctx)
    assert found, f"the backup volume has no backup-*.json: {_on_node(ctx, f'ls -la {_backup_dir(ctx)}')}"
    name = max(found)  # backup-YYYYmmdd-HHMMSS.json: the name orders them by time
    return name, found[name]


@given("the backup volume holds no backups")
def no_backups(ctx: ScenarioContext) -> None:
    """Every backup-* file on bots-backup-pvc removed (earlier scenarios' backups)."""
    _on_node(ctx, f"rm -f {_backup_dir(ctx)}/backup-*")


@then("the newest backup file is empty")
def newest_empty(ctx: ScenarioContext) -> None:
    """The newest backup-*.json on the backup volume holds no record: 0 bytes, or only what dumpdata wrote before
    it failed (the `[` that opens its list). It looks like a backup and holds nothing."""
    name, size = _newest(ctx)
    if size:
        head = _on_node(ctx, f"head -c 200 {_backup_dir(ctx)}/{name}")
        assert head.strip() in ("", "["), f"{name} has {size} bytes, starting {head[:80]!r}"


@given(parsers.parse("the backup volume holds nightly backups: {old:d} older than 30 days and {recent:d} newer"))
def earlier_backups(ctx: ScenarioContext, old: int, recent: int) -> None:
    """Backups of earlier nights: today's dumpdata under the names and mtimes the CronJob gave them back then
    (2 AM, 31+ days ago for the old ones, 1-29 days ago for the recent ones)."""
    dump = ctx.bots.exec_web("python manage.py dumpdata --exclude auth.permission --exclude contenttypes",
                             timeout=300)
    now = datetime.datetime.now(datetime.UTC)
    # The last night the CronJob ran: before 2 AM that is yesterday's, or a backup of "31 nights ago" would be
    # younger than 31 days and find's -mtime +30 would rightly keep it.
    last_night = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if last_night > now:
        last_night -= datetime.timedelta(days=1)
    ages = [31 + 2 * n for n in range(old)] + [1 + 7 * n for n in range(recent)]
    assert all(age <= 29 for age in ages[old:]), "too many recent backups for 30 days"
    names = []
    directory = _backup_dir(ctx)
    for age in ages:
        night = last_night - datetime.timedelta(days=age)
        path = f"{directory}/backup-{night:%Y%m%d-%H%M%S}.json"
        name = path.rsplit("/", 1)[1]
        result = ctx.env.kind.node_exec(f"cat > {path} && chown 10001:10001 {path} && "
                                        f"touch -d {shlex.quote(night.isoformat())} {path}", input=dump)
        assert result.returncode == 0, result.stderr
        names.append(name)
    ctx.shell.values["old-backups"] = " ".join(names[:old])
    ctx.shell.values["recent-backups"] = " ".join(names[old:])


@then("the backups older than 30 days are deleted and the newer ones kept")
def retention(ctx: ScenarioContext) -> None:
    """The old backups are gone; the recent ones and the new one (non-empty) are there."""
    found = _backups(ctx)
    old = ctx.shell.values.get("old-backups", "").split()
    recent = ctx.shell.values.get("recent-backups", "").split()
    assert old and recent, "no earlier backups were made in this scenario"
    kept_old = [name for name in old if name in found]
    lost = [name for name in recent if name not in found]
    assert not kept_old and not lost, f"kept {kept_old} (older than 30 days), lost {lost}; on the volume: {found}"
    name, size = _newest(ctx)
    assert size > 0 and name not in recent, f"no new backup: the newest is {name} ({size} bytes)"


@when(parsers.parse('the operator copies the newest backup file to "{name}"'))
def fetch_newest(ctx: ScenarioContext, name: str) -> None:
    """The newest backup-*.json, non-empty and a dumpdata list, copied into the operator's working directory."""
    newest, size = _newest(ctx)
    assert size > 0, f"the newest backup {newest} is empty"
    content = _on_node(ctx, f"cat {_backup_dir(ctx)}/{newest}")
    records = json.loads(content)
    assert any(r.get("model") == "bots.ta" for r in records), f"{newest} holds no bots.ta rows"
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    (ctx.workdir / ctx.shell.prepare(name)).write_text(content)


@then("the output says dumpdata failed")
def dumpdata_failed(ctx: ScenarioContext) -> None:
    """The last output (the backup Job's log) ends dumpdata with an error: a Python exception's line
    (`ModuleNotFoundError: No module named 'config'` without the Bots configuration, `CommandError: Unable to
    serialize database: ...` without the database settings)."""
    errors = [line.strip() for line in ctx.last.output.splitlines() if _ERROR_LINE.match(line)]
    assert errors, f"the output names no error of dumpdata:\n{ctx.last.output[-1500:]}"


_ERROR_LINE = re.compile(r"^\s*(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception): \S")
