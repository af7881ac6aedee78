"""The Bots EDI deployment as the scenarios see it: workloads, pods, endpoints, health, engine runs.

Reads go through the Kubernetes API; in-pod commands go through the pinned kubectl (the same path an
operator's commands take). Every wait has a timeout and reports what it last saw.
"""
from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client
from kubernetes.client import ApiClient

from edirunbook import cluster, paths, tls
from edirunbook.errors import AppError, RunbookSuiteError
from edirunbook.ingress import Site
from edirunbook.plugin import ROUTE_ID
from edirunbook.target import AppPaths
from edirunbook.waiting import Observation, hold_for, wait_for

WEBSERVER = "bots-webserver"
JOBQUEUE = "bots-jobqueue"
ENGINE_CRONJOB = "bots-engine"
# The Bots home as the runbook's commands name it: production's literal path, which they run as written. Where a
# target's Bots really keeps its files is Bots.paths (target.yaml `app:`).
BOTS_HOME = "/home/bots/.bots"
# The route the scenarios drive (edirunbook/plugin.py; the reference's image seeds it itself)
ROUTE = ROUTE_ID
# The suite's sample EDI files: sent into the pods as files arrive in production (any target's image lacks them).
SAMPLES = paths.IMAGES_DIR / "bots-edi" / "samples"
# A Job the CronJob controller made: <cronjob>-<scheduled time in minutes since the epoch>.
SCHEDULED_JOB = re.compile(rf"{ENGINE_CRONJOB}-\d+")
# a write into the webserver pod whose exec output was lost is sent this many times in all (Bots.write_web)
WRITE_ATTEMPTS = 3
# The long-running components the runbook operates on, as `kind/name`.
WORKLOADS = (f"deployment/{WEBSERVER}", f"deployment/{JOBQUEUE}", f"cronjob/{ENGINE_CRONJOB}")


_ENGINE_NEWS = re.compile(r"route|received|error|not found|no such|charset|denied|exception", re.IGNORECASE)


def engine_summary(log: str, lines: int = 4) -> str:
    """The lines of an engine run's log that say what it did with the files (routes run, files received, errors),
    in one line: what a failed engine step shows first."""
    news = [" ".join(line.split()) for line in log.splitlines() if _ENGINE_NEWS.search(line)]
    last = " | ".join(log.strip().splitlines()[-2:])
    return " | ".join(news[-lines:]) or f"(nothing about routes or files: {last})"


