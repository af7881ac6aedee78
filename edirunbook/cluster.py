"""Reading and waiting on cluster state through the Kubernetes API (the kubernetes client)."""
from __future__ import annotations

from pathlib import Path

from kubernetes import client, config
from kubernetes.client import ApiClient

from edirunbook.errors import EnvironmentNotReady
from edirunbook.waiting import Observation, wait_for


def connect(kubeconfig: Path, context: str | None = None) -> ApiClient:
    if not kubeconfig.exists():
        raise EnvironmentNotReady(f"no kubeconfig at {kubeconfig}: the environment is not up. Run `make env-up`.")
    try:
        return config.new_client_from_config(config_file=str(kubeconfig), context=context)
    except config.ConfigException as error:
        raise EnvironmentNotReady(f"kubeconfig {kubeconfig} is not usable: {error}. Check the file or run "
                                  "`make env-up` again.") from None


def node_summary(api: ApiClient) -> Observation:
    nodes = client.CoreV1Api(api).list_node().items
    rows = []
    ready_all = bool(nodes)
    for node in nodes:
        conditions = {c.type: c.status for c in node.status.conditions or []}
        ready = conditions.get("Ready") == "True"
        ready_all &= ready
        rows.append(f"{node.metadata.name}: Ready={conditions.get('Ready', 'Unknown')}")
    return Observation(ready_all, "\n".join(rows) or "no nodes registered")


def wait_nodes_ready(api: ApiClient, timeout: float) -> float:
    return wait_for("every node Ready", lambda: node_summary(api), timeout=timeout)


def pod_summary(api: ApiClient, namespace: str, selector: str = "") -> list[str]:
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=selector).items
    rows = []
    for pod in pods:
        statuses = pod.status.container_statuses or []
        ready = sum(1 for s in statuses if s.ready)
        restarts = sum(s.restart_count for s in statuses)
        waiting = [s.state.waiting.reason for s in statuses if s.state and s.state.waiting]
        rows.append(f"{pod.metadata.name}: {pod.status.phase} ready {ready}/{len(statuses)} restarts {restarts}"
                    + (f" ({', '.join(waiting)})" if waiting else ""))
    return rows


def recent_events(api: ApiClient, namespace: str, limit: int = 10) -> list[str]:
    events = client.CoreV1Api(api).list_namespaced_event(namespace).items
    events.sort(key=lambda e: (e.last_timestamp or e.event_time or e.metadata.creation_timestamp))
    return [f"{e.type} {e.reason} {e.involved_object.kind}/{e.involved_object.name}: {e.message}"
            for e in events[-limit:]]


def deployment_summary(api: ApiClient, namespace: str, names: list[str] | None = None) -> Observation:
    """Done when every named deployment (all in the namespace if None) has all replicas updated and ready."""
    items = client.AppsV1Api(api).list_namespaced_deployment(namespace).items
    if names is not None:
        items = [d for d in items if d.metadata.name in names]
        missing = set(names) - {d.metadata.name for d in items}
        if missing:
            return Observation(False, f"deployments not found yet: {', '.join(sorted(missing))}")
    rows, done = [], bool(items)
    for d in items:
        want = d.spec.replicas or 0
        ready = d.status.ready_replicas or 0
        updated = d.status.updated_replicas or 0
        current = (d.status.observed_generation or 0) >= (d.metadata.generation or 0)
        ok = current and ready == want and updated == want and (d.status.replicas or 0) == want
        done &= ok
        rows.append(f"deployment/{d.metadata.name}: {ready}/{want} ready, {updated} updated")
    return Observation(done, "\n".join(rows) or f"no deployments in {namespace}")


def wait_deployments_ready(api: ApiClient, namespace: str, names: list[str] | None = None, *,
                           timeout: float) -> float:
    what = f"deployments {', '.join(names) if names else 'all'} in {namespace} to be Ready"

    def probe() -> Observation:
        seen = deployment_summary(api, namespace, names)
        if seen.done:
            return seen
        pods = "\n".join(pod_summary(api, namespace))
        return Observation(False, f"{seen.seen}\n{pods}")

    return wait_for(what, probe, timeout=timeout)
