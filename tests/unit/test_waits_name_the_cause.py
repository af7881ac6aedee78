"""Waits on a deployment that cannot succeed stop early and say why; broken states become messages."""
from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from kubernetes import client

from edirunbook import cluster
from edirunbook.environment.deploy import deployed_object
from edirunbook.errors import AppError

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
LONG_AGO = NOW - datetime.timedelta(minutes=2)
JUST_NOW = NOW - datetime.timedelta(seconds=5)


def pod(name: str = "web-1", *, waiting: tuple[str, str] | None = None, restarts: int = 0, phase: str = "Pending",
        conditions: list[client.V1PodCondition] | None = None, created: datetime.datetime = LONG_AGO,
        last_exit: client.V1ContainerStateTerminated | None = None) -> client.V1Pod:
    state = client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason=waiting[0], message=waiting[1])
                                    if waiting else None)
    status = client.V1ContainerStatus(name="webserver", image="bots-edi:1", image_id="", ready=False,
                                      restart_count=restarts, state=state,
                                      last_state=client.V1ContainerState(terminated=last_exit))
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, creation_timestamp=created),
                        status=client.V1PodStatus(phase=phase, container_statuses=[status], conditions=conditions))


def event(pod_name: str, reason: str, message: str) -> client.CoreV1Event:
    return client.CoreV1Event(metadata=client.V1ObjectMeta(name="e"), reason=reason, message=message, type="Warning",
                              involved_object=client.V1ObjectReference(kind="Pod", name=pod_name))


def test_a_missing_secret_key_stops_the_wait_with_the_pods_reason_and_message() -> None:
    stuck = pod(waiting=("CreateContainerConfigError", 'secret "bots-edidb-secret" not found'))
    assert cluster.pod_blockers([stuck], now=NOW) == [
        'pod/web-1 container webserver: CreateContainerConfigError: secret "bots-edidb-secret" not found']


def test_an_image_that_cannot_be_pulled_stops_the_wait() -> None:
    stuck = pod(waiting=("ImagePullBackOff", 'Back-off pulling image "bots-edi:typo"'))
    assert cluster.pod_blockers([stuck], now=NOW) == [
        'pod/web-1 container webserver: ImagePullBackOff: Back-off pulling image "bots-edi:typo"']


def test_a_crash_loop_is_hopeless_after_a_few_restarts_and_shows_the_last_exit() -> None:
    exit_1 = client.V1ContainerStateTerminated(exit_code=1, reason="Error", message="DB_HOST is not set\n")
    first = pod(waiting=("CrashLoopBackOff", ""), restarts=1, phase="Running", last_exit=exit_1)
    looping = pod(waiting=("CrashLoopBackOff", ""), restarts=3, phase="Running", last_exit=exit_1)
    assert cluster.pod_blockers([first], now=NOW) == []
    assert cluster.pod_blockers([looping], now=NOW) == [
        "pod/web-1 container webserver: CrashLoopBackOff after 3 restarts; last exit 1 (Error): DB_HOST is not set"]
    assert cluster.pod_blockers([looping], now=NOW, crash_loops=False) == []  # a Job's backoffLimit ends it


def test_a_container_liveness_keeps_restarting_without_ever_being_ready_is_hopeless() -> None:
    killed = client.V1ContainerStateTerminated(exit_code=137, reason="Error")
    restarted = pod(restarts=3, phase="Running", last_exit=killed)  # running again, not waiting, not Ready
    assert cluster.pod_blockers([restarted], now=NOW) == [
        "pod/web-1 container webserver: not Ready after 3 restarts; last exit 137 (Error)"]


def test_restarts_count_from_when_the_wait_first_saw_the_container() -> None:
    seen: dict[str, int] = {}
    assert cluster.pod_blockers([pod(restarts=5, phase="Running")], restarts_seen=seen, now=NOW) == []  # recovering
    assert cluster.pod_blockers([pod(restarts=7, phase="Running")], restarts_seen=seen, now=NOW) == []
    assert cluster.pod_blockers([pod(restarts=8, phase="Running")], restarts_seen=seen, now=NOW) == [
        "pod/web-1 container webserver: not Ready after 3 restarts; no exit recorded"]


def test_unschedulable_counts_only_once_it_lasts() -> None:
    def unschedulable(since: datetime.datetime) -> client.V1Pod:
        condition = client.V1PodCondition(type="PodScheduled", status="False", reason="Unschedulable",
                                          message="0/1 nodes are available: 1 Insufficient memory.",
                                          last_transition_time=since)
        return pod(conditions=[condition])

    assert cluster.pod_blockers([unschedulable(JUST_NOW)], now=NOW) == []
    assert cluster.pod_blockers([unschedulable(LONG_AGO)], now=NOW) == [
        "pod/web-1: Unschedulable: 0/1 nodes are available: 1 Insufficient memory."]


