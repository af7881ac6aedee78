"""The suite's MySQL-compatible database: a testcontainer on the cluster's docker network.

Pods reach it by a network alias on port 3306; the host reaches it on a 127.0.0.1 port. The image is
mysql:8.0 where a registry is reachable, else images/mariadb (same environment contract). Containers
carry the labels in DATABASE_LABELS so a cleanup can find them; Ryuk (testcontainers' reaper, a
Docker Hub image) is never used.
"""
from __future__ import annotations

import contextlib
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pymysql
from testcontainers.community.mysql import MySqlContainer
from testcontainers.core.config import testcontainers_config
from testcontainers.core.network import Network

from edirunbook.errors import EnvironmentNotReady, SetupError, StopWaiting, WaitTimeout
from edirunbook.redaction import redact
from edirunbook.waiting import Observation, wait_for

__all__ = [
    "CONTAINER_PORT",
    "DATABASE_LABELS",
    "INITDB_DIR",
    "ContainerSettings",
    "DatabaseSpec",
    "RunningDatabase",
    "container_settings",
    "find_existing",
    "start_database",
]

log = logging.getLogger(__name__)

CONTAINER_PORT = 3306
INITDB_DIR = "/docker-entrypoint-initdb.d"
DATABASE_LABELS: Mapping[str, str] = {"edirunbook.owner": "edirunbook", "edirunbook.role": "database"}
# Non-secret settings recorded on the container, so a later run can check it attaches to the same thing.
_SPEC_LABEL_PREFIX = "edirunbook.database."
_BUILD_HINT = (
    "build it with `docker build --build-arg BASE_IMAGE=edirunbook/debian-test:minbase "
    "-t edirunbook/mariadb:dev images/mariadb` (or `make images`)"
)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_DNS_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_SQL_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_ACCESS_DENIED = {1044, 1045, 1698}
_UNKNOWN_DATABASE = 1049


@dataclass(frozen=True, kw_only=True)
class DatabaseSpec:
    """What database to run and how it is reached; passwords are kept out of repr()."""

    image: str
    network: str
    password: str = field(repr=False)
    root_password: str = field(repr=False)
    alias: str = "bots-mysql"
    database: str = "bots"
    user: str = "bots"
    host_port: int = 0
    """127.0.0.1 port on the host; 0 picks a free one (kept across stop()/start())."""
    tmpfs_datadir: bool = False
    """Datadir on tmpfs: faster commits, but docker stop empties a tmpfs, so data does not survive stop()."""
    tmpfs_size: str = "1g"
    name: str = ""
    """Container name; empty means edirunbook-<alias>."""
    init_scripts: tuple[Path, ...] = ()
    """.sql, .sql.gz or .sh files run once by the image's entrypoint on first start, in name order."""
    allow_pull: bool = False
    """Pull the image when the daemon lacks it (only where a registry is reachable)."""

    def __post_init__(self) -> None:
        problems = list(_spec_problems(self))
        if problems:
            raise SetupError(
                f"The database settings are not usable: {'; '.join(problems)}. "
                "Fix them in the environment's settings (environments/<env>/env.yaml) and run again."
            )

    @property
    def container_name(self) -> str:
        return self.name or f"edirunbook-{self.alias}"

    def labels(self) -> dict[str, str]:
        """Labels for the container: the cleanup pair plus the non-secret settings."""
        settings = {
            "image": self.image,
            "network": self.network,
            "alias": self.alias,
            "name": self.database,
            "user": self.user,
            "tmpfs": str(self.tmpfs_datadir).lower(),
        }
        return {**DATABASE_LABELS, **{_SPEC_LABEL_PREFIX + key: value for key, value in settings.items()}}

    def secrets(self) -> tuple[str, ...]:
        return tuple(secret for secret in (self.password, self.root_password) if secret)


