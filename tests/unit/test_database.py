"""The database layer's own logic, with fakes for Docker and PyMySQL (the real container: tests/integration)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import docker.errors
import pymysql
import pytest
from testcontainers.core.config import testcontainers_config

from edirunbook import database
from edirunbook.database import DATABASE_LABELS, DatabaseSpec, RunningDatabase
from edirunbook.errors import EnvironmentNotReady, SetupError

PASSWORD = "app-Secr3t'pw"
ROOT_PASSWORD = "root-Secr3t-pw"


def make_spec(**changes: Any) -> DatabaseSpec:
    settings: dict[str, Any] = {
        "image": "edirunbook/mariadb:dev",
        "network": "kind",
        "password": PASSWORD,
        "root_password": ROOT_PASSWORD,
    }
    settings.update(changes)
    return DatabaseSpec(**settings)


def published(port: int) -> dict[str, Any]:
    return {"NetworkSettings": {"Ports": {"3306/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}}}


class FakeContainer:
    def __init__(self, *, status: str = "running", labels: dict[str, str] | None = None,
                 attrs: dict[str, Any] | None = None, logs: bytes = b"") -> None:
        self.id = "0123456789abcdef0123"
        self.status = status
        self.labels = labels or {}
        self.attrs = attrs if attrs is not None else published(43306)
        self._logs = logs
        self.calls: list[str] = []
        self.gone = False

    def reload(self) -> None:
        if self.gone:
            raise docker.errors.NotFound("gone")

    def logs(self, tail: int = 50) -> bytes:
        return self._logs

    def stop(self, timeout: int = 10) -> None:
        self.calls.append("stop")
        self.status = "exited"

    def start(self) -> None:
        self.calls.append("start")
        self.status = "running"

    def pause(self) -> None:
        raise docker.errors.APIError("409 Conflict", explanation="Container 0123 is not running")

    def unpause(self) -> None:
        self.calls.append("unpause")

    def remove(self, force: bool = False, v: bool = False) -> None:
        if self.gone:
            raise docker.errors.NotFound("No such container")
        self.calls.append("remove")
        self.gone = True


class FakeCollection:
    def __init__(self, items: dict[str, Any]) -> None:
        self.items = items

    def get(self, name: str) -> Any:
        if name not in self.items:
            raise docker.errors.ImageNotFound(name) if "/" in name or ":" in name else docker.errors.NotFound(name)
        return self.items[name]


class FakeDocker:
    def __init__(self, *, networks: dict[str, Any] | None = None, images: dict[str, Any] | None = None,
                 containers: dict[str, Any] | None = None) -> None:
        self.networks = FakeCollection(networks if networks is not None else {"kind": object()})
        self.images = FakeCollection(images if images is not None else {"edirunbook/mariadb:dev": object()})
        self.containers = FakeCollection(containers or {})


def assert_no_secret(text: str) -> None:
    assert PASSWORD not in text
    assert ROOT_PASSWORD not in text


# --- DatabaseSpec ------------------------------------------------------------------------------------------


def test_spec_defaults_name_the_container_after_the_alias() -> None:
    spec = make_spec()
    assert spec.alias == "bots-mysql"
    assert spec.container_name == "edirunbook-bots-mysql"
    assert make_spec(name="kind-bots-mysql").container_name == "kind-bots-mysql"


def test_spec_repr_and_labels_hold_no_password() -> None:
    spec = make_spec()
    assert_no_secret(repr(spec))
    assert_no_secret(repr(spec.labels()))
    assert spec.labels()["edirunbook.owner"] == "edirunbook"
    assert spec.labels()["edirunbook.role"] == "database"
    assert spec.labels()["edirunbook.database.user"] == "bots"


def test_spec_reports_every_problem_in_one_message() -> None:
    with pytest.raises(SetupError) as error:
        make_spec(alias="Bots_MySQL", user="root", password="", host_port=70000, tmpfs_size="lots",
                  init_scripts=(Path("seed.txt"),))
    message = str(error.value)
    for expected in ("alias 'Bots_MySQL'", "must not be root", "password is empty", "host_port 70000",
                     "tmpfs_size 'lots'", "seed.txt", "env.yaml"):
        assert expected in message
    assert_no_secret(message)


@pytest.mark.parametrize("database_name", ["bots; DROP", "", "x" * 65, "bøts"])
def test_spec_rejects_database_names_the_entrypoint_cannot_quote_plainly(database_name: str) -> None:
    with pytest.raises(SetupError, match="database name"):
        make_spec(database=database_name)


# --- small helpers -----------------------------------------------------------------------------------------


def test_redact_replaces_longer_secrets_first() -> None:
    assert database.redact("a pw-long b pw c", ["pw", "pw-long"]) == "a *** b *** c"
    assert database.redact("nothing here", ["", "pw"]) == "nothing here"


def test_host_port_is_read_from_the_loopback_binding() -> None:
    assert database.host_port_of(published(41000)) == 41000
    configured_only = {"HostConfig": {"PortBindings": {"3306/tcp": [{"HostIp": "127.0.0.1", "HostPort": "41001"}]}}}
    assert database.host_port_of(configured_only) == 41001
    assert database.host_port_of({"NetworkSettings": {"Ports": {}}}) is None


def test_free_port_is_a_bindable_loopback_port() -> None:
    assert 1024 <= database.free_port() <= 65535


def test_mysql_errors_are_described_by_code_without_secrets() -> None:
    error = pymysql.err.OperationalError(1045, f"Access denied (tried {PASSWORD})")
    text = database.describe_mysql_error(error, [PASSWORD])
    assert text.startswith("MySQL error 1045: Access denied")
    assert_no_secret(text)
    assert database.mysql_error_code(error) == 1045
    assert database.mysql_error_code(ValueError("x")) is None


def test_label_mismatches_name_each_differing_setting() -> None:
    spec = make_spec()
    labels = {**spec.labels(), "edirunbook.database.user": "other", "edirunbook.database.tmpfs": "true"}
    mismatches = database.label_mismatches(spec, labels)
    assert mismatches == ["user: container has 'other', wanted 'bots'",
                          "tmpfs: container has 'true', wanted 'false'"]
    assert database.label_mismatches(spec, spec.labels()) == []


# --- the testcontainers configuration ----------------------------------------------------------------------


class OfflineDockerClient:
    """Stands in for testcontainers' DockerClient, which would talk to a daemon when made."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


