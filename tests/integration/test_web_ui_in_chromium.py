"""The web UI library in a real headless chromium (Debian's, installed on first use as root), against a
127.0.0.1 server that serves pages shaped like Bots 3.3.1's: the menu, the login form, a select form and a
list view of two pages. The scenarios run it against the real Bots web UI.

Run with `pytest tests/integration/test_web_ui_in_chromium.py` (a few seconds once chromium is installed).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from edirunbook.browser import Login, Screenshots, WebUI, items_shown
from edirunbook.errors import AppError

PASSWORD = "It5-a-s3cret"
MENU_OUT = '<div id="menu"><ul><a href="/login/">Log in</a></ul></div>'
MENU_IN = ('<style>#menu ul li{display:none}#menu ul:hover li{display:block}</style><div id="menu">'
           '<ul><a href="/home">Home</a><li><a href="/logout/">Log out</a></li></ul>'
           '<ul><a>Select</a><li><a href="/reports/?select">Reports (per run)</a></li>'
           '<li><a href="/incoming/?select">Incoming</a></li></ul></div>')
LOGIN = ('<form method="post" action="/login/"><input id="id_username" name="username">'
         '<input id="id_password" name="password" type="password"><input type="submit" value="Log in"></form>')
SELECT = ('<h1>Select incoming</h1><form method="post" action="/incoming/"><input id="id_datefrom" name="datefrom">'
          '<input id="id_dateuntil" name="dateuntil" value="2026-11-30 23:59:59"><select id="id_statust" '
          'name="statust"><option value="">---------</option><option value="1">Error</option></select>'
          '<input type="submit" name="fromselect" value="Show selection"></form>')


def _incoming(page: int) -> str:
    rows = {1: [("/in/a.edi", "[E05]: Segmentcount wrong")], 2: [("/in/b.csv", "[M51]: no interchange")]}[page]
    body = "".join(f'<tr><td><a title="{name}">{name[-5:]}</a></td><td style="white-space: pre">{error}</td></tr>'
                   for name, error in rows)
    disabled = "" if page == 1 else "disabled"
    return (f'<form method="post" action="/incoming/"><input type="hidden" name="page" value="{page}">'
            f'(Page {page} of 2; 2 items)<input type="submit" name="next" value="&gt;" {disabled}>'
            f'<table id="botstable"><thead><tr><th>InFile</th><th>Error</th></tr></thead><tbody>{body}</tbody>'
            "</table></form>")


class FakeBots(BaseHTTPRequestHandler):
    def _page(self, body: str, *, logged_in: bool = True, status: int = 200) -> None:
        html = f"<html><head><title>Bots</title></head><body>{MENU_IN if logged_in else MENU_OUT}{body}</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(html.encode())

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        routes = {"/": ("", False), "/login/": (LOGIN, False), "/home": ("Bots Open Source EDI Translator", True),
                  "/incoming/?select": (SELECT, True)}
        if self.path not in routes:
            return self._page("<h1>Not found</h1>", logged_in=False, status=404)
        body, logged_in = routes[self.path]
        self._page(body, logged_in=logged_in)

    def do_POST(self) -> None:  # noqa: N802
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        if self.path == "/login/":
            if form.get("password") == [PASSWORD]:
                self.send_response(302)
                self.send_header("Location", "/home")
                self.end_headers()
                return None
            return self._page(f'<p class="errornote">Please enter the correct username and password.</p>{LOGIN}',
                              logged_in=False)
        return self._page(_incoming(2 if "next" in form else 1))

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeBots)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_operator_logs_in_selects_and_reads_every_page(server: str, tmp_path: Path) -> None:
    titles: list[str] = []
    with WebUI(Screenshots(tmp_path), secrets=[PASSWORD], timeout=15,
               on_screenshot=lambda path, title: titles.append(title)) as ui:
        ui.open(server + "/")
        assert "Bots Open Source EDI Translator" in ui.log_in(Login("admin", PASSWORD)).text
        ui.choose_menu("Select", "Incoming")
        assert ui.form_value("dateuntil") == "2026-11-30 23:59:59"
        view = ui.select({"datefrom": "2026-11-29 07:00:00"}, {"statust": "Error"}, name="errors", note="since")
        assert items_shown(view.text) == 2
        assert ui.all_rows("errors") == [{"InFile": "/in/a.edi", "Error": "[E05]: Segmentcount wrong"},
                                         {"InFile": "/in/b.csv", "Error": "[M51]: no interchange"}]
    assert ui._browser is None  # closed
    assert [p.name for p in sorted(tmp_path.glob("*.png"))] == [
        "01-start-page.png", "02-login.png", "03-home.png", "04-select-incoming.png", "05-errors.png",
        "06-errors-page-2.png"]
    assert titles[4] == f"errors: {server}/incoming/ (since; Page 1 of 2; 2 items)"
    assert all(PASSWORD not in title for title in titles)


def test_a_refused_login_says_what_the_page_says_and_never_the_password(server: str, tmp_path: Path) -> None:
    with WebUI(Screenshots(tmp_path), secrets=[PASSWORD], timeout=15) as ui:
        ui.open(server + "/login/")
        with pytest.raises(AppError, match="did not log in user 'admin'.*Please enter the correct") as error:
            ui.log_in(Login("admin", PASSWORD + "-wrong"))
        assert PASSWORD not in str(error.value)
        with pytest.raises(AppError, match="answered HTTP 404"):
            ui.open(server + "/nowhere")
