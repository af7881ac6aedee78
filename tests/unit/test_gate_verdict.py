"""gate.md: the verdict, the failed procedures in one line each, and every change made to the target's manifests."""
from __future__ import annotations

import json
from pathlib import Path

from edirunbook.gate import verdict

TEAM = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - {name: web, image: team/bots:1}
        - {name: sidecar, image: team/files:1}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: logs}
"""
DEPLOYED = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - {name: web, image: edirunbook/bots-edi:local}
---
apiVersion: v1
kind: Service
metadata: {name: web-nodeport}
"""


def test_every_change_is_listed_with_its_reason_and_the_image_mapping_is_not_a_change() -> None:
    changes = verdict.manifest_changes(TEAM, DEPLOYED, {"Deployment/*": "no sidecar registry"}, "overlay")
    assert [(c.object, c.change, c.reason, c.by) for c in changes] == [
        ("Deployment/web", "changed spec.template.spec.containers[sidecar] removed", "no sidecar registry", "overlay"),
        ("PersistentVolumeClaim/logs", "removed", verdict.NO_REASON, "overlay"),
        ("Service/web-nodeport", "added", verdict.NO_REASON, "overlay"),
    ]


def _summary(*results: tuple[str, str | None]) -> dict[str, object]:
    scenarios = [{"procedure": f"p{i}", "runbook": ["restart-a-service"], "result": r, "error": e,
                  "failed_step": "Then it works" if e else None} for i, (r, e) in enumerate(results)]
    totals = {"procedures": len(results), **{k: sum(1 for r, _ in results if r == k)
                                             for k in ("passed", "failed", "error", "not run")}}
    return {"run": {"exit_status": 0 if totals["passed"] == len(results) else 1,
                    "tested": {"target": "team: a team", "app image": "edirunbook/target-team:abc"}},
            "totals": totals, "scenarios": scenarios}


def test_a_red_gate_names_each_failed_procedure_with_its_cause_in_one_line(tmp_path: Path) -> None:
    error = "Traceback (most recent call last):\nAssertionError: deployment/bots-webserver probes /health/ready\nmore"
    (tmp_path / "summary.json").write_text(json.dumps(_summary(("passed", None), ("failed", error))))
    verdict.write_changes(tmp_path, "team", [verdict.Change("Deployment/web", "removed", "why", "overlay")])
    (tmp_path / "coverage.json").write_text(json.dumps({"summary": {"covered": 3, "commands": 4, "percent": 75.0}}))
    assert verdict.write_gate(tmp_path, {"docs/runbook.md": tmp_path / "coverage.json"}) == verdict.RED
    text = (tmp_path / verdict.GATE_MD).read_text()
    assert text.startswith("# Release gate: RED for target team")
    assert ("| p1 | restart-a-service | failed | deployment/bots-webserver probes /health/ready "
            "(step: Then it works) |") in text
    assert "- docs/runbook.md: 3 of 4 commands (75.0%)" in text
    assert "| Deployment/web | removed | overlay | why |" in text
    assert "| app image | edirunbook/target-team:abc |" in text


def test_green_needs_every_procedure_passed_and_the_deployment_up(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps(_summary(("passed", None))))
    assert verdict.write_gate(tmp_path, {}) == verdict.GREEN
    verdict.write_changes(tmp_path, "team", [], deploy_error="deployment/web did not become Ready")
    assert verdict.write_gate(tmp_path, {}) == verdict.RED
    assert "did not come up:** deployment/web did not become Ready" in (tmp_path / verdict.GATE_MD).read_text()
    (tmp_path / "summary.json").write_text(json.dumps(_summary()))
    verdict.write_changes(tmp_path, "team", [])
    assert verdict.write_gate(tmp_path, {}) == verdict.RED  # nothing ran: never green


def test_the_cause_is_the_message_without_the_exception_class() -> None:
    assert verdict.one_line("edirunbook.errors.AppError: The ConfigMap x is gone\nmore") == "The ConfigMap x is gone"
    assert verdict.one_line("E   WaitTimeout: timed out after 30s waiting for x") == "timed out after 30s waiting for x"
    assert verdict.one_line("") == "(no message)"


def test_a_cause_that_introduces_what_was_seen_shows_its_first_line() -> None:
    error = ("AssertionError: expected 'Enter password:' in the output of kubectl exec x -- mysqldump -p db:\n"
             "  sh: 1: mysqldump: not found\n  command terminated with exit code 127\n\nassert 'Enter' in ''")
    assert verdict.one_line(error) == ("expected 'Enter password:' in the output of kubectl exec x -- mysqldump -p db: "
                                       "sh: 1: mysqldump: not found")


def test_a_failure_of_the_suite_itself_is_not_called_a_defect_of_the_target(tmp_path: Path) -> None:
    build = "edirunbook.errors.BuildError: building edirunbook/bots-edi-release:1 failed; full log in x.log"
    summary = _summary(("failed", build), ("failed", "AssertionError: 1 != 2"))
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    assert verdict.write_gate(tmp_path, {}) == verdict.RED
    text = (tmp_path / verdict.GATE_MD).read_text()
    defects, unjudged = text.split("## Not judged")
    assert "| p1 |" in defects and "| p0 |" not in defects
    assert "| p0 | restart-a-service | failed | building edirunbook/bots-edi-release:1 failed" in unjudged


def test_a_fix_overlay_is_listed_patch_by_patch_with_the_files_it_changes_and_the_defect_it_fixes(
        tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps(_summary(("passed", None))))
    fixes = [{"patch": "targets/team-fixed/fixes/01-two.patch", "files": ["deploy/web.yaml", "manage.py"],
              "fixes": '"spec.replicas: found 1, expected 2" | one pod'}]
    verdict.write_changes(tmp_path, "team-fixed", [], fixes=fixes)
    assert verdict.write_gate(tmp_path, {}) == verdict.GREEN
    text = (tmp_path / verdict.GATE_MD).read_text()
    assert "## The fix overlay: patches applied to the target's repository (1)" in text
    assert ('| targets/team-fixed/fixes/01-two.patch | deploy/web.yaml, manage.py | "spec.replicas: found 1, '
            'expected 2" \\| one pod |') in text
    verdict.write_changes(tmp_path, "team", [])
    assert "fix overlay" not in verdict.gate_markdown(_summary(("passed", None)), json.loads(
        (tmp_path / verdict.CHANGES_JSON).read_text()), {})


def test_the_last_lines_of_a_red_gate_name_each_failed_procedure_with_its_cause_and_step(tmp_path: Path) -> None:
    error = "Traceback (most recent call last):\nWaitTimeout: no alert fired within 240 s; last seen: none\nmore"
    (tmp_path / "summary.json").write_text(json.dumps(_summary(("passed", None), ("failed", error), ("not run", None))))
    assert verdict.failure_lines(tmp_path) == [
        "  failed: p1: no alert fired within 240 s; last seen: none (step: Then it works)",
        "  not run: p2: no cause recorded",
    ]
    assert verdict.failure_lines(tmp_path, limit=1)[-1] == f"  ... and 1 more in {tmp_path / verdict.GATE_MD}"
    (tmp_path / "summary.json").write_text(json.dumps(_summary(("passed", None))))
    assert verdict.failure_lines(tmp_path) == []
    assert verdict.failure_lines(tmp_path / "absent") == []