def test_mysql_container_is_configured_for_loopback_network_tmpfs_and_labels(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("testcontainers.core.container.DockerClient", OfflineDockerClient)
    monkeypatch.setattr("testcontainers.core.network.DockerClient", OfflineDockerClient)
    script = tmp_path / "10-schema.sql"
    script.write_text("CREATE TABLE t (id INT);\n")
    spec = make_spec(tmpfs_datadir=True, tmpfs_size="512m", init_scripts=(script,), name="kind-bots-mysql")

    container = database._mysql_container(spec, 43306)
    container._configure()

    assert container.ports == {"3306": ("127.0.0.1", 43306)}
    assert container.tmpfs == {"/var/lib/mysql": "size=512m"}
    assert container._network is not None and container._network.name == "kind"
    assert container._network_aliases == ["bots-mysql"]
    assert container._name == "kind-bots-mysql"
    assert container._kwargs["labels"] == spec.labels()
    assert container.env == {"MYSQL_ROOT_PASSWORD": ROOT_PASSWORD, "MYSQL_DATABASE": "bots",
                             "MYSQL_USER": "bots", "MYSQL_PASSWORD": PASSWORD}
    assert container._transferable_specs == [(script, "/docker-entrypoint-initdb.d/10-schema.sql", 0o644)]


def test_mysql_container_without_tmpfs_keeps_the_datadir_in_the_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("testcontainers.core.container.DockerClient", OfflineDockerClient)
    monkeypatch.setattr("testcontainers.core.network.DockerClient", OfflineDockerClient)
    assert database._mysql_container(make_spec(), 43306).tmpfs == {}


# --- start_database / find_existing preconditions ----------------------------------------------------------


@pytest.fixture
def ryuk_setting() -> Any:
    saved = testcontainers_config.ryuk_disabled
    testcontainers_config.ryuk_disabled = False
    yield
    testcontainers_config.ryuk_disabled = saved


def use_docker(monkeypatch: pytest.MonkeyPatch, fake: FakeDocker) -> None:
    monkeypatch.setattr(database, "_docker_client", lambda: fake)


def test_missing_network_is_a_setup_error_that_says_how_to_make_it(
        monkeypatch: pytest.MonkeyPatch, ryuk_setting: Any) -> None:
    use_docker(monkeypatch, FakeDocker(networks={}))
    with pytest.raises(SetupError) as error:
        database.start_database(make_spec())
    assert "docker network 'kind'" in str(error.value)
    assert "docker network create kind" in str(error.value)
    assert testcontainers_config.ryuk_disabled is True


def test_missing_image_says_how_to_build_it_and_does_not_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    use_docker(monkeypatch, FakeDocker(images={}))
    with pytest.raises(SetupError) as error:
        database.start_database(make_spec())
    assert "docker build --build-arg BASE_IMAGE=" in str(error.value)
    assert "images/mariadb" in str(error.value)


def test_an_existing_container_of_the_same_name_is_not_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    use_docker(monkeypatch, FakeDocker(containers={"edirunbook-bots-mysql": FakeContainer(status="exited")}))
    with pytest.raises(SetupError) as error:
        database.start_database(make_spec())
    assert "already exists (exited)" in str(error.value)
    assert "find_existing" in str(error.value)
    assert "docker rm -f edirunbook-bots-mysql" in str(error.value)


class FailingStart:
    def start(self) -> None:
        raise TimeoutError(f"Container did not emit logs containing ready (env MYSQL_PASSWORD={PASSWORD})\nmore")


def test_a_failed_start_removes_the_container_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    half_started = FakeContainer(status="exited", logs=b"[ERROR] [Entrypoint] mariadb-install-db failed")
    fake = FakeDocker()
    use_docker(monkeypatch, fake)
    monkeypatch.setattr(database, "_mysql_container", lambda spec, port: FailingStart())
    monkeypatch.setattr(fake.containers, "get", lambda name: half_started)
    monkeypatch.setattr(database, "_check_prerequisites", lambda client, spec: None)
    with pytest.raises(EnvironmentNotReady) as error:
        database.start_database(make_spec())
    message = str(error.value)
    assert "did not start: Container did not emit logs" in message
    assert "mariadb-install-db failed" in message and "It was removed" in message
    assert "\n" not in message
    assert_no_secret(message)
    assert half_started.calls == ["remove"]


def test_find_existing_returns_none_when_there_is_no_container(monkeypatch: pytest.MonkeyPatch) -> None:
    use_docker(monkeypatch, FakeDocker())
    assert database.find_existing(make_spec()) is None


def test_find_existing_attaches_to_a_container_with_matching_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec()
    container = FakeContainer(labels=spec.labels())
    use_docker(monkeypatch, FakeDocker(containers={spec.container_name: container}))
    found = database.find_existing(spec)
    assert found is not None
    assert found.container_id == container.id
    assert found.port == 43306


def test_find_existing_refuses_a_container_edirunbook_did_not_make(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec()
    use_docker(monkeypatch, FakeDocker(containers={spec.container_name: FakeContainer(labels={})}))
    with pytest.raises(SetupError, match="edirunbook did not start it"):
        database.find_existing(spec)


def test_find_existing_refuses_a_container_with_other_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec()
    labels = {**spec.labels(), "edirunbook.database.name": "otherdb"}
    use_docker(monkeypatch, FakeDocker(containers={spec.container_name: FakeContainer(labels=labels)}))
    with pytest.raises(SetupError) as error:
        database.find_existing(spec)
    assert "name: container has 'otherdb', wanted 'bots'" in str(error.value)
    assert "docker rm -f edirunbook-bots-mysql" in str(error.value)


# --- RunningDatabase ---------------------------------------------------------------------------------------


def running(container: FakeContainer | None = None, **changes: Any) -> RunningDatabase:
    return RunningDatabase(container or FakeContainer(), make_spec(**changes))


def test_running_database_describes_both_sides_without_secrets() -> None:
    db = running()
    assert (db.host, db.port) == ("127.0.0.1", 43306)
    assert (db.network_host, db.network_port) == ("bots-mysql", 3306)
    text = repr(db)
    assert "port=43306" in text and "alias='bots-mysql'" in text
    assert_no_secret(text)


def test_a_container_without_a_published_port_is_reported() -> None:
    db = running(FakeContainer(attrs={}))
    with pytest.raises(EnvironmentNotReady, match="publishes no port"):
        _ = db.port


def refuse(error: BaseException) -> Any:
    def connect(*args: Any, **kwargs: Any) -> Any:
        raise error

    return connect


def test_wrong_password_gives_one_actionable_paragraph(monkeypatch: pytest.MonkeyPatch) -> None:
    db = running()
    monkeypatch.setattr(db, "_pymysql_connect", refuse(pymysql.err.OperationalError(
        1045, "Access denied for user 'bots'@'10.213.0.1' (using password: YES)")))
    with pytest.raises(EnvironmentNotReady) as error:
        db.connect()
    message = str(error.value)
    assert "127.0.0.1:43306" in message and "as user 'bots'" in message
    assert "refused the login" in message and "docker rm -f edirunbook-bots-mysql" in message
    assert "\n" not in message
    assert_no_secret(message)


def test_unreachable_database_names_the_container_state(monkeypatch: pytest.MonkeyPatch) -> None:
    db = running(FakeContainer(status="exited"))
    monkeypatch.setattr(db, "_pymysql_connect", refuse(pymysql.err.OperationalError(
        2003, "Can't connect to MySQL server on '127.0.0.1' ([Errno 111] Connection refused)")))
    with pytest.raises(EnvironmentNotReady) as error:
        db.connect(as_root=True)
    message = str(error.value)
    assert "Cannot reach the database at 127.0.0.1:43306" in message
    assert "as user 'root'" in message and "the container is exited" in message
    assert_no_secret(message)


class ScriptedConnect:
    """Fails with the given errors, then connects to a server that answers SELECT 1."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.attempts = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return FakeConnection()


class FakeConnection:
    def cursor(self) -> FakeCursor:
        return FakeCursor()

    def close(self) -> None:
        pass


class FakeCursor:
    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def execute(self, sql: str) -> None:
        assert sql == "SELECT 1"

    def fetchone(self) -> tuple[int]:
        return (1,)


REFUSED = pymysql.err.OperationalError(2003, "Can't connect to MySQL server (Connection refused)")


def test_wait_ready_polls_through_refused_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    db = running()
    connect = ScriptedConnect(REFUSED, REFUSED)
    monkeypatch.setattr(db, "_pymysql_connect", connect)
    assert db.wait_ready(timeout=5, interval=0.01) >= 0
    assert connect.attempts == 3


def test_wait_ready_timeout_reports_the_last_error_and_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    db = running(FakeContainer(logs=f"Note: starting\nMYSQL_PASSWORD={PASSWORD}\n".encode()))
    monkeypatch.setattr(db, "_pymysql_connect", refuse(REFUSED))
    with pytest.raises(EnvironmentNotReady) as error:
        db.wait_ready(timeout=0.05, interval=0.01)
    message = str(error.value)
    assert "did not answer SELECT 1 as user 'bots'" in message
    assert "MySQL error 2003" in message and "Note: starting" in message
    assert_no_secret(message)


def test_wait_ready_gives_up_at_once_on_a_refused_login(monkeypatch: pytest.MonkeyPatch) -> None:
    db = running()
    connect = ScriptedConnect(pymysql.err.OperationalError(1045, "Access denied"), REFUSED)
    monkeypatch.setattr(db, "_pymysql_connect", connect)
    with pytest.raises(EnvironmentNotReady, match="refused the login"):
        db.wait_ready(timeout=5, interval=0.01)
    assert connect.attempts == 1


def test_wait_ready_gives_up_at_once_on_an_exited_container(monkeypatch: pytest.MonkeyPatch) -> None:
    db = running(FakeContainer(status="exited", logs=b"[ERROR] mariadb-install-db failed"))
    monkeypatch.setattr(db, "_pymysql_connect", refuse(REFUSED))
    with pytest.raises(EnvironmentNotReady) as error:
        db.wait_ready(timeout=5, interval=0.01)
    assert "is exited" in str(error.value) and "mariadb-install-db failed" in str(error.value)


def test_stop_start_remove_drive_the_same_container(monkeypatch: pytest.MonkeyPatch) -> None:
    container = FakeContainer()
    db = running(container)
    monkeypatch.setattr(db, "_pymysql_connect", ScriptedConnect())
    db.stop()
    assert db.status == "exited"
    db.start(timeout=5)
    db.unpause()
    db.remove()
    db.remove()  # already gone: fine
    assert container.calls == ["stop", "start", "unpause", "remove"]
    assert db.status == "removed"


def test_stopping_a_tmpfs_database_warns_that_its_data_is_lost(caplog: pytest.LogCaptureFixture) -> None:
    db = running(tmpfs_datadir=True)
    with caplog.at_level(logging.WARNING, logger="edirunbook.database"):
        db.stop()
    assert "its data is lost" in caplog.text


def test_docker_refusals_become_environment_errors() -> None:
    with pytest.raises(EnvironmentNotReady) as error:
        running().pause()
    assert "Could not pause the database container 'edirunbook-bots-mysql'" in str(error.value)
    assert "is not running" in str(error.value)


def test_labels_used_for_cleanup_are_exported() -> None:
    assert dict(DATABASE_LABELS) == {"edirunbook.owner": "edirunbook", "edirunbook.role": "database"}
