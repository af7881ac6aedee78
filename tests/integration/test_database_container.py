"""The database layer against the real Docker daemon: the image, start_database, the network, restarts.

Run with `pytest tests/integration/test_database_container.py` (DOCKER_HOST pointing at the suite's daemon).
Everything it makes carries the run's unique name and is removed at the end, also after a failure.
"""
from __future__ import annotations

import inspect
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pymysql
import pytest
from testcontainers.community.mysql import MySqlContainer

from edirunbook.database import DatabaseSpec, RunningDatabase, find_existing, start_database
from edirunbook.errors import EnvironmentNotReady, SetupError

REPO = Path(__file__).resolve().parents[2]
IMAGE = "edirunbook/mariadb:dev"
BASE_IMAGE = os.environ.get("EDIRUNBOOK_BASE_IMAGE", "edirunbook/debian-test:minbase")
RUN = f"edirunbook-dbtest-{secrets.token_hex(4)}"
# Quotes and backslashes on purpose: the entrypoint must escape them in its SQL.
PASSWORD = f"app'pw\\{secrets.token_hex(6)}"
ROOT_PASSWORD = f"root'pw\\{secrets.token_hex(6)}"
SEED_ROW = "grüße 🚚"
MYSQL_CONTAINER_WAIT = inspect.signature(MySqlContainer.__init__).parameters["wait_strategy_check_string"].default


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    api = docker.from_env()
    api.ping()
    yield api
    api.close()


