"""The observed known state of a live namespace: what a snapshot holds, and how two are compared."""
from __future__ import annotations

from types import SimpleNamespace as O
from typing import Any

from edirunbook.gameday import state


def _template(image: str) -> O:
    return O(spec=O(containers=[O(name="webserver", image=image)]))


def _listing(*items: Any) -> O:
    return O(items=list(items))


class FakeApi:
    """The list_namespaced_* calls observe() makes, over fixed objects of namespace `edi`."""

    def __init__(self, replicas: int = 2, available: int = 2, suspend: bool = False, secret: str = "c2VjcmV0",
                 terminating: int = 0) -> None:
        self.deployment = O(metadata=O(name="bots-webserver"),
                            spec=O(replicas=replicas, paused=None, template=_template("bots:1"),
                                   selector=O(match_labels={"component": "webserver", "app": "bots-edi"})),
                            status=O(available_replicas=available))
        ready = O(conditions=[O(type="Ready", status="True")])
        self.pods = [O(metadata=O(name=f"web-{n}", deletion_timestamp=None), status=ready) for n in range(available)]
        self.pods += [O(metadata=O(name=f"old-{n}", deletion_timestamp="now"), status=ready)
                      for n in range(terminating)]
        self.cronjob = O(metadata=O(name="bots-engine"),
                         spec=O(schedule="*/5 * * * *", suspend=suspend,
                                job_template=O(spec=O(template=_template("bots:1")))))
        self.secret = secret

    def list_namespaced_deployment(self, namespace: str) -> O:
        assert namespace == "edi"
        return _listing(self.deployment)

    def list_namespaced_pod(self, namespace: str, label_selector: str) -> O:
        assert label_selector == "app=bots-edi,component=webserver"
        return _listing(*self.pods)

    def list_namespaced_stateful_set(self, namespace: str) -> O:
        return _listing()

    def list_namespaced_cron_job(self, namespace: str) -> O:
        return _listing(self.cronjob)

    def list_namespaced_config_map(self, namespace: str) -> O:
        return _listing(O(metadata=O(name="bots-config"), data={"bots.ini": "[settings]"}, binary_data=None),
                        O(metadata=O(name="kube-root-ca.crt"), data={"ca.crt": "changes per cluster"},
                          binary_data=None))

    def list_namespaced_secret(self, namespace: str) -> O:
        return _listing(O(metadata=O(name="bots-edi-secrets"), data={"DB_PASSWORD": self.secret}))

    def list_namespaced_persistent_volume_claim(self, namespace: str) -> O:
        return _listing(O(metadata=O(name="bots-edi-data-pvc"),
                          spec=O(resources=O(requests={"storage": "20Gi"}), storage_class_name="nfs")))

    def list_namespaced_network_policy(self, namespace: str) -> O:
        return _listing()

    def list_namespaced_service(self, namespace: str) -> O:
        return _listing(O(metadata=O(name="bots-webserver"), spec=O(type="ClusterIP",
                                                                   ports=[O(port=8080, protocol="TCP")])))


def _observe(api: FakeApi) -> state.Snapshot:
    return state.observe(api, api, api, api, "edi")


def test_a_snapshot_holds_what_an_operator_calls_the_deployment() -> None:
    snapshot = _observe(FakeApi())
    assert snapshot["Deployment"] == {"bots-webserver": {"replicas": 2, "images": {"webserver": "bots:1"},
                                                         "paused": False}}
    assert snapshot["CronJob"]["bots-engine"] == {"schedule": "*/5 * * * *", "suspend": False,
                                                  "images": {"webserver": "bots:1"}}
    assert set(snapshot["ConfigMap"]) == {"bots-config"}
    assert snapshot["PersistentVolumeClaim"]["bots-edi-data-pvc"] == {"storage": "20Gi", "class": "nfs"}
    assert snapshot["Service"]["bots-webserver"] == {"type": "ClusterIP", "ports": ["8080/TCP"]}


def test_a_secret_is_kept_as_its_keys_and_a_digest_never_its_value() -> None:
    snapshot = _observe(FakeApi(secret="c2VjcmV0"))
    assert snapshot["Secret"]["bots-edi-secrets"]["keys"] == ["DB_PASSWORD"]
    assert "c2VjcmV0" not in repr(snapshot)
    assert _observe(FakeApi(secret="b3RoZXI=")) != snapshot  # a changed password is a difference


def test_status_is_not_state() -> None:
    assert _observe(FakeApi(available=0)) == _observe(FakeApi(available=2))


def test_differences_name_the_object_and_what_changed() -> None:
    before, after = _observe(FakeApi()), _observe(FakeApi(replicas=0, suspend=True))
    described = [d.describe() for d in state.compare(before, after)]
    assert described == ["CronJob/bots-engine suspend False -> True",
                         "Deployment/bots-webserver replicas 2 -> 0"]


def test_objects_that_appeared_or_went_are_differences_unless_ignored() -> None:
    before = _observe(FakeApi())
    after = _observe(FakeApi())
    after["NetworkPolicy"]["edirunbook-gameday-deny-database"] = {"pods": {"app": "bots-edi"}}
    del after["Service"]["bots-webserver"]
    described = [d.describe() for d in state.compare(before, after)]
    assert described[0].startswith("NetworkPolicy/edirunbook-gameday-deny-database added")
    assert described[1].startswith("Service/bots-webserver removed")
    assert state.compare(before, after, ignore=["NetworkPolicy/edirunbook-gameday-deny-database",
                                                "Service/bots-webserver"]) == []


def test_an_unhealthy_deployment_is_named() -> None:
    api = FakeApi(available=1)
    assert state.unhealthy(api, api, "edi", ["bots-webserver", "bots-jobqueue"]) == [
        "Deployment/bots-webserver: 1 of 2 pods Ready",
        "Deployment/bots-jobqueue does not exist in namespace edi"]
    healthy = FakeApi()
    assert state.unhealthy(healthy, healthy, "edi", ["bots-webserver"]) == []


def test_pods_on_their_way_out_are_not_healthy_yet() -> None:
    """Just after a delete the Deployment's status still counts the old pods: the pods themselves are read."""
    api = FakeApi(available=2, terminating=2)
    assert state.unhealthy(api, api, "edi", ["bots-webserver"]) == [
        "Deployment/bots-webserver: 2 of 2 pods Ready, 2 terminating"]
