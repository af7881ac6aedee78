"""Where a target's Bots keeps its files (target.yaml `app:`), and its seed (`seed: route-plugin`) done by the deploy.

The reference's paths are asserted as the exact commands the suite ran before they came from the target.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from edirunbook import backup, plugin, target, volume
from edirunbook.app import Bots
from edirunbook.environment import deploy
from edirunbook.environment.credentials import ADMIN_USER, Credentials
from edirunbook.errors import AppError, ConfigError, EnvironmentNotReady
from edirunbook.report import secrets as report_secrets
from edirunbook.target import AppPaths
from edirunbook.waiting import Observation

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
CUSTOMER_BOTSSYS = "/home/bots/.bots/env/dev/botssys"
ADMIN_PASSWORD = "Adm1nPassw0rdForTheSeedTest"


def _team(tmp_path: Path, **changes: object) -> target.Target:
    source = tmp_path / "team"
    (source / "deploy").mkdir(parents=True, exist_ok=True)
    (source / "deploy" / "kustomization.yaml").write_text(KUSTOMIZATION)
    (source / "Dockerfile").write_text("FROM python:3.11-slim\n")
    data: dict[str, object] = {"source": {"repository": "https://example.invalid/team"},
                               "image": {"build": {"context": "."}, "names": ["registry.invalid/team/bots"]},
                               "manifests": {"kustomize": "deploy"},
                               "secrets": {"db": {"DB_PASSWORD": "{db_password}"},
                                           "su": {"USER": "{admin_user}", "PASSWORD": "{admin_password}"}}}
    data.update(changes)
    (tmp_path / "targets" / "team").mkdir(parents=True, exist_ok=True)
    (tmp_path / "targets" / "team" / "target.yaml").write_text(yaml.safe_dump(data))
    return target.load("team", source, tmp_path / "targets")


# --- target.yaml `app:` and `seed:` -----------------------------------------------------------------------------


def test_the_reference_keeps_its_files_where_it_always_did_and_seeds_itself() -> None:
    ref = target.load("reference", None)
    assert ref.app == AppPaths()
    assert (ref.app.data_volume, ref.app.botssys, ref.app.bots_ini) == (
        "/home/bots/.bots", "/home/bots/.bots/botssys", "/home/bots/.bots/env/production/config/bots.ini")
    assert ref.seed is None
    assert target.load("example-planted-defect", None).seed is None


def test_the_customer_target_keeps_botssys_in_its_env_and_is_seeded_with_the_route_plugin(tmp_path: Path) -> None:
    checkout = tmp_path / "bots-edi-k8s"
    (checkout / "k3s/kustomized/overlays/prod").mkdir(parents=True)
    (checkout / "k3s/kustomized/overlays/prod/kustomization.yaml").write_text(KUSTOMIZATION)
    (checkout / "Dockerfile").write_text("FROM python:3.11-slim\n")
    customer = target.load("bots-edi-k8s", checkout)
    assert customer.app == AppPaths("/home/bots/.bots", CUSTOMER_BOTSSYS, "/home/bots/.bots/env/dev/config/bots.ini")
    assert customer.seed == target.SEED_ROUTE_PLUGIN == "route-plugin"


def test_a_target_may_say_only_where_botssys_is(tmp_path: Path) -> None:
    team = _team(tmp_path, app={"botssys": CUSTOMER_BOTSSYS + "/"}, seed="route-plugin")
    assert team.app.data_volume == "/home/bots/.bots" and team.app.botssys == CUSTOMER_BOTSSYS
    assert team.app.botssys_on_volume == "env/dev/botssys"
    assert team.seed == "route-plugin"


def test_botssys_follows_a_data_volume_mounted_elsewhere(tmp_path: Path) -> None:
    team = _team(tmp_path, app={"data_volume": "/srv/bots"})
    assert team.app == AppPaths("/srv/bots", "/srv/bots/botssys", "/srv/bots/env/production/config/bots.ini")
    assert _team(tmp_path).app == AppPaths() and _team(tmp_path).seed is None


@pytest.mark.parametrize(("change", "message"), [
    ({"app": {"botssys": "/var/lib/bots/botssys"}},
     "app.botssys /var/lib/bots/botssys is not under app.data_volume /home/bots/.bots: the backups of the data "
     "volume would not cover it"),
    ({"app": {"data_volume": "/home/bots/.bots", "botssys": "/home/bots/.botssys"}}, "would not cover it"),
    ({"app": {"data_volume": "/home/bots/.bots", "botssys": "/home/bots/.bots"}}, "is not under app.data_volume"),
    ({"app": {"botssys": "env/dev/botssys"}}, "app.botssys must be an absolute path as the pods see it"),
    ({"app": {"data_volume": 3}}, "app.data_volume must be an absolute path"),
    ({"app": {"usersys": "/home/bots/.bots/usersys"}}, "app.usersys is not a setting; app: may set data_volume"),
    ({"app": "/home/bots/.bots"}, "'app' must be a mapping, not str"),
    ({"seed": "sql-dump"}, "seed 'sql-dump' is not known; it may be route-plugin"),
    ({"seed": True}, "seed True is not known"),
])
def test_a_wrong_app_or_seed_says_what_is_wrong(tmp_path: Path, change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=_literal(message)):
        _team(tmp_path, **change)


def test_a_seed_needs_the_superuser_the_secrets_make(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=_literal("give its user name {admin_user} and its password "
                                                   "{admin_password} in secrets")):
        _team(tmp_path, seed="route-plugin", secrets={"db": {"DB_PASSWORD": "{db_password}"}})


def _literal(text: str) -> str:
    import re

    return re.escape(text)


# --- the paths the suite uses -------------------------------------------------------------------------------


class RecordingBots(Bots):
    """Bots whose webserver exec only records the command and answers `output`."""

    def __init__(self, paths: AppPaths | None = None, output: str = "") -> None:
        super().__init__(api=None, namespace="edi", kubectl=Path("kubectl"), kubeconfig=Path("kubeconfig"),
                         web_url="", paths=paths or AppPaths())
        self.commands: list[str] = []
        self.output = output

    def exec_web(self, command: str, timeout: float = 120) -> str:
        self.commands.append(command)
        return self.output

    def write_web(self, path: str, content: str) -> str:
        self.commands.append(f"write {path}")
        return "exit=0\n"


def test_the_reference_paths_are_the_ones_used_before() -> None:
    bots = RecordingBots()
    assert bots.inbound_dir == "/home/bots/.bots/botssys/infile/edifact_orders"
    assert bots.outbound_dir == "/home/bots/.bots/botssys/outfile/edifact_orders"
    assert bots.paths.inbound == "/home/bots/.bots/botssys/infile"
    assert bots.paths.data == "/home/bots/.bots/botssys/data"
    assert bots.paths.logging == "/home/bots/.bots/botssys/logging"
    assert bots.paths.botssys_on_volume == "botssys"
    assert volume.WRITE_TEST == "/home/bots/.bots/test"
    assert volume.day_dirs(bots) == "/home/bots/.bots/botssys/data/9[0-9][0-9][0-9]"
    assert volume.marker(bots) == "/home/bots/.bots/botssys/.edirunbook-day-started"
    assert bots.drop_sample("ORDERS_good.edi", "1-ORDERS_good.edi") == \
        "/home/bots/.bots/botssys/infile/edifact_orders/1-ORDERS_good.edi"


def test_the_reference_volume_commands_are_the_ones_run_before() -> None:
    bots = RecordingBots(output="2\n3\nremoved\n")
    volume.start_day(bots)
    assert volume.remove_leftovers(bots) == (2, True, 3)
    volume.fill_with_days(bots)
    assert bots.commands == [
        "touch /home/bots/.bots/botssys/.edirunbook-day-started",
        "n=$(ls -d /home/bots/.bots/botssys/data/9[0-9][0-9][0-9] 2>/dev/null | wc -l); rm -rf "
        "/home/bots/.bots/botssys/data/9[0-9][0-9][0-9] /home/bots/.bots/botssys/.edirunbook-day-started; echo $n; "
        "i=$(find /home/bots/.bots/botssys/infile -type f 2>/dev/null | wc -l); find /home/bots/.bots/botssys/infile "
        "-type f -delete 2>/dev/null; echo $i; if [ -e /home/bots/.bots/test ]; then rm -f /home/bots/.bots/test; "
        "echo removed; fi",
        "files=$(find /home/bots/.bots/botssys/data -type f -newer /home/bots/.bots/botssys/.edirunbook-day-started "
        "! -path '/home/bots/.bots/botssys/data/9???/*'); [ -n \"$files\" ] || { echo 'no files made since the day "
        "started'; exit 1; }; d=1; while [ $d -lt 1000 ]; do dir=/home/bots/.bots/botssys/data/$((9000 + d)); "
        "mkdir -p $dir 2>/tmp/fill.err || break; cp $files $dir/ 2>/tmp/fill.err; ok=$?; touch -d \"$d days ago\" "
        "$dir/* $dir; [ $ok -eq 0 ] || break; d=$((d + 1)); done; cat /tmp/fill.err; echo days=$d",
    ]
    days = RecordingBots(output="9001 3\n9040 2\n")
    assert volume.day_directories(days) == {1: 3, 40: 2}
    assert days.commands == ["for d in /home/bots/.bots/botssys/data/9[0-9][0-9][0-9]; do [ -d $d ] && echo "
                             "${d##*/} $(ls $d | wc -l); done; true"]
    df = RecordingBots(output="Filesystem 1024-blocks Used Available Capacity Mounted on\n"
                              "edirunbook-data 262144 110100 152044 42% /home/bots/.bots\n")
    assert volume.used_percent(df) == 42 and df.commands == ["df -P /home/bots/.bots"]


class _Db:
    def __init__(self, rows: list[tuple[str]]) -> None:
        self.rows, self.queries = rows, []  # type: ignore[var-annotated]

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[str]]:
        self.queries.append((sql, params))
        return self.rows


def test_the_reference_backup_fingerprint_reads_botssys_where_it_did(monkeypatch: pytest.MonkeyPatch) -> None:
    bots = RecordingBots(output="aaa  data/0/57\nbbb  outfile/edifact_orders/orders_1.csv\n")
    assert backup.file_checksums(bots) == {"data/0/57": "aaa", "outfile/edifact_orders/orders_1.csv": "bbb"}
    assert bots.commands == ["cd /home/bots/.bots/botssys && find data outfile infile -type f -exec sha256sum {} + "
                             "2>/dev/null || true"]
    db = _Db([("57",), ("/home/bots/.bots/botssys/outfile/edifact_orders/orders_1.csv",),
              ("/home/bots/.bots/botssys/infile/edifact_orders/x.edi",)])
    assert backup.referenced_files(db, bots.paths.botssys) == {"data/0/57", "outfile/edifact_orders/orders_1.csv"}  # type: ignore[arg-type]
    assert db.queries[0][1] == ("/home/bots/.bots/botssys/%",)
    monkeypatch.setattr(backup, "drop_database", lambda db: None)
    bots.commands.clear()
    backup.destroy(None, bots)  # type: ignore[arg-type]
    assert bots.commands == ["rm -rf /home/bots/.bots/botssys/data && mkdir -p /home/bots/.bots/botssys/data && "
                             "rm -rf /home/bots/.bots/botssys/outfile && mkdir -p /home/bots/.bots/botssys/outfile && "
                             "rm -rf /home/bots/.bots/botssys/infile && mkdir -p /home/bots/.bots/botssys/infile"]


def test_a_target_that_keeps_botssys_elsewhere_is_read_there() -> None:
    bots = RecordingBots(AppPaths(botssys=CUSTOMER_BOTSSYS), output="0\n0\n")
    assert bots.inbound_dir == f"{CUSTOMER_BOTSSYS}/infile/edifact_orders"
    assert bots.outbound_dir == f"{CUSTOMER_BOTSSYS}/outfile/edifact_orders"
    volume.remove_leftovers(bots)
    backup.file_checksums(bots)
    assert f"find {CUSTOMER_BOTSSYS}/infile -type f -delete" in bots.commands[0]
    assert "rm -f /home/bots/.bots/test" in bots.commands[0]  # the runbook's own write test, where it writes
    assert bots.commands[1].startswith(f"cd {CUSTOMER_BOTSSYS} && find data outfile infile")
    db = _Db([(f"{CUSTOMER_BOTSSYS}/outfile/edifact_orders/orders_1.csv",)])
    assert backup.referenced_files(db, CUSTOMER_BOTSSYS) == {"outfile/edifact_orders/orders_1.csv"}  # type: ignore[arg-type]


# --- the deploy's seed ----------------------------------------------------------------------------------------


def _env(web_port: int = 18080) -> Any:
    database = SimpleNamespace(name="botsedi", user="bots", alias="bots-mysql")
    config = SimpleNamespace(web_port=web_port, namespace="edi", name="kind", cluster_name="edirunbook",
                             database=database, timeout=lambda name, default: default)
    state: dict[str, Any] = {}
    return SimpleNamespace(config=config, state=state, write_state=state.update)


def _creds() -> Credentials:
    return Credentials(root_password="r" * 24, password="p" * 24, django_secret_key="k" * 50,
                       admin_password=ADMIN_PASSWORD)


@pytest.fixture
def web_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The NodePort answers at once (the wait before the seed)."""
    monkeypatch.setattr(deploy, "_answers", lambda url: Observation(True, "GET /login/: HTTP 200"))


