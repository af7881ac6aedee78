"""A target that extends another and applies a fix overlay: patches to a copy of the team's checkout."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from edirunbook import target
from edirunbook.errors import ConfigError
from edirunbook.gate import verdict

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [app.yaml]\n"
APP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  replicas: \"1\"\n"


@pytest.fixture()
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EDIRUNBOOK_STATE", str(tmp_path / "state"))
    return tmp_path / "state"


def _checkout(tmp_path: Path) -> Path:
    source = tmp_path / "team"
    (source / "deploy").mkdir(parents=True)
    (source / "deploy" / "kustomization.yaml").write_text(KUSTOMIZATION)
    (source / "deploy" / "app.yaml").write_text(APP)
    (source / "Dockerfile").write_text("FROM python:3.11-slim\n")
    return source


def _zero_context_patch(source: Path, edit: dict[str, str], tmp_path: Path) -> str:
    """`git diff -U0` of an edited copy, as a team makes a patch for its repository."""
    repo = tmp_path / "patchwork"
    subprocess.run(["cp", "-a", str(source), str(repo)], check=True)
    run = {"cwd": repo, "check": True, "capture_output": True, "text": True,
           "env": {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}}
    subprocess.run(["git", "init", "-q"], **run)  # type: ignore[call-overload]
    subprocess.run(["git", "add", "-A"], **run)  # type: ignore[call-overload]
    for name, text in edit.items():
        (repo / name).write_text(text)
    subprocess.run(["git", "add", "-N", "-A"], **run)  # type: ignore[call-overload]
    diff = subprocess.run(["git", "diff", "-U0"], **run).stdout  # type: ignore[call-overload]
    subprocess.run(["rm", "-rf", str(repo)], check=True)
    return str(diff)


def _targets(tmp_path: Path, fixes: dict[str, str], patches: dict[str, str]) -> Path:
    targets = tmp_path / "targets"
    parent = targets / "team"
    (parent / "overlay").mkdir(parents=True)
    (parent / "overlay" / "kustomization.yaml").write_text("kind: Component\n")
    parent_file = {"description": "the team's release", "source": {"repository": "https://example.invalid/team"},
                   "image": {"build": {"context": "."}, "names": ["registry.invalid/team/bots"]},
                   "manifests": {"kustomize": "deploy", "test_overlay": "overlay"},
                   "secrets": {"db": {"DB_PASSWORD": "{db_password}"}}}
    (parent / "target.yaml").write_text(yaml.safe_dump(parent_file))
    fixed = targets / "team-fixed"
    (fixed / "fixes").mkdir(parents=True)
    for name, text in patches.items():
        (fixed / "fixes" / name).write_text(text)
    (fixed / "target.yaml").write_text(yaml.safe_dump({"extends": "team", "description": "fixed", "fixes": fixes}))
    return targets


def test_a_fixed_target_builds_from_a_patched_copy_and_keeps_the_checkout_as_given(tmp_path: Path,
                                                                                   state: Path) -> None:
    checkout = _checkout(tmp_path)
    patch = _zero_context_patch(checkout, {"deploy/app.yaml": APP.replace('"1"', '"2"'), "manage.py": "print(1)\n"},
                                tmp_path)
    assert "kind: ConfigMap" not in patch, "zero context: none of the team's other lines"
    targets = _targets(tmp_path, {"fixes/01-two.patch": "replicas: found 1, expected 2"}, {"01-two.patch": patch})

    fixed = target.load("team-fixed", checkout, targets)

    assert fixed.source == state / "patched" / "team-fixed" / "source" and fixed.checkout == checkout
    assert '"2"' in (fixed.manifests / "app.yaml").read_text() and (fixed.source / "manage.py").exists()
    assert '"1"' in (checkout / "deploy" / "app.yaml").read_text(), "the checkout itself is never changed"
    assert fixed.description == "fixed" and fixed.test_overlay == targets / "team" / "overlay"
    assert fixed.in_checkout(fixed.manifests) == checkout / "deploy"
    assert fixed.image.dockerfile == fixed.source / "Dockerfile"
    assert verdict.fixes_applied(fixed) == [{"patch": str(targets / "team-fixed" / "fixes" / "01-two.patch"),
                                            "files": ["deploy/app.yaml", "manage.py"],
                                            "fixes": "replicas: found 1, expected 2"}]
    # a team's target needs its checkout, also through extends (make manifest-lint lints only the suite's)
    assert not target.built_from_suite("team-fixed", targets) and target.built_from_suite("reference")
    # the parent is not patched, and an unchanged checkout reuses the copy
    assert target.load("team", checkout, targets).source == checkout
    marker = fixed.source / "marker"
    marker.write_text("kept")
    assert target.load("team-fixed", checkout, targets).source == fixed.source and marker.exists()
    (checkout / "deploy" / "extra.yaml").write_text("x: 1\n")
    assert not target.load("team-fixed", checkout, targets).source.joinpath("marker").exists(), "copied again"


def test_a_patch_that_does_not_apply_names_itself_and_leaves_no_half_copy(tmp_path: Path, state: Path) -> None:
    checkout = _checkout(tmp_path)
    patch = _zero_context_patch(checkout, {"deploy/app.yaml": APP.replace('"1"', '"2"')}, tmp_path)
    (checkout / "deploy" / "app.yaml").write_text(APP.replace('"1"', '"3"'))  # the team's file moved on
    targets = _targets(tmp_path, {"fixes/01-two.patch": "two replicas"}, {"01-two.patch": patch})
    with pytest.raises(ConfigError, match=r"the fix 01-two.patch of target 'team-fixed' does not apply to .*team"):
        target.load("team-fixed", checkout, targets)
    assert not (state / "patched" / "team-fixed" / "source").exists()
    assert not (state / "patched" / "team-fixed" / "source.new").exists()


@pytest.mark.parametrize(("fixes", "message"), [
    ({"fixes/none.patch": "a reason"}, "there is no"),
    ({"fixes/01-two.patch": ""}, "must say which defect"),
])
def test_a_wrong_fix_entry_says_what_is_wrong(tmp_path: Path, state: Path, fixes: dict[str, str],
                                              message: str) -> None:
    targets = _targets(tmp_path, fixes, {"01-two.patch": "diff --git a/x b/x\n"})
    with pytest.raises(ConfigError, match=message):
        target.load("team-fixed", _checkout(tmp_path), targets)


def test_extends_must_name_a_target_and_may_not_loop(tmp_path: Path, state: Path) -> None:
    targets, checkout = _targets(tmp_path, {}, {}), _checkout(tmp_path)
    (targets / "team-fixed" / "target.yaml").write_text(yaml.safe_dump({"extends": "nobody"}))
    with pytest.raises(ConfigError, match="extends 'nobody', but there is no"):
        target.load("team-fixed", checkout, targets)
    data = yaml.safe_load((targets / "team" / "target.yaml").read_text())
    (targets / "team" / "target.yaml").write_text(yaml.safe_dump({**data, "extends": "team-fixed"}))
    (targets / "team-fixed" / "target.yaml").write_text(yaml.safe_dump({"extends": "team"}))
    with pytest.raises(ConfigError, match="extends it back"):
        target.load("team-fixed", checkout, targets)


def test_the_suite_own_targets_cannot_carry_fixes(tmp_path: Path, state: Path) -> None:
    targets = tmp_path / "targets"
    (targets / "mine" / "fixes").mkdir(parents=True)
    (targets / "mine" / "fixes" / "a.patch").write_text("")
    data = yaml.safe_load((target.TARGETS_DIR / "reference" / "target.yaml").read_text())
    data["manifests"]["kustomize"] = str(target.paths.REPO_ROOT / data["manifests"]["kustomize"])
    (targets / "mine" / "target.yaml").write_text(yaml.safe_dump({**data, "fixes": {"fixes/a.patch": "x"}}))
    with pytest.raises(ConfigError, match="changes its own files instead"):
        target.load("mine", None, targets)


def test_a_target_says_what_its_release_writes_and_the_reference_release_is_the_default(tmp_path: Path,
                                                                                         state: Path) -> None:
    targets, checkout = _targets(tmp_path, {}, {}), _checkout(tmp_path)
    assert target.load("team", checkout, targets).release == target.Release()
    assert target.Release().separator == ";" and (target.Release().recipe / "Dockerfile").is_file()
    data = yaml.safe_load((targets / "team" / "target.yaml").read_text())
    (targets / "team" / "release").mkdir()
    (targets / "team" / "release" / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    (targets / "team" / "target.yaml").write_text(yaml.safe_dump({**data, "release": {"recipe": "release",
                                                                                       "separator": ","}}))
    assert target.load("team", checkout, targets).release == target.Release(targets / "team" / "release", ",")
    # a target extending it builds the same release, from the directory of the file that names it
    (targets / "team-fixed" / "target.yaml").write_text(yaml.safe_dump({"extends": "team"}))
    assert target.load("team-fixed", checkout, targets).release.recipe == targets / "team" / "release"
    for wrong, message in (({"recipe": "release"}, "needs recipe"), ({"recipe": "nowhere", "separator": ","},
                                                                      "has no Dockerfile"),
                           ({"recipe": "release", "separator": ";;"}, "one character")):
        (targets / "team" / "target.yaml").write_text(yaml.safe_dump({**data, "release": wrong}))
        with pytest.raises(ConfigError, match=message):
            target.load("team", checkout, targets)
