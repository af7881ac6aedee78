"""The route plugin (zip content, determinism, equivalence with the image's seed) and reading it through a Bots
web UI: login with CSRF, the Read plugin page found from the menu, the upload, the route activated, and every
refusal as one AppError line without the password. The web UI is a fake of both Bots versions (3.3.1: /plugin/,
redirect to /home with the messages; the 4.0 fork: /bots/plugin, messages on the page) behind httpx.MockTransport.
"""
from __future__ import annotations

import ast
import hashlib
import html
import importlib.util
import io
import os
import secrets
import zipfile
import zipimport
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from edirunbook import paths, plugin
from edirunbook.errors import AppError

PASSWORD = "s3cret-" + secrets.token_hex(4)
SEED = paths.IMAGES_DIR / "bots-edi" / "app" / "botsedi" / "seed.py"


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def index_of(data: bytes, tmp_path: Path) -> Any:
    """botsindex imported from the zip the way Bots 3.3.1 does (zipimport), not by reading the text."""
    path = tmp_path / "plugin.zip"
    path.write_bytes(data)
    spec = zipimport.zipimporter(str(path)).find_spec("botsindex")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the plugin ----------------------------------------------------------------------------------------------


def test_the_plugin_holds_the_index_and_the_routes_grammars_and_mapping_but_no_charsets() -> None:
    files = entries(plugin.route_plugin())
    assert list(files) == ["botsindex.py", "usersys/grammars/csv/orders_out.py",
                           "usersys/grammars/edifact/ORDERSD96AUN.py", "usersys/grammars/edifact/_segments.py",
                           "usersys/grammars/edifact/edifact.py", "usersys/mappings/edifact/orders2csv.py"]
    for name, content in files.items():
        if name.startswith("usersys/"):
            assert content == (plugin.USERSYS_DIR / name.removeprefix("usersys/")).read_bytes(), name
    assert not any("charsets" in name or name.endswith("__init__.py") or name == "botsindex.json" for name in files)


def test_the_index_is_a_python_botsindex_with_the_rows_bots_reads(tmp_path: Path) -> None:
    index = index_of(plugin.route_plugin(), tmp_path)
    assert index.version == "3.3.1"
    assert index.plugins == [dict(p) for p in plugin.PLUGS]
    kinds = [p["plugintype"] for p in index.plugins]
    assert kinds == ["channel", "channel", "translate", "routes"]
    channels = [p for p in index.plugins if p["plugintype"] == "channel"]
    # relative to botssys: Bots puts the deployment's own botssys in front when it reads the plugin
    assert [c["path"] for c in channels] == ["botssys/infile/edifact_orders", "botssys/outfile/edifact_orders"]
    translate = index.plugins[2]
    assert translate["frompartner"] is None and translate["topartner"] is None  # keys read_index2database needs


def test_the_rows_are_those_the_reference_image_seeds(tmp_path: Path) -> None:
    """Every value seed.py's get_or_create gives (keys and defaults) is in the plugin's row for that model."""
    tree = ast.parse(SEED.read_text(encoding="utf-8"))
    namespace = {"IN_CHANNEL": plugin.IN_CHANNEL, "OUT_CHANNEL": plugin.OUT_CHANNEL, "ROUTE_ID": plugin.ROUTE_ID,
                 "botssys": "botssys", "os": os, "dict": dict}
    seeded: list[tuple[str, dict[str, Any]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get_or_create":
            model = node.func.value.value.attr  # type: ignore[attr-defined]  # models.<model>.objects
            values = {kw.arg: eval(compile(ast.Expression(kw.value), "seed.py", "eval"), namespace)  # noqa: S307
                      for kw in node.keywords}
            row = {k: v for k, v in values.items() if k != "defaults"} | values.get("defaults", {})
            seeded.append((model, {k.removesuffix("_id"): v for k, v in row.items()}))
    plugs = index_of(plugin.route_plugin(), tmp_path).plugins
    assert [model for model, _ in seeded] == [p["plugintype"] for p in plugs]
    for (model, row), plug in zip(seeded, plugs, strict=True):
        assert {k: plug.get(k) for k in row} == row, model
        assert set(plug) - set(row) <= {"plugintype"}, f"{model}: the plugin sets more than the seed does"


def test_the_plugin_bytes_are_the_same_every_time_whatever_the_files_dates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = plugin.route_plugin()
    assert plugin.route_plugin() == first
    copy = tmp_path / "usersys"
    for name in plugin.route_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((plugin.USERSYS_DIR / name).read_bytes())
        os.utime(target, (1_900_000_000, 1_900_000_000))
    monkeypatch.setattr(plugin, "USERSYS_DIR", copy)
    assert hashlib.sha256(plugin.route_plugin()).hexdigest() == hashlib.sha256(first).hexdigest()
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0) and info.compress_type == zipfile.ZIP_STORED
            assert info.external_attr >> 16 == 0o100644, info.filename


def test_a_missing_route_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin, "USERSYS_DIR", tmp_path)
    with pytest.raises(Exception, match=r"needs usersys/mappings/edifact/orders2csv.py"):
        plugin.route_plugin()


