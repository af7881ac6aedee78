"""`make deploy`: a Bots EDI target (targets/<name>/target.yaml, default `reference`) on the environment's cluster.

Gets the target's image (built if its inputs changed, loaded, taken from the local daemon or pulled) and loads
it into the kind node, creates the Secrets the target's manifests expect from this checkout's generated
credentials (never written to disk in the checkout), applies the target's manifests with the environment's
component and the target's test overlay (environment/manifests.py), waits until every Job is complete
and every Deployment is Ready, and then seeds what the target asks for (target.yaml `seed:`: the suite's
route read in through the web UI as a plugin).
"""
from __future__ import annotations

import copy
import functools
import re
import time
from typing import Any

import httpx
import yaml
from kubernetes import client

from edirunbook import cluster, images, paths, plugin, teamimage, tls
from edirunbook import target as targets
from edirunbook.docker import daemon
from edirunbook.environment import manifests as rendering
from edirunbook.environment.credentials import ADMIN_USER, Credentials
from edirunbook.environment.kind import KindEnvironment
from edirunbook.errors import (
    AppError,
    BuildError,
    CommandFailed,
    EnvironmentNotReady,
    StopWaiting,
    WaitTimeout,
)
from edirunbook.process import note, run, step
from edirunbook.redaction import redact
from edirunbook.target import Release, Target
from edirunbook.waiting import Observation, wait_for

CONFIG_CHANGED = re.compile(r"^(configmap/\S+) configured$", re.MULTILINE)


def app_image(docker: daemon.Docker, target: Target | None = None) -> str:
    """The target's image in the suite's Docker daemon, as a content-addressed ref (built, loaded or pulled)."""
    target = target or targets.load()
    source = target.image
    if source.how == "build":
        assert source.path is not None and source.dockerfile is not None
        return teamimage.build(docker, context=source.path, dockerfile=source.dockerfile, build_args=source.args,
                               base_images=source.base_images, name=target.name)
    if source.how == "archive":
        assert source.path is not None
        ref = f"edirunbook/target-{target.name}:" + images.content_hash(source.path)
        if not images.exists(docker, ref):
            with step(f"loading {source.path} into the Docker daemon"):
                loaded = docker.run("load", "-i", str(source.path), timeout=900).stdout
            found = re.findall(r"Loaded image(?: ID)?: (\S+)", loaded)
            if not found:
                raise BuildError(f"docker load -i {source.path} loaded no image: {loaded.strip()[:300]}")
            images.tag(docker, found[-1], ref)
        return ref
    if source.how == "pull" and not images.exists(docker, source.ref):
        with step(f"pulling {source.ref} (target {target.name} opted in to pulling)"):
            docker.run("pull", source.ref, timeout=1800)
    if not images.exists(docker, source.ref):
        raise BuildError(f"target {target.name}: the image {source.ref} is not in the suite's Docker daemon "
                         f"(DOCKER_HOST=$(make -s docker-host)): load or build it there first")
    return source.ref


def up_for(env: KindEnvironment, target: Target) -> dict[str, float]:
    """The environment up for this target: one that ran another target is replaced first, since that target's
    objects, data volume files and database tables would otherwise leak into this one's run."""
    other = env.read_state().get("target")
    if other not in (None, target.name) and env.read_state().get("cluster"):
        note(f"the environment ran target {other}: replacing it with a fresh one for target {target.name}")
        env.down()
    return env.up()


def kubectl(env: KindEnvironment, *args: str, input: str | None = None, timeout: float = 300) -> str:
    argv = [str(paths.bin_dir() / "kubectl"), "--kubeconfig", str(env.kubeconfig), *args]
    return run(argv, input=input, timeout=timeout).stdout


def secret_values(env: KindEnvironment, creds: Credentials) -> dict[str, str]:
    """What a target's `secrets:` templates may use (target.SECRET_FIELDS)."""
    db = env.config.database
    return {"db_name": db.name, "db_user": db.user, "db_password": creds.password, "db_host": db.alias,
            "db_port": "3306", "django_secret_key": creds.django_secret_key, "admin_user": ADMIN_USER,
            "admin_password": creds.admin_password}


def secret_data(env: KindEnvironment, creds: Credentials, target: Target | None = None) -> dict[str, dict[str, str]]:
    """Every Secret the target's manifests expect, with this checkout's generated values."""
    return (target or targets.load()).secret_data(secret_values(env, creds))


def apply_secret(core: client.CoreV1Api, namespace: str, name: str, data: dict[str, str]) -> None:
    metadata = client.V1ObjectMeta(name=name, labels={"app": "bots-edi"})
    cluster.put_secret(core, namespace, client.V1Secret(metadata=metadata, string_data=data, type="Opaque"))


