"""What the coverage report says: which scenario runs which runbook command, the last results, and drift."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from edirunbook import coverage, shell
from edirunbook.coverage import (
    Matcher,
    Report,
    Scenario,
    build_report,
    load_results,
    load_scenarios,
)
from edirunbook.errors import ConfigError, CoverageError
from edirunbook.runbook import normalise_promql, parse_runbook

DATA = Path(__file__).parent / "data"
FEATURES = DATA / "features"
SUBSTITUTIONS = {"bots-edi.pminc.me": "127.0.0.1:18080", "kona.db.pminc.me": "bots-mysql"}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def report() -> Report:
    scenarios = load_scenarios(FEATURES, display_root=DATA)
    return build_report(parse_runbook(DATA / "runbook.md"), scenarios, SUBSTITUTIONS, "kind", None)


def row_of(report: Report, slug: str, line: int) -> coverage.CommandCoverage:
    return next(row for row in report.rows if row.section.slug == slug and row.command.line == line)


def names(scenarios: list[Scenario]) -> list[str]:
    return [scenario.name for scenario in scenarios]


# --- matching command texts -----------------------------------------------------------------------


def same(runbook_text: str, scenario_text: str, substitutions: dict[str, str] | None = None) -> bool:
    matcher = Matcher(substitutions or {})
    return Matcher.same(matcher.forms(runbook_text), matcher.forms(scenario_text))


def test_identical_commands_match() -> None:
    assert same("kubectl get pods -n edi", "kubectl get pods -n edi")


def test_a_different_or_longer_command_does_not_match() -> None:
    assert not same("kubectl get pods -n edi", "kubectl get pods -n edi -o wide")
    assert not same("kubectl get pods -n edi", "kubectl get pods -n default")


def test_substitutions_apply_to_both_sides() -> None:
    runbook = "curl -sf https://bots-edi.pminc.me/health/ping"
    assert same(runbook, "curl -sf https://127.0.0.1:18080/health/ping", SUBSTITUTIONS)
    assert not same(runbook, "curl -sf https://127.0.0.1:18080/health/ping")


def test_a_placeholder_matches_any_single_word_in_its_place() -> None:
    assert same("kubectl logs -n edi <pod-name> --previous", "kubectl logs -n edi bots-webserver-7d9f --previous")
    assert same(
        "kubectl logs -n edi -f job/bots-engine-manual-<timestamp>", "kubectl logs -n edi -f job/bots-engine-manual-17"
    )
    assert not same("kubectl logs -n edi <pod-name> --previous", "kubectl logs -n edi a b --previous")


def test_a_date_substitution_matches_its_value_or_itself() -> None:
    runbook = "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi"
    assert same(runbook, "kubectl create job --from=cronjob/bots-engine bots-engine-manual-1767225600 -n edi")
    assert same(runbook, runbook)
    assert same("pg > backup-$(date +%Y%m%d).sql", "pg > backup-$(date +%Y%m%d).sql")


def test_an_escaped_dollar_is_text_not_a_wildcard() -> None:
    assert not same(r"DATE=\$(date +%s)", r"DATE=\12")


def test_a_placeholder_in_the_scenario_matches_the_runbook_value_too() -> None:
    assert same(
        "kubectl scale deployment/bots-webserver -n edi --replicas=5",
        "kubectl scale deployment/bots-webserver -n edi --replicas=<n>",
    )


# --- reading scenarios ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Scenario]:
    return {s.name: s for s in load_scenarios(FEATURES, display_root=DATA)}


def test_an_inline_step_runs_the_quoted_command_on_its_line(scenarios: dict[str, Scenario]) -> None:
    morning = scenarios["Morning health checks"]
    assert (morning.feature, morning.line) == ("features/daily-operations/health-checks.feature", 6)
    assert [(c.line, c.text) for c in morning.commands] == [
        (7, "kubectl get pods -n edi"),
        (8, "kubectl exec -n edi deployment/bots-webserver -- df -h /home/bots/.bots"),
    ]


def test_a_docstring_step_is_split_like_a_runbook_block(scenarios: dict[str, Scenario]) -> None:
    script = scenarios["The quick status script reports a healthy system"]
    assert [c.line for c in script.commands] == [17, 18, 19]
    backup = scenarios["Install the nightly backup CronJob"]
    assert [(c.line, c.summary) for c in backup.commands] == [(8, "kubectl apply -f - <<EOF ... (19 lines)")]


def test_tags_of_the_feature_apply_to_its_scenarios(scenarios: dict[str, Scenario]) -> None:
    assert scenarios["Morning health checks"].slugs == {"daily-operations", "health-checks"}
    assert scenarios["Dump the database by hand"].slugs == {"database-backup"}


def test_a_scenario_outline_runs_each_examples_row(scenarios: dict[str, Scenario]) -> None:
    outline = scenarios["Scale the webserver to <replicas> replicas"]
    assert [c.text for c in outline.commands] == [
        "kubectl scale deployment/bots-webserver -n edi --replicas=5",
        "kubectl scale deployment/bots-webserver -n edi --replicas=2",
    ]


def test_a_malformed_feature_is_reported_with_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path / "broken.feature",
        """
        Feature: Broken
          Scenario: No keyword
            When the operator runs "kubectl get pods -n edi"
            this line is not a step
        """,
    )
    with pytest.raises(CoverageError, match=r"broken\.feature:4: .*\(this line is not a step\)"):
        load_scenarios(tmp_path, display_root=tmp_path)


def test_a_docstring_step_without_a_docstring_is_reported(tmp_path: Path) -> None:
    write(
        tmp_path / "empty.feature",
        """
        Feature: Empty
          Scenario: Nothing to run
            When the operator runs:
            Then nothing happens
        """,
    )
    with pytest.raises(CoverageError, match=r'empty\.feature:3: step "the operator runs:" has no docstring'):
        load_scenarios(tmp_path, display_root=tmp_path)


def test_a_missing_features_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CoverageError, match="features folder .* does not exist; pass --features PATH"):
        load_scenarios(tmp_path / "features")


# --- coverage ---------------------------------------------------------------------------------------


def test_a_command_run_by_a_scenario_tagged_for_its_section_is_covered(report: Report) -> None:
    row = row_of(report, "health-checks", 11)
    assert (row.status, names(row.scenarios)) == ("covered", ["Morning health checks"])


def test_a_command_in_two_sections_is_covered_in_each_by_that_sections_scenario(report: Report) -> None:
    health, outage = row_of(report, "health-checks", 11), row_of(report, "service-outage", 129)
    assert names(health.scenarios) == ["Morning health checks"]
    assert names(health.elsewhere) == ["Pods are listed during an outage"]
    assert names(outage.scenarios) == ["Pods are listed during an outage"]


def test_a_command_run_only_for_another_section_is_covered_elsewhere_not_drift(report: Report) -> None:
    row = row_of(report, "verify-1", 68)
    assert row.status == "uncovered"
    tagged_elsewhere = row_of(report, "verify", 52)
    assert tagged_elsewhere.status == "covered", "verify is a subsection of restart-a-service, whose tag covers it"
    drifted = {c.text for _, c in report.drift}
    assert "kubectl get pods -n edi -l component=webserver" not in drifted


def test_a_scenario_tag_covers_the_subsections_of_its_section(report: Report) -> None:
    row = row_of(report, "verify", 52)
    assert names(row.scenarios) == ["Restart the webserver"]


def test_commands_match_after_the_environments_substitutions(report: Report) -> None:
    dump = row_of(report, "database-backup", 117)
    assert (dump.status, names(dump.scenarios)) == ("covered", ["Dump the database by hand"])


def test_a_heredoc_script_and_placeholders_are_covered(report: Report) -> None:
    assert row_of(report, "database-backup", 94).status == "covered"
    assert [row_of(report, "quick-status-check", line).status for line in (27, 30, 32)] == ["covered"] * 3
    assert row_of(report, "manual-engine-run", 85).status == "covered"


def test_a_command_no_scenario_runs_is_uncovered(report: Report) -> None:
    row = row_of(report, "service-outage", 135)
    assert (row.command.text, row.status, row.scenarios, row.elsewhere) == (
        "systemctl status mysql",
        "uncovered",
        [],
        [],
    )


def test_a_scenario_command_the_runbook_does_not_contain_is_drift(report: Report) -> None:
    assert [(s.feature, c.line, c.text) for s, c in report.drift] == [
        ("features/backup-and-restore/database-backup.feature", 40, "kubectl get pods -n edi -o wide"),
        ("features/drift/stray-scenarios.feature", 10, "kubectl delete pod -n edi -l component=logrotate"),
        ("features/drift/stray-scenarios.feature", 14, "kubectl get nodes"),
    ]


def test_tags_naming_no_section_and_untagged_scenarios_are_drift_too(report: Report) -> None:
    assert [(s.name, tag) for s, tag in report.unknown_tags()] == [
        ("A procedure the runbook no longer has", "@runbook:rotate-the-logs")
    ]
    assert names(report.untagged()) == ["A scenario without a runbook tag"]


def test_overall_coverage_counts_commands_covered_in_their_own_section(report: Report) -> None:
    assert (report.covered, len(report.rows), report.percent) == (15, 21, 71.4)


# --- last-run results -------------------------------------------------------------------------------

RESULT_FEATURE = """
    Feature: Results
      Scenario: Passes
        When the operator runs "kubectl get pods -n edi"
        Then it works

      Scenario: Fails
        When the operator runs "kubectl get nodes"
        Then it fails

      Scenario: Skips in a step
        When the operator runs "kubectl get ns"
        Then it skips

      @destructive
      Scenario: Refused before it starts
        When the operator runs "kubectl delete ns edi"
        Then it works

      Scenario Outline: One row fails
        When the operator runs "kubectl scale deployment/bots-webserver -n edi --replicas=<n>"
        Then row <n> <outcome>

        Examples:
          | n | outcome |
          | 1 | works   |
          | 2 | fails   |
    """

RESULT_STEPS = """
    import pytest
    from pytest_bdd import parsers, scenarios, then, when

    scenarios("features")

    @pytest.fixture(autouse=True)
    def refuse_destructive(request):
        if request.node.get_closest_marker("destructive"):
            pytest.skip("destructive scenarios need game-day mode")

    @when(parsers.re(r'the operator runs "(?P<command>.*)"'))
    def runs(command):
        pass

    @then(parsers.re(r"(row \\d+ )?it works|row \\d+ works"))
    def works():
        pass

    @then(parsers.re(r"it fails|row \\d+ fails"))
    def fails():
        raise AssertionError("the runbook command did not do what it says")

    @then("it skips")
    def skips():
        pytest.skip("not on this environment")
    """


@pytest.fixture(scope="module")
def pytest_bdd_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real pytest-bdd run writing Cucumber JSON, so the reader is pinned to the format it really writes."""
    root = tmp_path_factory.mktemp("run")
    write(root / "features" / "results" / "results.feature", RESULT_FEATURE)
    write(root / "test_results.py", RESULT_STEPS)
    write(root / "pytest.ini", "[pytest]\nmarkers =\n    destructive: changes the cluster\n")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--cucumberjson=cucumber.json", "-q"]
    run = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, check=False)
    assert (root / "cucumber.json").exists(), f"pytest-bdd wrote no Cucumber JSON:\n{run.stdout}\n{run.stderr}"
    return root


