"""The game day against a real "staging" cluster (make staging-up): every guard rail refusing, the dry run and the
read-only run changing nothing, a fault past its maximum duration, Ctrl-C and SIGTERM in the middle of a fault, and
a full game day with its report. `make gameday-proof` brings staging up, runs this, and takes it down.

Each run is `edirunbook gameday` as an operator starts it (a subprocess, KUBECONFIG the staging one); the
namespace's state is observed through the API before and after each, and must be equal.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from edirunbook import cluster, paths
from edirunbook.environment import config as env_config
from edirunbook.errors import StopWaiting
from edirunbook.gameday import faults, state
from edirunbook.waiting import Observation, wait_for

CONTEXT = "kind-bots-staging"
KUBECONFIG = paths.state_dir() / "staging" / "kubeconfig"
STAGING_ENV = paths.ENVIRONMENTS_DIR / "staging" / "env.yaml"
DB_SCENARIO = "runbook:database-connection-loss"


@pytest.fixture(scope="module")
def api() -> client.ApiClient:
    if not KUBECONFIG.exists():
        pytest.fail(f"no staging cluster: {KUBECONFIG} is missing. Run `make staging-up` first "
                    "(make gameday-proof does it).", pytrace=False)
    return cluster.connect(KUBECONFIG)


def _observe(api: client.ApiClient) -> state.Snapshot:
    return state.observe(client.AppsV1Api(api), client.BatchV1Api(api), client.CoreV1Api(api),
                         client.NetworkingV1Api(api), "edi")


@pytest.fixture
def unchanged(api: client.ApiClient) -> Iterator[None]:
    """The namespace after the test is as it was before (a refusal, a dry run, a rollback changed nothing), and
    the deployment healthy again: the next test's game day refuses to start on one that is not."""
    before = _observe(api)
    yield

    def same_and_healthy() -> Observation:
        left = [d.describe() for d in state.compare(before, _observe(api))]
        left += state.unhealthy(client.AppsV1Api(api), client.CoreV1Api(api), "edi",
                                ["bots-webserver", "bots-jobqueue"])
        return Observation(not left, "; ".join(left) or "equal and healthy")

    wait_for("the namespace to be as it was before the test, and healthy", same_and_healthy, timeout=300, interval=2)


def _environ(extra_envs: Path | None = None, kubeconfig: Path = KUBECONFIG) -> dict[str, str]:
    environ = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    for key in ("CONTEXT", "CONFIRM", "MODE", "TAGS", "ENV"):
        environ.pop(key, None)
    if extra_envs is not None:
        environ[env_config.ENVIRONMENTS_VARIABLE] = str(extra_envs)
    return environ


def _gameday(*args: str, env: str = "staging", extra_envs: Path | None = None, kubeconfig: Path = KUBECONFIG,
             report_dir: Path | None = None, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "edirunbook", "gameday", "--env", env, *args]
    if report_dir is not None:
        argv += ["--report-dir", str(report_dir)]
    return subprocess.run(argv, cwd=paths.REPO_ROOT, env=_environ(extra_envs, kubeconfig), capture_output=True,
                          text=True, timeout=timeout, check=False)


def _live_env(tmp_path: Path, name: str, **live: object) -> Path:
    """A live environment like staging's, with some of its `live:` settings changed; returns the folder."""
    data = yaml.safe_load(STAGING_ENV.read_text())
    data["live"].update(live)
    folder = tmp_path / "environments"
    (folder / name).mkdir(parents=True)
    (folder / name / "env.yaml").write_text(yaml.safe_dump(data))
    return folder