def _spec_problems(spec: DatabaseSpec) -> Iterable[str]:
    if not spec.image:
        yield "image is empty"
    if not _NAME_RE.match(spec.network):
        yield f"network {spec.network!r} is not a docker network name"
    if not _DNS_LABEL_RE.match(spec.alias):
        yield f"alias {spec.alias!r} is not a DNS label (lower-case letters, digits and '-')"
    if not _SQL_NAME_RE.match(spec.database):
        yield f"database name {spec.database!r} must be 1-64 letters, digits or '_'"
    if not _SQL_NAME_RE.match(spec.user):
        yield f"user {spec.user!r} must be 1-64 letters, digits or '_'"
    elif spec.user == "root":
        yield "user must not be root (the application gets its own user; root has root_password)"
    if not spec.password:
        yield "the user's password is empty"
    if not spec.root_password:
        yield "the root password is empty"
    if not 0 <= spec.host_port <= 65535:
        yield f"host_port {spec.host_port} is not 0 (any free port) or a port number"
    if not re.fullmatch(r"[1-9][0-9]*[kmg]?", spec.tmpfs_size):
        yield f"tmpfs_size {spec.tmpfs_size!r} is not a size like 512m or 1g"
    if spec.name and not _NAME_RE.match(spec.name):
        yield f"container name {spec.name!r} is not a docker container name"
    for script in spec.init_scripts:
        if not script.name.endswith((".sql", ".sql.gz", ".sh")):
            yield f"init script {script} is not .sql, .sql.gz or .sh"


def free_port() -> int:
    """A 127.0.0.1 port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def host_port_of(attrs: Mapping[str, Any]) -> int | None:
    """The 127.0.0.1 port that a container's inspect data maps to 3306, if any."""
    for binding in (attrs.get("NetworkSettings", {}).get("Ports") or {}).get(f"{CONTAINER_PORT}/tcp") or []:
        if binding.get("HostIp") in ("127.0.0.1", "") and binding.get("HostPort"):
            return int(binding["HostPort"])
    bindings = attrs.get("HostConfig", {}).get("PortBindings") or {}
    for binding in bindings.get(f"{CONTAINER_PORT}/tcp") or []:
        if binding.get("HostPort"):
            return int(binding["HostPort"])
    return None


def label_mismatches(spec: DatabaseSpec, labels: Mapping[str, str]) -> list[str]:
    """Settings on which a container's labels disagree with spec, as 'key: container X, wanted Y'."""
    return [
        f"{key.removeprefix(_SPEC_LABEL_PREFIX)}: container has {labels.get(key)!r}, wanted {wanted!r}"
        for key, wanted in spec.labels().items()
        if labels.get(key) != wanted
    ]


def describe_mysql_error(error: BaseException, secrets: Iterable[str]) -> str:
    """'MySQL error N: message' for PyMySQL errors, else the exception, without any secret."""
    args: tuple[Any, ...] = error.args
    if len(args) >= 2 and isinstance(args[0], int):
        text = f"MySQL error {args[0]}: {args[1]}"
    else:
        text = f"{type(error).__name__}: {error}"
    return redact(text, secrets)


def mysql_error_code(error: BaseException) -> int | None:
    args: tuple[Any, ...] = error.args
    return args[0] if args and isinstance(args[0], int) else None


