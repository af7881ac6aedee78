"""The runbook's site through the cluster's ingress: HTTPS with cert-manager's certificate, Ingress faults, and
`kubectl top` from metrics-server."""
from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
import yaml
from pytest_bdd import given, parsers, then, when

from edirunbook import ingress, tables
from edirunbook.durations import parse_duration
from edirunbook.report import Stopwatch, record_duration
from edirunbook.waiting import Observation, wait_for
from fixtures.scenario import ScenarioContext

INGRESS = "bots-edi-ingress"


def _site_answer(ctx: ScenarioContext, path: str) -> tuple[int | None, str]:
    """(status, what was seen) of GET https://<site><path> through the ingress; None when nothing answered."""
    try:
        response = ctx.bots.get_site(path, timeout=3)
    except httpx.HTTPError as error:  # a certificate that does not verify is a ConnectError too
        return None, f"no answer: {type(error).__name__} {error}"
    return response.status_code, f"answered {response.status_code} {response.text[:120]!r}"


@given(parsers.parse("GET {path} through the ingress answers {status:d}"))
@then(parsers.parse("GET {path} through the ingress answers {status:d}"))
def site_answers(ctx: ScenarioContext, path: str, status: int) -> None:
    """One GET https://<site><path> through the ingress (certificate verified against the cluster's CA) answers
    this status now."""
    found, seen = _site_answer(ctx, path)
    assert found == status, f"GET {ctx.bots.through_ingress().url}{path} through the ingress: {seen}, expected {status}"


@then(parsers.parse("GET {path} through the ingress answers {status:d} within {timeout}"))
def site_answers_within(ctx: ScenarioContext, request: pytest.FixtureRequest, stopwatch: Stopwatch, path: str,
                        status: int, timeout: str) -> None:
    """GET https://<site><path> through the ingress is polled until it answers this status; a running `recovery`
    time (compared with @rto) stops then."""
    def probe() -> Observation:
        found, seen = _site_answer(ctx, path)
        return Observation(found == status, seen)

    took = wait_for(f"GET {path} through the ingress to answer {status}", probe, timeout=parse_duration(timeout),
                    interval=1)
    record_duration(request, f"GET {path} through the ingress -> {status}", took)
    if stopwatch.running("recovery"):
        stopwatch.stop("recovery")


@then(parsers.parse("the site is unreachable through the ingress within {timeout}"))
def site_unreachable(ctx: ScenarioContext, request: pytest.FixtureRequest, timeout: str) -> None:
    """GET https://<site>/health/ping through the ingress gets no answer or not 200."""
    def probe() -> Observation:
        found, seen = _site_answer(ctx, "/health/ping")
        return Observation(found != 200, seen)

    took = wait_for("the site to become unreachable through the ingress", probe, timeout=parse_duration(timeout),
                    interval=1)
    record_duration(request, "outage detected (site unreachable through the ingress)", took)


@then("every Ingress routes to a port its Service has, with TLS from a Secret a Certificate issues")
def ingresses_route_to_existing_ports(ctx: ScenarioContext) -> None:
    """Each live Ingress's backends name a Service of the namespace and a port it has (by name or number), and
    each TLS secretName is the spec.secretName of a live cert-manager Certificate."""
    bots = ctx.bots
    ingresses = bots.kubectl_json("ingress")["items"]
    services = {s["metadata"]["name"]: s for s in bots.kubectl_json("service")["items"]}
    issued = {c["spec"].get("secretName") for c in bots.kubectl_json("certificate")["items"]}
    assert ingresses, f"namespace {bots.namespace} has no Ingress"
    problems = []
    for ing in ingresses:
        ref = f"ingress/{ing['metadata']['name']}"
        spec = ing.get("spec", {})
        backends = [path["backend"] for rule in spec.get("rules", []) for path in rule.get("http", {}).get("paths", [])]
        backends += [spec["defaultBackend"]] if spec.get("defaultBackend") else []
        for backend in backends:
            service, port = backend["service"]["name"], backend["service"].get("port", {})
            wanted = port.get("name") or port.get("number")
            found = services.get(service)
            if found is None:
                problems.append(f"{ref}: backend {service}:{wanted} names a Service the namespace does not have")
                continue
            ports = found["spec"].get("ports", [])
            if not any(wanted in (p.get("name"), p.get("port")) for p in ports):
                have = ", ".join(str(p.get("name") or p.get("port")) for p in ports)
                problems.append(f"{ref}: backend {service}:{wanted} names a port Service {service} does not have "
                                f"(it has {have})")
        for tls in spec.get("tls", []):
            if tls.get("secretName") not in issued:
                problems.append(f"{ref}: TLS secret {tls.get('secretName')} is issued by no Certificate of the "
                                f"namespace (they issue {', '.join(sorted(map(str, issued))) or 'nothing'})")
    assert not problems, "\n".join(problems)


