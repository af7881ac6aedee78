"""The game day's settings, its scenario selection and its report (no cluster)."""
from __future__ import annotations

from pathlib import Path

import pytest

from edirunbook.environment import config
from edirunbook.errors import ConfigError
from edirunbook.gameday import report
from edirunbook.gameday.cli import GameDayScenario, game_day_scenarios, select


def _env(tmp_path: Path, live: str) -> Path:
    directory = tmp_path / "envs" / "stage"
    directory.mkdir(parents=True)
    (directory / "env.yaml").write_text(f"type: live\nnamespace: edi\nlive:\n{live}")
    return tmp_path / "envs"


def test_the_staging_environment_reads_as_a_live_one() -> None:
    staging = config.load("staging")
    assert staging.type == "live" and staging.live is not None
    assert staging.live.context == "kind-bots-staging" and "kind-bots-staging" in staging.live.allowlist


def test_the_kind_environment_has_no_live_settings() -> None:
    assert config.load("kind").live is None


@pytest.mark.parametrize(("live", "message"), [
    ("  production_patterns: ['(unclosed']\n", "not a regular expression"),
    ("  allowlist: kind-bots-staging\n", "live.allowlist must be a list"),
    ("  max_fault_seconds: 0\n", "max_fault_seconds must be a number of seconds"),
    ("  max_fill_megabytes: 1.5\n", "max_fill_megabytes must be a whole number"),
    ("  context: ''\n", "live.context must be the name"),
])
def test_a_live_setting_of_the_wrong_shape_is_refused(tmp_path: Path, live: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.load("stage", _env(tmp_path, live))


def test_every_game_day_scenario_is_tagged_and_its_faults_are_known() -> None:
    scenarios = game_day_scenarios()
    assert len(scenarios) >= 6
    assert all("gameday" in s.tags for s in scenarios)
    faults = {fault for s in scenarios for fault in s.faults}
    assert faults == {"the database unreachable", "every webserver pod deleted", "the webserver scaled to zero",
                      "a bad image rolled out", "the data volume filled past 90%", "a node drained"}
    assert all(s.faults for s in scenarios if "destructive" in s.tags)
    assert not any(s.faults for s in scenarios if "readonly" in s.tags)


def test_read_only_selection_and_a_one_node_cluster() -> None:
    scenarios = [GameDayScenario("look", frozenset({"gameday", "readonly"}), ()),
                 GameDayScenario("break", frozenset({"gameday", "destructive"}), ("x",)),
                 GameDayScenario("drain", frozenset({"gameday", "destructive", "multinode"}), ("a node drained",))]
    chosen, notes = select(scenarios, "readonly", nodes=1)
    assert [s.name for s in chosen] == ["look"] and notes == []
    chosen, notes = select(scenarios, "", nodes=1)
    assert [s.name for s in chosen] == ["look", "break"]
    assert notes == ["left out: drain (needs a second schedulable node; the cluster has 1)"]
    assert [s.name for s in select(scenarios, "", nodes=2)[0]] == ["look", "break", "drain"]


SUMMARY = {"run": {"started": "2026-12-01T10:00:00+00:00", "finished": "2026-12-01T10:20:00+00:00"},
           "totals": {"passed": 1, "failed": 1, "within target": 1},
           "scenarios": [
               {"nodeid": "t.py::test_scaled", "procedure": "Game day: scaled to zero", "result": "passed",
                "recovery_s": 42.5, "target": {"tag": "rto:15m", "low_s": None, "high_s": 900.0},
                "verdict": "within target", "failed_step": None},
               {"nodeid": "t.py::test_db", "procedure": "Game day: database | unreachable", "result": "failed",
                "recovery_s": None, "target": {"tag": "rto:5-30m", "low_s": 300.0, "high_s": 1800.0},
                "verdict": "failed",
                "failed_step": "Then the live deployment recovers within 30m", "error": "timed out"}]}
GAMEDAY = {"context": "kind-bots-staging", "server": "https://127.0.0.1:1", "namespace": "edi", "mode": "gameday",
           "scenarios": [
               {"scenario": "test_scaled", "timeline": [[0.0, "deployment healthy"], [1.0, "fault injected: x"],
                                                         [4.5, "detected by `kubectl get pods`"], [43.5, "recovered"]],
                "detected_by": "kubectl get pods", "by_hand": [], "not_as_written": ["Scale: no target"],
                "faults": [{"name": "scale", "description": "x", "ended_by": "the scenario", "rolled_back": True,
                            "events": [], "differences": []}]},
               {"scenario": "test_db", "timeline": [[0.0, "fault injected: policy"]], "detected_by": None,
                "by_hand": ["the database unreachable: kubectl delete networkpolicy p (no command)"],
                "not_as_written": [], "faults": []}],
           "end": {"differences_found": [], "restored_with": [], "still_different": [], "for_a_person": []}}


def test_the_report_has_the_recovery_table_the_timelines_and_what_was_done_by_hand() -> None:
    text = report.markdown(SUMMARY, GAMEDAY)
    assert "# Game day on kind-bots-staging, 2026-12-01" in text
    assert "| Game day: scaled to zero | passed | scale | `kubectl get pods` after 3.5s | 42.5s | 15m | " \
           "within target |" in text
    assert "Game day: database \\| unreachable | failed" in text
    assert "| +43.5s | recovered |" in text
    assert "- the database unreachable: kubectl delete networkpolicy p (no command)" in text
    assert "- Scale: no target" in text
    assert "- Game day: database | unreachable: Then the live deployment recovers within 30m" in text


def test_the_html_report_is_the_same_content(tmp_path: Path) -> None:
    import json

    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    (tmp_path / "gameday.json").write_text(json.dumps(GAMEDAY))
    written = report.write(tmp_path)
    page = (tmp_path / report.HTML).read_text()
    assert written.read_text().startswith("# Game day")
    assert "<h1>Game day on kind-bots-staging, 2026-12-01</h1>" in page
    assert "<td>Game day: database | unreachable</td>" in page and "<code>kubectl get pods</code>" in page
