"""`make env-down` is idempotent: run again, or after the suite's Docker daemon stopped, it restores the host and
exits 0; when the suite's stopped daemon still holds containers, it is started again so that they are removed."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edirunbook.docker import daemon
from edirunbook.environment import config as env_config
from edirunbook.environment.kind import KindEnvironment
from edirunbook.errors import SetupError


@pytest.fixture
def no_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No daemon answers; the suite's cache (its daemon's data root) in tmp_path; `start` records that it was asked."""
    monkeypatch.setenv("EDIRUNBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    started: list[str] = []

    def connect() -> daemon.Docker:
        raise SetupError("No Docker daemon answers (Cannot connect to the Docker daemon).")

    def start() -> daemon.Docker:
        started.append("ours")
        return daemon.Docker("unix:///run/edirunbook/docker.sock", started_by_us=True)

    monkeypatch.setattr(daemon, "connect", connect)
    monkeypatch.setattr(daemon, "start", start)
    monkeypatch.setattr(daemon.os, "geteuid", lambda: 0)
    monkeypatch.setattr(daemon.shutil, "which", lambda name: f"/usr/bin/{name}")
    return started


def test_with_no_daemon_and_no_containers_of_ours_there_is_nothing_to_remove(no_daemon: list[str]) -> None:
    assert daemon.for_teardown() is None
    assert no_daemon == [], "no daemon is started only to find nothing"


def test_the_suites_stopped_daemon_that_still_holds_containers_is_started_again(no_daemon: list[str]) -> None:
    from edirunbook import paths

    (paths.cache_dir() / "docker" / "containers" / "0123abcd").mkdir(parents=True)
    docker = daemon.for_teardown()
    assert no_daemon == ["ours"] and docker is not None and docker.started_by_us


def test_a_daemon_named_by_docker_host_that_does_not_answer_is_still_an_error(no_daemon: list[str],
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///elsewhere.sock")
    with pytest.raises(SetupError, match="No Docker daemon answers"):
        daemon.for_teardown()


def test_env_down_with_nothing_running_restores_the_host_forgets_the_cluster_and_says_so(
        no_daemon: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "checkout" / ".state"
    state.mkdir(parents=True)
    env = KindEnvironment(env_config.load("kind"), state)
    env.state_file.write_text('{"cluster": "edirunbook"}')
    env.kubeconfig.write_text("apiVersion: v1\n")
    restored: list[str] = []
    monkeypatch.setattr(KindEnvironment, "restore_host", lambda self: restored.append("host"))
    stopped: list[Any] = []
    monkeypatch.setattr(daemon, "stop_ours_when_idle", stopped.append)
    env.down()
    assert restored == ["host"] and stopped == []
    assert not env.state_file.exists() and not env.kubeconfig.exists()
    assert "no Docker daemon answers" in capsys.readouterr().err
