"""`edirunbook staging up|down|kubeconfig`: the game days' "staging" cluster, made the way a team makes one.

Outside the suite's own environment (its cluster `edirunbook`, its database container and its state are never
touched): a second kind cluster `bots-staging` created with a plain `kind create cluster` from the suite's node image
on a docker network of its own, two nodes (so a drain is a real fault), the reference deployment applied with
`kubectl apply -k` (tests/gameday/staging) and a database container of its own. The suite supplies only what a team
would take from its registry and its package manager: the node, database and app images (built and cached here)
and the kind and kubectl binaries. Everything after that is a plain command printed before it runs (`$ ...`, any
secret as ***), so the output reads as the setup script a team keeps; `# ...` lines say what the next one is for.

The host is kept as it was: blackhole routes for staging's own pod and service ranges while it is up, and the
kernel settings kubelet changes from inside a privileged node recorded before and restored by `down`. An `up` that
fails half-way leaves what it made for a look; `down` removes all of it, and never fails on what is already gone.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from edirunbook import paths
from edirunbook.errors import (
    CommandFailed,
    EnvironmentNotReady,
    RunbookSuiteError,
    SetupError,
    StopWaiting,
    WaitTimeout,
)
from edirunbook.process import run
from edirunbook.redaction import redact
from edirunbook.waiting import Observation, wait_for

__all__ = ["CLUSTER", "CONTEXT", "DATABASE", "NAMESPACE", "Layout", "Script", "down", "register",
           "up"]

CLUSTER = "bots-staging"
NETWORK = CLUSTER  # a docker network of its own (KIND_EXPERIMENTAL_DOCKER_NETWORK)
CONTEXT = f"kind-{CLUSTER}"
DATABASE = f"{CLUSTER}-mysql"  # the container, and the DB_HOST the pods use (docker's DNS on NETWORK)
NAMESPACE = "edi"
CONTROL_PLANE, WORKER = f"{CLUSTER}-control-plane", f"{CLUSTER}-worker"
POD_SUBNET, SERVICE_SUBNET = "10.245.0.0/16", "10.97.0.0/16"
API_SERVICE_IP = "10.97.0.1"  # the `kubernetes` Service: the first address of SERVICE_SUBNET
# Each node's own pod range (the node image's static bridge CNI serves one node; see tests/gameday/staging).
POD_RANGES = {CONTROL_PLANE: "10.245.0.0/24", WORKER: "10.245.1.0/24"}
BLACKHOLES = (POD_SUBNET, SERVICE_SUBNET)
SOURCE = paths.REPO_ROOT / "tests" / "gameday" / "staging"
BOTS_UID = 10001  # runAsUser/fsGroup of the base's pods: a hostPath volume gets no fsGroup change
DATA_TMPFS_SIZE = "256m"
DB_NAME, DB_USER, DB_PORT, ADMIN_USER = "botsedi_data", "botsedi", "3306", "admin"
LABEL = f"edirunbook.staging={CLUSTER}"
APP_IMAGE_NAME = "harbor.pminc.me/priv/bots-edi"  # the image environments/base names
ENFORCER_IMAGE = "edirunbook/kube-network-policies"  # tests/gameday/staging/network-policies
TIMEOUTS = {"database": 180.0, "nodes": 240.0, "kube_proxy": 180.0, "pods": 300.0}


@dataclass(frozen=True)
class Layout:
    """Where staging keeps its files: .state/staging, apart from the suite's own state."""

    root: Path

    @classmethod
    def default(cls) -> Layout:
        return cls(paths.state_dir() / "staging")

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def secret_env(self) -> Path:
        """The keys of environments/kind/secret.env.example: the Secret bots-edidb-secret is made from it."""
        return self.root / "secret.env"

    @property
    def mysql_env(self) -> Path:
        """The database image's contract (MYSQL_*): `docker run --env-file`, so no password is on a command line."""
        return self.root / "mysql.env"

    @property
    def cluster_config(self) -> Path:
        return self.root / "cluster.yaml"

    @property
    def sysctls(self) -> Path:
        return self.root / "host-sysctls.json"

    def conflist(self, node: str) -> Path:
        return self.root / "cni" / f"{node.removeprefix(CLUSTER + '-')}.conflist"

    @property
    def data_volume(self) -> Path:
        return self.root / "volumes" / "data"

    @property
    def backup_volume(self) -> Path:
        return self.root / "volumes" / "backup"

    @property
    def app_overlay(self) -> Path:
        return self.root / "app"

    @property
    def enforcer_overlay(self) -> Path:
        return self.root / "network-policies"


