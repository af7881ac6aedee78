"""`--shard i/n` cuts the selected scenarios into n parts balanced by recorded durations, the same on every machine."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from edirunbook.cli import main
from edirunbook.report.shard import (
    DURATIONS_FILE,
    FORM,
    Shard,
    load_durations,
    parse_shard,
    partition,
    update_durations,
    weights,
)

pytest_plugins = ["pytester"]

STEPS = '''
from pytest_bdd import given, scenarios, then

scenarios("features")


@given("the app answers")
def _():
    pass


@then("it fails")
def _():
    raise AssertionError("the pods never became Ready: 0/2 ready")
'''
# @shipped first, as tests/scenarios/conftest.py orders them
SHIPPED_FIRST = '''
pytest_plugins = ["edirunbook.report"]


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker("shipped") is None)
'''


def shards_of(keys: list[str], recorded: dict[str, float], count: int) -> list[list[str]]:
    parts = partition(keys, recorded, count)
    return [[key for key, part in zip(keys, parts, strict=True) if part == p] for p in range(count)]


def loads(shards: list[list[str]], recorded: dict[str, float]) -> list[float]:
    return [sum(recorded[key] for key in shard) for shard in shards]


def run_times(seed: int, size: int) -> dict[str, float]:
    """Scenario durations shaped like a real run's: many short ones, a few of minutes."""
    rng = random.Random(seed)
    return {f"features/f{rng.randrange(9)}.feature::scenario {i:02d}": round(rng.paretovariate(0.8) * 3, 1)
            for i in range(size)}


# --- the partition --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", range(8))
def test_every_scenario_is_in_exactly_one_shard_and_no_shard_is_far_from_the_ideal(seed: int, count: int) -> None:
    recorded = run_times(seed, 40)
    keys = list(recorded)
    shards = shards_of(keys, recorded, count)
    assert sorted(key for shard in shards for key in shard) == sorted(keys)
    assert all(shards), "a shard is empty"
    ideal = sum(recorded.values()) / count
    assert max(loads(shards, recorded)) <= ideal + max(recorded.values())


def test_the_longest_scenario_goes_first_each_onto_the_least_loaded_shard() -> None:
    recorded = {"a": 5.0, "b": 4.0, "c": 3.0, "d": 3.0, "e": 2.0, "f": 1.0}
    assert shards_of(list(recorded), recorded, 2) == [["a", "d", "f"], ["b", "c", "e"]]
    assert loads(shards_of(list(recorded), recorded, 2), recorded) == [9.0, 9.0]


def test_the_shards_do_not_depend_on_the_order_scenarios_are_collected_in() -> None:
    recorded = run_times(3, 30)
    keys = list(recorded)
    expected = dict(zip(keys, partition(keys, recorded, 4), strict=True))
    for seed in range(5):
        shuffled = keys[:]
        random.Random(seed).shuffle(shuffled)
        assert dict(zip(shuffled, partition(shuffled, recorded, 4), strict=True)) == expected


def test_equal_durations_are_dealt_in_key_order() -> None:
    keys = ["f::e", "f::b", "f::d", "f::a", "f::c", "f::f"]
    # in key order: a, b, c to parts 1, 2, 3, then d, e, f; each part keeps the collection's order
    assert shards_of(keys, {}, 3) == [["f::d", "f::a"], ["f::e", "f::b"], ["f::c", "f::f"]]


def test_a_scenario_without_a_recorded_duration_weighs_the_median() -> None:
    assert weights(["a", "b", "c", "new"], {"a": 10.0, "b": 2.0, "c": 4.0}) == [10.0, 2.0, 4.0, 4.0]
    assert weights(["a", "b"], {}) == [1.0, 1.0]


def test_scenarios_of_no_duration_still_fill_every_shard() -> None:
    recorded = {f"k{i}": 0.0 for i in range(4)}
    assert [len(shard) for shard in shards_of(list(recorded), recorded, 4)] == [1, 1, 1, 1]


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "1/0", "0/0", "1/3/4", "-1/3", "1.5/3", "1 of 3", "/3", "1/"])
def test_a_malformed_shard_says_the_form(text: str) -> None:
    with pytest.raises(pytest.UsageError) as raised:
        parse_shard(text)
    assert FORM in str(raised.value) and "\n" not in str(raised.value)
    assert FORM == "SHARD=i/n, 1 <= i <= n"


