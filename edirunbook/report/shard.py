"""`--shard i/n`: run one of n parts of the selected scenarios, the parts balanced by recorded durations.

The parts are cut after every other selection (`--tags`, -m, -k), so i/n of one selection always means the
same scenarios. Each scenario is known by a stable key, `<feature file>::<scenario name>` (a plain pytest
test: its node id), and weighs what tests/scenarios/durations.json recorded for it (`{key: seconds}`); a
scenario without a record weighs the median of the file (1 s when the file is empty or absent). The heaviest
scenario goes first, each onto the part with the least load so far (ties: fewer scenarios, then the lower
part); equal weights go in key order. Same selection and same file: same parts on every machine. The order
within a part stays the collection's (so @shipped scenarios still run first). summary.json's run.shard names the
part that ran ("2/3"; null without --shard); `edirunbook gate merge` joins the parts' report dirs.

`edirunbook durations update reports/summary.json` writes each passed scenario's duration_s of a run into
durations.json (rounded to 0.1 s); `--prune` also drops the keys the run does not name (after a full run).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edirunbook.durations import format_duration
from edirunbook.errors import ReportError
from edirunbook.report.model import PASSED, record_of

DURATIONS_FILE = Path("tests/scenarios/durations.json")
FORM = "SHARD=i/n, 1 <= i <= n"
UNKNOWN_SECONDS = 1.0  # the weight of every scenario when nothing is recorded at all
_SHARD = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Shard:
    index: int  # 1..count
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`1/3` -> Shard(1, 3); anything else is a usage error that shows the form."""
    match = _SHARD.fullmatch(text.strip())
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise pytest.UsageError(f"--shard {text!r} is not a shard: write {FORM} (e.g. make verify SHARD=1/3)")
    return Shard(int(match[1]), int(match[2]))


def scenario_key(feature_file: str | None, scenario: str | None, nodeid: str) -> str:
    """`<feature file>::<scenario name>`, the same in summary.json and at collection; a plain test: its node id."""
    if feature_file and scenario:
        return Path(feature_file).as_posix() + "::" + scenario
    return nodeid


def load_durations(path: Path) -> dict[str, float]:
    """The recorded seconds per scenario key; an absent file records nothing."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ReportError(f"cannot read the durations file {path}: {error}; fix it or write it again with "
                          f"`python -m edirunbook durations update reports/summary.json --prune`") from error
    bad = [key for key, value in data.items() if not _seconds(value)] if isinstance(data, dict) else ["(top level)"]
    if bad:
        raise ReportError(f"the durations file {path} must map scenario keys to seconds (a number >= 0); "
                          f"not so for {', '.join(map(repr, bad[:3]))}")
    return {key: float(value) for key, value in data.items()}


def _seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def weights(keys: Sequence[str], recorded: Mapping[str, float]) -> list[float]:
    """Each key's recorded seconds; the median of the records for a key without one."""
    default = statistics.median(recorded.values()) if recorded else UNKNOWN_SECONDS
    return [recorded.get(key, default) for key in keys]


def partition(keys: Sequence[str], recorded: Mapping[str, float], count: int) -> list[int]:
    """The part (0-based) of each key: longest first onto the least-loaded part (see the module's doc)."""
    seconds = weights(keys, recorded)
    loads, sizes = [0.0] * count, [0] * count
    part = [0] * len(keys)
    for i in sorted(range(len(keys)), key=lambda i: (-seconds[i], keys[i], i)):
        chosen = min(range(count), key=lambda p: (loads[p], sizes[p], p))
        part[i] = chosen
        loads[chosen] += seconds[i]
        sizes[chosen] += 1
    return part


class ShardPlugin:
    """Keeps only this shard's part of the selected items (registered by the report plugin for --shard)."""

    def __init__(self, shard: Shard, durations: Path, notes: list[str], shown: str | None = None) -> None:
        self.shard = shard
        self.durations = durations
        self.notes = notes
        self.shown = shown or str(durations)  # the file as the user wrote it, for the note

    @pytest.hookimpl(trylast=True)  # after --tags, -m, -k and the conftests' ordering
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not items:  # nothing selected: pytest's own "no tests ran" (and --tags's message) says so
            return
        shard = self.shard
        if shard.count > len(items):
            raise pytest.UsageError(
                f"--shard {shard}: only {len(items)} scenario{'s are' if len(items) != 1 else ' is'} selected, "
                f"so shard {shard} would be empty; use at most {len(items)} shards ({FORM})")
        try:
            recorded = load_durations(self.durations)
        except ReportError as error:
            raise pytest.UsageError(str(error)) from None
        keys = [scenario_key(record_of(i).feature_file, record_of(i).scenario, i.nodeid) for i in items]
        parts = partition(keys, recorded, shard.count)
        mine = [item for item, part in zip(items, parts, strict=True) if part == shard.index - 1]
        chosen = set(mine)
        config.hook.pytest_deselected(items=[item for item in items if item not in chosen])
        estimate = sum(w for w, part in zip(weights(keys, recorded), parts, strict=True) if part == shard.index - 1)
        unknown = sum(key not in recorded for key, part in zip(keys, parts, strict=True) if part == shard.index - 1)
        self.notes.append(
            f"shard {shard}: {len(mine)} of {len(items)} scenarios, about {format_duration(estimate)} by "
            f"{self.shown}" + (f" ({unknown} without a recorded duration)" if unknown else ""))
        items[:] = mine


# --- `edirunbook durations update` -------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("durations", help="the scenario durations --shard balances by")
    commands = parser.add_subparsers(dest="durations_command", required=True)
    update = commands.add_parser(
        "update", help="write a run's scenario durations (summary.json) into the durations file",
        description="Write each passed scenario's duration_s of a run (its summary.json) into the durations "
                    "file --shard balances by; the other keys are kept unless --prune is given.")
    update.add_argument("summary", type=Path, help="a run's summary.json, e.g. reports/summary.json")
    update.add_argument("--file", type=Path, default=DURATIONS_FILE, help=f"default: {DURATIONS_FILE}")
    update.add_argument("--prune", action="store_true", help="drop the keys the run does not name (a full run)")
    update.set_defaults(func=run_update)


def run_update(args: argparse.Namespace) -> int:
    added, changed, pruned, durations = update_durations(args.summary, args.file, prune=args.prune)
    print(f"{args.file}: {len(durations)} scenarios ({added} added, {changed} changed, {pruned} dropped)")
    return 0


def update_durations(summary: Path, file: Path, prune: bool = False) -> tuple[int, int, int, dict[str, float]]:
    """Merge the run's passed durations into `file`; (added, changed, dropped, the file's new content)."""
    try:
        scenarios = json.loads(summary.read_text(encoding="utf-8"))["scenarios"]
        rows = [(scenario_key(s.get("feature_file"), s.get("scenario"), s["nodeid"]), s["duration_s"], s["result"])
                for s in scenarios]
        passed = {key: round(float(seconds), 1) for key, seconds, result in rows
                  if seconds is not None and result == PASSED}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ReportError(f"cannot read scenario durations from {summary}: {error!r}; pass a run's summary.json "
                          f"(reports/summary.json)") from error
    measured = {key for key, _, _ in rows}
    old = load_durations(file)
    new = {key: value for key, value in old.items() if not prune or key in measured} | passed
    added = sum(key not in old for key in passed)
    changed = sum(key in old and old[key] != value for key, value in passed.items())
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(dict(sorted(new.items())), indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise ReportError(f"cannot write the durations file {file}: {error}; pass --file PATH") from error
    return added, changed, len(old.keys() - new.keys()), new
