"""The deployment as deployed: the live objects have what the runbook and docs/runbook.md rely on."""
from __future__ import annotations

from pytest_bdd import parsers, then

from edirunbook import app, conformance
from edirunbook.environment import deploy
from fixtures.scenario import ScenarioContext


def _rows(datatable: list[list[str]], columns: list[str]) -> list[list[str]]:
    header, *rows = datatable
    if [cell.strip() for cell in header] != columns:
        raise AssertionError(f"the table's header must be | {' | '.join(columns)} |, not | {' | '.join(header)} |")
    return [[cell.strip() for cell in row] for row in rows]


def _report(problems: list[str]) -> None:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    assert not problems, f"{problems[0]}{more}: the deployment does not have what the runbook relies on:\n" \
        + "\n".join(problems)


@then("the live objects have:")
def live_objects_have(ctx: ScenarioContext, datatable: list[list[str]]) -> None:
    """Each row's field of the live object (kind/name) has the expected value; `pod.` is the pod template's spec."""
    rows = _rows(datatable, ["object", "field", "expected"])
    objects: dict[str, dict[str, object]] = {}

    def live(ref: str) -> dict[str, object]:
        if ref not in objects:
            objects[ref] = ctx.bots.live_object(ref)
        return objects[ref]

    _report(conformance.check_objects(live, [(ref, field, expected) for ref, field, expected in rows]))


@then("every container of every Bots EDI workload has:")
def every_container_has(ctx: ScenarioContext, datatable: list[list[str]]) -> None:
    """Each row's field (relative to the container) holds in every container of both Deployments and the CronJob."""
    rows = _rows(datatable, ["field", "expected"])
    problems = []
    for ref in app.WORKLOADS:
        for container in conformance.containers(ctx.bots.live_object(ref)):
            where = f"{ref} container {container.get('name')}"
            problems += [p for field, expected in rows
                         if (p := conformance.mismatch(f"{where} {field}", conformance.read(container, field),
                                                       expected))]
    _report(problems)


@then("every pod template of every Bots EDI workload has:")
def every_pod_has(ctx: ScenarioContext, datatable: list[list[str]]) -> None:
    """Each row's field of the pod template's spec (`securityContext.runAsNonRoot`) holds in every workload."""
    rows = _rows(datatable, ["field", "expected"])
    problems = []
    for ref in app.WORKLOADS:
        obj = ctx.bots.live_object(ref)
        problems += [p for field, expected in rows
                     if (p := conformance.mismatch(f"{ref} pod.{field}", conformance.read(obj, f"pod.{field}"),
                                                   expected))]
    _report(problems)


@then(parsers.parse("every Bots EDI workload mounts claim {claim} at {path}"))
def every_workload_mounts(ctx: ScenarioContext, claim: str, path: str) -> None:
    """Every container of both Deployments and the CronJob mounts the claim at the path (backups rely on it)."""
    _report([p for ref in app.WORKLOADS
             for p in conformance.volume_mount_problems(ref, ctx.bots.live_object(ref), claim, path)])


@then("the target's own manifests have:")
def shipped_objects_have(ctx: ScenarioContext, datatable: list[list[str]]) -> None:
    """Each row's field of the object (kind/name) in the target's manifests as shipped, before the environment's or
    the test overlay's changes: for what the test cluster cannot run (a cert-manager Certificate)."""
    rows = _rows(datatable, ["object", "field", "expected"])

    def shipped(ref: str) -> dict[str, object]:
        kind, _, name = ref.partition("/")
        found = deploy.find_object(ctx.env.shipped, kind, name)
        if found is None:
            raise AssertionError(deploy.missing_object_message(ctx.env.shipped, kind, name, ctx.env.where()))
        return found

    _report(conformance.check_objects(shipped, [(ref, field, expected) for ref, field, expected in rows]))
