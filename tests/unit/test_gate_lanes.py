"""`make verify LANES=n`: n kind environments side by side, each its own names, ports and records, one shard each."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest
import yaml

from edirunbook import addons
from edirunbook.environment import config
from edirunbook.errors import ConfigError
from edirunbook.gate import lanes


def test_lane_one_is_the_environment_as_env_yaml_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.LANE_VARIABLE, "1/3")
    monkeypatch.delenv("ENV", raising=False)
    first = config.load("kind")
    assert config.in_lanes() and config.lane_number() == 1
    assert (first.cluster_name, first.network, first.web_port, first.https_port, first.object_store_port) == \
        ("edirunbook", "edirunbook-kind", 18080, 18443, 18900)


def test_a_later_lane_has_its_own_cluster_network_and_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    first = config.load("kind")
    monkeypatch.setenv(config.LANE_VARIABLE, "3/3")
    third = config.load("kind")
    assert (third.cluster_name, third.network) == ("edirunbook-3", "edirunbook-kind-3")
    assert (third.web_port, third.https_port, third.object_store_port) == (18082, 18445, 18902)
    # the runbook's site is reached on this lane's HTTPS port; other substitutions are untouched
    assert first.substitutions["https://bots-edi.pminc.me"] == "https://bots-edi.pminc.me:18443"
    assert third.substitutions["https://bots-edi.pminc.me"] == "https://bots-edi.pminc.me:18445"
    assert third.substitutions["kona.db.pminc.me"] == first.substitutions["kona.db.pminc.me"]
    assert third.database == first.database  # the container is named after the cluster (database_env.spec_for)


def test_a_lane_variable_that_is_not_a_lane_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.LANE_VARIABLE, "second")
    with pytest.raises(ConfigError, match=r"EDIRUNBOOK_LANE='second' is not a lane: i/n"):
        config.load("kind")
    monkeypatch.delenv(config.LANE_VARIABLE)
    assert config.lane_number() == 1 and not config.in_lanes()


def test_a_lanes_cluster_config_maps_its_own_host_ports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edirunbook.environment.kind import KindEnvironment

    monkeypatch.setenv("EDIRUNBOOK_STATE", str(tmp_path))
    monkeypatch.setenv(config.LANE_VARIABLE, "2/2")
    env = KindEnvironment(config.load("kind"))
    text = env.rendered_cluster_config().read_text()
    ports = [mapping["hostPort"] for node in yaml.safe_load(text)["nodes"] for mapping in node["extraPortMappings"]]
    assert ports == [18081, 18444, 18901]
    assert env.node_container() == "edirunbook-2-control-plane"


def test_velero_publishes_its_store_on_the_lanes_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    velero = next(addon for addon in addons.ADDONS if addon.name == "velero")
    other = next(addon for addon in addons.ADDONS if addon.name != "velero")
    assert addons.object_store_patches(velero, 18900) == [] == addons.object_store_patches(other, 18901)
    patches = addons.object_store_patches(velero, 18901)
    assert patches[0]["target"] == {"kind": "BackupStorageLocation", "name": "default"}
    assert yaml.safe_load(patches[0]["patch"]) == [{"op": "replace", "path": "/spec/config/publicUrl",
                                                   "value": "http://127.0.0.1:18901"}]
    # the manifests' own URL is the one the default port replaces nothing in
    store = (Path(addons.__file__).parents[1] / "environments/kind/addons/velero/object-store.yaml").read_text()
    assert f"publicUrl: http://127.0.0.1:{addons.DEFAULT_OBJECT_STORE_PORT}" in store
    monkeypatch.setenv("EDIRUNBOOK_STATE", str(tmp_path))
    monkeypatch.setattr(addons, "module_dir", lambda *args: tmp_path)
    refs = {image: f"{image}:test" for image in velero.images}
    rendered = yaml.safe_load((addons.rendered_kustomization(velero, refs, patches) / "kustomization.yaml").read_text())
    assert rendered["patches"] == patches and rendered["resources"] == ["base"]


@pytest.mark.parametrize(("count", "shard", "env_type", "message"), [
    (0, "", "kind", r"LANES=0: run 1 to 4 lanes"),
    (9, "", "kind", r"LANES=9: run 1 to 4 lanes"),
    (2, "1/3", "kind", r"LANES=2 and SHARD=1/3 cannot be combined"),
    (2, "", "live", r"LANES=2 needs a kind environment \(this one is 'live'\)"),
])
def test_lanes_that_cannot_run_say_why(count: int, shard: str, env_type: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        lanes.check_count(count, shard, env_type)


def test_one_lane_is_the_plain_gate() -> None:
    lanes.check_count(1, "1/3", "live")  # nothing to refuse: no lanes at all


def test_each_lane_runs_its_shard_with_its_own_records_and_reports(tmp_path: Path) -> None:
    args = argparse.Namespace(tags="not @slow", source=None, keep=True, runbook=[Path("seed.md")])
    target = argparse.Namespace(name="reference")
    argv = lanes.child_argv(args, target, "kind", 2, 3, tmp_path)  # type: ignore[arg-type]
    assert argv[1:] == ["-m", "edirunbook", "gate", "run", "--target", "reference", "--env", "kind", "--shard",
                        "2/3", "--tags", "not @slow", "--report-dir", str(tmp_path / "lanes" / "2"),
                        "--runbook", "seed.md", "--keep"]
    first = lanes.child_environ(1, 3, {"EDIRUNBOOK_STATE": str(tmp_path)})
    second = lanes.child_environ(2, 3, {"EDIRUNBOOK_STATE": str(tmp_path)})
    assert (first[config.LANE_VARIABLE], first["EDIRUNBOOK_STATE"]) == ("1/3", str(tmp_path))
    assert (second[config.LANE_VARIABLE], second["EDIRUNBOOK_STATE"]) == ("2/3", str(tmp_path / "lanes" / "2"))


def test_kept_lanes_are_those_with_records(tmp_path: Path) -> None:
    for lane in (2, 3):
        (tmp_path / "lanes" / str(lane)).mkdir(parents=True)
    (tmp_path / "lanes" / "3" / "environment.json").write_text("{}")
    (tmp_path / "lanes" / "notes").mkdir()
    assert lanes.kept_lanes(tmp_path) == [(3, tmp_path / "lanes" / "3")]


def test_lanes_run_at_once_and_every_line_says_its_lane(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # each lane ends only once both have started (a marker file each, waited for with the suite's wait_for): they run
    # at once; a lane that ran alone would end in WaitTimeout, not with its exit code
    script = ("import pathlib, sys\n"
              "from edirunbook.waiting import Observation, wait_for\n"
              "lane, folder = sys.argv[1], pathlib.Path(sys.argv[2])\n"
              "print(f'started {lane}', flush=True)\n"
              "(folder / lane).touch()\n"
              "wait_for('both lanes started', lambda: Observation(all((folder / n).exists() for n in '12'),\n"
              "         str(sorted(p.name for p in folder.iterdir()))), timeout=30, interval=0.01)\n"
              "print(f'ended {lane}')\n"
              "sys.stdout.write('no newline')\n"
              "sys.exit(int(lane))\n")
    codes = lanes.run_lanes([[sys.executable, "-c", script, str(lane), str(tmp_path)] for lane in (1, 2)], [{}, {}])
    out = capsys.readouterr().out.splitlines()
    assert codes == [1, 2]
    assert sorted(out) == sorted(["[lane 1] started 1", "[lane 1] ended 1", "[lane 1] no newline",
                                  "[lane 2] started 2", "[lane 2] ended 2", "[lane 2] no newline"])
