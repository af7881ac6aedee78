"""The Bots web UI in a real headless browser, as the runbook's `open https://bots-edi.pminc.me` means it.

Debian's chromium, driven by Playwright (never a browser Playwright downloads: `executable_path` names
Debian's). Chromium is installed on first use, as root through apt like the suite's Docker daemon
(edirunbook/docker/daemon.py): only the scenarios that open a page need it, so `env up`, the unit tests and
every other scenario never wait for it (about 15 s, once per machine). EDIRUNBOOK_CHROMIUM names another
chromium binary instead. `WebUI` is a context manager: the browser and Playwright's driver
always end, also when a step fails.

What the pages show is read from their text, the way a person reads it: the paginator of Bots' list views
says `(Page 1 of 2; 31 items)`. Every page looked at is saved as a full-page screenshot, numbered in the
order the operator saw them.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from edirunbook.errors import AppError, CommandFailed, SetupError
from edirunbook.ingress import Site
from edirunbook.process import run, step
from edirunbook.redaction import redact

# Where Debian's chromium package puts the browser, and its wrapper script (which adds nothing headless needs).
CHROMIUM_PATHS = (Path("/usr/lib/chromium/chromium"), Path("/usr/bin/chromium"))
CHROMIUM_PACKAGE = "chromium"
# certutil: the site's CA goes into an NSS database, where chromium on Linux reads the roots a user added.
NSS_TOOLS_PACKAGE = "libnss3-tools"
# As root chromium refuses its sandbox; containers have a small /dev/shm; there is no GPU.
LAUNCH_ARGS = ("--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu")
VIEWPORT = {"width": 1366, "height": 900}
# Bots' list views (incoming, outgoing, reports): `(Page 1 of 2; 31 items)`.
PAGINATOR = re.compile(r"\(\s*Page\s+(?P<page>\d+)\s+of\s+(?P<pages>\d+)\s*;\s*(?P<items>\d+)\s+items\s*\)")
# Django's login form, as Bots' /login/ (admin/login.html) renders it.
USERNAME, PASSWORD = "#id_username", "#id_password"
LOGIN_ERROR = ".errornote, .errorlist"
# Logged in: a way to log out is shown, Bots' menu link or Django admin's (a link up to Django 4.0, a form since 4.1)
LOGGED_IN = ("#menu a[href$='/logout/'], #user-tools a[href$='/logout/'], form#logout-form, "
             "#bots-nav form[action$='/logout/'], #bots-nav form[action$='/logout']")
# The menu's `Log in` link: Bots 3.3's menu bar (#menu), Bots 4.0's (#bots-nav, its URL under the app's prefix)
# Bots 4.0's menu bar: the menus' titles where 3.3's names differ, and where 3.3's Select menu's entries went
BOTS_4_MENU_TITLES = {"Config": "Configuration"}
BOTS_4_MENUS = {("Select", "Incoming"): ("Incoming", "Select incoming"),
                ("Select", "Outgoing"): ("Outgoing", "Select outgoing"),
                ("Select", "Reports (per run)"): ("All runs", "Select report")}
LOG_IN_LINK = "#menu a[href$='/login/'], #bots-nav a[href$='/login/'], #bots-nav a[href$='/login']"


# ---- pure helpers (unit-tested) ------------------------------------------------------------------------------

def slug(text: str) -> str:
    """A file-name-safe lower-case slug: `Transaction Monitoring: last 24h` -> `transaction-monitoring-last-24h`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def paginator_counts(text: str) -> tuple[int, int, int]:
    """(page, pages, items) of the paginator in a Bots list view's text; AppError when the page has none."""
    match = PAGINATOR.search(text)
    if match is None:
        shown = " ".join(text.split())[:300]
        raise AppError(f"the page shows no `(Page N of M; K items)` line, so it is not one of Bots' list views "
                       f"(incoming, outgoing, reports); it shows: {shown!r}")
    return int(match["page"]), int(match["pages"]), int(match["items"])


def items_shown(text: str) -> int:
    """The number of items a Bots list view says its selection holds (all pages together)."""
    return paginator_counts(text)[2]


