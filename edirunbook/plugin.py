"""The suite's route `edifact_orders` as a Bots plugin, read into a deployment through the Bots web UI.

A team's Bots EDI does not know the route the scenarios use (EDIFACT ORDERS D.96A dropped in
botssys/infile/edifact_orders, translated to CSV in botssys/outfile/edifact_orders). Production installs routes
as a Bots plugin read in the web UI (SysTasks > Read plugin, superuser only), so the suite does the same:

- route_plugin(): the plugin zip, made from the suite's own files: the grammars and the mapping of the route
  from images/bots-edi/usersys (never the EDIFACT charsets: whether a deployment has them is the deployment's
  business, and the gate must find it out) and the configuration rows images/bots-edi/app/botsedi/seed.py
  creates (two file channels with paths relative to botssys, the translation, the route).
  The index is `botsindex.py`: bots-ediint 3.3.1 reads only that (zipimport of module botsindex); the 4.0
  fork reads botsindex.json first and falls back to botsindex.py with a deprecation warning. A botsindex.json
  next to it would be written by 3.3.1 into its own package directory, so there is none. No `__init__.py`
  either: 4.0 skips them ("__init__ file detected"), and Python 3 imports the directories without them.
  The bytes are deterministic (sorted entries, fixed timestamps and modes, stored uncompressed), so the
  plugin can be content-hashed.
- install_plugin(): logs in (Django login form + CSRF), finds the "Read plugin" page from the UI's menu (3.3.1
  serves it at /plugin/, the 4.0 fork at /bots/plugin), uploads the zip as its form does (fields `file` and
  `submit`) and returns the messages Bots shows.
- activate_route(): Bots sets every route read from a plugin inactive (pluglib.read_index2database, both
  versions); an operator then activates it in Configuration > Routes with the admin action
  "activate/de-activate". This does that.
- seed_route(): both, in one session.

Errors are AppError with a one-line cause; the password never appears in one.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from edirunbook import paths, tls
from edirunbook.errors import AppError, BuildError
from edirunbook.redaction import redact

ROUTE_ID = "edifact_orders"
IN_CHANNEL = ROUTE_ID + "_in"
OUT_CHANNEL = ROUTE_ID + "_out"
PLUGIN_NAME = f"edirunbook-{ROUTE_ID}.zip"
USERSYS_DIR = paths.IMAGES_DIR / "bots-edi" / "usersys"
# the plugin format written: the index of bots-ediint 3.3.1, which the 4.0 fork still reads
INDEX_VERSION = "3.3.1"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: no build time in the bytes

# The rows of images/bots-edi/app/botsedi/seed.py. Paths start with `botssys`: Bots puts the target's botssys
# in its place when it reads the plugin (pluglib.read_index2database), wherever that botssys is.
CHANNEL_IN = {
    "plugintype": "channel", "idchannel": IN_CHANNEL, "inorout": "in", "type": "file",
    "path": f"botssys/infile/{ROUTE_ID}",
    "filename": "*",  # every file, so a file of unknown format is an error, not ignored
    "remove": True,  # else every run reads the same files again
    "desc": "EDIFACT ORDERS from trading partners (edirunbook sample route)",
}
CHANNEL_OUT = {
    "plugintype": "channel", "idchannel": OUT_CHANNEL, "inorout": "out", "type": "file",
    "path": f"botssys/outfile/{ROUTE_ID}",
    "filename": "orders_*.csv",  # * is replaced by a unique counter
    "desc": "Orders as CSV for the order system (edirunbook sample route)",
}
TRANSLATE = {
    "plugintype": "translate", "active": True, "fromeditype": "edifact", "frommessagetype": "ORDERSD96AUN",
    "alt": "", "frompartner": None, "topartner": None, "tscript": "orders2csv", "toeditype": "csv",
    "tomessagetype": "orders_out", "desc": "EDIFACT ORDERS D.96A to CSV",
}
ROUTE = {
    "plugintype": "routes", "idroute": ROUTE_ID, "seq": 1,
    "active": True,  # as configured; Bots deactivates every route it reads from a plugin (see activate_route)
    "fromchannel": IN_CHANNEL, "fromeditype": "edifact", "frommessagetype": "edifact", "tochannel": OUT_CHANNEL,
    "translateind": 1, "desc": "EDIFACT ORDERS in, CSV out",
}
PLUGS = (CHANNEL_IN, CHANNEL_OUT, TRANSLATE, ROUTE)

# where the 4.0 fork mounts the page (namespace bots), then 3.3.1's: tried when the menu names none
PLUGIN_PATHS = ("/bots/plugin", "/plugin/")
ROUTES_PATHS = ("/admin/bots/routes/",)
LOGIN_PATH = "/login/"
_RELATIVE_IMPORT = re.compile(r"^from \.(\w+) import", re.MULTILINE)


# --- the plugin ----------------------------------------------------------------------------------------------


def route_files() -> list[str]:
    """The usersys files of the route, relative to usersys: its mapping, its grammars and what they import."""
    wanted = [
        f"mappings/{TRANSLATE['fromeditype']}/{TRANSLATE['tscript']}.py",
        f"grammars/{ROUTE['fromeditype']}/{ROUTE['frommessagetype']}.py",  # the envelope the route reads
        f"grammars/{TRANSLATE['fromeditype']}/{TRANSLATE['frommessagetype']}.py",
        f"grammars/{TRANSLATE['toeditype']}/{TRANSLATE['tomessagetype']}.py",
    ]
    found: list[str] = []
    while wanted:
        name = wanted.pop(0)
        if name in found:
            continue
        file = USERSYS_DIR / name
        if not file.is_file():
            raise BuildError(f"the route {ROUTE_ID} needs usersys/{name}, and {file} does not exist")
        found.append(name)
        folder = name.rsplit("/", 1)[0]
        wanted += [f"{folder}/{module}.py" for module in _RELATIVE_IMPORT.findall(file.read_text(encoding="utf-8"))]
    return sorted(found)


def botsindex() -> str:
    """botsindex.py as Bots writes one (pluglib.make_plugs2string): `version` and `plugins`, keys sorted."""
    lines = ["# -*- coding: utf-8 -*-",
             f"# the route {ROUTE_ID} of edirunbook (images/bots-edi): EDIFACT ORDERS D.96A in, CSV out",
             "from __future__ import unicode_literals",
             f"version = {INDEX_VERSION!r}",
             "plugins = ["]
    for plug in PLUGS:
        rest = ", ".join(f"{key!r}: {plug[key]!r}" for key in sorted(plug) if key != "plugintype")
        lines.append(f"{{'plugintype': {plug['plugintype']!r}, {rest}}},")
    lines.append("]")
    return "\n".join(lines) + "\n"


def route_plugin() -> bytes:
    """The Bots plugin zip of the route: botsindex.py plus usersys/<grammars and mapping>; same bytes every time."""
    entries = [("botsindex.py", botsindex().encode("utf-8"))]
    entries += [(f"usersys/{name}", (USERSYS_DIR / name).read_bytes()) for name in route_files()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = 3  # unix, so the mode below means what it says on every machine
            info.external_attr = (0o100644 & 0xFFFF) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


# --- the web UI ----------------------------------------------------------------------------------------------


@dataclass
class _Form:
    action: str | None
    method: str
    enctype: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden and text inputs: name -> value
    inputs: dict[str, str] = field(default_factory=dict)  # every input: name -> type
    submits: dict[str, str] = field(default_factory=dict)  # submit buttons: name -> value


@dataclass
class _Row:
    """One row of a Django admin change list: the action checkbox's value and the text of each field cell."""

    pk: str = ""
    cells: dict[str, str] = field(default_factory=dict)


