"""Workloads, pods, Service endpoints and container restarts, read from the Kubernetes API."""
from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, then, when

from edirunbook import cluster
from edirunbook.durations import parse_duration
from edirunbook.report import record_duration
from fixtures.scenario import ScenarioContext


@given("the Bots EDI deployment is healthy")
def deployment_healthy(ctx: ScenarioContext) -> None:
    """/health/ready answers 200 through the Service."""
    response = ctx.bots.get("/health/ready")
    assert response.status_code == 200, f"/health/ready answered {response.status_code}: {response.text[:300]}"


@given(parsers.parse("the pods of deployment {name} are noted"))
def note_pods(ctx: ScenarioContext, name: str) -> None:
    """The UIDs of the Deployment's current pods are kept, to tell new pods from old."""
    ctx.noted_uids[name] = ctx.bots.pod_uids(name)
    assert ctx.noted_uids[name], f"deployment/{name} has no pods to note"


@given(parsers.parse("a pod of deployment {name} is noted as <{placeholder}>"))
def note_pod_name(ctx: ScenarioContext, name: str, placeholder: str) -> None:
    """A pod's name is kept for the <placeholder> in later commands."""
    pods = ctx.bots.deployment_pods(name)
    assert pods, f"deployment/{name} has no pods"
    ctx.shell.values[placeholder] = pods[0].metadata.name


@given("the container restart counts are noted")
def note_restarts(ctx: ScenarioContext) -> None:
    """Every running Bots EDI pod's container restart count is kept."""
    ctx.noted_restarts = ctx.bots.restart_counts()


@then(parsers.parse("deployment {name} runs only new pods, all Ready, within {timeout}"))
def only_new_pods(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str, timeout: str) -> None:
    """The Deployment is rolled out, none of the noted pods is among its pods, and the new ones stay Ready
    with no container restart for the settling period (env.yaml `timeouts.settle`, default 10s)."""
    took = ctx.bots.wait_deployment(name, timeout=parse_duration(timeout))
    old = ctx.noted_uids[name] & ctx.bots.pod_uids(name)
    assert not old, f"deployment/{name} still runs pods from before the restart: {sorted(old)}\n" \
        f"{ctx.bots.diagnostics()}"
    ctx.bots.wait_settled(name, seconds=ctx.env.config.timeout("settle", 10))
    record_duration(request, f"{name} rollout to Ready", took)


@then(parsers.parse("deployment {name} has {count:d} Ready pods within {timeout}"))
def ready_pods(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str, count: int, timeout: str) -> None:
    """The Deployment wants this many replicas and has exactly this many pods, all Ready."""
    took = ctx.bots.wait_deployment(name, count, timeout=parse_duration(timeout))
    record_duration(request, f"{name} at {count} Ready pods", took)


@then(parsers.parse("service {name} has {count:d} ready endpoints within {timeout}"))
def ready_endpoints(ctx: ScenarioContext, name: str, count: int, timeout: str) -> None:
    """The Service's EndpointSlices list exactly this many ready addresses."""
    ctx.bots.wait_endpoints(name, count, timeout=parse_duration(timeout))


@then("no Bots EDI container restarted")
def no_restarts(ctx: ScenarioContext) -> None:
    """No container restart count grew since they were noted."""
    now = ctx.bots.restart_counts()
    grew = {pod: (ctx.noted_restarts.get(pod, 0), count) for pod, count in now.items()
            if count > ctx.noted_restarts.get(pod, 0)}
    assert not grew, "containers restarted (before -> after): " + \
        ", ".join(f"{pod} {a}->{b}" for pod, (a, b) in grew.items()) + f"\n{ctx.bots.diagnostics()}"


@then(parsers.parse("every probe of deployment {name} answers with a health report"))
def probes_are_health_endpoints(ctx: ScenarioContext, name: str) -> None:
    """Each HTTP probe path of the Deployment answers a JSON health report (not an HTML page)."""
    problems = []
    for kind, path in ctx.bots.probe_paths(name).items():
        response = ctx.bots.get(path)
        if not response.headers.get("content-type", "").startswith("application/json") or \
                "status" not in response.text:
            problems.append(f"the {kind} probe GET {path} answers {response.status_code} "
                            f"{response.headers.get('content-type', '?')}, not a health report")
    assert not problems, "the probes do not check health:\n" + "\n".join(problems)


@given("no new pod can start (every node cordoned)")
def nodes_cordoned(ctx: ScenarioContext) -> None:
    """Every node cordoned, so a new pod stays Pending (a Job stays active); the known state uncordons them."""
    cluster.set_schedulable(ctx.bots.api, False)


@when(parsers.parse("deployment {name} is scaled to {replicas:d} replicas"))
def scaled(ctx: ScenarioContext, name: str, replicas: int) -> None:
    """A fault or a change made without the runbook (the API's scale); the known state scales it back."""
    ctx.bots.scale(name, replicas)
