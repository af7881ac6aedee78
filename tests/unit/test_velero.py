"""Velero's backups and restores as the known state and the steps read them (a fake custom-objects API), the
orphaned snapshot contents the known state removes, and the reading of `velero ... describe`."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from edirunbook import storage, velero
from edirunbook.errors import StopWaiting, WaitTimeout
from steps.velero import _block, _field


class FakeCustom:
    """Velero's objects in namespace velero, by plural; each DeleteBackupRequest removes its backup after
    `delay` reads of the backups (the server's work)."""

    def __init__(self, objects: dict[str, list[dict[str, Any]]], delay: int = 1, serve: bool = True) -> None:
        self.objects = objects
        self.delay, self.serve = delay, serve
        self.created: list[dict[str, Any]] = []
        self.deleted: list[tuple[str, str]] = []

    def list_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str) -> Any:
        if plural == "backups" and self.serve:
            for request in [c for c in self.created if c["kind"] == "DeleteBackupRequest"]:
                request.setdefault("reads", 0)
                request["reads"] += 1
                if request["reads"] > self.delay:
                    self.objects["backups"] = [b for b in self.objects.get("backups", [])
                                               if b["metadata"]["name"] != request["spec"]["backupName"]]
        return {"items": list(self.objects.get(plural, []))}

    def get_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str, name: str) -> Any:
        for item in self.objects.get(plural, []):
            if item["metadata"]["name"] == name:
                return item
        raise client.ApiException(status=404)

    def create_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str,
                                        body: dict[str, Any]) -> Any:
        self.created.append(body)
        return body

    def delete_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str,
                                        name: str) -> Any:
        self.deleted.append((plural, name))
        self.objects[plural] = [i for i in self.objects.get(plural, []) if i["metadata"]["name"] != name]