def test_a_shard_is_i_of_n() -> None:
    assert parse_shard("1/3") == Shard(1, 3) and parse_shard(" 3/3 ") == Shard(3, 3) and str(Shard(2, 5)) == "2/5"


# --- in a pytest run ------------------------------------------------------------------------------------------------


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
                     "filterwarnings = ignore:Module already imported:pytest.PytestAssertRewriteWarning\n")
    pytester.makeconftest(SHIPPED_FIRST)
    pytester.makepyfile(test_steps=STEPS)
    return pytester


def scenarios(pytester: pytest.Pytester, name: str, tagged: dict[str, str]) -> None:
    """A feature `name` with one passing scenario per entry: scenario name -> its tags."""
    body = "".join(f"\n  {tags}\n  Scenario: {scenario}\n    Given the app answers\n"
                   for scenario, tags in tagged.items())
    path = pytester.path / "features" / f"{name}.feature"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"Feature: {name}\n{body}", encoding="utf-8")


def recorded(pytester: pytest.Pytester, durations: dict[str, float]) -> None:
    path = pytester.path / "tests" / "scenarios" / "durations.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(durations), encoding="utf-8")


def ran(pytester: pytest.Pytester, report_dir: str) -> list[str]:
    summary = json.loads((pytester.path / report_dir / "summary.json").read_text(encoding="utf-8"))
    return [s["scenario"] for s in summary["scenarios"] if s["result"] == "passed"]


def test_the_shards_run_every_scenario_the_tags_select_once_with_shipped_ones_first(suite: pytest.Pytester) -> None:
    scenarios(suite, "ops", {"Long": "@slow", "Medium": "", "Short": "", "Tiny": "", "Also tiny": "@shipped",
                             "Not selected": "@destructive"})
    scenarios(suite, "deploy", {"Reads the deployment": "@shipped", "Quick": ""})
    recorded(suite, {"features/ops.feature::Long": 100.0, "features/ops.feature::Medium": 50.0,
                     "features/ops.feature::Short": 20.0, "features/ops.feature::Tiny": 1.0,
                     "features/ops.feature::Also tiny": 1.0, "features/deploy.feature::Reads the deployment": 40.0})
    runs = []
    for i in (1, 2, 3):
        result = suite.runpytest("--tags", "not destructive", "--shard", f"{i}/3", "--report-dir", f"shard-{i}")
        assert result.ret == pytest.ExitCode.OK
        runs.append(ran(suite, f"shard-{i}"))
    # longest first onto the least loaded: Long 100 -> 1, Medium 50 -> 2, Reads 40 -> 3, Quick (no record: the
    # median, 30) -> 3, Short 20 -> 2, Also tiny 1 -> 2 (70 = 70, as many scenarios: the lower), Tiny 1 -> 3
    assert runs == [["Long"], ["Also tiny", "Medium", "Short"], ["Reads the deployment", "Quick", "Tiny"]]
    result.stdout.fnmatch_lines(["note: shard 3/3: 3 of 7 scenarios, about 1m11s by tests/scenarios/durations.json "
                                 "(1 without a recorded duration)"])


def test_the_summary_says_which_shard_ran(suite: pytest.Pytester) -> None:
    scenarios(suite, "ops", {"One": "", "Two": ""})
    suite.runpytest("--shard", "2/2").assert_outcomes(passed=1, deselected=1)
    summary = json.loads((suite.path / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["shard"] == "2/2"
    suite.runpytest().assert_outcomes(passed=2)
    assert json.loads((suite.path / "reports" / "summary.json").read_text(encoding="utf-8"))["run"]["shard"] is None


def test_more_shards_than_scenarios_is_a_usage_error(suite: pytest.Pytester) -> None:
    scenarios(suite, "ops", {"One": "", "Two": "", "Three": "@slow"})
    result = suite.runpytest("--tags", "not slow", "--shard", "3/3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --shard 3/3: only 2 scenarios are selected, so shard 3/3 would be empty; "
                                 "use at most 2 shards (SHARD=i/n, 1 <= i <= n)"])


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "1/0"])
def test_a_malformed_shard_stops_the_run_with_the_form(suite: pytest.Pytester, text: str) -> None:
    scenarios(suite, "ops", {"One": ""})
    result = suite.runpytest("--shard", text)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --shard '{text}' is not a shard: write SHARD=i/n, 1 <= i <= n *"])


