"""`make gate TARGET=name [SOURCE=checkout] [SHARD=i/n]`: the release gate on one target.

Brings the environment up with the target (its image and manifests, the environment's component and the
target's test overlay), runs every scenario (or shard i of n) against it, computes the runbook coverage, and
writes reports/gate.md with the verdict; exits 0 (green), 1 (red) or 2 (the gate could not run: bad target file,
no Docker ...). A target whose image does not build or whose deployment does not come up is red, with that
as the cause; the scenarios still run against a deployment that does not come up, to show each defect.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from edirunbook import interrupts, paths
from edirunbook import target as targets
from edirunbook.environment import config as env_config
from edirunbook.environment import manifests as rendering
from edirunbook.errors import BuildError, EnvironmentNotReady
from edirunbook.gate import lanes, verdict
from edirunbook.process import step
from edirunbook.target import Target

if TYPE_CHECKING:
    from edirunbook.environment.kind import KindEnvironment

DOCS_RUNBOOK = paths.REPO_ROOT / "docs" / "runbook.md"


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser("run", help="bring the environment up with a target, run the scenarios, write gate.md")
    parser.add_argument("--target", default=None, help="targets/<name> (default: $TARGET or reference)")
    parser.add_argument("--source", default=None, help="the team's checkout the target is built from ($SOURCE)")
    parser.add_argument("--env", default=None, help="environment (default: $ENV or kind)")
    parser.add_argument("--shard", default="", help="i/n: run the i-th of n balanced shards of the scenarios")
    parser.add_argument("--tags", default="", help="tag expression selecting scenarios (default: all)")
    parser.add_argument("--report-dir", type=Path, default=paths.REPO_ROOT / "reports")
    parser.add_argument("--runbook", type=Path, action="append", default=[],
                        help="another runbook to report coverage of (docs/runbook.md always is)")
    parser.add_argument("--min-coverage", type=float, default=0.0,
                        help="docs/runbook.md coverage below this percentage makes the gate red")
    parser.add_argument("--keep", action="store_true", help="leave the environment up afterwards")
    parser.add_argument("--lanes", type=int, default=1,
                        help="run the scenarios on this many kind environments at once, one shard each, merged "
                             "into one gate (edirunbook/gate/lanes.py; default 1)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    target = targets.load(args.target, targets.source_dir(args.source))
    cfg = env_config.load(args.env)
    lanes.check_count(args.lanes, args.shard, cfg.type)
    from edirunbook.environment.kind import KindEnvironment  # its imports need Docker's and Kubernetes' clients

    report_dir: Path = args.report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    for stale in (verdict.GATE_MD, verdict.CHANGES_JSON):
        (report_dir / stale).unlink(missing_ok=True)
    shutil.rmtree(report_dir / "lanes", ignore_errors=True)
    if args.lanes > 1:
        selected = lanes.selected_count(args.tags)
        if selected > 1:
            args.lanes = min(args.lanes, selected)
            return _in_lanes(args, target, cfg, report_dir)
        print(f"one lane: the selection has {selected} scenario{'s' if selected != 1 else ''}", flush=True)
    env = KindEnvironment(cfg)
    try:
        deploy_error = _bring_up(env, target)
        image = env.read_state().get("app_image")
        if image is None:  # nothing was deployed: the image did not build or load
            _write_not_run(report_dir, target, deploy_error or "the target was not deployed")
            status = 1
        else:
            tested = _pytest(args, target, cfg.name, report_dir)
            _changes(cfg, target, report_dir, deploy_error)
            status = tested
        coverages = _coverage(args, cfg.name, report_dir)
        result = verdict.write_gate(report_dir, coverages)
        docs = coverages.get(paths.shown(DOCS_RUNBOOK))
        low = docs is not None and docs.exists() and args.min_coverage and \
            json.loads(docs.read_text(encoding="utf-8"))["summary"]["percent"] < args.min_coverage
        if env_config.in_lanes():  # its coordinator prints the merged gate
            print(f"shard {args.shard}: gate {result}: {report_dir / verdict.GATE_MD}")
        else:
            print((report_dir / verdict.GATE_MD).read_text(encoding="utf-8"))
            print(f"gate {result}: {report_dir / verdict.GATE_MD}")
            for line in verdict.failure_lines(report_dir):
                print(line)
        if low:
            print(f"docs/runbook.md coverage is below {args.min_coverage}%: every command of the verified runbook "
                  "must be run by a scenario (make coverage)")
        return 0 if result == verdict.GREEN and status == 0 and not low else 1
    finally:
        if not args.keep:
            env.down()


def _in_lanes(args: argparse.Namespace, target: Target, cfg: env_config.EnvConfig, report_dir: Path) -> int:
    """The gate with its scenarios on `args.lanes` environments at once (edirunbook/gate/lanes.py); exit codes as
    one environment's: 0 green, 1 red, 2 when a lane could not run at all."""
    from edirunbook.gate import merge

    count = args.lanes
    lanes.prepare(cfg, target)
    try:
        print(f"==> {count} lanes, each a kind environment running one shard of the scenarios: "
              + ", ".join(f"lane {i} {env_config.for_lane(cfg, i).cluster_name if i > 1 else cfg.cluster_name}"
                          for i in range(1, count + 1)), flush=True)
        codes = lanes.run_lanes(
            [lanes.child_argv(args, target, cfg.name, lane, count, report_dir) for lane in range(1, count + 1)],
            [lanes.child_environ(lane, count) for lane in range(1, count + 1)])
        dirs = [lanes.report_dir(lane, report_dir) for lane in range(1, count + 1)]
        lost = [f"lane {lane} (exit {code})" for lane, (code, d) in enumerate(zip(codes, dirs, strict=True), start=1)
                if not (d / "summary.json").exists()]
        if lost:
            print(f"the gate could not run: {', '.join(lost)} wrote no report; its lines above (prefixed "
                  "[lane i]) say why", file=sys.stderr)
            return 2
        merged = merge.merge(dirs, report_dir, args.runbook, env=cfg.name, min_coverage=args.min_coverage)
        print((report_dir / verdict.GATE_MD).read_text(encoding="utf-8"))
        print(f"gate {verdict.GREEN if not merged.problems else verdict.RED} ({count} lanes merged: "
              f"{', '.join(str(d) for d in dirs)}): {report_dir / verdict.GATE_MD}")
        for problem in merged.problems:
            print(f"  {problem}")
        for line in verdict.failure_lines(report_dir):
            print(line)
        return 1 if merged.problems else 0
    finally:
        if not args.keep:
            lanes.restore_host(cfg)


