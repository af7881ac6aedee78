"""The checkout's generated secrets: the web UI superuser's password joins them, also in an older file,
and the Secret the deploy step makes carries it under the keys the db-init Job reads."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from edirunbook import paths, target
from edirunbook.environment import config, deploy
from edirunbook.environment.credentials import ADMIN_USER, Credentials

OLD_FILE = {"root_password": "r" * 24, "password": "p" * 24, "django_secret_key": "k" * 50}


def test_a_credentials_file_without_the_admin_password_gets_one_added(tmp_path: Path) -> None:
    file = tmp_path / "credentials.json"
    file.write_text(json.dumps(OLD_FILE))
    file.chmod(0o600)
    creds = Credentials.load_or_create(file)
    assert (creds.root_password, creds.password, creds.django_secret_key) == ("r" * 24, "p" * 24, "k" * 50)
    assert len(creds.admin_password) == 24 and creds.admin_password.isalnum()
    assert json.loads(file.read_text()) == {**OLD_FILE, "admin_password": creds.admin_password}
    assert file.stat().st_mode & 0o077 == 0
    assert Credentials.load_or_create(file) == creds  # added once, then kept


def test_every_secret_is_redacted_and_none_is_shown(tmp_path: Path) -> None:
    creds = Credentials.load_or_create(tmp_path / "credentials.json")
    assert creds.admin_password in creds.values()
    assert len(set(creds.values())) == 4
    assert all(value not in repr(creds) for value in creds.values())


def test_the_secret_has_every_key_of_the_example_and_creates_the_superuser(tmp_path: Path) -> None:
    creds = Credentials.load_or_create(tmp_path / "credentials.json")
    env = SimpleNamespace(config=config.load("kind"))
    data = deploy.secret_data(env, creds, target.load("reference"))["bots-edidb-secret"]  # type: ignore[arg-type]
    example = paths.ENVIRONMENTS_DIR / "kind" / "secret.env.example"
    keys = {line.split("=", 1)[0] for line in example.read_text().splitlines() if line and not line.startswith("#")}
    assert set(data) == keys
    assert (data["BOTS_ADMIN_USER"], data["BOTS_ADMIN_PASSWORD"]) == (ADMIN_USER, creds.admin_password)
