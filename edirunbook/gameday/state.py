"""The known state of a live cluster is observed, not imposed: what runs before a game day, recorded, compared
after every fault's rollback and at the end, and restored to exactly that.

A snapshot holds what an operator would call "the deployment": each Deployment's replicas and images, each
CronJob's schedule, suspend flag and images, each ConfigMap's content (by digest), each Secret's keys and digest
(never a value), each PersistentVolumeClaim's size and class, each NetworkPolicy and Service by name. Status
(ready replicas, pod names) is not state: a rollback restores what was asked for, and health is checked apart.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# kind -> {name -> {field -> value}}; values are plain JSON so a snapshot can be written into the report
Snapshot = dict[str, dict[str, dict[str, Any]]]


def digest(data: Mapping[str, Any] | None) -> str:
    """A short, stable digest of a mapping (a ConfigMap's or Secret's data); equal content, equal digest."""
    text = json.dumps(dict(data or {}), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _containers(template_spec: Any) -> dict[str, str]:
    spec = template_spec.spec if template_spec is not None else None
    return {c.name: c.image for c in (spec.containers if spec is not None else None) or []}


def observe(apps: Any, batch: Any, core: Any, networking: Any, namespace: str) -> Snapshot:
    """A snapshot of the namespace through the Kubernetes API (the apps/v1, batch/v1, core/v1 and networking/v1
    clients of the kubernetes package)."""
    snapshot: Snapshot = {}
    snapshot["Deployment"] = {
        d.metadata.name: {"replicas": d.spec.replicas, "images": _containers(d.spec.template),
                          "paused": bool(d.spec.paused)}
        for d in apps.list_namespaced_deployment(namespace).items}
    snapshot["StatefulSet"] = {
        s.metadata.name: {"replicas": s.spec.replicas, "images": _containers(s.spec.template)}
        for s in apps.list_namespaced_stateful_set(namespace).items}
    snapshot["CronJob"] = {
        c.metadata.name: {"schedule": c.spec.schedule, "suspend": bool(c.spec.suspend),
                          "images": _containers(c.spec.job_template.spec.template)}
        for c in batch.list_namespaced_cron_job(namespace).items}
    snapshot["ConfigMap"] = {
        m.metadata.name: {"digest": digest({**(m.data or {}), **(m.binary_data or {})})}
        for m in core.list_namespaced_config_map(namespace).items if m.metadata.name != "kube-root-ca.crt"}
    snapshot["Secret"] = {
        s.metadata.name: {"keys": sorted(s.data or {}), "digest": digest(s.data)}
        for s in core.list_namespaced_secret(namespace).items}
    snapshot["PersistentVolumeClaim"] = {
        c.metadata.name: {"storage": (c.spec.resources.requests or {}).get("storage"),
                          "class": c.spec.storage_class_name}
        for c in core.list_namespaced_persistent_volume_claim(namespace).items}
    snapshot["NetworkPolicy"] = {
        p.metadata.name: {"pods": p.spec.pod_selector.match_labels if p.spec.pod_selector else None}
        for p in networking.list_namespaced_network_policy(namespace).items}
    snapshot["Service"] = {
        s.metadata.name: {"type": s.spec.type, "ports": sorted(f"{p.port}/{p.protocol}" for p in s.spec.ports or [])}
        for s in core.list_namespaced_service(namespace).items}
    return snapshot


@dataclass(frozen=True)
class Difference:
    kind: str
    name: str
    before: Any  # None: the object did not exist before
    after: Any  # None: the object is gone

    def describe(self) -> str:
        if self.before is None:
            return f"{self.kind}/{self.name} added: {self.after}"
        if self.after is None:
            return f"{self.kind}/{self.name} removed (was {self.before})"
        changed = sorted(k for k in {*self.before, *self.after} if self.before.get(k) != self.after.get(k))
        return f"{self.kind}/{self.name} " + ", ".join(
            f"{k} {self.before.get(k)!r} -> {self.after.get(k)!r}" for k in changed)


def compare(before: Snapshot, after: Snapshot, ignore: Iterable[str] = ()) -> list[Difference]:
    """Every object whose state differs, appeared or went; `ignore` names `Kind/name` to leave out (objects a run
    makes on purpose and reports apart, e.g. a backup it keeps)."""
    skipped = set(ignore)
    found = []
    for kind in sorted({*before, *after}):
        old, new = before.get(kind, {}), after.get(kind, {})
        for name in sorted({*old, *new}):
            if f"{kind}/{name}" not in skipped and old.get(name) != new.get(name):
                found.append(Difference(kind, name, old.get(name), new.get(name)))
    return found


def unhealthy(apps: Any, core: Any, namespace: str, deployments: Iterable[str]) -> list[str]:
    """Why the deployment is not healthy: a named Deployment missing, or fewer of its pods Ready than it asks for,
    or one of its pods on its way out. The pods are read, not the Deployment's status, which lags behind a pod
    deleted a moment ago. A game day refuses to start on an unhealthy deployment (its recovery could not be told
    apart)."""
    problems = []
    found = {d.metadata.name: d for d in apps.list_namespaced_deployment(namespace).items}
    for name in deployments:
        deployment = found.get(name)
        if deployment is None:
            problems.append(f"Deployment/{name} does not exist in namespace {namespace}")
            continue
        wanted = deployment.spec.replicas or 0
        selector = ",".join(f"{k}={v}" for k, v in sorted((deployment.spec.selector.match_labels or {}).items()))
        pods = core.list_namespaced_pod(namespace, label_selector=selector).items
        leaving = [p.metadata.name for p in pods if p.metadata.deletion_timestamp is not None]
        ready = [p.metadata.name for p in pods if p.metadata.deletion_timestamp is None and _ready(p)]
        if len(ready) < wanted or leaving:
            problems.append(f"Deployment/{name}: {len(ready)} of {wanted} pods Ready"
                            + (f", {len(leaving)} terminating" if leaving else ""))
    return problems


def _ready(pod: Any) -> bool:
    return pod.status is not None and any(c.type == "Ready" and c.status == "True"
                                          for c in pod.status.conditions or [])
