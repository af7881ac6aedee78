"""Our patches to upstream add-ons (images/addons/*/patches) carry our lines only: zero-context, nothing removed
(an upstream line is commented out by lines around it), each starting with what it fixes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

PATCHES = sorted((Path(__file__).parents[2] / "images" / "addons").glob("*/patches/*.patch"))


def test_there_are_patches_to_check() -> None:
    assert {p.parent.parent.name for p in PATCHES} >= {"traefik", "kube-network-policies"}


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_patch_adds_lines_only_and_says_why(patch: Path) -> None:
    text = patch.read_text(encoding="utf-8")
    preamble, _, diff = text.partition("diff --git ")
    assert len(preamble.split()) > 30, "a patch starts with what it fixes and why"
    lines = diff.splitlines()
    removed = [line for line in lines if line.startswith("-") and not line.startswith("--- ")]
    context = [line for line in lines if line.startswith(" ")]
    assert removed == [] and context == [], f"{patch.name}: upstream's lines are kept, and none is quoted"
    assert any(line.startswith("+") and not line.startswith("+++ ") for line in lines)


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_build_tag_a_patch_introduces_is_set_by_its_recipe(patch: Path) -> None:
    """A patch that leaves files out under a build tag does nothing unless the recipe builds with that tag."""
    from edirunbook import addons

    introduced = {tag for line in patch.read_text(encoding="utf-8").splitlines() if line.startswith("+//go:build ")
                  for tag in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", line.removeprefix("+//go:build "))}
    recipe = patch.parent.parent.name
    tags = {tag for program in addons.programs().values() if program.recipe == recipe for tag in program.build_tags}
    assert introduced <= tags, f"{patch.name} introduces the build tags {sorted(introduced)}; {recipe} builds with " \
                               f"{sorted(tags)}"
