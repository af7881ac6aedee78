"""An environment is data: environments/<name>/env.yaml, read once per run."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from edirunbook import paths
from edirunbook.errors import EnvironmentNotReady

DEFAULT_ENV = "kind"


@dataclass(frozen=True)
class DatabaseConfig:
    alias: str = "bots-mysql"
    name: str = "botsedi_data"
    user: str = "botsedi"
    tmpfs: bool = False


@dataclass(frozen=True)
class EnvConfig:
    name: str
    directory: Path
    type: str
    namespace: str
    cluster_name: str = "edirunbook"
    network: str = "edirunbook-kind"
    cluster_config: Path | None = None
    data_volume_path: str = "/var/local/edirunbook/data"
    data_volume_size: str = "256m"
    web_port: int = 18080
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    substitutions: dict[str, str] = field(default_factory=dict)
    timeouts: dict[str, float] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def timeout(self, name: str, default: float) -> float:
        return float(self.timeouts.get(name, default))


def env_name() -> str:
    return os.environ.get("ENV") or DEFAULT_ENV


def load(name: str | None = None) -> EnvConfig:
    name = name or env_name()
    directory = paths.ENVIRONMENTS_DIR / name
    file = directory / "env.yaml"
    if not file.exists():
        known = sorted(p.parent.name for p in paths.ENVIRONMENTS_DIR.glob("*/env.yaml"))
        raise EnvironmentNotReady(f"unknown environment {name!r}: {file} does not exist. "
                                  f"Choose one of {', '.join(known)} with ENV=NAME.")
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as error:
        raise EnvironmentNotReady(f"{file} is not valid YAML: {error}") from None
    kind = data.get("kind", {}) or {}
    return EnvConfig(
        name=name,
        directory=directory,
        type=data.get("type", "kind"),
        namespace=data.get("namespace", "edi"),
        cluster_name=kind.get("cluster_name", "edirunbook"),
        network=kind.get("network", "edirunbook-kind"),
        cluster_config=directory / kind["config"] if kind.get("config") else None,
        data_volume_path=kind.get("data_volume", {}).get("path", "/var/local/edirunbook/data"),
        data_volume_size=kind.get("data_volume", {}).get("size", "256m"),
        web_port=int(kind.get("web_port", 18080)),
        database=DatabaseConfig(**(data.get("database") or {})),
        substitutions={str(k): str(v) for k, v in (data.get("substitutions") or {}).items()},
        timeouts={str(k): float(v) for k, v in (data.get("timeouts") or {}).items()},
        raw=data,
    )
