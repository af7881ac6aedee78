"""Fixtures of the report plugin's tests: a pytester project like ours, and secrets forgotten afterwards.

The modules that use `suite` declare `pytest_plugins = ["pytester"]` themselves: pytest refuses
pytest_plugins in a conftest.py below the rootdir.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edirunbook.report import unregister_secret
from edirunbook.report.secrets import redact

from .helpers import STEPS


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project like ours: strict markers, the plugin loaded from the rootdir conftest, one step module."""
    pytester.makeini(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
        # this process imported the plugin already, so the inner runs cannot rewrite its asserts (it has none)
        "filterwarnings = ignore:Module already imported:pytest.PytestAssertRewriteWarning\n"
    )
    pytester.makeconftest('pytest_plugins = ["edirunbook.report"]\n')
    pytester.makepyfile(test_steps=STEPS)
    return pytester


@pytest.fixture
def forget_secrets() -> Iterator[list[str]]:
    """Secrets this test registers in this process (itself or in an in-process pytester run): add each one
    before it is registered, and it is unregistered afterwards, so the process-wide registry does not mask
    it in the tests that run later."""
    registered: list[str] = []
    yield registered
    for value in registered:
        unregister_secret(value)
    still_masked = [value for value in registered if redact(value) != value]
    assert not still_masked, f"still registered after the test: {still_masked}"
