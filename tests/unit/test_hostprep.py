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


def test_restore_puts_back_what_was_recorded(proc: Path, tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    hostprep.record_sysctls(record, proc)
    _write(proc, KUBELET_SETS)
    hostprep.restore_sysctls(record, proc)
    assert _read(proc) == PRISTINE
    assert not record.exists()


def test_an_existing_record_is_kept_so_the_pristine_values_win(proc: Path, tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    hostprep.record_sysctls(record, proc)
    _write(proc, KUBELET_SETS)
    hostprep.record_sysctls(record, proc)
    hostprep.restore_sysctls(record, proc)
    assert _read(proc) == PRISTINE


def test_restore_without_record_changes_nothing(proc: Path, tmp_path: Path) -> None:
    _write(proc, KUBELET_SETS)
    hostprep.restore_sysctls(tmp_path / "none.json", proc)
    assert _read(proc) == KUBELET_SETS
