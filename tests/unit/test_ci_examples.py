"""The CI examples in docs/ci/ pass real linters, and each linter fails a deliberately broken copy.

The linters run as `make ci-lint` runs them (edirunbook.cilint): actionlint compiled from its Go module into the
build cache on first use, shellcheck and check-jsonschema from the virtualenv's pinned dev extras.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from edirunbook import cilint, cli

GITHUB = cilint.EXAMPLES / "github-actions.yml"
GITLAB = cilint.EXAMPLES / "gitlab-ci.yml"


def broken(tmp_path: Path, example: Path, old: str, new: str) -> Path:
    """A copy of the example with exactly one change (the example must still contain `old`)."""
    text = example.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{example.name} no longer contains {old!r}: update this test"
    copy = tmp_path / example.name
    copy.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


def messages(findings: list[cilint.Finding], linter: str) -> str:
    return "\n".join(f.message for f in findings if f.linter == linter)


def test_every_example_passes_every_linter(capsys: pytest.CaptureFixture[str]) -> None:
    assert [f.name for f in cilint.example_files()] == ["github-actions.yml", "gitlab-ci.yml"]
    assert cli.main(["ci-lint"]) == 0, capsys.readouterr().out


def test_the_command_fails_on_a_broken_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = broken(tmp_path, GITHUB, "    needs: shards\n", "    needs: shard\n")
    assert cli.main(["ci-lint", str(tmp_path)]) == 1
    assert 'job "merge" needs job "shard" which does not exist' in capsys.readouterr().out
    assert copy.exists()


def test_actionlint_fails_a_job_that_needs_a_missing_job(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITHUB, "    needs: shards\n", "    needs: shard\n")
    assert 'needs job "shard" which does not exist' in messages(cilint.actionlint(copy), "actionlint")


def test_actionlint_runs_shellcheck_on_run_scripts(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITHUB, 'docker load -q -i "$carry/suite.tar"', "docker load -q -i $carry/suite.tar")
    assert "SC2086" in messages(cilint.actionlint(copy), "actionlint")


def test_actionlint_checks_the_inputs_of_a_sha_pinned_action(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITHUB, "          path: app\n", "          pth: app\n")
    assert 'input "pth" is not defined in action "actions/checkout@v6"' in messages(
        cilint.actionlint(copy), "actionlint")


def test_an_action_pinned_to_a_branch_is_refused(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITHUB, "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0",
                  "actions/upload-artifact@main")
    assert "actions/upload-artifact@main is not pinned" in messages(cilint.actionlint(copy), "pins")


def test_a_sha_pin_without_its_version_is_refused(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITHUB, "actions/setup-go@924ae3a1cded613372ab5595356fb5720e22ba16 # v6.5.0",
                  "actions/setup-go@924ae3a1cded613372ab5595356fb5720e22ba16")
    assert "needs its version in a comment" in messages(cilint.actionlint(copy), "pins")


def test_the_github_workflow_schema_fails_a_broken_copy(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITHUB, "  cancel-in-progress: true\n", "  cancel-in-progress: yes-please\n")
    assert "$.concurrency['cancel-in-progress']: 'yes-please' is not of type 'boolean'" in messages(
        cilint.schema_check(copy, "vendor.github-workflows"), "vendor.github-workflows")


def test_a_job_without_a_timeout_is_refused(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITHUB, "    timeout-minutes: 15\n", "")
    schema = "custom.github-workflows-require-timeout"
    assert "$.jobs.merge: 'timeout-minutes' is a required property" in messages(
        cilint.schema_check(copy, schema), schema)


def test_the_gitlab_schema_fails_a_broken_copy(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITLAB, "  parallel: 3\n", "  parallel: three\n")
    assert "$.gate.parallel: 'three' is not of type 'integer'" in messages(
        cilint.schema_check(copy, cilint.GITLAB_SCHEMA), cilint.GITLAB_SCHEMA)


def test_a_merge_job_that_needs_a_missing_job_is_refused(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITLAB, "    - job: gate\n", "    - job: gates\n")
    assert "job 'gate-merge': needs names 'gates', which is not a job of this file" in messages(
        cilint.gitlab_references(copy), "gitlab-references")


def test_shellcheck_checks_the_gitlab_jobs_scripts_with_their_references(tmp_path: Path) -> None:
    copy = broken(tmp_path, GITLAB, 'checkout -q FETCH_HEAD', 'checkout -q $(echo FETCH_HEAD)')
    found = messages(cilint.gitlab_scripts(copy), "shellcheck")
    assert "job 'gate' before_script+script: SC2046" in found, found  # .fetch_suite, through !reference
    assert "job 'gate-merge' before_script+script: SC2046" in found, found


def test_an_undeclared_stage_and_a_dangling_reference_are_refused(tmp_path: Path) -> None:
    staged = broken(tmp_path, GITLAB, "  stage: merge\n", "  stage: verdict\n")
    assert "stage 'verdict' is not in stages" in messages(cilint.gitlab_references(staged), "gitlab-references")
    referenced = broken(tmp_path, GITLAB, "!reference [.fetch_suite, script]", "!reference [.fetch_suite, scripts]")
    assert "points at nothing" in messages(cilint.gitlab_references(referenced), "gitlab-references")
