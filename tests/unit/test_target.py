"""Targets as data: targets/<name>/target.yaml read, checked, and rendered on the kind environment."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edirunbook import target
from edirunbook.environment import config
from edirunbook.environment import manifests as rendering
from edirunbook.errors import ConfigError

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"


def _write(targets: Path, name: str, data: dict[str, object]) -> None:
    (targets / name).mkdir(parents=True, exist_ok=True)
    (targets / name / "target.yaml").write_text(yaml.safe_dump(data))


def _team(tmp_path: Path) -> Path:
    source = tmp_path / "team"
    (source / "deploy").mkdir(parents=True)
    (source / "deploy" / "kustomization.yaml").write_text(KUSTOMIZATION)
    (source / "Dockerfile").write_text("FROM python:3.11-slim\n")
    return source


def _team_target(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {"source": {"repository": "https://example.invalid/team"},
                               "image": {"build": {"context": "."}, "names": ["registry.invalid/team/bots"]},
                               "manifests": {"kustomize": "deploy"},
                               "secrets": {"db": {"DB_PASSWORD": "{db_password}"}}}
    data.update(changes)
    return data


def test_the_reference_is_the_default_target_and_needs_no_source() -> None:
    ref = target.load("reference", None)
    assert ref.source_is_suite and ref.image.how == "build"
    assert ref.image_names == ("harbor.pminc.me/priv/bots-edi",)
    assert ref.manifests.name == "base" and ref.test_overlay is None
    assert target.DEFAULT_TARGET == "reference"


def test_a_team_target_needs_its_checkout(tmp_path: Path) -> None:
    _write(tmp_path, "team", _team_target())
    with pytest.raises(ConfigError, match="SOURCE=/path/to/checkout"):
        target.load("team", None, tmp_path)
    loaded = target.load("team", _team(tmp_path), tmp_path)
    assert loaded.image.dockerfile == tmp_path / "team" / "Dockerfile"
    assert loaded.image.describe(loaded.source) == "built from Dockerfile"


@pytest.mark.parametrize(("change", "message"), [
    ({"image": {"names": ["x"]}}, "exactly one of build, archive, docker, pull"),
    ({"image": {"docker": "a:1", "pull": "a:1", "names": ["x"]}}, "it has docker, pull"),
    ({"image": {"docker": "a:1"}}, "image.names must list"),
    ({"manifests": {"kustomize": "nowhere"}}, "has no kustomization.yaml"),
    ({"secrets": {"db": {"DB_PASSWORD": "{password}"}}}, r"uses \{password\}"),
    ({"image": {"archive": "missing.tar", "names": ["x"]}}, "make it with docker save"),
])
def test_a_wrong_target_file_says_what_is_wrong(tmp_path: Path, change: dict[str, object], message: str) -> None:
    _write(tmp_path, "team", _team_target(**change))
    with pytest.raises(ConfigError, match=message):
        target.load("team", _team(tmp_path), tmp_path)


def test_an_unknown_target_lists_the_known_ones(tmp_path: Path) -> None:
    _write(tmp_path, "team", _team_target())
    with pytest.raises(ConfigError, match="choose one of team"):
        target.load("nope", None, tmp_path)


def test_secrets_are_filled_from_the_generated_values(tmp_path: Path) -> None:
    _write(tmp_path, "team", _team_target())
    loaded = target.load("team", _team(tmp_path), tmp_path)
    assert loaded.secret_data({"db_password": "s3cret"}) == {"db": {"DB_PASSWORD": "s3cret"}}


def test_the_reference_renders_with_the_environment_component(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kustomization the suite writes maps the image and layers environments/kind on environments/base."""
    monkeypatch.setenv("EDIRUNBOOK_STATE", str(tmp_path))
    directory = rendering.render_dir(config.load("kind"), target.load("reference", None))
    written = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert written["images"] == [{"name": "harbor.pminc.me/priv/bots-edi", "newName": "edirunbook/bots-edi",
                                  "newTag": "local"}]
    assert [(directory / c).resolve() for c in written["components"]] == [config.load("kind").directory.resolve()]
    base = target.TARGETS_DIR.parent / "environments" / "base"
    assert (directory / written["resources"][0]).resolve() == base.resolve()


class _Docker:
    """Answers `image inspect` for the images it has, and `docker load` with the name the tarball holds."""

    def __init__(self, have: set[str], tarball_holds: str = "") -> None:
        self.have, self.tarball_holds, self.calls = set(have), tarball_holds, []  # type: ignore[var-annotated]

    def run(self, *args: str, check: bool = True, timeout: float = 0) -> object:
        from types import SimpleNamespace

        self.calls.append(args)
        if args[:2] == ("image", "inspect"):
            return SimpleNamespace(returncode=0 if args[-1] in self.have else 1, stdout="sha256:x\n")
        if args[0] == "load":
            self.have.add(self.tarball_holds)
            return SimpleNamespace(returncode=0, stdout=f"Loaded image: {self.tarball_holds}\n")
        if args[0] == "tag":
            self.have.add(args[2])
        return SimpleNamespace(returncode=0, stdout="")


def test_an_image_from_a_tarball_is_loaded_once_under_a_content_addressed_name(tmp_path: Path) -> None:
    from edirunbook.environment import deploy

    source = _team(tmp_path)
    (source / "release.tar").write_bytes(b"not really a tarball, but content to hash")
    _write(tmp_path, "team", _team_target(image={"archive": "release.tar", "names": ["registry.invalid/team/bots"]}))
    loaded = target.load("team", source, tmp_path)
    docker = _Docker(set(), tarball_holds="registry.invalid/team/bots:1.4.0")
    ref = deploy.app_image(docker, loaded)  # type: ignore[arg-type]
    assert ref.startswith("edirunbook/target-team:") and ref in docker.have
    assert deploy.app_image(docker, loaded) == ref  # type: ignore[arg-type]
    assert sum(1 for call in docker.calls if call[0] == "load") == 1


def test_an_image_taken_from_the_daemon_must_be_there(tmp_path: Path) -> None:
    from edirunbook.environment import deploy
    from edirunbook.errors import BuildError

    _write(tmp_path, "team", _team_target(image={"docker": "team/bots:rc1", "names": ["registry.invalid/team/bots"]}))
    loaded = target.load("team", _team(tmp_path), tmp_path)
    assert deploy.app_image(_Docker({"team/bots:rc1"}), loaded) == "team/bots:rc1"  # type: ignore[arg-type]
    with pytest.raises(BuildError, match="team/bots:rc1 is not in the suite's Docker daemon"):
        deploy.app_image(_Docker(set()), loaded)  # type: ignore[arg-type]
