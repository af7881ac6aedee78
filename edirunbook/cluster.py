"""Reading and waiting on cluster state through the Kubernetes API (the kubernetes client)."""
from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client import ApiClient

from edirunbook.errors import EnvironmentNotReady, StopWaiting
from edirunbook.waiting import Observation, wait_for

# Container states a pod does not leave by waiting: the fix is in the manifests, the image or the Secrets.
HOPELESS_WAITING = frozenset({"CreateContainerConfigError", "CreateContainerError", "ImagePullBackOff",
                              "ErrImageNeverPull", "InvalidImageName", "RunContainerError"})
# A crash loop is hopeless once it has gone round a few times (a first crash may wait for a dependency).
CRASH_LOOP_RESTARTS = 3
# Unschedulable, or a volume that cannot mount, for this long: nothing in the cluster is going to change it.
STUCK_SECONDS = 30.0


class _ModelClass:
    """A model class as the client's deserializer uses it (its type tables, `get_real_child_model`), whose objects are
    made with a given Configuration instead of a new one each."""

    def __init__(self, klass: Any, configuration: client.Configuration) -> None:
        self._klass = klass
        self._configuration = configuration

    def __getattr__(self, name: str) -> Any:
        return getattr(self._klass, name)

    def __call__(self, **kwargs: Any) -> Any:
        return self._klass(local_vars_configuration=self._configuration, **kwargs)


class SharingApiClient(ApiClient):
    """The kubernetes client's ApiClient, the objects it reads back sharing one Configuration.

    Its models (kubernetes 34.1.0) make a Configuration for every object they build, and each sets the level of two
    loggers, which clears the cache of every logger in the process: about 0.1 ms an object with the suite's few hundred
    loggers, and a pod list is thousands of objects. py-spy on a lane's pytest under `make verify` found a third of its
    CPU in reading objects back, more than half of that there. The shared one is made the same way (defaults);
    objects consult it only for client_side_validation. Hooks the client's (name-mangled) model builder:
    tests/unit/test_cluster_client.py fails when an upgrade renames it."""

    def __init__(self, configuration: client.Configuration) -> None:
        super().__init__(configuration=configuration)
        self._model_configuration = client.Configuration()

    def _ApiClient__deserialize_model(self, data: Any, klass: Any) -> Any:
        return super()._ApiClient__deserialize_model(data, _ModelClass(klass, self._model_configuration))


def connect(kubeconfig: Path, context: str | None = None) -> ApiClient:
    if not kubeconfig.exists():
        raise EnvironmentNotReady(f"no kubeconfig at {kubeconfig}: the environment is not up. Run `make env-up`.")
    try:
        configuration = type.__call__(client.Configuration)  # as config.new_client_from_config makes it
        config.load_kube_config(config_file=str(kubeconfig), context=context, client_configuration=configuration)
        return SharingApiClient(configuration)
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


def cordoned_nodes(api: ApiClient) -> list[str]:
    return sorted(n.metadata.name for n in client.CoreV1Api(api).list_node().items if n.spec.unschedulable)


def set_schedulable(api: ApiClient, schedulable: bool) -> list[str]:
    """Cordon (False) or uncordon (True) every node, as `kubectl cordon/uncordon` does; returns the nodes."""
    core = client.CoreV1Api(api)
    names = [n.metadata.name for n in core.list_node().items]
    for name in names:
        core.patch_node(name, {"spec": {"unschedulable": None if schedulable else True}})
    return names


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