# ---- faults on the Ingress ----------------------------------------------------------------------------------

def _patch_ingress(ctx: ScenarioContext, patch: list[dict[str, object]]) -> None:
    ctx.bots.kubectl_run("patch", "ingress", INGRESS, "-n", ctx.bots.namespace, "--type=json", "-p",
                         json.dumps(patch))


@when(parsers.parse('the Ingress\'s backend port is renamed to "{name}"'))
def rename_backend_port(ctx: ScenarioContext, stopwatch: Stopwatch, name: str) -> None:
    """The fault: the Ingress's backend names a Service port that does not exist (a typo in a manifest change);
    the `recovery` time (compared with @rto) starts."""
    _patch_ingress(ctx, [{"op": "replace", "path": "/spec/rules/0/http/paths/0/backend/service/port",
                          "value": {"name": name}}])
    stopwatch.start("recovery")


@given(parsers.parse('the deployment\'s Ingress manifest is saved as "{name}"'))
def save_ingress_manifest(ctx: ScenarioContext, name: str) -> None:
    """The Ingress as the deployment's manifests have it, written to the operator's working directory (the file
    the runbook's "reapply correct ingress manifest" applies)."""
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    (ctx.workdir / name).write_text(yaml.safe_dump(ctx.env.deployed("Ingress", INGRESS), sort_keys=False))


# ---- the certificate --------------------------------------------------------------------------------------

@given("the certificate the ingress serves for the site is noted")
def note_served_certificate(ctx: ScenarioContext) -> None:
    """The leaf certificate from a verified TLS handshake with the ingress for the site's name: serial, validity,
    issuer (the cluster's CA)."""
    cert = ctx.bots.through_ingress().served_certificate()
    ctx.noted_certificate = cert
    ctx.shell.values["served-serial"] = f"{cert.serial_number:x}"
    print(f"served before: {ingress.describe(cert)}")


@then(parsers.parse("the ingress serves a new certificate for the site within {timeout}"))
def new_certificate_served(ctx: ScenarioContext, request: pytest.FixtureRequest, timeout: str) -> None:
    """A verified TLS handshake with the ingress shows a certificate with another serial and a later notBefore than
    the one noted, for the site's name, signed by the cluster's CA."""
    before = ctx.noted_certificate
    assert before is not None, "no certificate was noted before"
    site = ctx.bots.through_ingress()

    def probe() -> Observation:
        try:
            cert = site.served_certificate()
        except OSError as error:  # ssl.SSLError included
            return Observation(False, f"handshake failed: {error}")
        new = cert.serial_number != before.serial_number and cert.not_valid_before_utc > before.not_valid_before_utc
        return Observation(new, ingress.describe(cert))

    took = wait_for("the ingress to serve a new certificate", probe, timeout=parse_duration(timeout), interval=1)
    after = site.served_certificate()
    print(f"served after: {ingress.describe(after)}")
    record_duration(request, "a new certificate served by the ingress", took)


@then(parsers.parse("the output shows certificate {name} Ready"))
def certificate_ready_in_output(ctx: ScenarioContext, name: str) -> None:
    """The last `kubectl get certificate` lists the Certificate with READY True."""
    rows = {row.get("NAME"): row for row in tables.rows(ctx.last.output)}
    assert rows.get(name, {}).get("READY") == "True", f"expected certificate {name} READY True:\n{ctx.last.output}"


@then(parsers.parse("the output shows no expiry date for certificate {name}"))
def certificate_without_expiry(ctx: ScenarioContext, name: str) -> None:
    """The last `kubectl get certificate` lists the Certificate, but no column of it is a date (its notAfter is
    only in `describe` or `-o jsonpath`)."""
    rows = [row for row in tables.rows(ctx.last.output) if row.get("NAME") == name]
    assert rows, f"certificate {name} is not listed:\n{ctx.last.output}"
    dates = [value for value in rows[0].values() if re.fullmatch(r"\d{4}-\d{2}-\d{2}\S*", value or "")]
    assert not dates, f"certificate {name} is listed with a date {dates}:\n{ctx.last.output}"


