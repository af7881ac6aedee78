"""The data volume's snapshots, the claims restored from them, and its online expansion (CSI storage)."""
from __future__ import annotations

import time

from kubernetes import client
from pytest_bdd import parsers, then

from edirunbook import cluster, storage, tables
from edirunbook.durations import parse_duration
from edirunbook.errors import StopWaiting
from edirunbook.waiting import Observation, wait_for
from fixtures.scenario import ScenarioContext

ACCESS_MODES = {"ReadWriteOnce": "RWO", "ReadWriteMany": "RWX", "ReadOnlyMany": "ROX", "ReadWriteOncePod": "RWOP"}


def _today(pattern: str) -> str:
    """A name written with strftime fields (`bots-data-snapshot-%Y%m%d`): what `$(date +%Y%m%d)` gave today."""
    return time.strftime(pattern)


def _snapshot(ctx: ScenarioContext, name: str) -> dict:
    group, version, plural = storage.SNAPSHOTS
    found: dict = client.CustomObjectsApi(ctx.bots.api).get_namespaced_custom_object(
        group, version, ctx.bots.namespace, plural, name)
    return found


def _events(ctx: ScenarioContext, kind: str, name: str, uid: str) -> str:
    return cluster.object_events(ctx.bots.api, ctx.bots.namespace, kind, name, uid)


@then(parsers.parse('volume snapshot "{pattern}" is ready to use within {timeout}'))
def snapshot_ready(ctx: ScenarioContext, pattern: str, timeout: str) -> None:
    """The VolumeSnapshot (strftime fields: today's name) reports readyToUse, with a restore size and its content;
    a snapshot error ends the wait at once."""
    name = _today(pattern)

    def ready() -> Observation:
        snapshot = _snapshot(ctx, name)
        status, uid = snapshot.get("status") or {}, snapshot["metadata"]["uid"]
        if status.get("error"):
            raise StopWaiting(f"volume snapshot {name} failed: {status['error'].get('message')} "
                              f"(events: {_events(ctx, 'VolumeSnapshot', name, uid)})")
        return Observation(status.get("readyToUse") is True and bool(status.get("boundVolumeSnapshotContentName")),
                           f"status {status or 'none yet'}; events: {_events(ctx, 'VolumeSnapshot', name, uid)}")

    wait_for(f"volume snapshot {name} to be ready to use", ready, timeout=parse_duration(timeout))


def _blocks(output: str) -> list[list[dict[str, str]]]:
    """The tables `kubectl get a,b` prints, one per resource type (a blank line between them)."""
    return [tables.rows(block) for block in output.split("\n\n") if block.strip()]


@then(parsers.parse('the output lists volume snapshot "{pattern}" of claim {claim} and its content, both ready '
                    'to use'))
def output_lists_snapshot(ctx: ScenarioContext, pattern: str, claim: str) -> None:
    """`kubectl get volumesnapshot,volumesnapshotcontent` shows the snapshot (READYTOUSE true, SOURCEPVC the claim)
    and a content whose VOLUMESNAPSHOT is the snapshot, READYTOUSE true."""
    name = _today(pattern)
    rows = [row for block in _blocks(ctx.last.output) for row in block]
    snapshot = [r for r in rows if r["NAME"].rsplit("/", 1)[-1] == name and "SOURCEPVC" in r]
    content = [r for r in rows if r.get("VOLUMESNAPSHOT") == name]
    assert snapshot and content, f"the output lists no snapshot {name} with its content:\n{ctx.last.output}"
    assert snapshot[0]["READYTOUSE"] == "true" and snapshot[0]["SOURCEPVC"] == claim, \
        f"snapshot {name}: {snapshot[0]}"
    assert content[0]["READYTOUSE"] == "true", f"content of {name}: {content[0]}"


