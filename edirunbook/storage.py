"""The kind environment's volumes as the node holds them: each claim is a volume of the cluster's own CSI hostpath
driver (images/addons/csi-hostpath), a tmpfs of the claim's size in the driver's state directory on the node.
Steps and the known state that must read or repair a claim no running pod mounts (the backup volume, a restored
claim) work on that directory through the node container."""
from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable
from typing import Any

from kubernetes import client
from kubernetes.utils import parse_quantity

from edirunbook import cluster
from edirunbook.errors import AppError
from edirunbook.waiting import Observation, wait_for

DRIVER = "hostpath.csi.edirunbook.local"
STATE_DIR = "/var/lib/csi-edirunbook"  # the driver's --state-dir, a directory of the node
SNAPSHOTS = ("snapshot.storage.k8s.io", "v1", "volumesnapshots")
CONTENTS = ("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents")
RESIZE = f"{STATE_DIR}/resize"  # files of claims being made again at another size, on the node's disk
NodeExec = Callable[[str], subprocess.CompletedProcess[str]]  # KindEnvironment.node_exec


def claim_directory(core: client.CoreV1Api, namespace: str, claim: str) -> str:
    """The node's directory that holds the files of the claim's volume. AppError when the claim is not bound, or
    bound to a volume another driver provides (nothing on the node to read)."""
    pvc = core.read_namespaced_persistent_volume_claim(claim, namespace)
    if not pvc.spec.volume_name:
        raise AppError(f"claim {claim} is {pvc.status.phase}, bound to no volume yet")
    volume = core.read_persistent_volume(pvc.spec.volume_name)
    csi = volume.spec.csi
    if csi is None or csi.driver != DRIVER:
        raise AppError(f"claim {claim} is bound to {volume.metadata.name}, which the CSI driver {DRIVER} does not "
                       f"provide: its files are not on the node")
    return f"{STATE_DIR}/volumes/{csi.volume_handle}"


def snapshots(api: client.ApiClient, namespace: str) -> list[str]:
    """The namespace's VolumeSnapshots, by name (none when the cluster has no snapshot CRDs)."""
    return [item["metadata"]["name"] for item in cluster.custom_objects(api, *SNAPSHOTS, namespace)]


def delete(api: client.ApiClient, namespace: str, snapshot_names: list[str], claims: list[str], *,
           timeout: float) -> None:
    """Delete the VolumeSnapshots and claims, and wait until they are gone (a claim stays while a pod mounts it)."""
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    for name in snapshot_names:
        with contextlib.suppress(client.ApiException):
            custom.delete_namespaced_custom_object(*SNAPSHOTS[:2], namespace, SNAPSHOTS[2], name)
    for name in claims:
        with contextlib.suppress(client.ApiException):
            core.delete_namespaced_persistent_volume_claim(name, namespace)

    def gone() -> Observation:
        left = [f"volumesnapshot/{n}" for n in snapshots(api, namespace) if n in snapshot_names]
        left += [f"pvc/{c.metadata.name}" for c in core.list_namespaced_persistent_volume_claim(namespace).items
                 if c.metadata.name in claims]
        return Observation(not left, f"still there: {', '.join(left)}")

    if snapshot_names or claims:
        wait_for("the snapshots and claims to be deleted", gone, timeout=timeout)


def orphaned_contents(api: client.ApiClient, namespace: str) -> list[str]:
    """VolumeSnapshotContents made for a VolumeSnapshot of the namespace that no longer exists, and kept by their
    Retain policy (Velero's restore makes its snapshots so)."""
    live = set(snapshots(api, namespace))
    return [item["metadata"]["name"] for item in cluster.custom_objects(api, *CONTENTS)
            if item["spec"]["volumeSnapshotRef"].get("namespace") == namespace
            and item["spec"]["volumeSnapshotRef"].get("name") not in live
            and item["metadata"].get("deletionTimestamp") is None]


def delete_contents(api: client.ApiClient, names: list[str], *, timeout: float) -> None:
    """Delete the VolumeSnapshotContents and the driver's snapshots behind them (their policy turned to Delete
    first: a Retain content's deletion would leave its archive on the node), and wait until they are gone."""
    custom = client.CustomObjectsApi(api)
    for name in names:
        with contextlib.suppress(client.ApiException):
            custom.patch_cluster_custom_object(*CONTENTS, name, {"spec": {"deletionPolicy": "Delete"}})
            custom.delete_cluster_custom_object(*CONTENTS, name)

    def gone() -> Observation:
        left = [item["metadata"]["name"] for item in cluster.custom_objects(api, *CONTENTS)
                if item["metadata"]["name"] in names]
        return Observation(not left, f"still there: {', '.join(left)}")

    if names:
        wait_for("the snapshot contents to be deleted", gone, timeout=timeout)


