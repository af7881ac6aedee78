"""A data volume restored to a new claim: the claim emptied, the pods that mount it, the files the engine reads."""
from __future__ import annotations

import time

from kubernetes import client
from pytest_bdd import given, parsers, then

from edirunbook import botsdb
from fixtures.scenario import ScenarioContext

# The pod the runbook's restore into a new claim makes (docs/runbook.md, Restore from Backup)
RESTORE_POD = "bots-data-restore"


def _mounts(pod: client.V1Pod, claim: str) -> bool:
    return any(v.persistent_volume_claim is not None and v.persistent_volume_claim.claim_name == claim
               for v in pod.spec.volumes or [])


@given(parsers.parse("the claim {claim} is bound and empty"))
def claim_bound_and_empty(ctx: ScenarioContext, claim: str) -> None:
    """Bound to its volume, no running pod mounting it, the volume's directory on the node emptied (what an earlier
    run restored into it): a new claim, as a storage class provisions one."""
    core = ctx.bots.core
    pvc = core.read_namespaced_persistent_volume_claim(claim, ctx.bots.namespace)
    assert pvc.status.phase == "Bound", f"claim {claim} is {pvc.status.phase}, not Bound to its volume"
    try:  # the restore pod of an interrupted earlier run
        core.delete_namespaced_pod(RESTORE_POD, ctx.bots.namespace, grace_period_seconds=0)
    except client.ApiException as error:
        if error.status != 404:
            raise
    users = [p.metadata.name for p in core.list_namespaced_pod(ctx.bots.namespace).items
             if _mounts(p, claim) and p.status.phase not in ("Succeeded", "Failed")
             and p.metadata.name != RESTORE_POD]
    assert not users, f"pods {', '.join(users)} mount claim {claim}: emptying it would take their files away"
    volume = core.read_persistent_volume(pvc.spec.volume_name)
    assert volume.spec.host_path is not None, f"{volume.metadata.name} is not a hostPath volume of the node"
    directory = volume.spec.host_path.path
    result = ctx.env.kind.node_exec(f"find {directory} -mindepth 1 -delete && find {directory} -mindepth 1")
    assert result.returncode == 0 and not result.stdout.strip(), \
        f"{directory} on the node (volume {volume.metadata.name}) is not empty:\n{result.stdout}{result.stderr}"


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