@pytest.fixture
def seeded_target(tmp_path: Path) -> target.Target:
    return _team(tmp_path, seed="route-plugin")


def test_the_seed_logs_in_over_the_nodeport_as_the_admin_the_secrets_make(
        monkeypatch: pytest.MonkeyPatch, web_answers: None, seeded_target: target.Target) -> None:
    calls = []

    def seed_route(web_url: str, user: str, password: str, *, timeout: float) -> list[str]:
        calls.append((web_url, user, password))
        return ['Plugin "edirunbook-edifact_orders.zip" is read successful.', "route edifact_orders activated (1 row)"]

    monkeypatch.setattr(plugin, "seed_route", seed_route)
    env = _env(18080)
    try:
        said = deploy.seed(env, seeded_target, _creds())
        assert ADMIN_PASSWORD in report_secrets._SECRETS  # registered for redaction before it is used
    finally:
        report_secrets.unregister_secret(ADMIN_PASSWORD)
    assert calls == [("http://127.0.0.1:18080", ADMIN_USER, ADMIN_PASSWORD)]
    assert env.state == {"seeded": "route-plugin"}  # a later session finds it seeded
    assert said[-1] == "route edifact_orders activated (1 row)"
    assert deploy.web_url(_env(31080)) == "http://127.0.0.1:31080"