# --- a fake Bots web UI ----------------------------------------------------------------------------------------

LOGIN_ERROR = "Please enter a correct username and password. Note that both fields may be case-sensitive."


@dataclass
class FakeBots:
    """The parts of Bots' web UI the module uses, as 3.3.1 (`old`) or the 4.0 fork serve them."""

    old: bool = True
    users: dict[str, tuple[str, bool]] = field(default_factory=lambda: {"admin": (PASSWORD, True)})
    refuse: str = ""  # an error Bots shows instead of reading the plugin
    menu: bool = True
    plugin_path: str = ""
    csrf: str = field(default_factory=lambda: secrets.token_hex(16))
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> user
    pending: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # session -> messages to show
    uploads: list[dict[str, Any]] = field(default_factory=list)
    routes: dict[str, dict[str, Any]] = field(default_factory=dict)  # pk -> row
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home = "/home" if self.old else "/bots/home"
        self.plugin_path = self.plugin_path or ("/plugin/" if self.old else "/bots/plugin")

    # -- pages
    def page(self, body: str, session: str | None = None, title: str = "Bots") -> str:
        shown = self.pending.pop(session, []) if session else []
        messages = "".join(f'<li class="{level}">{text}</li>' for level, text in shown)
        listing = f'<ul class="messagelist">{messages}</ul>' if messages else ""
        return f"<html><head><title>{title}</title></head><body>{listing}{body}</body></html>"

    def login_page(self, error: bool = False) -> str:
        note = f'<p class="errornote">{LOGIN_ERROR}</p>' if error else ""
        return self.page(f'{note}<form action="/login/" method="post" id="login-form">'
                         f'<input type="hidden" name="csrfmiddlewaretoken" value="{self.csrf}">'
                         '<input type="text" name="username" required id="id_username">'
                         '<input type="password" name="password" required id="id_password">'
                         f'<input type="hidden" name="next" value="{self.home}">'
                         '<input type="submit" value="Log in"></form>', title="Log in | Bots")

    def home_page(self, session: str) -> str:
        superuser = self.users[self.sessions[session]][1]
        links = '<a href="/admin/bots/routes/">Routes</a>'
        if superuser and self.menu:
            links += f'<ul><a>SysTasks</a><li><a href="{self.plugin_path}" class="ico-plugin">Read plugin</a></li></ul>'
        return self.page(f"<div id='menu'>{links}</div><h1>Home</h1>", session)

    def plugin_page(self, session: str) -> str:
        action = self.plugin_path.rstrip("/") if self.old else self.plugin_path
        buttons = ('<input type="submit" name="cancel" value="Cancel" /><input type="submit" name="submit" '
                   'value="Read" />') if self.old else '<button name="submit" class="button ico-read">Read</button>'
        return self.page(f'<h1>Read a plugin</h1><form action="{action}" method="POST" '
                         f'enctype="multipart/form-data"><input type="hidden" name="csrfmiddlewaretoken" '
                         f'value="{self.csrf}"><label for="id_file">Plugin to read:</label>'
                         f'<input type="file" name="file" size="100" required id="id_file">{buttons}</form>', session)

    def routes_page(self, session: str, query: str) -> str:
        rows = "".join(
            f'<tr><td class="action-checkbox"><input type="checkbox" name="_selected_action" value="{pk}" '
            f'class="action-select"></td><td class="field-active"><img src="/static/admin/img/icon-'
            f'{"yes" if row["active"] else "no"}.svg" alt="{row["active"]}"></td><th class="field-idroute">'
            f'<a href="/admin/bots/routes/{pk}/change/">{html.escape(row["idroute"])}</a></th>'
            f'<td class="field-seq">{row["seq"]}</td></tr>'
            for pk, row in self.routes.items() if query in row["idroute"])
        return self.page('<form id="changelist-form" method="post" novalidate><input type="hidden" '
                         f'name="csrfmiddlewaretoken" value="{self.csrf}"><div class="actions"><label>Action: '
                         '<select name="action" required><option value="" selected>---------</option>'
                         '<option value="activate">activate/de-activate</option></select></label>'
                         '<input type="hidden" name="select_across" value="0" class="select-across">'
                         '<button type="submit" class="button" name="index" value="0">Go</button></div>'
                         f'<table id="result_list"><tbody>{rows}</tbody></table></form>', session)

    # -- the transport
    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        session = request.headers.get("cookie", "")
        cookies = dict(part.strip().split("=", 1) for part in session.split(";") if "=" in part)
        sid = cookies.get("sessionid") if cookies.get("sessionid") in self.sessions else None
        form: dict[str, list[str]] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request.method == "POST":
            form, files = self.form_of(request)
            if form.get("csrfmiddlewaretoken") != [self.csrf] or cookies.get("csrftoken") != self.csrf:
                return httpx.Response(403, text="<title>403 Forbidden</title>CSRF verification failed.")
        if path == "/login/":
            if request.method == "GET":
                return httpx.Response(200, text=self.login_page(),
                                      headers={"set-cookie": f"csrftoken={self.csrf}; Path=/"})
            user, password = form.get("username", [""])[0], form.get("password", [""])[0]
            if self.users.get(user, ("",))[0] != password or not password:
                return httpx.Response(200, text=self.login_page(error=True))
            new = secrets.token_hex(8)
            self.sessions[new] = user
            return httpx.Response(302, headers={"location": form["next"][0], "set-cookie": f"sessionid={new}; Path=/"})
        if sid is None:
            return httpx.Response(302, headers={"location": f"/login/?next={path}"})
        superuser = self.users[self.sessions[sid]][1]
        if path == self.home:
            return httpx.Response(200, text=self.home_page(sid))
        if path.rstrip("/") == self.plugin_path.rstrip("/"):
            if not superuser:
                return httpx.Response(302, headers={"location": f"/login/?next={path}"})
            if request.method == "GET":
                return httpx.Response(200, text=self.plugin_page(sid))
            return self.read_plugin(sid, form, files)
        if path == "/admin/bots/routes/":
            if request.method == "POST" and form.get("action") == ["activate"]:
                for pk in form.get("_selected_action", []):
                    self.routes[pk]["active"] = not self.routes[pk]["active"]
                return httpx.Response(302, headers={"location": "/admin/bots/routes/"})
            return httpx.Response(200, text=self.routes_page(sid, request.url.params.get("q", "")))
        return httpx.Response(200, text=self.page("<h1>Bots</h1>", sid))  # Bots' catch-all: the index page

    @staticmethod
    def form_of(request: httpx.Request) -> tuple[dict[str, list[str]], dict[str, tuple[str, bytes]]]:
        body = request.read()
        kind = request.headers.get("content-type", "")
        if not kind.startswith("multipart/"):
            return parse_qs(body.decode(), keep_blank_values=True), {}
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
        form: dict[str, list[str]] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            filename = part.get_filename()
            if filename is not None:
                files[name] = (filename, payload)
            else:
                form.setdefault(name, []).append(payload.decode())
        return form, files

    def read_plugin(self, sid: str, form: dict[str, list[str]], files: dict[str, tuple[str, bytes]]
                    ) -> httpx.Response:
        messages = self.pending.setdefault(sid, [])
        if "submit" not in form or "file" not in files or not files["file"][1]:
            messages.append(("info", "No plugin read."))
        else:
            name, data = files["file"]
            self.uploads.append({"name": name, "data": data, "form": form})
            error = self.refuse or ("" if zipfile.is_zipfile(io.BytesIO(data)) else "Plugin is not a valid file.")
            if error:
                messages.append(("error", f'Error reading plugin: "{error}".' if self.old else
                                 f'Error occured while reading plugin "{name}": {error}'))
            else:
                for plug in self.plugs(data):
                    if plug["plugintype"] == "routes":
                        self.routes[str(len(self.routes) + 1)] = {**plug, "active": False}
                if self.old:
                    messages.append(("info", f'Plugin "{name}" is read successful.'))
                else:
                    messages += [("warning", "Plugin Bots version: 3.3.1"),
                                 ("warning", "Bots plugin with python botsindex is deprecated<br>Make a new one."),
                                 ("info", f'Plugin "{name}" successfully installed.')]
        if self.old:
            return httpx.Response(302, headers={"location": "/home"})
        return httpx.Response(200, text=self.plugin_page(sid))

    @staticmethod
    def plugs(data: bytes) -> list[dict[str, Any]]:
        scope: dict[str, Any] = {}
        exec(entries(data)["botsindex.py"].decode(), scope)  # noqa: S102 - as zipimport would
        return list(scope["plugins"])


