"""docs/steps.md is generated from the step modules and must be current; every step says what it does."""
from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd.feature import get_features
from pytest_bdd.steps import step_function_context_registry

from edirunbook import catalogue, paths
from edirunbook.errors import CoverageError


def test_the_checked_in_catalogue_is_what_the_step_modules_say() -> None:
    expected = catalogue.render(catalogue.step_modules())
    assert catalogue.CATALOGUE.read_text(encoding="utf-8") == expected, \
        "docs/steps.md is not current: run `make steps` and commit it"


def test_every_step_of_every_feature_has_a_definition() -> None:
    """A step no definition matches fails only when its scenario runs, on a cluster, minutes in: caught here."""
    catalogue.step_modules()
    contexts = list(step_function_context_registry.values())
    features = get_features([str(p) for p in sorted((paths.REPO_ROOT / "features").rglob("*.feature"))])
    steps = [(feature.rel_filename, step.type, step.name) for feature in features
             for scenario in feature.scenarios.values()
             for step in [*scenario.steps, *(feature.background.steps if feature.background else [])]]
    assert len(steps) > 100
    undefined = [step for step in steps
                 if not any(c.type in (step[1], None) and c.parser.is_matching(step[2]) for c in contexts)]
    assert undefined == [], "steps without a definition (file, keyword, text)"


def test_every_step_has_a_docstring() -> None:
    assert catalogue.undocumented(catalogue.step_modules()) == []


@pytest.fixture
def step_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package `extra_steps` with one documented step, importable for this test only."""
    package = tmp_path / "extra_steps"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "volume.py").write_text(textwrap.dedent('''
        """The data volume, as an operator checks it."""
        from pytest_bdd import parsers, then


        @then(parsers.parse("the data volume has {percent:d}% free"))
        def free_space(percent):
            """df shows at least this much of the data volume free."""
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [m for m in sys.modules if m == "extra_steps" or m.startswith("extra_steps.")]:
        del sys.modules[name]


def test_a_new_step_appears_with_its_subject_and_makes_an_old_catalogue_fail_the_check(
        step_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    modules = catalogue.step_modules("extra_steps")
    text = catalogue.render(modules)
    assert "## volume: The data volume, as an operator checks it." in text
    assert ("- **Then** `the data volume has {percent:d}% free`\n"
            "  df shows at least this much of the data volume") in text

    old = tmp_path / "steps.md"
    old.write_text("# Step catalogue\n")
    monkeypatch.setattr(catalogue, "step_modules", lambda: modules)
    assert catalogue.run(argparse.Namespace(check=True, out=old)) == 1
    assert "run `make steps`" in capsys.readouterr().out
    assert catalogue.run(argparse.Namespace(check=False, out=old)) == 0
    assert catalogue.run(argparse.Namespace(check=True, out=old)) == 0


def test_a_step_without_a_docstring_is_refused(step_package: Path, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    (step_package / "bare.py").write_text(
        "from pytest_bdd import when\n\n\n@when('the operator shrugs')\ndef shrug():\n    pass\n")
    modules = catalogue.step_modules("extra_steps")
    monkeypatch.setattr(catalogue, "step_modules", lambda: modules)
    with pytest.raises(CoverageError, match=r"one-line docstring.*extra_steps\.bare\.shrug"):
        catalogue.run(argparse.Namespace(check=True, out=tmp_path / "steps.md"))