class _Page(HTMLParser):
    """What this module reads from a Bots page: forms, links, Django's message list, admin change-list rows."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.links: list[tuple[str, str]] = []  # (text, href)
        self.messages: list[tuple[str, str]] = []  # (level: info/warning/error/success, text)
        self.errors: list[str] = []  # form errors (errornote, errorlist)
        self.rows: list[_Row] = []
        self.title = ""
        self._form: _Form | None = None
        self._link: tuple[str, list[str]] | None = None
        self._texts: list[tuple[str, str, list[str], int]] = []  # (kind, tag, parts, depth) being collected
        self._row: _Row | None = None
        self._cell: tuple[str, list[str]] | None = None
        self._in_messagelist = 0
        self._in_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        classes = a.get("class", "").split()
        for index, (kind, open_tag, parts, depth) in enumerate(self._texts):
            if open_tag == tag:
                self._texts[index] = (kind, open_tag, parts, depth + 1)
            if tag == "br":
                parts.append(" ")
        if tag == "title":
            self._in_title = True
        elif tag == "form":
            self._form = _Form(a.get("action"), a.get("method", "get").lower(), a.get("enctype", ""))
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and a.get("name"):
            kind = a.get("type", "text").lower()
            self._form.inputs[a["name"]] = kind
            if kind == "submit":
                self._form.submits[a["name"]] = a.get("value", "")
            elif kind not in ("file", "checkbox", "radio"):
                self._form.fields[a["name"]] = a.get("value", "")
        elif tag in ("select", "textarea") and self._form is not None and a.get("name"):
            self._form.inputs[a["name"]] = tag
        elif tag == "button" and self._form is not None and a.get("name"):
            if a.get("type", "submit").lower() == "submit":
                self._form.submits[a["name"]] = a.get("value", "")
        elif tag == "a":
            self._link = (a.get("href", ""), [])
        elif tag == "ul" and "messagelist" in classes:
            self._in_messagelist += 1
        elif tag == "li" and self._in_messagelist:
            self._texts.append(("message:" + (classes[0] if classes else "info"), tag, [], 1))
        elif tag == "p" and "errornote" in classes or tag == "ul" and "errorlist" in classes:
            self._texts.append(("error", tag, [], 1))
        elif tag == "tr":
            self._row = _Row()
        elif tag in ("td", "th") and self._row is not None:
            name = next((c[len("field-"):] for c in classes if c.startswith("field-")), "")
            self._cell = (name, [])
        if tag == "input" and self._row is not None and a.get("name") == "_selected_action":
            self._row.pk = a.get("value", "")
        if tag == "img" and self._cell is not None:
            self._cell[1].append(a.get("alt", ""))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._texts) - 1, -1, -1):
            kind, open_tag, parts, depth = self._texts[index]
            if open_tag != tag:
                continue
            if depth > 1:
                self._texts[index] = (kind, open_tag, parts, depth - 1)
                break
            del self._texts[index]
            text = _one_line("".join(parts))
            if kind == "error":
                self.errors.append(text)
            else:
                self.messages.append((kind.split(":", 1)[1], text))
            break
        if tag == "title":
            self._in_title = False
        elif tag == "form":
            self._form = None
        elif tag == "a" and self._link is not None:
            self.links.append((_one_line("".join(self._link[1])), self._link[0]))
            self._link = None
        elif tag == "ul" and self._in_messagelist and not any(k.startswith("message") for k, *_ in self._texts):
            self._in_messagelist -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            name, parts = self._cell
            if name:
                self._row.cells[name] = _one_line("".join(parts))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row.pk:
                self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._link is not None:
            self._link[1].append(data)
        if self._cell is not None:
            self._cell[1].append(data)
        for _, _, parts, _ in self._texts:
            parts.append(data)

    def form_with(self, input_name: str) -> _Form | None:
        return next((form for form in self.forms if input_name in form.inputs), None)

    def link(self, text: str) -> str | None:
        wanted = text.casefold()
        return next((href for label, href in self.links if label.casefold() == wanted and href), None)


def _one_line(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class BotsWeb:
    """One logged-in session with a Bots web UI (3.3.1 or the 4.0 fork); use as a context manager."""

    def __init__(self, web_url: str, user: str, password: str, *, timeout: float,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base = web_url.rstrip("/")
        self.user = user
        self._password = password
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                   verify=tls.httpx_default())
        self.landing: str | None = None  # the page the login led to (Bots' home)
        self._home: httpx.Response | None = None

    def __enter__(self) -> BotsWeb:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    # ---- plumbing --------------------------------------------------------------------------------------------
    def _fail(self, text: str) -> AppError:
        return AppError(redact(_one_line(text, 900), [self._password]))

    def _url(self, path_or_url: str, page: str | None = None) -> str:
        """A path of ours under the base URL (which may have a prefix), or a link/action relative to `page`."""
        return urljoin(page, path_or_url) if page else self.base + path_or_url

    @contextmanager
    def _reaching(self, what: str, url: str) -> Iterator[None]:
        try:
            yield
        except httpx.HTTPError as error:
            raise self._fail(f"cannot reach the Bots web UI at {self.base} ({what} {_path(url)}): "
                             f"{type(error).__name__}: {error}") from None

    def _get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        with self._reaching("GET", url):
            return self._client.get(url, params=params, follow_redirects=True)

    def _post(self, url: str, *, data: dict[str, Any], files: dict[str, Any] | None = None,
              referer: str) -> httpx.Response:
        with self._reaching("POST", url):
            return self._client.post(url, data=data, files=files, headers={"Referer": referer},
                                     follow_redirects=True)

    def _is_login_page(self, response: httpx.Response) -> bool:
        return response.status_code == 200 and _Page(response.text).form_with("password") is not None

    # ---- login -----------------------------------------------------------------------------------------------
    def login(self) -> BotsWeb:
        """Log in with the Django login form; AppError names the cause when Bots refuses."""
        url = self._url(LOGIN_PATH)
        response = self._get(url)
        page = _Page(response.text)
        form = page.form_with("password")
        if response.status_code != 200 or form is None:
            raise self._fail(f"{url} shows no login form (HTTP {response.status_code}, "
                             f"{_one_line(page.title) or 'no title'}): is {self.base} a Bots web UI?")
        page_url = str(response.url)
        data = {**form.fields, "username": self.user, "password": self._password}
        answer = self._post(self._url(form.action or page_url, page_url), data=data, referer=page_url)
        if answer.status_code == 403:
            raise self._fail(f"the Bots web UI at {self.base} refused the login form (HTTP 403, "
                             f"{_one_line(_Page(answer.text).title) or 'forbidden'}): CSRF check failed")
        if answer.status_code != 200:
            raise self._fail(f"logging in to {self.base} as {self.user!r} answered HTTP {answer.status_code}")
        if self._is_login_page(answer):
            said = "; ".join(_Page(answer.text).errors) or "the login form came back"
            raise self._fail(f"the Bots web UI at {self.base} refused the login of {self.user!r}: {said}")
        self.landing = str(answer.url)
        self._home = answer
        return self

    # ---- pages found from the menu ---------------------------------------------------------------------------
    def _find_page(self, label: str, known: Iterable[str], want_input: str, what: str) -> tuple[str, _Form]:
        """The page a menu entry `label` leads to (else the known paths, in order) whose form has `want_input`."""
        menu = _Page(self._home.text).link(label) if self._home is not None else None
        candidates = [self._url(menu, self.landing)] if menu else []
        candidates += [self._url(path) for path in known if self._url(path) not in candidates]
        tried = []
        for url in candidates:
            response = self._get(url)
            page = _Page(response.text)
            form = page.form_with(want_input)
            if response.status_code == 200 and form is not None:
                return str(response.url), form
            if self._is_login_page(response):
                raise self._fail(f"{self.user!r} may not open {what} ({_path(url)} sends back to the login page): "
                                 "it needs a Bots superuser")
            tried.append(f"{_path(url)}: HTTP {response.status_code}"
                         + ("" if response.status_code != 200 else f", no form with {want_input!r}"))
        raise self._fail(f"found no {what} in the Bots web UI at {self.base}: "
                         f"{'the menu has no ' + repr(label) + ' link; ' if not menu else ''}tried {'; '.join(tried)}")

    # ---- read a plugin ---------------------------------------------------------------------------------------
    def install_plugin(self, plugin: bytes, name: str = PLUGIN_NAME) -> str:
        """Upload `plugin` on the Read plugin page; the messages Bots shows, one per line (AppError on refusal)."""
        page_url, form = self._find_page("Read plugin", PLUGIN_PATHS, "file", "the Read plugin page")
        file_field = next((n for n, kind in form.inputs.items() if kind == "file"), "file")
        data: dict[str, Any] = {**form.fields, **{key: value for key, value in form.submits.items()
                                                  if key == "submit"}}
        data.setdefault("submit", "")  # the view reads the plugin only when `submit` is in the POST
        action = self._url(form.action or page_url, page_url)
        answer = self._post(action, data=data, files={file_field: (name, plugin, "application/zip")},
                            referer=page_url)
        page = _Page(answer.text)
        messages = page.messages
        said = "\n".join(text for _, text in messages)
        if answer.status_code != 200:
            raise self._fail(f"Bots answered the plugin upload to {_path(action)} with HTTP {answer.status_code}"
                             f" ({_one_line(page.title) or 'no title'})")
        errors = [text for level, text in messages if level == "error"]
        if errors:
            raise self._fail(f"Bots did not install the plugin {name}: {errors[0]}")
        if not any(name in text for level, text in messages):
            raise self._fail(f"Bots did not confirm the plugin {name} at {_path(str(answer.url))}: "
                             + (f"it said: {'; '.join(t for _, t in messages)}" if messages else "no message shown"))
        return said

    # ---- routes ----------------------------------------------------------------------------------------------
    def activate_route(self, idroute: str) -> str:
        """Make every row of route `idroute` active with the routes list's "activate/de-activate" action."""
        list_url, _form = self._find_page("Routes", ROUTES_PATHS, "action", "the routes list")
        rows = self._route_rows(list_url, idroute)
        inactive = [row.pk for row in rows if not _truthy(row.cells.get("active", ""))]
        if not inactive:
            return f"route {idroute} is active ({len(rows)} row{'s' if len(rows) != 1 else ''})"
        response = self._get(list_url)
        form = _Page(response.text).form_with("action")
        if form is None:
            raise self._fail(f"the routes list {_path(list_url)} lost its action form")
        data: dict[str, Any] = {**form.fields, "action": "activate", "_selected_action": inactive,
                                "select_across": "0", "index": "0"}
        answer = self._post(self._url(form.action or list_url, list_url), data=data, referer=list_url)
        if answer.status_code != 200:
            raise self._fail(f"the activate action on {_path(list_url)} answered HTTP {answer.status_code}")
        errors = [text for level, text in _Page(answer.text).messages if level == "error"]
        if errors:
            raise self._fail(f"Bots did not activate route {idroute}: {errors[0]}")
        still = [row.pk for row in self._route_rows(list_url, idroute) if not _truthy(row.cells.get("active", ""))]
        if still:
            raise self._fail(f"route {idroute} is still inactive after the activate action (rows {', '.join(still)})")
        return f"route {idroute} activated ({len(inactive)} row{'s' if len(inactive) != 1 else ''})"

    def _route_rows(self, list_url: str, idroute: str) -> list[_Row]:
        response = self._get(list_url, params={"q": idroute})  # the list's search box
        rows = [row for row in _Page(response.text).rows if row.cells.get("idroute") == idroute]
        if not rows:
            raise self._fail(f"the routes list {_path(list_url)} shows no route {idroute!r} (HTTP "
                             f"{response.status_code}): was the plugin read?")
        return rows