@then(parsers.parse("the output shows the expiry date of certificate {name}"))
def certificate_expiry(ctx: ScenarioContext, name: str) -> None:
    """The last listing shows the Certificate's NOT_AFTER: the notAfter cert-manager records for the certificate in
    its Secret."""
    rows = {row.get("NAME"): row for row in tables.rows(ctx.last.output)}
    live = ctx.bots.kubectl_json("certificate", name)
    expected = live.get("status", {}).get("notAfter")
    assert expected and rows.get(name, {}).get("NOT_AFTER") == expected, \
        f"expected certificate {name} with NOT_AFTER {expected}:\n{ctx.last.output}"


@given(parsers.parse("certificate {name} is Ready within {timeout}"))
@then(parsers.parse("certificate {name} is Ready within {timeout}"))
def certificate_ready(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str, timeout: str) -> None:
    """cert-manager's Ready condition of the Certificate is True (its Secret holds a valid certificate)."""
    def probe() -> Observation:
        found = ctx.bots.kubectl_json("certificate", name)
        ready = _condition(found, "Ready")
        seen = f"Ready {ready.get('status')}: {ready.get('message')}"
        if ready.get("status") != "True":
            seen += _request_state(ctx, name)
        return Observation(ready.get("status") == "True", seen)

    took = wait_for(f"certificate {name} to be Ready", probe, timeout=parse_duration(timeout), interval=1)
    record_duration(request, f"certificate {name} Ready", took)


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c.get("type") == kind), {})


def _request_state(ctx: ScenarioContext, certificate: str) -> str:
    """The newest CertificateRequest of the Certificate and its Ready condition (an issuer that does not exist or
    refuses says so there)."""
    requests = ctx.bots.kubectl_json("certificaterequest")
    mine = [r for r in requests["items"] if any(o.get("name") == certificate
                                                 for o in r["metadata"].get("ownerReferences", []))]
    if not mine:
        return "; no CertificateRequest yet"
    newest = max(mine, key=lambda r: r["metadata"]["creationTimestamp"])
    ready = _condition(newest, "Ready")
    return (f"; certificaterequest/{newest['metadata']['name']} Ready {ready.get('status')} ({ready.get('reason')}): "
            f"{ready.get('message')}")


# ---- kubectl top ----------------------------------------------------------------------------------------------

def _bots_pods(ctx: ScenarioContext) -> list[str]:
    return sorted(p.metadata.name for p in ctx.bots.pods("app=bots-edi") if p.status.phase == "Running")


@given(parsers.parse("metrics-server has figures for every running Bots EDI pod within {timeout}"))
def metrics_available(ctx: ScenarioContext, request: pytest.FixtureRequest, timeout: str) -> None:
    """The metrics API (metrics.k8s.io, served by metrics-server) has a sample of every running Bots EDI pod (a
    pod started less than a scrape ago has none yet)."""
    def probe() -> Observation:
        listed = json.loads(ctx.bots.kubectl_run("get", "--raw",
                                                 f"/apis/metrics.k8s.io/v1beta1/namespaces/{ctx.bots.namespace}/pods"))
        have = {item["metadata"]["name"] for item in listed.get("items", [])}
        missing = [p for p in _bots_pods(ctx) if p not in have]
        return Observation(not missing, f"no figures yet for {missing}" if missing else "all pods")

    took = wait_for("metrics-server to have figures for every Bots EDI pod", probe, timeout=parse_duration(timeout),
                    interval=2)
    record_duration(request, "metrics of every pod available", took)


@then("the output lists every running Bots EDI pod with its CPU and memory")
def top_lists_pods(ctx: ScenarioContext) -> None:
    """The last `kubectl top pods` has a row for every running Bots EDI pod, CPU in cores or millicores and memory
    in bytes (Ki/Mi/Gi), memory above zero."""
    rows = {row["NAME"]: row for row in tables.rows(ctx.last.output)}
    problems = []
    for pod in _bots_pods(ctx):
        row = rows.get(pod)
        if row is None:
            problems.append(f"{pod}: not listed")
            continue
        cpu, memory = row.get("CPU(cores)", ""), row.get("MEMORY(bytes)", "")
        if not re.fullmatch(r"\d+m?", cpu):
            problems.append(f"{pod}: CPU {cpu!r}")
        if not re.fullmatch(r"\d+(Ki|Mi|Gi)", memory) or int(re.sub(r"\D", "", memory)) == 0:
            problems.append(f"{pod}: memory {memory!r}")
    assert not problems, f"{'; '.join(problems)}:\n{ctx.last.output}"
