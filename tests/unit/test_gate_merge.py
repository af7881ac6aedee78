"""`edirunbook gate merge`: the shards' report dirs merged are the report of the whole run, or a one-line refusal."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from edirunbook.cli import main
from edirunbook.gate import verdict
from edirunbook.gate.merge import ShardReport, differing_tested, merge_tested, read_shard, record_from_json

pytest_plugins = ["pytester"]

DATA = Path(__file__).parent / "data"
LOCAL = ["--verified-runbook", "docs/runbook.md", "--features", "features", "--environments", "environments"]
STEPS = '''
import time

from pytest_bdd import given, parsers, scenarios, then, when

from edirunbook.report import attachment_dir, record_attachment, record_command, record_duration

scenarios("features")


@given("the app answers")
def _(request):
    record_command(request, "curl -fsS http://127.0.0.1:18080/health", 0, "ok", 0.05)


@when(parsers.re('the operator runs "(?P<command>.+)"'))
def _(request, command):
    record_command(request, command, 0, "done", 0.1)


@when(parsers.parse("the recovery took {seconds:g} seconds"))
def _(request, seconds):
    record_duration(request, "recovery", seconds)


@then("a screenshot is taken")
def _(request):
    folder = attachment_dir(request, "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "home.png").write_bytes(b"png")
    record_attachment(request, folder / "home.png", "home page")


@then("it fails")
def _():
    raise AssertionError("the pods never became Ready: 0/2 ready")
'''
RESTART = """
@runbook:restart-a-service
Feature: Restart a service

  @destructive @rto:5-30m
  Scenario: Restart the webserver
    When the operator runs "kubectl rollout restart deployment/bots-webserver -n edi"
    And the recovery took 42 seconds

  @destructive
  Scenario: Restart the job queue
    When the operator runs "kubectl rollout restart deployment/bots-jobqueue -n edi"

  @readonly
  Scenario: Look at the pods
    Given the app answers
    Then a screenshot is taken
"""
HEALTH = """
@runbook:health-checks
Feature: Health checks

  @readonly @shipped
  Scenario: Pods are Running
    When the operator runs "kubectl get pods -n edi"

  @readonly
  Scenario: The volume has room
    Given the app answers
    {last}
"""
RUNBOOK = """# Runbook

## Health Checks

```bash
kubectl get pods -n edi
```

## Restart a Service

```bash
kubectl rollout restart deployment/bots-webserver -n edi
kubectl rollout restart deployment/bots-jobqueue -n edi
```
"""
CUSTOMER_RUNBOOK = RUNBOOK + """
## Scale Webserver

```bash
kubectl scale deployment/bots-webserver -n edi --replicas=5
```
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A suite like ours: five scenarios in two features, a runbook and the customer's, the kind environment."""
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
                     "filterwarnings = ignore:Module already imported:pytest.PytestAssertRewriteWarning\n")
    pytester.makeconftest('pytest_plugins = ["edirunbook.report"]\n')
    pytester.makepyfile(test_steps=STEPS)
    write(pytester.path / "features" / "restart.feature", RESTART)
    write(pytester.path / "features" / "health.feature", HEALTH.format(last="Then a screenshot is taken"))
    write(pytester.path / "docs" / "runbook.md", RUNBOOK)
    write(pytester.path / "customer.md", CUSTOMER_RUNBOOK)
    shutil.copytree(DATA / "environments", pytester.path / "environments")
    return pytester


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.lstrip("\n"), encoding="utf-8")


def failing(project: pytest.Pytester) -> None:
    write(project.path / "features" / "health.feature", HEALTH.format(last="Then it fails"))


def run_shards(project: pytest.Pytester, count: int = 3, prefix: str = "shard-") -> list[str]:
    dirs = [f"{prefix}{i}" for i in range(1, count + 1)]
    for i, folder in enumerate(dirs, 1):
        project.runpytest("--shard", f"{i}/{count}", "--report-dir", folder)
    return dirs


def merge(project: pytest.Pytester, *dirs: str, out: str = "merged") -> int:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project.path)
        return main(["gate", "merge", *dirs, "--out", out, *LOCAL, "--runbook", "customer.md"])


def read(project: pytest.Pytester, folder: str, name: str) -> Any:
    return json.loads((project.path / folder / name).read_text(encoding="utf-8"))


def junit(project: pytest.Pytester, folder: str) -> ET.Element:
    return ET.parse(project.path / folder / "junit.xml").getroot()


def cases(root: ET.Element) -> list[str]:
    return sorted(case.get("name", "") for case in root.iter("testcase"))


# --- the merged reports are the whole run's --------------------------------------------------------------------------