def screenshot_title(name: str, url: str, note: str, text: str) -> str:
    """`incoming files: http://.../incoming/ (since ...; Page 1 of 1; 5 items)`: what the report shows."""
    match = PAGINATOR.search(text)
    extra = [part for part in (note, match[0].strip("() ") if match else "") if part]
    return f"{name}: {url}" + (f" ({'; '.join(extra)})" if extra else "")


@dataclass
class Screenshots:
    """Numbered full-page screenshots of one scenario: <directory>/NN-<page>.png, in the order taken."""

    directory: Path
    taken: list[Path] = field(default_factory=list)

    def next_path(self, page: str) -> Path:
        return self.directory / f"{len(self.taken) + 1:02d}-{slug(page)}.png"

    def clear(self) -> None:
        """Remove the screenshots an earlier run of the same scenario left, so the folder shows this run only."""
        if self.directory.is_dir():
            for old in self.directory.glob("[0-9][0-9]-*.png"):
                old.unlink()


# ---- chromium on this machine ----------------------------------------------------------------------------

def find_chromium() -> Path | None:
    explicit = os.environ.get("EDIRUNBOOK_CHROMIUM")
    candidates = [Path(explicit)] if explicit else list(CHROMIUM_PATHS)
    return next((path for path in candidates if path.is_file() and os.access(path, os.X_OK)), None)


