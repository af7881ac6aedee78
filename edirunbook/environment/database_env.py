"""The environment's database: the DatabaseSpec an env.yaml + this checkout's credentials describe."""
from __future__ import annotations

from edirunbook import database
from edirunbook.environment.config import EnvConfig
from edirunbook.environment.credentials import Credentials
from edirunbook.errors import EnvironmentNotReady


def spec_for(config: EnvConfig, image: str, creds: Credentials) -> database.DatabaseSpec:
    db = config.database
    return database.DatabaseSpec(
        image=image, network=config.network, alias=db.alias, database=db.name, user=db.user,
        password=creds.password, root_password=creds.root_password, tmpfs_datadir=db.tmpfs,
        name=f"{config.cluster_name}-{db.alias}")


def ensure(config: EnvConfig, image: str, creds: Credentials) -> database.RunningDatabase:
    """Reuse this checkout's running database, or start a new one."""
    spec = spec_for(config, image, creds)
    existing = database.find_existing(spec)
    if existing is not None:
        try:
            existing.ensure_running(config.timeout("database_ready", 120))
            return existing
        except EnvironmentNotReady:
            existing.remove()
    return database.start_database(spec, ready_timeout=config.timeout("database_ready", 120))


def attach(config: EnvConfig, image: str, creds: Credentials) -> database.RunningDatabase:
    found = database.find_existing(spec_for(config, image, creds))
    if found is None:
        raise EnvironmentNotReady(f"the database container of environment {config.name!r} is not running. "
                                  "Run `make env-up`.")
    return found


def remove(config: EnvConfig, image: str, creds: Credentials) -> None:
    found = database.find_existing(spec_for(config, image, creds))
    if found is not None:
        found.remove()


def select_one(db: database.RunningDatabase) -> str:
    rows = db.query("SELECT 1")
    if rows != [(1,)]:
        raise EnvironmentNotReady(f"SELECT 1 returned {rows!r}")
    return f"SELECT 1 -> 1 at 127.0.0.1:{db.port} as {db.spec.user}"
