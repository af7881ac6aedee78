"""Requests through the Service, as users and probes make them."""
from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, then

from edirunbook.app import RequestLoop
from edirunbook.durations import parse_duration
from edirunbook.report import record_duration
from fixtures.scenario import ScenarioContext


@given(parsers.parse("requests to {path} are sent through the Service continuously"))
def start_requests(ctx: ScenarioContext, path: str) -> None:
    """A background loop GETs the path through the Service's NodePort every 50 ms until checked."""
    ctx.request_loop = RequestLoop(ctx.bots.web_url + path)
    ctx.request_loop.start()


@given(parsers.parse("requests to {path} are sent through the ingress continuously"))
def start_requests_through_ingress(ctx: ScenarioContext, path: str) -> None:
    """A background loop GETs https://<site><path> through the ingress (TLS verified against the cluster's CA)
    every 50 ms until checked."""
    site = ctx.bots.through_ingress()
    ctx.request_loop = RequestLoop(site.url + path, transport=site.transport())
    ctx.request_loop.start()


@then(parsers.parse("no request to {path} failed"))
def no_failed_requests(ctx: ScenarioContext, request: pytest.FixtureRequest, path: str) -> None:
    """The loop is stopped; every request it sent was answered 200 (a GET on a keep-alive connection the server
    closed unanswered is sent again once, as an ingress does: RequestLoop)."""
    loop = ctx.request_loop
    assert loop is not None, "no requests were being sent"
    loop.stop()
    record_duration(request, f"requests to {path} ({loop.sent} sent, {len(loop.retried)} sent again on a new "
                             f"connection, {len(loop.failures)} failed)", loop.elapsed)
    assert loop.sent > 0, "the request loop sent nothing"
    assert not loop.failures, f"{len(loop.failures)} of {loop.sent} requests to {path} failed; first ones:\n" + \
        "\n".join(loop.failures[:10])


@then(parsers.parse("some requests to {path} failed"))
def some_failed_requests(ctx: ScenarioContext, request: pytest.FixtureRequest, path: str) -> None:
    """The loop is stopped; requests failed (the procedure took the site down for a while): how many, and the time
    from the first failure to the last, are recorded."""
    loop = ctx.request_loop
    assert loop is not None, "no requests were being sent"
    loop.stop()
    record_duration(request, f"requests to {path} failing ({len(loop.failures)} of {loop.sent} failed, first: "
                             f"{(loop.failures or ['none'])[0]})", loop.failing_seconds)
    assert loop.failures, f"all {loop.sent} requests to {path} were answered 200"


@then(parsers.parse("GET {path} answers {status:d} within {timeout}"))
def answers_within(ctx: ScenarioContext, request: pytest.FixtureRequest, path: str, status: int, timeout: str) -> None:
    """GET through the Service is polled until it answers this status."""
    took = ctx.bots.wait_http(path, status, timeout=parse_duration(timeout))
    record_duration(request, f"GET {path} -> {status}", took)


@then(parsers.parse("GET {path} answers {status:d}"))
def answers_now(ctx: ScenarioContext, path: str, status: int) -> None:
    """One GET through the Service answers this status now."""
    response = ctx.bots.get(path)
    assert response.status_code == status, f"GET {path} answered {response.status_code}, expected {status}: " \
        f"{response.text[:300]}"