def _debian_with_apt() -> bool:
    return Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt when it is missing and we are root; SetupError otherwise."""
    found = find_chromium()
    if found is not None:
        return found
    if os.environ.get("EDIRUNBOOK_CHROMIUM"):
        raise SetupError(f"EDIRUNBOOK_CHROMIUM={os.environ['EDIRUNBOOK_CHROMIUM']} is not an executable file. "
                         "Point it at a chromium binary, or unset it so the suite uses Debian's chromium.")
    if not _debian_with_apt():
        raise SetupError("The web UI scenarios need a chromium browser, and this is not Debian/Ubuntu, so the "
                         "suite cannot install one. Install chromium and set EDIRUNBOOK_CHROMIUM to its binary.")
    if os.geteuid() != 0:
        raise SetupError("The web UI scenarios need Debian's chromium, which is not installed, and only root can "
                         "install it: run `sudo apt-get install -y --no-install-recommends chromium`, then the suite "
                         "again.")
    from edirunbook.docker.daemon import apt_install

    try:
        with step("installing Debian's chromium for the web UI scenarios (first use)"):
            apt_install([CHROMIUM_PACKAGE])
    except CommandFailed as error:
        last = (error.output.strip().splitlines() or ["no output"])[-1]
        raise SetupError(f"apt-get could not install {CHROMIUM_PACKAGE} (exit {error.code}: {last}). Install it "
                         "by hand (`apt-get install -y --no-install-recommends chromium`) and run again.") from None
    found = find_chromium()
    if found is None:
        raise SetupError(f"apt-get installed {CHROMIUM_PACKAGE}, but none of "
                         f"{', '.join(map(str, CHROMIUM_PATHS))} is there. Set EDIRUNBOOK_CHROMIUM to its binary.")
    return found


def trusting_home(ca_file: Path, home: Path) -> Path:
    """A HOME for chromium whose NSS database (~/.pki/nssdb) trusts `ca_file` for websites, as a user adds a CA;
    made again when the CA changes. Needs certutil (libnss3-tools, installed with apt as root when missing)."""
    database = home / ".pki" / "nssdb"
    stamp = home / "trusted-ca.pem"
    if stamp.exists() and stamp.read_bytes() == ca_file.read_bytes():
        return home
    if not shutil.which("certutil"):
        if os.geteuid() != 0 or not _debian_with_apt():
            raise SetupError("Trusting the cluster's CA in chromium needs certutil: install libnss3-tools "
                             "(`sudo apt-get install -y libnss3-tools`) and run again.")
        from edirunbook.docker.daemon import apt_install

        with step("installing certutil (libnss3-tools) to make chromium trust the cluster's CA (first use)"):
            apt_install([NSS_TOOLS_PACKAGE])
    shutil.rmtree(home, ignore_errors=True)
    database.mkdir(parents=True)
    try:
        run(["certutil", "-N", "--empty-password", "-d", f"sql:{database}"])
        run(["certutil", "-A", "-n", "edirunbook cluster CA", "-t", "C,,", "-i", str(ca_file), "-d",
             f"sql:{database}"])
    except CommandFailed as error:
        raise SetupError(f"certutil could not add {ca_file} to chromium's NSS database {database}: {error}") from None
    stamp.write_bytes(ca_file.read_bytes())
    return home


# ---- the browser ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Login:
    user: str
    password: str = field(repr=False)


@dataclass
class PageView:
    """What a page showed: its address, title and text, and where its screenshot is."""

    url: str
    title: str
    text: str
    screenshot: Path


class WebUI:
    """One headless chromium on the Bots web UI; `with WebUI(...) as ui:` always closes it.

    `on_screenshot(path, title)` is called for every screenshot taken (the steps record it on the report).
    Errors say what the page showed, never a password (`secrets` are redacted from every message).
    """

    def __init__(self, screenshots: Screenshots, *, on_screenshot: Callable[[Path, str], None] | None = None,
                 secrets: list[str] | None = None, timeout: float = 30, site: Site | None = None) -> None:
        self.site = site  # the runbook's site: its name resolved to the loopback port, its CA trusted
        self.screenshots = screenshots
        self.on_screenshot = on_screenshot
        self.secrets = list(secrets or [])
        self.timeout_ms = timeout * 1000
        self.last: PageView | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._page: Any = None

    # -- life cycle
    def __enter__(self) -> WebUI:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        executable = ensure_chromium()
        from playwright.sync_api import sync_playwright

        args, env = list(LAUNCH_ARGS), None
        if self.site is not None:
            # the site's name reaches the ingress on this machine alone, never DNS; its CA is trusted as a user adds one
            args.append(f"--host-resolver-rules=MAP {self.site.host} 127.0.0.1")
            home = trusting_home(self.site.ca_file, self.site.ca_file.parent / "browser-home")
            env = {**os.environ, "HOME": str(home)}
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=str(executable), headless=True,
                                                             args=args, env=env, timeout=self.timeout_ms)
            context = self._browser.new_context(viewport=VIEWPORT, locale="en-US")
            context.set_default_timeout(self.timeout_ms)
            self._page = context.new_page()
        except Exception as error:
            self.close()
            raise SetupError(f"chromium ({executable}) did not start under Playwright: {self._why(error)}. "
                             f"Check that `{executable} --headless --no-sandbox --dump-dom about:blank` works.") \
                from None

    def close(self) -> None:
        """Close the browser and stop Playwright's driver; safe to call twice, never raises."""
        browser, playwright = self._browser, self._playwright
        self._page = self._browser = self._playwright = None
        for stop in (getattr(browser, "close", None), getattr(playwright, "stop", None)):
            if stop is not None:
                with contextlib.suppress(Exception):  # a browser that died already is closed enough
                    stop()

    @property
    def page(self) -> Any:
        if self._page is None:
            raise AppError("the browser is not running: use `with WebUI(...) as ui:`")
        return self._page

    @property
    def current(self) -> PageView:
        """The page looked at last; AppError when no page was opened yet."""
        if self.last is None:
            raise AppError("no page is open in the browser: a step `the operator opens \"<url>\" in a browser` "
                           "comes first")
        return self.last

    # -- what the operator does
    def open(self, url: str, name: str | None = None) -> PageView:
        """Go to the URL and wait until it has loaded; a network error or an HTTP error status is an AppError."""
        try:
            response = self.page.goto(url, wait_until="load")
        except Exception as error:
            raise AppError(f"the browser could not open {url}: {self._why(error)}") from None
        if response is not None and response.status >= 400:
            view = self.look(name or f"error {response.status}")
            raise AppError(f"{url} answered HTTP {response.status}; the page says: {_short(view.text)} "
                           f"(screenshot {view.screenshot})")
        return self.look(name or urlsplit(self.page.url).path.strip("/") or "start page")  # after redirects

    def log_in(self, login: Login) -> PageView:
        """Log in through Bots' login page: from its form if it is shown, else through the menu's `Log in`."""
        page = self.page
        if page.locator(LOGGED_IN).count():
            return self.current
        if not page.locator(USERNAME).count():
            link = page.locator(LOG_IN_LINK)
            if not link.count():
                view = self.look("no login")
                raise AppError(f"{page.url} shows neither a login form nor Bots' `Log in` link: "
                               f"{_short(view.text)} (screenshot {view.screenshot})")
            with page.expect_navigation(wait_until="load"):
                link.first.click()
        page.fill(USERNAME, login.user)
        page.fill(PASSWORD, login.password)
        self.look("login")  # the form as filled in: the password field shows dots only
        with page.expect_navigation(wait_until="load"):
            page.locator("form input[type=submit], form button[type=submit]").first.click()
        if page.locator(LOGIN_ERROR).count() or not page.locator(LOGGED_IN).count():
            view = self.look("login refused")
            raise AppError(f"the web UI did not log in user {login.user!r}: {_short(view.text)} (screenshot "
                           f"{view.screenshot}). The deployment's Jobs create this superuser from the target's "
                           "Secrets (reference: BOTS_ADMIN_USER and BOTS_ADMIN_PASSWORD in bots-edidb-secret, so "
                           "`kubectl logs -n edi job/bots-db-init` should say `created superuser` or `present`).")
        return self.look(urlsplit(page.url).path.strip("/") or "home")

    def choose_menu(self, menu: str, item: str) -> PageView:
        """Point at a menu of Bots' menu bar and click one of its entries, as a person does. The menus are named
        as Bots 3.3 names them (`#menu`); on Bots 4.0's bar (`#bots-nav`: icons titled by menu, the selections
        in the menu of what they select) the same choice is made where 4.0 has it (BOTS_4_MENUS)."""
        page = self.page
        if page.locator("#bots-nav").count():
            menu, item = BOTS_4_MENUS.get((menu, item), (BOTS_4_MENU_TITLES.get(menu, menu), item))
            menus = page.locator("#bots-nav > ul > li")
            header = menus.filter(has=page.locator(f":scope > a[title={_quoted(menu)}]"))
            shown = page.locator("#bots-nav > ul > li > a[title]").evaluate_all("as => as.map(a => a.title)")
        else:
            menus = page.locator("#menu > ul")
            header = menus.filter(has=page.locator(":scope > a", has_text=_whole(menu)))
            shown = [" ".join(t.split()) for t in page.locator("#menu > ul > a").all_inner_texts()]
        if not header.count():
            raise AppError(f"Bots' menu has no {menu!r} menu (is the user logged in?); it has: "
                           f"{', '.join(m for m in shown if m) or 'nothing'}")
        header.first.hover()
        entry = header.first.locator("li > a").filter(has_text=_whole(item))
        if not entry.count():
            shown = [" ".join(t.split()) for t in header.first.locator("li > a").all_inner_texts()]
            raise AppError(f"Bots' {menu!r} menu has no entry {item!r}; it has: {', '.join(shown)}")
        with page.expect_navigation(wait_until="load"):
            entry.first.click()
        return self.look(f"{menu} {item}")

    def form_value(self, field_id: str) -> str:
        """What a field of the form on the page holds now (Bots' select forms fill in their defaults)."""
        return str(self.page.input_value(f"#id_{field_id}"))

    def select(self, fields: dict[str, str], choices: dict[str, str] | None = None, *,
               submit: str = "Show selection", name: str = "selection", note: str = "") -> PageView:
        """Fill in one of Bots' select forms (text fields by their id, choices by the label shown) and submit."""
        page = self.page
        for field_id, value in fields.items():
            page.fill(f"#id_{field_id}", value)
        for field_id, label in (choices or {}).items():
            page.select_option(f"#id_{field_id}", label=label)
        page.locator("h1").first.click()  # away from the fields, so the date picker's pop-up closes
        changed = {f: page.input_value(f"#id_{f}") for f in fields if page.input_value(f"#id_{f}") != fields[f]}
        if changed:  # the page's date picker reformats what it cannot parse
            raise AppError(f"the form of {page.url} did not keep what was typed: "
                           + ", ".join(f"{f} {fields[f]!r} became {v!r}" for f, v in changed.items()))
        # Bots 3.3: <input type=submit value=...>; 4.0: a <button> with an icon before its text
        button = page.locator(f"input[type=submit][value='{submit}']").or_(
            page.locator("button").filter(has_text=re.compile(rf"(^|\s){re.escape(submit)}\s*$")))
        with page.expect_navigation(wait_until="load"):
            button.first.click()
        return self.look(name, note)

    def paginator(self) -> tuple[int, int, int]:
        """(page, pages, items) of the list view on the page: Bots 3.3's `(Page N of M; K items)`, or Bots 4.0's
        paginator (`div.paginatop`: a page chooser, `/ M`, then `K <what is listed>`)."""
        text = self.page.inner_text("body")
        if PAGINATOR.search(text) or not self.page.locator("div.paginatop").count():
            return paginator_counts(text)
        found = self.page.evaluate(_READ_PAGINATOR_4)
        if found is None:
            raise AppError(f"{self.page.url}: Bots' paginator does not say how many items the selection holds: "
                           f"{_short(self.page.inner_text('div.paginatop'))}")
        page, pages, items = found
        return int(page), int(pages), int(items)

    def rows(self) -> list[dict[str, str]]:
        """The rows of the list on the page (Bots' list views, the admin's change lists), by column heading.

        A cell with a link that carries a title (Bots shortens file names and puts the full one in the title)
        gives the title.
        """
        found = self.page.evaluate(_READ_TABLE)
        if found is None:
            raise AppError(f"{self.page.url} shows no list (no #botstable or #result_list); it shows: "
                           f"{_short(self.current.text)}")
        return [dict(row) for row in found]

    def all_rows(self, name: str) -> list[dict[str, str]]:
        """The rows of every page of a Bots list view: its `>` button is pressed until it is disabled."""
        rows = self.rows()
        button = self.page.locator("input[type=submit][name=next]")
        while button.count() and button.first.is_enabled():
            with self.page.expect_navigation(wait_until="load"):
                button.first.click()
            self.look(f"{name} page {self.paginator()[0]}")
            rows += self.rows()
        return rows

    def look(self, name: str, note: str = "") -> PageView:
        """The page as it is now: its text, and a full-page screenshot saved under the next number.

        The screenshot's title on the report: the name, the address, `note`, and a list view's paginator.
        """
        page = self.page
        path = self.screenshots.next_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        self.screenshots.taken.append(path)
        self.last = PageView(page.url, page.title(), redact(page.inner_text("body"), self.secrets), path)
        if self.on_screenshot is not None:
            self.on_screenshot(path, screenshot_title(name, page.url, note, self.last.text))
        return self.last

    def _why(self, error: BaseException) -> str:
        return redact(" ".join(str(error).split())[:400], self.secrets)


