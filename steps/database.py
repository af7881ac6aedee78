"""The database server going away and coming back (the testcontainer, stopped and started for real)."""
from __future__ import annotations

import time

import pytest
from pytest_bdd import parsers, then, when

from fixtures.scenario import ScenarioContext
from steps import reporting
from steps.timeouts import seconds


@when("the database server goes down")
def database_down(ctx: ScenarioContext) -> None:
    ctx.env.database.stop()
    ctx.snapshot["outage_started"] = time.monotonic()


@when("the database server is restarted")
def database_restarted(ctx: ScenarioContext) -> None:
    ctx.snapshot["recovery_started"] = time.monotonic()
    ctx.env.database.start(wait=False)


@then(parsers.parse("service {name} has no ready endpoints within {timeout}"))
def no_endpoints(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str, timeout: str) -> None:
    took = ctx.bots.wait_endpoints(name, 0, timeout=seconds(timeout))
    reporting.duration(request, f"{name} out of rotation", took)


@then(parsers.parse("every Bots EDI pod is Ready again within {timeout}"))
def recovered(ctx: ScenarioContext, request: pytest.FixtureRequest, timeout: str) -> None:
    limit = seconds(timeout)
    for name in ctx.bots.baseline_replicas:
        ctx.bots.wait_deployment(name, timeout=limit)
    ctx.bots.wait_http("/health/ready", 200, timeout=limit)
    ctx.bots.wait_endpoints("bots-webserver", ctx.bots.baseline_replicas["bots-webserver"], timeout=limit)
    took = time.monotonic() - ctx.snapshot["recovery_started"]
    reporting.duration(request, "recovery", took)


@then(parsers.parse('the engine job finishes "{state}" within {timeout}'))
def engine_job_finishes(ctx: ScenarioContext, state: str, timeout: str) -> None:
    name = ctx.shell.values.get("latest-job-name")
    assert name, "no engine job was created by an earlier command"
    finished = ctx.bots.wait_job(name, timeout=seconds(timeout))
    assert finished == state, f"job/{name} finished {finished}, expected {state}; its log:\n{ctx.bots.job_logs(name)}"
