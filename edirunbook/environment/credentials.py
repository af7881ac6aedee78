"""This checkout's generated secrets: the database passwords, Django's secret key and the web UI superuser's
password (any environment)."""
from __future__ import annotations

import json
import secrets
import string
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from edirunbook import paths

# The web UI superuser the db-init Job creates from the Secret (BOTS_ADMIN_USER); the name is no secret.
ADMIN_USER = "admin"
_ALPHABET = string.ascii_letters + string.digits
_LENGTHS = {"root_password": 24, "password": 24, "django_secret_key": 50, "admin_password": 24}


def _generate(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


@dataclass
class Credentials:
    """Generated once per checkout, kept in .state/credentials.json (mode 600); never printed.

    A value a newer suite needs that an older file lacks (admin_password) is generated and added to the file.
    """

    root_password: str
    password: str
    django_secret_key: str
    admin_password: str

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    def values(self) -> list[str]:
        """Every secret value, for redaction."""
        return [self.password, self.root_password, self.django_secret_key, self.admin_password]

    @classmethod
    def load_or_create(cls, file: Path | None = None) -> Credentials:
        file = file or paths.state_dir() / "credentials.json"
        stored = json.loads(file.read_text()) if file.exists() else {}
        known = {f.name for f in fields(cls)}
        values = {name: value for name, value in stored.items() if name in known and value}
        missing = [name for name in _LENGTHS if name not in values]
        if not missing:
            return cls(**values)
        values |= {name: _generate(_LENGTHS[name]) for name in missing}
        creds = cls(**values)
        _write_private(file, json.dumps({**stored, **asdict(creds)}))
        return creds


def _write_private(file: Path, text: str) -> None:
    """Replace the file atomically, readable by its owner only from the first byte on."""
    tmp = file.with_name(file.name + ".tmp")
    tmp.unlink(missing_ok=True)
    tmp.touch(mode=0o600)
    tmp.write_text(text)
    tmp.replace(file)