def test_a_tag_selection_that_matches_nothing_still_says_so(suite: pytest.Pytester) -> None:
    scenarios(suite, "ops", {"One": ""})
    result = suite.runpytest("--tags", "slow", "--shard", "1/2")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["no scenario matched the tags 'slow'*"])


def test_an_unreadable_durations_file_is_a_usage_error(suite: pytest.Pytester) -> None:
    scenarios(suite, "ops", {"One": "", "Two": ""})
    recorded(suite, {"features/ops.feature::One": "long"})  # type: ignore[dict-item]
    result = suite.runpytest("--shard", "1/2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: the durations file * must map scenario keys to seconds *'features/ops*"])


# --- durations update -----------------------------------------------------------------------------------------------


def summary_of(tmp_path: Path, *scenarios: tuple[str, str, float | None]) -> Path:
    """A summary.json of a run of `scenarios`: (name, result, duration_s) in features/ops.feature."""
    data: dict[str, Any] = {"run": {}, "scenarios": [
        {"nodeid": f"test_steps.py::test_{name}", "feature_file": "features/ops.feature", "scenario": name,
         "result": result, "duration_s": seconds} for name, result, seconds in scenarios]}
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_runs_durations_become_the_recorded_ones_with_the_keys_shard_uses(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_plain="def test_plain():\n    pass\n")
    scenarios(suite, "ops", {"One": "", "Two": ""})
    suite.runpytest().assert_outcomes(passed=3)
    durations = suite.path / "tests" / "scenarios" / "durations.json"
    added, changed, dropped, written = update_durations(suite.path / "reports" / "summary.json", durations)
    assert (added, changed, dropped) == (3, 0, 0)
    assert sorted(written) == ["features/ops.feature::One", "features/ops.feature::Two", "test_plain.py::test_plain"]
    result = suite.runpytest("--shard", "1/2")
    assert "without a recorded duration" not in result.stdout.str()


def test_a_failed_or_unrun_scenario_keeps_its_recorded_duration_and_prune_drops_the_rest(tmp_path: Path) -> None:
    file = tmp_path / "durations.json"
    file.write_text(json.dumps({"features/ops.feature::A": 5.0, "features/ops.feature::B": 7.0,
                                "features/gone.feature::Old": 3.0}), encoding="utf-8")
    summary = summary_of(tmp_path, ("A", "passed", 12.34), ("B", "failed", 0.5), ("C", "not run", None))
    assert update_durations(summary, file)[:3] == (0, 1, 0)
    assert json.loads(file.read_text(encoding="utf-8")) == {
        "features/gone.feature::Old": 3.0, "features/ops.feature::A": 12.3, "features/ops.feature::B": 7.0}
    assert update_durations(summary, file, prune=True)[:3] == (0, 0, 1)
    assert list(json.loads(file.read_text(encoding="utf-8"))) == ["features/ops.feature::A", "features/ops.feature::B"]


def test_durations_update_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = summary_of(tmp_path, ("A", "passed", 2.0))
    file = tmp_path / "d" / "durations.json"
    assert main(["durations", "update", str(summary), "--file", str(file)]) == 0
    assert capsys.readouterr().out == f"{file}: 1 scenarios (1 added, 0 changed, 0 dropped)\n"
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert main(["durations", "update", str(tmp_path / "bad.json"), "--file", str(file)]) == 2
    assert capsys.readouterr().err.startswith(f"error: cannot read scenario durations from {tmp_path / 'bad.json'}")


def test_the_committed_durations_file_is_readable() -> None:
    committed = load_durations(Path(__file__).parents[2] / DURATIONS_FILE)
    assert committed and all(key.startswith("features/") and "::" in key for key in committed)
