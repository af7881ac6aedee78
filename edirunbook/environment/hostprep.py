"""Host preparation for a kind node, undone on teardown.

- blackhole routes for the cluster's service and pod ranges, so a typo can never send traffic off the
  machine;
- the kernel settings kubelet changes from inside a privileged node (they are the host's), recorded
  before and restored after.
"""
from __future__ import annotations

import json
from pathlib import Path

from edirunbook.process import run

BLACKHOLES = ("10.96.0.0/16", "10.244.0.0/16")
KUBELET_SYSCTLS = ("vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops")


def _sysctl_path(name: str, root: Path) -> Path:
    return root / name.replace(".", "/")


def record_sysctls(record: Path, root: Path = Path("/proc/sys")) -> None:
    """Keep the host's values from before any cluster of ours ran; an existing record is the older one."""
    if record.exists():
        return
    values = {name: _sysctl_path(name, root).read_text().strip() for name in KUBELET_SYSCTLS}
    record.write_text(json.dumps(values))


def restore_sysctls(record: Path, root: Path = Path("/proc/sys")) -> None:
    if not record.exists():
        return
    for name, value in json.loads(record.read_text()).items():
        path = _sysctl_path(name, root)
        if path.read_text().strip() != value:
            path.write_text(value)
    record.unlink()


def add_blackholes() -> None:
    existing = run(["ip", "route", "show", "type", "blackhole"], check=False).stdout
    for cidr in BLACKHOLES:
        if cidr not in existing:
            run(["ip", "route", "add", "blackhole", cidr])


def remove_blackholes() -> None:
    existing = run(["ip", "route", "show", "type", "blackhole"], check=False).stdout
    for cidr in BLACKHOLES:
        if cidr in existing:
            run(["ip", "route", "del", "blackhole", cidr], check=False)