def test_a_volume_that_cannot_mount_is_named_from_the_events() -> None:
    creating = pod(waiting=("ContainerCreating", ""))
    events = [event("web-1", "FailedMount", 'MountVolume.SetUp failed for volume "config" : configmap '
                    '"bots-config-ini" not found'), event("other", "FailedMount", "not ours")]
    assert cluster.pod_blockers([creating], events, now=NOW) == [
        'pod/web-1: FailedMount: MountVolume.SetUp failed for volume "config" : configmap "bots-config-ini" '
        "not found"]
    assert cluster.pod_blockers([pod(waiting=("ContainerCreating", ""), created=JUST_NOW)], events, now=NOW) == []


def test_pods_that_are_only_starting_are_waited_for() -> None:
    assert cluster.pod_blockers([pod(waiting=("ContainerCreating", "")), pod(phase="Running")], now=NOW) == []


def slices(*endpoints: Any) -> dict[str, Any]:
    return json.loads(json.dumps({"kind": "EndpointSliceList", "items": [
        {"metadata": {"name": "bots-webserver-abc"}, "addressType": "IPv4", "endpoints": list(e) if e else None}
        for e in endpoints]}))


def test_an_endpoint_slice_without_endpoints_means_none_ready_not_a_crash() -> None:
    assert cluster.ready_addresses(slices(None)) == []  # a Service whose selector matches no pod
    ready = {"addresses": ["10.244.0.7"], "conditions": {"ready": True}}
    not_ready = {"addresses": ["10.244.0.8"], "conditions": {"ready": False}}
    assert cluster.ready_addresses(slices([ready, not_ready], None)) == ["10.244.0.7"]


MANIFESTS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: bots-config-ini-5g7k2m9t8b}
data: {bots.ini: "[settings]"}
---
apiVersion: v1
kind: Service
metadata: {name: bots-webserver}
"""


def test_a_configmap_with_a_generated_suffix_is_named_as_a_deployment_defect() -> None:
    with pytest.raises(AppError) as error:
        deployed_object(MANIFESTS, "ConfigMap", "bots-config-ini", "environments/kind")
    message = str(error.value)
    assert "The ConfigMap 'bots-config-ini' that the runbook's procedures use does not exist" in message
    assert "bots-config-ini-5g7k2m9t8b: a generated name suffix" in message
    assert "disableNameSuffixHash" in message
    assert deployed_object(MANIFESTS, "Service", "bots-webserver", "here")["kind"] == "Service"


class _ReplicaSets:
    def __init__(self, sets: list[client.V1ReplicaSet]) -> None:
        self.sets = sets

    def list_namespaced_replica_set(self, namespace: str, label_selector: str) -> client.V1ReplicaSetList:
        return client.V1ReplicaSetList(items=self.sets)


def _replica_set(template_hash: str, revision: str, owner: str = "dep-uid") -> client.V1ReplicaSet:
    return client.V1ReplicaSet(metadata=client.V1ObjectMeta(
        labels={"pod-template-hash": template_hash}, annotations={"deployment.kubernetes.io/revision": revision},
        owner_references=[client.V1OwnerReference(api_version="apps/v1", kind="Deployment", name="web", uid=owner)]))


def _deployment(revision: str, generation: int, observed: int) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(uid="dep-uid", generation=generation,
                                     annotations={"deployment.kubernetes.io/revision": revision}),
        spec=client.V1DeploymentSpec(selector=client.V1LabelSelector(match_labels={"component": "webserver"}),
                                     template=client.V1PodTemplateSpec()),
        status=client.V1DeploymentStatus(observed_generation=observed))


def test_only_the_current_revisions_pods_can_make_a_deployment_wait_hopeless(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from edirunbook.app import Bots
    bots = Bots(api=None, namespace="edi", kubectl=None, kubeconfig=None, web_url="")  # type: ignore[arg-type]
    sets = _ReplicaSets([_replica_set("old", "3"), _replica_set("broken", "2"), _replica_set("other", "3", "x")])
    monkeypatch.setattr(Bots, "apps", property(lambda self: sets))
    assert bots.current_template_hash(_deployment("3", generation=4, observed=4)) == "old"
    # `rollout undo` changed the spec; until the controller sees it, the revision annotation is the broken one's
    assert bots.current_template_hash(_deployment("2", generation=5, observed=4)) is None


def test_an_engine_run_that_translated_nothing_says_what_its_log_says() -> None:
    from edirunbook.app import engine_summary

    log = ("INFO     Connected to database.\n"
           "INFO     Run active routes from database that are in default run: \"[]\".\n"
           "INFO     Bots Report; type: new\n    0 files received/processed in run.\n")
    assert engine_summary(log) == ('INFO Run active routes from database that are in default run: "[]". | '
                                   "0 files received/processed in run.")
    assert engine_summary("INFO a\nINFO b") == "(nothing about routes or files: INFO a | INFO b)"