class _ExistingNetwork(Network):
    """A testcontainers Network that names a docker network someone else created (the kind network)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def docker_client() -> Any:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        raise SetupError(
            f"Docker does not answer ({error}). Start the suite's Docker daemon (`make setup`) and export "
            "DOCKER_HOST to its socket (e.g. unix:///run/edirunbook/docker.sock), then run again."
        ) from error
    return client


def _check_prerequisites(client: Any, spec: DatabaseSpec) -> None:
    try:
        client.networks.get(spec.network)
    except docker.errors.NotFound:
        raise SetupError(
            f"The docker network {spec.network!r} that the database should join does not exist. Create the "
            f"kind cluster first (it makes the network), or `docker network create {spec.network}`."
        ) from None
    if not spec.allow_pull:
        try:
            client.images.get(spec.image)
        except docker.errors.ImageNotFound:
            raise SetupError(
                f"The database image {spec.image!r} is not on the Docker daemon and pulling is off "
                f"(no registry here): {_BUILD_HINT}, or set allow_pull where a registry is reachable."
            ) from None
    with contextlib.suppress(docker.errors.NotFound):
        existing = client.containers.get(spec.container_name)
        raise SetupError(
            f"A container named {spec.container_name!r} already exists ({existing.status}). Attach to it "
            "with find_existing() (KEEP=1 runs do), or remove it with "
            f"`docker rm -f {spec.container_name}` and run again."
        )


@dataclass(frozen=True)
class ContainerSettings:
    """Everything the database container is started with, as data (testcontainers gets exactly this)."""

    image: str
    name: str
    env: Mapping[str, str] = field(repr=False)
    labels: Mapping[str, str]
    network: str
    aliases: tuple[str, ...]
    ports: Mapping[int, tuple[str, int]]  # container port -> (host address, host port)
    tmpfs: Mapping[str, str]  # path -> mount options
    copies: tuple[tuple[Path, str], ...]  # (file on the host, path in the container)


def container_settings(spec: DatabaseSpec, host_port: int) -> ContainerSettings:
    """How spec becomes a container: published on loopback only, on the cluster's network under its alias."""
    return ContainerSettings(
        image=spec.image,
        name=spec.container_name,
        env={"MYSQL_ROOT_PASSWORD": spec.root_password, "MYSQL_DATABASE": spec.database,
             "MYSQL_USER": spec.user, "MYSQL_PASSWORD": spec.password},
        labels=spec.labels(),
        network=spec.network,
        aliases=(spec.alias,),
        ports={CONTAINER_PORT: ("127.0.0.1", host_port)},
        # docker takes the tmpfs value as mount options: "size=1g", not "1g"
        tmpfs={"/var/lib/mysql": f"size={spec.tmpfs_size}"} if spec.tmpfs_datadir else {},
        copies=tuple((script, f"{INITDB_DIR}/{script.name}") for script in spec.init_scripts),
    )


def _mysql_container(spec: DatabaseSpec, host_port: int) -> MySqlContainer:
    settings = container_settings(spec, host_port)
    container = MySqlContainer(
        settings.image,
        username=spec.user,
        password=spec.password,
        root_password=spec.root_password,
        dbname=spec.database,
        port=CONTAINER_PORT,
        name=settings.name,
        labels=dict(settings.labels),
    )
    container.with_network(_ExistingNetwork(settings.network)).with_network_aliases(*settings.aliases)
    for port, binding in settings.ports.items():
        # testcontainers' with_bind_ports cannot name a host address; its ports mapping can
        container.ports[str(port)] = binding  # type: ignore[assignment]
    for path, options in settings.tmpfs.items():
        container.with_tmpfs_mount(path, options)
    for source, target in settings.copies:
        container.with_copy_into_container(source, target)
    return container


def start_database(spec: DatabaseSpec, *, ready_timeout: float = 60.0, client: Any = None,
                   make_container: Callable[[DatabaseSpec, int], Any] = _mysql_container) -> RunningDatabase:
    """Start a new database container for spec and return it once the app user can run SELECT 1.

    `client` is a docker SDK client (default: from the environment); `make_container` builds the
    testcontainers container to start.
    """
    testcontainers_config.ryuk_disabled = True  # the reaper image lives on Docker Hub
    client = client or docker_client()
    _check_prerequisites(client, spec)
    host_port = spec.host_port or free_port()
    container = make_container(spec, host_port)
    started = time.monotonic()
    log.info("starting database %s (%s) on network %s as %s, 127.0.0.1:%d",
             spec.container_name, spec.image, spec.network, spec.alias, host_port)
    try:
        container.start()
    except BaseException as error:  # testcontainers raises plain TimeoutError/RuntimeError/APIError
        logs = _logs_of(client, spec.container_name, spec.secrets())
        _remove_quietly(client, spec.container_name)
        if not isinstance(error, Exception):
            raise
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        raise EnvironmentNotReady(
            f"The database container {spec.container_name!r} ({spec.image}) did not start: "
            f"{redact(first_line, spec.secrets())}. It was removed. Its last log lines: {logs or '(none)'}. "
            f"If the port is taken, set another host_port (or 0); if the image is broken, {_BUILD_HINT}."
        ) from None
    database = RunningDatabase(client.containers.get(container.get_container_id()), spec)
    try:
        database.wait_ready(ready_timeout)
    except BaseException:
        database.remove()
        raise
    database.startup_seconds = time.monotonic() - started
    log.info("database %s ready in %.1fs", spec.container_name, database.startup_seconds)
    return database


