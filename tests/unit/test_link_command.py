"""The pinned commands' links in <cache>/bin (gobuild.link_command) are replaced whole, so processes that link the
same command at once never fail: in a cold `make test` the image build and the checks both link kubectl the moment
Kubernetes' compile ends, and one failed with FileExistsError when it unlinked and linked in two steps."""
from __future__ import annotations

from pathlib import Path

import pytest

from edirunbook import gobuild, paths


def test_a_link_made_by_another_process_meanwhile_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDIRUNBOOK_CACHE", str(tmp_path / "cache"))
    target = tmp_path / "go" / "kubernetes-new" / "kubectl"
    target.parent.mkdir(parents=True)
    target.write_text("")
    link = paths.bin_dir() / "kubectl"
    original = Path.symlink_to

    def symlink_to(self: Path, to: Path, target_is_directory: bool = False) -> None:
        if not link.is_symlink():  # the other process links it between this one's check and its own link
            original(link, to)
        original(self, to, target_is_directory)

    monkeypatch.setattr(Path, "symlink_to", symlink_to)
    gobuild.link_command(target)
    assert link.is_symlink() and link.resolve() == target
    assert sorted(p.name for p in paths.bin_dir().iterdir()) == ["kubectl"]


def test_a_link_to_another_build_is_replaced_and_a_current_one_kept(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDIRUNBOOK_CACHE", str(tmp_path / "cache"))
    old, new = tmp_path / "old" / "kind", tmp_path / "new" / "kind"
    for path in (old, new):
        path.parent.mkdir()
        path.write_text("")
    gobuild.link_command(old)
    gobuild.link_command(new)
    link = paths.bin_dir() / "kind"
    assert link.resolve() == new
    made = link.lstat().st_mtime_ns
    gobuild.link_command(new)
    assert link.lstat().st_mtime_ns == made
