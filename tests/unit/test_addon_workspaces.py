"""Add-on recipes compiled together in a Go workspace (images/addons/workspaces/*/go.work): one version of each module
they share, so it is compiled once. The workspace's build uses a copy of its go.work with absolute paths and the
recipes' patched modules."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from edirunbook import addons, gobuild


def test_members_are_read_from_block_and_single_use_directives(tmp_path: Path) -> None:
    work = tmp_path / "workspaces" / "w" / "go.work"
    work.parent.mkdir(parents=True)
    work.write_text("// use ../../commented\ngo 1.26.4\n\nuse (\n\t../../traefik // the ingress\n\t../../velero\n)\n"
                    "use ../../metrics-server\n\nreplace k8s.io/api => k8s.io/api v0.34.0\n")
    assert gobuild.workspace_members(work) == ["metrics-server", "traefik", "velero"]


def test_the_build_copy_has_absolute_paths_the_patched_modules_and_the_sums(tmp_path: Path) -> None:
    work = tmp_path / "addons" / "workspaces" / "w" / "go.work"
    work.parent.mkdir(parents=True)
    work.write_text("go 1.26.4\n\nuse (\n\t../../traefik\n)\nuse ../../velero\n")
    (work.parent / "go.work.sum").write_text("k8s.io/api v0.34.0 h1:abc=\n")
    copy = gobuild.workspace_file(work, tmp_path / "cache" / "w-123", {"github.com/traefik/traefik/v3": tmp_path / "p"})
    text = copy.read_text()
    assert f"\t{tmp_path / 'addons' / 'traefik'}\n" in text and f"use {tmp_path / 'addons' / 'velero'}\n" in text
    assert f"replace github.com/traefik/traefik/v3 => {tmp_path / 'p'}\n" in text
    assert "../" not in text
    assert (copy.parent / "go.work.sum").read_text() == "k8s.io/api v0.34.0 h1:abc=\n"


def _works() -> list[Path]:
    return sorted(gobuild.ADDON_WORKSPACES.glob("*/go.work"))


def test_every_workspace_uses_existing_recipes_each_in_one_workspace_only() -> None:
    members = [recipe for work in _works() for recipe in gobuild.workspace_members(work)]
    assert _works() and len(members) == len(set(members))
    recipes = {program.recipe for program in addons.programs().values()}
    assert set(members) <= recipes


@pytest.mark.parametrize("work", _works(), ids=lambda w: w.parent.name)
def test_a_workspace_states_a_go_version_its_recipes_accept(work: Path) -> None:
    def version(text: str) -> tuple[int, ...]:
        match = re.search(r"^go (\d+(?:\.\d+)*)", text, re.MULTILINE)
        assert match, text[:200]
        return tuple(int(part) for part in match.group(1).split("."))

    for recipe in gobuild.workspace_members(work):
        assert version(work.read_text()) >= version((addons.RECIPES / recipe / "go.mod").read_text()), recipe


@pytest.mark.parametrize("work", _works(), ids=lambda w: w.parent.name)
def test_a_workspace_is_one_build_unit_with_its_recipes_in_the_key(work: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("EDIRUNBOOK_CACHE", str(tmp_path))
    unit = next(u for u in addons.build_units() if u[0].recipe in gobuild.workspace_members(work))
    assert {p.recipe for p in unit} == set(gobuild.workspace_members(work))
    seen: dict[str, Any] = {}

    def module_binaries(name: str, module: Path, packages: list[str], binaries: list[str], **options: Any) \
            -> gobuild.GoOutput:
        seen.update(name=name, module=module, packages=packages, **options)
        return gobuild.GoOutput(tmp_path / "out", "key")

    monkeypatch.setattr(gobuild, "module_binaries", module_binaries)
    monkeypatch.setattr(gobuild, "link_command", lambda target: None)
    addons.compile_recipe(unit)
    assert seen["name"] == work.parent.name and seen["module"] == work.parent
    assert set(seen["inputs"]) == {addons.RECIPES / p.recipe for p in unit}
    assert seen["environ"]["GOWORK"].startswith(str(tmp_path / "go" / "work" / work.parent.name))
    assert {pkg for p in unit for pkg in p.packages if pkg != "."} <= set(seen["packages"])
    assert "." not in seen["packages"], "the build runs in the workspace's folder: our own main by its module path"
    assert {addons.module_path(addons.RECIPES / p.recipe / "go.mod") for p in unit if p.package == "."} \
        <= set(seen["packages"])


def test_the_background_downloads_write_no_sums_into_the_checkout(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    """`go mod download` writes every module's sums into the go.work.sum beside the go.work it is given: on the
    checkout's, the workspace's build key changed between a cold run's start and its end (its add-ons rebuilt)."""
    monkeypatch.setenv("EDIRUNBOOK_CACHE", str(tmp_path))
    downloads = gobuild.addon_downloads()
    works = {environ["GOWORK"] for _, environ in downloads if "GOWORK" in environ}
    assert len(works) == len(set(gobuild.addon_workspaces().values())) > 0
    for work in map(Path, works):
        assert work.is_relative_to(tmp_path) and work.is_file() and (work.parent / "go.work.sum").is_file()
    alone = {folder.name for folder, environ in downloads if "GOWORK" not in environ}
    assert alone.isdisjoint(gobuild.addon_workspaces()) and alone