def _remove_quietly(client: Any, name: str) -> None:
    with contextlib.suppress(docker.errors.DockerException):
        client.containers.get(name).remove(force=True, v=True)


def find_existing(spec: DatabaseSpec, *, client: Any = None) -> RunningDatabase | None:
    """The database container a previous run left for spec (by name), or None if there is none."""
    client = client or docker_client()
    try:
        container = client.containers.get(spec.container_name)
    except docker.errors.NotFound:
        return None
    labels = container.labels or {}
    if any(labels.get(key) != value for key, value in DATABASE_LABELS.items()):
        raise SetupError(
            f"A container named {spec.container_name!r} exists but edirunbook did not start it (it lacks the "
            f"labels {dict(DATABASE_LABELS)}). Leave it alone by choosing another database name in the "
            "environment's settings, or remove it yourself if it is a leftover."
        )
    mismatches = label_mismatches(spec, labels)
    if mismatches:
        raise SetupError(
            f"The database container {spec.container_name!r} left by an earlier run has other settings "
            f"({'; '.join(mismatches)}). Remove it with `docker rm -f {spec.container_name}` so this run "
            "starts a fresh one, or run with the settings it was made with."
        )
    log.info("attaching to existing database %s (%s)", spec.container_name, container.status)
    return RunningDatabase(container, spec)


def _logs_of(client: Any, name: str, secrets: Iterable[str], tail: int = 8) -> str:
    try:
        raw = client.containers.get(name).logs(tail=tail)
    except docker.errors.DockerException:
        return ""
    return redact(raw.decode(errors="replace").strip().replace("\n", " | "), secrets)


class _Connection(pymysql.connections.Connection):
    """PyMySQL's connection, its default TLS context built once per process instead of once per connection.

    Given no TLS options, PyMySQL 1.2 uses TLS when the server offers it ("preferred") and builds that context for
    every connection: `ssl.create_default_context()` loads the system's CA bundle (57 ms of CPU here) into a context
    that then verifies nothing (no CA given: CERT_NONE, no hostname check). The suite opens a connection per query,
    hundreds in a lane; py-spy on a lane's pytest under `make verify` found 23 % of its CPU there. The context is the
    same each time, so the first one is kept (SSLContext serves many sockets and threads); explicit TLS options still
    get PyMySQL's own context, and what goes over the wire does not change.
    """

    _preferred_tls: ssl.SSLContext | None = None

    def _create_ssl_ctx(self, sslp: Any) -> ssl.SSLContext:
        if sslp != {}:
            return super()._create_ssl_ctx(sslp)  # type: ignore[misc]
        if _Connection._preferred_tls is None:
            _Connection._preferred_tls = super()._create_ssl_ctx(sslp)  # type: ignore[misc]
        return _Connection._preferred_tls


def connect_mysql(**kwargs: Any) -> Any:
    """pymysql.connect's arguments and connection, with the TLS context of its default mode shared (_Connection)."""
    return _Connection(**kwargs)


