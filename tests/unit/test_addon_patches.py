"""Our patches to upstream add-ons (images/addons/*/patches) carry our lines only: zero-context, nothing removed
(an upstream line is commented out by lines around it), each starting with what it fixes."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

RECIPES = Path(__file__).parents[2] / "images" / "addons"
PATCHES = sorted(RECIPES.glob("*/patches/**/*.patch"))  # patches/<name>/: to another module the recipe requires


def _recipe(patch: Path) -> str:
    return patch.relative_to(RECIPES).parts[0]


def test_there_are_patches_to_check() -> None:
    assert {_recipe(p) for p in PATCHES} >= {"traefik", "kube-network-policies", "velero"}


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_a_patch_adds_lines_only_and_says_why(patch: Path) -> None:
    text = patch.read_text(encoding="utf-8")
    preamble, _, diff = text.partition("diff --git ")
    assert len(preamble.split()) > 30, "a patch starts with what it fixes and why"
    lines = diff.splitlines()
    removed = [line for line in lines if line.startswith("-") and not line.startswith("--- ")]
    context = [line for line in lines if line.startswith(" ")]
    assert removed == [] and context == [], f"{patch.name}: upstream's lines are kept, and none is quoted"
    assert any(line.startswith("+") and not line.startswith("+++ ") for line in lines)


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_a_build_tag_a_patch_introduces_is_set_by_its_recipe(patch: Path) -> None:
    """A patch that leaves files out under a build tag does nothing unless the recipe builds with that tag."""
    from edirunbook import addons

    introduced = {tag for line in patch.read_text(encoding="utf-8").splitlines() if line.startswith("+//go:build ")
                  for tag in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", line.removeprefix("+//go:build "))}
    recipe = _recipe(patch)
    tags = {tag for program in addons.programs().values() if program.recipe == recipe for tag in program.build_tags}
    assert introduced <= tags, f"{patch.name} introduces the build tags {sorted(introduced)}; {recipe} builds with " \
                               f"{sorted(tags)}"


def _fake_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Path]:
    """A recipe `fake` requiring example.com/up (the program's module) and example.com/x/plugin, each an upstream
    module folder whose one file says `upstream`; the cache in tmp_path."""
    from edirunbook import addons, paths

    recipes = tmp_path / "recipes"
    (recipes / "fake" / "patches" / "plugin").mkdir(parents=True)
    (recipes / "fake" / "go.mod").write_text("module example.com/recipe\n\ngo 1.24\n\nrequire (\n"
                                             "\texample.com/up v1.2.3\n\texample.com/x/plugin v0.4.0 // indirect\n)\n")
    (recipes / "fake" / "go.sum").write_text("")
    upstream = {}
    for module in ("example.com/up", "example.com/x/plugin"):
        folder = tmp_path / "modcache" / module
        folder.mkdir(parents=True)
        (folder / "main.go").write_text("package main\n")
        (folder / "main.go").chmod(0o444)  # as the module cache keeps its files
        upstream[module] = folder
    monkeypatch.setattr(addons, "RECIPES", recipes)
    monkeypatch.setattr(addons, "module_dir", lambda recipe_dir, module: upstream[module])
    monkeypatch.setattr(paths, "cache_dir", lambda: tmp_path / "cache")
    return addons.Program("fake", "example.com/up", "example.com/up/cmd", "edirunbook/fake"), recipes / "fake"


def _adding(path: str, line: str) -> str:
    """A zero-context patch that puts one line at the top of the module's file `path`."""
    return (f"Adds a line at the top of {path}, so the test sees the patched copy.\n\n"
            f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -0,0 +1 @@\n+{line}\n")


def test_patches_in_a_subfolder_go_to_the_required_module_its_name_ends_and_both_copies_replace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edirunbook import addons

    program, recipe = _fake_recipe(tmp_path, monkeypatch)
    (recipe / "patches" / "01-up.patch").write_text(_adding("main.go", "// patched up"))
    (recipe / "patches" / "plugin" / "01-plugin.patch").write_text(_adding("main.go", "// patched plugin"))
    modules = addons.patched_modules(program)
    assert {module: [p.name for p in found] for module, found in modules.items()} == {
        "example.com/up": ["01-up.patch"], "example.com/x/plugin": ["01-plugin.patch"]}
    (flag,) = addons.patched_module_flags(program)
    modfile = Path(flag.removeprefix("-modfile="))
    replaced = dict(re.findall(r"^replace (\S+) => (\S+)$", modfile.read_text(), re.MULTILINE))
    assert set(replaced) == {"example.com/up", "example.com/x/plugin"}
    assert Path(replaced["example.com/up"]).name == "up@v1.2.3"
    assert (Path(replaced["example.com/up"]) / "main.go").read_text() == "// patched up\npackage main\n"
    assert (Path(replaced["example.com/x/plugin"]) / "main.go").read_text() == "// patched plugin\npackage main\n"
    assert "example.com/up v1.2.3" in modfile.read_text(), "the recipe's go.mod, with the replace lines added"


def test_a_patch_subfolder_no_required_module_ends_in_is_an_error_that_names_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edirunbook import addons
    from edirunbook.errors import ConfigError

    program, recipe = _fake_recipe(tmp_path, monkeypatch)
    (recipe / "patches" / "gone").mkdir()
    with pytest.raises(ConfigError, match=r"patches/gone: patches for a module whose path ends in /gone, but .*go.mod "
                                          r"requires none"):
        addons.patched_modules(program)


def test_a_patch_that_does_not_apply_names_the_patch_and_the_module(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from edirunbook import addons
    from edirunbook.errors import BuildError

    program, recipe = _fake_recipe(tmp_path, monkeypatch)
    bad = recipe / "patches" / "plugin" / "01-bad.patch"
    bad.write_text(_adding("missing.go", "// nowhere").replace("@@ -0,0 +1 @@", "@@ -5,0 +6 @@"))
    with pytest.raises(BuildError, match=r"01-bad.patch does not apply to example.com/x/plugin@v0.4.0"):
        addons.patched_module_flags(program)
