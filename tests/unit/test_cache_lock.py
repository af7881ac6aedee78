"""One cache entry is made by one thread or process at a time: `make test` builds the images while its unit tests and
image tests need some of them, and two checkouts share the cache."""
from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from edirunbook import paths


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EDIRUNBOOK_CACHE", str(tmp_path))
    return tmp_path


def _taken(lock_file: Path) -> bool:
    with open(lock_file, "w") as other:  # another open file: flock excludes it, as it does another process
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(other, fcntl.LOCK_UN)
        return False


def test_the_entry_is_held_while_it_is_made_and_free_after(cache: Path) -> None:
    entry = "edirunbook/kind-node:v1.34.4-0123456789ab"
    with paths.cache_lock(entry):
        [lock_file] = (cache / "locks").iterdir()
        assert _taken(lock_file)
    assert not _taken(lock_file)


def test_another_entry_is_not_held_meanwhile(cache: Path) -> None:
    with paths.cache_lock("go-velero-0123"):
        [velero] = (cache / "locks").iterdir()
    with paths.cache_lock("go-traefik-4567"):
        assert not _taken(velero)
        assert len(list((cache / "locks").iterdir())) == 2