def test_the_merged_junit_holds_every_shards_testcase_with_the_totals_recomputed(project: pytest.Pytester) -> None:
    failing(project)
    dirs = run_shards(project)
    project.runpytest("--report-dir", "whole")
    assert merge(project, *dirs) == 1
    merged, whole = junit(project, "merged"), junit(project, "whole")
    assert cases(merged) == cases(whole) and len(cases(merged)) == 5
    assert [suite.tag for suite in merged] == ["testsuite"]
    totals = {key: merged.attrib[key] for key in ("tests", "failures", "errors", "skipped")}
    assert totals == {"tests": "5", "failures": "1", "errors": "0", "skipped": "0"}
    assert {key: merged[0].attrib[key] for key in totals} == totals
    times = [float(suite.get("time", "")) for d in dirs for suite in junit(project, d).iter("testsuite")]
    assert float(merged.attrib["time"]) == pytest.approx(sum(times), abs=0.01)


def test_the_merged_cucumber_json_has_each_feature_once_with_every_shards_scenarios(project: pytest.Pytester) -> None:
    dirs = run_shards(project)
    project.runpytest("--report-dir", "whole")
    assert merge(project, *dirs) == 0
    sharded = [feature["uri"] for d in dirs for feature in read(project, d, "cucumber.json")]
    assert len(sharded) > len(set(sharded)), "the test needs a feature split across shards"
    merged = read(project, "merged", "cucumber.json")

    def scenarios(features: list[dict[str, Any]]) -> dict[str, list[str]]:
        return {f["uri"]: sorted(e["name"] for e in f["elements"]) for f in features}

    assert [f["uri"] for f in merged] == sorted(set(sharded), key=sharded.index)
    assert scenarios(merged) == scenarios(read(project, "whole", "cucumber.json"))


def test_the_merged_summary_counts_every_scenario_and_spans_the_shards(project: pytest.Pytester) -> None:
    failing(project)
    dirs = run_shards(project)
    project.runpytest("--report-dir", "whole")
    assert merge(project, *dirs) == 1
    merged, whole = read(project, "merged", "summary.json"), read(project, "whole", "summary.json")
    shards = [read(project, d, "summary.json") for d in dirs]
    assert merged["totals"] == whole["totals"]
    assert merged["totals"] | {} == {"procedures": 5, "passed": 4, "failed": 1, "error": 0, "not run": 0,
                                     "within target": 1, "OVER TARGET": 0, "no target": 3}
    assert sorted(s["nodeid"] for s in merged["scenarios"]) == sorted(s["nodeid"] for s in whole["scenarios"])
    run = merged["run"]
    assert run["started"] == min(s["run"]["started"] for s in shards)
    assert run["finished"] == max(s["run"]["finished"] for s in shards)
    assert run["exit_status"] == 1 and run["shard"] is None
    assert run["shards"] == "1/3 (shard-1), 2/3 (shard-2), 3/3 (shard-3)"
    text = (project.path / "merged" / "summary.md").read_text(encoding="utf-8")
    assert "5 procedures: 4 passed, 1 failed." in text and "## What went wrong" in text and "## Shards" in text


def test_a_scenario_reads_back_from_summary_json_as_it_was_written(project: pytest.Pytester) -> None:
    failing(project)
    project.runpytest("--report-dir", "whole")
    for scenario in read(project, "whole", "summary.json")["scenarios"]:
        assert record_from_json(scenario, project.path / "whole").as_json(project.path / "whole") == scenario


def test_screenshots_are_copied_so_the_merged_summary_links_to_them(project: pytest.Pytester) -> None:
    dirs = run_shards(project)
    assert merge(project, *dirs) == 0
    shots = [a["path"] for s in read(project, "merged", "summary.json")["scenarios"] for a in s["attachments"]]
    assert len(shots) == 2 and all((project.path / "merged" / shot).is_file() for shot in shots)
    text = (project.path / "merged" / "summary.md").read_text(encoding="utf-8")
    assert all(f"]({shot})" in text for shot in shots)


def test_coverage_is_reported_for_both_runbooks_from_the_merged_results(project: pytest.Pytester) -> None:
    failing(project)
    assert merge(project, *run_shards(project)) == 1
    ours, customer = read(project, "merged", "coverage.json"), read(project, "merged", "coverage-customer.json")
    assert ours["runbook"] == "docs/runbook.md" and customer["runbook"] == "customer.md"
    assert (ours["summary"]["commands"], ours["summary"]["covered"]) == (3, 3)
    assert (customer["summary"]["commands"], customer["summary"]["covered"]) == (4, 3)
    results = {c["text"]: c["result"] for s in ours["sections"] for c in s["commands"]}
    assert set(results.values()) == {"passed"} and ours["results"].endswith("cucumber.json")
    assert (project.path / "merged" / "coverage.md").is_file()
    assert (project.path / "merged" / "coverage-customer.md").is_file()


# --- the verdict -----------------------------------------------------------------------------------------------------