def test_results_map_each_scenario_to_passed_failed_skipped_or_not_run(pytest_bdd_run: Path) -> None:
    scenarios = load_scenarios(pytest_bdd_run / "features", display_root=pytest_bdd_run)
    assert load_results(pytest_bdd_run / "cucumber.json", scenarios)
    assert {s.name: s.result for s in scenarios} == {
        "Passes": "passed",
        "Fails": "failed",
        "Skips in a step": "skipped",
        "Refused before it starts": "not run",
        "One row fails": "failed",
    }


def test_a_missing_results_file_means_not_run_yet(tmp_path: Path) -> None:
    scenarios = load_scenarios(FEATURES)
    assert not load_results(tmp_path / "cucumber.json", scenarios)
    assert {s.result for s in scenarios} == {"not run"}


def test_an_unreadable_results_file_says_to_run_again(tmp_path: Path) -> None:
    broken = write(tmp_path / "cucumber.json", "[{")
    with pytest.raises(CoverageError, match="run the suite again .* or delete it"):
        load_results(broken, load_scenarios(FEATURES))


def test_a_command_shows_the_worst_result_of_the_scenarios_that_ran_it(report: Report) -> None:
    row = row_of(report, "health-checks", 11)
    assert row.result == "not run"
    row.scenarios[0].result = "failed"
    try:
        assert (row.result, row_of(report, "health-checks", 14).result) == ("failed", "failed")
    finally:
        row.scenarios[0].result = "not run"