# ---- pure parts (unit-tested) ------------------------------------------------------------------------------------
def cluster_config(template: str, layout: Layout) -> str:
    """tests/gameday/staging/cluster.yaml with ${STATE} as the absolute path kind mounts host paths from."""
    return template.replace("${STATE}", str(layout.root.resolve()))


def conflist(pod_range: str) -> str:
    """The node's pod network: the node image's bridge (images/kind-node/node), with this node's own range.

    ipMasq off: traffic between the nodes' pods keeps its pod addresses (a NetworkPolicy sees the real peer); the
    harness masquerades only what leaves the pod network (pod_network_commands)."""
    return json.dumps({
        "cniVersion": "0.4.0",
        "name": CLUSTER,
        "plugins": [
            {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": pod_range}]], "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "loopback"},
        ],
    }, indent=2) + "\n"


def pod_network_commands(node_ips: dict[str, str]) -> list[list[str]]:
    """What kindnet would do on each node: route every other node's pod range to that node, and masquerade what
    leaves the pod network (the database container, the node's DNS), whose replies would else die in the host's
    blackhole route."""
    commands = []
    for node in POD_RANGES:
        for peer, peer_range in POD_RANGES.items():
            if peer != node:
                commands.append(["docker", "exec", node, "ip", "route", "replace", peer_range, "via", node_ips[peer]])
        commands.append(["docker", "exec", node, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", POD_SUBNET,
                         "!", "-d", POD_SUBNET, "-m", "comment", "--comment",
                         "bots-staging pods leaving the pod network", "-j", "MASQUERADE"])
    return commands


def overlay(base: Path, at: Path, images: Iterable[tuple[str, str]]) -> str:
    """The kustomization written to `at`: the checked-in overlay `base`, with each (name, loaded ref) image set.

    kustomize takes only relative paths, and an image's tag is its content hash, known once it is built."""
    entries = []
    for name, ref in images:
        new_name, _, tag = ref.rpartition(":")
        entries.append({"name": name, "newName": new_name, "newTag": tag})
    resource = os.path.relpath(base.resolve(), at.resolve())
    return json.dumps({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                       "resources": [resource], "images": entries}, indent=2) + "\n"


@dataclass(frozen=True)
class Credentials:
    """Staging's own, new with every `up`: the database's passwords, Django's key and the web UI superuser's."""

    db_password: str = field(repr=False)
    root_password: str = field(repr=False)
    django_secret_key: str = field(repr=False)
    admin_password: str = field(repr=False)

    @classmethod
    def generate(cls) -> Credentials:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(50),
                   secrets.token_urlsafe(18))

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.db_password, self.root_password, self.django_secret_key, self.admin_password

    def secret_env(self) -> str:
        """The Secret bots-edidb-secret, with the keys of environments/kind/secret.env.example."""
        return _env_file({"DB_NAME": DB_NAME, "DB_USER": DB_USER, "DB_PASSWORD": self.db_password,
                          "DB_HOST": DATABASE, "DB_PORT": DB_PORT, "DJANGO_SECRET_KEY": self.django_secret_key,
                          "BOTS_ADMIN_USER": ADMIN_USER, "BOTS_ADMIN_PASSWORD": self.admin_password})

    def mysql_env(self) -> str:
        """The database image's contract (edirunbook/database.py): the same user, password and database."""
        return _env_file({"MYSQL_ROOT_PASSWORD": self.root_password, "MYSQL_DATABASE": DB_NAME,
                          "MYSQL_USER": DB_USER, "MYSQL_PASSWORD": self.db_password})


