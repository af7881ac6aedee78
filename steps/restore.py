"""A data volume restored to a new claim: the pods that mount it, the files the engine reads."""
from __future__ import annotations

import time

from kubernetes import client
from pytest_bdd import given, parsers, then

from edirunbook import botsdb
from fixtures.scenario import ScenarioContext


def _mounts(pod: client.V1Pod, claim: str) -> bool:
    return any(v.persistent_volume_claim is not None and v.persistent_volume_claim.claim_name == claim
               for v in pod.spec.volumes or [])


@then(parsers.parse("every pod of deployment {name} mounts claim {claim}"))
def pods_mount_claim(ctx: ScenarioContext, name: str, claim: str) -> None:
    """The Deployment's running pods themselves (not only its template) have a volume of the claim."""
    pods = ctx.bots.deployment_pods(name)
    assert pods, f"deployment/{name} has no pods"
    wrong = {p.metadata.name: [v.persistent_volume_claim.claim_name for v in p.spec.volumes or []
                               if v.persistent_volume_claim is not None]
             for p in pods if not _mounts(p, claim)}
    assert not wrong, f"pods of deployment/{name} that do not mount claim {claim} (their claims): {wrong}"


@given(parsers.parse('the sample file "{sample}" is dropped in the inbound directory through the webserver'),
       target_fixture="dropped")
def dropped_through_webserver(ctx: ScenarioContext, sample: str) -> str:
    """A copy of the sample (a unique name, kept for later steps) written into botssys/infile/edifact_orders as
    a webserver pod sees it: on the claim the webserver mounts."""
    return ctx.bots.drop_sample(sample, as_name=f"{int(time.time() * 1000)}-{sample}").rsplit("/", 1)[1]


@then("the engine has not read the file: it still waits in the webserver's inbound directory")
def file_not_read(ctx: ScenarioContext, dropped: str) -> None:
    """The dropped file is still in the inbound directory the webserver sees, and no filereport row names it."""
    assert _waiting(ctx, dropped), f"{dropped} is gone from {ctx.bots.inbound_dir}: something read it"
    report = botsdb.file_reports(ctx.env.database, [dropped])
    assert not report, f"the engine recorded {dropped} (statust, error): {report[dropped]}"


@then("the engine translated the file from the webserver's inbound directory")
def file_translated(ctx: ScenarioContext, dropped: str) -> None:
    """The dropped file has left the inbound directory, and its filereport row says done (statust 3)."""
    report = botsdb.file_reports(ctx.env.database, [dropped])
    assert report.get(dropped, (None, ""))[0] == botsdb.DONE, \
        f"filereport for {dropped}: {report.get(dropped, 'no row')} (statust 3 is done)"
    assert not _waiting(ctx, dropped), f"{dropped} is still in {ctx.bots.inbound_dir} after the engine run"


def _waiting(ctx: ScenarioContext, name: str) -> bool:
    return ctx.bots.exec_web(f"test -e {ctx.bots.inbound_dir}/{name} && echo yes || echo no").strip() == "yes"