def pod_blockers(pods: Sequence[client.V1Pod], events: Iterable[client.CoreV1Event] = (), *,
                 crash_loops: bool = True, restarts_seen: dict[str, int] | None = None,
                 now: datetime.datetime | None = None) -> list[str]:
    """Why these pods can never become Ready, one line each naming the pod, the reason and its message.

    Empty when waiting may still help. Hopeless: a container waiting in HOPELESS_WAITING; a container
    restarted CRASH_LOOP_RESTARTS times and not Ready (a crash loop, or liveness killing it); a pod
    Unschedulable or failing to mount a volume (a missing ConfigMap or Secret) for STUCK_SECONDS.
    `crash_loops=False` for a Job's pods: its backoffLimit ends the loop with the Job Failed, which is an
    answer, not a reason to stop waiting. `restarts_seen` (kept by the caller across one wait) counts restarts
    from when the wait first saw a container, so a pod that crashed earlier and now recovers is waited for.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    mount_failures = {e.involved_object.name: e.message for e in events
                      if e.reason == "FailedMount" and e.involved_object is not None}
    problems = []
    for pod in pods:
        name = pod.metadata.name
        statuses = [*(pod.status.init_container_statuses or []), *(pod.status.container_statuses or [])]
        for status in statuses:
            waiting = status.state.waiting if status.state else None
            if waiting is not None and waiting.reason in HOPELESS_WAITING:
                problems.append(f"pod/{name} container {status.name}: {waiting.reason}"
                                + (f": {waiting.message}" if waiting.message else ""))
            elif crash_loops and not status.ready and \
                    (restarts := _restarts(pod, status, restarts_seen)) >= CRASH_LOOP_RESTARTS:
                # a crash loop, or a liveness probe restarting a container that never became Ready
                state = waiting.reason if waiting is not None else "not Ready"
                problems.append(f"pod/{name} container {status.name}: {state} after {restarts} restarts; "
                                f"{_last_termination(status) or 'no exit recorded'}")
        scheduled = next((c for c in pod.status.conditions or [] if c.type == "PodScheduled"), None)
        if scheduled is not None and scheduled.status == "False" and scheduled.reason == "Unschedulable" \
                and _older_than(scheduled.last_transition_time, now):
            problems.append(f"pod/{name}: Unschedulable: {scheduled.message}")
        if name in mount_failures and pod.status.phase == "Pending" \
                and _older_than(pod.metadata.creation_timestamp, now):
            problems.append(f"pod/{name}: FailedMount: {mount_failures[name]}")
    return problems


def _restarts(pod: client.V1Pod, status: client.V1ContainerStatus, seen: dict[str, int] | None) -> int:
    if seen is None:
        return int(status.restart_count)
    first = seen.setdefault(f"{pod.metadata.uid or pod.metadata.name}/{status.name}", status.restart_count)
    return int(status.restart_count - first)


def _last_termination(status: client.V1ContainerStatus) -> str:
    terminated = status.last_state.terminated if status.last_state else None
    if terminated is None:
        return ""
    return f"last exit {terminated.exit_code} ({terminated.reason or 'no reason'})" + (
        f": {' | '.join(terminated.message.strip().splitlines()[-5:])}" if terminated.message else "")


def _older_than(moment: datetime.datetime | None, now: datetime.datetime) -> bool:
    return moment is not None and (now - moment).total_seconds() >= STUCK_SECONDS


def selected_pods(api: ApiClient, namespace: str, labels: dict[str, str]) -> list[client.V1Pod]:
    """The pods (not terminating) a label selector picks."""
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    return [p for p in client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=selector).items
            if p.metadata.deletion_timestamp is None]


def stop_if_hopeless(api: ApiClient, namespace: str, pods: Sequence[client.V1Pod], what: str, *,
                     crash_loops: bool = True, restarts_seen: dict[str, int] | None = None) -> None:
    """Raise StopWaiting (with the causes and the recent events) when `pods` can never become Ready."""
    if not pods:
        return
    events = client.CoreV1Api(api).list_namespaced_event(namespace).items
    problems = pod_blockers(pods, events, crash_loops=crash_loops, restarts_seen=restarts_seen)
    if problems:
        names = {p.metadata.name for p in pods}
        related = [e for e in events if e.involved_object is not None and e.involved_object.name in names]
        raise StopWaiting(f"{what} cannot succeed:\n" + "\n".join(problems)
                          + "\nrecent events of its pods:\n" + ("\n".join(_event_lines(related[-8:])) or "none"))


def _event_lines(events: Iterable[client.CoreV1Event]) -> list[str]:
    return [f"{e.type} {e.reason} {e.involved_object.kind}/{e.involved_object.name}: {e.message}" for e in events]


def ready_addresses(slices: dict[str, Any]) -> list[str]:
    """Ready endpoint addresses in an EndpointSliceList as the API serves it (JSON).

    Read raw: the kubernetes client refuses a slice whose `endpoints` is null (a Service whose selector
    matches no pod) with "Invalid value for `endpoints`, must not be `None`".
    """
    return sorted({address for item in slices.get("items") or [] for endpoint in item.get("endpoints") or []
                   if (endpoint.get("conditions") or {}).get("ready") for address in endpoint.get("addresses") or []})


def list_endpoint_slices(api: ApiClient, namespace: str, service: str) -> dict[str, Any]:
    response = client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}", _preload_content=False)
    return dict(json.loads(response.data))


def recent_events(api: ApiClient, namespace: str, limit: int = 10) -> list[str]:
    events = client.CoreV1Api(api).list_namespaced_event(namespace).items
    events.sort(key=lambda e: (e.last_timestamp or e.event_time or e.metadata.creation_timestamp))
    return _event_lines(events[-limit:])


def object_events(api: ApiClient, namespace: str, kind: str, name: str, uid: str, limit: int = 5) -> str:
    """The last events of one object, by uid (an earlier object of the same name has its own), as one line."""
    events = client.CoreV1Api(api).list_namespaced_event(
        namespace, field_selector=f"involvedObject.kind={kind},involvedObject.name={name},involvedObject.uid={uid}")
    return "; ".join(_event_lines(events.items[-limit:])) or "no events"


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
        state = deployment_state(d)
        done &= state.done
        rows.append(state.seen)
    return Observation(done, "\n".join(rows) or f"no deployments in {namespace}")


def deployment_state(d: client.V1Deployment) -> Observation:
    """Done when the deployment's controller has seen its latest spec and every replica is updated and ready."""
    want = d.spec.replicas or 0
    ready = d.status.ready_replicas or 0
    updated = d.status.updated_replicas or 0
    current = (d.status.observed_generation or 0) >= (d.metadata.generation or 0)
    ok = current and ready == want and updated == want and (d.status.replicas or 0) == want
    return Observation(ok, f"deployment/{d.metadata.name}: {ready}/{want} ready, {updated} updated")


