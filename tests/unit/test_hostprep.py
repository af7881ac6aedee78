"""The kernel settings kubelet changes from inside a privileged node are the host's: put them back."""
from pathlib import Path

from edirunbook.environment import hostprep


def _fake_proc(root: Path, values: dict[str, str]) -> None:
    for name, value in values.items():
        path = root / name.replace(".", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")


def test_restore_puts_back_what_was_recorded(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    _fake_proc(proc, {"vm.overcommit_memory": "0", "kernel.panic": "1", "kernel.panic_on_oops": "0"})
    record = tmp_path / "record.json"
    hostprep.record_sysctls(record, proc)
    _fake_proc(proc, {"vm.overcommit_memory": "1", "kernel.panic": "10", "kernel.panic_on_oops": "1"})
    hostprep.restore_sysctls(record, proc)
    assert (proc / "kernel/panic").read_text().strip() == "1"
    assert (proc / "vm/overcommit_memory").read_text().strip() == "0"
    assert not record.exists()


def test_an_existing_record_is_kept_so_the_pristine_values_win(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    _fake_proc(proc, {"vm.overcommit_memory": "0", "kernel.panic": "1", "kernel.panic_on_oops": "0"})
    record = tmp_path / "record.json"
    hostprep.record_sysctls(record, proc)
    _fake_proc(proc, {"vm.overcommit_memory": "1", "kernel.panic": "10", "kernel.panic_on_oops": "1"})
    hostprep.record_sysctls(record, proc)
    hostprep.restore_sysctls(record, proc)
    assert (proc / "kernel/panic_on_oops").read_text().strip() == "0"


def test_restore_without_record_changes_nothing(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    _fake_proc(proc, {"kernel.panic": "10"})
    hostprep.restore_sysctls(tmp_path / "none.json", proc)
    assert (proc / "kernel/panic").read_text().strip() == "10"