def test_a_target_without_a_seed_is_not_seeded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(plugin, "seed_route", lambda *a, **k: pytest.fail("seeded a target without seed:"))
    assert deploy.seed(_env(), _team(tmp_path), _creds()) == []


def test_a_refused_seed_is_the_deployment_not_coming_up_with_bots_one_line_cause(
        monkeypatch: pytest.MonkeyPatch, web_answers: None, seeded_target: target.Target) -> None:
    def refused(web_url: str, user: str, password: str, *, timeout: float) -> list[str]:
        raise AppError(f"the Bots web UI at {web_url} refused the login of 'admin': Please enter a correct username "
                       f"and password ({password}).")

    monkeypatch.setattr(plugin, "seed_route", refused)
    try:
        with pytest.raises(EnvironmentNotReady) as raised:
            deploy.seed(_env(), seeded_target, _creds())
    finally:
        report_secrets.unregister_secret(ADMIN_PASSWORD)
    message = str(raised.value)
    assert message == ("target team (seed: route-plugin): the route edifact_orders could not be installed through "
                       "its web UI: the Bots web UI at http://127.0.0.1:18080 refused the login of 'admin': Please "
                       "enter a correct username and password (***).")
    assert "\n" not in message and ADMIN_PASSWORD not in message


def test_a_web_ui_that_never_answers_is_the_deployment_not_coming_up(
        monkeypatch: pytest.MonkeyPatch, seeded_target: target.Target) -> None:
    monkeypatch.setattr(deploy, "_answers", lambda url: Observation(False, "ConnectError: [Errno 111] refused"))
    monkeypatch.setattr(plugin, "seed_route", lambda *a, **k: pytest.fail("seeded a web UI that does not answer"))
    env = _env()
    env.config.timeout = lambda name, default: 0.2
    try:
        with pytest.raises(EnvironmentNotReady, match=r"could not be installed through its web UI: timed out .* "
                                                      r"ConnectError: \[Errno 111\] refused$"):
            deploy.seed(env, seeded_target, _creds())
    finally:
        report_secrets.unregister_secret(ADMIN_PASSWORD)


