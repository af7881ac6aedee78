"""`make deploy`: the Bots EDI reference deployment on the environment's cluster.

Builds the image if its inputs changed, loads it into the kind node, creates the database Secret
from this checkout's credentials (never written to disk in the checkout), applies the overlay of
the environment with the content-hashed image, and waits until every workload is Ready.
"""
from __future__ import annotations

import copy
import functools
import re
import time
from typing import Any

import yaml
from kubernetes import client

from edirunbook import cluster, images, paths
from edirunbook.docker import daemon
from edirunbook.environment.credentials import ADMIN_USER, Credentials
from edirunbook.environment.kind import KindEnvironment
from edirunbook.errors import AppError, CommandFailed, EnvironmentNotReady, StopWaiting
from edirunbook.process import note, run, step
from edirunbook.waiting import Observation, wait_for

OVERLAY_IMAGE = "edirunbook/bots-edi:local"
# hostPath volumes of the kind overlay on the node itself (backup-pv.yaml, restored-pv.yaml), owned by the app's
# user: kubelet applies no fsGroup to hostPath volumes
NODE_DIRECTORIES = ("/var/local/edirunbook/backup", "/var/local/edirunbook/data-restored")
APP_UID = "10001"
SECRET = "bots-edidb-secret"
DB_INIT_JOB = "bots-db-init"
WORKLOADS = ["bots-webserver", "bots-jobqueue"]
CONFIG_CHANGED = re.compile(r"^(configmap/\S+) configured$", re.MULTILINE)


def app_image(docker: daemon.Docker) -> str:
    return images.recipe(docker, "bots-edi", images.debian_base(docker))


def kubectl(env: KindEnvironment, *args: str, input: str | None = None, timeout: float = 300) -> str:
    argv = [str(paths.bin_dir() / "kubectl"), "--kubeconfig", str(env.kubeconfig), *args]
    return run(argv, input=input, timeout=timeout).stdout


def secret_data(env: KindEnvironment, creds: Credentials) -> dict[str, str]:
    """The keys of secret.env.example; BOTS_ADMIN_* make the db-init Job create the web UI superuser."""
    db = env.config.database
    return {"DB_NAME": db.name, "DB_USER": db.user, "DB_PASSWORD": creds.password, "DB_HOST": db.alias,
            "DB_PORT": "3306", "DJANGO_SECRET_KEY": creds.django_secret_key,
            "BOTS_ADMIN_USER": ADMIN_USER, "BOTS_ADMIN_PASSWORD": creds.admin_password}


def apply_secret(core: client.CoreV1Api, namespace: str, data: dict[str, str]) -> None:
    body = client.V1Secret(metadata=client.V1ObjectMeta(name=SECRET, labels={"app": "bots-edi"}),
                           string_data=data, type="Opaque")
    try:
        core.replace_namespaced_secret(SECRET, namespace, body)
    except client.ApiException as error:
        if error.status != 404:
            raise
        core.create_namespaced_secret(namespace, body)


def ensure_namespace(core: client.CoreV1Api, namespace: str) -> None:
    try:
        core.read_namespace(namespace)
    except client.ApiException as error:
        if error.status != 404:
            raise
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace,
                                                                              labels={"app": "bots-edi"})))


