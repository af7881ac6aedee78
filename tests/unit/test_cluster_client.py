"""cluster.connect's ApiClient: objects read back share one Configuration (SharingApiClient), nothing else changes."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from edirunbook import cluster
from edirunbook.errors import EnvironmentNotReady

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web-1", "namespace": "edi", "labels": {"app": "web"},
                    "managedFields": [{"manager": "kubelet", "operation": "Update", "fieldsType": "FieldsV1"}]},
       "spec": {"containers": [{"name": "web", "image": "bots:1", "env": [{"name": "A", "value": "1"}],
                                "securityContext": {"capabilities": {"drop": ["ALL"]}}}]},
       "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


class Response:
    data = json.dumps({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [POD, POD]})

    def getheader(self, name: str, default: Any = None) -> Any:
        return default


def models(value: Any) -> list[Any]:
    """Every model object in a deserialized value, nested ones too."""
    if isinstance(value, list):
        return [found for item in value for found in models(item)]
    if isinstance(value, dict):
        return [found for item in value.values() for found in models(item)]
    if not hasattr(value, "openapi_types"):
        return []
    return [value, *(found for attr in value.openapi_types for found in models(getattr(value, attr)))]


def test_objects_read_back_share_the_clients_model_configuration_and_equal_the_stock_clients(tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    api = cluster.connect(tmp_path / "kubeconfig")
    assert isinstance(api, cluster.SharingApiClient) and api.configuration.host == "https://127.0.0.1:6443"
    pods = api.deserialize(Response(), "V1PodList")
    objects = models(pods)
    assert len(objects) > 10
    assert {id(o.local_vars_configuration) for o in objects} == {id(api._model_configuration)}
    assert pods.items[1].spec.containers[0].security_context.capabilities.drop == ["ALL"]
    stock = client.ApiClient().deserialize(Response(), "V1PodList")
    assert pods.to_dict() == stock.to_dict() and pods == stock


def test_a_missing_kubeconfig_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentNotReady, match=r"no kubeconfig at .*Run `make env-up`"):
        cluster.connect(tmp_path / "absent")