# --- the command line and the written reports -------------------------------------------------------


def cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="edirunbook")
    coverage.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["coverage", *argv])


def run_cli(tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    args = cli(
        "--runbook", str(DATA / "runbook.md"), "--features", str(FEATURES), "--env", "kind",
        "--environments", str(DATA / "environments"), "--out", str(tmp_path / "reports"),
        "--results", str(tmp_path / "cucumber.json"), *extra,
    )  # fmt: skip
    code = args.func(args)
    written = json.loads((tmp_path / "reports" / "coverage.json").read_text(encoding="utf-8"))
    return code, written, (tmp_path / "reports" / "coverage.md").read_text(encoding="utf-8")


def test_the_defaults_are_the_projects_paths() -> None:
    args = cli()
    assert (args.runbook, args.features, args.env, args.out, args.results, args.min_coverage) == (
        Path("docs/runbook.md"), Path("features"), "kind", Path("reports"), Path("reports/cucumber.json"), 0.0,
    )  # fmt: skip


def test_coverage_below_the_minimum_exits_1_and_at_or_above_exits_0(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "--min-coverage", "71.5")[0] == 1
    assert run_cli(tmp_path, "--min-coverage", "71.4")[0] == 0


def test_the_minimum_is_compared_exactly_not_after_rounding(report: Report) -> None:
    assert report.percent == 71.4
    assert report.meets(71.4)
    assert not report.meets(71.43), "15 of 21 is 71.428...%, below 71.43% even though both show as 71.4%"


def test_a_runbook_without_commands_proves_nothing(tmp_path: Path) -> None:
    runbook_path = write(tmp_path / "prose.md", "# Escalation\n\nCall the on-call engineer.\n")
    empty = build_report(parse_runbook(runbook_path), [], {}, "kind", None)
    assert (empty.percent, empty.meets(0), empty.meets(1)) == (0.0, True, False)


def test_a_minimum_that_is_not_a_percentage_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli("--min-coverage", "180")
    assert exit_info.value.code == 2
    assert "'180' is not a percentage between 0 and 100" in capsys.readouterr().err


def test_the_terminal_shows_the_table_uncovered_commands_and_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(tmp_path, "--min-coverage", "80")
    out = capsys.readouterr().out
    assert "    Health Checks                      2        2    100%  1 not run" in out
    assert "Overall                               21       15   71.4%" in out
    assert "    line 135: systemctl status mysql" in out
    assert "    line 156: rate(bots_errors_total[5m]) / rate(bots_transactions_total[5m]) (PromQL)" in out
    assert "features/drift/stray-scenarios.feature:10 'A procedure the runbook no longer has'" in out
    assert "    line 162: an unlabelled block, not shell or PromQL (not counted)" in out
    assert "\nCoverage 71.4% (15 of 21 commands) is below the minimum 80%.\n" in out


def test_the_json_report_follows_the_documented_schema(tmp_path: Path) -> None:
    _, written, _ = run_cli(tmp_path, "--min-coverage", "80")
    assert written["summary"] == {
        "commands": 21, "covered": 15, "elsewhere": 0, "uncovered": 6, "percent": 71.4, "meets_minimum": False,
    }  # fmt: skip
    assert (written["env"], written["results"], written["min_coverage"]) == ("kind", None, 80.0)
    health = next(s for s in written["sections"] if s["slug"] == "health-checks")
    assert health["commands"][0] == {
        "line": 11, "text": "kubectl get pods -n edi", "source": "kubectl get pods -n edi", "note": "Check pod status",
        "heredoc": False, "inline": False, "language": "shell", "status": "covered", "result": "not run",
        "scenarios": [{"feature": health["scenarios"][0]["feature"], "line": 6, "name": "Morning health checks",
                       "result": "not run"}],
        "elsewhere": [{"feature": written["drift"]["untagged_scenarios"][0]["feature"], "line": 4,
                       "name": "Pods are listed during an outage", "result": "not run"}],
    }  # fmt: skip
    assert (health["commands_total"], health["covered"], health["percent"]) == (2, 2, 100.0)
    queries = next(s for s in written["sections"] if s["slug"] == "prometheus-queries")
    assert (queries["percent"], queries["non_executable_blocks"]) == (0.0, [])
    assert [(c["line"], c["text"], c["language"], c["status"]) for c in queries["commands"]] == [
        (156, "rate(bots_errors_total[5m])/rate(bots_transactions_total[5m])", "promql", "uncovered")
    ]
    contact = next(s for s in written["sections"] if s["slug"] == "contact-information")
    assert contact["non_executable_blocks"] == [{"line": 162, "language": "", "lines": 1}]
    assert set(written["drift"]) == {"not_in_runbook", "not_run", "unknown_tags", "untagged_scenarios"}
    not_run = written["drift"]["not_run"]
    assert {"section": "service-outage", "line": 135, "command": "systemctl status mysql",
            "language": "shell"} in not_run
    assert {"section": "prometheus-queries", "line": 156, "language": "promql",
            "command": "rate(bots_errors_total[5m])/rate(bots_transactions_total[5m])"} in not_run
    assert {d["language"] for d in written["drift"]["not_in_runbook"]} == {"shell"}


def test_the_markdown_report_has_a_table_per_section_and_links_repeated_titles(tmp_path: Path) -> None:
    _, _, markdown = run_cli(tmp_path)
    assert markdown.startswith(f"# Runbook coverage: `{DATA / 'runbook.md'}`\n\nCoverage 71.4% (15 of 21 commands)")
    assert "| [Verify](#verify) | 1 | 1 | 100% | 1 not run |" in markdown
    assert "| [Verify](#verify-1) | 1 | 0 | 0% |  |" in markdown
    assert "\n## Quick Status Check\n" in markdown
    assert '`curl -sf https://bots-edi.pminc.me/health/ping && echo "✓ Healthy" \\|\\| echo "✗ Unhealthy"`' in markdown
    query_row = "| 156 | `rate(bots_errors_total[5m]) / rate(bots_transactions_total[5m])` (PromQL) | uncovered |"
    assert query_row in markdown
    assert "Not shell or PromQL, not counted: line 162, an unlabelled block." in markdown


def test_the_cli_applies_the_substitutions_of_the_environments_env_yaml(tmp_path: Path) -> None:
    _, written, _ = run_cli(tmp_path)
    backup = next(s for s in written["sections"] if s["slug"] == "database-backup")
    assert next(c for c in backup["commands"] if c["line"] == 117)["status"] == "covered"
    write(tmp_path / "environments" / "bare" / "env.yaml", "type: kind\n")
    _, written, _ = run_cli(tmp_path, "--env", "bare", "--environments", str(tmp_path / "environments"))
    backup = next(s for s in written["sections"] if s["slug"] == "database-backup")
    assert next(c for c in backup["commands"] if c["line"] == 117)["status"] == "uncovered"


def test_an_unknown_environment_is_a_config_error_for_the_cli_to_print(tmp_path: Path) -> None:
    args = cli("--runbook", str(DATA / "runbook.md"), "--features", str(FEATURES), "--env", "k3d",
               "--environments", str(DATA / "environments"), "--out", str(tmp_path))
    with pytest.raises(ConfigError, match=r"unknown environment 'k3d': .*choose one of kind \(ENV=NAME"):
        args.func(args)


def test_a_missing_runbook_is_a_coverage_error_for_the_cli_to_print(tmp_path: Path) -> None:
    args = cli("--runbook", str(tmp_path / "none.md"), "--out", str(tmp_path))
    with pytest.raises(CoverageError, match="does not exist"):
        args.func(args)


def test_a_command_expected_to_fail_still_counts_as_run(tmp_path: Path) -> None:
    write(tmp_path / "ops" / "outage.feature", """@runbook:database-connection-loss
Feature: Outage
  Scenario: The database is down
    When the operator runs "kubectl exec -n edi deployment/bots-webserver -- nc -zv kona.db.pminc.me 3306", which fails
""")
    scenarios = load_scenarios(tmp_path)
    commands = [c.text for s in scenarios for c in s.commands]
    assert commands == ["kubectl exec -n edi deployment/bots-webserver -- nc -zv kona.db.pminc.me 3306"]


def test_follow_open_host_and_terminal_steps_carry_runbook_commands(tmp_path: Path) -> None:
    write(tmp_path / "ops" / "forms.feature", """@runbook:view-logs
Feature: Forms
  Scenario: Every step form that runs a command
    When the operator follows "kubectl logs -n edi -l component=webserver -f" until it shows "GET /health"
    And the operator opens "https://bots-edi.pminc.me/admin/" in a browser and logs in
    And the operator runs "systemctl status mysql" on the database server
    And the operator runs "kubectl exec -it -n edi deployment/bots-webserver -- bash" in a terminal and types:
      | typed                    | shows            |
      | python manage.py dbshell | MariaDB          |
      | SELECT COUNT(*) FROM ta; | COUNT            |
""")
    [scenario] = load_scenarios(tmp_path)
    assert [(c.line, c.text, c.typed) for c in scenario.commands] == [
        (4, "kubectl logs -n edi -l component=webserver -f", False),
        (5, "open https://bots-edi.pminc.me/admin/", False),
        (6, "systemctl status mysql", False),
        (7, "kubectl exec -it -n edi deployment/bots-webserver -- bash", False),
        (7, "python manage.py dbshell", True),
        (7, "SELECT COUNT(*) FROM ta;", True),
    ]


def test_what_is_typed_counts_where_the_runbook_has_it_and_is_never_drift(tmp_path: Path) -> None:
    runbook = write(tmp_path / "runbook.md", """# Runbook
## Access Database
```bash
kubectl exec -it -n edi deployment/bots-webserver -- bash
python manage.py dbshell
```
""")
    write(tmp_path / "features" / "db.feature", """@runbook:access-database
Feature: Database
  Scenario: Interactive
    When the operator runs "kubectl exec -it -n edi deployment/bots-webserver -- bash" in a terminal and types:
      | typed                    | shows   |
      | python manage.py dbshell | MariaDB |
      | SELECT 1;                | 1       |
""")
    report = build_report(parse_runbook(runbook), load_scenarios(tmp_path / "features"), {}, "kind", None)
    assert (report.covered, report.drift) == (2, [])


# --- PromQL queries -----------------------------------------------------------------------------------

QUERY_RUNBOOK = """# Runbook
## Monitoring
### Prometheus Queries

```promql
# Transaction rate
rate(bots_transactions_total[5m])

# Error rate
rate(bots_errors_total[5m]) / rate(bots_transactions_total[5m])

# Processing time
histogram_quantile(0.95, rate(bots_processing_duration_seconds_bucket[5m]))

# Pod CPU usage
container_cpu_usage_seconds_total{namespace="edi",pod=~"bots-.*"}

# Pod memory
container_memory_working_set_bytes{namespace="edi",pod=~"bots-.*"}
```

### Restart a Service

```bash
kubectl get pods -n edi
```
"""


def query_report(tmp_path: Path, feature: str) -> Report:
    runbook = write(tmp_path / "runbook.md", QUERY_RUNBOOK)
    write(tmp_path / "features" / "monitoring.feature", feature)
    return build_report(parse_runbook(runbook), load_scenarios(tmp_path / "features"), SUBSTITUTIONS, "kind", None)


def test_the_query_step_forms_are_the_shared_constants() -> None:
    assert shell.OPERATOR_QUERIES_BLOCK == "the operator queries Prometheus:"
    step = shell.OPERATOR_QUERIES.fullmatch('the operator queries Prometheus "up{job="bots"} > 0"')
    assert step is not None and step["query"] == 'up{job="bots"} > 0'
    assert all(form.command('the operator queries Prometheus "up"') is None for form in shell.COMMAND_STEPS)


def test_both_query_step_forms_cover_the_runbooks_promql_queries(tmp_path: Path) -> None:
    report = query_report(tmp_path, '''@runbook:prometheus-queries
Feature: Prometheus
  Scenario: The runbook's queries answer
    When the operator queries Prometheus:
      """
      # Transaction rate
      rate(bots_transactions_total[5m])

      # Error rate, written over three lines
      rate(bots_errors_total[5m]) / rate(
        bots_transactions_total[5m]
      )
      histogram_quantile(0.95,rate(bots_processing_duration_seconds_bucket[5m]))
      """
    And the operator queries Prometheus "container_cpu_usage_seconds_total{namespace="edi", pod=~"bots-.*"}"
    And the operator queries Prometheus "container_memory_working_set_bytes{namespace="edi",pod=~"bots-.*"}"
''')
    [scenario] = report.scenarios
    assert [(c.line, c.language) for c in scenario.commands] == [
        (7, "promql"), (10, "promql"), (13, "promql"), (15, "promql"), (16, "promql"),
    ]  # fmt: skip
    assert scenario.commands[1].summary == "rate(bots_errors_total[5m]) / rate( bots_transactions_total[5m] )"
    queries = [row for row in report.rows if row.section.slug == "prometheus-queries"]
    assert [(row.command.line, row.status) for row in queries] == [
        (7, "covered"), (10, "covered"), (13, "covered"), (16, "covered"), (19, "covered"),
    ]  # fmt: skip
    assert report.drift == []


def test_a_query_the_runbook_does_not_have_is_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = query_report(tmp_path, '''@runbook:prometheus-queries
Feature: Prometheus
  Scenario: A query of its own
    When the operator queries Prometheus "rate(bots_transactions_total[5m])"
    And the operator queries Prometheus "rate(bots_transactions_total[1h])"
''')
    assert [(c.line, c.text, c.language) for _, c in report.drift] == [
        (5, "rate(bots_transactions_total[1h])", "promql")
    ]
    written = coverage.as_json(report, 0)
    assert [(d["line"], d["language"]) for d in written["drift"]["not_in_runbook"]] == [(5, "promql")]
    assert "monitoring.feature:5 'A query of its own': rate(bots_transactions_total[1h]) (PromQL)" in coverage.as_text(
        report, 0
    )


def test_a_shell_command_with_a_querys_text_covers_no_query_and_a_query_no_command(tmp_path: Path) -> None:
    report = query_report(tmp_path, '''@runbook:prometheus-queries @runbook:restart-a-service
Feature: Mixed up
  Scenario: Each in the other's step
    When the operator runs "rate(bots_transactions_total[5m])"
    And the operator queries Prometheus "kubectl get pods -n edi"
''')
    assert {row.command.text: row.status for row in report.rows}["rate(bots_transactions_total[5m])"] == "uncovered"
    assert {row.command.text: row.status for row in report.rows}["kubectl get pods -n edi"] == "uncovered"
    assert [(c.summary, c.language) for _, c in report.drift] == [
        ("rate(bots_transactions_total[5m])", "shell"),
        ("kubectl get pods -n edi", "promql"),
    ]


def same_query(runbook_text: str, scenario_text: str, substitutions: dict[str, str] | None = None) -> bool:
    matcher = Matcher(substitutions or {})
    normalised = [normalise_promql(text) for text in (runbook_text, scenario_text)]
    return Matcher.same(*(matcher.forms(text, "promql") for text in normalised))


def test_queries_match_after_removing_whitespace_outside_strings_only() -> None:
    assert same_query("rate(x[5m]) / rate(y[5m])", "rate(x[5m])/rate(y[5m])")
    assert same_query('sum by (job) (up{job="bots"})', 'sum by(job)(up{job = "bots"})')
    assert not same_query('up{job="bots edi"}', 'up{job="botsedi"}')
    assert not same_query("rate(x[5m])", "rate(x[1m])")


def test_queries_match_after_the_substitutions_but_have_no_wildcards() -> None:
    assert same_query('up{instance="kona.db.pminc.me:3306"}', 'up{instance="bots-mysql:3306"}', SUBSTITUTIONS)
    assert not same_query("up<threshold>0", "up<5>0"), "< and > are comparisons in PromQL, not a placeholder"
    assert same("kubectl logs -n edi <pod-name>", "kubectl logs -n edi bots-webserver-7d9f"), "shell still has them"


def test_a_query_block_step_without_a_docstring_names_the_inline_query_form(tmp_path: Path) -> None:
    write(tmp_path / "empty.feature", """
        Feature: Empty
          Scenario: Nothing to query
            When the operator queries Prometheus:
        """)
    with pytest.raises(CoverageError, match=r'has no docstring; .*the operator queries Prometheus "\.\.\."'):
        load_scenarios(tmp_path, display_root=tmp_path)
