"""The manifest lint: what fails it, and that every deliberate exception says why."""
from __future__ import annotations

from pathlib import Path

import pytest

from edirunbook import manifestlint
from edirunbook.errors import ConfigError

CI_OUTPUT = """\
[OK] bots-webserver/edi apps/v1/Deployment
[SKIPPED] bots-jobqueue/edi apps/v1/Deployment: Skipped because the deployment has less than 2 replicas
[CRITICAL] bots-webserver/edi apps/v1/Deployment: (webserver) The pod has a container with a writable root filesystem
[WARNING] bots-webserver/edi apps/v1/Deployment: Deployment does not have a host podAntiAffinity set
"""


def test_critical_and_warning_lines_fail_the_lint_and_nothing_else() -> None:
    assert manifestlint.findings(CI_OUTPUT) == [
        "[CRITICAL] bots-webserver/edi apps/v1/Deployment: (webserver) The pod has a container with a writable "
        "root filesystem",
        "[WARNING] bots-webserver/edi apps/v1/Deployment: Deployment does not have a host podAntiAffinity set"]


def test_the_projects_exceptions_each_have_a_reason() -> None:
    ignored = manifestlint.exceptions()
    assert ignored and all(len(reason) > 40 for reason in ignored.values()), ignored


def test_an_exception_without_a_reason_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "manifest-lint.yaml"
    file.write_text("ignore:\n  pod-networkpolicy:\n  container-image-tag: pinned by the overlay\n")
    with pytest.raises(ConfigError, match="give a reason for ignoring pod-networkpolicy"):
        manifestlint.exceptions(file)


def test_every_environment_with_manifests_is_linted() -> None:
    assert "kind" in manifestlint.environments()


def test_the_suites_own_targets_are_linted_not_a_teams() -> None:
    assert manifestlint.suite_targets() == sorted(manifestlint.suite_targets())
    assert "reference" in manifestlint.suite_targets()
