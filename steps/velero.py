"""Velero's backups and restores of the namespace (environments/kind/addons/velero), and the disaster they undo."""
from __future__ import annotations

import datetime
import re

import pytest
from pytest_bdd import parsers, then, when

from edirunbook import cluster, tables, velero
from edirunbook.durations import parse_duration
from edirunbook.report import record_duration
from edirunbook.terminal import screen_text
from fixtures.scenario import ScenarioContext


@then(parsers.parse("velero {kind} {name} is Completed within {timeout}"))
def finished_completed(ctx: ScenarioContext, request: pytest.FixtureRequest, kind: str, name: str, timeout: str) \
        -> None:
    """The server finished the backup or restore as Completed, with no errors; another end (PartiallyFailed,
    Failed) stops the wait at once with what the server recorded."""
    assert kind in ("backup", "restore"), f"velero has backups and restores, not {kind!r}"
    item = velero.wait_finished(ctx.bots.api, f"{kind}s", name, "Completed", timeout=parse_duration(timeout))
    status = item.get("status") or {}
    assert not status.get("errors"), f"velero {kind} {name}: {velero.describe(item)}"
    record_duration(request, f"velero {kind} {name}", _seconds(status))


def _seconds(status: dict) -> float:
    """From the server's start to its completion timestamp (whole seconds, as Velero records them)."""
    started, finished = status.get("startTimestamp"), status.get("completionTimestamp")
    if not (started and finished):
        return 0.0
    return (datetime.datetime.fromisoformat(finished) - datetime.datetime.fromisoformat(started)).total_seconds()


def _field(output: str, label: str) -> str:
    """The value of a `Label:  value` line of `velero ... describe`."""
    match = re.search(rf"^\s*{re.escape(label)}:[ \t]*(.*)$", output, re.MULTILINE)
    return match.group(1).strip() if match else ""


def _block(output: str, label: str) -> list[str]:
    """A `Label:` section of `velero ... describe`: its own line's value and the indented lines under it (none
    when there is no such section)."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{label}:")), None)
    if start is None:
        return []
    block = [lines[start].split(":", 1)[1].strip()]
    for line in lines[start + 1:]:
        if not line.startswith((" ", "\t")) or not line.strip():
            break
        block.append(line.strip())
    return [line for line in block if line]


@then(parsers.parse("the output describes backup {name} {phase}, of namespace {namespace}, with CSI snapshots of "
                    "claims {claims}"))
def describes_backup(ctx: ScenarioContext, name: str, phase: str, namespace: str, claims: str) -> None:
    """`velero backup describe` names the backup, its phase, the namespace it included, and a CSI snapshot of
    each claim (edi/<claim>); it shows no download error (the stored results are read from the object store).
    Velero colours its output: read as the terminal shows it."""
    output = screen_text(ctx.last.output)
    assert _field(output, "Name") == name, f"the output describes no backup {name}:\n{output}"
    assert _field(output, "Phase").split()[0:1] == [phase], f"backup {name} is not {phase}:\n{output}"
    included = _field(output, "Included")
    assert included == namespace, f"backup {name} includes namespaces {included!r}, not {namespace}:\n{output}"
    wanted = [claim.strip() for claim in re.split(r",| and ", claims) if claim.strip()]
    csi = output.split("CSI Snapshots:", 1)[-1] if "CSI Snapshots:" in output else ""
    missing = [claim for claim in wanted if f"{namespace}/{claim}" not in csi]
    assert not missing, f"backup {name} shows no CSI snapshot of {', '.join(missing)}:\n{output}"
    errors = [line.strip() for line in output.splitlines() if "<error" in line]
    assert not errors, f"velero backup describe could not read what the server stored: {errors}"


@then(parsers.parse("the output describes restore {name} {phase}, from backup {backup}, with no errors"))
def describes_restore(ctx: ScenarioContext, name: str, phase: str, backup: str) -> None:
    """`velero restore describe`: the restore, its phase, the backup it came from, no errors (`Errors:` is
    `<none>`, or no `Errors:` section at all, as Velero prints it when there are none), and no download error."""
    output = screen_text(ctx.last.output)
    assert _field(output, "Name") == name, f"the output describes no restore {name}:\n{output}"
    assert _field(output, "Phase").split()[0:1] == [phase], f"restore {name} is not {phase}:\n{output}"
    assert _field(output, "Backup") == backup, f"restore {name} is not from backup {backup}:\n{output}"
    errors = [line for line in _block(output, "Errors") if not line.endswith("<none>")]
    assert not errors, f"restore {name} has errors: {errors}\n{output}"
    unread = [line.strip() for line in output.splitlines() if "<error" in line]
    assert not unread, f"velero restore describe could not read what the server stored: {unread}"


@then(parsers.parse("the output lists backup {name} {phase} with {errors:d} errors"))
def lists_backup(ctx: ScenarioContext, name: str, phase: str, errors: int) -> None:
    """`velero backup get`: the backup's row has this STATUS and ERRORS count."""
    rows = [row for row in tables.rows(screen_text(ctx.last.output)) if row["NAME"] == name]
    assert rows, f"velero backup get lists no backup {name}:\n{ctx.last.output}"
    assert (rows[0]["STATUS"], rows[0]["ERRORS"]) == (phase, str(errors)), \
        f"backup {name}: status {rows[0]['STATUS']}, {rows[0]['ERRORS']} errors; want {phase}, {errors}"


@when(parsers.parse("namespace {namespace} is deleted with everything in it"))
def namespace_deleted(ctx: ScenarioContext, namespace: str) -> None:
    """The disaster: the namespace and all its objects deleted (its claims and their volumes with them), and gone."""
    ctx.bots.core.delete_namespace(namespace)
    cluster.wait_namespace_gone(ctx.bots.api, namespace, timeout=ctx.env.config.timeout("pod_ready", 180))
