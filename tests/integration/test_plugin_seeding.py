"""The route plugin read into the reference image's Bots through its web UI, then the engine translating with it.

Run with `.venv/bin/pytest tests/integration/test_plugin_seeding.py` (DOCKER_HOST pointing at the suite's daemon,
or `make integration`). It uses the reference target's image and the suite's MariaDB image, both content-hashed
and built when missing. The deployment in miniature sits on an `--internal` network (no way off the machine);
the web UI reaches the host through a forwarder container that is on that network and on a second one that
publishes 127.0.0.1 only (Docker publishes no port of an internal network). The reference image seeds the route
itself on init-db, so its rows and usersys files are removed first: the deployment then lacks the route the way
a team's does, and only the plugin can bring it back. Everything carries the run's name and is removed at the
end, also after a failure; the env files with the random passwords are deleted.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from edirunbook import images, plugin
from edirunbook import target as targets
from edirunbook.docker import daemon
from edirunbook.errors import AppError, RunbookSuiteError
from edirunbook.waiting import Observation, wait_for

REPO = Path(__file__).resolve().parents[2]
RUN = f"plugin-it-{secrets.token_hex(4)}"
BOTS_HOME = "/home/bots/.bots"
USERSYS = f"{BOTS_HOME}/env/production/usersys"
INBOUND = f"{BOTS_HOME}/botssys/infile/{plugin.ROUTE_ID}"
OUTBOUND = f"{BOTS_HOME}/botssys/outfile/{plugin.ROUTE_ID}"
SAMPLE = REPO / "images" / "bots-edi" / "samples" / "ORDERS_good.edi"
EXPECTED_CSV = ["HEA,PO-4711,20261127,5412345000013,8712345000014,5412345000013,EDIRB0001",
                "LIN,1,4000862141404,12", "LIN,2,4000862141411,48"]
# a TCP forwarder: :8080 of this container to the webserver's :8080 on the internal network
FORWARD = """
import asyncio, sys
async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
async def handle(reader, writer):
    try:
        up_reader, up_writer = await asyncio.open_connection(sys.argv[1], 8080)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)
async def main():
    async with await asyncio.start_server(handle, "0.0.0.0", 8080) as server:
        await server.serve_forever()
