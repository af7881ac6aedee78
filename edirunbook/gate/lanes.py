"""`make verify LANES=n` (`gate run --lanes n`): the scenarios on n kind environments at once, one shard each,
merged into one gate.

Most of a run is waiting on the system under test: an alert rule's `for:`, a CronJob's schedule, a rollout.
One cluster leaves the machine's cores idle meanwhile; n clusters side by side fill them. Lane i runs shard i/n
(balanced by tests/scenarios/durations.json, edirunbook/report/shard.py) as a child `gate run --shard i/n` with
EDIRUNBOOK_LANE=i/n:

- lane 1 is the environment as env.yaml has it (cluster edirunbook, network edirunbook-kind, .state);
- lane i > 1 has cluster edirunbook-i, network edirunbook-kind-i, its database container named after its cluster,
  each host port of env.yaml plus i - 1 and its records in .state/lanes/i (environment/config.py `for_lane`).

The coordinator builds every image and tool first, so that no two lanes build one; prepares the host once (the
blackhole routes, the kernel settings recorded); starts the lanes and prints each line of theirs as
`[lane i] ...`; then merges their reports (<report dir>/lanes/i) into the report dir (edirunbook/gate/merge.py,
the same as `make gate-merge`) and, once every lane is down, restores the host. KEEP=1 keeps every lane up;
`make env-down` takes them all down.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

from edirunbook import interrupts, paths
from edirunbook.environment import config as env_config
from edirunbook.errors import ConfigError
from edirunbook.process import step
from edirunbook.target import Target

MAX_LANES = 4  # each lane is a cluster of about 2.5 GiB and a share of 2 cores; more only waits on the CPU


def check_count(lanes: int, shard: str, env_type: str) -> None:
    """ConfigError (one line, what to do) when `lanes` cannot run as asked."""
    if not 1 <= lanes <= MAX_LANES:
        raise ConfigError(f"LANES={lanes}: run 1 to {MAX_LANES} lanes (kind environments side by side)")
    if lanes > 1 and shard:
        raise ConfigError(f"LANES={lanes} and SHARD={shard} cannot be combined: lanes are shards of one run on one "
                          "machine; give one or the other")
    if lanes > 1 and env_type != "kind":
        raise ConfigError(f"LANES={lanes} needs a kind environment (this one is {env_type!r}): lanes are clusters "
                          "the suite creates")


def selected_count(tags: str) -> int:
    """How many scenarios `tags` selects (pytest's collection, the same selection the lanes make): no lane is
    brought up for nothing."""
    with tempfile.TemporaryDirectory(prefix="edirunbook-collect-") as reports:
        collected = subprocess.run(  # noqa: S603 (the suite's own pytest)
            [sys.executable, "-m", "pytest", str(paths.REPO_ROOT / "tests" / "scenarios"), "--collect-only", "-q",
             "--tags", tags, "--report-dir", reports, "-p", "no:cacheprovider"],
            cwd=paths.REPO_ROOT, capture_output=True, text=True, check=False, timeout=300)
    if collected.returncode not in (0, 5):  # 5: nothing selected
        raise ConfigError(f"the scenarios could not be collected (pytest exit {collected.returncode}):\n"
                          + "\n".join(collected.stdout.splitlines()[-15:] + collected.stderr.splitlines()[-5:]))
    return sum(1 for line in collected.stdout.splitlines() if "::" in line and not line.startswith(" "))


def state_dir(lane: int, root: Path | None = None) -> Path:
    """The folder of lane `lane`'s records: the checkout's state for lane 1, state/lanes/<i> for the others."""
    root = root or paths.state_dir()
    return root if lane == 1 else root / "lanes" / str(lane)


def kept_lanes(root: Path | None = None) -> list[tuple[int, Path]]:
    """(lane, state folder) of every lane beyond the first that has records (a KEEP=1 run, an interrupted one)."""
    found = (root or paths.state_dir()) / "lanes"
    lanes = [(int(d.name), d) for d in found.glob("*") if d.name.isdigit() and (d / "environment.json").exists()]
    return sorted(lanes)


def report_dir(lane: int, report_root: Path) -> Path:
    return report_root / "lanes" / str(lane)


def child_argv(args: argparse.Namespace, target: Target, env_name: str, lane: int, lanes: int,
               report_root: Path) -> list[str]:
    """The `gate run` of one lane: shard lane/lanes, its own report dir, no coverage minimum (a shard covers part)."""
    argv = [sys.executable, "-m", "edirunbook", "gate", "run", "--target", target.name, "--env", env_name,
            "--shard", f"{lane}/{lanes}", "--tags", args.tags, "--report-dir", str(report_dir(lane, report_root))]
    if args.source:
        argv += ["--source", str(args.source)]
    for runbook in args.runbook:
        argv += ["--runbook", str(runbook)]
    if args.keep:
        argv.append("--keep")
    return argv


def child_environ(lane: int, lanes: int, base: dict[str, str] | None = None) -> dict[str, str]:
    environ = dict(os.environ if base is None else base)
    environ[env_config.LANE_VARIABLE] = f"{lane}/{lanes}"
    environ["EDIRUNBOOK_STATE"] = str(state_dir(lane, Path(environ["EDIRUNBOOK_STATE"])
                                                if "EDIRUNBOOK_STATE" in environ else None))
    environ["PYTHONUNBUFFERED"] = "1"  # its lines as they come, for the prefixed stream
    return environ


def _relay(stream: IO[str], prefix: str, lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            sys.stdout.write(f"{prefix}{line}" if line.endswith("\n") else f"{prefix}{line}\n")
            sys.stdout.flush()


def run_lanes(argvs: list[list[str]], environs: list[dict[str, str]]) -> list[int]:
    """Every lane's process at once, each line it prints shown as `[lane i] ...`; their exit codes. SIGTERM goes
    on to every lane (each rolls back its running scenario and takes its cluster down); Ctrl-C reaches them from the
    terminal."""
    lock = threading.Lock()
    processes, relays = [], []
    for lane, (argv, environ) in enumerate(zip(argvs, environs, strict=True), start=1):
        process = subprocess.Popen(argv, cwd=paths.REPO_ROOT, env=environ, stdout=subprocess.PIPE,  # noqa: S603
                                   stderr=subprocess.STDOUT, text=True, errors="replace")
        assert process.stdout is not None
        relay = threading.Thread(target=_relay, args=(process.stdout, f"[lane {lane}] ", lock), daemon=True)
        relay.start()
        processes.append(process)
        relays.append(relay)
    codes = interrupts.wait_forwarding(processes)
    for relay in relays:
        relay.join(timeout=10)
    return codes


def prepare(env_config_: env_config.EnvConfig, target: Target) -> None:
    """Every image and tool the lanes need, built once here (a cold build included), and the host prepared once
    for all the lanes (the first lane's environment records the kernel settings)."""
    from edirunbook.docker import daemon
    from edirunbook.environment.kind import KindEnvironment

    env = KindEnvironment(env_config_)
    docker = daemon.ensure().activate()
    with step("building or finding every image the lanes use (once, before they start)"):
        env.build_all(docker, target)
    env.prepare_host(docker)  # not in a lane: the routes and the kernel settings' record too


def restore_host(env_config_: env_config.EnvConfig) -> None:
    """After the last lane is down: the routes removed, the kernel settings back, the daemon stopped if idle."""
    from edirunbook.docker import daemon
    from edirunbook.environment.kind import KindEnvironment

    KindEnvironment(env_config_).restore_host()
    daemon.stop_ours_when_idle(daemon.connect())


def down_kept(env_config_: env_config.EnvConfig) -> None:
    """`make env-down`: every lane beyond the first that is still up (KEEP=1, or an interrupted run)."""
    from edirunbook.environment.kind import KindEnvironment

    for lane, directory in kept_lanes():
        KindEnvironment(env_config.for_lane(env_config_, lane), directory).down(stop_daemon=False,
                                                                                 restore_host=False)
