"""Velero in the kind environment (environments/kind/addons/velero): its backups and restores as the server
records them, waited on by the steps and cleared by the known state.

A Backup object is only the server's index of what the object store holds: deleting the object alone brings it
back at the next sync of the storage location, and leaves its volume snapshots behind. A backup is therefore
deleted the way `velero backup delete` does it, by a DeleteBackupRequest, which the server carries out (the
stored files, the CSI snapshots' contents) before it removes the Backup.
"""
from __future__ import annotations

import contextlib
import re
from typing import Any

import urllib3
from kubernetes import client

from edirunbook import cluster
from edirunbook.errors import AppError, StopWaiting
from edirunbook.waiting import Observation, wait_for

NAMESPACE = "velero"
GROUP, VERSION = "velero.io", "v1"
FINISHED = {"Completed", "PartiallyFailed", "Failed", "FailedValidation"}  # a backup's or restore's last phases


def items(api: client.ApiClient, plural: str) -> list[dict[str, Any]]:
    """Velero's objects of one kind (none when the cluster has no Velero CRDs)."""
    return cluster.custom_objects(api, GROUP, VERSION, plural, NAMESPACE)


def read(api: client.ApiClient, plural: str, name: str) -> dict[str, Any] | None:
    try:
        return client.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, plural, name)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise


def describe(item: dict[str, Any] | None) -> str:
    """A backup's or restore's state in one line: phase, counts, errors the server recorded."""
    if item is None:
        return "not there"
    status = item.get("status") or {}
    parts = [f"phase {status.get('phase') or '(none yet)'}"]
    progress = status.get("progress") or {}
    if progress:
        parts.append(f"{progress.get('itemsBackedUp', progress.get('itemsRestored', 0))} of "
                     f"{progress.get('totalItems', '?')} items")
    for key in ("errors", "warnings", "csiVolumeSnapshotsAttempted", "csiVolumeSnapshotsCompleted"):
        if status.get(key):
            parts.append(f"{key} {status[key]}")
    if status.get("validationErrors"):
        parts.append(f"validation errors: {'; '.join(status['validationErrors'])}")
    if status.get("failureReason"):
        parts.append(f"failure: {status['failureReason']}")
    return ", ".join(parts)


def server_errors(api: client.ApiClient, name: str, limit: int = 5) -> str:
    """The velero server's last error lines about `name` (what the Backup object does not say: why), as a
    message's tail; empty when there are none or the log cannot be read."""
    core = client.CoreV1Api(api)
    lines: list[str] = []
    try:
        for pod in core.list_namespaced_pod(NAMESPACE, label_selector="deploy=velero").items:
            log = core.read_namespaced_pod_log(pod.metadata.name, NAMESPACE, container="velero", tail_lines=2000)
            lines += [_message(line) for line in log.splitlines() if "level=error" in line and name in line]
    except (client.ApiException, urllib3.exceptions.HTTPError):
        return ""  # a diagnosis only: the wait's own message stands without it
    return "; the velero server logged: " + " | ".join(lines[-limit:]) if lines else ""


def _message(line: str) -> str:
    """A logrus line's msg and error fields."""
    found = re.findall(r'\b(msg|error)="((?:[^"\\]|\\.)*)"', line)
    return ": ".join(value for _, value in found) or line[:300]


def wait_finished(api: client.ApiClient, plural: str, name: str, phase: str, *, timeout: float) -> dict[str, Any]:
    """Wait until the backup or restore `name` has finished; StopWaiting as soon as it finished in another phase
    than `phase`."""
    kind = plural.rstrip("s")

    def finished() -> Observation:
        item = read(api, plural, name)
        found = ((item or {}).get("status") or {}).get("phase", "")
        if found in FINISHED and found != phase:
            raise StopWaiting(f"velero {kind} {name} finished {describe(item)}{server_errors(api, name)}")
        return Observation(found == phase, f"velero {kind} {name}: {describe(item)}")

    wait_for(f"velero {kind} {name} to be {phase}", finished, timeout=timeout, interval=1.0)
    item = read(api, plural, name)
    if item is None:
        raise AppError(f"velero {kind} {name} was deleted as soon as it was {phase}")
    return item


def clear(api: client.ApiClient, *, timeout: float) -> tuple[list[str], list[str]]:
    """Every backup deleted as `velero backup delete` deletes one (DeleteBackupRequests), and every restore;
    waited for. The server refuses to delete a backup still in progress, so those are waited for first. Returns
    (backups, restores) that were there."""
    custom = client.CustomObjectsApi(api)
    backups = [item["metadata"]["name"] for item in items(api, "backups")]
    restores = [item["metadata"]["name"] for item in items(api, "restores")]
    for name in restores:
        with contextlib.suppress(client.ApiException):
            custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "restores", name)

    def backups_finished() -> Observation:
        running = [f"backup/{i['metadata']['name']} ({describe(i)})" for i in items(api, "backups")
                   if (i.get("status") or {}).get("phase") not in FINISHED | {"Deleting"}]
        return Observation(not running, f"still running: {', '.join(running)}")

    if backups:
        wait_for("velero's backups to finish before they are deleted", backups_finished, timeout=timeout)
    pending = {request["spec"]["backupName"] for request in items(api, "deletebackuprequests")
               if (request.get("status") or {}).get("phase") != "Processed"}
    for name in backups:
        if name not in pending:
            custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "deletebackuprequests", {
                "apiVersion": f"{GROUP}/{VERSION}", "kind": "DeleteBackupRequest",
                "metadata": {"generateName": f"{name}-", "labels": {"velero.io/backup-name": name}},
                "spec": {"backupName": name}})

    def gone() -> Observation:
        refused = {r["spec"]["backupName"]: "; ".join((r.get("status") or {}).get("errors") or [])
                   for r in items(api, "deletebackuprequests") if (r.get("status") or {}).get("errors")}
        left = []
        for item in items(api, "backups"):
            name = item["metadata"]["name"]
            if name in backups:
                why = f"; deletion refused: {refused[name]}" if name in refused else ""
                left.append(f"backup/{name} ({describe(item)}{why})")
        left += [f"restore/{i['metadata']['name']}" for i in items(api, "restores")
                 if i["metadata"]["name"] in restores]
        return Observation(not left, f"still there: {', '.join(left)}")

    if backups or restores:
        wait_for("velero's backups and restores to be deleted", gone, timeout=timeout, interval=1.0)
    return backups, restores
