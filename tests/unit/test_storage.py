"""The known state's reading of the claims: which grew past the manifests, which are missing, where a claim's
files are on the node."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from edirunbook import storage
from edirunbook.errors import AppError


def _pvc(name: str, size: str, volume: str = "pv-1") -> Any:
    return SimpleNamespace(metadata=SimpleNamespace(name=name), status=SimpleNamespace(phase="Bound"),
                           spec=SimpleNamespace(volume_name=volume, resources=SimpleNamespace(
                               requests={"storage": size})))


class FakeCore:
    def __init__(self, claims: list[Any], volumes: dict[str, Any] | None = None) -> None:
        self.claims = {c.metadata.name: c for c in claims}
        self.volumes = volumes or {}

    def read_namespaced_persistent_volume_claim(self, name: str, namespace: str) -> Any:
        if name not in self.claims:
            raise client.ApiException(status=404)
        return self.claims[name]

    def list_namespaced_persistent_volume_claim(self, namespace: str) -> Any:
        return SimpleNamespace(items=list(self.claims.values()))

    def read_persistent_volume(self, name: str) -> Any:
        return self.volumes[name]


def _doc(name: str, size: str) -> dict[str, Any]:
    return {"kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"resources": {"requests": {"storage": size}}}}


def test_a_claim_larger_than_the_manifests_is_grown_in_any_unit_and_a_missing_one_is_missing() -> None:
    core: Any = FakeCore([_pvc("data", "384Mi"), _pvc("backup", "5Gi"), _pvc("same", "0.25Gi")])
    documents = [_doc("data", "256Mi"), _doc("backup", "5120Mi"), _doc("same", "256Mi"), _doc("gone", "1Gi"),
                 {"kind": "ConfigMap", "metadata": {"name": "data"}}]
    assert storage.grown_claims(core, "edi", documents) == {"data": ("384Mi", "256Mi")}
    assert storage.missing_claims(core, "edi", documents) == ["gone"]


def test_a_claims_files_are_in_the_drivers_directory_of_its_volume_and_nowhere_else() -> None:
    ours = SimpleNamespace(metadata=SimpleNamespace(name="pv-1"),
                           spec=SimpleNamespace(csi=SimpleNamespace(driver=storage.DRIVER, volume_handle="pvc-9")))
    other = SimpleNamespace(metadata=SimpleNamespace(name="pv-2"), spec=SimpleNamespace(csi=None))
    core: Any = FakeCore([_pvc("data", "256Mi", "pv-1"), _pvc("nfs", "1Gi", "pv-2"), _pvc("new", "1Gi", "")],
                         {"pv-1": ours, "pv-2": other})
    assert storage.claim_directory(core, "edi", "data") == f"{storage.STATE_DIR}/volumes/pvc-9"
    with pytest.raises(AppError, match=f"pv-2, which the CSI driver {storage.DRIVER} does not provide"):
        storage.claim_directory(core, "edi", "nfs")
    with pytest.raises(AppError, match="bound to no volume yet"):
        storage.claim_directory(core, "edi", "new")
