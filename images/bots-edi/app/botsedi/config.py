"""Lay out one Bots environment on the data volume: config dir, usersys, botssys directories.

Idempotent and safe when several pods start at once on a shared volume: files are replaced atomically and
only when their content changed (so a pod can still start while the volume is full).
"""

import configparser
import fcntl
import hashlib
import os
import shutil
import tempfile

from botsedi import paths


STAMP = ".image-stamp"


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


def image_usersys_stamp() -> str:
    """sha256 over the image's usersys (paths and contents), the version of the grammars and mappings it ships."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(paths.USERSYS_SEED_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, paths.USERSYS_SEED_DIR).encode() + b"\0")
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()


def _stamp_on_volume() -> str:
    try:
        with open(os.path.join(paths.USERSYS_DIR, STAMP)) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def seed_usersys() -> str:
    """Make the volume's usersys the image's (grammars, mappings, charsets, scripts).

    usersys belongs to the image: a release that changes a grammar or a mapping must change what the engine
    does, so the volume's copy is replaced whenever the image's differs (its stamp, usersys/.image-stamp).
    Under a lock on the volume, as every component of every pod does this at start.
    Returns "seeded", "replaced" or "present".
    """
    stamp = image_usersys_stamp()
    if _stamp_on_volume() == stamp:
        return "present"
    with open(os.path.join(paths.ENV_DIR, ".usersys.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stamp_on_volume() == stamp:  # another pod did it meanwhile
            return "present"
        tmp = tempfile.mkdtemp(dir=paths.ENV_DIR, prefix=".usersys.")
        try:
            shutil.copytree(paths.USERSYS_SEED_DIR, tmp, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
            with open(os.path.join(tmp, STAMP), "w") as out:
                out.write(stamp + "\n")
            os.chmod(tmp, 0o755)
            existed = os.path.isdir(paths.USERSYS_DIR)
            if existed:
                old = tempfile.mkdtemp(dir=paths.ENV_DIR, prefix=".usersys.old.")
                os.rename(paths.USERSYS_DIR, os.path.join(old, "usersys"))
            os.rename(tmp, paths.USERSYS_DIR)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if existed:
            shutil.rmtree(old, ignore_errors=True)
        return "replaced" if existed else "seeded"


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
    usersys = {"seeded": "seeded from image", "replaced": "replaced by the image's"}.get(seeded, "present")
    return f"config {paths.CONFIG_DIR} ({config}), usersys {usersys}, botssys {botssys}"
