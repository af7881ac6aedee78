"""An environment is data: environments/<name>/env.yaml, read once per run."""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from edirunbook import paths
from edirunbook.errors import ConfigError
from edirunbook.gameday.guard import DEFAULT_PRODUCTION_PATTERNS, LiveSettings

DEFAULT_ENV = "kind"


@dataclass(frozen=True)
class DatabaseConfig:
    alias: str = "bots-mysql"
    name: str = "botsedi_data"
    user: str = "botsedi"
    tmpfs: bool = False


@dataclass(frozen=True)
class HostAccess:
    """How this environment reaches a machine the runbook says to run commands on ("On DB server").

    `shell` is a command prefix that runs one command there (the command is appended, shell-quoted);
    `equivalents` map a runbook command that cannot run there as written to what does the same job.
    """

    shell: str
    equivalents: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvConfig:
    name: str
    directory: Path
    type: str
    namespace: str
    cluster_name: str = "edirunbook"
    network: str = "edirunbook-kind"
    cluster_config: Path | None = None
    web_port: int = 18080
    # The site the runbook reaches through the Ingress (https://<ingress_host>), served by the cluster's ingress
    # controller on 127.0.0.1:<https_port> of this machine (kind's port mapping); the host name resolves there
    # for the suite's clients and the operator's curl alone (edirunbook/ingress.py), never through DNS.
    ingress_host: str = "bots-edi.pminc.me"
    https_port: int = 18443
    # Velero's object store (a NodePort kind maps to 127.0.0.1:<object_store_port>): the operator's `velero backup
    # describe` downloads from it (environments/kind/addons/velero, the location's publicUrl)
    object_store_port: int = 18900
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    substitutions: dict[str, str] = field(default_factory=dict)
    timeouts: dict[str, float] = field(default_factory=dict)
    hosts: dict[str, HostAccess] = field(default_factory=dict)
    live: LiveSettings | None = None  # type live: the cluster attached to and its guard rails
    raw: dict[str, Any] = field(default_factory=dict)

    def timeout(self, name: str, default: float) -> float:
        return float(self.timeouts.get(name, default))


def env_name() -> str:
    return os.environ.get("ENV") or DEFAULT_ENV


# A folder of further environments, searched before environments/: a team's live environments (their context
# names, their allowlists) live in their own repository, not in this one.
ENVIRONMENTS_VARIABLE = "EDIRUNBOOK_ENVIRONMENTS"


def load(name: str | None = None, environments: Path | None = None) -> EnvConfig:
    """environments/<name>/env.yaml (name: $ENV, else kind; $EDIRUNBOOK_ENVIRONMENTS/<name> first when set);
    ConfigError says what is wrong with it."""
    name = name or env_name()
    extra = os.environ.get(ENVIRONMENTS_VARIABLE)
    if environments is None and extra and (Path(extra) / name / "env.yaml").exists():
        environments = Path(extra)
    environments = environments or paths.ENVIRONMENTS_DIR
    directory = environments / name
    file = directory / "env.yaml"
    if not file.exists():
        known = sorted(p.parent.name for p in environments.glob("*/env.yaml"))
        raise ConfigError(f"unknown environment {name!r}: there is no {file}; choose one of "
                          f"{', '.join(known) or 'none'} (ENV=NAME for make, --env NAME for edirunbook)")
    data = read_settings(file, "type, namespace, substitutions ...")
    try:
        config = _config(name, directory, file, data)
    except (AttributeError, TypeError, ValueError) as error:
        raise ConfigError(f"{file} has a setting of the wrong shape ({error}); compare it with "
                          "environments/kind/env.yaml") from None
    lane = lane_number()
    return for_lane(config, lane) if lane > 1 and config.type == "kind" else config


# `make verify LANES=n` runs n kind environments at once, each its own shard (edirunbook/gate/lanes.py). A lane's
# processes know which one they are by this variable ("i/n"); lane 1 is the environment as env.yaml has it.
LANE_VARIABLE = "EDIRUNBOOK_LANE"


def lane_number() -> int:
    """This process's lane (1 when it runs in none, or in the first)."""
    text = os.environ.get(LANE_VARIABLE, "")
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if text and match is None:
        raise ConfigError(f"{LANE_VARIABLE}={text!r} is not a lane: i/n, set by `make verify LANES=n`")
    return int(match[1]) if match else 1


def in_lanes() -> bool:
    """True in a lane of `make verify LANES=n`: the lanes' coordinator prepares and restores the host (routes, kernel
    settings) once for all of them, and each lane leaves that alone."""
    return bool(os.environ.get(LANE_VARIABLE))


