"""Environments are data: env.yaml is read into a typed config; bad names and files fail clearly."""
from pathlib import Path

import pytest

from edirunbook import paths
from edirunbook.environment import config
from edirunbook.errors import EnvironmentNotReady


def test_embedded_kind_environment_loads() -> None:
    cfg = config.load("kind")
    assert cfg.type == "kind"
    assert cfg.namespace == "edi"
    assert cfg.cluster_config is not None and cfg.cluster_config.exists()
    assert cfg.substitutions["kona.db.pminc.me"] == cfg.database.alias


def test_env_variable_selects_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "kind")
    assert config.load().name == "kind"
    monkeypatch.delenv("ENV")
    assert config.env_name() == config.DEFAULT_ENV


def test_unknown_environment_names_the_known_ones() -> None:
    with pytest.raises(EnvironmentNotReady) as error:
        config.load("no-such-env")
    assert "no-such-env" in str(error.value)
    assert "kind" in str(error.value)


def test_malformed_env_yaml_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "env.yaml").write_text("type: [unclosed\n")
    monkeypatch.setattr(paths, "ENVIRONMENTS_DIR", tmp_path)
    with pytest.raises(EnvironmentNotReady) as error:
        config.load("broken")
    assert "not valid YAML" in str(error.value)


def test_cluster_config_renders_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edirunbook.environment.kind import KindEnvironment

    monkeypatch.setenv("EDIRUNBOOK_STATE", str(tmp_path))
    env = KindEnvironment(config.load("kind"))
    text = env.rendered_cluster_config().read_text()
    assert "${" not in text
    assert f"hostPath: {tmp_path}/volumes/bots-data" in text
    assert "hostPort: 18080" in text
    assert "restrict_oom_score_adj = true" in text


def test_credentials_are_generated_once_and_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edirunbook.environment.kind import Credentials

    monkeypatch.setenv("EDIRUNBOOK_STATE", str(tmp_path))
    first = Credentials.load_or_create()
    assert Credentials.load_or_create() == first
    assert first.password not in repr(first)
    assert (tmp_path / "credentials.json").stat().st_mode & 0o077 == 0