def transport(bots: FakeBots) -> httpx.MockTransport:
    return httpx.MockTransport(bots)


# --- reading the plugin ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("old", [True, False], ids=["bots-3.3.1", "bots-4.0-fork"])
def test_the_plugin_is_uploaded_on_the_page_the_menu_names_and_bots_messages_come_back(old: bool) -> None:
    bots = FakeBots(old=old)
    said = plugin.install_plugin("http://bots.test", "admin", PASSWORD, plugin.route_plugin(), timeout=5,
                                 transport=transport(bots))
    if old:
        assert said == 'Plugin "edirunbook-edifact_orders.zip" is read successful.'
    else:
        assert said.splitlines() == ["Plugin Bots version: 3.3.1",
                                     "Bots plugin with python botsindex is deprecated Make a new one.",
                                     'Plugin "edirunbook-edifact_orders.zip" successfully installed.']
    (upload,) = bots.uploads
    assert upload["data"] == plugin.route_plugin() and upload["name"] == plugin.PLUGIN_NAME
    assert "submit" in upload["form"] and "cancel" not in upload["form"]
    post = next(r for r in bots.requests if r.startswith("POST") and "login" not in r)
    assert post == ("POST /plugin" if old else "POST /bots/plugin")  # the form's own action


def test_the_menu_link_is_followed_wherever_it_points() -> None:
    bots = FakeBots(old=False, plugin_path="/edi/systasks/readplugin")
    plugin.install_plugin("http://bots.test", "admin", PASSWORD, plugin.route_plugin(), timeout=5,
                          transport=transport(bots))
    assert "GET /edi/systasks/readplugin" in bots.requests and "GET /bots/plugin" not in bots.requests