def test_green_when_every_scenario_passed(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    assert merge(project, *run_shards(project)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-4:] == ["merged 3 report dirs (1/3, 2/3, 3/3) into merged: 5 procedures: 5 passed",
                        "coverage of docs/runbook.md: 3 of 3 commands (100.0%)",
                        "coverage of customer.md: 3 of 4 commands (75.0%)",
                        "verdict: green"]
    assert (project.path / "merged" / "gate.md").read_text().startswith("# Release gate: GREEN")


def test_the_merged_gate_keeps_the_targets_changes_and_any_shards_failed_deployment(
        project: pytest.Pytester) -> None:
    dirs = run_shards(project)
    change = verdict.Change("Deployment/web", "removed", "why", "overlay")
    verdict.write_changes(project.path / dirs[0], "team", [change])
    verdict.write_changes(project.path / dirs[1], "team", [change],
                          deploy_error="deployment/web did not become Ready")
    assert merge(project, *dirs) == 1
    text = (project.path / "merged" / "gate.md").read_text()
    assert text.startswith("# Release gate: RED for target team")
    assert "did not come up:** 2/3: deployment/web did not become Ready" in text
    assert "| Deployment/web | removed | overlay | why |" in text


def test_red_when_a_scenario_failed(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    failing(project)  # a feature is parsed once per path and process: change it before the first run
    assert merge(project, *run_shards(project)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("verdict: red: 5 procedures: 4 passed, 1 failed; shard-")
    assert "exited 1" in out[-1]


def test_red_when_runbook_coverage_is_below_the_minimum(project: pytest.Pytester) -> None:
    dirs = run_shards(project)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project.path)
        local = ["--features", "features", "--environments", "environments", "--min-coverage", "100"]
        assert main(["gate", "merge", *dirs, "--out", "m", "--verified-runbook", "customer.md", *local]) == 1
        assert main(["gate", "merge", *dirs, "--out", "m", "--verified-runbook", "docs/runbook.md", *local]) == 0


# --- refusals: exit 2, one line, nothing written ----------------------------------------------------------------------


def refused(project: pytest.Pytester, capsys: pytest.CaptureFixture[str], *dirs: str) -> str:
    assert merge(project, *dirs) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not (project.path / "merged").exists()
    return err


def test_a_scenario_in_two_report_dirs_is_refused(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    project.runpytest("--tags", "readonly", "--report-dir", "readonly")
    project.runpytest("--tags", "runbook:restart-a-service", "--report-dir", "restart")
    err = refused(project, capsys, "readonly", "restart")
    assert "scenario 'Restart a service: Look at the pods' is in both readonly and restart" in err


def test_a_dir_without_summary_json_is_refused(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = run_shards(project)
    (project.path / dirs[1] / "summary.json").unlink()
    assert "shard-2 has no summary.json" in refused(project, capsys, *dirs)


def test_a_missing_or_repeated_shard_is_refused(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = run_shards(project)
    assert "shard 2/3 missing (given: 1/3 (shard-1), 3/3 (shard-3))" in refused(project, capsys, dirs[0], dirs[2])
    shutil.copytree(project.path / dirs[0], project.path / "again")
    assert "shard 1/3 is both shard-1 and again" in refused(project, capsys, *dirs, "again")
    assert "shard-1 is given twice" in refused(project, capsys, *dirs, dirs[0])


def test_shards_of_different_runs_are_refused(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    halves = run_shards(project, 2, "half-")
    thirds = run_shards(project, 3, "third-")
    assert "runs cut into 2 and 3 parts" in refused(project, capsys, *halves, thirds[2])
    project.runpytest("--report-dir", "whole")
    assert "whole is not a shard's report" in refused(project, capsys, *halves, "whole")
    project.runpytest("--shard", "2/2", "--tags", "readonly", "--report-dir", "readonly-2")
    assert "the shards ran different selections" in refused(project, capsys, halves[0], "readonly-2")


def test_out_must_not_be_an_input(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = run_shards(project)
    assert merge(project, *dirs, out=dirs[0]) == 2
    assert "--out shard-1 is one of the report dirs to merge" in capsys.readouterr().err


def test_two_runbooks_of_one_name_are_refused(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    write(project.path / "other" / "customer.md", CUSTOMER_RUNBOOK)
    assert "two runbooks would both write coverage-customer.json" in refused(
        project, capsys, *run_shards(project), "--runbook", "other/customer.md")


def test_an_unreadable_report_is_refused_naming_it(tmp_path: Path) -> None:
    for name in ("summary.json", "junit.xml", "cucumber.json"):
        (tmp_path / name).write_text("[]" if name == "cucumber.json" else "<testsuites/>", encoding="utf-8")
    with pytest.raises(Exception, match=f"cannot read the reports in {tmp_path}: .*run that shard again"):
        read_shard(tmp_path)


def test_what_the_shards_tested_is_kept_once_or_with_each_shards_value(tmp_path: Path) -> None:
    def shard(label: str, tested: dict[str, str]) -> ShardReport:
        run = {"started": "", "finished": "", "exit_status": 0, "shard": label, "tested": tested}
        return ShardReport(tmp_path, {"run": run, "scenarios": []}, ET.Element("testsuites"), [])

    shards = [shard("1/2", {"app image": "bots:1", "cluster": "a"}), shard("2/2", {"app image": "bots:1"})]
    assert merge_tested(shards) == {"app image": "bots:1", "cluster": "a (1/2); - (2/2)"}
    assert differing_tested(shards) == ["cluster"]
