"""This checkout's generated secrets: the database passwords and Django's secret key (any environment)."""
from __future__ import annotations

import json
import secrets
import string
from dataclasses import asdict, dataclass

from edirunbook import paths


@dataclass
class Credentials:
    """Generated once per checkout, kept in .state/credentials.json (mode 600); never printed."""

    root_password: str
    password: str
    django_secret_key: str

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    def values(self) -> list[str]:
        """Every secret value, for redaction."""
        return [self.password, self.root_password, self.django_secret_key]

    @classmethod
    def load_or_create(cls) -> Credentials:
        file = paths.state_dir() / "credentials.json"
        if file.exists():
            return cls(**json.loads(file.read_text()))
        alphabet = string.ascii_letters + string.digits

        def make(n: int) -> str:
            return "".join(secrets.choice(alphabet) for _ in range(n))

        creds = cls(root_password=make(24), password=make(24), django_secret_key=make(50))
        file.touch(mode=0o600)
        file.write_text(json.dumps(asdict(creds)))
        return creds