@pytest.mark.parametrize("old", [True, False], ids=["bots-3.3.1", "bots-4.0-fork"])
def test_without_a_menu_link_the_known_pages_are_tried_in_order(old: bool) -> None:
    bots = FakeBots(old=old, menu=False)
    plugin.install_plugin("http://bots.test", "admin", PASSWORD, plugin.route_plugin(), timeout=5,
                          transport=transport(bots))
    tried = [r for r in bots.requests if r in ("GET /bots/plugin", "GET /plugin/")]
    assert tried == (["GET /bots/plugin", "GET /plugin/"] if old else ["GET /bots/plugin"])


@pytest.mark.parametrize("old", [True, False], ids=["bots-3.3.1", "bots-4.0-fork"])
def test_a_wrong_password_is_one_line_without_the_password(old: bool) -> None:
    wrong = PASSWORD + "-wrong"
    with pytest.raises(AppError) as caught:
        plugin.install_plugin("http://bots.test/", "admin", wrong, plugin.route_plugin(), timeout=5,
                              transport=transport(FakeBots(old=old)))
    message = str(caught.value)
    assert message == f"the Bots web UI at http://bots.test refused the login of 'admin': {LOGIN_ERROR}"
    assert wrong not in message and PASSWORD not in message and "\n" not in message


@pytest.mark.parametrize("old", [True, False], ids=["bots-3.3.1", "bots-4.0-fork"])
def test_a_plugin_bots_rejects_gives_bots_reason(old: bool) -> None:
    bots = FakeBots(old=old, refuse="Error in plugin. Nothing is written. Error:\nSyntaxError: '{' was never closed")
    with pytest.raises(AppError) as caught:
        plugin.install_plugin("http://bots.test", "admin", PASSWORD, plugin.route_plugin(), timeout=5,
                              transport=transport(bots))
    reason = "Error in plugin. Nothing is written. Error: SyntaxError: '{' was never closed"
    expected = (f'Error reading plugin: "{reason}".' if old else
                f'Error occured while reading plugin "edirunbook-edifact_orders.zip": {reason}')
    assert str(caught.value) == f"Bots did not install the plugin edirunbook-edifact_orders.zip: {expected}"


def test_a_file_that_is_no_zip_is_refused_by_bots_and_said_so() -> None:
    with pytest.raises(AppError, match=r'did not install the plugin x.zip: Error reading plugin: "Plugin is not a '
                                       r'valid file."'):
        plugin.install_plugin("http://bots.test", "admin", PASSWORD, b"no zip", timeout=5, name="x.zip",
                              transport=transport(FakeBots()))