def for_lane(config: EnvConfig, lane: int) -> EnvConfig:
    """Lane `lane`'s copy of a kind environment: its own cluster, network and database container (named after
    the cluster), and its own host ports, each the first lane's plus lane - 1; substitutions that name the first
    lane's ports name this lane's."""
    offset = lane - 1
    ports = {config.web_port: config.web_port + offset, config.https_port: config.https_port + offset}

    def moved(text: str) -> str:
        return re.sub(r":(\d+)\b", lambda m: f":{ports.get(int(m[1]), int(m[1]))}", text)

    return dataclasses.replace(
        config, cluster_name=f"{config.cluster_name}-{lane}", network=f"{config.network}-{lane}",
        web_port=config.web_port + offset, https_port=config.https_port + offset,
        object_store_port=config.object_store_port + offset,
        substitutions={key: moved(value) for key, value in config.substitutions.items()})


def _config(name: str, directory: Path, file: Path, data: dict[str, Any]) -> EnvConfig:
    kind = section(data, "kind", file)
    return EnvConfig(
        name=name,
        directory=directory,
        type=data.get("type", "kind"),
        namespace=data.get("namespace", "edi"),
        cluster_name=kind.get("cluster_name", "edirunbook"),
        network=kind.get("network", "edirunbook-kind"),
        cluster_config=directory / kind["config"] if kind.get("config") else None,
        web_port=int(kind.get("web_port", 18080)),
        ingress_host=str(section(data, "ingress", file).get("host", "bots-edi.pminc.me")),
        https_port=int(section(data, "ingress", file).get("https_port", 18443)),
        object_store_port=int(kind.get("object_store_port", 18900)),
        database=DatabaseConfig(**section(data, "database", file)),
        substitutions=_substitutions(data.get("substitutions"), file),
        timeouts={str(k): float(v) for k, v in section(data, "timeouts", file).items()},
        hosts=_hosts(section(data, "hosts", file), file),
        live=_live(section(data, "live", file), file) if data.get("type") == "live" else None,
        raw=data,
    )


def read_settings(file: Path, expected: str) -> dict[str, Any]:
    """A YAML settings file (env.yaml, target.yaml) as a mapping; ConfigError saying what is wrong with it."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read {file}: {_one_line(error)}; fix its YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file} must be a mapping of settings ({expected})")
    return data


def section(data: dict[str, Any], key: str, file: Path) -> dict[str, Any]:
    """The mapping under `key` (empty when absent); ConfigError when it is something else."""
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{file}: '{key}' must be a mapping, not {type(value).__name__}")
    return value


def _substitutions(value: Any, file: Path) -> dict[str, str]:
    """Production text -> this environment's text, applied to the runbook's commands before they run."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str | int)
                                              for k, v in value.items()):
        raise ConfigError(f"{file}: 'substitutions' must map production text to this environment's text")
    return {key: str(text) for key, text in value.items()}


def _hosts(value: dict[str, Any], file: Path) -> dict[str, HostAccess]:
    hosts = {}
    for name, entry in value.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("shell"), str) or not entry["shell"].strip():
            raise ConfigError(f"{file}: hosts.{name} needs 'shell', the command prefix that runs a command there "
                              "(e.g. 'docker exec -i {database_container}')")
        equivalents = entry.get("equivalents") or {}
        if not isinstance(equivalents, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                        for k, v in equivalents.items()):
            raise ConfigError(f"{file}: hosts.{name}.equivalents must map a runbook command to the command run "
                              "there instead")
        hosts[str(name)] = HostAccess(entry["shell"], dict(equivalents))
    return hosts


def _live(value: dict[str, Any], file: Path) -> LiveSettings:
    """`live:` of a live environment: the context it is for, the allowlist, production patterns, the longest a fault
    may last and the objects faults may touch. Patterns must compile: a guard rail that cannot match is none."""
    def strings(key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        found = value.get(key, list(default))
        if not isinstance(found, list) or not all(isinstance(item, str) and item for item in found):
            raise ConfigError(f"{file}: live.{key} must be a list of non-empty strings")
        return tuple(found)

    patterns = strings("production_patterns", DEFAULT_PRODUCTION_PATTERNS)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ConfigError(f"{file}: live.production_patterns has {pattern!r}, which is not a regular "
                              f"expression ({error})") from None
    context = value.get("context")
    if context is not None and not (isinstance(context, str) and context):
        raise ConfigError(f"{file}: live.context must be the name of a kubeconfig context")
    seconds = value.get("max_fault_seconds", 900)
    if not isinstance(seconds, int | float) or not 0 < seconds <= 3600:
        raise ConfigError(f"{file}: live.max_fault_seconds must be a number of seconds, above 0 and at most 3600")
    filler = value.get("max_fill_megabytes", 1024)
    if not isinstance(filler, int) or not 0 < filler <= 65536:
        raise ConfigError(f"{file}: live.max_fill_megabytes must be a whole number of MiB, above 0 and at most 65536")
    return LiveSettings(context=context, allowlist=strings("allowlist"), production_patterns=patterns,
                        max_fault_seconds=float(seconds), objects=strings("objects"), max_fill_megabytes=filler)


def _one_line(error: Exception) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} at line {error.problem_mark.line + 1}"
    return str(error)