class _DeployFakes:
    """deploy.deploy's collaborators, faked: records what it did, in order."""

    MANIFESTS = yaml.safe_dump_all([
        {"kind": "Job", "metadata": {"name": "bots-db-init"}},
        {"kind": "Deployment", "metadata": {"name": "bots-webserver"}, "spec": {"replicas": 2}},
    ])

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.done: list[str] = []
        self.state: dict[str, Any] = {}
        docker = SimpleNamespace(run=lambda *a, **k: None)
        docker.activate = lambda: docker
        monkeypatch.setattr(deploy.daemon, "connect", lambda: docker)
        monkeypatch.setattr(deploy, "app_image", lambda docker, target: "edirunbook/target-team:abc")
        monkeypatch.setattr(deploy.images, "tag", lambda *a: None)
        monkeypatch.setattr(deploy.cluster, "connect", lambda kubeconfig: None)
        monkeypatch.setattr(deploy.client, "CoreV1Api", lambda api: None)
        monkeypatch.setattr(deploy, "ensure_namespace", lambda core, namespace: None)
        monkeypatch.setattr(deploy, "apply_secret", lambda core, namespace, name, data: None)
        monkeypatch.setattr(deploy.Credentials, "load_or_create", classmethod(lambda cls, file=None: _creds()))
        monkeypatch.setattr(deploy, "render", lambda env, ref, target: self.MANIFESTS)
        monkeypatch.setattr(deploy, "kubectl", lambda env, *args, **kw: "")
        monkeypatch.setattr(deploy, "apply_as_shipped", lambda env, manifests: "")
        monkeypatch.setattr(deploy, "wait_for", self._wait_for)
        monkeypatch.setattr(deploy.cluster, "wait_deployments_ready",
                            lambda api, ns, names, timeout: self.done.append(f"ready {','.join(names)}"))
        self.env = _env()
        self.env.kind = lambda docker, *args: None
        self.env.node_container = lambda: "edirunbook-control-plane"
        self.env.kubeconfig = Path("kubeconfig")
        self.env.write_state = self._write_state

    def _write_state(self, **values: Any) -> None:
        self.state.update(values)
        self.done.append("state written" if "app_image" in values else f"state {values}")

    def _wait_for(self, what: str, probe: Any, timeout: float) -> float:
        self.done.append(f"waited for {what}")
        return 0.0


