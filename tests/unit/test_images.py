"""Content hashes decide what is rebuilt: same inputs, same tag; any change, a new tag."""
from pathlib import Path

from edirunbook.images import content_hash


def test_same_inputs_same_hash(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    assert content_hash(tmp_path, "v1") == content_hash(tmp_path, "v1")


def test_file_content_changes_hash(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    before = content_hash(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM y\n")
    assert content_hash(tmp_path) != before


def test_file_name_changes_hash(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("same")
    before = content_hash(tmp_path)
    (tmp_path / "a").rename(tmp_path / "b")
    assert content_hash(tmp_path) != before


def test_string_inputs_are_not_confused_with_files(tmp_path: Path) -> None:
    assert content_hash("v1.34.4") != content_hash("v1.34.5")
    assert content_hash("ab", "c") != content_hash("a", "bc")