def _truthy(cell: str) -> bool:
    return cell.strip().casefold() in ("true", "yes", "1")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def install_plugin(web_url: str, user: str, password: str, plugin: bytes, *, timeout: float,
                   name: str = PLUGIN_NAME, transport: httpx.BaseTransport | None = None) -> str:
    """Read `plugin` into the Bots at `web_url` through its web UI as superuser `user`; Bots' messages."""
    with BotsWeb(web_url, user, password, timeout=timeout, transport=transport) as web:
        return web.login().install_plugin(plugin, name)


def activate_route(web_url: str, user: str, password: str, idroute: str = ROUTE_ID, *, timeout: float,
                   transport: httpx.BaseTransport | None = None) -> str:
    """Activate route `idroute` in the Bots web UI (Configuration > Routes, action activate/de-activate)."""
    with BotsWeb(web_url, user, password, timeout=timeout, transport=transport) as web:
        return web.login().activate_route(idroute)


def seed_route(web_url: str, user: str, password: str, *, timeout: float,
               transport: httpx.BaseTransport | None = None) -> list[str]:
    """The route edifact_orders into a deployment as production installs one: read the plugin, activate it."""
    with BotsWeb(web_url, user, password, timeout=timeout, transport=transport) as web:
        web.login()
        return [*web.install_plugin(route_plugin()).splitlines(), web.activate_route(ROUTE_ID)]
