"""Host preparation for a kind node, undone on teardown.

- blackhole routes for the cluster's service and pod ranges, so a typo can never send traffic off the
  machine;
- the kernel settings kubelet changes from inside a privileged node (they are the host's), recorded
  before and restored after.

The kernel settings are the machine's, not one environment's: the lanes of `make verify` and the staging cluster
of `make gameday-proof` run at the same time. So there is one record per boot (SHARED_RECORD, on /run's tmpfs):
the values from before the first cluster of ours, and who holds it (each environment's own record file). The first
holder writes it; the last one to leave restores the values. A holder records the values in its own file as well,
which is what is restored when the shared record is gone (a reboot cleared /run, or a record of an older version).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edirunbook.process import run

BLACKHOLES = ("10.96.0.0/16", "10.244.0.0/16")
KUBELET_SYSCTLS = ("vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops")
SHARED_RECORD = Path("/run/edirunbook/host-sysctls.json")


def _sysctl_path(name: str, root: Path) -> Path:
    return root / name.replace(".", "/")


@contextlib.contextmanager
def _locked(shared: Path) -> Iterator[None]:
    shared.parent.mkdir(parents=True, exist_ok=True)
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two environments coming up or going down at once
        yield


def _read_shared(shared: Path) -> dict[str, Any]:
    return json.loads(shared.read_text()) if shared.exists() else {}


def record_sysctls(holder: Path, root: Path = Path("/proc/sys"), shared: Path = SHARED_RECORD) -> None:
    """Keep the host's values from before any cluster of ours ran, and count `holder` (an environment's record
    file) among the environments that need them back. An existing record is the older one: its values win."""
    with _locked(shared):
        record = _read_shared(shared)
        if not record:  # the holder's own record, if it has one, is from before its cluster: older still
            values = json.loads(holder.read_text()) if holder.exists() else \
                {name: _sysctl_path(name, root).read_text().strip() for name in KUBELET_SYSCTLS}
            record = {"values": values, "holders": []}
        holders = [h for h in _holders(record) if Path(h).exists()]  # a holder whose file is gone left long ago
        if not holder.exists():
            holder.write_text(json.dumps(record["values"]))
        record["holders"] = sorted({*holders, str(holder)})
        shared.write_text(json.dumps(record))


def restore_sysctls(holder: Path, root: Path = Path("/proc/sys"), shared: Path = SHARED_RECORD) -> list[str]:
    """`holder` no longer needs the settings; the last holder to leave puts the recorded values back. Returns the
    holders that still need them (then nothing was restored)."""
    if not holder.exists():
        return []
    with _locked(shared):
        record = _read_shared(shared)
        others = [h for h in _holders(record) if h != str(holder) and Path(h).exists()]
        values = record.get("values") if record else json.loads(holder.read_text())
        if others:  # another environment's cluster still runs: it needs the settings as they are
            shared.write_text(json.dumps({**record, "holders": others}))
        else:
            for name, value in dict(values or {}).items():
                path = _sysctl_path(name, root)
                if path.read_text().strip() != value:
                    path.write_text(value)
            shared.unlink(missing_ok=True)
        holder.unlink()
        return others


def _holders(record: dict[str, Any]) -> list[str]:
    holders = record.get("holders", [])
    return [str(h) for h in holders] if isinstance(holders, list) else []


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


