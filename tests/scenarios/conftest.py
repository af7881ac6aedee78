"""Scenarios get the per-scenario context (known state before and after) automatically; @shipped ones run first.
@gameday scenarios run on a live cluster, whose known state is observed, not imposed (fixtures/gameday.py): they
get none of this."""
import pytest

from fixtures.scenario import ScenarioContext, as_shipped


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """@shipped scenarios first (in their order), while the deployment is still as deployed."""
    items.sort(key=lambda item: not as_shipped(item))


@pytest.fixture(autouse=True)
def _known_state(request: pytest.FixtureRequest) -> ScenarioContext | None:
    if request.node.get_closest_marker("gameday") is not None:
        return None
    context: ScenarioContext = request.getfixturevalue("ctx")
    return context