def test_deploy_seeds_once_the_workloads_are_ready(monkeypatch: pytest.MonkeyPatch, web_answers: None,
                                                    seeded_target: target.Target) -> None:
    fakes = _DeployFakes(monkeypatch)

    def seed_route(url: str, user: str, password: str, *, timeout: float) -> list[str]:
        fakes.done.append(f"seed_route {url} {user} {'the admin password' if password == ADMIN_PASSWORD else '?'}")
        return ["route edifact_orders activated (1 row)"]

    monkeypatch.setattr(plugin, "seed_route", seed_route)
    try:
        timings = deploy.deploy(fakes.env, seeded_target)
    finally:
        report_secrets.unregister_secret(ADMIN_PASSWORD)
    assert fakes.done == ["state written", "waited for job/bots-db-init to complete", "ready bots-webserver",
                          "waited for the Bots web UI at http://127.0.0.1:18080 to answer",
                          "seed_route http://127.0.0.1:18080 admin the admin password",
                          "state {'seeded': 'route-plugin'}"]
    assert "seed" in timings and fakes.state["target"] == "team"


def test_a_failed_seed_is_the_deploy_error_the_gate_reports(monkeypatch: pytest.MonkeyPatch, web_answers: None,
                                                             seeded_target: target.Target) -> None:
    from edirunbook.environment import smoke
    from edirunbook.gate import run as gate

    fakes = _DeployFakes(monkeypatch)

    def refused(url: str, user: str, password: str, *, timeout: float) -> list[str]:
        raise AppError('Bots did not install the plugin edirunbook-edifact_orders.zip: Error writing plugin to '
                       'database. Nothing is written.')

    monkeypatch.setattr(plugin, "seed_route", refused)
    monkeypatch.setattr(deploy, "up_for", lambda env, target: {})
    monkeypatch.setattr(smoke, "run_checks", lambda env: [])
    import edirunbook.environment.kind as kind

    monkeypatch.setattr(kind, "KindEnvironment", SimpleNamespace)  # _bring_up checks it is one
    try:
        cause = gate._bring_up(fakes.env, seeded_target)
    finally:
        report_secrets.unregister_secret(ADMIN_PASSWORD)
    assert cause == ("target team (seed: route-plugin): the route edifact_orders could not be installed through its "
                     "web UI: Bots did not install the plugin edirunbook-edifact_orders.zip: Error writing plugin to "
                     "database. Nothing is written.")
    assert fakes.state["target"] == "team"  # deployed: the scenarios still run and show each defect
    assert fakes.state["seeded"] is None  # and a later session tries the seed again


