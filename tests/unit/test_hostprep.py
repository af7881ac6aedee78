"""The kernel settings kubelet changes from inside a privileged node are the host's: put them back."""
from pathlib import Path

import pytest

from edirunbook.environment import hostprep

PRISTINE = {"vm.overcommit_memory": "0", "kernel.panic": "1", "kernel.panic_on_oops": "0"}
KUBELET_SETS = {"vm.overcommit_memory": "1", "kernel.panic": "10", "kernel.panic_on_oops": "1"}


def _write(root: Path, values: dict[str, str]) -> None:
    for name, value in values.items():
        path = root / name.replace(".", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")


def _read(root: Path) -> dict[str, str]:
    return {name: (root / name.replace(".", "/")).read_text().strip() for name in PRISTINE}


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    root = tmp_path / "proc"
    _write(root, PRISTINE)
    return root


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    return tmp_path / "run" / "host-sysctls.json"


def test_restore_puts_back_what_was_recorded(proc: Path, shared: Path, tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    hostprep.record_sysctls(record, proc, shared)
    _write(proc, KUBELET_SETS)
    hostprep.restore_sysctls(record, proc, shared)
    assert _read(proc) == PRISTINE
    assert not record.exists()
    assert not shared.exists()


def test_an_existing_record_is_kept_so_the_pristine_values_win(proc: Path, shared: Path, tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    hostprep.record_sysctls(record, proc, shared)
    _write(proc, KUBELET_SETS)
    hostprep.record_sysctls(record, proc, shared)
    hostprep.restore_sysctls(record, proc, shared)
    assert _read(proc) == PRISTINE


def test_restore_without_record_changes_nothing(proc: Path, shared: Path, tmp_path: Path) -> None:
    _write(proc, KUBELET_SETS)
    hostprep.restore_sysctls(tmp_path / "none.json", proc, shared)
    assert _read(proc) == KUBELET_SETS


def test_two_environments_at_once_the_last_to_leave_restores(proc: Path, shared: Path, tmp_path: Path) -> None:
    """The lanes and the staging cluster: staging records after the lanes' kubelet changed the values, and goes
    down first. The values stay as the running lanes need them; the lanes' teardown puts back the pristine ones."""
    lanes, staging = tmp_path / "lanes.json", tmp_path / "staging.json"
    hostprep.record_sysctls(lanes, proc, shared)
    _write(proc, KUBELET_SETS)
    hostprep.record_sysctls(staging, proc, shared)
    hostprep.restore_sysctls(staging, proc, shared)
    assert _read(proc) == KUBELET_SETS
    assert not staging.exists() and shared.exists()
    hostprep.restore_sysctls(lanes, proc, shared)
    assert _read(proc) == PRISTINE
    assert not shared.exists()


def test_a_holder_whose_record_is_gone_does_not_keep_the_values(proc: Path, shared: Path, tmp_path: Path) -> None:
    """An environment whose state folder was deleted (a removed checkout) never comes back to restore."""
    gone, live = tmp_path / "gone.json", tmp_path / "live.json"
    hostprep.record_sysctls(gone, proc, shared)
    hostprep.record_sysctls(live, proc, shared)
    _write(proc, KUBELET_SETS)
    gone.unlink()
    hostprep.restore_sysctls(live, proc, shared)
    assert _read(proc) == PRISTINE


def test_without_the_shared_record_a_holder_restores_its_own(proc: Path, shared: Path, tmp_path: Path) -> None:
    """/run was cleared (a reboot) or the record was written by an older version: the holder's file has the values."""
    record = tmp_path / "record.json"
    hostprep.record_sysctls(record, proc, shared)
    shared.unlink()
    _write(proc, KUBELET_SETS)
    hostprep.record_sysctls(record, proc, shared)  # the holder's values are the older ones, not today's
    hostprep.restore_sysctls(record, proc, shared)
    assert _read(proc) == PRISTINE
