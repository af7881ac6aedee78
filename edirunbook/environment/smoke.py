"""`make env-check`: prove the running environment works end to end, with real pods."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from edirunbook import addons, cluster, gobuild, images
from edirunbook.docker import daemon
from edirunbook.errors import RunbookSuiteError
from edirunbook.waiting import Observation, wait_for

NAMESPACE = "edirunbook-smoke"


@dataclass
class CheckResult:
    name: str
    ok: bool
    seconds: float
    detail: str


def _timed(name: str, check: Callable[[], str]) -> CheckResult:
    started = time.monotonic()
    try:
        detail = check()
        return CheckResult(name, True, time.monotonic() - started, detail)
    except (RunbookSuiteError, client.ApiException, OSError) as error:
        return CheckResult(name, False, time.monotonic() - started, str(error).strip().replace("\n", " | "))


def smoke_image(docker: daemon.Docker) -> str:
    out = gobuild.small_binary("smoke")
    ref = f"edirunbook/smoke:{out.key}"
    images.scratch_image(docker, out / "smoke", out.key, ref)  # cached by content hash inside
    return ref


def run_checks(env: Any) -> list[CheckResult]:
    from edirunbook.environment import database_env
    from edirunbook.environment.credentials import Credentials

    docker = daemon.connect().activate()
    state = env.read_state()
    api = cluster.connect(env.kubeconfig)
    core = client.CoreV1Api(api)
    def nodes_ready() -> str:
        cluster.wait_nodes_ready(api, timeout=30)
        return cluster.node_summary(api).seen

    def addons_ready() -> str:
        for addon in addons.ADDONS:
            cluster.wait_deployments_ready(api, addon.namespace, list(addon.deployments), timeout=60)
        return ", ".join(f"{a.name} {a.version}" for a in addons.ADDONS)

    results = [_timed("node Ready", nodes_ready), _timed("add-ons Ready", addons_ready)]
    db = database_env.attach(env.config, state["database_image"], Credentials.load_or_create())
    results.append(_timed("database answers SELECT 1 from the host", lambda: database_env.select_one(db)))
    smoke = smoke_image(docker)
    env.kind(docker, "load", "docker-image", "--name", env.config.cluster_name, state["database_image"], smoke)
    _fresh_namespace(core)
    try:
        results.append(_timed("pod reaches the database by name (SELECT 1)",
                              lambda: _pod_select_one(core, env, state["database_image"], db)))
        results.append(_timed("pod with an HTTP readiness probe becomes Ready",
                              lambda: _readiness_pod(core, smoke)))
    finally:
        core.delete_namespace(NAMESPACE, propagation_policy="Background")
    return results


def _fresh_namespace(core: client.CoreV1Api) -> None:
    def gone() -> Observation:
        try:
            ns = core.read_namespace(NAMESPACE)
            return Observation(False, f"namespace {NAMESPACE} is {ns.status.phase}")
        except client.ApiException as error:
            if error.status == 404:
                return Observation(True, "gone")
            raise

    if not gone().done:
        core.delete_namespace(NAMESPACE)
        wait_for(f"namespace {NAMESPACE} to be deleted", gone, timeout=120)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))


def _pod_select_one(core: client.CoreV1Api, env: Any, image: str, db: Any) -> str:
    core.create_namespaced_secret(NAMESPACE, client.V1Secret(
        metadata=client.V1ObjectMeta(name="db"), string_data={"MYSQL_PWD": db.spec.password}))
    command = ["mysql", "-h", db.network_host, "-u", db.spec.user, "-N", "-B", "-e", "SELECT 1", db.spec.database]
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="mysql-client"),
        spec=client.V1PodSpec(restart_policy="Never", containers=[client.V1Container(
            name="client", image=image, image_pull_policy="Never", command=command,
            env_from=[client.V1EnvFromSource(secret_ref=client.V1SecretEnvSource(name="db"))])]))
    core.create_namespaced_pod(NAMESPACE, pod)

    def finished() -> Observation:
        p = core.read_namespaced_pod("mysql-client", NAMESPACE)
        return Observation(p.status.phase in ("Succeeded", "Failed"), f"pod phase {p.status.phase}")

    wait_for("the MySQL client pod to finish", finished, timeout=120)
    phase = core.read_namespaced_pod("mysql-client", NAMESPACE).status.phase
    output = core.read_namespaced_pod_log("mysql-client", NAMESPACE).strip()
    if phase != "Succeeded" or output != "1":
        raise RunbookSuiteError(f"client pod {phase}, output {output!r} (expected '1')")
    return f"{' '.join(command[:3])} ... -> {output}"


def _readiness_pod(core: client.CoreV1Api, image: str) -> str:
    probe = client.V1Probe(http_get=client.V1HTTPGetAction(path="/ready", port=8080), period_seconds=1)
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="readiness"),
        spec=client.V1PodSpec(containers=[client.V1Container(
            name="web", image=image, image_pull_policy="Never", readiness_probe=probe,
            env=[client.V1EnvVar(name="READY_AFTER", value="2s")])]))
    core.create_namespaced_pod(NAMESPACE, pod)

    def ready() -> Observation:
        p = core.read_namespaced_pod("readiness", NAMESPACE)
        conditions = {c.type: c.status for c in p.status.conditions or []}
        return Observation(conditions.get("Ready") == "True", f"phase {p.status.phase}, conditions {conditions}")

    seconds = wait_for("the readiness-probe pod to become Ready", ready, timeout=120)
    return f"Ready {seconds:.1f}s after create (probe GET /ready:8080)"
