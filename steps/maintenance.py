"""A planned maintenance window: what ran before the change, and that the rollback plan brought exactly that back."""
from __future__ import annotations

from pytest_bdd import given, then

from fixtures.scenario import ScenarioContext


@given("the images every Bots EDI workload runs are noted", target_fixture="noted_images")
def note_images(ctx: ScenarioContext) -> dict[str, list[str]]:
    """The images of both Deployments' and the engine CronJob's pod templates, read before the change."""
    return ctx.bots.workload_images()


@then("every Bots EDI workload and every pod of it runs the noted images again")
def noted_images_again(ctx: ScenarioContext, noted_images: dict[str, list[str]]) -> None:
    """The pod templates name the images noted before the change, and every pod of both Deployments runs them."""
    bots = ctx.bots
    now = bots.workload_images()
    assert now == noted_images, f"the workloads run {now}, before the change {noted_images}"
    wrong = {p.metadata.name: [c.image for c in p.spec.containers]
             for name in bots.baseline_replicas for p in bots.deployment_pods(name)
             if [c.image for c in p.spec.containers] != noted_images[f"deployment/{name}"]}
    assert not wrong, f"pods not on the images noted before the change: {wrong}"
