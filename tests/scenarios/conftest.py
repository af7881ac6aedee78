"""Scenarios get the per-scenario context (known state before and after) automatically."""
import pytest

from fixtures.scenario import ScenarioContext


@pytest.fixture(autouse=True)
def _known_state(ctx: ScenarioContext) -> ScenarioContext:
    return ctx
