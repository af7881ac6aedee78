"""Host preparation for a kind node, undone on teardown.

- blackhole routes for the cluster's service and pod ranges, so a typo can never send traffic off the
  machine;
- the size-limited tmpfs that backs the Bots data volume;
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


def is_mounted(path: Path) -> bool:
    return run(["mountpoint", "-q", str(path)], check=False).returncode == 0


def mount_data_volume(path: Path, size: str) -> None:
    """A tmpfs of `size` owned by the app's uid 10001 (fsGroup in the pod spec also covers it)."""
    path.mkdir(parents=True, exist_ok=True)
    if not is_mounted(path):
        run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0775,uid=10001,gid=10001", "edirunbook-data",
             str(path)])


def unmount_data_volume(path: Path) -> None:
    if is_mounted(path):
        run(["umount", "-l", str(path)], check=False)
