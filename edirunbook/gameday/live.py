"""Attaching to a live cluster: one context, checked before anything runs, and what a game day would do there.

`attach()` takes the kubeconfig the operator has ($KUBECONFIG or ~/.kube/config), chooses the context the run
names (guard.choose_context), and writes a kubeconfig that holds that one context alone
(.state/live/<env>/kubeconfig, mode 0600): every command of the run, the operator's included, uses it, so no
command can reach another cluster, whatever the original file's current-context says.

`preflight()` then checks what the run needs: the namespace, the objects the runbook names, read access, and in
game-day mode the rights the faults need. Problems are listed together, so one run shows all of them.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException

from edirunbook import app, cluster, paths
from edirunbook.environment.config import EnvConfig
from edirunbook.errors import EnvironmentNotReady, GuardRailRefused
from edirunbook.gameday import faults, state
from edirunbook.gameday.guard import (
    Attachment,
    BlastRadius,
    LiveSettings,
    Mode,
    RunRequest,
    authorize_destructive,
    choose_context,
)

# What the runbook names and a game day needs to find: (kind, name)
RUNBOOK_OBJECTS = (("Deployment", app.WEBSERVER), ("Deployment", app.JOBQUEUE), ("CronJob", app.ENGINE_CRONJOB),
                   ("Secret", "bots-edidb-secret"))
# (verb, resource, subresource, group): read access every run needs
READ_ACCESS = (("list", "pods", "", ""), ("get", "pods", "log", ""), ("list", "events", "", ""),
               ("list", "deployments", "", "apps"), ("list", "cronjobs", "", "batch"), ("list", "nodes", "", ""))
# what the faults and the runbook's fixes need in game-day mode
GAMEDAY_ACCESS = (("create", "pods", "exec", ""), ("delete", "pods", "", ""), ("patch", "deployments", "", "apps"),
                  ("patch", "deployments", "scale", "apps"), ("create", "networkpolicies", "", "networking.k8s.io"),
                  ("delete", "networkpolicies", "", "networking.k8s.io"), ("patch", "nodes", "", ""),
                  ("create", "pods", "eviction", ""))
WEBSERVER_SELECTOR = "app=bots-edi,component=webserver"
# The runbook's name of the database server; on a live cluster it is what the deployment's Secret points at.
RUNBOOK_DATABASE_HOST = "kona.db.pminc.me"


def source_kubeconfig() -> Path:
    """The operator's kubeconfig: the first file of $KUBECONFIG, else ~/.kube/config."""
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return Path(listed[0]) if listed else Path.home() / ".kube" / "config"


