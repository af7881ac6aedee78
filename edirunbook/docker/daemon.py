"""Find a Docker daemon, or start one of our own (root on Debian), and stop only what we started.

A daemon we start gets its own socket, pidfile, data-root, exec-root and bridge, so it can
never disturb another daemon on the machine. Where the host's capability bounding set lacks
capabilities that `--privileged` asks for, our daemon runs containers through runc_shim.py,
which drops exactly those (kind's node containers are privileged).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from edirunbook import paths
from edirunbook.errors import SetupError
from edirunbook.process import note, run, step

RUN_DIR = Path("/run/edirunbook")
OUR_SOCKET = RUN_DIR / "docker.sock"
PIDFILE = RUN_DIR / "dockerd.pid"
MARKER = RUN_DIR / "started-by-edirunbook"
BRIDGE = "edirb0"
BRIDGE_ADDRESS = "10.213.0.1/24"
SHIM_RUNTIME = "edirunbook-runc"
DEFAULT_SOCKET = Path("/var/run/docker.sock")
# a cold build: Kubernetes and the cluster add-ons (Traefik alone: 3 GiB of modules, 4.6 GiB of build cache)
MIN_FREE_GIB = 25


@dataclass(frozen=True)
class Docker:
    """How to reach the daemon: the DOCKER_HOST value (None: the client's default)."""

    host: str | None
    started_by_us: bool = False

    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.host} if self.host else {}

    def activate(self) -> Docker:
        """Point this process's Docker clients (docker SDK, testcontainers) at this daemon."""
        if self.host:
            os.environ["DOCKER_HOST"] = self.host
        return self

    def run(self, *args: str, check: bool = True, timeout: float | None = None,
            input: str | bytes | None = None) -> subprocess.CompletedProcess[str]:
        return run(["docker", *args], env=self.env(), check=check, timeout=timeout, input=input)


def _probe(host: str | None) -> tuple[bool, str]:
    env = {**os.environ}
    if host:
        env["DOCKER_HOST"] = host
    else:
        env.pop("DOCKER_HOST", None)
    try:
        proc = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], env=env,
                              capture_output=True, text=True, timeout=15, check=False)
    except FileNotFoundError:
        return False, "the docker command is not installed"
    except subprocess.TimeoutExpired:
        return False, "the daemon did not answer within 15 s"
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()


def missing_capabilities() -> int:
    """Bitmask of capabilities the kernel knows but this process's bounding set lacks."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return ((1 << (last + 1)) - 1) & ~int(line.split()[1], 16)
    return 0


def connect() -> Docker:
    """The daemon to use, without starting anything; raises SetupError when none answers."""
    explicit = os.environ.get("DOCKER_HOST")
    if explicit:
        ok, detail = _probe(explicit)
        if ok:
            return Docker(explicit, started_by_us=explicit == f"unix://{OUR_SOCKET}" and MARKER.exists())
        raise SetupError(f"DOCKER_HOST={explicit} does not answer ({detail}). Start that daemon, or unset "
                         "DOCKER_HOST so the suite finds or starts one itself.")
    if OUR_SOCKET.exists():
        ok, detail = _probe(f"unix://{OUR_SOCKET}")
        if ok:
            return Docker(f"unix://{OUR_SOCKET}", started_by_us=MARKER.exists())
        if "permission denied" in detail.lower():
            raise SetupError(
                f"The suite's Docker daemon runs ({OUR_SOCKET}) but this user may not use it (permission denied). "
                "Run the suite as root, as that daemon was started by root.")
    ok, detail = _probe(None)
    if ok:
        return Docker(None)
    if "permission denied" in detail.lower():
        raise SetupError(
            "Docker is running but this user may not use it (permission denied on the Docker socket). "
            "Add yourself to the docker group (`sudo usermod -aG docker $USER`, then log in again) or run as root.")
    raise SetupError(f"No Docker daemon answers ({detail}).")


def _answering() -> tuple[Docker | None, str]:
    """The daemon that answers, or None and why none does; raises what starting our own could not mend (a
    DOCKER_HOST that does not answer, a socket this user may not use)."""
    try:
        return connect(), ""
    except SetupError as error:
        if os.environ.get("DOCKER_HOST") or "permission denied" in str(error):
            raise
        return None, str(error)


def _start_ours(*, install: bool) -> Docker:
    """Start the suite's own daemon (installed first when `install`), unless another process did meanwhile."""
    with paths.cache_lock("dockerd"):  # `make test` starts its image build and its image tests at once
        try:
            return connect()  # the other one started it meanwhile
        except SetupError:
            pass
        if install:
            check_disk_space()
            install_docker()
        return start()