def _said(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# --- the guard rails, each refusing before anything changes ---------------------------------------------------------

@pytest.mark.usefixtures("unchanged")
def test_without_a_context_nothing_runs() -> None:
    result = _gameday("--mode", "gameday", "--confirm", CONTEXT)
    assert result.returncode == 2 and "needs its cluster named: CONTEXT=" in _said(result)


@pytest.mark.usefixtures("unchanged")
def test_the_wrong_context_is_refused() -> None:
    result = _gameday("--context", "kind-edirunbook", "--mode", "gameday", "--confirm", "kind-edirunbook")
    assert result.returncode == 2 and "wrong context" in _said(result)


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("confirm", [None, "yes"])
def test_destructive_work_without_the_confirmation_is_refused(confirm: str | None) -> None:
    result = _gameday("--context", CONTEXT, "--mode", "gameday", *(["--confirm", confirm] if confirm else []))
    assert result.returncode == 2 and f"confirm by typing the context's name: CONFIRM={CONTEXT}" in _said(result)


@pytest.mark.usefixtures("unchanged")
def test_a_context_not_on_the_allowlist_is_refused(tmp_path: Path) -> None:
    envs = _live_env(tmp_path, "staging-not-allowed", allowlist=["kind-other-staging"])
    result = _gameday("--context", CONTEXT, "--mode", "gameday", "--confirm", CONTEXT, env="staging-not-allowed",
                      extra_envs=envs)
    assert result.returncode == 2 and "it is not on the allowlist" in _said(result)


@pytest.mark.usefixtures("unchanged")
def test_a_production_looking_context_needs_its_exact_name_on_the_allowlist(tmp_path: Path) -> None:
    """The staging cluster under a context named like production; the allowlist's glob would match it."""
    renamed = tmp_path / "kubeconfig"
    data = yaml.safe_load(KUBECONFIG.read_text())
    for entry in data["contexts"]:
        entry["name"] = "prod-eu-mirror"
    data["current-context"] = "prod-eu-mirror"
    renamed.write_text(yaml.safe_dump(data))
    envs = _live_env(tmp_path, "mirror", context="prod-eu-mirror", allowlist=["prod-*"])
    result = _gameday("--context", "prod-eu-mirror", "--mode", "gameday", "--confirm", "prod-eu-mirror",
                      env="mirror", extra_envs=envs, kubeconfig=renamed)
    assert result.returncode == 2
    assert "it looks like production ('prod' matches the context 'prod-eu-mirror')" in _said(result)


@pytest.mark.usefixtures("unchanged")
def test_the_dry_run_prints_every_fault_and_changes_nothing() -> None:
    result = _gameday("--context", CONTEXT, "--mode", "dry-run")
    said = _said(result)
    assert result.returncode == 0, said
    assert "kubectl apply -f - <<EOF" in said and faults.NETWORK_POLICY in said
    assert re.search(r"inject: +kubectl cordon bots-staging-\S+", said), said
    assert re.search(r"rollback: kubectl uncordon bots-staging-\S+", said), said
    assert said.rstrip().endswith("dry run: nothing was changed")


@pytest.mark.usefixtures("unchanged")
def test_the_read_only_run_runs_only_read_only_scenarios(tmp_path: Path) -> None:
    result = _gameday("--context", CONTEXT, report_dir=tmp_path)
    assert result.returncode == 0, _said(result)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [s["result"] for s in summary["scenarios"]] == ["passed"]
    assert all("readonly" in s["tags"] for s in summary["scenarios"])
    assert (tmp_path / "gameday.md").exists() and (tmp_path / "gameday.html").exists()


# --- a fault cut short: its maximum duration, Ctrl-C, SIGTERM -------------------------------------------------------

def _fault_records(report_dir: Path) -> list[dict[str, object]]:
    data = json.loads((report_dir / "gameday.json").read_text())
    return [fault for scenario in data["scenarios"] for fault in scenario["faults"]]


@pytest.mark.usefixtures("unchanged")
def test_a_fault_past_its_maximum_duration_is_rolled_back(tmp_path: Path) -> None:
    """The database cut off for at most 20 s; the scenario's nc check waits minutes: the fault is rolled back."""
    envs = _live_env(tmp_path, "staging-short", max_fault_seconds=20)
    result = _gameday("--context", CONTEXT, "--mode", "gameday", "--confirm", CONTEXT, "--tags", DB_SCENARIO,
                      env="staging-short", extra_envs=envs, report_dir=tmp_path / "report")
    assert result.returncode == 1, _said(result)
    assert "lasted its maximum of 20 s" in _said(result)
    [fault] = _fault_records(tmp_path / "report")
    assert fault["ended_by"] == "its maximum duration (20 s)" and fault["rolled_back"], fault


def _as_from_a_terminal() -> None:
    """Ctrl-C's signal at its default, as in a shell at a terminal (a command started in the background of a
    non-interactive shell, as CI may start this, inherits it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _ready_webservers(api: client.ApiClient) -> int:
    deployment = client.AppsV1Api(api).read_namespaced_deployment("bots-webserver", "edi")
    return deployment.status.ready_replicas or 0


def _networkpolicies(api: client.ApiClient) -> list[str]:
    return [p.metadata.name for p in client.NetworkingV1Api(api).list_namespaced_network_policy("edi").items]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("how", ["Ctrl-C", "SIGTERM"])
def test_an_interrupt_in_the_middle_of_a_fault_rolls_it_back(api: client.ApiClient, tmp_path: Path,
                                                              how: str) -> None:
    """Ctrl-C as a terminal sends it (SIGINT to the whole process group); SIGTERM as a CI system cancels a job (to
    the command it started only). Either way the policy goes and the state is compared equal."""
    argv = [sys.executable, "-m", "edirunbook", "gameday", "--env", "staging", "--context", CONTEXT, "--mode",
            "gameday", "--confirm", CONTEXT, "--tags", DB_SCENARIO, "--report-dir", str(tmp_path)]
    process = subprocess.Popen(argv, cwd=paths.REPO_ROOT, env=_environ(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=_as_from_a_terminal)
    def running(seen: str) -> str:
        if process.poll() is not None:
            raise StopWaiting(f"the game day ended before it could be interrupted:\n{process.communicate()[0]}")
        return seen

    def injected() -> Observation:
        policies = _networkpolicies(api)
        return Observation(faults.NETWORK_POLICY in policies, running(f"policies {policies}"))

    def in_effect() -> Observation:  # the scenario is in its check, the pods unready without their database
        ready = _ready_webservers(api)
        return Observation(ready == 0, running(f"{ready} webserver pods Ready"))

    try:
        wait_for("the fault to be injected", injected, timeout=300)
        wait_for("the fault to take effect", in_effect, timeout=120)
        if how == "Ctrl-C":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode != 0, output
    assert faults.NETWORK_POLICY not in _networkpolicies(api)
    [fault] = _fault_records(tmp_path)
    assert fault["ended_by"] == "an interrupt (Ctrl-C or SIGTERM)" and fault["rolled_back"], fault
    end = json.loads((tmp_path / "gameday.json").read_text())["end"]
    assert end["still_different"] == [], end


# --- the game day itself --------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("unchanged")
def test_the_full_game_day_recovers_within_the_runbook_s_targets(tmp_path: Path) -> None:
    result = _gameday("--context", CONTEXT, "--mode", "gameday", "--confirm", CONTEXT, report_dir=tmp_path)
    report = (tmp_path / "gameday.md").read_text() if (tmp_path / "gameday.md").exists() else ""
    assert result.returncode == 0, _said(result)[-6000:] + report
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(summary["scenarios"]) == 7 and {s["result"] for s in summary["scenarios"]} == {"passed"}
    assert not [s for s in summary["scenarios"] if s["verdict"] == "OVER TARGET"]
    for heading in ("## Recovery against the runbook's targets", "## What the operators had to do by hand",
                    "## Runbook steps that did not work as written", "still different: nothing"):
        assert heading in report
