"""The web UI in a real headless browser (the runbook's `open URL`): what its pages show against the database."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pytest_bdd import parsers, then, when

from edirunbook import monitoring
from edirunbook.browser import Login, Screenshots, WebUI
from edirunbook.environment.credentials import ADMIN_USER
from edirunbook.report import attachment_dir, record_attachment, record_command
from edirunbook.shell import OPERATOR_OPENS
from fixtures.scenario import ScenarioContext

LOGS_IN = "and logs in"
# The Django admin's change lists Bots' menu leads to: what a step names -> (menu, entry).
ADMIN_LISTS = {"route": ("Config", "Routes"), "channel": ("Config", "Channels"),
               "translation": ("Config", "Translations"), "user": ("SysTasks", "Users")}


@dataclass
class ShownSelection:
    """A selection the operator made in the web UI and what its page said."""

    name: str
    selection: monitoring.Selection
    since: str
    until: str
    items: int


@pytest.fixture
def web_ui(ctx: ScenarioContext, request: pytest.FixtureRequest) -> Iterator[WebUI]:
    """Headless chromium for this scenario; its screenshots go to reports/screenshots/<scenario>/ and onto the
    report. Closed when the scenario ends, also when it fails."""
    shots = Screenshots(attachment_dir(request, "screenshots"))
    shots.clear()
    with WebUI(shots, secrets=ctx.shell.secrets, site=ctx.bots.site,
               on_screenshot=lambda path, title: record_attachment(request, path, title)) as ui:
        yield ui


@when(parsers.re(OPERATOR_OPENS.pattern))
def operator_opens(ctx: ScenarioContext, web_ui: WebUI, request: pytest.FixtureRequest, url: str,
                   rest: str) -> None:
    """Open the runbook's URL (production names substituted) in headless chromium; `and logs in`: as the
    superuser the deployment creates (BOTS_ADMIN_USER)."""
    if rest.strip() not in ("", LOGS_IN):
        raise AssertionError(f"after the URL this step takes nothing or ` {LOGS_IN}`, not {rest.strip()!r}")
    target = ctx.shell.prepare(url)
    started = time.monotonic()
    view = web_ui.open(target)
    if rest.strip() == LOGS_IN:
        view = web_ui.log_in(Login(ADMIN_USER, ctx.env.credentials.admin_password))
    shown = f"{view.title}: {view.url}\n{view.text.strip()[:2000]}"
    record_command(request, f"open {target}" + (f"  # headless chromium, logged in as {ADMIN_USER}"
                                                if rest.strip() else "  # headless chromium"),
                   0, shown, time.monotonic() - started)


@then(parsers.parse('the page shows "{text}"'))
def page_shows(web_ui: WebUI, text: str) -> None:
    """The text of the page the browser shows now contains the text."""
    view = web_ui.current
    assert text in view.text, f"expected {text!r} on {view.url} (screenshot {view.screenshot}); the page shows:\n" \
        f"{view.text.strip()[:1500]}"


@when(parsers.parse("the operator selects the {name} of the last {hours:d} hours in the web UI"),
      target_fixture="shown_selection")
def operator_selects(ctx: ScenarioContext, web_ui: WebUI, name: str, hours: int) -> ShownSelection:
    """Bots' Select menu, its form with Datefrom set that many hours back (the database's clock), Show
    selection: "incoming files", "incoming files with errors" or "engine runs"."""
    chosen = monitoring.selection(name)
    web_ui.choose_menu("Select", chosen.menu_entry)
    since = monitoring.hours_ago(ctx.env.database, hours)
    until = web_ui.form_value("dateuntil")
    web_ui.select({"datefrom": since}, dict(chosen.choices), name=name,
                  note=f"{chosen.describe()}, Datefrom {since}, Dateuntil {until}")
    return ShownSelection(name, chosen, since, until, web_ui.paginator()[2])


@then("the number the web UI shows equals the database's")
def shown_number_equals_database(ctx: ScenarioContext, shown_selection: ShownSelection, web_ui: WebUI) -> None:
    """The selection's `N items` equals the rows of its table between the same Datefrom and Dateuntil, and is
    not 0 (a selection that lists nothing proves nothing)."""
    sel = shown_selection
    expected = monitoring.count(ctx.env.database, sel.selection, sel.since, sel.until)
    where = f"{sel.selection.describe()} from {sel.since} until {sel.until}"
    assert sel.items == expected, f"the web UI shows {sel.items} {sel.name} for {where}, the database's " \
        f"{sel.selection.table} table holds {expected} (screenshot {web_ui.current.screenshot})"
    assert expected > 0, f"no {sel.name} for {where} in the web UI or the database: nothing was compared"


@then("the web UI lists each failed file with the reason the database records")
def failed_files_with_reasons(ctx: ScenarioContext, shown_selection: ShownSelection, web_ui: WebUI) -> None:
    """Every page of the incoming files with errors: each row's InFile and Error equal a filereport error row
    of the same time range, and no error row is missing."""
    sel = shown_selection
    shown = monitoring.shown_errors(web_ui.all_rows(sel.name))
    recorded = monitoring.as_shown(monitoring.file_errors(ctx.env.database, sel.since, sel.until), shown)
    assert shown == recorded, "the web UI's failed files and reasons differ from the database's:\n" \
        f"only in the web UI: {sorted(set(shown) - set(recorded))}\n" \
        f"only in the database: {sorted(set(recorded) - set(shown))}"
    assert recorded, f"no failed file from {sel.since} until {sel.until}: nothing was compared"
    assert all(reason for _, reason in shown), f"a failed file has no reason in the web UI: {shown}"


@then(parsers.parse('the admin site lists the {kind} "{name}"'))
def admin_lists(web_ui: WebUI, kind: str, name: str) -> None:
    """Bots' menu (Config > Routes, Channels, Translations; SysTasks > Users) opens the Django admin's list of
    that kind, and a row of it names the object."""
    if kind not in ADMIN_LISTS:
        raise AssertionError(f"the admin lists this step knows: {', '.join(ADMIN_LISTS)}; not {kind!r}")
    menu, entry = ADMIN_LISTS[kind]
    view = web_ui.choose_menu(menu, entry)
    rows = web_ui.rows()
    assert any(name in cell.split() for row in rows for cell in row.values()), \
        f"the admin's {entry} list ({view.url}, screenshot {view.screenshot}) has no {kind} {name!r}; its rows: " \
        f"{[' | '.join(v for v in row.values() if v) for row in rows]}"