def test_deploy_of_a_target_without_a_seed_seeds_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fakes = _DeployFakes(monkeypatch)
    monkeypatch.setattr(plugin, "seed_route", lambda *a, **k: pytest.fail("seeded a target without seed:"))
    timings = deploy.deploy(fakes.env, _team(tmp_path))
    assert fakes.done[-1] == "ready bots-webserver" and "seed" not in timings


# --- the known state's schema repair --------------------------------------------------------------------------


def _suite_env(team: target.Target, manifests: str = _DeployFakes.MANIFESTS) -> Any:
    return SimpleNamespace(target=team, kind="kind-env", manifests=manifests, database="db", credentials=_creds())


def test_a_missing_schema_is_made_again_by_the_targets_own_jobs_then_its_seed(
        monkeypatch: pytest.MonkeyPatch, seeded_target: target.Target) -> None:
    from fixtures import scenario

    done = []

    def rerun_jobs(env: object, manifests: str) -> list[str]:
        done.append("jobs")
        return ["bots-db-init"]

    def seed(env: object, seeded: target.Target, creds: Credentials) -> list[str]:
        done.append(f"seed {seeded.seed}")
        return []

    monkeypatch.setattr(deploy, "rerun_jobs", rerun_jobs)
    monkeypatch.setattr(scenario.botsdb, "missing_bots_tables", lambda db: set())
    monkeypatch.setattr(deploy, "seed", seed)
    said = scenario.recreate_schema(_suite_env(seeded_target), {"ta", "routes"})
    assert said == "schema recreated by job/bots-db-init of the manifests, then seeded (route-plugin)"
    assert done == ["jobs", "seed route-plugin"]
    unseeded = dataclasses.replace(seeded_target, seed=None)
    assert scenario.recreate_schema(_suite_env(unseeded), {"ta"}) == \
        "schema recreated by job/bots-db-init of the manifests"


