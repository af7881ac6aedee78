"""The embedded default environment: a kind cluster plus a MySQL-compatible testcontainer.

`up()` is idempotent: a running cluster and database are reused, missing pieces are built or
started. `down()` removes what `up()` created, in reverse order, and restores the host.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edirunbook import addons, cluster, gobuild, images, ingress, kindnode, paths, versions
from edirunbook.docker import daemon
from edirunbook.docker.daemon import Docker
from edirunbook.environment import config as env_config
from edirunbook.environment import hostprep, smoke
from edirunbook.environment.config import EnvConfig
from edirunbook.environment.credentials import Credentials
from edirunbook.errors import CommandFailed, EnvironmentNotReady, SetupError
from edirunbook.process import note, run, step
from edirunbook.waiting import Observation, wait_for

if TYPE_CHECKING:
    from edirunbook.target import Target


def _pulls_images() -> bool:
    """IMAGE_SOURCE=pull: the published kind node and MySQL images instead of the ones built here."""
    return os.environ.get("IMAGE_SOURCE") == "pull"


class KindEnvironment:
    def __init__(self, config: EnvConfig, state: Path | None = None) -> None:
        """`state`: the folder of its records (default: this process's, paths.state_dir()); another lane's
        (LANES=n) to take that one down."""
        self.config = config
        self.state = state or paths.state_dir()
        self.state_file = self.state / "environment.json"
        self.kubeconfig = self.state / "kubeconfig"
        self.sysctl_record = self.state / "host-sysctls.json"

    # ---- helpers -------------------------------------------------------------------------
    def _env(self, docker: Docker) -> dict[str, str]:
        return {**docker.env(), "KIND_EXPERIMENTAL_DOCKER_NETWORK": self.config.network,
                "PATH": f"{paths.bin_dir()}:{os.environ.get('PATH', '')}"}

    def kind(self, docker: Docker, *args: str, timeout: float = 600) -> str:
        return run([str(gobuild.kind_binary()), *args], env=self._env(docker), timeout=timeout).stdout

    def cluster_exists(self, docker: Docker) -> bool:
        names = self.kind(docker, "get", "clusters").split()
        return self.config.cluster_name in names

    def node_container(self) -> str:
        return f"{self.config.cluster_name}-control-plane"

    def rendered_cluster_config(self) -> Path:
        assert self.config.cluster_config is not None
        text = self.config.cluster_config.read_text()
        values = {"WEB_PORT": str(self.config.web_port), "HTTPS_PORT": str(self.config.https_port),
                  "OBJECT_STORE_PORT": str(self.config.object_store_port),
                  "ENVIRONMENT_DIR": str(self.config.cluster_config.parent.resolve())}
        for key, value in values.items():
            text = text.replace("${" + key + "}", value)
        out = self.state / "kind-cluster.yaml"
        out.write_text(text)
        return out

    def write_state(self, **values: Any) -> None:
        state = self.read_state()
        state.update(values)
        self.state_file.write_text(json.dumps(state, indent=2))

    def read_state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    # ---- images ----------------------------------------------------------------------------
    def node_image(self, docker: Docker) -> str:
        if _pulls_images():
            docker.run("pull", versions.KINDEST_NODE, timeout=1800)
            return versions.KINDEST_NODE
        return kindnode.node_image(docker)

    def database_image(self, docker: Docker) -> str:
        if _pulls_images():
            docker.run("pull", versions.MYSQL_IMAGE, timeout=1800)
            return versions.MYSQL_IMAGE
        return images.recipe(docker, "mariadb", images.debian_base(docker))

    def build(self, docker: Docker) -> dict[str, str]:
        """Every image and tool the environment needs (cached). Three chains at once, since each waits on the network
        or the disk part of its time (downloads, apt, image layers) while the others compile: Kubernetes (kind and
        kubectl first) then the node image; the database image, then the node image's other parts (kindnode.node_parts);
        the add-ons (one compile at a time, beside Kubernetes')."""
        # a cold build needs room; a warm cache does not. What was last built is recorded with the cache, not with
        # this checkout: `make test` builds in one process and a fresh checkout's lanes and staging then use it
        last_built = paths.cache_dir() / "last-cluster-node"
        known = last_built.read_text().strip() if last_built.exists() else self.read_state().get("node_image")
        if not (known and images.exists(docker, known)):
            daemon.check_disk_space()

        def node() -> str:
            gobuild.tools_path()
            return self.node_image(docker)

        def database() -> str:
            ref = self.database_image(docker)
            if not _pulls_images():
                kindnode.node_parts(docker)  # beside Kubernetes' compile, not after it
            return ref

        # kind first, alone: on a cold cache it compiles most of the standard library the big compiles below then
        # find in Go's build cache (started together, each compiled its own copy of it)
        gobuild.kind_binary()
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            node_ref, database_ref = pool.submit(node), pool.submit(database)
            addon_refs = pool.submit(addons.build, docker)
            built = {"node": node_ref.result(), "database": database_ref.result(), **addon_refs.result()}
        built["smoke"] = smoke.smoke_image(docker)
        # the cluster's node: the add-ons' images already in it (each lane's cluster starts with them), and the two the
        # smoke checks run in the cluster (the database image as a client: 376 MB each lane loaded under load)
        built["cluster_node"] = kindnode.with_images(
            docker, built["node"], [*(built[image] for image in addons.image_repositories()), built["database"],
                                    built["smoke"]])
        last_built.write_text(built["cluster_node"] + "\n")
        return built

    def build_all(self, docker: Docker, target: Target) -> dict[str, str]:
        """`build` and the target's app image: everything `up`, the deployment and the
        staging cluster use, so runs that start together afterwards (the lanes, the game-day proof) build nothing."""
        from edirunbook.environment import deploy

        return {**self.build(docker), "app": deploy.app_image(docker, target)}

    # ---- lifecycle ---------------------------------------------------------------------------
    def up(self) -> dict[str, float]:
        """Bring the environment up; returns timings in seconds."""
        timings: dict[str, float] = {}
        started = time.monotonic()
        docker = daemon.ensure().activate()
        built = self.build(docker)
        timings["build"] = time.monotonic() - started
        self.prepare_host(docker)
        creds = Credentials.load_or_create()
        db_result: dict[str, Any] = {}
        db_thread = threading.Thread(target=self._start_database_into,
                                     args=(built["database"], creds, db_result), daemon=True)
        t0 = time.monotonic()
        db_thread.start()
        cluster_config = self.rendered_cluster_config()
        config_key = images.content_hash(cluster_config, built["cluster_node"])
        if self.cluster_exists(docker) and not self._cluster_is_ours():
            note(f"kind cluster {self.config.cluster_name} exists but this checkout has no record of it; recreating")
            self.kind(docker, "delete", "cluster", "--name", self.config.cluster_name)
        elif self.cluster_exists(docker) and self.read_state().get("cluster_config") != config_key:
            # port mappings and mounts are fixed when a kind cluster is created
            note(f"kind cluster {self.config.cluster_name} was created from another node image or cluster config "
                 f"({paths.shown(self.config.cluster_config or cluster_config)}); recreating it")
            self.kind(docker, "delete", "cluster", "--name", self.config.cluster_name,
                      "--kubeconfig", str(self.kubeconfig))
        if not self.cluster_exists(docker):
            with step(f"creating kind cluster {self.config.cluster_name} from {built['cluster_node']}"):
                try:
                    self.kind(docker, "create", "cluster", "--name", self.config.cluster_name,
                              "--image", built["cluster_node"], "--config", str(cluster_config),
                              "--kubeconfig", str(self.kubeconfig), "--retain", timeout=900)
                except CommandFailed as error:
                    raise EnvironmentNotReady(
                        f"kind could not create the cluster. {self._node_diagnostics(docker)}\n{error}") from None
            self.write_state(cluster=self.config.cluster_name, node_image=built["cluster_node"],
                             cluster_config=config_key)
        else:
            note(f"kind cluster {self.config.cluster_name} is already up; reusing it")
            self.kind(docker, "export", "kubeconfig", "--name", self.config.cluster_name,
                      "--kubeconfig", str(self.kubeconfig))
        api = cluster.connect(self.kubeconfig)
        cluster.wait_nodes_ready(api, timeout=self.config.timeout("node_ready", 180))
        timings["node_ready"] = time.monotonic() - t0
        self._unstick_api_connections(docker)
        cluster.wait_deployments_ready(api, "kube-system", ["coredns"], timeout=self.config.timeout("node_ready", 180))
        timings["dns_ready"] = time.monotonic() - t0
        t1 = time.monotonic()
        self.install_addons(docker, {image: built[image] for image in addons.image_repositories()})
        timings["addons"] = time.monotonic() - t1
        db_thread.join(timeout=self.config.timeout("database_ready", 120) + 60)
        if "error" in db_result:
            raise db_result["error"]
        if "database" not in db_result:
            raise EnvironmentNotReady("the database container did not start in time; see `docker ps -a`")
        timings["database_ready"] = db_result["ready_at"] - t0
        timings["node_and_database_ready"] = max(timings["node_ready"], timings["database_ready"])
        self.write_state(cluster=self.config.cluster_name, kubeconfig=str(self.kubeconfig),
                         node_image=built["cluster_node"], database_image=built["database"], **db_result["info"])
        timings["total"] = time.monotonic() - started
        return timings

    def install_addons(self, docker: Docker, refs: dict[str, str]) -> None:
        """The ingress controller, cert-manager (with this checkout's CA as ClusterIssuer letsencrypt-prod),
        metrics-server and the CSI storage: images loaded into the node (kind skips those already there),
        manifests applied, Ready."""
        with step(f"loading the add-on images into the kind node ({', '.join(refs.values())})"):
            self.kind(docker, "load", "docker-image", "--name", self.config.cluster_name, *refs.values())
        addons.install(self.kubeconfig, refs, timeout=self.config.timeout("pod_ready", 180),
                       object_store_port=self.config.object_store_port)
        ingress.install_issuer(cluster.connect(self.kubeconfig), self.kubeconfig)
        ingress.write_curlrc(self.config)

    def _start_database_into(self, image: str, creds: Credentials, result: dict[str, Any]) -> None:
        try:
            from edirunbook.environment import database_env

            db = database_env.ensure(self.config, image, creds)
            result["database"] = db
            result["info"] = {"database_container": db.container_id, "database_host_port": db.port}
            result["ready_at"] = time.monotonic()
        except Exception as error:  # noqa: BLE001 - reported by the caller's thread
            result["error"] = error

    def prepare_host(self, docker: Docker) -> None:
        if os.geteuid() != 0:
            raise SetupError("The kind environment changes host routes and kernel settings, which needs root. "
                             "Run `sudo make env-up`.")
        if not env_config.in_lanes():  # else the lanes' coordinator did, for all of them
            self.prepare_host_settings()
        networks = docker.run("network", "ls", "--format", "{{.Name}}").stdout.split()
        if self.config.network not in networks:
            docker.run("network", "create", "--label", images.OWNER_LABEL, self.config.network)

    def prepare_host_settings(self) -> None:
        """The host's kernel settings recorded (restored by `down`), the blackhole routes for the cluster ranges."""
        hostprep.record_sysctls(self.sysctl_record)
        hostprep.add_blackholes()

    def restore_host(self) -> None:
        hostprep.remove_blackholes()
        hostprep.restore_sysctls(self.sysctl_record)

    def bare_kind_create_seconds(self, node_image: str) -> float:
        """For the benchmark: a plain `kind create cluster` (same image and config, no database), then delete."""
        docker = daemon.connect().activate()
        name = f"{self.config.cluster_name}-bare"
        config = self.rendered_cluster_config().read_text()
        config = re.sub(r"hostPort: (\d+)", lambda m: f"hostPort: {int(m.group(1)) + 1}", config)
        path = paths.state_dir() / "kind-bare.yaml"
        path.write_text(config)
        bench_record = self.state / "host-sysctls-bench.json"  # its own hold: the environment's stays
        hostprep.record_sysctls(bench_record)
        started = time.monotonic()
        try:
            self.kind(docker, "create", "cluster", "--name", name, "--image", node_image, "--config", str(path),
                      "--kubeconfig", str(paths.state_dir() / "kubeconfig-bare"))
            return time.monotonic() - started
        finally:
            self.kind(docker, "delete", "cluster", "--name", name, "--kubeconfig",
                      str(paths.state_dir() / "kubeconfig-bare"))
            path.unlink(missing_ok=True)
            hostprep.restore_sysctls(bench_record)

    def _unstick_api_connections(self, docker: Docker) -> None:
        """Let pods that dialled the API's ClusterIP before kube-proxy's rules existed connect now.

        CoreDNS starts as early as kube-proxy. Its first connection to 10.96.0.1:443 leaves the node
        un-NATed (and dies in the host's blackhole route); that conntrack entry keeps every retransmission
        of the connection un-NATed until client-go gives up after 30 s. Once the rules exist, deleting
        those entries lets the retransmissions be NATed, and CoreDNS becomes Ready seconds later.
        """
        node = self.node_container()

        def rules_programmed() -> Observation:
            nat = docker.run("exec", node, "iptables-save", "-t", "nat", check=False).stdout
            return Observation("default/kubernetes:https cluster IP" in nat, "kube-proxy has not written the "
                               "kubernetes Service rules yet")

        wait_for("kube-proxy to program the API Service", rules_programmed,
                 timeout=self.config.timeout("node_ready", 180))
        docker.run("exec", node, "conntrack", "-D", "-p", "tcp", "--orig-dst", "10.96.0.1", check=False)

    def node_exec(self, command: str, *, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """A shell command in the node container (its hostPath volumes, its services); never raises."""
        interactive = ["-i"] if input is not None else []
        return daemon.connect().run("exec", *interactive, self.node_container(), "sh", "-c", command, check=False,
                                    timeout=120, input=input)

    def kubelet(self, action: str) -> subprocess.CompletedProcess[str]:
        """`systemctl <action> kubelet` in the node container (is-active, stop, start): node faults and repairs."""
        return self.node_exec(f"systemctl {action} kubelet")

    def _cluster_is_ours(self) -> bool:
        state = self.read_state()
        return state.get("cluster") == self.config.cluster_name and self.kubeconfig.exists()

    def _node_diagnostics(self, docker: Docker) -> str:
        logs = docker.run("logs", "--tail", "30", self.node_container(), check=False).stdout
        return f"Last node container log lines:\n{logs}" if logs.strip() else ""

    def down(self, *, stop_daemon: bool | None = None, restore_host: bool | None = None) -> None:
        """Remove the cluster and the database, restore the host, stop the Docker daemon if we started it and nothing
        else runs on it. In a lane of LANES=n, by default neither of the last two: its coordinator does both after the
        last lane. Idempotent: with no daemon answering and none of the suite's to start again, there is nothing to
        remove, and the host is restored all the same (daemon.for_teardown)."""
        docker = daemon.for_teardown()
        if docker is None:
            note(f"no Docker daemon answers and the suite's own holds no containers: cluster "
                 f"{self.config.cluster_name} and its database are gone already; restoring the host only")
        else:
            self._remove_containers(docker)
        if not env_config.in_lanes() if restore_host is None else restore_host:
            self.restore_host()
        self.state_file.unlink(missing_ok=True)
        self.kubeconfig.unlink(missing_ok=True)
        if docker is not None and (not env_config.in_lanes() if stop_daemon is None else stop_daemon):
            daemon.stop_ours_when_idle(docker)

    def _remove_containers(self, docker: Docker) -> None:
        """The cluster, the database container and the network, whichever of them exist."""
        with step(f"deleting kind cluster {self.config.cluster_name}"):
            if self.cluster_exists(docker):
                self.kind(docker, "delete", "cluster", "--name", self.config.cluster_name,
                          "--kubeconfig", str(self.kubeconfig))
        db_name = f"{self.config.cluster_name}-{self.config.database.alias}"
        owned = docker.run("ps", "-aq", "--filter", f"name=^{db_name}$", "--filter",
                           f"label={images.OWNER_LABEL}").stdout.split()
        if owned:
            with step(f"removing database container {db_name}"):
                docker.run("rm", "-f", "-v", *owned)
        docker.run("network", "rm", self.config.network, check=False)