def grown_claims(core: client.CoreV1Api, namespace: str, documents: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Claims of the manifests that request more than the manifests say (an expansion): {name: (live, manifests)}."""
    grown = {}
    for doc in documents:
        if doc.get("kind") != "PersistentVolumeClaim":
            continue
        want = doc["spec"]["resources"]["requests"]["storage"]
        try:
            live = core.read_namespaced_persistent_volume_claim(doc["metadata"]["name"], namespace)
        except client.ApiException as error:
            if error.status == 404:
                continue
            raise
        size = live.spec.resources.requests["storage"]
        if parse_quantity(size) > parse_quantity(want):
            grown[doc["metadata"]["name"]] = (size, want)
    return grown


def missing_claims(core: client.CoreV1Api, namespace: str, documents: list[dict[str, Any]]) -> list[str]:
    """Claims of the manifests that do not exist (a resize interrupted between delete and apply)."""
    live = {c.metadata.name for c in core.list_namespaced_persistent_volume_claim(namespace).items}
    return [doc["metadata"]["name"] for doc in documents
            if doc.get("kind") == "PersistentVolumeClaim" and doc["metadata"]["name"] not in live]


def set_aside(core: client.CoreV1Api, namespace: str, claim: str, node_exec: NodeExec) -> None:
    """The claim's files copied to the node's disk (RESIZE/<claim>), to be put back into the claim made again."""
    aside = f"{RESIZE}/{claim}"
    _on_node(node_exec, f"rm -rf {aside} && mkdir -p {aside} && cp -a {claim_directory(core, namespace, claim)}/. "
                        f"{aside}/")


def set_aside_claims(node_exec: NodeExec) -> list[str]:
    """Claims whose files wait on the node to be put back (set_aside, and the put_back not done yet)."""
    result = node_exec(f"ls {RESIZE} 2>/dev/null")
    return result.stdout.split() if result.returncode == 0 else []


def delete_claim(core: client.CoreV1Api, namespace: str, claim: str, *, timeout: float) -> None:
    """Delete the claim and wait until it is gone. No running pod may mount it (the caller scaled its workloads to
    0); finished pods that did are deleted, as the protection of a claim in use counts them too."""
    for pod in core.list_namespaced_pod(namespace).items:
        mounts = any(v.persistent_volume_claim and v.persistent_volume_claim.claim_name == claim
                     for v in pod.spec.volumes or [])
        if mounts and pod.status.phase in ("Succeeded", "Failed"):
            core.delete_namespaced_pod(pod.metadata.name, namespace)
    with contextlib.suppress(client.ApiException):
        core.delete_namespaced_persistent_volume_claim(claim, namespace)

    def deleted() -> Observation:
        found = [c for c in core.list_namespaced_persistent_volume_claim(namespace).items if c.metadata.name == claim]
        return Observation(not found, f"{found[0].status.phase}, finalizers {found[0].metadata.finalizers}"
                           if found else "gone")

    wait_for(f"claim {claim} to be deleted", deleted, timeout=timeout)


def put_back(core: client.CoreV1Api, namespace: str, claim: str, node_exec: NodeExec, *, timeout: float) -> None:
    """Once the claim made again is Bound, the files set aside for it copied in (what it has already kept)."""
    def bound() -> Observation:
        found = core.read_namespaced_persistent_volume_claim(claim, namespace)
        return Observation(found.status.phase == "Bound", str(found.status.phase))

    wait_for(f"claim {claim} to be Bound again", bound, timeout=timeout)
    aside = f"{RESIZE}/{claim}"
    _on_node(node_exec, f"if [ -d {aside} ]; then cp -an {aside}/. {claim_directory(core, namespace, claim)}/ && "
                        f"rm -rf {aside}; fi")


def _on_node(node_exec: NodeExec, command: str) -> None:
    result = node_exec(command)
    if result.returncode != 0:
        raise AppError(f"on the kind node: {command}\n{result.stdout}{result.stderr}")