@pytest.fixture(scope="module")
def image() -> str:
    build = subprocess.run(
        ["docker", "build", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", IMAGE, str(REPO / "images/mariadb")],
        capture_output=True, text=True, timeout=900, check=False)
    assert build.returncode == 0, f"docker build failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    return IMAGE


@pytest.fixture(scope="module")
def network(client: Any) -> Iterator[str]:
    """A user-defined network of this run; at the end every container named after the run goes, then it."""
    client.networks.create(RUN, driver="bridge", labels={"edirunbook.owner": "edirunbook"})
    try:
        yield RUN
    finally:
        for container in client.containers.list(all=True, filters={"name": RUN}):
            container.remove(force=True, v=True)
        client.networks.get(RUN).remove()


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("initdb")
    (directory / "01-seed.sql").write_text(
        "CREATE TABLE seeded (id INT PRIMARY KEY, note VARCHAR(40));\n"
        f"INSERT INTO seeded VALUES (1, '{SEED_ROW}');\n", encoding="utf-8")
    return directory


def make_spec(network: str, seed_dir: Path, **changes: Any) -> DatabaseSpec:
    settings: dict[str, Any] = {
        "image": IMAGE, "network": network, "alias": "bots-mysql", "database": "bots", "user": "bots",
        "password": PASSWORD, "root_password": ROOT_PASSWORD, "name": f"{RUN}-db",
        "init_scripts": (seed_dir / "01-seed.sql",),
    }
    settings.update(changes)
    return DatabaseSpec(**settings)


@pytest.fixture(scope="module")
def database(image: str, network: str, seed_dir: Path) -> Iterator[RunningDatabase]:
    db = start_database(make_spec(network, seed_dir))
    try:
        yield db
    finally:
        db.remove()


def query(db: RunningDatabase, sql: str, *, as_root: bool = False) -> list[tuple[Any, ...]]:
    connection = db.connect(as_root=as_root)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            rows = list(cursor.fetchall())
        connection.commit()
        return rows
    finally:
        connection.close()


def stderr_of(client: Any, db: RunningDatabase, since: int | None = None) -> str:
    raw = client.containers.get(db.container_id).logs(stdout=False, stderr=True, since=since)
    return str(raw.decode(errors="replace"))


def test_start_database_publishes_on_loopback_and_joins_the_network(
        client: Any, database: RunningDatabase, network: str) -> None:
    attrs = client.containers.get(database.container_id).attrs
    assert attrs["NetworkSettings"]["Ports"]["3306/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(database.port)}]
    assert "bots-mysql" in attrs["NetworkSettings"]["Networks"][network]["Aliases"]
    assert attrs["Config"]["Labels"]["edirunbook.owner"] == "edirunbook"
    assert attrs["Config"]["Labels"]["edirunbook.role"] == "database"
    assert database.startup_seconds is not None and database.startup_seconds < 60
    print(f"start_database -> ready in {database.startup_seconds:.2f}s")
    assert PASSWORD not in repr(database) and ROOT_PASSWORD not in repr(database)


def test_testcontainers_wait_ends_only_with_the_real_server(client: Any, database: RunningDatabase) -> None:
    lines = [line for line in stderr_of(client, database).splitlines() if ": ready for connections" in line]
    assert len(lines) == 2, lines
    server_lines = re.findall(r"^Version: .*port: (\d+)", stderr_of(client, database), flags=re.MULTILINE)
    assert server_lines == ["0", "3306"], "first the socket-only temporary server, then the real one"
    assert re.search(MYSQL_CONTAINER_WAIT, stderr_of(client, database), flags=re.DOTALL | re.MULTILINE)


def test_server_speaks_utf8mb4_strict_utc(database: RunningDatabase) -> None:
    ((charset, collation, sql_mode, time_zone, connection_charset),) = query(
        database, "SELECT @@character_set_server, @@collation_server, @@sql_mode, @@time_zone, "
                  "@@character_set_connection")
    assert (charset, connection_charset) == ("utf8mb4", "utf8mb4")
    assert collation.startswith("utf8mb4_")
    assert "STRICT_TRANS_TABLES" in sql_mode.split(",")
    assert time_zone in ("+00:00", "UTC")
    ((offset,),) = query(database, "SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW())")
    assert offset == 0


def test_the_user_owns_its_database_and_nothing_else(database: RunningDatabase) -> None:
    assert ("bots",) in query(database, "SHOW DATABASES")
    query(database, "CREATE TABLE owned (id INT PRIMARY KEY, label VARCHAR(5))")
    query(database, "INSERT INTO owned VALUES (1, '🚚ok')")
    assert query(database, "SELECT label FROM owned") == [("🚚ok",)]
    with pytest.raises(pymysql.err.DataError):  # strict mode: too long is an error, not a truncation
        query(database, "INSERT INTO owned VALUES (2, 'far too long')")
    with pytest.raises(pymysql.err.OperationalError) as denied:
        query(database, "SELECT user FROM mysql.user")
    assert denied.value.args[0] == 1142


def test_the_init_script_ran(database: RunningDatabase) -> None:
    assert query(database, "SELECT id, note FROM seeded") == [(1, SEED_ROW)]


def test_root_logs_in_only_with_its_password(database: RunningDatabase) -> None:
    assert query(database, "SELECT CURRENT_USER()", as_root=True) == [("root@%",)]
    for wrong in ("", "not-the-root-password"):
        with pytest.raises(pymysql.err.OperationalError) as refused:
            pymysql.connect(host="127.0.0.1", port=database.port, user="root", password=wrong, connect_timeout=5)
        assert refused.value.args[0] == 1045


def test_another_container_on_the_network_reaches_it_by_alias(
        client: Any, database: RunningDatabase, network: str) -> None:
    output = client.containers.run(
        IMAGE, ["mariadb", "-h", database.network_host, "-P", str(database.network_port), "-u", "bots",
                "--batch", "--skip-column-names", "bots", "-e", "SELECT note FROM seeded"],
        environment={"MYSQL_PWD": PASSWORD}, network=network, name=f"{RUN}-client", remove=True,
        stdout=True, stderr=True)
    assert output.decode().strip() == SEED_ROW


def test_wrong_password_is_one_clean_paragraph(database: RunningDatabase, client: Any) -> None:
    wrong = RunningDatabase(client.containers.get(database.container_id),
                            replace(database.spec, password="definitely-wrong-pw"))
    started = time.monotonic()
    with pytest.raises(EnvironmentNotReady) as error:
        wrong.wait_ready(timeout=30)
    assert time.monotonic() - started < 10, "a refused login is final: no waiting it out"
    message = str(error.value)
    assert f"127.0.0.1:{database.port}" in message and "as user 'bots'" in message
    assert "refused the login" in message and "\n" not in message
    for secret in (PASSWORD, ROOT_PASSWORD, "definitely-wrong-pw"):
        assert secret not in message


def test_find_existing_attaches_to_the_running_database(
        database: RunningDatabase, network: str, seed_dir: Path) -> None:
    found = find_existing(database.spec)
    assert found is not None
    assert (found.container_id, found.port) == (database.container_id, database.port)
    assert found.wait_ready(10) < 10
    with pytest.raises(SetupError, match="other settings"):
        find_existing(make_spec(network, seed_dir, database="otherdb"))
    assert find_existing(make_spec(network, seed_dir, name=f"{RUN}-absent")) is None


def test_pause_makes_it_hang_and_unpause_brings_it_back(database: RunningDatabase) -> None:
    database.pause()
    try:
        with pytest.raises(EnvironmentNotReady, match="container paused"):
            database.wait_ready(timeout=2, interval=0.2)
    finally:
        database.unpause()
    assert database.wait_ready(20) < 20


def test_stop_and_start_keep_data_and_the_port(client: Any, database: RunningDatabase) -> None:
    query(database, "CREATE TABLE survives (id INT PRIMARY KEY)")
    query(database, "INSERT INTO survives VALUES (42)")
    port = database.port
    started = time.monotonic()
    database.stop()
    stop_seconds = time.monotonic() - started
    state = client.containers.get(database.container_id).attrs["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 0), "SIGTERM must end in a clean shutdown"
    assert stop_seconds < 10
    assert "mariadbd: Shutdown complete" in stderr_of(client, database)
    with pytest.raises(EnvironmentNotReady, match="Cannot reach the database"):
        database.connect()

    restarted_at = int(time.time()) - 1
    database.start(timeout=60)
    assert database.port == port
    assert query(database, "SELECT id FROM survives") == [(42,)]
    # No temporary server this time: the entrypoint's marker line keeps testcontainers' wait correct.
    since_restart = stderr_of(client, database, since=restarted_at)
    assert "already initialised" in since_restart
    assert re.search(MYSQL_CONTAINER_WAIT, since_restart, flags=re.DOTALL | re.MULTILINE)
    print(f"docker stop took {stop_seconds:.2f}s")


def test_tmpfs_datadir_is_fast_storage_that_a_stop_empties(
        client: Any, image: str, network: str, seed_dir: Path) -> None:
    spec = make_spec(network, seed_dir, name=f"{RUN}-tmpfs", alias="bots-mysql-tmpfs", tmpfs_datadir=True,
                     tmpfs_size="256m")
    db = start_database(spec)
    try:
        mounts = client.containers.get(db.container_id).exec_run(["cat", "/proc/mounts"]).output.decode()
        assert re.search(r"^tmpfs /var/lib/mysql tmpfs .*size=262144k", mounts, flags=re.MULTILINE), mounts
        query(db, "CREATE TABLE lost (id INT)")
        db.stop()
        db.start(timeout=60)
        assert query(db, "SELECT note FROM seeded") == [(SEED_ROW,)]  # initialised afresh
        assert ("lost",) not in query(db, "SHOW TABLES")
    finally:
        db.remove()
