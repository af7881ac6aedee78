"""The Bots data volume (bots-edi-data-pvc at the Bots home): how full it is, filled for real, cleaned up.

Where the files are is the target's (Bots.paths: its data volume and botssys); only the runbook's own write
test is where the runbook's command puts it.
"""
from __future__ import annotations

from edirunbook.app import BOTS_HOME, Bots
from edirunbook.errors import AppError

# Earlier days' data, as Bots keeps it: data/<n>/ directories (Bots names them idta // 1000) holding the
# files of one day's engine run, each dated its day. Numbered from here, far above the ta ids a test reaches,
# so the known state can tell them from today's.
FIRST_DAY_DIR = 9000
# The runbook's write test (Performance Degradation) writes 100 MB here, on the production data volume: the
# runbook's literal path, as its command runs.
WRITE_TEST = f"{BOTS_HOME}/test"


def day_dirs(bots: Bots) -> str:
    """The shell pattern of the earlier days' directories fill_with_days() makes."""
    return f"{bots.paths.data}/9[0-9][0-9][0-9]"


def marker(bots: Bots) -> str:
    """When the day started: on the data volume (a pod's /tmp is its own; the next exec may reach the other
    webserver pod)."""
    return f"{bots.paths.botssys}/.edirunbook-day-started"


def start_day(bots: Bots) -> None:
    """Mark now: the files the engine writes after this are the day's traffic fill_with_days() repeats."""
    bots.exec_web(f"touch {marker(bots)}")


def fill_with_days(bots: Bots) -> str:
    """The day's engine-made data files, repeated as the data of the days before, one directory a day going
    back (dated 1, 2, 3 ... days ago), until a copy fails; returns the output (ENOSPC expected) and `days=N`."""
    data = bots.paths.data
    script = (
        f"files=$(find {data} -type f -newer {marker(bots)} ! -path '{data}/9???/*'); "
        "[ -n \"$files\" ] || { echo 'no files made since the day started'; exit 1; }; "
        f"d=1; while [ $d -lt 1000 ]; do dir={data}/$(({FIRST_DAY_DIR} + d)); "
        "mkdir -p $dir 2>/tmp/fill.err || break; "
        "cp $files $dir/ 2>/tmp/fill.err; ok=$?; "
        "touch -d \"$d days ago\" $dir/* $dir; [ $ok -eq 0 ] || break; d=$((d + 1)); done; "
        "cat /tmp/fill.err; echo days=$d"
    )
    return bots.exec_web(script, timeout=300)


def day_directories(bots: Bots) -> dict[int, int]:
    """The earlier days' directories still on the volume: age in days -> number of files."""
    listing = bots.exec_web(f"for d in {day_dirs(bots)}; do [ -d $d ] && echo ${{d##*/}} $(ls $d | wc -l); done; "
                            "true")
    return {int(name) - FIRST_DAY_DIR: int(count) for name, count in (line.split() for line in listing.splitlines())}


def df_use_percent(output: str, mount: str) -> int:
    """The Use% that `df` (-h or -P) prints for `mount`; AppError when df lists no such mount."""
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[-1] == mount:
            return int(fields[-2].rstrip("%"))
    raise AppError(f"df shows no line for {mount}:\n{output}")


def used_percent(bots: Bots) -> int:
    """How full the data volume is, as the webserver pod sees it."""
    return df_use_percent(bots.exec_web(f"df -P {bots.paths.data_volume}"), bots.paths.data_volume)


def remove_leftovers(bots: Bots) -> tuple[int, bool, int]:
    """Remove what scenarios leave on the data volume, in one exec (the known state runs it around every
    scenario): the earlier days' directories fill_with_days() made (how many), the runbook's dd write-test
    file (whether it was there), and inbound files no engine run took (how many: a scenario that stopped
    before its engine run, a write cut short by a full disk), which the next scenario's run would pick up."""
    days, inbound = day_dirs(bots), bots.paths.inbound
    output = bots.exec_web(f"n=$(ls -d {days} 2>/dev/null | wc -l); rm -rf {days} {marker(bots)}; echo $n; "
                           f"i=$(find {inbound} -type f 2>/dev/null | wc -l); find {inbound} -type f -delete "
                           f"2>/dev/null; echo $i; "
                           f"if [ -e {WRITE_TEST} ]; then rm -f {WRITE_TEST}; echo removed; fi")
    days_removed, inbound_removed, *rest = output.split()
    return int(days_removed), rest == ["removed"], int(inbound_removed)
