"""The database server going away and coming back (the testcontainer, stopped and started for real)."""
from __future__ import annotations

import pytest
from pytest_bdd import parsers, then, when

from edirunbook.durations import parse_duration
from edirunbook.report import Stopwatch, record_duration
from fixtures.scenario import ScenarioContext


@when("the database server goes down")
def database_down(ctx: ScenarioContext) -> None:
    """The database container is stopped (docker stop): every connection to it fails."""
    ctx.env.database.stop()


@when("the database server is restarted")
def database_restarted(ctx: ScenarioContext, stopwatch: Stopwatch) -> None:
    """The database container is started again; the `recovery` time (compared with @rto) starts now."""
    stopwatch.start("recovery")
    ctx.env.database.start(wait=False)


@then(parsers.parse("service {name} has no ready endpoints within {timeout}"))
def no_endpoints(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str, timeout: str) -> None:
    """The Service's EndpointSlices list no ready address while its selector still matches pods (they left the
    rotation; a selector matching nothing would pass this vacuously)."""
    took = ctx.bots.wait_endpoints(name, 0, timeout=parse_duration(timeout))
    selects_nothing = ctx.bots.service_selects_no_pod(name)
    assert selects_nothing is None, f"service/{name} has no endpoints because {selects_nothing}, not because " \
        "its pods are out of rotation"
    record_duration(request, f"{name} out of rotation", took)


@then(parsers.parse("every Bots EDI pod is Ready again within {timeout}"))
def recovered(ctx: ScenarioContext, stopwatch: Stopwatch, timeout: str) -> None:
    """Every Deployment at its replicas and Ready, /health/ready 200, all webserver endpoints back; ends `recovery`."""
    limit = parse_duration(timeout)
    for name in ctx.bots.baseline_replicas:
        ctx.bots.wait_deployment(name, timeout=limit)
    ctx.bots.wait_http("/health/ready", 200, timeout=limit)
    # kept for a readiness period: after the kubelet's restart the pods' Ready status from before may drop once
    ctx.bots.wait_endpoints("bots-webserver", ctx.bots.baseline_replicas["bots-webserver"], timeout=limit,
                            settle=15)
    stopwatch.stop("recovery")


@then(parsers.re(r'the (?P<what>engine|backup) job finishes "(?P<state>\w+)" within (?P<timeout>\S+)'))
def job_finishes(ctx: ScenarioContext, what: str, state: str, timeout: str) -> None:
    """The (engine or backup) Job the last `kubectl create job` made ends Complete or Failed, as named."""
    name = ctx.shell.values.get("latest-job-name")
    assert name, f"no {what} job was created by an earlier command"
    finished = ctx.bots.wait_job(name, timeout=parse_duration(timeout))
    assert finished == state, f"job/{name} finished {finished}, expected {state}; its log:\n{ctx.bots.job_logs(name)}"