def _bring_up(env: KindEnvironment, target: Target) -> str | None:
    """Up and deployed; the cause when the target's deployment fails (its image or its pods), else None.
    EnvironmentNotReady when the environment itself is broken (exit 2: no verdict on the target)."""
    from edirunbook.environment import deploy, smoke

    deploy.up_for(env, target)
    with step("the environment's smoke checks (make env-check)"):
        broken = [r for r in smoke.run_checks(env) if not r.ok]
    if broken:  # the environment, not the target: the gate cannot judge anything on it
        raise EnvironmentNotReady("the environment fails its smoke checks (make env-check), so the gate cannot run:\n"
                                  + "\n".join(f"  {r.name}: {r.detail}" for r in broken))
    env.write_state(app_image=None)
    try:
        deploy.deploy(env, target)
    except BuildError as error:
        return f"the target's image could not be made: {error}"
    except EnvironmentNotReady as error:
        return str(error)
    return None


def _pytest(args: argparse.Namespace, target: Target, env_name: str, report_dir: Path) -> int:
    argv = [sys.executable, "-m", "pytest", str(paths.REPO_ROOT / "tests" / "scenarios"), "--tags", args.tags,
            "--report-dir", str(report_dir), "-p", "no:cacheprovider"]
    if args.shard:
        argv += ["--shard", args.shard]
    if env_config.in_lanes():  # a line per scenario as it ends: the coordinator relays whole lines ([lane i] ...)
        argv.append("-v")
    environ = {**os.environ, "TARGET": target.name, "ENV": env_name, "SOURCE": str(target.checkout)}
    if args.runbook:
        environ["RUNBOOK"] = str(args.runbook[0].resolve())
    # a cancelled run (SIGTERM) reaches pytest, which rolls back, then the gate goes on to its report and cleanup
    return interrupts.run_forwarding(argv, cwd=paths.REPO_ROOT, env=environ)


def _changes(cfg: env_config.EnvConfig, target: Target, report_dir: Path, deploy_error: str | None) -> None:
    """What the environment's component and the target's test overlay changed, each with its reason."""
    team = rendering.render_target_only(target)
    with_env = rendering.render(cfg, dataclasses.replace(target, test_overlay=None))
    deployed = rendering.render(cfg, target)
    env_reasons = {str(k): str(v) for k, v in (cfg.raw.get("changes") or {}).items()}
    changes = verdict.manifest_changes(team, with_env, env_reasons, f"environments/{cfg.name}")
    if target.test_overlay is not None:
        changes += verdict.manifest_changes(with_env, deployed, target.changes,
                                            paths.shown(target.test_overlay))
    verdict.write_changes(report_dir, target.name, changes, deploy_error, verdict.fixes_applied(target))


def _write_not_run(report_dir: Path, target: Target, cause: str) -> None:
    """A gate whose target could not be deployed at all: nothing ran, the cause is the verdict."""
    summary = {"run": {"exit_status": 1, "tested": {"target": target.name}}, "totals": {"procedures": 0},
               "scenarios": []}
    (report_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    verdict.write_changes(report_dir, target.name, [], cause)


def _coverage(args: argparse.Namespace, env_name: str, report_dir: Path) -> dict[str, Path]:
    """coverage.json/md (docs/runbook.md) and coverage-<name>.json/md per other runbook, with this run's results:
    the same files a merge of shards writes."""
    from edirunbook import coverage
    from edirunbook.gate import merge

    inputs = merge.coverage_inputs(args.runbook)
    scenarios = coverage.load_scenarios(paths.REPO_ROOT / "features")
    substitutions = env_config.load(env_name).substitutions
    merge.write_coverages(report_dir, inputs, scenarios, substitutions, env_name, args.min_coverage)
    return {paths.shown(item.runbook_path): report_dir / f"{item.stem}.json" for item in inputs}

