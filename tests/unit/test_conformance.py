"""Reading the live objects the way the conformance feature writes its expectations."""
from __future__ import annotations

from typing import Any

from edirunbook import conformance
from edirunbook.conformance import ABSENT

CRONJOB: dict[str, Any] = {
    "kind": "CronJob",
    "spec": {"schedule": "*/5 * * * *", "suspend": True, "concurrencyPolicy": "Allow",
             "jobTemplate": {"spec": {"template": {"spec": {
                 "containers": [{"name": "engine", "securityContext": {"capabilities": {"drop": ["ALL"]}},
                                 "volumeMounts": [{"name": "data", "mountPath": "/home/bots/.bots"}]}],
                 "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "bots-edi-data-pvc"}}]}}}}}}
DEPLOYMENT: dict[str, Any] = {
    "kind": "Deployment",
    "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}, "template": {"spec": {
        "containers": [{"name": "webserver", "readinessProbe": {"httpGet": {"path": "/ready"}},
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                       {"name": "sidecar", "volumeMounts": []}],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "bots-edi-data-pvc"}}]}}}}


def test_paths_walk_fields_the_pod_template_and_named_list_items() -> None:
    assert conformance.read(CRONJOB, "spec.concurrencyPolicy") == "Allow"
    assert conformance.read(CRONJOB, "pod.containers[engine].securityContext.capabilities.drop") == ["ALL"]
    assert conformance.read(DEPLOYMENT, "pod.containers[webserver].readinessProbe.httpGet.path") == "/ready"
    assert conformance.read(DEPLOYMENT, "pod.containers[missing].readinessProbe") is ABSENT
    assert conformance.read(DEPLOYMENT, "spec.strategy.rollingUpdate.maxSurge") is ABSENT


def test_a_failure_names_the_object_the_field_what_was_found_and_what_was_expected() -> None:
    objects = {"cronjob/bots-engine": CRONJOB, "deployment/bots-webserver": DEPLOYMENT}
    rows = [("cronjob/bots-engine", "spec.schedule", '"*/5 * * * *"'),
            ("cronjob/bots-engine", "spec.suspend", "false"),
            ("cronjob/bots-engine", "spec.concurrencyPolicy", "Forbid"),
            ("deployment/bots-webserver", "spec.strategy.rollingUpdate.maxUnavailable", "0"),
            ("deployment/bots-webserver", "spec.strategy.rollingUpdate.maxSurge", "1"),
            ("cronjob/bots-engine", "pod.containers[engine].securityContext.capabilities.add", "(absent)"),
            ("cronjob/bots-engine", "pod.containers[engine].securityContext.capabilities.drop", "[ALL]")]
    assert conformance.check_objects(objects.__getitem__, rows) == [
        "cronjob/bots-engine spec.suspend: found true, expected false",
        'cronjob/bots-engine spec.concurrencyPolicy: found "Allow", expected "Forbid"',
        "deployment/bots-webserver spec.strategy.rollingUpdate.maxUnavailable: found 1, expected 0",
        "deployment/bots-webserver spec.strategy.rollingUpdate.maxSurge: found (absent), expected 1"]


def test_set_means_present_and_not_empty_and_an_unquoted_cron_schedule_is_read_as_text() -> None:
    assert conformance.mismatch("x", "1", "(set)") is None
    assert conformance.mismatch("x", ABSENT, "(set)") == "x: found (absent), expected it set"
    assert conformance.mismatch("x", "", "(set)") == 'x: found "", expected it set'
    assert conformance.mismatch("x", "*/5 * * * *", "*/5 * * * *") is None


def test_every_container_must_mount_the_claim_at_the_bots_home() -> None:
    assert conformance.volume_mount_problems("cronjob/bots-engine", CRONJOB, "bots-edi-data-pvc",
                                             "/home/bots/.bots") == []
    assert conformance.volume_mount_problems("deployment/bots-webserver", DEPLOYMENT, "bots-edi-data-pvc",
                                             "/home/bots/.bots") == [
        "deployment/bots-webserver container webserver: claim bots-edi-data-pvc mounted at /data, expected "
        "/home/bots/.bots",
        "deployment/bots-webserver container sidecar: claim bots-edi-data-pvc mounted at nowhere, expected "
        "/home/bots/.bots"]
    assert conformance.volume_mount_problems("cronjob/x", {"kind": "CronJob"}, "bots-edi-data-pvc", "/d") == [
        "cronjob/x: mounts no volume of claim bots-edi-data-pvc"]
