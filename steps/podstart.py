"""Pods that will not start: a fault planted in the pod template or config, the pod that shows it, the fix."""
from __future__ import annotations

from kubernetes import client
from pytest_bdd import given, parsers, then

from edirunbook.durations import parse_duration
from edirunbook.report import Stopwatch
from edirunbook.waiting import Observation, wait_for
from fixtures.scenario import ScenarioContext

# An image reference whose registry is this node's own loopback, where nothing listens: every pull fails
# at once, and no pull ever leaves the machine (no registry is reachable from here anyway).
UNPULLABLE = "127.0.0.1:5000/priv/bots-edi:v1.2.0"


def _patch_container(ctx: ScenarioContext, deployment: str, change: dict[str, object]) -> None:
    template = ctx.bots.apps.read_namespaced_deployment(deployment, ctx.bots.namespace).spec.template
    name = template.spec.containers[0].name
    body = {"spec": {"template": {"spec": {"containers": [{"name": name, **change}]}}}}
    ctx.bots.apps.patch_namespaced_deployment(deployment, ctx.bots.namespace, body)


@given(parsers.parse("deployment {deployment} is rolled out with an image that cannot be pulled"))
def unpullable_image(ctx: ScenarioContext, deployment: str) -> None:
    """Its container's image set (through the API) to a registry that does not answer, pulled as production
    pulls (imagePullPolicy IfNotPresent; the test environment's Never would stop at ErrImageNeverPull)."""
    _patch_container(ctx, deployment, {"image": UNPULLABLE, "imagePullPolicy": "IfNotPresent"})


@given(parsers.parse("deployment {deployment} is rolled out asking for more CPU than any node has"))
def unschedulable(ctx: ScenarioContext, deployment: str) -> None:
    """Its container's CPU request and limit raised (through the API) to 64 cores: no node can take the pod."""
    _patch_container(ctx, deployment, {"resources": {"requests": {"cpu": "64"}, "limits": {"cpu": "64"}}})


@then(parsers.parse("a new pod of deployment {deployment} is stuck in {reason} within {timeout}, noted as "
                    "<{placeholder}>"))
def stuck_pod(ctx: ScenarioContext, stopwatch: Stopwatch, deployment: str, reason: str, timeout: str,
              placeholder: str) -> None:
    """A pod shows the reason (a container's waiting reason, or `Pending` unschedulable); `recovery` starts."""
    def probe() -> Observation:
        seen = []
        for pod in ctx.bots.deployment_pods(deployment):
            reasons = _reasons(pod)
            seen.append(f"{pod.metadata.name}: {', '.join(reasons) or pod.status.phase}")
            if reason in reasons:
                ctx.shell.values[placeholder] = pod.metadata.name
                return Observation(True, seen[-1])
        return Observation(False, "; ".join(seen) or "no pods")

    wait_for(f"a pod of deployment/{deployment} in {reason}", probe, timeout=parse_duration(timeout), interval=1)
    stopwatch.start("recovery")


def _reasons(pod: client.V1Pod) -> list[str]:
    found = [s.state.waiting.reason for s in pod.status.container_statuses or []
             if s.state and s.state.waiting and s.state.waiting.reason]
    scheduled = next((c for c in pod.status.conditions or [] if c.type == "PodScheduled"), None)
    if pod.status.phase == "Pending" and scheduled is not None and scheduled.reason == "Unschedulable":
        found.append("Pending")
    return found
