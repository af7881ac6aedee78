"""The database layer's own logic, with fakes for Docker and PyMySQL (the real container: tests/integration)."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
from fakes import FakeContainer, FakeDocker, ScriptedConnector, published
from testcontainers.core.config import testcontainers_config

from edirunbook import database
from edirunbook.database import DatabaseSpec, RunningDatabase, container_settings, find_existing, start_database
from edirunbook.errors import EnvironmentNotReady, SetupError

PASSWORD = "app-Secr3t'pw"
ROOT_PASSWORD = "root-Secr3t-pw"
REFUSED = pymysql.err.OperationalError(2003, "Can't connect to MySQL server (Connection refused)")
ACCESS_DENIED = pymysql.err.OperationalError(1045, "Access denied for user 'bots'@'10.213.0.1' (using password: YES)")


def make_spec(**changes: Any) -> DatabaseSpec:
    settings: dict[str, Any] = {
        "image": "edirunbook/mariadb:dev",
        "network": "kind",
        "password": PASSWORD,
        "root_password": ROOT_PASSWORD,
    }
    settings.update(changes)
    return DatabaseSpec(**settings)


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


# --- the container's settings (their mapping onto a real container: tests/integration) ---------------------


def test_container_is_published_on_loopback_on_the_network_with_tmpfs_labels_and_init_scripts(tmp_path: Path) -> None:
    script = tmp_path / "10-schema.sql"
    script.write_text("CREATE TABLE t (id INT);\n")
    spec = make_spec(tmpfs_datadir=True, tmpfs_size="512m", init_scripts=(script,), name="kind-bots-mysql")

    settings = container_settings(spec, 43306)

    assert settings.image == "edirunbook/mariadb:dev"
    assert settings.name == "kind-bots-mysql"
    assert settings.ports == {3306: ("127.0.0.1", 43306)}
    assert settings.tmpfs == {"/var/lib/mysql": "size=512m"}
    assert settings.network == "kind"
    assert settings.aliases == ("bots-mysql",)
    assert settings.labels == spec.labels()
    assert settings.env == {"MYSQL_ROOT_PASSWORD": ROOT_PASSWORD, "MYSQL_DATABASE": "bots",
                            "MYSQL_USER": "bots", "MYSQL_PASSWORD": PASSWORD}
    assert settings.copies == ((script, "/docker-entrypoint-initdb.d/10-schema.sql"),)


def test_container_without_tmpfs_keeps_the_datadir_in_the_container() -> None:
    settings = container_settings(make_spec(), 43306)
    assert settings.tmpfs == {}
    assert settings.copies == ()
    assert settings.name == "edirunbook-bots-mysql"


def test_container_settings_repr_holds_no_password() -> None:
    assert_no_secret(repr(container_settings(make_spec(), 43306)))


# --- start_database / find_existing ------------------------------------------------------------------------


@pytest.fixture
def ryuk_setting() -> Iterator[None]:
    saved = testcontainers_config.ryuk_disabled
    testcontainers_config.ryuk_disabled = False
    yield
    testcontainers_config.ryuk_disabled = saved


def no_container(spec: DatabaseSpec, host_port: int) -> Any:
    raise AssertionError("start_database must not make a container when a prerequisite is missing")


def test_missing_network_is_a_setup_error_that_says_how_to_make_it(ryuk_setting: None) -> None:
    with pytest.raises(SetupError) as error:
        start_database(make_spec(), client=FakeDocker(networks=()), make_container=no_container)
    assert "docker network 'kind'" in str(error.value)
    assert "docker network create kind" in str(error.value)
    assert testcontainers_config.ryuk_disabled is True


def test_missing_image_says_how_to_build_it_and_does_not_pull() -> None:
    with pytest.raises(SetupError) as error:
        start_database(make_spec(), client=FakeDocker(images=()), make_container=no_container)
    assert "docker build --build-arg BASE_IMAGE=" in str(error.value)
    assert "images/mariadb" in str(error.value)


def test_an_existing_container_of_the_same_name_is_not_replaced() -> None:
    existing = FakeContainer(status="exited")
    client = FakeDocker(containers={"edirunbook-bots-mysql": existing})
    with pytest.raises(SetupError) as error:
        start_database(make_spec(), client=client, make_container=no_container)
    assert "already exists (exited)" in str(error.value)
    assert "find_existing" in str(error.value)
    assert "docker rm -f edirunbook-bots-mysql" in str(error.value)
    assert existing.calls == []


class FakeTestcontainer:
    """What make_container returns: start() makes `container` known to the client (unless not `created`), then
    raises `error` if any."""

    def __init__(self, client: FakeDocker, spec: DatabaseSpec, container: FakeContainer,
                 error: BaseException | None = None, *, created: bool = True) -> None:
        self.client, self.spec, self.container, self.error = client, spec, container, error
        self.created = created

    def start(self) -> FakeTestcontainer:
        if self.created:
            self.client.containers.add(self.spec.container_name, self.container.id, item=self.container)
        if self.error is not None:
            raise self.error
        return self

    def get_container_id(self) -> str:
        return self.container.id


def test_a_failed_start_removes_the_container_and_says_why() -> None:
    half_started = FakeContainer(status="exited", logs=b"[ERROR] [Entrypoint] mariadb-install-db failed")
    client = FakeDocker()
    made: list[tuple[DatabaseSpec, int]] = []

    def make_container(spec: DatabaseSpec, host_port: int) -> FakeTestcontainer:
        made.append((spec, host_port))
        return FakeTestcontainer(client, spec, half_started, TimeoutError(
            f"Container did not emit logs containing ready (env MYSQL_PASSWORD={PASSWORD})\nmore"))

    spec = make_spec(host_port=43306)
    with pytest.raises(EnvironmentNotReady) as error:
        start_database(spec, client=client, make_container=make_container)
    message = str(error.value)
    assert "did not start: Container did not emit logs" in message
    assert "mariadb-install-db failed" in message and "It was removed" in message
    assert "\n" not in message
    assert_no_secret(message)
    assert half_started.calls == ["remove"]
    assert made == [(spec, 43306)]


def test_a_start_that_made_no_container_says_so_and_removes_nothing() -> None:
    never_made = FakeContainer()
    client = FakeDocker()
    with pytest.raises(EnvironmentNotReady) as error:
        start_database(make_spec(), client=client, make_container=lambda spec, port: FakeTestcontainer(
            client, spec, never_made, RuntimeError("port is already allocated"), created=False))
    message = str(error.value)
    assert "did not start: port is already allocated" in message
    assert "Its last log lines: (none)" in message and "set another host_port" in message
    assert never_made.calls == []


def test_an_interrupted_start_removes_the_container_and_is_not_swallowed() -> None:
    half_started = FakeContainer(status="created")
    client = FakeDocker()
    with pytest.raises(KeyboardInterrupt):
        start_database(make_spec(), client=client, make_container=lambda spec, port: FakeTestcontainer(
            client, spec, half_started, KeyboardInterrupt()))
    assert half_started.calls == ["remove"]


def test_a_started_container_that_never_becomes_ready_is_removed() -> None:
    unpublished = FakeContainer(attrs={})
    client = FakeDocker()
    ports: list[int] = []

    def make_container(spec: DatabaseSpec, host_port: int) -> FakeTestcontainer:
        ports.append(host_port)
        return FakeTestcontainer(client, spec, unpublished)

    with pytest.raises(EnvironmentNotReady, match="publishes no port"):
        start_database(make_spec(), ready_timeout=5, client=client, make_container=make_container)
    assert unpublished.calls == ["remove"]
    assert len(ports) == 1 and 1024 <= ports[0] <= 65535  # host_port 0: a free port is picked


def test_find_existing_returns_none_when_there_is_no_container() -> None:
    assert find_existing(make_spec(), client=FakeDocker()) is None


def test_find_existing_attaches_to_a_container_with_matching_labels() -> None:
    spec = make_spec()
    container = FakeContainer(labels=spec.labels())
    found = find_existing(spec, client=FakeDocker(containers={spec.container_name: container}))
    assert found is not None
    assert found.container_id == container.id
    assert found.port == 43306


def test_find_existing_refuses_a_container_edirunbook_did_not_make() -> None:
    spec = make_spec()
    with pytest.raises(SetupError, match="edirunbook did not start it"):
        find_existing(spec, client=FakeDocker(containers={spec.container_name: FakeContainer(labels={})}))


def test_find_existing_refuses_a_container_with_other_settings() -> None:
    spec = make_spec()
    labels = {**spec.labels(), "edirunbook.database.name": "otherdb"}
    with pytest.raises(SetupError) as error:
        find_existing(spec, client=FakeDocker(containers={spec.container_name: FakeContainer(labels=labels)}))
    assert "name: container has 'otherdb', wanted 'bots'" in str(error.value)
    assert "docker rm -f edirunbook-bots-mysql" in str(error.value)


# --- RunningDatabase ---------------------------------------------------------------------------------------


def running(container: FakeContainer | None = None, connector: ScriptedConnector | None = None,
            **changes: Any) -> RunningDatabase:
    return RunningDatabase(container or FakeContainer(), make_spec(**changes),
                           connector=connector or ScriptedConnector())


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


def test_wrong_password_gives_one_actionable_paragraph() -> None:
    db = running(connector=ScriptedConnector(ACCESS_DENIED, keep_failing=True))
    with pytest.raises(EnvironmentNotReady) as error:
        db.connect()
    message = str(error.value)
    assert "127.0.0.1:43306" in message and "as user 'bots'" in message
    assert "refused the login" in message and "docker rm -f edirunbook-bots-mysql" in message
    assert "\n" not in message
    assert_no_secret(message)


def test_unreachable_database_names_the_container_state() -> None:
    db = running(FakeContainer(status="exited"), ScriptedConnector(pymysql.err.OperationalError(
        2003, "Can't connect to MySQL server on '127.0.0.1' ([Errno 111] Connection refused)"), keep_failing=True))
    with pytest.raises(EnvironmentNotReady) as error:
        db.connect(as_root=True)
    message = str(error.value)
    assert "Cannot reach the database at 127.0.0.1:43306" in message
    assert "as user 'root'" in message and "the container is exited" in message
    assert_no_secret(message)


def test_connect_passes_the_users_credentials_to_the_connector() -> None:
    connector = ScriptedConnector()
    db = running(connector=connector)
    db.connect()
    db.connect(as_root=True, database="", connect_timeout=2.0)
    assert connector.calls == [
        {"host": "127.0.0.1", "port": 43306, "user": "bots", "password": PASSWORD, "database": "bots",
         "charset": "utf8mb4", "connect_timeout": 5.0},
        {"host": "127.0.0.1", "port": 43306, "user": "root", "password": ROOT_PASSWORD, "database": None,
         "charset": "utf8mb4", "connect_timeout": 2.0},
    ]


def test_query_returns_the_rows_commits_and_closes() -> None:
    sql = "SELECT note FROM seeded WHERE id = %s"
    connector = ScriptedConnector(rows={sql: [("first",), ("second",)]})
    db = running(connector=connector)

    assert db.query(sql, (1,)) == [("first",), ("second",)]

    [connection] = connector.connections
    assert connection.executed == [(sql, (1,))]
    assert (connection.commits, connection.closes) == (1, 1)
    assert connection.cursors[0].closed
    assert connector.calls[0]["user"] == "bots" and connector.calls[0]["database"] == "bots"


def test_query_as_root_on_another_database() -> None:
    connector = ScriptedConnector()
    db = running(connector=connector)
    assert db.query("CREATE USER probe", as_root=True, database="mysql") == []
    assert (connector.calls[0]["user"], connector.calls[0]["password"]) == ("root", ROOT_PASSWORD)
    assert connector.calls[0]["database"] == "mysql"
    assert connector.connections[0].commits == 1


def test_cursor_closes_the_connection_without_committing_when_the_block_raises() -> None:
    connector = ScriptedConnector()
    db = running(connector=connector)
    with pytest.raises(RuntimeError, match="in the block"), db.cursor() as cursor:
        cursor.execute("INSERT INTO seeded VALUES (2, 'x')")
        raise RuntimeError("in the block")
    [connection] = connector.connections
    assert connection.executed == [("INSERT INTO seeded VALUES (2, 'x')", None)]
    assert (connection.commits, connection.closes) == (0, 1)


def test_query_on_a_refused_login_opens_nothing_and_says_why() -> None:
    connector = ScriptedConnector(ACCESS_DENIED)
    with pytest.raises(EnvironmentNotReady, match="refused the login") as error:
        running(connector=connector).query("SELECT 1")
    assert connector.connections == []
    assert_no_secret(str(error.value))


def test_wait_ready_polls_through_refused_connections() -> None:
    connector = ScriptedConnector(REFUSED, REFUSED)
    db = running(connector=connector)
    assert db.wait_ready(timeout=5, interval=0.01) >= 0
    assert connector.attempts == 3
    assert connector.calls[-1] == {
        "host": "127.0.0.1", "port": 43306, "user": "bots", "password": PASSWORD, "database": "bots",
        "charset": "utf8mb4", "connect_timeout": 5, "read_timeout": 5, "write_timeout": 5}
    [connection] = connector.connections
    assert connection.executed == [("SELECT 1", None)]
    assert connection.closes == 1


def test_wait_ready_bounds_each_attempt_by_the_overall_timeout() -> None:
    connector = ScriptedConnector()
    running(connector=connector).wait_ready(timeout=2, interval=0.01)
    assert {connector.calls[0][key] for key in ("connect_timeout", "read_timeout", "write_timeout")} == {2}


def test_wait_ready_timeout_reports_the_last_error_and_logs() -> None:
    db = running(FakeContainer(logs=f"Note: starting\nMYSQL_PASSWORD={PASSWORD}\n".encode()),
                 ScriptedConnector(REFUSED, keep_failing=True))
    with pytest.raises(EnvironmentNotReady) as error:
        db.wait_ready(timeout=0.05, interval=0.01)
    message = str(error.value)
    assert "did not answer SELECT 1 as user 'bots'" in message
    assert "MySQL error 2003" in message and "Note: starting" in message
    assert_no_secret(message)


def test_wait_ready_gives_up_at_once_on_a_refused_login() -> None:
    connector = ScriptedConnector(pymysql.err.OperationalError(1045, "Access denied"), REFUSED)
    db = running(connector=connector)
    with pytest.raises(EnvironmentNotReady, match="refused the login"):
        db.wait_ready(timeout=5, interval=0.01)
    assert connector.attempts == 1


def test_wait_ready_gives_up_at_once_on_an_unknown_database() -> None:
    connector = ScriptedConnector(pymysql.err.OperationalError(1049, "Unknown database 'bots'"), REFUSED)
    with pytest.raises(EnvironmentNotReady, match="has no database 'bots'"):
        running(connector=connector).wait_ready(timeout=5, interval=0.01)
    assert connector.attempts == 1


def test_wait_ready_gives_up_at_once_on_an_exited_container() -> None:
    connector = ScriptedConnector(REFUSED, keep_failing=True)
    db = running(FakeContainer(status="exited", logs=b"[ERROR] mariadb-install-db failed"), connector)
    with pytest.raises(EnvironmentNotReady) as error:
        db.wait_ready(timeout=5, interval=0.01)
    assert "is exited" in str(error.value) and "mariadb-install-db failed" in str(error.value)
    assert connector.attempts == 1


def test_wait_ready_gives_up_at_once_on_a_container_without_a_published_port() -> None:
    connector = ScriptedConnector()
    db = running(FakeContainer(attrs={}), connector)
    started = time.monotonic()
    with pytest.raises(EnvironmentNotReady) as error:
        db.wait_ready(timeout=30, interval=0.01)
    assert time.monotonic() - started < 5
    assert "publishes no port" in str(error.value)
    assert "did not answer SELECT 1" not in str(error.value)
    assert connector.attempts == 0


def test_ensure_running_unpauses_a_paused_container_then_waits() -> None:
    container = FakeContainer(status="paused")
    db = running(container, ScriptedConnector(log=container.calls))
    assert db.ensure_running(timeout=5) >= 0
    assert container.calls == ["unpause", "connect"]
    assert db.status == "running"


def test_ensure_running_starts_an_exited_container_then_waits() -> None:
    container = FakeContainer(status="exited")
    db = running(container, ScriptedConnector(REFUSED, log=container.calls))
    assert db.ensure_running(timeout=5) >= 0
    assert container.calls == ["start", "connect", "connect"]
    assert db.status == "running"


def test_ensure_running_on_a_running_container_only_waits() -> None:
    container = FakeContainer()
    running(container, ScriptedConnector(log=container.calls)).ensure_running(timeout=5)
    assert container.calls == ["connect"]


def test_ensure_running_reports_a_refused_unpause() -> None:
    container = FakeContainer(status="paused", refusals={"unpause": f"cannot unpause (MYSQL_PASSWORD={PASSWORD})"})
    connector = ScriptedConnector()
    with pytest.raises(EnvironmentNotReady, match="Could not unpause the database container") as error:
        running(container, connector).ensure_running(timeout=5)
    assert_no_secret(str(error.value))
    assert connector.attempts == 0


def test_stop_start_remove_drive_the_same_container() -> None:
    container = FakeContainer()
    db = running(container)
    db.stop()
    assert db.status == "exited"
    db.start(timeout=5)
    db.pause()
    assert db.status == "paused"
    db.unpause()
    db.remove()
    db.remove()  # already gone: fine
    assert container.calls == ["stop", "start", "pause", "unpause", "remove"]
    assert db.status == "removed"


def test_stopping_a_tmpfs_database_warns_that_its_data_is_lost(caplog: pytest.LogCaptureFixture) -> None:
    db = running(tmpfs_datadir=True)
    with caplog.at_level(logging.WARNING, logger="edirunbook.database"):
        db.stop()
    assert "its data is lost" in caplog.text


def test_docker_refusals_become_environment_errors() -> None:
    db = running(FakeContainer(refusals={"pause": "Container 0123 is not running"}))
    with pytest.raises(EnvironmentNotReady) as error:
        db.pause()
    assert "Could not pause the database container 'edirunbook-bots-mysql'" in str(error.value)
    assert "is not running" in str(error.value)


def test_connections_share_pymysqls_default_tls_context_and_keep_explicit_tls_options() -> None:
    """PyMySQL's "preferred" TLS context is built once (_Connection), the same as PyMySQL's own; a connection given
    TLS options still gets a context of its own. Fails when a PyMySQL upgrade stops building it in _create_ssl_ctx."""
    import ssl

    # Any: the PyMySQL stubs leave out the TLS attributes (ctx, _ssl_required)
    first: Any = database._Connection(host="127.0.0.1", defer_connect=True)
    second: Any = database._Connection(host="127.0.0.1", defer_connect=True)
    own: Any = pymysql.connections.Connection(host="127.0.0.1", defer_connect=True)
    assert first.ssl and not first._ssl_required and first.ctx is second.ctx
    assert (first.ctx.verify_mode, first.ctx.check_hostname) == (own.ctx.verify_mode, own.ctx.check_hostname) \
        == (ssl.CERT_NONE, False)
    strict: Any = database._Connection(host="127.0.0.1", defer_connect=True, ssl={"verify_mode": "required"})
    assert strict._ssl_required and strict.ctx is not first.ctx and strict.ctx.verify_mode == ssl.CERT_REQUIRED
    assert RunningDatabase(FakeContainer(), make_spec())._connector is database.connect_mysql