def ensure() -> Docker:
    """Use the daemon that answers, or install and start our own when we are root."""
    docker, reason = _answering()
    if docker is not None:
        return docker
    if os.geteuid() != 0:
        raise SetupError(
            f"{reason} The suite can start its own daemon only as root. Either start Docker "
            "(`sudo systemctl start docker`, or Docker Desktop) and make sure `docker ps` works for you, "
            "or run `sudo make env-up`.")
    return _start_ours(install=True)


def for_teardown() -> Docker | None:
    """The daemon a teardown removes the suite's containers from: the one that answers; when none does, the suite's
    own started again if its data root still holds containers (stopped with it), so a `make env-down` leaves nothing
    behind; None when there is neither, and so nothing of the suite to remove."""
    docker, _ = _answering()
    if docker is not None:
        return docker
    containers = paths.cache_dir() / "docker" / "containers"
    if os.geteuid() != 0 or not shutil.which("dockerd") or not containers.is_dir() or not any(containers.iterdir()):
        return None
    return _start_ours(install=False)


def check_disk_space(minimum_gib: int = MIN_FREE_GIB) -> None:
    cache = paths.cache_dir()
    free = shutil.disk_usage(cache).free / 2**30
    if free < minimum_gib:
        raise SetupError(
            f"Not enough disk space for the image build: {free:.1f} GiB free under {cache}, "
            f"{minimum_gib} GiB needed. Free some space (`make clean` removes this suite's images), or point "
            "EDIRUNBOOK_CACHE at a disk with room.")


def install_docker() -> None:
    if shutil.which("dockerd"):
        return
    if not Path("/etc/debian_version").exists() or not shutil.which("apt-get"):
        raise SetupError("No Docker daemon is installed and this is not Debian/Ubuntu, so the suite cannot "
                         "install one. Install Docker Engine, start it, and run again.")
    with step("installing Debian's docker.io (dockerd was not found)"):
        apt_install(["docker.io"])


def apt_install(packages: list[str]) -> None:
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    lists = Path("/var/lib/apt/lists")
    if not any(lists.glob("*Packages*")):
        run(["apt-get", "update", "-qq"], env=env, timeout=600)
    result = run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env,
                 check=False, timeout=1200)
    if result.returncode != 0:
        run(["apt-get", "update", "-qq"], env=env, timeout=600)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env, timeout=1200)


def _install_shim() -> Path:
    target = paths.bin_dir() / "edirunbook-runc"
    source = Path(__file__).with_name("runc_shim.py")
    if not target.exists() or target.read_bytes() != source.read_bytes():
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(source, tmp)
        tmp.chmod(0o755)
        tmp.replace(target)
    return target


def _ensure_bridge() -> None:
    if run(["ip", "link", "show", BRIDGE], check=False).returncode == 0:
        return
    run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    run(["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])


def start(timeout: float = 90) -> Docker:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    _ensure_bridge()
    args = ["dockerd", "--host", f"unix://{OUR_SOCKET}", "--pidfile", str(PIDFILE),
            "--data-root", str(paths.cache_dir() / "docker"), "--exec-root", str(RUN_DIR / "docker-exec"),
            "--bridge", BRIDGE]
    if missing_capabilities():
        args += ["--add-runtime", f"{SHIM_RUNTIME}={_install_shim()}", "--default-runtime", SHIM_RUNTIME]
    log = paths.cache_dir() / "logs" / "dockerd.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with step(f"starting dockerd (socket {OUR_SOCKET}, log {log})"):
        with log.open("ab") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        MARKER.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        host = f"unix://{OUR_SOCKET}"
        while True:
            ok, detail = _probe(host)
            if ok:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                MARKER.unlink(missing_ok=True)
                raise SetupError(f"dockerd did not come up ({detail}). Last lines of {log}:\n{tail}")
            time.sleep(0.5)
        if missing_capabilities():
            note(f"privileged containers run through {SHIM_RUNTIME} (host bounding set lacks capabilities)")
    return Docker(host, started_by_us=True)


def stop_ours_when_idle(docker: Docker) -> bool:
    """Stop the daemon this suite started unless containers still run on it (the suite's cluster, or the game days'
    staging cluster: each one's `down` leaves the daemon to the other); True if it was stopped."""
    if not docker.started_by_us:
        return False
    still = docker.run("ps", "--format", "{{.Names}}").stdout.split()
    if still:
        note(f"the suite's Docker daemon keeps running: {', '.join(sorted(still))} still run on it "
             "(`make env-down` or `make staging-down` removes them, `make clean` everything)")
        return False
    return stop_ours()


def stop_ours(timeout: float = 60) -> bool:
    """Stop the daemon this suite started; never touches any other. True if one was stopped."""
    if not MARKER.exists():
        return False
    try:
        pid = int(PIDFILE.read_text())
    except (OSError, ValueError):
        pid = int(MARKER.read_text() or 0)
    with step(f"stopping the dockerd this suite started (pid {pid})"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    MARKER.unlink(missing_ok=True)
    run(["ip", "link", "del", BRIDGE], check=False)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()