# Bots' list views are `table#botstable`, Django admin change lists `table#result_list`.
_READ_TABLE = """() => {
  const table = document.querySelector('#botstable, #result_list');
  if (!table) return null;
  const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
  return [...table.querySelectorAll('tbody tr')].map(tr => [...tr.children].map((td, i) => {
    const link = td.querySelector('a[title]');
    return [heads[i] || String(i), (link ? link.getAttribute('title') : td.innerText).trim()];
  }));
}"""


def _whole(text: str) -> re.Pattern[str]:
    """A menu text as the whole text of a link (Bots marks a menu's default entry with ` *`)."""
    return re.compile(rf"^\s*{re.escape(text)}\s*\*?\s*$")


def _quoted(text: str) -> str:
    """A CSS attribute value in double quotes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Bots 4.0's paginator: the page chooser (#id_page: a select, or a text field past 999 pages), `/ pages`, then
# `<items> <name of what is listed>` as text of div.paginatop itself; null when it says no count
_READ_PAGINATOR_4 = """() => {
  const top = document.querySelector('div.paginatop');
  if (!top) return null;
  const chooser = top.querySelector('#id_page');
  const own = Array.from(top.childNodes).filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join(' ');
  const pages = own.match(/\\/\\s*(\\d+)/);
  const items = own.replace(/\\/\\s*\\d+/, ' ').match(/(\\d+)\\s+[^\\d\\s][^\\d]*$/);
  if (!items) return null;
  return [chooser ? Number(chooser.value) : 1, pages ? Number(pages[1]) : 1, Number(items[1])];
}"""


def _short(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "...")
