"""The OCI runtime shim drops capabilities the host cannot grant, and nothing else."""
import json
from pathlib import Path

import pytest

from edirunbook.docker import runc_shim


def test_filter_caps_keeps_only_allowed_capabilities() -> None:
    process = {"capabilities": {"bounding": ["CAP_CHOWN", "CAP_SYS_RESOURCE"], "effective": ["CAP_CHOWN"]}}
    changed = runc_shim.filter_caps(process, {"CAP_CHOWN"})
    assert changed
    assert process["capabilities"] == {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"]}


def test_filter_caps_reports_no_change_when_everything_is_allowed() -> None:
    process = {"capabilities": {"bounding": ["CAP_CHOWN"]}}
    assert not runc_shim.filter_caps(process, {"CAP_CHOWN", "CAP_KILL"})


def test_rewrite_bundle_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"process": {"capabilities": {"permitted": ["CAP_SYS_RESOURCE", "CAP_KILL"]}},
                                  "root": {"path": "rootfs"}}))
    monkeypatch.setattr(runc_shim, "bounding_set", lambda: {"CAP_KILL"})
    runc_shim.rewrite(str(config), nested=True)
    doc = json.loads(config.read_text())
    assert doc["process"]["capabilities"]["permitted"] == ["CAP_KILL"]
    assert doc["root"] == {"path": "rootfs"}


def test_rewrite_exec_process_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    process = tmp_path / "process.json"
    process.write_text(json.dumps({"args": ["sh"], "capabilities": {"bounding": ["CAP_SYS_RESOURCE"]}}))
    monkeypatch.setattr(runc_shim, "bounding_set", lambda: {"CAP_KILL"})
    runc_shim.rewrite(str(process), nested=False)
    assert json.loads(process.read_text())["capabilities"]["bounding"] == []


def test_bounding_set_reads_this_process() -> None:
    caps = runc_shim.bounding_set()
    assert caps, "every Linux process has a bounding set"
    assert all(name.startswith("CAP_") for name in caps)


@pytest.mark.parametrize(("args", "expected"), [
    (["--root", "/r", "create", "--bundle", "/b", "id"], "/b"),
    (["create", "--bundle=/c", "id"], "/c"),
    (["run", "-b", "/d", "id"], "/d"),
])
def test_option_finds_bundle(args: list[str], expected: str) -> None:
    found = runc_shim.option(args, "--bundle") or runc_shim.option(args, "-b")
    assert found == expected


def test_main_rewrites_then_execs_real_runc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"process": {"capabilities": {"bounding": ["CAP_X"]}}}))
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(runc_shim, "bounding_set", lambda: set())
    monkeypatch.setattr(runc_shim.os, "execv", lambda path, argv: calls.append((path, argv)))
    runc_shim.main(["create", "--bundle", str(tmp_path), "ctr"])
    assert calls == [(runc_shim.REAL_RUNC, [runc_shim.REAL_RUNC, "create", "--bundle", str(tmp_path), "ctr"])]
    assert json.loads((tmp_path / "config.json").read_text())["process"]["capabilities"]["bounding"] == []
