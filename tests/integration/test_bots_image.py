"""The Bots EDI image (images/bots-edi) in real containers against a real MariaDB.

Run with `.venv/bin/pytest tests/integration/test_bots_image.py` (DOCKER_HOST pointing at the suite's
daemon; default unix:///run/edirunbook/docker.sock). It builds the image (layer-cached; or set
BOTS_EDI_IMAGE to test a built one) and a throw-away MariaDB from Debian's mariadb-server on the Debian base
(EDIRUNBOOK_BASE_IMAGE, default edirunbook/debian-test:minbase). Every container, volume and network it
makes carries the run's unique name and is removed at the end, also after a failure.
The tests run in file order and share one database and data volume, like one deployment would.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from edirunbook.waiting import Observation, wait_for

REPO = Path(__file__).resolve().parents[2]
CONTEXT = REPO / "images" / "bots-edi"
BASE_IMAGE = os.environ.get("EDIRUNBOOK_BASE_IMAGE", "edirunbook/debian-test:minbase")
RUN = f"bots-it-{secrets.token_hex(4)}"
DB_IMAGE = "edirunbook/bots-it-mariadb:local"
BOTS_HOME = "/home/bots/.bots"
INBOUND = f"{BOTS_HOME}/botssys/infile/edifact_orders"
OUTBOUND = f"{BOTS_HOME}/botssys/outfile/edifact_orders"
# CAs of a TLS-intercepting egress proxy, if this machine has one: the image's builder needs them for PyPI
EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")
DOCKER_ENV = {**os.environ, "DOCKER_HOST": os.environ.get("DOCKER_HOST", "unix:///run/edirunbook/docker.sock"),
              "DOCKER_BUILDKIT": "0"}

DB_START = r"""
set -e
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
mariadbd --user=mysql --bind-address=0.0.0.0 --skip-name-resolve \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci &
until mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
mariadb -uroot -e "CREATE DATABASE IF NOT EXISTS botsedi CHARACTER SET utf8mb4;
  CREATE USER IF NOT EXISTS 'bots'@'%' IDENTIFIED BY '$DB_PASSWORD';
  GRANT ALL ON \`botsedi%\`.* TO 'bots'@'%';"
echo DATABASE-READY
wait
"""


def docker(*args: str, check: bool = True, timeout: float = 300, stdin: bytes | None = None,
           ) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], input=stdin.decode() if stdin is not None else None,
                            capture_output=True, text=True, timeout=timeout, check=False, env=DOCKER_ENV)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {args[0]} exited {result.returncode}:\n{result.stdout[-3000:]}\n"
                             f"{result.stderr[-3000:]}")
    return result


@dataclass
class Stack:
    """One deployment in miniature: network, database, data volume, env file, running containers."""

    image: str
    env_file: Path
    db: str = f"{RUN}-db"
    volume: str = f"{RUN}-data"
    containers: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, entrypoint: str | None = None, env: dict[str, str] | None = None,
            stdin: bytes | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """`docker run --rm` of the image on the stack's network and volume; never raises on exit code."""
        options = ["--rm", "--network", RUN, "--env-file", str(self.env_file), "-v", f"{self.volume}:{BOTS_HOME}",
                   "--read-only", "--tmpfs", "/tmp"]
        if stdin is not None:
            options.append("-i")
        if entrypoint:
            options += ["--entrypoint", entrypoint]
        for key, value in (env or {}).items():
            options += ["-e", f"{key}={value}"]
        return docker("run", *options, self.image, *args, check=False, timeout=timeout, stdin=stdin)

    def start(self, role: str, *args: str, publish: bool = False) -> str:
        name = f"{RUN}-{role}"
        options = ["-d", "--name", name, "--network", RUN, "--env-file", str(self.env_file),
                   "-v", f"{self.volume}:{BOTS_HOME}", "--read-only", "--tmpfs", "/tmp"]
        if publish:
            options += ["-p", "127.0.0.1::8080"]
        docker("run", *options, self.image, *args)
        self.containers[role] = name
        return name

    def url(self, role: str, path: str) -> str:
        port = docker("port", self.containers[role], "8080").stdout.split(":")[-1].strip()
        return f"http://127.0.0.1:{port}{path}"

    def sql(self, query: str, database: str = "botsedi") -> list[list[str]]:
        out = docker("exec", self.db, "mariadb", "-uroot", "-N", "-B", database, "-e", query).stdout
        return [line.split("\t") for line in out.splitlines()]

    def drop_in(self, *samples: str, rename: str = "") -> None:
        """Copy sample files of the image into the route's inbound directory (as the trading partner would)."""
        copies = " && ".join(
            f"cp /opt/bots/samples/{name} {INBOUND}/{rename}{name}" for name in samples)
        result = self.run("-c", copies, entrypoint="bash")
        assert result.returncode == 0, result.stderr

    def max_idta(self) -> int:
        return int(self.sql("SELECT COALESCE(MAX(idta), 0) FROM ta")[0][0])


def _http(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10, trust_env=False)


def _status_is(url: str, code: int) -> Observation:
    response = _http(url)
    return Observation(response.status_code == code, f"{response.status_code} {response.text[:300]}")


@pytest.fixture(scope="module")
def image() -> str:
    if os.environ.get("BOTS_EDI_IMAGE"):
        return os.environ["BOTS_EDI_IMAGE"]
    ref = "edirunbook/bots-edi:it"
    extra_ca = "".join(p.read_text() for p in sorted(EXTRA_CA_DIR.glob("*.crt"))) if EXTRA_CA_DIR.is_dir() else ""
    build = subprocess.run(
        ["docker", "build", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "--build-arg", f"EXTRA_CA_CERTS={extra_ca}",
         "-t", ref, str(CONTEXT)],
        capture_output=True, text=True, timeout=1200, check=False, env=DOCKER_ENV)
    assert build.returncode == 0, f"docker build failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    return ref


@pytest.fixture(scope="module")
def stack(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    docker("build", "-t", DB_IMAGE, "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-", timeout=900, stdin=(
        b"ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
        b"RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
        b"mariadb-server && rm -rf /var/lib/apt/lists/*\n"))
    password = secrets.token_hex(12)
    env_file = tmp_path_factory.mktemp("env") / "bots.env"
    env_file.write_text(f"DB_NAME=botsedi\nDB_USER=bots\nDB_PASSWORD={password}\nDB_HOST=bots-mysql\nDB_PORT=3306\n"
                        f"DJANGO_SECRET_KEY={secrets.token_hex(25)}\n")
    env_file.chmod(0o600)
    result = Stack(image=image, env_file=env_file)
    docker("network", "create", "--label", "edirunbook.owner=edirunbook", RUN)
    try:
        docker("volume", "create", "--label", "edirunbook.owner=edirunbook", result.volume)
        docker("run", "-d", "--name", result.db, "--network", RUN, "--network-alias", "bots-mysql",
               "-e", f"DB_PASSWORD={password}", DB_IMAGE, "bash", "-c", DB_START)

        def db_ready() -> Observation:
            logs = docker("logs", result.db, check=False)
            return Observation("DATABASE-READY" in logs.stdout, (logs.stdout + logs.stderr)[-500:])

        wait_for("the MariaDB test container to accept the bots user", db_ready, timeout=120)
        yield result
    finally:
        names = docker("ps", "-aq", "--filter", f"name={RUN}", check=False).stdout.split()
        if names:
            docker("rm", "-f", "-v", *names, check=False)
        docker("volume", "rm", "-f", result.volume, check=False)
        docker("network", "rm", RUN, check=False)


def test_init_db_creates_the_schema_and_is_idempotent(stack: Stack) -> None:
    admin = {"BOTS_ADMIN_USER": "admin", "BOTS_ADMIN_PASSWORD": secrets.token_hex(8)}
    first = stack.run("init-db", env=admin)
    assert first.returncode == 0, first.stdout + first.stderr
    for line in ("created table ta", "created route edifact_orders", "created superuser admin"):
        assert f"init-db: {line}" in first.stdout, first.stdout
    second = stack.run("init-db", env=admin)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "schema complete, nothing to do" in second.stdout, second.stdout
    assert not re.search(r"^init-db: (created|repaired)", second.stdout, re.M), second.stdout
    assert "init-db: superuser admin present" in second.stdout, second.stdout
    tables = {row[0] for row in stack.sql("SHOW TABLES")}
    assert {"ta", "mutex", "persist", "uniek", "report", "filereport", "routes", "channel", "translate",
            "auth_user", "django_session"} <= tables
    # what the engine and dumpdata need beyond Django's migrate
    assert stack.sql("SELECT column_default FROM information_schema.columns WHERE table_schema='botsedi' "
                     "AND table_name='ta' AND column_name='statust'") == [["0"]]
    persist_keys = stack.sql("SELECT index_name, non_unique, GROUP_CONCAT(column_name ORDER BY seq_in_index) "
                             "FROM information_schema.statistics WHERE table_schema='botsedi' AND "
                             "table_name='persist' GROUP BY index_name, non_unique ORDER BY index_name")
    assert ["PRIMARY", "0", "id"] in persist_keys and ["persist_domein_botskey_uniq", "0", "domein,botskey"] \
        in persist_keys, persist_keys


def test_webserver_serves_health_and_metrics(stack: Stack) -> None:
    stack.start("web", "webserver", publish=True)
    wait_for("the webserver's /health/ping", lambda: _status_is(stack.url("web", "/health/ping"), 200), timeout=90)
    ping = _http(stack.url("web", "/health/ping"))
    assert ping.text == "ok"
    for path in ("/health/live", "/health/ready", "/health/startup"):
        response = _http(stack.url("web", path))
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
        assert response.json()["status"] == "ok", response.text
    assert _http(stack.url("web", "/login/")).status_code == 200  # the Bots UI itself, past the health urls
    metrics = _http(stack.url("web", "/metrics"))
    assert metrics.status_code == 200
    for name in ("bots_transactions_total", "bots_errors_total", "bots_processing_duration_seconds_bucket"):
        assert name in metrics.text, metrics.text[:2000]
    web_log = docker("logs", stack.containers["web"]).stderr + docker("logs", stack.containers["web"]).stdout
    assert "Bots webserver serving at port: \"8080\"" in web_log


def test_database_outage_makes_ready_fail_but_not_live(stack: Stack) -> None:
    ready, live = stack.url("web", "/health/ready"), stack.url("web", "/health/live")
    docker("pause", stack.db)
    try:
        wait_for("/health/ready to answer 503 with the database paused", lambda: _status_is(ready, 503), timeout=30)
        body = _http(ready).json()
        assert body["status"] == "fail" and "database" in body["reason"], body
        started = time.monotonic()
        assert _http(live).status_code == 200
        assert time.monotonic() - started < 2, "/health/live must not wait for the database"
    finally:
        docker("unpause", stack.db)
    wait_for("/health/ready to answer 200 again", lambda: _status_is(ready, 200), timeout=30)


def test_engine_translates_the_sample_orders(stack: Stack) -> None:
    before = stack.max_idta()
    stack.drop_in("ORDERS_good.edi")
    engine = stack.run("engine", "--new")
    assert engine.returncode == 0, engine.stdout + engine.stderr
    rows = stack.sql(f"SELECT status, statust, editype, messagetype FROM ta WHERE idta > {before}")
    assert rows and all(r[1] == "3" for r in rows), rows
    assert ["320", "3", "edifact", "ORDERSD96AUN"] in rows and ["520", "3", "csv", "orders_out"] in rows, rows
    out = stack.sql(f"SELECT filename FROM ta WHERE idta > {before} AND status = 520")[0][0]
    assert out.startswith(OUTBOUND + "/orders_"), out
    content = stack.run("-c", f"cat {out}", entrypoint="bash").stdout
    assert content.splitlines() == ["HEA,PO-4711,20261127,5412345000013,8712345000014,5412345000013,EDIRB0001",
                                    "LIN,1,4000862141404,12", "LIN,2,4000862141411,48"], content


def test_engine_reports_malformed_and_unknown_files(stack: Stack) -> None:
    before = stack.max_idta()
    stack.drop_in("ORDERS_malformed.edi", "not_edifact.csv")
    engine = stack.run("engine", "--new")
    assert engine.returncode == 2, f"bots-engine exits 2 when files failed:\n{engine.stdout}{engine.stderr}"
    errors = stack.sql(f"SELECT errortext FROM ta WHERE idta > {before} AND statust = 1")
    texts = " ".join(row[0] for row in errors)
    assert "Segmentcount in UNT is 12; should be equal to number of segments 11" in texts, errors
    assert "does not start with a valid interchange" in texts, errors
    log = engine.stdout + engine.stderr
    assert re.search(r"ERROR .*ORDERS_malformed\.edi\" failed: .*Segmentcount in UNT is 12", log), log
    assert re.search(r"ERROR .*not_edifact\.csv\" failed: .*valid interchange", log), log
    engine_log = stack.run("-c", f"cat {BOTS_HOME}/botssys/logging/engine.log", entrypoint="bash").stdout
    assert "ORDERS_malformed.edi\" failed" in engine_log, engine_log[-2000:]


def test_metrics_follow_the_engine_runs(stack: Stack) -> None:
    text = _http(stack.url("web", "/metrics")).text
    values = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+(?:\{[^}]*\})?) (\S+)$", text, re.M)}
    assert values["bots_transactions_total"] == 3, text  # one good, two failed files
    assert values["bots_errors_total"] == 2, text
    assert values["bots_processing_duration_seconds_count"] == 2, text
    assert values['bots_processing_duration_seconds_bucket{le="+Inf"}'] == 2, text


def test_runbook_database_tools_exist_in_the_image(stack: Stack) -> None:
    nc = stack.run("-c", "nc -zv bots-mysql 3306", entrypoint="bash")
    assert nc.returncode == 0, nc.stderr
    dump = stack.run("-c", 'mysqldump -h "$DB_HOST" -u "$DB_USER" -p"$DB_PASSWORD" "$DB_NAME" ta', entrypoint="bash")
    assert dump.returncode == 0 and "CREATE TABLE `ta`" in dump.stdout, dump.stderr
    mysql = stack.run("-c", 'mysql -h "$DB_HOST" -u "$DB_USER" -p"$DB_PASSWORD" "$DB_NAME" -N -e "SELECT COUNT(*) '
                            'FROM routes"', entrypoint="bash")
    assert mysql.returncode == 0 and mysql.stdout.strip() == "1", mysql.stdout + mysql.stderr
    dbshell = stack.run("manage.py", "dbshell", entrypoint="python", stdin=b"SELECT COUNT(*) FROM channel;\n")
    assert dbshell.returncode == 0 and "2" in dbshell.stdout, dbshell.stdout + dbshell.stderr


def test_dumpdata_and_loaddata_as_the_runbook_writes_them(stack: Stack, tmp_path: Path) -> None:
    stack.sql("INSERT INTO persist (domein, botskey, content) VALUES ('it', 'key', 'value')")
    dump = stack.run("manage.py", "dumpdata", "--exclude", "auth.permission", "--exclude", "contenttypes",
                     entrypoint="python")
    assert dump.returncode == 0, dump.stderr
    objects = json.loads(dump.stdout)
    models = {obj["model"] for obj in objects}
    assert {"bots.ta", "bots.persist", "bots.routes", "bots.report"} <= models, models
    backup = tmp_path / "backup.json"
    backup.write_text(dump.stdout)
    stack.sql("CREATE DATABASE botsedi_restore CHARACTER SET utf8mb4", database="mysql")
    restore_env = {"DB_NAME": "botsedi_restore"}
    init = stack.run("init-db", env=restore_env)
    assert init.returncode == 0, init.stdout + init.stderr
    load = stack.run("manage.py", "loaddata", entrypoint="python", env=restore_env, stdin=backup.read_bytes())
    assert load.returncode == 0, load.stdout + load.stderr
    assert f"Installed {len(objects)} object(s)" in load.stdout, load.stdout
    for table in ("ta", "report", "filereport", "persist"):
        assert stack.sql(f"SELECT COUNT(*) FROM {table}", "botsedi_restore") == \
            stack.sql(f"SELECT COUNT(*) FROM {table}"), table
    migrations = stack.run("manage.py", "showmigrations", entrypoint="python", env=restore_env)
    assert migrations.returncode == 0 and "[X] 0001_initial" in migrations.stdout, migrations.stdout


def test_jobqueue_runs_a_queued_engine_job(stack: Stack) -> None:
    queue = stack.start("jobqueue", "jobqueueserver")

    def listening() -> Observation:
        probe = docker("exec", queue, "nc", "-z", "127.0.0.1", "28082", check=False)
        return Observation(probe.returncode == 0, docker("logs", queue, check=False).stderr[-500:])

    wait_for("the job queue server to listen on 127.0.0.1:28082", listening, timeout=60)
    ready = docker("exec", queue, "python", "-m", "botsedi.jobqueue_ready", "28082", check=False)
    assert ready.returncode == 0, f"the readiness check fails on a working queue: {ready.stdout}{ready.stderr}"
    before = stack.max_idta()
    stack.drop_in("ORDERS_good.edi", rename="queued-")
    queued = docker("exec", queue, "bots-job2queue", "bots-engine", "--new")
    assert "OK, job is added to queue" in queued.stdout, queued.stdout + queued.stderr

    def job_finished() -> Observation:
        logs = docker("logs", queue).stdout + docker("logs", queue).stderr
        return Observation("Finished job 1" in logs, logs[-800:])

    wait_for("the queued engine job to finish", job_finished, timeout=120)
    logs = docker("logs", queue).stderr
    assert re.search(r"Finished job 1, .* result 0", logs), logs[-1500:]
    files = stack.sql(f"SELECT filename, statust FROM ta WHERE idta > {before} AND status = 200")
    assert files == [[f"{INBOUND}/queued-ORDERS_good.edi", "3"]], files


def test_components_stop_promptly_on_sigterm(stack: Stack) -> None:
    for role in ("web", "jobqueue"):
        started = time.monotonic()
        docker("stop", "-t", "20", stack.containers[role])
        took = time.monotonic() - started
        code = docker("inspect", "-f", "{{.State.ExitCode}}", stack.containers[role]).stdout.strip()
        assert code == "0" and took < 15, f"{role}: exit {code} after {took:.1f}s (SIGTERM must stop it cleanly)"


def test_init_db_repairs_a_schema_made_by_plain_migrate(stack: Stack) -> None:
    env = {"DB_NAME": "botsedi_plain"}
    stack.sql("CREATE DATABASE botsedi_plain CHARACTER SET utf8mb4", database="mysql")
    migrate = stack.run("manage.py", "migrate", "--run-syncdb", "-v0", entrypoint="python", env=env)
    assert migrate.returncode == 0, migrate.stderr
    # persist as bots' own SQL script makes it: composite primary key, no id column
    stack.sql("DROP TABLE persist; CREATE TABLE persist (domein VARCHAR(35), botskey VARCHAR(35), content TEXT, "
              "ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (domein, botskey)); "
              "INSERT INTO persist (domein, botskey, content) VALUES ('a', 'b', 'c')", "botsedi_plain")
    broken = stack.run("manage.py", "dumpdata", "bots.persist", entrypoint="python", env=env)
    assert broken.returncode != 0 and "Unknown column 'persist.id'" in broken.stderr, broken.stderr
    repair = stack.run("init-db", env=env)
    assert repair.returncode == 0 and "repaired: ALTER TABLE `ta`" in repair.stdout, repair.stdout + repair.stderr
    assert "repaired: ALTER TABLE `persist` DROP PRIMARY KEY" in repair.stdout, repair.stdout
    dump = stack.run("manage.py", "dumpdata", "bots.persist", entrypoint="python", env=env)
    assert dump.returncode == 0 and json.loads(dump.stdout)[0]["fields"]["botskey"] == "b", dump.stderr
    stack.drop_in("ORDERS_good.edi", rename="plain-")
    engine = stack.run("engine", "--new", env=env)
    assert engine.returncode == 0, engine.stdout + engine.stderr
    assert stack.sql("SELECT COUNT(*) FROM ta WHERE statust = 1", "botsedi_plain") == [["0"]]


def test_missing_database_settings_stop_a_component_with_a_clear_message(stack: Stack) -> None:
    result = docker("run", "--rm", "-e", "DB_NAME=botsedi", stack.image, "engine", "--new", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DB_USER, DB_PASSWORD, DB_HOST, DJANGO_SECRET_KEY not set" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_a_new_image_replaces_the_usersys_on_the_volume(stack: Stack) -> None:
    """usersys belongs to the image: a release's grammars and mappings reach a running deployment."""
    show = ("from botsedi import paths; "
            "print(open(paths.USERSYS_DIR + '/grammars/csv/orders_out.py').read().splitlines()[-1])")
    release = stack.run("-c", "cp -r /opt/bots/usersys /tmp/seed && echo '# release v2' >> "
                        "/tmp/seed/grammars/csv/orders_out.py && BOTS_USERSYS_SEED=/tmp/seed "
                        f"python -m botsedi.entrypoint python -c \"{show}\"", entrypoint="sh")
    assert release.returncode == 0, release.stdout + release.stderr
    assert "usersys replaced by the image's" in release.stdout + release.stderr, release.stdout + release.stderr
    assert release.stdout.strip().splitlines()[-1] == "# release v2", release.stdout
    back = stack.run("sh", "-c", f"python -c \"{show}\"")  # the deployed image again: its usersys back
    assert back.returncode == 0 and "# release v2" not in back.stdout, back.stdout + back.stderr
