"""A whole-service outage: the node's kubelet stops, the node goes NotReady, every Bots EDI pod leaves service."""
from __future__ import annotations

import httpx
import pytest
from pytest_bdd import parsers, then, when

from edirunbook import tables
from edirunbook.durations import parse_duration
from edirunbook.report import Stopwatch, record_duration
from edirunbook.waiting import Observation, wait_for
from fixtures.scenario import ScenarioContext


@when("the node's kubelet stops")
def kubelet_stops(ctx: ScenarioContext, stopwatch: Stopwatch) -> None:
    """`systemctl stop kubelet` in the kind node: its pods keep running unmanaged; the `recovery` time starts."""
    result = ctx.env.kind.kubelet("stop")
    assert result.returncode == 0, f"could not stop the kubelet: {result.stdout}{result.stderr}"
    stopwatch.start("recovery")


@then(parsers.parse("the web UI is unreachable within {timeout}"))
def web_unreachable(ctx: ScenarioContext, request: pytest.FixtureRequest, timeout: str) -> None:
    """GET /health/ping through the Service gets no answer or not 200 (the node controller took the pods out)."""
    def probe() -> Observation:
        try:
            status = ctx.bots.get("/health/ping", timeout=3).status_code
        except httpx.HTTPError as error:
            return Observation(True, f"no answer: {type(error).__name__}")
        return Observation(status != 200, f"answered {status}")

    took = wait_for("the web UI to become unreachable", probe, timeout=parse_duration(timeout), interval=2)
    record_duration(request, "outage detected (web UI unreachable)", took)


@then("the output lists every Bots EDI pod as Running and Ready")
def pods_look_fine(ctx: ScenarioContext) -> None:
    """The last `kubectl get pods` shows each Deployment pod `1/1 Running`: this check alone hides the outage."""
    listed = {row["NAME"]: (row["READY"], row["STATUS"]) for row in tables.rows(ctx.last.output)}
    pods = [p.metadata.name for name in ctx.bots.baseline_replicas for p in ctx.bots.deployment_pods(name)]
    wrong = {name: listed.get(name) for name in pods if listed.get(name) != ("1/1", "Running")}
    assert pods and not wrong, f"expected {pods} listed 1/1 Running, got {wrong}:\n{ctx.last.output}"


@then(parsers.parse("the output shows the node {state}"))
def node_state(ctx: ScenarioContext, state: str) -> None:
    """The last `kubectl get nodes` shows the (only) node with this STATUS (Ready, NotReady)."""
    statuses = {row["NAME"]: row["STATUS"] for row in tables.rows(ctx.last.output)}
    assert statuses and set(statuses.values()) == {state}, f"expected every node {state}:\n{ctx.last.output}"


@then(parsers.parse("the output shows the backend {service} with no endpoints"))
def backend_without_endpoints(ctx: ScenarioContext, service: str) -> None:
    """The last `kubectl describe ingress` lists the backend Service with an empty endpoint list `()`."""
    lines = [line.split() for line in ctx.last.output.splitlines() if f"{service}:" in line]
    assert lines and all(line[-1] == "()" for line in lines), \
        f"expected the backend {service} with no endpoints `()`:\n{ctx.last.output}"


@then(parsers.parse("the output shows the backend {service} with {count:d} endpoints"))
def backend_with_endpoints(ctx: ScenarioContext, service: str, count: int) -> None:
    """The last `kubectl describe ingress` lists the backend Service with this many endpoint addresses."""
    lines = [line for line in ctx.last.output.splitlines() if f"{service}:" in line]
    found = [line[line.rindex("(") + 1:line.rindex(")")] for line in lines if "(" in line]
    counts = [len([a for a in text.replace(" + ", ",").split(",") if ":" in a]) for text in found]
    assert counts == [count], f"expected the backend {service} with {count} endpoints:\n{ctx.last.output}"