def test_an_upload_bots_does_not_read_is_not_taken_for_success() -> None:
    with pytest.raises(AppError, match=r"did not confirm the plugin .* it said: No plugin read\.$"):
        plugin.install_plugin("http://bots.test", "admin", PASSWORD, b"", timeout=5,
                              transport=transport(FakeBots(old=False)))


def test_a_user_who_is_no_superuser_is_told_so() -> None:
    bots = FakeBots(users={"clerk": (PASSWORD, False)})
    with pytest.raises(AppError, match=r"'clerk' may not open the Read plugin page .*needs a Bots superuser"):
        plugin.install_plugin("http://bots.test", "clerk", PASSWORD, plugin.route_plugin(), timeout=5,
                              transport=transport(bots))


def test_an_unreachable_web_ui_is_one_line() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(AppError) as caught:
        plugin.install_plugin("http://127.0.0.1:9", "admin", PASSWORD, b"", timeout=5,
                              transport=httpx.MockTransport(refuse))
    assert str(caught.value) == ("cannot reach the Bots web UI at http://127.0.0.1:9 (GET /login/): "
                                 "ConnectError: [Errno 111] Connection refused")


def test_a_page_that_is_no_bots_login_says_what_it_saw() -> None:
    def nginx(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html><head><title>404 Not Found</title></head></html>")

    with pytest.raises(AppError, match=r"http://x.test/edi/login/ shows no login form \(HTTP 404, 404 Not Found\)"):
        plugin.install_plugin("http://x.test/edi", "admin", PASSWORD, b"", timeout=5,
                              transport=httpx.MockTransport(nginx))


def test_a_csrf_refusal_is_named() -> None:
    bots = FakeBots()

    def forget_csrf(request: httpx.Request) -> httpx.Response:
        response = bots(request)
        response.headers.pop("set-cookie", None)  # as a proxy that drops cookies would
        return response

    with pytest.raises(AppError, match=r"refused the login form \(HTTP 403, 403 Forbidden\): CSRF check failed"):
        plugin.install_plugin("http://bots.test", "admin", PASSWORD, b"", timeout=5,
                              transport=httpx.MockTransport(forget_csrf))


def test_the_password_never_reaches_a_message_even_when_bots_echoes_it() -> None:
    bots = FakeBots(old=False, refuse=f"database said: access denied for password {PASSWORD}")
    with pytest.raises(AppError) as caught:
        plugin.install_plugin("http://bots.test", "admin", PASSWORD, plugin.route_plugin(), timeout=5,
                              transport=transport(bots))
    assert PASSWORD not in str(caught.value) and "password ***" in str(caught.value)


# --- activating the route --------------------------------------------------------------------------------------


@pytest.mark.parametrize("old", [True, False], ids=["bots-3.3.1", "bots-4.0-fork"])
def test_seeding_reads_the_plugin_then_activates_the_route_bots_left_inactive(old: bool) -> None:
    bots = FakeBots(old=old)
    said = plugin.seed_route("http://bots.test", "admin", PASSWORD, timeout=5, transport=transport(bots))
    assert said[-1] == "route edifact_orders activated (1 row)"
    assert any("edirunbook-edifact_orders.zip" in line for line in said)
    assert [row["active"] for row in bots.routes.values()] == [True]
    again = plugin.activate_route("http://bots.test", "admin", PASSWORD, timeout=5, transport=transport(bots))
    assert again == "route edifact_orders is active (1 row)"  # the action toggles: an active route is left alone
    assert [row["active"] for row in bots.routes.values()] == [True]


def test_only_the_inactive_rows_of_the_route_are_toggled() -> None:
    bots = FakeBots()
    bots.routes = {"1": {"idroute": "edifact_orders", "seq": 1, "active": True},
                   "2": {"idroute": "edifact_orders", "seq": 2, "active": False},
                   "3": {"idroute": "edifact_orders_2", "seq": 1, "active": False}}
    assert plugin.activate_route("http://bots.test", "admin", PASSWORD, timeout=5,
                                 transport=transport(bots)) == "route edifact_orders activated (1 row)"
    assert [row["active"] for row in bots.routes.values()] == [True, True, False]


def test_activating_a_route_that_is_not_there_says_so() -> None:
    bots = FakeBots()
    bots.routes = {"1": {"idroute": "other", "seq": 1, "active": True}}
    with pytest.raises(AppError, match=r"shows no route 'edifact_orders' \(HTTP 200\): was the plugin read\?"):
        plugin.activate_route("http://bots.test", "admin", PASSWORD, timeout=5, transport=transport(bots))