def ensure_namespace(core: client.CoreV1Api, namespace: str) -> None:
    try:
        core.read_namespace(namespace)
    except client.ApiException as error:
        if error.status != 404:
            raise
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace,
                                                                              labels={"app": "bots-edi"})))


def replicas(manifests: str) -> dict[str, int]:
    """Each Deployment of the manifests and its replicas as shipped (1 when unset, as Kubernetes defaults)."""
    return {doc["metadata"]["name"]: int((doc.get("spec") or {}).get("replicas", 1)) for doc in _parsed(manifests)
            if doc.get("kind") == "Deployment"}


def names_of(manifests: str, kind: str) -> list[str]:
    return [doc["metadata"]["name"] for doc in _parsed(manifests) if doc.get("kind") == kind]


def deploy(env: KindEnvironment, target: Target | None = None) -> dict[str, float]:
    """Deploy the target and wait until it is up; EnvironmentNotReady (after recording what was deployed) when a Job
    fails or a Deployment does not become Ready: the target's defect, which the scenarios then show in detail."""
    target = target or targets.load()
    timings: dict[str, float] = {}
    started = time.monotonic()
    docker = daemon.connect().activate()
    ref = app_image(docker, target)
    images.tag(docker, ref, rendering.CLUSTER_IMAGE)
    timings["image"] = time.monotonic() - started
    with step(f"loading {ref} into the kind node (also as {rendering.CLUSTER_IMAGE})"):
        # the second name is what the manifests (and the runbook's own `:latest`) are mapped to
        env.kind(docker, "load", "docker-image", "--name", env.config.cluster_name, ref, rendering.CLUSTER_IMAGE)
    api = cluster.connect(env.kubeconfig)
    core = client.CoreV1Api(api)
    namespace = env.config.namespace
    ensure_namespace(core, namespace)
    creds = Credentials.load_or_create()
    for name, data in secret_data(env, creds, target).items():
        apply_secret(core, namespace, name, data)
    manifests = render(env, ref, target)
    jobs, workloads = names_of(manifests, "Job"), names_of(manifests, "Deployment")
    t0 = time.monotonic()
    with step(f"applying target {target.name} ({target.manifests_shown()}, image {ref}) on environments/"
              f"{env.config.name}"):
        for job in jobs:  # a Job's template cannot change: the new one replaces the old
            kubectl(env, "delete", "job", job, "-n", namespace, "--ignore-not-found", "--wait=true")
        applied = apply_as_shipped(env, manifests)
        changed = CONFIG_CHANGED.findall(applied)
        if changed:
            # the ConfigMaps have fixed names (the runbook edits them), so a changed one rolls nothing by itself
            note(f"{', '.join(changed)} changed: restarting {', '.join(workloads)} to read it")
            for name in workloads:
                kubectl(env, "rollout", "restart", f"deployment/{name}", "-n", namespace)
    env.write_state(app_image=ref, target=target.name, target_source=str(target.checkout), seeded=None)
    timeout = env.config.timeout("pod_ready", 180)
    for job in jobs:
        with step(f"waiting for job/{job} to complete"):
            wait_for(f"job/{job} to complete", functools.partial(job_complete, api, namespace, job), timeout=timeout)
    with step(f"waiting for {', '.join('deployment/' + w for w in workloads)} to be Ready"):
        cluster.wait_deployments_ready(api, namespace, workloads, timeout=timeout)
    timings["rollout"] = time.monotonic() - t0
    if target.seed is not None:
        t0 = time.monotonic()
        seed(env, target, creds)
        timings["seed"] = time.monotonic() - t0
    timings["total"] = time.monotonic() - started
    note("deployed: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    return timings


def web_url(env: KindEnvironment) -> str:
    """The Bots web UI as this machine reaches it: the environment's NodePort on the host."""
    return f"http://127.0.0.1:{env.config.web_port}"


def seed(env: KindEnvironment, target: Target, creds: Credentials) -> list[str]:
    """What the target's `seed:` asks for, done in its web UI once its workloads are Ready: `route-plugin`, the
    suite's route read in as a Bots plugin and activated (plugin.seed_route), as the superuser the target's
    Secrets make from {admin_user}/{admin_password}. Reading it again updates the same rows (Bots matches them
    by their keys) and activates the route again, so a second deploy seeds harmlessly. Returns what Bots said;
    EnvironmentNotReady with Bots' one-line refusal when it fails (the deployment did not come up)."""
    if target.seed is None:
        return []
    from edirunbook.report import register_secret

    register_secret(creds.admin_password)
    url = web_url(env)
    timeout = env.config.timeout("seed", 120)
    with step(f"seeding target {target.name}: the route {plugin.ROUTE_ID} read in through the web UI at {url} "
              f"as {ADMIN_USER}"):
        try:
            wait_for(f"the Bots web UI at {url} to answer", functools.partial(_answers, url), timeout=timeout)
            said = plugin.seed_route(url, ADMIN_USER, creds.admin_password, timeout=timeout)
        except (AppError, WaitTimeout) as error:  # the target's answer; a fault of the suite's own plugin is not
            cause = redact(" ".join(str(error).split()) or type(error).__name__, [creds.admin_password])
            raise EnvironmentNotReady(f"target {target.name} (seed: {target.seed}): the route {plugin.ROUTE_ID} "
                                      f"could not be installed through its web UI: {cause}") from None
    env.write_state(seeded=target.seed)  # a session that finds the deployment up knows it needs no seed
    note("seeded: " + " | ".join(said))
    return said


def _answers(url: str) -> Observation:
    """The web UI answers its login page over the NodePort (kube-proxy may lag the pods' readiness a little)."""
    try:
        response = httpx.get(url + plugin.LOGIN_PATH, timeout=5, verify=tls.httpx_default())
    except httpx.HTTPError as error:
        return Observation(False, f"{type(error).__name__}: {error}")
    return Observation(response.status_code < 500, f"GET {plugin.LOGIN_PATH}: HTTP {response.status_code}")


def rerun_jobs(env: KindEnvironment, manifests: str) -> list[str]:
    """The Jobs of the manifests run again as the deploy runs them (deleted, applied, waited for until Complete):
    the target's own way of initialising its database. Returns their names."""
    jobs = names_of(manifests, "Job")
    if not jobs:
        return []
    namespace = env.config.namespace
    for job in jobs:
        kubectl(env, "delete", "job", job, "-n", namespace, "--ignore-not-found", "--wait=true")
    apply(env, yaml.safe_dump_all([doc for doc in _parsed(manifests) if doc.get("kind") == "Job"]))
    api = cluster.connect(env.kubeconfig)
    for job in jobs:
        wait_for(f"job/{job} to complete", functools.partial(job_complete, api, namespace, job),
                 timeout=env.config.timeout("pod_ready", 180))
    return jobs


def render(env: KindEnvironment, image: str, target: Target | None = None) -> str:
    """The target's manifests as applied on this environment, with the content-hashed image."""
    return rendering.render(env.config, target or targets.load(), image)


@functools.lru_cache(maxsize=8)
def _parsed(manifests: str) -> tuple[dict[str, Any], ...]:
    return tuple(doc for doc in yaml.safe_load_all(manifests) if doc)


def documents(manifests: str) -> list[dict[str, Any]]:
    """The objects of rendered manifests (parsed once per text: the known state reads them around every scenario);
    each a copy the caller may change."""
    return copy.deepcopy(list(_parsed(manifests)))


def find_object(manifests: str, kind: str, name: str) -> dict[str, Any] | None:
    """A copy of the object `kind/name` of rendered manifests (kind in any case: `certificate`), or None."""
    for doc in _parsed(manifests):
        if str(doc.get("kind", "")).lower() == kind.lower() and doc["metadata"]["name"] == name:
            return copy.deepcopy(doc)
    return None


def missing_object_message(manifests: str, kind: str, name: str, where: str) -> str:
    """That `kind/name` is not in the manifests, and the objects of that kind that are (a generated name suffix)."""
    same_kind = [doc for doc in _parsed(manifests) if str(doc.get("kind", "")).lower() == kind.lower()]
    kind = str(same_kind[0]["kind"]) if same_kind else kind
    similar = sorted(doc["metadata"]["name"] for doc in same_kind if doc["metadata"]["name"].startswith(f"{name}-"))
    if similar:
        hint = (f" It has {', '.join(similar)}: a generated name suffix, so `kubectl ... {kind.lower()} {name}` in "
                "the runbook finds nothing. Give the generator `options: {disableNameSuffixHash: true}`.")
    elif same_kind:
        hint = f" Its {kind} objects are named {', '.join(sorted(d['metadata']['name'] for d in same_kind))}."
    else:
        hint = f" It has no {kind} at all."
    return f"The {kind} {name!r} that the runbook's procedures use does not exist under that name in {where}." + hint


def deployed_object(manifests: str, kind: str, name: str, where: str) -> dict[str, Any]:
    """The object `kind/name` of rendered manifests; AppError naming what is there instead when it is missing."""
    found = find_object(manifests, kind, name)
    if found is None:
        raise AppError(missing_object_message(manifests, kind, name, where))
    return found


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


def make_release_available(env: KindEnvironment, deployed: str, target: str, release: Release) -> str:
    """Build the target's release recipe on the deployed image, tag it `target` and load it into the node;
    returns the content-hashed ref."""
    docker = daemon.connect().activate()
    ref = images.recipe(docker, "bots-edi-release", deployed, context=release.recipe)
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
