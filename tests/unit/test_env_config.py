"""Environments are data: env.yaml is read into a typed config; bad names and files fail clearly."""
import textwrap
from pathlib import Path

import pytest
import yaml

from edirunbook import paths
from edirunbook.environment import config
from edirunbook.errors import ConfigError

DATA_ENVIRONMENTS = Path(__file__).parent / "data" / "environments"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


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
    with pytest.raises(ConfigError) as error:
        config.load("no-such-env")
    assert "no-such-env" in str(error.value)
    assert "kind" in str(error.value)


def test_malformed_env_yaml_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "broken" / "env.yaml", "type: [unclosed\n")
    monkeypatch.setattr(paths, "ENVIRONMENTS_DIR", tmp_path)
    with pytest.raises(ConfigError, match=r"cannot read .*broken/env\.yaml: .*; fix its YAML"):
        config.load("broken")


# --- substitutions: production text -> this environment's text ----------------------------------------------


def test_substitutions_come_from_the_environments_env_yaml() -> None:
    assert config.load("kind", DATA_ENVIRONMENTS).substitutions == {
        "bots-edi.pminc.me": "127.0.0.1:18080", "kona.db.pminc.me": "bots-mysql"}


def test_an_env_yaml_without_substitutions_has_none(tmp_path: Path) -> None:
    write(tmp_path / "kind" / "env.yaml", "type: kind\n")
    assert config.load("kind", tmp_path).substitutions == {}


def test_a_substituted_number_is_text(tmp_path: Path) -> None:
    write(tmp_path / "kind" / "env.yaml", "substitutions:\n  '443': 18443\n")
    assert config.load("kind", tmp_path).substitutions == {"443": "18443"}


def test_an_unknown_environment_names_the_known_ones_and_how_to_choose(tmp_path: Path) -> None:
    write(tmp_path / "kind" / "env.yaml", "type: kind\n")
    write(tmp_path / "live" / "env.yaml", "type: live\n")
    with pytest.raises(ConfigError, match=r"unknown environment 'k3d': there is no .*k3d/env\.yaml; choose one of "
                                          r"kind, live \(ENV=NAME for make, --env NAME for edirunbook\)"):
        config.load("k3d", tmp_path)


def test_a_folder_without_env_yaml_is_an_unknown_environment(tmp_path: Path) -> None:
    (tmp_path / "kind").mkdir()
    with pytest.raises(ConfigError, match=r"unknown environment 'kind': there is no .*kind/env\.yaml; "
                                          r"choose one of none \("):
        config.load("kind", tmp_path)


def test_substitutions_that_are_not_a_mapping_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "kind" / "env.yaml", "substitutions:\n  - bots-edi.pminc.me\n")
    with pytest.raises(ConfigError, match="env.yaml: 'substitutions' must map production text to this "
                                          "environment's text"):
        config.load("kind", tmp_path)


def test_an_env_yaml_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "kind" / "env.yaml", "substitutions: [unclosed\n")
    with pytest.raises(ConfigError, match=r"cannot read .*env\.yaml: expected ',' or ']'.* at line 2; fix its YAML"):
        config.load("kind", tmp_path)


def test_an_env_yaml_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "kind" / "env.yaml", "- kind\n")
    with pytest.raises(ConfigError, match=r"env\.yaml must be a mapping of settings"):
        config.load("kind", tmp_path)


# --- the kind environment ----------------------------------------------------------------------------------------


def test_cluster_config_renders_its_ports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edirunbook.environment.kind import KindEnvironment

    monkeypatch.setenv("EDIRUNBOOK_STATE", str(tmp_path))
    env = KindEnvironment(config.load("kind"))
    text = env.rendered_cluster_config().read_text()
    assert "${" not in text
    assert "hostPort: 18080" in text
    assert "hostPort: 18443" in text
    assert "restrict_oom_score_adj = true" in text
    # kubeadm's patches (the control plane's readiness probes) come from the environment's own folder
    mount = yaml.safe_load(text)["nodes"][0]["extraMounts"][0]
    assert mount["containerPath"] == "/kind/edirunbook-kubeadm-patches"
    patches = Path(mount["hostPath"])
    assert patches.is_absolute() and sorted(p.name for p in patches.iterdir()) == [
        "etcd+strategic.yaml", "kube-apiserver+strategic.yaml", "kube-scheduler+strategic.yaml"]
    assert "patches:\n      directory: /kind/edirunbook-kubeadm-patches" in text


def test_credentials_are_generated_once_and_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edirunbook.environment.credentials import Credentials

    monkeypatch.setenv("EDIRUNBOOK_STATE", str(tmp_path))
    first = Credentials.load_or_create()
    assert Credentials.load_or_create() == first
    assert first.password not in repr(first)
    assert (tmp_path / "credentials.json").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("text", "names"), [
    ("kind: [1]\n", "'kind' must be a mapping"),
    ("ingress: big\n", "'ingress' must be a mapping"),
    ("database:\n  colour: blue\n", "wrong shape"),
    ("timeouts:\n  rollout: soon\n", "wrong shape"),
])
def test_a_setting_of_the_wrong_shape_is_a_config_error_naming_the_file(tmp_path: Path, text: str,
                                                                         names: str) -> None:
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "env.yaml").write_text(text)
    with pytest.raises(ConfigError, match=names) as error:
        config.load("odd", tmp_path)
    assert "odd/env.yaml" in str(error.value)


def test_a_folder_of_further_environments_is_searched_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "team-staging").mkdir()
    (tmp_path / "team-staging" / "env.yaml").write_text("type: live\nnamespace: edi\nlive:\n  context: team\n")
    monkeypatch.setenv(config.ENVIRONMENTS_VARIABLE, str(tmp_path))
    assert config.load("team-staging").live is not None
    assert config.load("kind").type == "kind"  # not there: the suite's own
