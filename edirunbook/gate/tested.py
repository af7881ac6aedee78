"""What a run tests, in facts a release manager can check: the target, its image (reference and digest), its
manifests (path and git commit), the test overlay, the Kubernetes version and node image, the database server's
version, and the runbook coverage of the scenarios. report.html shows them first; gate.md names them."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from kubernetes import client

from edirunbook import coverage, paths
from edirunbook.docker.daemon import Docker
from edirunbook.environment.config import EnvConfig
from edirunbook.errors import CoverageError
from edirunbook.runbook import parse_runbook
from edirunbook.target import Target


def git_commit(path: Path) -> str:
    """`<commit>` of the work tree holding path (`, with uncommitted changes` when it has any), or `not in git`."""
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, check=False,
                              timeout=60)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return "not in git"
    dirty = git("status", "--porcelain", "--", ".").stdout.strip()
    return head.stdout.strip() + (" with uncommitted changes" if dirty else "")


def image_digest(docker: Docker, ref: str) -> str:
    """The image's content digest (its ID: sha256 of its config, the same on every machine that has it)."""
    result = docker.run("image", "inspect", "--format", "{{.Id}}", ref, check=False)
    return result.stdout.strip() if result.returncode == 0 else "unknown (not in the Docker daemon)"


def kubernetes_version(api: Any) -> str:
    version = client.VersionApi(api).get_code()
    return f"{version.git_version} (API server)"


def runbook_coverage(runbook: Path, env: EnvConfig, features: Path = paths.REPO_ROOT / "features") -> str:
    """`covered of total commands (percent)` of the runbook by the scenarios' commands (static: what they run)."""
    try:
        book = parse_runbook(runbook)
        report = coverage.build_report(book, coverage.load_scenarios(features, paths.REPO_ROOT), env.substitutions,
                                       env.name, None)
    except (OSError, CoverageError) as error:
        return f"unknown: {error}"
    return f"{report.covered} of {len(report.rows)} commands ({report.percent:.1f}%)"


def facts(env: EnvConfig, target: Target, image: str, docker: Docker, api: Any, *, node_image: str,
          database_version: str, runbooks: list[Path]) -> dict[str, str]:
    """Everything report.html and gate.md say was tested, in the order they show it."""
    shown = {
        "target": f"{target.name}: {target.description}" if target.description else target.name,
        "app image": f"{image} ({target.image.describe(target.source)})",
        "app image digest": image_digest(docker, image),
        "manifests": f"{target.manifests_shown()} at {git_commit(target.in_checkout(target.manifests))}"
                     + ("" if target.source_is_suite else f" (checkout {target.checkout})"),
        "test overlay": (paths.shown(target.test_overlay) if target.test_overlay else "none")
                        + f" + environments/{env.name}",
        **({"fix overlay": f"{len(target.fixes)} patches of targets/{target.name}, applied to a copy of the checkout "
                           "(listed in gate.md)"} if target.fixes else {}),
        "Kubernetes": kubernetes_version(api),
        "node image": node_image,
        "database server": database_version,
    }
    for runbook in runbooks:
        shown[f"runbook coverage: {paths.shown(runbook)}"] = runbook_coverage(runbook, env)
    return shown