class RunningDatabase:
    """A database container the suite started (or found): host side, pod side, and its lifecycle."""

    host = "127.0.0.1"
    network_port = CONTAINER_PORT

    def __init__(self, container: Any, spec: DatabaseSpec, *,
                 connector: Callable[..., Any] = connect_mysql) -> None:
        """`container` is a docker SDK container; `connector` opens a DB-API connection (PyMySQL's, by default)."""
        self._container = container
        self.spec = spec
        self.startup_seconds: float | None = None
        self._connector = connector

    def __repr__(self) -> str:
        return (
            f"RunningDatabase(name={self.name!r}, id={self.container_id[:12]}, host={self.host}, "
            f"port={self._port_or_none()}, network={self.spec.network!r}, alias={self.network_host!r}, "
            f"database={self.spec.database!r}, user={self.spec.user!r})"
        )

    @property
    def container_id(self) -> str:
        return str(self._container.id)

    @property
    def name(self) -> str:
        return self.spec.container_name

    @property
    def network_host(self) -> str:
        """The name pods and other containers on the network use."""
        return self.spec.alias

    @property
    def status(self) -> str:
        """Docker's view: running, paused, exited, created ... or 'removed'."""
        try:
            self._container.reload()
        except docker.errors.NotFound:
            return "removed"
        return str(self._container.status)

    @property
    def port(self) -> int:
        """The 127.0.0.1 port on the host that reaches 3306."""
        port = self._port_or_none()
        if port is None:
            raise EnvironmentNotReady(
                f"The database container {self.name!r} publishes no port for 3306 (status {self.status}). "
                f"Remove it (`docker rm -f {self.name}`) and start the database again."
            )
        return port

    def _port_or_none(self) -> int | None:
        return host_port_of(self._container.attrs)

    def connect(self, *, as_root: bool = False, database: str | None = None,
                connect_timeout: float = 5.0, **kwargs: Any) -> pymysql.connections.Connection[Any]:
        """A PyMySQL connection from the host (utf8mb4), as the app user or as root."""
        user = "root" if as_root else self.spec.user
        dbname = self.spec.database if database is None else database
        port = self.port
        try:
            return self._open(port, as_root=as_root, database=dbname, connect_timeout=connect_timeout, **kwargs)
        except pymysql.err.MySQLError as error:
            raise self._connect_error(error, user, port, dbname) from None

    def _open(self, port: int, *, as_root: bool, database: str, **kwargs: Any) -> Any:
        return self._connector(
            host=self.host, port=port, user="root" if as_root else self.spec.user,
            password=self.spec.root_password if as_root else self.spec.password,
            database=database or None, charset="utf8mb4", **kwargs)

    @contextlib.contextmanager
    def cursor(self, *, as_root: bool = False, database: str | None = None, **kwargs: Any) -> Iterator[Any]:
        """A cursor on a new connection; commits when the block ends without error, always closes."""
        connection = self.connect(as_root=as_root, database=database, **kwargs)
        try:
            with connection.cursor() as cursor:
                yield cursor
            connection.commit()
        finally:
            connection.close()

    def query(self, sql: str, params: Sequence[Any] | None = None, *, as_root: bool = False,
              database: str | None = None) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (none for a statement that returns none); committed."""
        with self.cursor(as_root=as_root, database=database) as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def _connect_error(self, error: BaseException, user: str, port: int, dbname: str) -> EnvironmentNotReady:
        detail = describe_mysql_error(error, self.spec.secrets())
        code = mysql_error_code(error)
        where = f"{self.host}:{port} (container {self.name!r}) as user {user!r}"
        if code in _ACCESS_DENIED:
            return EnvironmentNotReady(
                f"The database at {where} refused the login to database {dbname!r} ({detail}). The password in "
                "the environment's settings does not match the one the database was created with: fix the "
                f"settings, or remove the container (`docker rm -f {self.name}`) so the next run creates it "
                "with the current ones."
            )
        if code == _UNKNOWN_DATABASE:
            return EnvironmentNotReady(
                f"The database server at {where} has no database {dbname!r} ({detail}). The container was "
                f"made with other settings: remove it (`docker rm -f {self.name}`) and run again."
            )
        return EnvironmentNotReady(
            f"Cannot reach the database at {where} ({detail}); the container is {self.status}. "
            f"See `docker logs {self.name}`; start it again (RunningDatabase.start / unpause) if it was "
            "stopped or paused on purpose, or remove it and run again."
        )

    def wait_ready(self, timeout: float = 60.0, interval: float = 0.25) -> float:
        """Poll SELECT 1 as the app user until it works; returns the seconds waited.

        A refused login or a missing database fails at once (waiting cannot fix them); so does a
        container that has exited. On timeout the error names the last failure and the last log lines.
        """
        attempt_timeout = max(1.0, min(5.0, timeout))

        def select_one() -> Observation:
            try:
                port = self.port
            except EnvironmentNotReady as error:  # no published port: waiting cannot make one
                raise StopWaiting(str(error)) from None
            try:
                # A paused server accepts TCP but never answers: bound the handshake read as well.
                connection = self._open(port, as_root=False, database=self.spec.database,
                                        connect_timeout=attempt_timeout, read_timeout=attempt_timeout,
                                        write_timeout=attempt_timeout)
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT 1")
                        cursor.fetchone()
                finally:
                    connection.close()
                return Observation(True, "SELECT 1 answered")
            except pymysql.err.MySQLError as error:
                if mysql_error_code(error) in _ACCESS_DENIED | {_UNKNOWN_DATABASE}:
                    raise StopWaiting(str(self._connect_error(error, self.spec.user, port,
                                                              self.spec.database))) from None
                last_error = describe_mysql_error(error, self.spec.secrets())
            status = self.status
            if status in ("exited", "dead", "removed"):
                raise StopWaiting(
                    f"The database container {self.name!r} is {status}, so it cannot become ready. Its last "
                    f"log lines: {self.logs(8) or '(none)'}. Start it again, or remove it and run again.")
            return Observation(False, last_error)

        try:
            return wait_for(f"SELECT 1 on {self.name}", select_one, timeout=timeout, interval=interval)
        except StopWaiting as error:
            raise EnvironmentNotReady(str(error)) from None
        except WaitTimeout as error:
            raise EnvironmentNotReady(
                f"The database {self.name!r} at {self.host}:{self._port_or_none()} did not answer SELECT 1 as user "
                f"{self.spec.user!r} within {timeout:.0f}s (container {self.status}). Last error: "
                f"{error.last_seen}. Last log lines: {self.logs(8) or '(none)'}."
            ) from None

    def ensure_running(self, timeout: float = 60.0) -> float:
        """Bring a paused or stopped database back (a scenario's outage) and wait until it answers."""
        status = self.status
        if status == "paused":
            self.unpause()
        elif status != "running":
            self.start(wait=False)
        return self.wait_ready(timeout)

    def stop(self, timeout: int = 30) -> None:
        """docker stop: SIGTERM, a clean shutdown. On a tmpfs datadir this throws the data away."""
        if self.spec.tmpfs_datadir:
            log.warning("stopping database %s, whose datadir is on tmpfs: its data is lost, and start() "
                        "brings up a freshly initialised database", self.name)
        log.info("stopping database %s", self.name)
        self._docker_call("stop", lambda: self._container.stop(timeout=timeout))

    def start(self, *, wait: bool = True, timeout: float = 60.0) -> None:
        """Start the same container again (after stop()), by default until SELECT 1 works."""
        log.info("starting database %s again", self.name)
        self._docker_call("start", self._container.start)
        self._container.reload()
        if wait:
            self.wait_ready(timeout)

    def pause(self) -> None:
        """Freeze every process of the database: connections hang instead of failing."""
        self._docker_call("pause", self._container.pause)

    def unpause(self) -> None:
        self._docker_call("unpause", self._container.unpause)

    def remove(self) -> None:
        """Remove the container (and its data); a container that is already gone is fine."""
        log.info("removing database %s", self.name)
        with contextlib.suppress(docker.errors.NotFound):
            self._container.remove(force=True, v=True)

    def logs(self, tail: int = 50) -> str:
        """The container's last log lines on one line each, joined by ' | ', with no secret in them."""
        try:
            raw = self._container.logs(tail=tail)
        except docker.errors.DockerException:
            return ""
        return redact(raw.decode(errors="replace").strip().replace("\n", " | "), self.spec.secrets())

    def _docker_call(self, action: str, call: Any) -> None:
        try:
            call()
        except docker.errors.APIError as error:
            raise EnvironmentNotReady(
                f"Could not {action} the database container {self.name!r}: "
                f"{redact(str(error.explanation or error), self.spec.secrets())}. "
                f"Look at `docker ps -a --filter name={self.name}` and `docker logs {self.name}`."
            ) from None
