"""The quick status script's report, section by section, compared with what the Kubernetes API says."""
from __future__ import annotations

from kubernetes import client
from pytest_bdd import parsers, then

from edirunbook import tables
from fixtures.scenario import ScenarioContext

APP = "app=bots-edi"


def _section(ctx: ScenarioContext, title: str) -> str:
    found = tables.sections(ctx.last.output)
    assert title in found, f"the status report has no {title!r} section; it printed:\n{ctx.last.output}"
    return found[title]


def _listed(ctx: ScenarioContext, title: str, wanted: dict[str, str], column: str) -> None:
    section = _section(ctx, title)
    shown = {row["NAME"]: row[column] for row in tables.rows(section)}
    assert shown == wanted, (f"the {title!r} section should list {wanted} ({column}) as the API has them, "
                             f"but lists {shown}:\n{section}")


def _status(pod: client.V1Pod) -> str:
    if pod.metadata.deletion_timestamp is not None:
        return "Terminating"
    return "Completed" if pod.status.phase == "Succeeded" else str(pod.status.phase)


@then(parsers.parse('the status report\'s "Pods" section lists every Bots EDI pod with its status'))
def pods_section(ctx: ScenarioContext) -> None:
    """Each pod labelled app=bots-edi is listed with the STATUS its phase means (Running, Completed, Terminating)."""
    pods = ctx.bots.pods(APP, terminating=True)
    _listed(ctx, "Pods", {p.metadata.name: _status(p) for p in pods}, "STATUS")


@then(parsers.parse('the status report\'s "Services" section lists every Service of the namespace'))
def services_section(ctx: ScenarioContext) -> None:
    """Each Service in the namespace is listed with its TYPE."""
    services = ctx.bots.core.list_namespaced_service(ctx.bots.namespace).items
    _listed(ctx, "Services", {s.metadata.name: s.spec.type for s in services}, "TYPE")


@then(parsers.parse('the status report\'s "Recent Jobs" section shows the newest Bots EDI Jobs, at most {count:d}'))
def jobs_section(ctx: ScenarioContext, count: int) -> None:
    """Exactly the last lines of the Jobs (app=bots-edi) sorted by creation time: the header too when fewer exist."""
    jobs = ctx.bots.batch.list_namespaced_job(ctx.bots.namespace, label_selector=APP).items
    jobs.sort(key=lambda job: job.metadata.creation_timestamp)
    expected = (["NAME"] + [job.metadata.name for job in jobs])[-count:]
    section = _section(ctx, "Recent Jobs")
    shown = [line.split()[0] for line in section.splitlines() if line.strip()]
    assert shown == expected, f"expected the lines {expected}, the section shows {shown}:\n{section}"


@then(parsers.parse('the status report\'s "Ingress" section lists every Ingress with its hosts'))
def ingress_section(ctx: ScenarioContext) -> None:
    """Each Ingress in the namespace is listed with the hosts of its rules."""
    ingresses = client.NetworkingV1Api(ctx.bots.api).list_namespaced_ingress(ctx.bots.namespace).items
    wanted = {i.metadata.name: ",".join(rule.host for rule in i.spec.rules or [] if rule.host) for i in ingresses}
    assert wanted, "the namespace has no Ingress: the section could list nothing and still pass"
    _listed(ctx, "Ingress", wanted, "HOSTS")


@then(parsers.parse('the status report\'s health line ends with "{text}"'))
def health_line(ctx: ScenarioContext, text: str) -> None:
    """The "Health Check" section is one line ending with the text (curl -sf prints the body `ok` before it)."""
    section = _section(ctx, "Health Check").strip()
    assert "\n" not in section and section.endswith(text), f"expected one health line ending {text!r}, got:\n{section}"
