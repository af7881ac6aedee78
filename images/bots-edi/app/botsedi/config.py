"""Lay out one Bots environment on the data volume: config dir, usersys, botssys directories.

Idempotent and safe when several pods start at once on a shared volume: files are replaced atomically and
only when their content changed (so a pod can still start while the volume is full).
"""

import configparser
import os
import shutil
import tempfile

from botsedi import paths


class PrepareError(Exception):
    """The environment could not be laid out (volume missing, read-only or full)."""


def _write_if_changed(path: str, content: bytes) -> bool:
    try:
        with open(path, "rb") as current:
            if current.read() == content:
                return False
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def _config_source(name: str) -> str:
    mounted = os.path.join(paths.CONFIG_SOURCE_DIR, name)
    return mounted if os.path.isfile(mounted) else os.path.join(paths.DEFAULTS_DIR, name)


def write_config() -> list:
    """Copy bots.ini and settings.py (mounted ConfigMap, else image default) into the config dir."""
    os.makedirs(paths.CONFIG_DIR, exist_ok=True)
    changed = []
    for name in ("bots.ini", "settings.py"):
        with open(_config_source(name), "rb") as src:
            if _write_if_changed(os.path.join(paths.CONFIG_DIR, name), src.read()):
                changed.append(name)
    _write_if_changed(os.path.join(paths.CONFIG_DIR, "__init__.py"), b"")
    return changed


def seed_usersys() -> bool:
    """Copy the image's usersys (grammars, mappings, charsets, scripts) to the volume if it is not there."""
    if os.path.isdir(paths.USERSYS_DIR):
        return False
    tmp = tempfile.mkdtemp(dir=paths.ENV_DIR, prefix=".usersys.")
    try:
        shutil.copytree(paths.USERSYS_SEED_DIR, tmp, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
        os.rename(tmp, paths.USERSYS_DIR)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.isdir(paths.USERSYS_DIR):  # another pod was quicker
            return False
        raise
    return True


def botssys_dir() -> str:
    """botssys as the effective bots.ini says (absolute), else the default."""
    ini = configparser.RawConfigParser()
    ini.read(os.path.join(paths.CONFIG_DIR, "bots.ini"))
    value = ini.get("directories", "botssys", fallback=paths.BOTSSYS_DIR)
    if not os.path.isabs(value):
        raise PrepareError(
            f"bots.ini [directories] botssys = {value!r} is relative; Bots would resolve it inside its Python "
            f"package. Set an absolute path on the data volume, e.g. {paths.BOTSSYS_DIR}."
        )
    return value


def make_botssys_dirs() -> str:
    """The directories the engine needs: data, logging, and the in/out directories of the route."""
    botssys = botssys_dir()
    for sub in ("data", "logging", os.path.join("infile", paths.ROUTE_ID), os.path.join("outfile", paths.ROUTE_ID)):
        os.makedirs(os.path.join(botssys, sub), exist_ok=True)
    return botssys


def prepare() -> str:
    """Everything above; returns a one-line summary. Raises PrepareError with what to do."""
    try:
        os.makedirs(paths.ENV_DIR, exist_ok=True)
        changed = write_config()
        seeded = seed_usersys()
        botssys = make_botssys_dirs()
    except OSError as exc:
        raise PrepareError(
            f"Cannot lay out the Bots environment under {paths.BOTS_HOME}: {exc}. Check that the data volume "
            f"is mounted at {paths.BOTS_HOME}, writable by uid {os.getuid()} (fsGroup 10001) and not full."
        ) from exc
    config = "updated: " + ", ".join(changed) if changed else "unchanged"
    usersys = "seeded from image" if seeded else "present"
    return f"config {paths.CONFIG_DIR} ({config}), usersys {usersys}, botssys {botssys}"
