"""Configuration and image rollouts: what the operator's editor changes, what the new pods run."""
from __future__ import annotations

import json
import shlex
import sys

from pytest_bdd import given, parsers, then

from edirunbook.docker import daemon
from edirunbook.environment.deploy import make_release_available
from edirunbook.gate.tested import image_digest
from edirunbook.shell import substitute
from fixtures.scenario import ScenarioContext


@given(parsers.parse('the operator\'s editor will change "{old}" to "{new}"'))
def editor_changes(ctx: ScenarioContext, old: str, new: str) -> None:
    """`kubectl edit` opens $KUBE_EDITOR on the object; this editor makes the change a person would make."""
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    editor = ctx.workdir / "editor.py"
    # literal text, first occurrence only (no regex: `[settings]` is text, not a character class)
    editor.write_text(f"#!{sys.executable}\n"
                      "import pathlib, sys\n"
                      "path = pathlib.Path(sys.argv[1])\n"
                      "text = path.read_text()\n"
                      f"if {old!r} not in text:\n"
                      "    sys.exit('editor: text not found')\n"
                      f"path.write_text(text.replace({old!r}, {new!r}, 1))\n")
    editor.chmod(0o755)
    ctx.shell.env["KUBE_EDITOR"] = str(editor)


@then(parsers.parse('every pod of deployment {name} reads "{text}" from its bots.ini'))
def pods_read_config(ctx: ScenarioContext, name: str, text: str) -> None:
    """Each pod of the Deployment has the text in the bots.ini it mounts."""
    missing = []
    bots_ini = ctx.bots.paths.bots_ini
    for pod in ctx.bots.deployment_pods(name):
        content = ctx.bots.kubectl_run("exec", pod.metadata.name, "--", "cat", bots_ini)
        if text not in content:
            missing.append(pod.metadata.name)
    assert not missing, f"pods still read the old {bots_ini}: {', '.join(missing)}"


@given(parsers.parse('release v1.2.0 of the image is available to the cluster as "{image}"'))
def release_available(ctx: ScenarioContext, image: str) -> None:
    """The target's release recipe (target.yaml `release:`; the reference's images/bots-edi-release writes `;`
    instead of `,`) built on the deployed image, tagged with this name (after substitutions) and loaded into
    the kind node."""
    name = substitute(image, ctx.env.config.substitutions)
    ref = make_release_available(ctx.env.kind, ctx.env.app_image, name, ctx.env.target.release)
    ctx.release_image = (name, image_digest(daemon.connect().activate(), ref))


@then("the newest engine job ran release v1.2.0")
def engine_ran_release(ctx: ScenarioContext) -> None:
    """The engine Job made last ran its container from the release's image, by digest: the image the kubelet
    reports for it is the node's image of that name, and that image is the release built here (its ID)."""
    assert ctx.release_image, "release v1.2.0 was not made available earlier in this scenario"
    name, release_id = ctx.release_image
    jobs = sorted(ctx.bots.engine_jobs(), key=lambda j: j.metadata.creation_timestamp)
    assert jobs, "there is no engine job in the namespace"
    job = jobs[-1].metadata.name
    ran = [(s.image, s.image_id) for pod in ctx.bots.pods(f"job-name={job}", terminating=True)
           for s in pod.status.container_statuses or []]
    assert ran, f"job/{job} has no pod with a container status left to show which image it ran"
    node_id, digests = _node_image(ctx, name)
    assert node_id == release_id, f"the node's image {name} is {node_id}, not release v1.2.0 as built ({release_id})"
    wrong = [(image, image_id) for image, image_id in ran if image_id.rsplit("@", 1)[-1] not in digests]
    assert not wrong, f"job/{job} ran {wrong}; release v1.2.0 ({name}) is {sorted(digests)} on the node"


def _node_image(ctx: ScenarioContext, name: str) -> tuple[str, set[str]]:
    """The node's image of that name (crictl, as the kubelet sees it): its ID, and every digest naming it."""
    result = ctx.env.kind.node_exec(f"crictl inspecti -o json {shlex.quote(name)}")
    assert result.returncode == 0, f"the node has no image {name}: {result.stdout}{result.stderr}"
    status = json.loads(result.stdout)["status"]
    digests = {d.rsplit("@", 1)[-1] for d in status.get("repoDigests") or []}
    return status["id"], {status["id"], *digests}


@then(parsers.parse('every Bots EDI workload runs the image "{image}"'))
def workloads_run_image(ctx: ScenarioContext, image: str) -> None:
    """Both Deployments and the engine CronJob name the image, and no webserver pod runs another."""
    expected = substitute(image, ctx.env.config.substitutions)
    bots = ctx.bots
    wrong = {k: v for k, v in bots.workload_images().items() if v != [expected]}
    assert not wrong, f"workloads not on {expected}: {wrong}"
    pods = [p for p in bots.pods("app=bots-edi,component=webserver")
            if any(c.image != expected for c in p.spec.containers)]
    assert not pods, f"webserver pods still on the old image: {[p.metadata.name for p in pods]}"
