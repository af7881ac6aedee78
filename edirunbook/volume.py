"""The Bots data volume (bots-edi-data-pvc at the Bots home): how full it is, filled for real, cleaned up."""
from __future__ import annotations

from edirunbook.app import BOTS_HOME, Bots
from edirunbook.errors import AppError

DATA = f"{BOTS_HOME}/botssys/data"
FILLER_GLOB = f"{DATA}/edirunbook-filler-*"
# The runbook's write test (Performance Degradation) writes 100 MB here, on the production data volume.
WRITE_TEST = f"{BOTS_HOME}/test"
# Archived transaction files older than the runbook's 30 days, written until the volume is full:
# dd stops with a real "No space left on device".
_FILL = (
    f"mkdir -p {DATA} && i=0; while dd if=/dev/zero of={DATA}/edirunbook-filler-$i.old bs=1M count=16 "
    f"2>/tmp/dd.err; do touch -d '40 days ago' {DATA}/edirunbook-filler-$i.old; i=$((i+1)); done; "
    f"touch -d '40 days ago' {DATA}/edirunbook-filler-$i.old; cat /tmp/dd.err"
)


def df_use_percent(output: str, mount: str = BOTS_HOME) -> int:
    """The Use% that `df` (-h or -P) prints for `mount`; AppError when df lists no such mount."""
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[-1] == mount:
            return int(fields[-2].rstrip("%"))
    raise AppError(f"df shows no line for {mount}:\n{output}")


def used_percent(bots: Bots) -> int:
    """How full the data volume is, as the webserver pod sees it."""
    return df_use_percent(bots.exec_web(f"df -P {BOTS_HOME}"))


def fill(bots: Bots) -> str:
    """Write old archive files until the volume is full; returns dd's last error (ENOSPC expected)."""
    return bots.exec_web(_FILL, timeout=300)


def remove_fillers(bots: Bots) -> int:
    """Remove the files fill() wrote; returns how many there were."""
    return int(bots.exec_web(f"n=$(ls {FILLER_GLOB} 2>/dev/null | wc -l); rm -f {FILLER_GLOB}; echo $n").strip())


def remove_write_test(bots: Bots) -> bool:
    """Remove the file the runbook's dd write test leaves behind; True when it was there."""
    return bots.exec_web(f"if [ -e {WRITE_TEST} ]; then rm -f {WRITE_TEST}; echo removed; fi").strip() == "removed"