def test_a_schema_the_target_cannot_make_again_is_reported_not_guessed(
        monkeypatch: pytest.MonkeyPatch, seeded_target: target.Target) -> None:
    from fixtures import scenario

    monkeypatch.setattr(deploy, "seed", lambda *a: pytest.fail("seeded a database without its tables"))
    monkeypatch.setattr(deploy, "rerun_jobs", lambda env, manifests: [])
    with pytest.raises(AppError, match="have no Job that makes the schema: the known state cannot repair it"):
        scenario.recreate_schema(_suite_env(seeded_target), {"ta"})
    monkeypatch.setattr(deploy, "rerun_jobs", lambda env, manifests: ["bots-db-init"])
    monkeypatch.setattr(scenario.botsdb, "missing_bots_tables", lambda db: {"persist"})
    with pytest.raises(AppError, match=r"Bots tables persist are still missing after target team's Jobs "
                                       r"\(job/bots-db-init\) ran again"):
        scenario.recreate_schema(_suite_env(seeded_target), {"persist", "ta"})


def test_the_jobs_run_again_as_the_deploy_runs_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleted first (a Job's template cannot change), only the Jobs applied, each waited for until Complete."""
    done: list[str] = []

    def kubectl(env: object, *args: str, **kw: object) -> str:
        done.append(" ".join(args))
        return ""

    def apply(env: object, manifests: str) -> str:
        done.append("apply " + ",".join(f"{d['kind']}/{d['metadata']['name']}" for d in yaml.safe_load_all(manifests)))
        return ""

    def wait_for(what: str, probe: object, timeout: float) -> float:
        done.append(f"wait {what}")
        return 0.0

    monkeypatch.setattr(deploy, "kubectl", kubectl)
    monkeypatch.setattr(deploy, "apply", apply)
    monkeypatch.setattr(deploy.cluster, "connect", lambda kubeconfig: None)
    monkeypatch.setattr(deploy, "wait_for", wait_for)
    env = _env()
    env.kubeconfig = Path("kubeconfig")
    assert deploy.rerun_jobs(env, _DeployFakes.MANIFESTS) == ["bots-db-init"]
    assert done == ["delete job bots-db-init -n edi --ignore-not-found --wait=true", "apply Job/bots-db-init",
                    "wait job/bots-db-init to complete"]
    assert deploy.rerun_jobs(env, yaml.safe_dump({"kind": "Deployment", "metadata": {"name": "w"}})) == []


def test_a_session_that_finds_the_target_deployed_but_not_seeded_seeds_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_target: target.Target) -> None:
    """An environment deployed before (a seed that failed, or a suite without seeding) is seeded, not redeployed."""
    from fixtures import environment

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("")
    docker = SimpleNamespace()
    docker.activate = lambda: docker
    monkeypatch.setattr(environment.daemon, "ensure", lambda: docker)
    monkeypatch.setattr(deploy, "app_image", lambda docker, target: "edirunbook/target-team:abc")
    monkeypatch.setattr(deploy, "deploy", lambda env, target: pytest.fail("redeployed an unchanged image"))
    monkeypatch.setattr(environment.Credentials, "load_or_create", classmethod(lambda cls, file=None: _creds()))
    seeded: list[str | None] = []

    def seed(env: object, team: target.Target, creds: Credentials) -> list[str]:
        seeded.append(team.seed)
        return []

    monkeypatch.setattr(deploy, "seed", seed)
    state = {"cluster": "edirunbook", "target": "team", "app_image": "edirunbook/target-team:abc", "seeded": None,
             "cluster_config": "0123abcd"}
    env = SimpleNamespace(read_state=lambda: state, kubeconfig=kubeconfig, cluster_exists=lambda docker: True)
    environment._bring_up(env, seeded_target)  # type: ignore[arg-type]
    assert seeded == ["route-plugin"]
    state["seeded"] = "route-plugin"
    environment._bring_up(env, seeded_target)  # type: ignore[arg-type]
    assert seeded == ["route-plugin"]
