"""Which Go builds keep the compiler's inlining: Kubernetes and etcd, which run every cluster and spend most of its CPU
in a run, are compiled optimized; the add-ons, CoreDNS, crictl, kind and the linters without inlining (-l), less
compile CPU (images/addons/README.md has the figures). The flags are part of each build's key, so a change of them
rebuilds."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edirunbook import gobuild


@pytest.fixture
def go_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every `go build`/`go install` command a build runs (recorded, not run; its outputs made empty)."""
    monkeypatch.setenv("EDIRUNBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(gobuild, "go_version", lambda: "go1.26.7")
    monkeypatch.setattr(gobuild, "addon_downloads", lambda: [])
    commands: list[list[str]] = []

    def run(argv: list[str], **kwargs: Any) -> None:
        if argv[1] not in ("build", "install"):
            return  # the background module downloads
        commands.append(argv)
        out = Path(kwargs["env"]["GOBIN"]) if argv[1] == "install" else Path(argv[argv.index("-o") + 1])
        for name in ("kind", "crictl", "etcd", "coredns", *gobuild.KUBE_COMMANDS):
            (out / name).write_text("")

    monkeypatch.setattr(gobuild, "run", run)
    return commands


def _gcflags(argv: list[str]) -> str:
    [flag] = [arg for arg in argv if arg.startswith("-gcflags=")]
    return flag.removeprefix("-gcflags=")


def test_kubernetes_and_etcd_keep_inlining(go_builds: list[list[str]]) -> None:
    gobuild.kubernetes_binaries()
    gobuild.small_binary("etcd")
    assert [_gcflags(argv) for argv in go_builds] == ["all=-dwarf=false", "all=-dwarf=false"]


def test_the_other_programs_are_compiled_without_inlining(go_builds: list[list[str]]) -> None:
    gobuild.small_binary("coredns")
    gobuild.crictl_binary()
    gobuild.kind_binary()
    assert [_gcflags(argv) for argv in go_builds] == ["all=-dwarf=false -l"] * 3


def test_the_compiler_flags_are_part_of_the_build_key(go_builds: list[list[str]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    first = gobuild.small_binary("coredns")
    monkeypatch.setattr(gobuild, "CONTROL_PLANE_SMALL_BINARIES", ("etcd", "coredns"))
    second = gobuild.small_binary("coredns")
    assert first.key != second.key and len(go_builds) == 2
    assert gobuild.small_binary("coredns").key == second.key and len(go_builds) == 2  # cached: not compiled again