@then(parsers.parse("claim {claim} is Bound within {timeout}"))
def claim_bound(ctx: ScenarioContext, claim: str, timeout: str) -> None:
    """The PersistentVolumeClaim is Bound to a volume (provisioned, or restored from its data source)."""
    def bound() -> Observation:
        pvc = ctx.bots.core.read_namespaced_persistent_volume_claim(claim, ctx.bots.namespace)
        events = _events(ctx, "PersistentVolumeClaim", claim, pvc.metadata.uid)
        return Observation(pvc.status.phase == "Bound", f"{pvc.status.phase}; events: {events}")

    wait_for(f"claim {claim} to be Bound", bound, timeout=parse_duration(timeout))


@then(parsers.parse("the output lists claim {claim} {phase}, {mode}, in storage class {storage_class}"))
def output_lists_claim(ctx: ScenarioContext, claim: str, phase: str, mode: str, storage_class: str) -> None:
    """`kubectl get pvc` shows the claim with that STATUS, ACCESS MODES (RWX for ReadWriteMany) and STORAGECLASS."""
    rows = {r["NAME"]: r for r in tables.rows(ctx.last.output)}
    assert claim in rows, f"the output lists no claim {claim}:\n{ctx.last.output}"
    row = rows[claim]
    expected = {"STATUS": phase, "ACCESS MODES": ACCESS_MODES.get(mode, mode), "STORAGECLASS": storage_class}
    found = {"STATUS": row.get("STATUS"), "ACCESS MODES": row.get("ACCESS"), "STORAGECLASS": row.get("STORAGECLASS")}
    assert found == expected, f"claim {claim}: found {found}, expected {expected}\n{ctx.last.output}"


@then(parsers.parse("claim {claim} has a capacity of {size} within {timeout}"))
def claim_capacity(ctx: ScenarioContext, claim: str, size: str, timeout: str) -> None:
    """The claim's status.capacity (what the volume really has after an expansion) reaches the size."""
    def grown() -> Observation:
        pvc = ctx.bots.core.read_namespaced_persistent_volume_claim(claim, ctx.bots.namespace)
        capacity = (pvc.status.capacity or {}).get("storage")
        conditions = [f"{c.type}: {c.message or c.reason}" for c in pvc.status.conditions or []]
        events = _events(ctx, "PersistentVolumeClaim", claim, pvc.metadata.uid)
        return Observation(capacity == size, f"capacity {capacity}, conditions {conditions or 'none'}; "
                                             f"events: {events}")

    wait_for(f"claim {claim} to have {size}", grown, timeout=parse_duration(timeout))


@then(parsers.parse("the output shows the data volume's filesystem at {size}"))
def df_size(ctx: ScenarioContext, size: str) -> None:
    """`df -h` lists the data volume's mount with that Size."""
    mount = ctx.bots.paths.data_volume
    lines = [line.split() for line in ctx.last.output.splitlines() if line.split()[-1:] == [mount]]
    assert lines, f"df shows no line for {mount}:\n{ctx.last.output}"
    assert lines[0][1] == size, f"df shows {mount} at {lines[0][1]}, not {size}:\n{ctx.last.output}"


@then(parsers.parse("a {mib:d} MiB file can be written to the data volume and removed"))
def write_succeeds(ctx: ScenarioContext, mib: int) -> None:
    """dd writes the file in the webserver pod (no ENOSPC), then it is removed."""
    path = f"{ctx.bots.paths.data_volume}/expansion-check"
    result = ctx.bots.kubectl_run("exec", "deployment/bots-webserver", "-c", "webserver", "--", "sh", "-c",
                                  f"dd if=/dev/zero of={path} bs=1M count={mib} 2>&1; echo exit=$?; rm -f {path}")
    assert "exit=0" in result, f"writing {mib} MiB to the data volume failed:\n{result}"


@then(parsers.parse("deployment {name} runs the noted pods"))
def same_pods(ctx: ScenarioContext, name: str) -> None:
    """The Deployment's pods are exactly those noted before: none was replaced."""
    now = ctx.bots.pod_uids(name)
    assert now == ctx.noted_uids[name], \
        f"deployment/{name} replaced pods: noted {sorted(ctx.noted_uids[name])}, now {sorted(now)}"