def custom_objects(api: ApiClient, group: str, version: str, plural: str, namespace: str | None = None) \
        -> list[dict[str, Any]]:
    """Objects of a custom resource, in the namespace or cluster-wide (namespace None), sorted by name; none when the
    cluster does not have the resource (its add-on is not installed)."""
    custom = client.CustomObjectsApi(api)
    try:
        found = (custom.list_cluster_custom_object(group, version, plural) if namespace is None
                 else custom.list_namespaced_custom_object(group, version, namespace, plural))
    except client.ApiException as error:
        if error.status == 404:
            return []
        raise
    return sorted(found.get("items", []), key=lambda item: item["metadata"]["name"])


def wait_namespace_gone(api: ApiClient, namespace: str, *, timeout: float) -> float:
    """Wait until the namespace no longer exists (a deleted one stays while its objects' finalizers run)."""
    core = client.CoreV1Api(api)

    def gone() -> Observation:
        try:
            found = core.read_namespace(namespace)
        except client.ApiException as error:
            if error.status == 404:
                return Observation(True, "gone")
            raise
        conditions = [f"{c.type}: {c.message}" for c in (found.status.conditions or []) if c.status == "True"]
        return Observation(False, f"namespace {namespace} {found.status.phase}; {'; '.join(conditions) or 'deleting'}")

    return wait_for(f"namespace {namespace} to be deleted", gone, timeout=timeout)


def put_secret(core: client.CoreV1Api, namespace: str, body: client.V1Secret) -> None:
    """Create the Secret, or replace it when it exists."""
    try:
        core.replace_namespaced_secret(body.metadata.name, namespace, body)
    except client.ApiException as error:
        if error.status != 404:
            raise
        core.create_namespaced_secret(namespace, body)


def wait_deployments_ready(api: ApiClient, namespace: str, names: list[str] | None = None, *,
                           timeout: float) -> float:
    what = f"deployments {', '.join(names) if names else 'all'} in {namespace} to be Ready"
    restarts_seen: dict[str, int] = {}

    def probe() -> Observation:
        seen = deployment_summary(api, namespace, names)
        if seen.done:
            return seen
        deployments = client.AppsV1Api(api).list_namespaced_deployment(namespace).items
        pods = [pod for d in deployments if names is None or d.metadata.name in names
                for pod in selected_pods(api, namespace, d.spec.selector.match_labels or {})]
        stop_if_hopeless(api, namespace, pods, f"the rollout of {', '.join(names or ['the deployments'])}",
                         restarts_seen=restarts_seen)
        return Observation(False, f"{seen.seen}\n" + "\n".join(pod_summary(api, namespace)))

    return wait_for(what, probe, timeout=timeout)
