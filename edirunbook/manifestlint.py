"""`make manifest-lint`: kube-score, built here from its Go module, on the rendered manifests of every target of
this repository (targets/*/target.yaml with `source: suite`) on every environment.

The project's deliberate exceptions and their reasons are in environments/manifest-lint.yaml; a finding
kube-score reports as CRITICAL or WARNING that no exception covers fails the lint, naming the object.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import yaml

from edirunbook import gobuild, paths, target
from edirunbook.environment import config as env_config
from edirunbook.environment import manifests as rendering
from edirunbook.errors import CommandFailed, ConfigError
from edirunbook.process import run

EXCEPTIONS = paths.ENVIRONMENTS_DIR / "manifest-lint.yaml"
FAILING = ("[CRITICAL]", "[WARNING]")


@dataclass(frozen=True)
class LintResult:
    environment: str
    target: str
    findings: list[str]


def exceptions(file: Path = EXCEPTIONS) -> dict[str, str]:
    """check name -> the reason it is ignored; every exception must say why."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read {file}: {error}") from None
    ignored = data.get("ignore") or {}
    if not isinstance(ignored, dict):
        raise ConfigError(f"{file}: 'ignore' must map a kube-score check to the reason it is ignored")
    unexplained = sorted(name for name, reason in ignored.items() if not str(reason or "").strip())
    if unexplained:
        raise ConfigError(f"{file}: give a reason for ignoring {', '.join(unexplained)}")
    return {str(name): str(reason) for name, reason in ignored.items()}


def findings(output: str) -> list[str]:
    """The lines of kube-score's `ci` output that fail the lint."""
    return [line.strip() for line in output.splitlines() if line.startswith(FAILING)]


def environments() -> list[str]:
    """Every environment with a component of its own (env.yaml and kustomization.yaml)."""
    return sorted(p.parent.name for p in paths.ENVIRONMENTS_DIR.glob("*/env.yaml")
                  if (p.parent / "kustomization.yaml").exists())


def suite_targets() -> list[str]:
    """The targets this repository holds the source of (a team's target is linted with its own checkout)."""
    return sorted(p.parent.name for p in target.TARGETS_DIR.glob("*/target.yaml")
                  if target.built_from_suite(p.parent.name))


def lint(environment: str, ignored: dict[str, str], target_name: str = target.DEFAULT_TARGET) -> LintResult:
    gobuild.tools_path()  # the pinned kubectl that renders, linked where the renderer finds it
    manifests = rendering.render(env_config.load(environment), target.load(target_name))
    argv: list[str | Path] = [gobuild.kube_score_binary(), "score", "--output-format", "ci"]
    for name in ignored:
        argv += ["--ignore-test", name]
    result = run([*argv, "-"], input=manifests, check=False)
    if result.returncode not in (0, 1):  # 1: it found something; anything else: it did not run
        raise CommandFailed([str(a) for a in argv], result.returncode, result.stdout)
    return LintResult(environment, target_name, findings(result.stdout))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("manifest-lint", help="kube-score on every environment's rendered manifests")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    ignored = exceptions()
    failed = False
    for environment, name in [(e, t) for e in environments() for t in suite_targets()]:
        result = lint(environment, ignored, name)
        failed |= bool(result.findings)
        print(f"targets/{name} on environments/{environment}: {len(result.findings)} finding(s)"
              + (f" (deliberately ignored: {', '.join(ignored)}; reasons in {EXCEPTIONS.name})" if ignored else ""))
        for line in result.findings:
            print(f"  {line}")
    return 1 if failed else 0
