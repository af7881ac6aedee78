"""KindEnvironment.build. The disk-space check guards a cold build only: once the images are built (recorded with the
cache), a fresh checkout's lanes and the staging cluster started by the same `make test` do not refuse for want of
room. The node image's small parts are built beside Kubernetes' compile, and the node image every cluster starts from
holds the images each would otherwise load."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from edirunbook import addons, gobuild, images, kindnode
from edirunbook.docker import daemon
from edirunbook.environment import config as env_config
from edirunbook.environment import smoke
from edirunbook.environment.kind import KindEnvironment


@pytest.fixture
def checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("EDIRUNBOOK_CACHE", str(tmp_path / "cache"))
    made: set[str] = set()
    called: list[str] = []
    monkeypatch.setattr(daemon, "check_disk_space", lambda: called.append("checked"))
    monkeypatch.setattr(images, "exists", lambda docker, ref: ref in made)
    monkeypatch.setattr(gobuild, "tools_path", lambda: tmp_path)
    monkeypatch.setattr(gobuild, "kind_binary", lambda: tmp_path / "kind")
    monkeypatch.setattr(KindEnvironment, "node_image", lambda self, docker: "node:1")
    monkeypatch.setattr(KindEnvironment, "database_image", lambda self, docker: "db:1")
    monkeypatch.setattr(kindnode, "node_parts", lambda docker: None)
    monkeypatch.setattr(smoke, "smoke_image", lambda docker: "smoke:1")
    monkeypatch.setattr(addons, "build", lambda docker: {image: f"{image}:1" for image in addons.image_repositories()})

    def with_images(docker: Any, node: str, refs: list[str]) -> str:
        made.add("preloaded:1")
        return "preloaded:1"

    monkeypatch.setattr(kindnode, "with_images", with_images)
    return called


def _fresh_checkout(tmp_path: Path, name: str) -> KindEnvironment:
    state = tmp_path / name / ".state"
    state.mkdir(parents=True)
    return KindEnvironment(env_config.load("kind"), state)


def test_a_cold_build_checks_the_disk_and_a_fresh_checkout_after_it_does_not(checks: list[str],
                                                                             tmp_path: Path) -> None:
    _fresh_checkout(tmp_path, "first").build(docker=None)  # type: ignore[arg-type]
    assert checks == ["checked"]
    built = _fresh_checkout(tmp_path, "second").build(docker=None)  # type: ignore[arg-type]
    assert checks == ["checked"] and built["cluster_node"] == "preloaded:1"


def test_the_node_images_small_parts_are_built_beside_kubernetes_not_after_it(checks: list[str], tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    parts_started = threading.Event()
    monkeypatch.setattr(kindnode, "node_parts", lambda docker: parts_started.set())

    def node_image(self: KindEnvironment, docker: Any) -> str:  # Kubernetes' compile, then the node image
        assert parts_started.wait(timeout=10), "the node's small parts waited for Kubernetes' compile"
        return "node:1"

    monkeypatch.setattr(KindEnvironment, "node_image", node_image)
    assert _fresh_checkout(tmp_path, "first").build(docker=None)["node"] == "node:1"  # type: ignore[arg-type]


def test_the_node_image_holds_the_images_every_cluster_loads(checks: list[str], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The add-ons' and the smoke checks' (the database image, 376 MB, and the smoke server): `kind load` finds them
    in a new cluster instead of each lane saving and importing them while the others start."""
    preloaded: list[str] = []

    def with_images(docker: Any, node: str, refs: list[str]) -> str:
        preloaded.extend(refs)
        return "preloaded:2"

    monkeypatch.setattr(kindnode, "with_images", with_images)
    built = _fresh_checkout(tmp_path, "first").build(docker=None)  # type: ignore[arg-type]
    assert built["cluster_node"] == "preloaded:2" and built["smoke"] == "smoke:1"
    assert set(preloaded) == {*(f"{image}:1" for image in addons.image_repositories()), "db:1", "smoke:1"}