@dataclass
class Bots:
    api: ApiClient
    namespace: str
    kubectl: Path
    kubeconfig: Path
    web_url: str
    baseline_replicas: Mapping[str, int] = field(default_factory=lambda: {WEBSERVER: 2, JOBQUEUE: 1})
    paths: AppPaths = field(default_factory=AppPaths)  # where this target's Bots keeps its files
    site: Site | None = None  # the runbook's https://bots-edi.pminc.me through the cluster's ingress

    @property
    def inbound_dir(self) -> str:
        """The route's inbound directory, where the engine reads the files dropped for it."""
        return self.paths.infile(ROUTE)

    @property
    def outbound_dir(self) -> str:
        """The route's outbound directory, where the engine writes the translated orders."""
        return self.paths.outfile(ROUTE)

    # ---- API reads --------------------------------------------------------------------------
    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api)

    def pods(self, selector: str, *, terminating: bool = False) -> list[client.V1Pod]:
        return [p for p in self.core.list_namespaced_pod(self.namespace, label_selector=selector).items
                if terminating or p.metadata.deletion_timestamp is None]

    def deployment_pods(self, name: str, *, terminating: bool = False) -> list[client.V1Pod]:
        return self.pods_of(self.apps.read_namespaced_deployment(name, self.namespace), terminating=terminating)

    def pods_of(self, dep: client.V1Deployment, *, terminating: bool = False) -> list[client.V1Pod]:
        selector = dep.spec.selector.match_labels
        return self.pods(",".join(f"{k}={v}" for k, v in selector.items()), terminating=terminating)

    def pod_uids(self, deployment: str) -> set[str]:
        return {p.metadata.uid for p in self.deployment_pods(deployment)}

    def restart_counts(self, selector: str = "app=bots-edi") -> dict[str, int]:
        return self.restart_counts_of([p for p in self.pods(selector) if p.status.phase == "Running"])

    @staticmethod
    def restart_counts_of(pods: list[client.V1Pod]) -> dict[str, int]:
        return {p.metadata.name: sum(s.restart_count for s in p.status.container_statuses or []) for p in pods}

    def ready_endpoints(self, service: str) -> list[str]:
        return cluster.ready_addresses(cluster.list_endpoint_slices(self.api, self.namespace, service))

    def service_selects_no_pod(self, service: str) -> str | None:
        """Why the Service can have no endpoint at all (its selector matches no pod), or None."""
        selector = self.core.read_namespaced_service(service, self.namespace).spec.selector or {}
        if not selector:
            return f"service/{service} has no selector, so Kubernetes gives it no endpoints"
        if cluster.selected_pods(self.api, self.namespace, selector):
            return None
        labels = ",".join(f"{k}={v}" for k, v in selector.items())
        return f"no pod matches the selector of service/{service} ({labels})"

    def probe_paths(self, deployment: str) -> dict[str, str]:
        """HTTP paths of the first container's startup, readiness and liveness probes."""
        container = self.apps.read_namespaced_deployment(deployment, self.namespace).spec.template.spec.containers[0]
        paths = {}
        for kind in ("startup", "readiness", "liveness"):
            probe = getattr(container, f"{kind}_probe")
            if probe is not None and probe.http_get is not None:
                paths[kind] = probe.http_get.path
        return paths

    def live_object(self, ref: str) -> dict[str, Any]:
        """The object `kind/name` in the namespace as the API serves it (`kubectl get -o json`'s field names)."""
        kind, _, name = ref.partition("/")
        readers = {"deployment": ("Deployment", self.apps.read_namespaced_deployment),
                   "cronjob": ("CronJob", self.batch.read_namespaced_cron_job),
                   "job": ("Job", self.batch.read_namespaced_job),
                   "service": ("Service", self.core.read_namespaced_service),
                   "persistentvolumeclaim": ("PersistentVolumeClaim",
                                             self.core.read_namespaced_persistent_volume_claim)}
        if kind.lower() not in readers or not name:
            raise AppError(f"{ref!r} is not an object this suite reads: write kind/name with kind one of "
                           f"{', '.join(readers)}")
        kind_name, reader = readers[kind.lower()]
        try:
            obj = dict(self.api.sanitize_for_serialization(reader(name, self.namespace)))
        except client.ApiException as error:
            if error.status == 404:
                raise AppError(f"{ref} does not exist in namespace {self.namespace}") from None
            raise
        obj["kind"] = kind_name
        return obj

    def kubectl_json(self, kind: str, name: str = "") -> dict[str, Any]:
        """`kubectl get <kind> [name] -n <namespace> -o json`, parsed: for kinds the typed client has no reader
        for (cert-manager's Certificates), or a whole list (`items`)."""
        return dict(json.loads(self.kubectl_run("get", kind, *([name] if name else []), "-n", self.namespace,
                                                "-o", "json")))

    def workload_images(self) -> dict[str, list[str]]:
        """The images each Bots EDI workload's pod template runs: deployment/<name> and cronjob/bots-engine."""
        found = {f"deployment/{name}": [c.image for c in self.apps.read_namespaced_deployment(
            name, self.namespace).spec.template.spec.containers] for name in self.baseline_replicas}
        found[f"cronjob/{ENGINE_CRONJOB}"] = [c.image for c in self.batch.read_namespaced_cron_job(
            ENGINE_CRONJOB, self.namespace).spec.job_template.spec.template.spec.containers]
        return found

    def diagnostics(self) -> str:
        pods = "\n".join(cluster.pod_summary(self.api, self.namespace))
        events = "\n".join(cluster.recent_events(self.api, self.namespace, limit=8))
        return f"pods:\n{pods}\nrecent events:\n{events}"

    # ---- waits ------------------------------------------------------------------------------
    def wait_deployment(self, name: str, replicas: int | None = None, *, timeout: float = 180) -> float:
        restarts_seen: dict[str, int] = {}

        def probe() -> Observation:
            # two requests a poll (the deployment, its pods): a wait polls every half second, and each object the
            # Python client reads back costs CPU the lanes share
            dep = self.apps.read_namespaced_deployment(name, self.namespace)
            want = dep.spec.replicas if replicas is None else replicas
            state = cluster.deployment_state(dep)
            pods = self.pods_of(dep, terminating=True)
            ready = [p for p in pods if _pod_ready(p) and p.metadata.deletion_timestamp is None]
            gone = len(pods) - len([p for p in pods if p.metadata.deletion_timestamp is None])
            done = state.done and dep.spec.replicas == want and len(pods) == want == len(ready)
            if not done:
                # only pods of the current template can make the wait hopeless: a rolled-back template's pods are
                # being removed (a `rollout undo` away from an image that cannot be pulled)
                current = self.current_template_hash(dep)
                cluster.stop_if_hopeless(self.api, self.namespace, [
                    p for p in pods if p not in ready and p.metadata.deletion_timestamp is None
                    and current is not None and (p.metadata.labels or {}).get("pod-template-hash") == current],
                    f"deployment/{name}", restarts_seen=restarts_seen)
            return Observation(done, f"{state.seen}; {len(pods)} pods ({gone} terminating), {len(ready)} Ready, "
                               f"want {want}")

        try:
            return wait_for(f"deployment/{name} to have its pods Ready", probe, timeout=timeout)
        except RunbookSuiteError as error:
            raise AppError(f"{error}\n{self.diagnostics()}") from None

    def current_template_hash(self, dep: client.V1Deployment) -> str | None:
        """The pod-template-hash of the ReplicaSet of the Deployment's current revision; None until the controller
        has seen the Deployment's latest change (its revision annotation is the old one till then) and made it."""
        if (dep.status.observed_generation or 0) < (dep.metadata.generation or 0):
            return None
        revision = (dep.metadata.annotations or {}).get("deployment.kubernetes.io/revision")
        selector = ",".join(f"{k}={v}" for k, v in dep.spec.selector.match_labels.items())
        for rs in self.apps.list_namespaced_replica_set(self.namespace, label_selector=selector).items:
            owners = [o.uid for o in rs.metadata.owner_references or []]
            if dep.metadata.uid in owners and revision is not None \
                    and (rs.metadata.annotations or {}).get("deployment.kubernetes.io/revision") == revision:
                return (rs.metadata.labels or {}).get("pod-template-hash")
        return None

    def wait_settled(self, name: str, *, seconds: float) -> None:
        """The Deployment's pods stay all Ready, with no container restart, for `seconds`."""
        first = self.restart_counts_of(self.deployment_pods(name))
        want = self.apps.read_namespaced_deployment(name, self.namespace).spec.replicas

        def probe() -> Observation:
            pods = self.deployment_pods(name)
            restarts = self.restart_counts_of(pods)
            unready = [p.metadata.name for p in pods if not _pod_ready(p)]
            restarted = [f"{pod} ({first.get(pod, 0)} -> {count})" for pod, count in restarts.items()
                         if count > first.get(pod, 0)]
            seen = f"{len(pods)} pods (want {want}); not Ready: {', '.join(unready) or 'none'}; restarted: " \
                   f"{', '.join(restarted) or 'none'}"
            return Observation(len(pods) == want and not unready and not restarted, seen)

        try:
            hold_for(f"deployment/{name} Ready without restarts", probe, seconds=seconds)
        except RunbookSuiteError as error:
            raise AppError(f"{error}\n{self.diagnostics()}") from None

    def wait_endpoints(self, service: str, count: int, *, timeout: float = 120, settle: float = 0) -> float:
        """Wait until the Service has `count` ready endpoints, kept for `settle` seconds (a kubelet that has just
        started marks its pods not Ready until their probes pass again: the count it had may drop once)."""
        since: list[float] = []

        def probe() -> Observation:
            ready = self.ready_endpoints(service)
            seen = f"{len(ready)} ready endpoints: {', '.join(ready) or 'none'}"
            if count > 0 and not ready:
                seen += "; " + (self.service_selects_no_pod(service) or "its pods are not Ready")
            if len(ready) != count:
                since.clear()
            elif not since:
                since.append(time.monotonic())
            held = time.monotonic() - since[0] if since else 0.0
            if settle:
                seen += f" (held {held:.0f}s of {settle:.0f}s)"
            return Observation(len(ready) == count and held >= settle, seen)

        return wait_for(f"service/{service} to have {count} ready endpoints", probe, timeout=timeout)

    # ---- operator actions outside the runbook text ---------------------------------------------
    def kubectl_run(self, *args: str, input: str | None = None, timeout: float = 120) -> str:
        proc = subprocess.run([str(self.kubectl), "--kubeconfig", str(self.kubeconfig), "-n", self.namespace, *args],
                              input=input, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise AppError(f"kubectl {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc.stdout

    def exec_web(self, command: str, timeout: float = 120) -> str:
        return self.kubectl_run("exec", f"deployment/{WEBSERVER}", "-c", "webserver", "--", "sh", "-c", command,
                                timeout=timeout)

    def scale(self, name: str, replicas: int) -> None:
        self.apps.patch_namespaced_deployment_scale(name, self.namespace, {"spec": {"replicas": replicas}})

    def rollout_restart(self, name: str) -> None:
        """What `kubectl rollout restart` does: a new pod-template annotation."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
        self.apps.patch_namespaced_deployment(name, self.namespace, patch)

    def suspend_engine(self, suspended: bool = True) -> None:
        self.batch.patch_namespaced_cron_job(ENGINE_CRONJOB, self.namespace, {"spec": {"suspend": suspended}})

    def sample(self, name: str) -> str:
        """The text of one of the suite's sample files."""
        return (SAMPLES / name).read_text(encoding="utf-8")

    def write_web(self, path: str, content: str) -> str:
        """Write a file in the webserver pod (its directory made first), as a transfer into the inbound dir does;
        the shell's output (`exit=N` and any error) is returned, not raised, for steps that expect a failure.
        The shell always prints `exit=N`: an exec that printed nothing at all, though kubectl exited 0 (seen once in
        a cold `make test`, the disk-full scenario's write), lost its output, and the write (which overwrites) is
        sent again; AppError if every attempt's output was lost."""
        directory = path.rsplit("/", 1)[0]
        for _ in range(WRITE_ATTEMPTS):
            output = self.kubectl_run("exec", "-i", f"deployment/{WEBSERVER}", "-c", "webserver", "--", "sh", "-c",
                                      f"{{ mkdir -p {directory} && cat > {path}; }} 2>&1; echo exit=$?",
                                      input=content)
            if "exit=" in output:
                return output
        raise AppError(f"writing {path} in the webserver pod: kubectl exec exited 0 but printed nothing, not even the "
                       f"shell's exit status, {WRITE_ATTEMPTS} times: its output was lost")

    def drop_sample(self, sample: str, as_name: str | None = None) -> str:
        target = f"{self.inbound_dir}/{as_name or sample}"
        result = self.write_web(target, self.sample(sample))
        if "exit=0" not in result:
            raise AppError(f"writing {target} in the webserver pod failed: {result.strip()}")
        return target

    def engine_jobs(self) -> list[client.V1Job]:
        """Jobs of the engine: the CronJob's own and those made from it by hand (bots-engine-...)."""
        return [j for j in self.batch.list_namespaced_job(self.namespace).items
                if j.metadata.name.startswith(f"{ENGINE_CRONJOB}-")]

    def scheduled_engine_jobs(self) -> list[client.V1Job]:
        """Engine Jobs the CronJob controller made for a scheduled time (not `kubectl create job --from`)."""
        return [j for j in self.engine_jobs() if SCHEDULED_JOB.fullmatch(j.metadata.name)
                and "cronjob.kubernetes.io/instantiate" not in (j.metadata.annotations or {})]

    def wait_scheduled_engine_job(self, *, timeout: float) -> str:
        """Wait until the CronJob itself starts an engine Job; returns its name."""
        def probe() -> Observation:
            jobs = self.scheduled_engine_jobs()
            cron = self.batch.read_namespaced_cron_job(ENGINE_CRONJOB, self.namespace)
            return Observation(bool(jobs), f"cronjob/{ENGINE_CRONJOB}: schedule {cron.spec.schedule!r}, suspend "
                               f"{cron.spec.suspend}, last scheduled {cron.status.last_schedule_time}; jobs it made: "
                               f"{', '.join(j.metadata.name for j in jobs) or 'none'}")

        wait_for(f"cronjob/{ENGINE_CRONJOB} to start a Job on its own", probe, timeout=timeout)
        return sorted(j.metadata.name for j in self.scheduled_engine_jobs())[-1]

    def run_engine_job(self, name: str, *, timeout: float = 300) -> None:
        """A Job made from the engine CronJob (as `kubectl create job --from` does) and run to Complete; AppError
        with the Job's log when it fails."""
        self.kubectl_run("create", "job", f"--from=cronjob/{ENGINE_CRONJOB}", name)
        state = self.wait_job(name, timeout=timeout)
        if state != "Complete":
            raise AppError(f"the engine run job/{name} {state}:\n{self.job_logs(name)}")

    def wait_job(self, name: str, *, timeout: float = 300) -> str:
        """Wait until job/name finished; returns 'Complete' or 'Failed'."""
        def probe() -> Observation:
            job = self.batch.read_namespaced_job(name, self.namespace)
            conditions = {c.type: c.status for c in job.status.conditions or []}
            for state in ("Complete", "Failed"):
                if conditions.get(state) == "True":
                    return Observation(True, state)
            cluster.stop_if_hopeless(self.api, self.namespace, self.pods(f"job-name={name}"), f"job/{name}",
                                     crash_loops=False)
            return Observation(False, f"job/{name}: active {job.status.active or 0}, failed {job.status.failed or 0}")

        try:
            wait_for(f"job/{name} to finish", probe, timeout=timeout)
        except RunbookSuiteError as error:
            raise AppError(f"{error}\n{self.diagnostics()}") from None
        job = self.batch.read_namespaced_job(name, self.namespace)
        return "Complete" if any(c.type == "Complete" and c.status == "True" for c in job.status.conditions) \
            else "Failed"

    def job_logs(self, name: str) -> str:
        return self.kubectl_run("logs", f"job/{name}", "--tail=200")

    def job_pod_logs(self, name: str) -> list[str]:
        """The log of every pod the Job ran (a retried Job has several), oldest first."""
        pods = sorted(self.pods(f"job-name={name}", terminating=True), key=lambda p: p.metadata.creation_timestamp)
        return [self.core.read_namespaced_pod_log(p.metadata.name, self.namespace) for p in pods]

    # ---- HTTP ---------------------------------------------------------------------------------
    def get(self, path: str, timeout: float = 5) -> httpx.Response:
        return httpx.get(self.web_url + path, timeout=timeout, verify=tls.httpx_default())

    def through_ingress(self) -> Site:
        if self.site is None:
            raise RunbookSuiteError("this environment has no ingress for the runbook's site (env.yaml `ingress`)")
        return self.site

    def get_site(self, path: str, timeout: float = 5) -> httpx.Response:
        """GET https://<site><path> through the ingress, verifying its certificate against the cluster's CA."""
        site = self.through_ingress()
        with site.client(timeout=timeout) as http:
            return http.get(site.url + path)

    def wait_http(self, path: str, status: int, *, timeout: float = 120) -> float:
        def probe() -> Observation:
            response = self.get(path)
            return Observation(response.status_code == status, f"{response.status_code} {response.text[:200]}")

        return wait_for(f"GET {path} to answer {status}", probe, timeout=timeout)


def _pod_ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


@dataclass
class RequestLoop:
    """Sends GET requests in a background thread until stopped; bounded in count and time.

    Requests reuse their connection, as browsers and ingress controllers do. A request on a reused connection
    that the server closed without answering (a pod stopping closes its idle keep-alive connections) is sent
    again once on a new connection, as the Ingress in front of production does for a GET (nginx's
    proxy_next_upstream) and as a browser does; `retried` lists those, and only a second failure is a failure.
    """

    url: str
    transport: httpx.BaseTransport | None = None  # Site.transport() for requests through the ingress
    interval: float = 0.05
    max_requests: int = 20000
    max_seconds: float = 600
    sent: int = 0
    failures: list[str] = field(default_factory=list)
    failed_at: list[float] = field(default_factory=list)  # seconds after the start, one for each failure
    retried: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        started = time.monotonic()
        deadline = started + self.max_seconds
        with httpx.Client(timeout=5, transport=self.transport) as http:
            while not self._stop.is_set() and self.sent < self.max_requests and time.monotonic() < deadline:
                self.sent += 1
                try:
                    try:
                        response = http.get(self.url)
                    except httpx.RemoteProtocolError as closed:
                        self.retried.append(f"request {self.sent}: {closed}")
                        response = http.get(self.url, headers={"Connection": "close"})
                    if response.status_code != 200:
                        self._failed(started, f"HTTP {response.status_code} {response.text.strip()[:80]!r}")
                except httpx.HTTPError as error:
                    self._failed(started, f"{type(error).__name__} {error}")
                self._stop.wait(self.interval)
        self.elapsed = time.monotonic() - started

    def _failed(self, started: float, what: str) -> None:
        """Recorded with the request's number and its time after the loop started, so a failure can be set
        against the procedure's timeline (when the old pods were deleted, when the new ones became Ready)."""
        at = time.monotonic() - started
        self.failures.append(f"request {self.sent} at {at:.1f}s: {what}")
        self.failed_at.append(at)

    @property
    def failing_seconds(self) -> float:
        """From the first failed request to the last (0 with one failure or none)."""
        return self.failed_at[-1] - self.failed_at[0] if self.failed_at else 0.0

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)


__all__ = ["Bots", "RequestLoop"]


_MIGRATION = re.compile(r"^\s*\[(?P<mark>[X ])\]\s+(?P<name>\S+)")


def parse_showmigrations(output: str) -> dict[str, dict[str, bool]]:
    """`manage.py showmigrations` as app -> migration -> applied."""
    found: dict[str, dict[str, bool]] = {}
    app = ""
    for line in output.splitlines():
        match = _MIGRATION.match(line)
        if match and app:
            found[app][match["name"]] = match["mark"] == "X"
        elif line.strip() and not line.startswith(" "):
            app = line.strip()
            found[app] = {}
    return found