asyncio.run(main())
"""


@dataclass
class Deployment:
    docker: daemon.Docker
    app_image: str
    env_file: Path
    admin_password: str
    web_url: str = ""
    made: list[str] = field(default_factory=list)

    def cli(self, *args: str, check: bool = True, timeout: float = 300, stdin: bytes | None = None
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["docker", *args], input=stdin.decode() if stdin is not None else None,
                                capture_output=True, text=True, timeout=timeout, check=False,
                                env={**os.environ, **self.docker.env()})
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args[:2])} exited {result.returncode}:\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def app(self, *args: str, env_file: Path | None = None) -> subprocess.CompletedProcess[str]:
        """`docker run --rm` of the app image on the internal network and the data volume."""
        extra = ["--env-file", str(env_file)] if env_file else []
        return self.cli("run", "--rm", "--network", RUN, "--env-file", str(self.env_file), *extra,
                        "-v", f"{RUN}-data:{BOTS_HOME}", self.app_image, *args, check=False)

    def sql(self, query: str) -> list[list[str]]:
        out = self.cli("exec", "-i", f"{RUN}-db", "sh", "-c", 'mariadb -uroot -p"$MYSQL_ROOT_PASSWORD" -N -B bots',
                       stdin=query.encode()).stdout
        return [line.split("\t") for line in out.splitlines()]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    try:
        docker = daemon.connect()
        from edirunbook.environment import deploy

        app_image = deploy.app_image(docker, targets.load("reference"))
        db_image = images.recipe(docker, "mariadb", images.debian_base(docker))
    except RunbookSuiteError as error:
        pytest.fail(f"no Docker to run the reference image on: {error}")
    secrets_dir = tmp_path_factory.mktemp("plugin-env")
    secrets_dir.chmod(0o700)
    db_password, admin_password = secrets.token_hex(12), secrets.token_urlsafe(12)
    db_env, app_env = secrets_dir / "db.env", secrets_dir / "app.env"
    db_env.write_text(f"MYSQL_ROOT_PASSWORD={secrets.token_hex(12)}\nMYSQL_DATABASE=bots\nMYSQL_USER=bots\n"
                      f"MYSQL_PASSWORD={db_password}\n")
    app_env.write_text(f"DB_NAME=bots\nDB_USER=bots\nDB_PASSWORD={db_password}\nDB_HOST=bots-mysql\nDB_PORT=3306\n"
                       f"DJANGO_SECRET_KEY={secrets.token_hex(25)}\n")
    for file in (db_env, app_env):
        file.chmod(0o600)
    stack = Deployment(docker, app_image, app_env, admin_password)
    label = ["--label", "edirunbook.owner=edirunbook"]
    try:
        stack.cli("network", "create", "--internal", *label, RUN)
        stack.cli("network", "create", *label, f"{RUN}-pub")
        stack.cli("volume", "create", *label, f"{RUN}-data")
        stack.cli("run", "-d", "--name", f"{RUN}-db", "--network", RUN, "--network-alias", "bots-mysql",
                  "--tmpfs", "/var/lib/mysql", "--env-file", str(db_env), *label, db_image)

        def db_ready() -> Observation:
            logs = stack.cli("logs", f"{RUN}-db", check=False)
            text = logs.stdout + logs.stderr
            return Observation(text.count("ready for connections") >= 2, text[-500:])

        wait_for("the MariaDB container to accept connections", db_ready, timeout=120)
        admin_env = secrets_dir / "admin.env"
        admin_env.write_text(f"BOTS_ADMIN_USER=admin\nBOTS_ADMIN_PASSWORD={admin_password}\n")
        admin_env.chmod(0o600)
        init = stack.app("init-db", env_file=admin_env)
        admin_env.unlink()
        assert init.returncode == 0, init.stdout + init.stderr
        assert "init-db: created superuser admin" in init.stdout, init.stdout
        # the reference seeds the route itself: take it away, rows and files, so only the plugin can bring it
        stack.sql("DELETE FROM routes WHERE idroute='edifact_orders'; DELETE FROM translate WHERE "
                  "tscript='orders2csv'; DELETE FROM channel WHERE idchannel IN ('edifact_orders_in', "
                  "'edifact_orders_out')")
        removed = stack.cli("run", "--rm", "--network", "none", "-v", f"{RUN}-data:{BOTS_HOME}", "--entrypoint",
                            "sh", app_image, "-c", f"cd {USERSYS} && rm " + " ".join(plugin.route_files()), check=False)
        assert removed.returncode == 0, removed.stderr
        stack.cli("run", "-d", "--name", f"{RUN}-web", "--network", RUN, "--network-alias", "bots-web",
                  "--env-file", str(app_env), "-e", "BOTS_SKIP_DB_INIT=true", "-v", f"{RUN}-data:{BOTS_HOME}",
                  *label, app_image, "webserver")
        stack.cli("run", "-d", "--name", f"{RUN}-fwd", "--network", f"{RUN}-pub", "-p", "127.0.0.1::8080",
                  "--entrypoint", "python3", *label, app_image, "-c", FORWARD, "bots-web")
        stack.cli("network", "connect", RUN, f"{RUN}-fwd")
        port = stack.cli("port", f"{RUN}-fwd", "8080").stdout.splitlines()[0].rsplit(":", 1)[1]
        stack.web_url = f"http://127.0.0.1:{port}"

        def login_page() -> Observation:
            response = httpx.get(stack.web_url + "/login/", timeout=5, trust_env=False)
            return Observation(response.status_code == 200, f"{response.status_code} {response.text[:200]}")

        wait_for("the Bots web UI to serve /login/ through the forwarder", login_page, timeout=120)
        yield stack
    finally:
        names = stack.cli("ps", "-aq", "--filter", f"name={RUN}", check=False).stdout.split()
        if names:
            stack.cli("rm", "-f", "-v", *names, check=False)
        stack.cli("volume", "rm", "-f", f"{RUN}-data", check=False)
        for network in (RUN, f"{RUN}-pub"):
            stack.cli("network", "rm", network, check=False)
        for file in secrets_dir.iterdir():
            file.unlink()


def test_a_wrong_password_is_refused_without_showing_it(deployment: Deployment) -> None:
    wrong = deployment.admin_password + "x"
    with pytest.raises(AppError) as caught:
        plugin.install_plugin(deployment.web_url, "admin", wrong, plugin.route_plugin(), timeout=30)
    assert "refused the login of 'admin': Please enter a correct username and password" in str(caught.value)
    assert wrong not in str(caught.value)


@pytest.fixture(scope="module")
def seeded(deployment: Deployment) -> list[str]:
    """The route seeded as production installs one: the plugin read in the web UI, the route activated there."""
    assert deployment.sql("SELECT COUNT(*) FROM routes") == [["0"]]
    return plugin.seed_route(deployment.web_url, "admin", deployment.admin_password, timeout=60)


def test_the_plugin_read_in_the_web_ui_brings_the_route(deployment: Deployment, seeded: list[str]) -> None:
    said = seeded
    assert 'Plugin "edirunbook-edifact_orders.zip" is read successful.' in said, said
    assert said[-1] == "route edifact_orders activated (1 row)", said
    assert deployment.sql("SELECT idroute, seq, active, fromchannel_id, tochannel_id, translateind FROM routes") == [
        ["edifact_orders", "1", "1", "edifact_orders_in", "edifact_orders_out", "1"]]
    assert deployment.sql("SELECT idchannel, inorout, path, filename FROM channel ORDER BY idchannel") == [
        ["edifact_orders_in", "in", INBOUND, "*"], ["edifact_orders_out", "out", OUTBOUND, "orders_*.csv"]]
    assert deployment.sql("SELECT fromeditype, frommessagetype, tscript, toeditype, tomessagetype, active "
                          "FROM translate") == [["edifact", "ORDERSD96AUN", "orders2csv", "csv", "orders_out", "1"]]
    files = deployment.cli("exec", f"{RUN}-web", "sh", "-c",
                           f"cd {USERSYS} && sha256sum " + " ".join(plugin.route_files())).stdout
    local = {name: hashlib.sha256((plugin.USERSYS_DIR / name).read_bytes()).hexdigest()
             for name in plugin.route_files()}
    assert {line.split()[1]: line.split()[0] for line in files.splitlines()} == local
    logs = deployment.cli("logs", f"{RUN}-web")
    assert deployment.admin_password not in logs.stdout + logs.stderr


def test_the_engine_translates_the_sample_with_the_plugins_route(deployment: Deployment, seeded: list[str]) -> None:
    deployment.cli("exec", "-i", f"{RUN}-web", "sh", "-c", f"mkdir -p {INBOUND} && cat > {INBOUND}/ORDERS_good.edi",
                   stdin=SAMPLE.read_bytes())
    engine = deployment.app("engine", "--new")
    assert engine.returncode == 0, engine.stdout + engine.stderr
    rows = deployment.sql("SELECT status, statust, editype, messagetype FROM ta WHERE status >= 200 ORDER BY idta")
    assert rows and all(row[1] == "3" for row in rows), rows
    assert ["320", "3", "edifact", "ORDERSD96AUN"] in rows and ["520", "3", "csv", "orders_out"] in rows, rows
    out = deployment.sql("SELECT filename FROM ta WHERE status = 520")[0][0]
    assert out.startswith(OUTBOUND + "/orders_"), out
    content = deployment.cli("exec", f"{RUN}-web", "cat", out).stdout
    assert content.splitlines() == EXPECTED_CSV, content
