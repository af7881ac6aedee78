"""`edirunbook gameday`: the game-day scenarios (features/gameday) on a live cluster, behind the guard rails.

    make gameday ENV=staging CONTEXT=kind-bots-staging                      read-only (the default)
    make gameday ENV=staging CONTEXT=kind-bots-staging MODE=dry-run         the plan: every command and fault
    make gameday ENV=staging CONTEXT=kind-bots-staging CONFIRM=kind-bots-staging MODE=gameday

Before pytest starts: the context chosen (never the kubeconfig's current-context), the preflight, the guard rails
of the mode, and the plan printed: the scenarios, and each fault's commands as they would run now. A dry run
stops there. Otherwise the scenarios run (SIGTERM reaches them: their faults roll back), and the game-day report
is written into reports/gameday-<date>/ (gameday.md, gameday.html, beside summary.json and report.html).
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_bdd.parser import FeatureParser

from edirunbook import interrupts, paths
from edirunbook.environment import config as env_config
from edirunbook.errors import EnvironmentNotReady, GuardRailRefused
from edirunbook.gameday import report
from edirunbook.gameday.guard import Mode, RunRequest, scenario_selection
from edirunbook.gameday.live import LiveCluster, attach, plan_text
from edirunbook.report.tags import GAMEDAY, TagSelection

FEATURES = paths.REPO_ROOT / "features" / "gameday"
FAULT_STEP = 'the fault "'


@dataclass(frozen=True)
class GameDayScenario:
    name: str
    tags: frozenset[str]
    faults: tuple[str, ...]  # the faults its steps inject, in order


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("gameday", help="the game-day scenarios on a live cluster, behind guard rails")
    parser.add_argument("--env", default=None, help="a live environment (environments/<name>/env.yaml, type live)")
    parser.add_argument("--context", default=os.environ.get("CONTEXT") or None,
                        help="the kubeconfig context to attach to (required; $CONTEXT)")
    parser.add_argument("--mode", default=os.environ.get("MODE") or "readonly",
                        help="readonly (default), dry-run, or gameday (destructive; needs --confirm)")
    parser.add_argument("--confirm", default=os.environ.get("CONFIRM") or None,
                        help="the context's name, typed again: required by game-day mode ($CONFIRM)")
    parser.add_argument("--tags", default=os.environ.get("TAGS", ""), help="narrow the scenarios (tag expression)")
    parser.add_argument("--report-dir", default=None, help="default: reports/gameday-<date>")
    parser.set_defaults(func=run)


def game_day_scenarios(features: Path = FEATURES) -> list[GameDayScenario]:
    found = []
    for path in sorted(features.glob("*.feature")):
        feature = FeatureParser(str(path.parent), path.name).parse()
        for template in feature.scenarios.values():
            steps = [step.name for step in template.steps]
            faults = tuple(name[len(FAULT_STEP):].split('"', 1)[0] for name in steps
                           if name.startswith(FAULT_STEP) and name.endswith('" is injected'))
            found.append(GameDayScenario(template.name, frozenset(feature.tags | template.tags), faults))
    return found


def select(scenarios: list[GameDayScenario], expression: str, nodes: int) -> tuple[list[GameDayScenario], list[str]]:
    """The scenarios the run's tag expression selects, and why others are left out (a multi-node scenario on a
    cluster with one node is listed as left out, not run to fail)."""
    selection = TagSelection(expression) if expression.strip() else None
    chosen, notes = [], []
    for scenario in scenarios:
        if GAMEDAY not in scenario.tags or (selection is not None and not selection.matches(scenario.tags)):
            continue
        if "multinode" in scenario.tags and nodes < 2:
            notes.append(f"left out: {scenario.name} (needs a second schedulable node; the cluster has {nodes})")
            continue
        chosen.append(scenario)
    return chosen, notes


def _fault_plans(live: LiveCluster, scenarios: list[GameDayScenario]) -> list[list[str]]:
    plans = []
    for name in dict.fromkeys(fault for scenario in scenarios for fault in scenario.faults):
        try:
            plans.append(live.fault(name).plan())
        except (EnvironmentNotReady, GuardRailRefused) as error:
            plans.append([f"fault {name}: cannot be made here: {error}"])
    return plans


def run(args: argparse.Namespace) -> int:
    cfg = env_config.load(args.env)
    mode = Mode.parse(args.mode)
    live = attach(cfg, RunRequest(args.context, mode, args.confirm))
    problems = live.preflight()
    if problems:
        raise EnvironmentNotReady(f"the game day cannot run on {live.attachment.context}: " + "; ".join(problems))
    if mode is Mode.GAMEDAY:
        live.authorize()
    expression = scenario_selection(mode, args.tags)
    chosen, notes = select(game_day_scenarios(), expression, len(live.nodes()))
    destructive = [s for s in chosen if "destructive" in s.tags]
    print(plan_text(live, [s.name + (" (destructive)" if s in destructive else "") for s in chosen],
                    _fault_plans(live, destructive if mode is not Mode.READONLY else [])))
    for line in notes:
        print(line)
    if mode is Mode.DRY_RUN:
        print("dry run: nothing was changed")
        return 0
    if not chosen:
        raise GuardRailRefused(f"no game-day scenario is selected by {expression!r}")
    names = " or ".join(f'"{s.name}"' for s in chosen)
    report_dir = Path(args.report_dir) if args.report_dir else \
        paths.REPO_ROOT / "reports" / f"gameday-{datetime.date.today().isoformat()}"
    tags = " and ".join(["gameday", *([f"({expression})"] if expression else []),
                         *(["not multinode"] if notes else [])])
    argv = [sys.executable, "-m", "pytest", str(paths.REPO_ROOT / "tests" / "scenarios"), "--tags", tags,
            "--report-dir", str(report_dir), "-p", "no:cacheprovider"]
    environ = {**os.environ, "ENV": cfg.name, "CONTEXT": live.attachment.context, "GAMEDAY_MODE": mode.value,
               "CONFIRM": args.confirm or ""}
    print(f"running {len(chosen)} scenarios: {names}", flush=True)
    code = interrupts.run_forwarding(argv, cwd=paths.REPO_ROOT, env=environ)
    if (report_dir / "summary.json").exists():
        print(f"game-day report: {report.write(report_dir)} (and {report.HTML})")
    return code