def deploy(env: KindEnvironment) -> dict[str, float]:
    timings: dict[str, float] = {}
    started = time.monotonic()
    docker = daemon.connect().activate()
    ref = app_image(docker)
    images.tag(docker, ref, OVERLAY_IMAGE)
    timings["image"] = time.monotonic() - started
    with step(f"loading {ref} into the kind node (also as {OVERLAY_IMAGE})"):
        # the second name is what the runbook's own manifests (the backup CronJob's `:latest`) are mapped to
        env.kind(docker, "load", "docker-image", "--name", env.config.cluster_name, ref, OVERLAY_IMAGE)
    for directory in NODE_DIRECTORIES:
        docker.run("exec", env.node_container(), "install", "-d", "-o", APP_UID, "-g", APP_UID, directory)
    api = cluster.connect(env.kubeconfig)
    core = client.CoreV1Api(api)
    namespace = env.config.namespace
    ensure_namespace(core, namespace)
    apply_secret(core, namespace, secret_data(env, Credentials.load_or_create()))
    manifests = render(env, ref)
    t0 = time.monotonic()
    with step(f"applying environments/{env.config.name} (image {ref})"):
        kubectl(env, "delete", "job", DB_INIT_JOB, "-n", namespace, "--ignore-not-found", "--wait=true")
        applied = apply_as_shipped(env, manifests)
        changed = CONFIG_CHANGED.findall(applied)
        if changed:
            # the ConfigMaps have fixed names (the runbook edits them), so a changed one rolls nothing by itself
            note(f"{', '.join(changed)} changed: restarting {', '.join(WORKLOADS)} to read it")
            for name in WORKLOADS:
                kubectl(env, "rollout", "restart", f"deployment/{name}", "-n", namespace)
    timeout = env.config.timeout("pod_ready", 180)
    with step(f"waiting for job/{DB_INIT_JOB} to complete"):
        wait_for(f"job/{DB_INIT_JOB} to complete", lambda: job_complete(api, namespace, DB_INIT_JOB),
                 timeout=timeout)
    with step(f"waiting for {', '.join('deployment/' + w for w in WORKLOADS)} to be Ready"):
        cluster.wait_deployments_ready(api, namespace, WORKLOADS, timeout=timeout)
    timings["rollout"] = time.monotonic() - t0
    timings["total"] = time.monotonic() - started
    env.write_state(app_image=ref)
    note("deployed: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    return timings


def render(env: KindEnvironment, image: str) -> str:
    """The environment's manifests as applied: the overlay with the content-hashed image."""
    return kubectl(env, "kustomize", str(env.config.directory)).replace(OVERLAY_IMAGE, image)


@functools.lru_cache(maxsize=8)
def _parsed(manifests: str) -> tuple[dict[str, Any], ...]:
    return tuple(doc for doc in yaml.safe_load_all(manifests) if doc)


def documents(manifests: str) -> list[dict[str, Any]]:
    """The objects of rendered manifests (parsed once per text: the known state reads them around every scenario);
    each a copy the caller may change."""
    return copy.deepcopy(list(_parsed(manifests)))


def deployed_object(manifests: str, kind: str, name: str, where: str) -> dict[str, Any]:
    """The object `kind/name` of rendered manifests; AppError naming what is there instead when it is missing."""
    docs = _parsed(manifests)
    for doc in docs:
        if doc.get("kind") == kind and doc["metadata"]["name"] == name:
            return copy.deepcopy(doc)
    similar = sorted(doc["metadata"]["name"] for doc in docs
                     if doc.get("kind") == kind and doc["metadata"]["name"].startswith(f"{name}-"))
    hint = (f" It has {', '.join(similar)}: a generated name suffix, so `kubectl ... {kind.lower()} {name}` in the "
            "runbook finds nothing. Give the generator `options: {disableNameSuffixHash: true}`.") if similar else ""
    raise AppError(f"The {kind} {name!r} that the runbook's procedures use does not exist under that name in {where}."
                   + hint)


def apply_as_shipped(env: KindEnvironment, manifests: str) -> str:
    """Apply the manifests, and put back what `kubectl apply` leaves as an earlier run changed it.

    The known state suspends the engine CronJob through the API; apply keeps a field its manifest does not
    name, so a CronJob shipped without `suspend` would stay suspended. Here it gets the manifest's value.
    """
    output = apply(env, manifests)
    batch = client.BatchV1Api(cluster.connect(env.kubeconfig))
    for doc in _parsed(manifests):
        if doc.get("kind") == "CronJob":
            suspend = bool((doc.get("spec") or {}).get("suspend", False))
            batch.patch_namespaced_cron_job(doc["metadata"]["name"], doc["metadata"].get("namespace")
                                            or env.config.namespace, {"spec": {"suspend": suspend}})
    return output


def apply(env: KindEnvironment, manifests: str) -> str:
    """kubectl apply; returns its output (one line per object: created, configured or unchanged)."""
    try:
        return kubectl(env, "apply", "-f", "-", input=manifests)
    except CommandFailed as error:
        raise EnvironmentNotReady(f"kubectl apply of environments/{env.config.name} failed:\n{error}") from None


def make_release_available(env: KindEnvironment, deployed: str, target: str) -> str:
    """Build images/bots-edi-release on the deployed image (a release that changes what the engine does), tag
    it `target` and load it into the node; returns the content-hashed ref."""
    docker = daemon.connect().activate()
    ref = images.recipe(docker, "bots-edi-release", deployed)
    images.tag(docker, ref, target)
    env.kind(docker, "load", "docker-image", "--name", env.config.cluster_name, target)
    return ref


def job_complete(api: Any, namespace: str, name: str) -> Observation:
    batch = client.BatchV1Api(api)
    job = batch.read_namespaced_job(name, namespace)
    conditions = {c.type: c.status for c in job.status.conditions or []}
    if conditions.get("Failed") == "True":
        logs = ""
        pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
        if pods:
            logs = client.CoreV1Api(api).read_namespaced_pod_log(pods[-1].metadata.name, namespace, tail_lines=20)
        raise StopWaiting(f"job/{name} failed; last log lines of its pod:\n{logs}")
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
    cluster.stop_if_hopeless(api, namespace, pods, f"job/{name}", crash_loops=False)
    seen = (f"job/{name}: succeeded {job.status.succeeded or 0}, failed {job.status.failed or 0}, "
            f"active {job.status.active or 0}")
    return Observation(conditions.get("Complete") == "True", seen)