def _item(name: str, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": status}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeCustom:
    custom = FakeCustom({})
    monkeypatch.setattr(client, "CustomObjectsApi", lambda api: custom)
    return custom


def test_a_backup_is_described_by_its_phase_progress_and_errors() -> None:
    text = velero.describe(_item("b", phase="PartiallyFailed", progress={"itemsBackedUp": 80, "totalItems": 86},
                                 errors=2, validationErrors=["no such location"]))
    assert text == ("phase PartiallyFailed, 80 of 86 items, errors 2, validation errors: no such location")
    assert velero.describe(None) == "not there"
    assert velero.describe(_item("b")) == "phase (none yet)"


class FakeCore:
    def __init__(self, log: str) -> None:
        self.log = log

    def list_namespaced_pod(self, namespace: str, label_selector: str) -> Any:
        assert (namespace, label_selector) == ("velero", "deploy=velero")
        return SimpleNamespace(items=[SimpleNamespace(metadata=SimpleNamespace(name="velero-1"))])

    def read_namespaced_pod_log(self, name: str, namespace: str, container: str, tail_lines: int) -> str:
        return self.log


SERVER_LOG = """time="t" level=info msg="Setting up backup log" backup=velero/bots-edi-backup
time="t" level=error msg="Error backing up item" backup=velero/bots-edi-backup error="error getting volume \
snapshot class for storage class \\"edirunbook-csi\\": no class found" logSource="x"
time="t" level=error msg="unrelated" backup=velero/other error="nothing to do with it"
""".replace("\\\n", "")


def test_waiting_for_a_backup_ends_at_once_when_it_finished_otherwise(fake: FakeCustom,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(velero.client, "CoreV1Api", lambda api: FakeCore(SERVER_LOG))
    fake.objects["backups"] = [_item("bots-edi-backup", phase="PartiallyFailed", errors=1)]
    with pytest.raises(StopWaiting, match=r"finished phase PartiallyFailed, errors 1; the velero server logged: "
                                          r"Error backing up item: error getting volume snapshot class for storage "
                                          r'class \\"edirunbook-csi\\": no class found$'):
        velero.wait_finished(None, "backups", "bots-edi-backup", "Completed", timeout=30)


def test_waiting_for_a_backup_shows_what_was_last_seen(fake: FakeCustom) -> None:
    fake.objects["backups"] = [_item("bots-edi-backup", phase="InProgress")]
    with pytest.raises(WaitTimeout, match="phase InProgress"):
        velero.wait_finished(None, "backups", "bots-edi-backup", "Completed", timeout=0.1)
    fake.objects["backups"] = [_item("bots-edi-backup", phase="Completed")]
    assert velero.wait_finished(None, "backups", "bots-edi-backup", "Completed", timeout=5)["status"]["phase"] \
        == "Completed"


def test_clearing_deletes_backups_by_request_and_restores_directly(fake: FakeCustom) -> None:
    fake.objects = {"backups": [_item("a", phase="Completed"), _item("b", phase="Failed")], "restores": [_item("r")],
                    "deletebackuprequests": [{"metadata": {"name": "b-x"}, "spec": {"backupName": "b"}}]}
    fake.created.append({"kind": "DeleteBackupRequest", "spec": {"backupName": "b"}})  # asked for earlier
    assert velero.clear(None, timeout=5) == (["a", "b"], ["r"])
    requests = [c for c in fake.created if c["kind"] == "DeleteBackupRequest"]
    assert [r["spec"]["backupName"] for r in requests] == ["b", "a"], "one request a backup, none twice"
    assert ("restores", "r") in fake.deleted and ("backups", "a") not in fake.deleted, \
        "a Backup object deleted directly comes back at the next sync"
    assert not fake.objects["backups"]


def test_clearing_fails_naming_the_backup_the_server_does_not_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    custom = FakeCustom({"backups": [_item("a", phase="Completed")], "deletebackuprequests": [
        {"metadata": {"name": "a-1"}, "spec": {"backupName": "a"},
         "status": {"phase": "Processed", "errors": ["the location is read-only"]}}]}, serve=False)
    monkeypatch.setattr(client, "CustomObjectsApi", lambda api: custom)
    with pytest.raises(WaitTimeout, match=r"backup/a \(phase Completed; deletion refused: the location is read-only"):
        velero.clear(None, timeout=0.2)
    assert [c["spec"]["backupName"] for c in custom.created] == ["a"], "a processed request is asked again"


def test_a_backup_still_running_is_waited_for_before_its_deletion(fake: FakeCustom) -> None:
    fake.objects = {"backups": [_item("a", phase="InProgress")]}
    with pytest.raises(WaitTimeout, match=r"still running: backup/a \(phase InProgress\)"):
        velero.clear(None, timeout=0.2)
    assert not fake.created


def test_no_velero_in_the_cluster_is_nothing_to_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoCrds(FakeCustom):
        def list_namespaced_custom_object(self, *args: Any) -> Any:
            raise client.ApiException(status=404)

    monkeypatch.setattr(client, "CustomObjectsApi", lambda api: NoCrds({}))
    assert velero.clear(None, timeout=1) == ([], [])


def test_orphaned_contents_are_those_whose_snapshot_of_the_namespace_is_gone(monkeypatch: pytest.MonkeyPatch) \
        -> None:
    def content(name: str, namespace: str, snapshot: str, deleting: bool = False) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": name}
        if deleting:
            metadata["deletionTimestamp"] = "2026-11-30T00:00:00Z"
        return {"metadata": metadata, "spec": {"volumeSnapshotRef": {"namespace": namespace, "name": snapshot}}}

    class Custom:
        def list_cluster_custom_object(self, *args: Any) -> Any:
            return {"items": [content("kept", "edi", "live"), content("orphan", "edi", "gone"),
                              content("elsewhere", "other", "gone"), content("going", "edi", "gone", True)]}

    monkeypatch.setattr(storage.client, "CustomObjectsApi", lambda api: Custom())
    monkeypatch.setattr(storage, "snapshots", lambda api, namespace: ["live"])
    assert storage.orphaned_contents(None, "edi") == ["orphan"]


DESCRIBED = """Name:         bots-edi-restore
Namespace:    velero

Phase:                       Completed
Total items to be restored:  86

Started:    2026-11-30 22:19:31 +0000 UTC

Warnings:
  Velero:     <none>
  Cluster:    <none>
  Namespaces:
    edi:  could not restore, Pod "x" already exists

Errors:
  Velero:     <none>
  Cluster:    <none>
  Namespaces: <none>

Backup:  bots-edi-backup
"""


def test_a_describe_section_is_its_line_and_the_indented_lines_under_it() -> None:
    assert _field(DESCRIBED, "Name") == "bots-edi-restore"
    assert _field(DESCRIBED, "Phase") == "Completed"
    assert _field(DESCRIBED, "Backup") == "bots-edi-backup"
    assert _block(DESCRIBED, "Errors") == ["Velero:     <none>", "Cluster:    <none>", "Namespaces: <none>"]
    assert _block(DESCRIBED, "Warnings")[-1] == 'edi:  could not restore, Pod "x" already exists'
    assert _block(DESCRIBED, "Hooks") == [], "velero prints no Errors: section when there are none"
