"""Where things live: the checkout, the per-checkout state, the machine-wide build cache."""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
IMAGES_DIR = REPO_ROOT / "images"
ENVIRONMENTS_DIR = REPO_ROOT / "environments"


def cache_dir() -> Path:
    """Build cache shared by every checkout on this machine (content-hashed, safe to share)."""
    explicit = os.environ.get("EDIRUNBOOK_CACHE")
    base = Path(explicit) if explicit else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = base if explicit else base / "edirunbook"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def cache_lock(entry: str) -> Iterator[None]:
    """Held while one cache entry (a compiled module, an image) is checked and made: another thread or process making
    the same entry at once waits, then finds it made (`make test` builds the images while its unit tests need
    kubectl; two checkouts share the cache)."""
    directory = cache_dir() / "locks"
    directory.mkdir(exist_ok=True)
    with open(directory / (re.sub(r"[^A-Za-z0-9_.-]+", "_", entry)[-200:] + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def state_dir() -> Path:
    """Per-checkout state (kubeconfig, environment record); git-ignored."""
    path = Path(os.environ.get("EDIRUNBOOK_STATE", REPO_ROOT / ".state"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def kubeconfig_path() -> Path:
    return state_dir() / "kubeconfig"


def bin_dir() -> Path:
    path = cache_dir() / "bin"
    path.mkdir(parents=True, exist_ok=True)
    return path


def shown(path: Path) -> str:
    """A path as reports show it: relative to this checkout when inside it, else as it is."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
