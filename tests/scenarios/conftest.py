"""Scenarios get the per-scenario context (known state before and after) automatically; @shipped ones run first."""
import pytest

from fixtures.scenario import ScenarioContext, as_shipped


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """@shipped scenarios first (in their order), while the deployment is still as deployed."""
    items.sort(key=lambda item: not as_shipped(item))


@pytest.fixture(autouse=True)
def _known_state(ctx: ScenarioContext) -> ScenarioContext:
    return ctx