def _env_file(values: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def read_secrets(*files: Path) -> list[str]:
    """The secret values of env files written by `up` (their *PASSWORD* and *KEY* entries), for redaction."""
    found = []
    for file in files:
        if file.exists():
            for line in file.read_text().splitlines():
                key, _, value = line.partition("=")
                if value and ("PASSWORD" in key or "KEY" in key):
                    found.append(value)
    return found


def write_private(path: Path, text: str) -> None:
    """A file only its owner may read (mode 0600 also when it existed with another mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


def shown(path: Path) -> str:
    """A path as the printed commands use it: relative to the checkout (they run there) when inside it."""
    return paths.shown(path)


# ---- running plain commands -----------------------------------------------------------------------------------
@dataclass
class Script:
    """Runs plain commands in the checkout, each printed first as the shell line it is (secrets as ***)."""

    env: dict[str, str]
    secrets: list[str] = field(default_factory=list)
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def line(self, argv: Sequence[str]) -> str:
        """The shell line of argv, each secret as *** (argument by argument: quoting cannot hide one)."""
        return shlex.join(redact(arg, self.secrets) for arg in argv)

    def say(self, text: str) -> None:
        print(f"# {redact(text, self.secrets)}", file=self.out, flush=True)

    def run(self, *argv: str, check: bool = True, timeout: float = 300, input: str | None = None) -> str:
        """Print `$ argv`, run it and print what it printed; EnvironmentNotReady (redacted) when it fails and
        `check`."""
        print(f"$ {self.line(argv)}", file=self.out, flush=True)
        output = self._run(list(argv), shown=self.line(argv), check=check, timeout=timeout, input=input).stdout
        self._echo(output)
        return output

    def shell(self, pipeline: str, *, timeout: float = 300) -> str:
        """A pipeline, run by bash (pipefail) exactly as printed."""
        print(f"$ {redact(pipeline, self.secrets)}", file=self.out, flush=True)
        output = self._run(["bash", "-o", "pipefail", "-c", pipeline], shown=redact(pipeline, self.secrets),
                           check=True, timeout=timeout).stdout
        self._echo(output)
        return output

    def _echo(self, output: str) -> None:
        if output.strip():
            print(redact(output.rstrip("\n"), self.secrets), file=self.out, flush=True)

    def probe(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A check run quietly (the waits poll with it; the wait itself is announced): never raises."""
        try:
            return run(list(argv), env=self.env, cwd=paths.REPO_ROOT, check=False, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as error:
            return subprocess.CompletedProcess(list(argv), 1, f"{type(error).__name__}: {error}", "")

    def _run(self, argv: list[str], *, shown: str, check: bool, timeout: float,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return run(argv, env=self.env, cwd=paths.REPO_ROOT, check=check, timeout=timeout, input=input)
        except CommandFailed as error:
            tail = "\n".join(error.output.strip().splitlines()[-20:])
            raise EnvironmentNotReady(f"`{shown}` failed (exit {error.code}):\n"
                                      f"{redact(tail, self.secrets)}") from None
        except subprocess.TimeoutExpired:
            raise EnvironmentNotReady(f"`{shown}` did not finish within {timeout:.0f}s.") from None
        except FileNotFoundError as error:
            raise SetupError(f"`{shown}`: {error.filename} is not installed or not on PATH.") from None

    def wait(self, what: str, probe: Callable[[], Observation], *, timeout: float,
             last_seen: Callable[[], str] | None = None) -> float:
        """Wait on state (announced once, polled quietly); on timeout the error says what it last saw."""
        self.say(f"waiting up to {timeout:.0f}s for {what}")
        try:
            return wait_for(what, probe, timeout=timeout, interval=1.0)
        except WaitTimeout as error:
            extra = f"\n{last_seen()}" if last_seen else ""
            raise EnvironmentNotReady(redact(f"{error}{extra}", self.secrets)) from None


def script_for(docker_env: dict[str, str], tools: Iterable[Path], secrets: Iterable[str] = ()) -> Script:
    path = ":".join([*(str(tool.parent) for tool in tools), os.environ.get("PATH", "")])
    return Script(env={**docker_env, "KIND_EXPERIMENTAL_DOCKER_NETWORK": NETWORK, "PATH": path},
                  secrets=list(secrets))


# ---- up ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Images:
    node: str
    database: str
    app: str
    enforcer: str


def require_root() -> None:
    if os.geteuid() != 0:
        raise SetupError("The staging cluster changes host routes and kernel settings and mounts its data volume, "
                         "which needs root. Run `sudo make staging-up` (or staging-down).")


def build_images(docker: Any) -> Images:
    """The suite's images (built here and cached): node, database and add-ons as the kind environment builds them,
    the reference target's app image as `make deploy` builds it."""
    from edirunbook import target as targets
    from edirunbook.environment import config as env_config
    from edirunbook.environment.deploy import app_image
    from edirunbook.environment.kind import KindEnvironment

    built = KindEnvironment(env_config.load("kind")).build(docker)
    return Images(node=built["node"], database=built["database"], app=app_image(docker, targets.load("reference")),
                  enforcer=built[ENFORCER_IMAGE])


def up() -> dict[str, float]:
    """Bring staging up; returns timings in seconds. Refuses when any piece of an earlier staging is left."""
    from edirunbook import gobuild
    from edirunbook.docker import daemon

    require_root()
    layout = Layout.default()
    started = time.monotonic()
    timings: dict[str, float] = {}
    docker = daemon.ensure().activate()
    kubectl = paths.bin_dir() / "kubectl"
    script = script_for(docker.env(), [gobuild.kind_binary(), kubectl])
    leftovers = present(script)
    if leftovers:
        raise EnvironmentNotReady(f"An earlier staging is still here ({', '.join(leftovers)}). Staging is made fresh "
                                  "by every `up` (new passwords, empty volumes): run `make staging-down` first.")
    images = build_images(docker)
    timings["images"] = time.monotonic() - started
    credentials = Credentials.generate()
    script.secrets.extend(credentials.secrets)
    try:
        _up(script, layout, images, credentials, timings)
    except RunbookSuiteError as error:
        kind = SetupError if isinstance(error, SetupError) else EnvironmentNotReady
        raise kind(f"staging up failed: {redact(str(error), script.secrets)} What it made so far is left for a "
                          f"look (kubectl --kubeconfig {shown(layout.kubeconfig)} ..., docker logs {DATABASE}); "
                          "`make staging-down` removes all of it.") from None
    timings["total"] = time.monotonic() - started
    summary(layout, images, timings)
    return timings


def present(script: Script) -> list[str]:
    """What of a staging exists on the daemon: the kind cluster, the database container, the network."""
    found = []
    if CLUSTER in script.probe("kind", "get", "clusters").stdout.split():
        found.append(f"kind cluster {CLUSTER}")
    if script.probe("docker", "ps", "-aq", "--filter", f"name=^{DATABASE}$").stdout.strip():
        found.append(f"container {DATABASE}")
    if script.probe("docker", "network", "inspect", NETWORK).returncode == 0:
        found.append(f"docker network {NETWORK}")
    return found


def _up(script: Script, layout: Layout, images: Images, credentials: Credentials, timings: dict[str, float]) -> None:
    t0 = time.monotonic()
    kubeconfig = shown(layout.kubeconfig)
    kubectl = ("kubectl", "--kubeconfig", kubeconfig)
    layout.root.mkdir(parents=True, exist_ok=True)
    script.say(f"staging: kind cluster {CLUSTER} on docker network {NETWORK}, database container {DATABASE}")
    script.say(f"export DOCKER_HOST={script.env.get('DOCKER_HOST', '(the client default)')}  "
               f"KIND_EXPERIMENTAL_DOCKER_NETWORK={NETWORK}  (kind and kubectl: the suite's builds)")
    prepare_host(script, layout)
    script.say(f"credentials of this staging: {shown(layout.secret_env)} and {shown(layout.mysql_env)} (mode 0600)")
    write_private(layout.secret_env, credentials.secret_env())
    write_private(layout.mysql_env, credentials.mysql_env())
    script.run("docker", "network", "create", "--label", LABEL, NETWORK)
    # started first: it initialises while the cluster is made
    script.run("docker", "run", "-d", "--name", DATABASE, "--network", NETWORK, "--label", LABEL,
               "--env-file", shown(layout.mysql_env), images.database)
    script.say(f"the cluster config: {shown(SOURCE / 'cluster.yaml')} with the state directory filled in; "
               "each node's pod network: " + ", ".join(f"{shown(layout.conflist(n))} ({r})"
                                                        for n, r in POD_RANGES.items()))
    layout.cluster_config.write_text(cluster_config((SOURCE / "cluster.yaml").read_text(), layout))
    for node, pod_range in POD_RANGES.items():
        layout.conflist(node).parent.mkdir(parents=True, exist_ok=True)
        layout.conflist(node).write_text(conflist(pod_range))
    script.run("kind", "create", "cluster", "--name", CLUSTER, "--image", images.node,
               "--config", shown(layout.cluster_config), "--kubeconfig", kubeconfig, timeout=900)
    timings["kind_create"] = time.monotonic() - t0
    pod_network(script)
    script.wait("both nodes to be Ready", lambda: nodes_ready(script, kubectl), timeout=TIMEOUTS["nodes"])
    script.say("pods of the deployment may run on either node: the other takes them when one drains")
    script.run(*kubectl, "taint", "nodes", CONTROL_PLANE, "node-role.kubernetes.io/control-plane:NoSchedule-")
    unstick_api_connections(script)
    script.run(*kubectl, "wait", "--for=condition=Available", "deployment/coredns", "-n", "kube-system",
               "--timeout=180s", timeout=200)
    timings["cluster_ready"] = time.monotonic() - t0
    script.say("the suite's images, loaded into both nodes (no registry: the pods never pull)")
    script.run("kind", "load", "docker-image", images.app, images.enforcer, "--name", CLUSTER, timeout=900)
    install_enforcer(script, layout, kubectl, images.enforcer)
    wait_database(script)
    timings["database_ready"] = time.monotonic() - t0
    deploy(script, layout, kubectl, images.app)
    timings["deployed"] = time.monotonic() - t0


def prepare_host(script: Script, layout: Layout) -> None:
    """Blackholes for staging's ranges, the kubelet sysctls recorded, the shared volumes on the host."""
    from edirunbook.environment import hostprep

    script.say(f"host kernel settings kubelet changes ({', '.join(hostprep.KUBELET_SYSCTLS)}), as they were before "
               f"any cluster of ours: {shown(layout.sysctls)} and {hostprep.SHARED_RECORD} (the last of our clusters "
               "to go down restores them)")
    hostprep.record_sysctls(layout.sysctls)
    existing = script.probe("ip", "route", "show", "type", "blackhole").stdout
    for cidr in BLACKHOLES:
        if cidr not in existing:
            script.run("ip", "route", "add", "blackhole", cidr)
    data, backup = shown(layout.data_volume), shown(layout.backup_volume)
    script.say("the data volume: a 256Mi tmpfs shared by both nodes (cluster.yaml); the backup volume: a directory")
    script.run("mkdir", "-p", data, backup)
    if not mounted(layout.data_volume):
        script.run("mount", "-t", "tmpfs", "-o", f"size={DATA_TMPFS_SIZE},uid={BOTS_UID},gid={BOTS_UID},mode=0770",
                   f"{CLUSTER}-data", data)
    script.run("chown", f"{BOTS_UID}:{BOTS_UID}", backup)
    script.run("chmod", "0770", backup)


def mounted(path: Path) -> bool:
    target = str(path.resolve())
    return any(line.split()[1] == target for line in Path("/proc/self/mounts").read_text().splitlines()
               if len(line.split()) > 1)


def node_ips(script: Script) -> dict[str, str]:
    ips = {}
    for node in POD_RANGES:
        ip = script.run("docker", "inspect", "-f", f"{{{{(index .NetworkSettings.Networks \"{NETWORK}\").IPAddress}}}}",
                        node).strip()
        if not ip:
            raise EnvironmentNotReady(f"the node container {node} has no address on the docker network {NETWORK}.")
        ips[node] = ip
    return ips


def pod_network(script: Script) -> None:
    script.say("the pod network between the nodes: each node routes the other's pod range to it")
    for command in pod_network_commands(node_ips(script)):
        script.run(*command)


def nodes_ready(script: Script, kubectl: Sequence[str]) -> Observation:
    result = script.probe(*kubectl, "get", "nodes", "-o",
                          "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==\"Ready\")]"
                          ".status} {end}")
    states = dict(item.split("=", 1) for item in result.stdout.split() if "=" in item)
    ready = result.returncode == 0 and len(states) == len(POD_RANGES) and all(v == "True" for v in states.values())
    return Observation(ready, result.stdout.strip() or "no nodes listed")


def unstick_api_connections(script: Script) -> None:
    """As the kind environment does (KindEnvironment._unstick_api_connections): a pod that dialled the API Service
    before kube-proxy's rules existed keeps an un-NATed conntrack entry (its packets die in the host's blackhole)
    until client-go gives up after 30 s; deleting those entries lets its retransmissions be NATed now."""
    for node in POD_RANGES:
        def programmed(node: str = node) -> Observation:
            nat = script.probe("docker", "exec", node, "iptables-save", "-t", "nat").stdout
            return Observation("default/kubernetes:https cluster IP" in nat,
                               f"{node}: kube-proxy has not written the kubernetes Service rules yet")

        script.wait(f"kube-proxy on {node} to program the API Service", programmed, timeout=TIMEOUTS["kube_proxy"])
        script.run("docker", "exec", node, "conntrack", "-D", "-p", "tcp", "--orig-dst", API_SERVICE_IP, check=False)


def install_enforcer(script: Script, layout: Layout, kubectl: Sequence[str], image: str) -> None:
    script.say("NetworkPolicy enforcement on every node (the bridge CNI enforces none): "
               f"{shown(SOURCE / 'network-policies')}, with the loaded image")
    layout.enforcer_overlay.mkdir(parents=True, exist_ok=True)
    (layout.enforcer_overlay / "kustomization.yaml").write_text(
        overlay(SOURCE / "network-policies", layout.enforcer_overlay, [(ENFORCER_IMAGE, image)]))
    script.run(*kubectl, "apply", "-k", shown(layout.enforcer_overlay))
    script.run(*kubectl, "rollout", "status", "daemonset/kube-network-policies", "-n", "kube-system",
               "--timeout=180s", timeout=200)


DB_CHECK = 'MYSQL_PWD="$MYSQL_PASSWORD" mysql -h127.0.0.1 -u"$MYSQL_USER" -e "SELECT 1" "$MYSQL_DATABASE"'


def wait_database(script: Script) -> None:
    """Until the app user runs SELECT 1 over TCP: the entrypoint's temporary server listens on its socket only."""
    argv = ("docker", "exec", DATABASE, "sh", "-c", DB_CHECK)

    def answers() -> Observation:
        result = script.probe(*argv, timeout=30)
        if result.returncode == 0:
            return Observation(True, "SELECT 1 answered")
        state = script.probe("docker", "inspect", "-f", "{{.State.Status}}", DATABASE).stdout.strip()
        if state in ("exited", "dead"):
            logs = script.probe("docker", "logs", "--tail", "15", DATABASE).stdout
            raise StopWaiting(f"the container {DATABASE} is {state}; its last log lines:\n{logs}")
        return Observation(False, f"container {state}: {result.stdout.strip()[-300:]}")

    script.say(f"the database answers when `{shlex.join(argv)}` succeeds")
    try:
        script.wait(f"{DATABASE} to answer SELECT 1 as {DB_USER}", answers, timeout=TIMEOUTS["database"],
                    last_seen=lambda: script.probe("docker", "logs", "--tail", "15", DATABASE).stdout)
    except RunbookSuiteError as error:
        raise EnvironmentNotReady(redact(str(error), script.secrets)) from None


def deploy(script: Script, layout: Layout, kubectl: Sequence[str], app_image: str) -> None:
    """The reference deployment with `kubectl apply -k`, its Secret and volumes first; then until it runs."""
    script.say("the namespace first, so the Secret exists before any pod that reads it")
    script.run(*kubectl, "apply", "-f", shown(paths.ENVIRONMENTS_DIR / "base" / "namespace.yaml"))
    script.say("the Secret bots-edidb-secret, as environments/kind/secret.env.example says")
    k = shlex.join(kubectl)
    script.shell(f"{k} -n {NAMESPACE} create secret generic bots-edidb-secret "
                 f"--from-env-file={shlex.quote(shown(layout.secret_env))} --dry-run=client -o yaml "
                 f"| {k} label -f - --local -o yaml app=bots-edi | {k} apply -f -")
    script.say("the volumes for the claims (no provisioner here), bound to them by claimRef")
    script.run(*kubectl, "apply", "-f", shown(SOURCE / "volumes.yaml"))
    layout.app_overlay.mkdir(parents=True, exist_ok=True)
    (layout.app_overlay / "kustomization.yaml").write_text(
        overlay(SOURCE, layout.app_overlay, [(APP_IMAGE_NAME, app_image)]))
    script.say(f"the reference deployment: {shown(SOURCE / 'kustomization.yaml')}, image {app_image} "
               f"({shown(layout.app_overlay / 'kustomization.yaml')})")
    script.run(*kubectl, "apply", "-k", shown(layout.app_overlay))
    pods = TIMEOUTS["pods"]

    def last_seen() -> str:
        listing = script.probe(*kubectl, "get", "jobs,deployments,pods", "-n", NAMESPACE, "-o", "wide").stdout
        events = script.probe(*kubectl, "get", "events", "-n", NAMESPACE, "--sort-by=.lastTimestamp").stdout
        return f"{listing}\nlast events:\n" + "\n".join(events.strip().splitlines()[-10:])

    for condition, what in (("condition=complete", "job/bots-db-init"),
                            ("condition=Available", "deployment/bots-webserver"),
                            ("condition=Available", "deployment/bots-jobqueue")):
        try:
            script.run(*kubectl, "wait", f"--for={condition}", what, "-n", NAMESPACE, f"--timeout={pods:.0f}s",
                       timeout=pods + 30)
        except EnvironmentNotReady as error:
            raise EnvironmentNotReady(f"{error}\nlast seen:\n{redact(last_seen(), script.secrets)}") from None
    script.run(*kubectl, "get", "nodes,pods", "-n", NAMESPACE, "-o", "wide")


def summary(layout: Layout, images: Images, timings: dict[str, float]) -> None:
    print(f"\nstaging is up ({', '.join(f'{k} {v:.1f}s' for k, v in timings.items())})\n"
          f"  context     {CONTEXT}\n"
          f"  kubeconfig  {layout.kubeconfig}\n"
          f"              KUBECONFIG=$(.venv/bin/python -m edirunbook staging kubeconfig) kubectl get pods -n "
          f"{NAMESPACE}\n"
          f"  namespace   {NAMESPACE}\n"
          f"  nodes       {CONTROL_PLANE}, {WORKER} (a game day drains the one a webserver pod runs on)\n"
          f"  database    container {DATABASE} ({images.database}) on docker network {NETWORK}; "
          f"DB_HOST={DATABASE}\n"
          f"  secrets     {shown(layout.secret_env)}, {shown(layout.mysql_env)} (mode 0600)\n"
          f"  app image   {images.app}\n"
          f"  remove it   make staging-down", flush=True)


# ---- down ----------------------------------------------------------------------------------------------------------
def down(*, stop_daemon: bool = True) -> None:
    """Remove staging: cluster, database container, network, volumes, routes; restore the host's sysctls; stop the
    suite's Docker daemon when nothing else runs on it (unless told not to). Idempotent: what is already gone is
    skipped."""
    from edirunbook import gobuild
    from edirunbook.docker import daemon
    from edirunbook.environment import hostprep

    require_root()
    layout = Layout.default()
    try:
        docker = daemon.connect()
        docker_env = docker.env()
    except SetupError as error:
        docker, docker_env = None, None
        print(f"# no Docker daemon answers ({error}): nothing of staging can run; cleaning the host only")
    script = script_for(docker_env or {}, [gobuild.kind_binary(), paths.bin_dir() / "kubectl"],
                        read_secrets(layout.secret_env, layout.mysql_env))
    if docker_env is not None:
        if CLUSTER in script.probe("kind", "get", "clusters").stdout.split():
            config = ("--kubeconfig", shown(layout.kubeconfig)) if layout.kubeconfig.exists() else ()
            script.run("kind", "delete", "cluster", "--name", CLUSTER, *config, timeout=300)
        if script.probe("docker", "ps", "-aq", "--filter", f"name=^{DATABASE}$").stdout.strip():
            script.run("docker", "rm", "-f", "-v", DATABASE)
        if script.probe("docker", "network", "inspect", NETWORK).returncode == 0:
            script.run("docker", "network", "rm", NETWORK)
    if mounted(layout.data_volume):
        script.run("umount", shown(layout.data_volume))
    existing = script.probe("ip", "route", "show", "type", "blackhole").stdout
    for cidr in BLACKHOLES:
        if cidr in existing:
            script.run("ip", "route", "del", "blackhole", cidr, check=False)
    if layout.sysctls.exists():
        others = hostprep.restore_sysctls(layout.sysctls)
        script.say(f"host kernel settings kept as they are: other clusters of ours still run ({', '.join(others)})"
                   if others else f"host kernel settings back as {shown(layout.sysctls)} recorded them")
    if layout.root.exists():
        if mounted(layout.data_volume):
            raise EnvironmentNotReady(f"{layout.data_volume} is still mounted (busy?), so {layout.root} was kept: "
                                      f"`umount {layout.data_volume}`, then `make staging-down` again.")
        script.run("rm", "-rf", shown(layout.root))
    if docker is not None and stop_daemon:
        daemon.stop_ours_when_idle(docker)  # started for staging, say: nothing of the suite's own runs on it
    print("staging is down", flush=True)


# ---- command line --------------------------------------------------------------------------------------------------
def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("staging", help="the game days' staging cluster: a second kind cluster "
                                                   f"({CLUSTER}), made the way a team makes one")
    actions = parser.add_subparsers(dest="action", required=True)
    for name, func, text in (
        ("up", _up_command, f"create kind cluster {CLUSTER}, its database container, and deploy the reference "
                            "deployment with kubectl apply -k (printing every command)"),
        ("down", _down_command, "remove the staging cluster, its database, network, volumes and host routes; "
                                "restore the host's sysctls (idempotent)"),
        ("kubeconfig", _kubeconfig_command, "print the staging cluster's kubeconfig path"),
    ):
        actions.add_parser(name, help=text).set_defaults(func=func)


def _up_command(args: argparse.Namespace) -> int:
    up()
    return 0


def _down_command(args: argparse.Namespace) -> int:
    down()
    return 0


def _kubeconfig_command(args: argparse.Namespace) -> int:
    print(Layout.default().kubeconfig)
    return 0
