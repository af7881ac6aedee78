"""Fakes for the docker SDK and for a DB-API (PyMySQL) connector, shared by the unit tests.

They implement only what edirunbook calls, and record what was done so tests can assert on it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import docker.errors

Row = tuple[Any, ...]


def published(port: int) -> dict[str, Any]:
    """Docker inspect data of a container that publishes 3306 on 127.0.0.1:port."""
    return {"NetworkSettings": {"Ports": {"3306/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}}}


# --- docker SDK ---------------------------------------------------------------------------------------------


class FakeContainer:
    """A docker SDK Container: status changes with stop/start/pause/unpause; `calls` records them in order.

    `refusals` maps an action (stop, start, pause, unpause) to the explanation of the APIError the daemon
    gives for it. `calls` may be shared with other fakes (e.g. a ScriptedConnector's `log`).
    """

    def __init__(self, *, status: str = "running", labels: Mapping[str, str] | None = None,
                 attrs: dict[str, Any] | None = None, logs: bytes = b"", container_id: str = "0123456789abcdef0123",
                 refusals: Mapping[str, str] | None = None, calls: list[str] | None = None) -> None:
        self.id = container_id
        self.status = status
        self.labels = dict(labels or {})
        self.attrs = attrs if attrs is not None else published(43306)
        self._logs = logs
        self.refusals = dict(refusals or {})
        self.calls = calls if calls is not None else []
        self.gone = False

    def _act(self, action: str, status: str) -> None:
        if action in self.refusals:
            raise docker.errors.APIError("409 Conflict", explanation=self.refusals[action])
        self.calls.append(action)
        self.status = status

    def reload(self) -> None:
        if self.gone:
            raise docker.errors.NotFound("No such container")

    def logs(self, tail: int = 50) -> bytes:
        if self.gone:
            raise docker.errors.NotFound("No such container")
        return self._logs

    def stop(self, timeout: int = 10) -> None:
        self._act("stop", "exited")

    def start(self) -> None:
        self._act("start", "running")

    def pause(self) -> None:
        self._act("pause", "paused")

    def unpause(self) -> None:
        self._act("unpause", "running")

    def remove(self, force: bool = False, v: bool = False) -> None:
        if self.gone:
            raise docker.errors.NotFound("No such container")
        self.calls.append("remove")
        self.gone = True
        self.status = "removed"


class FakeCollection:
    """client.networks / images / containers: get() by key, else the daemon's 'missing' error."""

    def __init__(self, items: Mapping[str, Any] | None = None,
                 missing: type[docker.errors.NotFound] = docker.errors.NotFound) -> None:
        self.items: dict[str, Any] = dict(items or {})
        self.missing = missing

    def get(self, key: str) -> Any:
        if key not in self.items:
            raise self.missing(f"No such object: {key}")
        return self.items[key]

    def add(self, *keys: str, item: Any) -> None:
        """Register item under each key (a container is found by name and by id)."""
        for key in keys:
            self.items[key] = item


class FakeDocker:
    """A docker SDK client; by default it has the network 'kind' and the image edirunbook/mariadb:dev."""

    def __init__(self, *, networks: Iterable[str] = ("kind",), images: Iterable[str] = ("edirunbook/mariadb:dev",),
                 containers: Mapping[str, FakeContainer] | None = None) -> None:
        self.networks = FakeCollection({name: object() for name in networks})
        self.images = FakeCollection({name: object() for name in images}, missing=docker.errors.ImageNotFound)
        self.containers = FakeCollection(containers)


# --- DB-API (PyMySQL) ---------------------------------------------------------------------------------------


class FakeCursor:
    """Answers `SELECT 1` with (1,), a statement in `rows` with those rows, anything else with no rows."""

    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self._result: list[Row] = []
        self.closed = False

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> int:
        self.connection.executed.append((sql, params))
        self._result = list(self.connection.rows.get(sql, [(1,)] if sql.strip().upper() == "SELECT 1" else []))
        return len(self._result)

    def fetchone(self) -> Row | None:
        return self._result.pop(0) if self._result else None

    def fetchall(self) -> tuple[Row, ...]:
        rows, self._result = tuple(self._result), []
        return rows


class FakeConnection:
    """Records the statements executed on it, its commits and its closes."""

    def __init__(self, rows: Mapping[str, Sequence[Row]] | None = None) -> None:
        self.rows: Mapping[str, Sequence[Row]] = rows or {}
        self.executed: list[tuple[str, Any]] = []
        self.cursors: list[FakeCursor] = []
        self.commits = 0
        self.closes = 0

    def cursor(self) -> FakeCursor:
        cursor = FakeCursor(self)
        self.cursors.append(cursor)
        return cursor

    def commit(self) -> None:
        self.commits += 1

    def close(self) -> None:
        self.closes += 1


class ScriptedConnector:
    """A pymysql.connect stand-in: raises the given errors in turn, then connects to a FakeConnection.

    With keep_failing the last error is raised on every further attempt. Each call's keyword arguments
    are kept in `calls`, each connection made in `connections`; every attempt appends "connect" to `log`.
    """

    def __init__(self, *errors: BaseException, keep_failing: bool = False,
                 rows: Mapping[str, Sequence[Row]] | None = None, log: list[str] | None = None) -> None:
        self.errors = list(errors)
        self.keep_failing = keep_failing
        self.rows = rows
        self.log = log if log is not None else []
        self.calls: list[dict[str, Any]] = []
        self.connections: list[FakeConnection] = []

    @property
    def attempts(self) -> int:
        return len(self.calls)

    def __call__(self, **kwargs: Any) -> FakeConnection:
        self.calls.append(kwargs)
        self.log.append("connect")
        if self.errors:
            if self.keep_failing and len(self.errors) == 1:
                raise self.errors[0]
            raise self.errors.pop(0)
        connection = FakeConnection(self.rows)
        self.connections.append(connection)
        return connection