def _kubectl(*args: str, kubeconfig: Path, stdin: str | None = None, timeout: float = 120) -> str:
    proc = subprocess.run([str(paths.bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig), *args],
                          input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise EnvironmentNotReady(f"kubectl {' '.join(args)} failed (exit {proc.returncode}): "
                                  f"{(proc.stderr or proc.stdout).strip()}")
    return proc.stdout


@dataclass
class LiveCluster:
    config: EnvConfig
    settings: LiveSettings
    request: RunRequest
    attachment: Attachment
    kubeconfig: Path  # the one-context kubeconfig every command of the run uses
    api: ApiClient
    substitutions: dict[str, str] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.config.namespace

    # ---- guard rails ----------------------------------------------------------------------------------------------
    def authorize(self) -> None:
        """Destructive work allowed here, or GuardRailRefused (the mode, the confirmation, the allowlist)."""
        authorize_destructive(self.request, self.attachment, self.settings)

    def radius(self) -> BlastRadius:
        return BlastRadius(self.namespace, self.settings.objects)

    # ---- state ----------------------------------------------------------------------------------------------------
    def observe(self) -> state.Snapshot:
        return state.observe(client.AppsV1Api(self.api), client.BatchV1Api(self.api), client.CoreV1Api(self.api),
                             client.NetworkingV1Api(self.api), self.namespace)

    def unhealthy(self) -> list[str]:
        return state.unhealthy(client.AppsV1Api(self.api), client.CoreV1Api(self.api), self.namespace,
                               [app.WEBSERVER, app.JOBQUEUE])

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 180) -> str:
        return _kubectl("-n", self.namespace, *args, kubeconfig=self.kubeconfig, stdin=stdin, timeout=timeout)

    def runner(self, settle_seconds: float = 300.0) -> faults.Runner:
        def run(command: faults.Command) -> str:
            return self.kubectl(*command.args, stdin=command.stdin)

        return faults.Runner(run, self.observe, self.radius(), self.namespace, self.settings.max_fault_seconds,
                             settle_seconds)

    def shell_env(self) -> dict[str, str]:
        """The operator's shell: the pinned kubectl first on PATH, and the one-context kubeconfig."""
        return {"PATH": f"{paths.bin_dir()}:{os.environ.get('PATH', '')}", "KUBECONFIG": str(self.kubeconfig)}

    # ---- preflight ------------------------------------------------------------------------------------------------
    def preflight(self) -> list[str]:
        """Every reason the run cannot start here (empty: it can)."""
        core = client.CoreV1Api(self.api)
        try:
            core.read_namespace(self.namespace)
        except ApiException as error:
            if error.status == 404:
                return [f"namespace {self.namespace} does not exist on {self.attachment.context}"]
            return [f"cannot read namespace {self.namespace}: {error.status} {error.reason}"]
        problems = [f"{kind}/{name} not found in namespace {self.namespace}" for kind, name in RUNBOOK_OBJECTS
                    if not self._exists(kind, name)]
        wanted = READ_ACCESS + (GAMEDAY_ACCESS if self.request.mode is Mode.GAMEDAY else ())
        problems += [f"no permission to {verb} {resource}{'/' + sub if sub else ''}" for verb, resource, sub, group
                     in wanted if not self._allowed(verb, resource, sub, group)]
        return problems

    def _exists(self, kind: str, name: str) -> bool:
        read: dict[str, Callable[[str, str], Any]] = {
            "Deployment": client.AppsV1Api(self.api).read_namespaced_deployment,
            "CronJob": client.BatchV1Api(self.api).read_namespaced_cron_job,
            "Secret": client.CoreV1Api(self.api).read_namespaced_secret}
        try:
            read[kind](name, self.namespace)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    def _allowed(self, verb: str, resource: str, subresource: str, group: str) -> bool:
        namespace = None if resource == "nodes" else self.namespace
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb=verb, resource=resource, subresource=subresource
                                                            or None, group=group, namespace=namespace)))
        answer = client.AuthorizationV1Api(self.api).create_self_subject_access_review(review)
        return bool(answer.status.allowed)

    # ---- what the deployment is made of ---------------------------------------------------------------------------
    def secret_value(self, key: str) -> str | None:
        """One key of the deployment's database Secret (DB_HOST, DB_PORT: never a password here)."""
        data = client.CoreV1Api(self.api).read_namespaced_secret("bots-edidb-secret", self.namespace).data or {}
        return base64.b64decode(data[key]).decode() if key in data else None

    def nodes(self) -> list[str]:
        """The schedulable nodes."""
        return sorted(n.metadata.name for n in client.CoreV1Api(self.api).list_node().items
                      if not n.spec.unschedulable)

    def webserver_pods(self) -> list[client.V1Pod]:
        return [pod for pod in client.CoreV1Api(self.api).list_namespaced_pod(
            self.namespace, label_selector=WEBSERVER_SELECTOR).items if pod.metadata.deletion_timestamp is None]

    def exec_webserver(self, *argv: str) -> str:
        return self.kubectl("exec", f"deployment/{app.WEBSERVER}", "--", *argv)

    # ---- the faults, made from what is observed -------------------------------------------------------------------
    def fault(self, name: str) -> faults.Fault:
        """The game day's fault of that name, its rollback computed from the state observed now."""
        makers: dict[str, Callable[[], faults.Fault]] = {
            "the database unreachable": self._database_unreachable,
            "every webserver pod deleted": lambda: faults.delete_pods(
                WEBSERVER_SELECTOR, [pod.metadata.name for pod in self.webserver_pods()]),
            "the webserver scaled to zero": lambda: faults.scale_to_zero(app.WEBSERVER, self._replicas(app.WEBSERVER)),
            "a bad image rolled out": self._bad_image,
            "the data volume filled past 90%": self._fill_volume,
            "a node drained": self._drain,
        }
        if name not in makers:
            raise GuardRailRefused(f"no fault named {name!r}; the game day knows: {', '.join(sorted(makers))}")
        return makers[name]()

    def _replicas(self, deployment: str) -> int:
        return int(client.AppsV1Api(self.api).read_namespaced_deployment(deployment, self.namespace).spec.replicas)

    def _database_unreachable(self) -> faults.Fault:
        host = self.secret_value("DB_HOST")
        if not host:
            raise EnvironmentNotReady("the Secret bots-edidb-secret has no DB_HOST: the database's address is unknown")
        port = int(self.secret_value("DB_PORT") or 3306)
        # the address the pods reach, resolved where they resolve it
        address = self.exec_webserver("python3", "-c", "import socket,sys; print(socket.gethostbyname(sys.argv[1]))",
                                      host).strip()
        return faults.deny_database_egress({"app": "bots-edi"}, address, port)

    def _bad_image(self) -> faults.Fault:
        deployment = client.AppsV1Api(self.api).read_namespaced_deployment(app.WEBSERVER, self.namespace)
        container = deployment.spec.template.spec.containers[0]
        repository = container.image.rsplit("@", 1)[0]
        if ":" in repository.rsplit("/", 1)[-1]:
            repository = repository.rsplit(":", 1)[0]
        return faults.bad_image(app.WEBSERVER, container.name, container.image,
                                f"{repository}:edirunbook-gameday-does-not-exist")

    def _fill_volume(self) -> faults.Fault:
        """A filler that takes the volume to 95% full, at most live.max_fill_megabytes."""
        size_kib, used_kib = df_kib(self.exec_webserver("df", "-Pk", app.BOTS_HOME))
        wanted = max(1, -(-(int(size_kib * 0.95) - used_kib) // 1024))
        # among Bots' own data, where the runbook's du and cleanup look
        return faults.fill_volume(app.WEBSERVER, f"{app.BOTS_HOME}/botssys/data",
                                  min(wanted, self.settings.max_fill_megabytes))

    def _drain(self) -> faults.Fault:
        nodes = self.nodes()
        if len(nodes) < 2:
            raise EnvironmentNotReady(f"a drain needs another node for the pods to go to; {self.attachment.context} "
                                      f"has {len(nodes)} schedulable node(s): {', '.join(nodes) or 'none'}")
        allowed = [node for node in nodes if self.radius().allows("Node", node)]
        if not allowed:
            raise GuardRailRefused(f"no schedulable node of {self.attachment.context} is in the blast radius "
                                   f"({', '.join(self.settings.objects) or 'nothing'}): name the node a game day may "
                                   "drain in live.objects, e.g. Node/<name>")
        running = {pod.spec.node_name for pod in self.webserver_pods()}
        chosen = next((node for node in allowed if node in running), None)
        if chosen is None:  # the drain would move nothing
            raise EnvironmentNotReady(f"no webserver pod runs on a node the blast radius allows ({', '.join(allowed)}"
                                      f"; they run on {', '.join(sorted(n for n in running if n))}): a drain there "
                                      "would move nothing")
        return faults.cordon_and_drain(chosen, WEBSERVER_SELECTOR)


def df_kib(output: str) -> tuple[int, int]:
    """(size, used) in KiB from `df -Pk PATH` (its last line)."""
    fields = output.strip().splitlines()[-1].split()
    try:
        return int(fields[1]), int(fields[2])
    except (IndexError, ValueError):
        raise EnvironmentNotReady(f"cannot read the data volume's size from df: {output.strip()!r}") from None


def attach(cfg: EnvConfig, request: RunRequest, source: Path | None = None) -> LiveCluster:
    """The cluster of the context the request names, through a one-context kubeconfig; EnvironmentNotReady when
    it cannot be reached, GuardRailRefused when the context is not the one to use."""
    if cfg.live is None:
        raise GuardRailRefused(f"environment {cfg.name!r} is of type {cfg.type!r}, not live: a game day runs on a "
                               "live environment (environments/<name>/env.yaml with type: live)")
    source = source or source_kubeconfig()
    if not source.exists():
        raise EnvironmentNotReady(f"no kubeconfig at {source}: set KUBECONFIG to the file that has the context")
    contexts = tuple(_kubectl("config", "get-contexts", "-o", "name", kubeconfig=source).split())
    context = choose_context(RunRequest(request.context, request.mode, request.confirm, contexts), cfg.live)
    minified = _kubectl("config", "view", "--minify", "--flatten", "--context", context, kubeconfig=source)
    target = paths.state_dir() / "live" / cfg.name / "kubeconfig"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)
    target.write_text(minified)
    clusters = (yaml.safe_load(minified) or {}).get("clusters") or [{}]
    server = str((clusters[0].get("cluster") or {}).get("server", "?"))
    api = cluster.connect(target)
    try:
        client.VersionApi(api).get_code(_request_timeout=15)
    except Exception as error:  # noqa: BLE001 - any failure to reach the API server is the same to the operator
        raise EnvironmentNotReady(f"context {context} ({server}) does not answer: {type(error).__name__}: "
                                  f"{str(error).splitlines()[0] if str(error) else ''}. Is the cluster up, and is "
                                  "this the right kubeconfig?") from None
    attachment = Attachment(context, server, cfg.namespace)
    live = LiveCluster(cfg, cfg.live, RunRequest(context, request.mode, request.confirm, contexts), attachment,
                       target, api)
    live.substitutions = {**cfg.substitutions, **_database_substitution(live, cfg.substitutions)}
    return live


def _database_substitution(live: LiveCluster, configured: dict[str, str]) -> dict[str, str]:
    """The runbook's database host -> the host the deployment's Secret points at (unless env.yaml says)."""
    if RUNBOOK_DATABASE_HOST in configured:
        return {}
    try:
        host = live.secret_value("DB_HOST")
    except ApiException:
        return {}
    return {RUNBOOK_DATABASE_HOST: host} if host else {}


def plan_text(live: LiveCluster, scenarios: list[str], fault_plans: list[list[str]]) -> str:
    """What the run would do, printed before it starts (and alone, in a dry run)."""
    lines = [f"context:    {live.attachment.context}", f"API server: {live.attachment.server}",
             f"namespace:  {live.namespace}", f"mode:       {live.request.mode.value}",
             f"kubeconfig: {live.kubeconfig} (this context only)",
             f"faults last at most {live.settings.max_fault_seconds:g} s; blast radius: "
             f"{', '.join(live.settings.objects) or 'nothing'}",
             f"scenarios ({len(scenarios)}):"]
    lines += [f"  {name}" for name in scenarios] or ["  none"]
    if fault_plans:
        lines.append(f"faults, as they would run (each kubectl with --kubeconfig {live.kubeconfig} "
                     f"-n {live.namespace}):")
        lines += [f"  {line}" for plan in fault_plans for line in plan]
    return "\n".join(lines)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
