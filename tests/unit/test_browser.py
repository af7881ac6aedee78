"""The web UI library without a browser: what a page's text says, where screenshots go, how URLs are mapped,
when chromium is installed, and the database side of Transaction Monitoring's figures."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from edirunbook import browser, monitoring
from edirunbook.browser import Screenshots, items_shown, paginator_counts, screenshot_title, slug
from edirunbook.environment import config
from edirunbook.errors import AppError, CommandFailed, SetupError
from edirunbook.shell import OPERATOR_OPENS, RunbookShell

# The text of Bots 3.3.1's incoming view as chromium's innerText gives it (menu, buttons, paginator, table).
INCOMING_TEXT = """Home
Last run
All runs
Select
    (Page 2 of 3; 61 items)
\tStatus\tRereceive\tDate/time\tRoute
"""


# --- what a page says ----------------------------------------------------------------------------------------


def test_the_paginator_of_a_list_view_gives_page_pages_and_items() -> None:
    assert paginator_counts(INCOMING_TEXT) == (2, 3, 61)
    assert items_shown("(Page 1 of 1; 0 items)") == 0


def test_a_page_without_a_paginator_is_not_a_list_view_and_the_error_shows_the_page() -> None:
    with pytest.raises(AppError, match=r"not one of Bots' list views.*Bots Open Source EDI Translator"):
        items_shown("Home\nBots Open Source EDI Translator\nCurrent user admin")


def test_a_screenshot_title_says_the_page_the_note_and_the_items_listed() -> None:
    assert screenshot_title("incoming files", "http://127.0.0.1:18080/incoming/", "Datefrom 2026-11-29 07:00:00",
                            INCOMING_TEXT) == ("incoming files: http://127.0.0.1:18080/incoming/ "
                                               "(Datefrom 2026-11-29 07:00:00; Page 2 of 3; 61 items)")
    assert screenshot_title("home", "http://127.0.0.1:18080/home", "", "Bots") == "home: http://127.0.0.1:18080/home"


# --- where screenshots go ------------------------------------------------------------------------------------


def test_screenshots_are_numbered_in_the_order_taken_with_a_slug_of_the_page(tmp_path: Path) -> None:
    shots = Screenshots(tmp_path / "screenshots" / "transaction-monitoring")
    first = shots.next_path("Start page")
    shots.taken.append(first)
    second = shots.next_path("Select > Incoming (statust Error)")
    assert (first.name, second.name) == ("01-start-page.png", "02-select-incoming-statust-error.png")
    assert second.parent == tmp_path / "screenshots" / "transaction-monitoring"


def test_clearing_removes_an_earlier_runs_screenshots_only(tmp_path: Path) -> None:
    shots = Screenshots(tmp_path)
    for name in ("01-home.png", "02-incoming.png", "notes.txt"):
        (tmp_path / name).write_text("x")
    shots.clear()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    Screenshots(tmp_path / "never-made").clear()  # nothing to clear is fine


@pytest.mark.parametrize(("text", "expected"), [
    ("Transaction Monitoring: last 24h", "transaction-monitoring-last-24h"),
    ("/admin/", "admin"),
    ("***", "page"),
])
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


# --- the runbook's URL, mapped -------------------------------------------------------------------------------


@pytest.mark.parametrize(("step", "opened"), [
    ('the operator opens "https://bots-edi.pminc.me" in a browser and logs in', "https://bots-edi.pminc.me:18443"),
    ('the operator opens "https://bots-edi.pminc.me/admin/" in a browser and logs in',
     "https://bots-edi.pminc.me:18443/admin/"),
])
def test_the_runbooks_url_opens_the_kind_environments_web_ui(tmp_path: Path, step: str, opened: str) -> None:
    match = OPERATOR_OPENS.fullmatch(step)
    assert match is not None and match["rest"].strip() == "and logs in"
    shell = RunbookShell(substitutions=config.load("kind").substitutions, workdir=tmp_path)
    assert shell.prepare(match["url"]) == opened



# --- chromium on the machine ---------------------------------------------------------------------------------


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_an_explicit_chromium_is_used_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDIRUNBOOK_CHROMIUM", str(_executable(tmp_path / "chrome")))
    assert browser.ensure_chromium() == tmp_path / "chrome"


def test_an_explicit_chromium_that_is_not_there_is_not_installed_over(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDIRUNBOOK_CHROMIUM", str(tmp_path / "missing"))
    with pytest.raises(SetupError, match="EDIRUNBOOK_CHROMIUM=.* is not an executable file"):
        browser.ensure_chromium()


@pytest.fixture
def no_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine without chromium: the places Debian's package uses are empty."""
    monkeypatch.delenv("EDIRUNBOOK_CHROMIUM", raising=False)
    target = tmp_path / "usr-lib-chromium"
    monkeypatch.setattr(browser, "CHROMIUM_PATHS", (target,))
    monkeypatch.setattr(browser, "_debian_with_apt", lambda: True)
    return target


def test_only_root_installs_chromium(no_chromium: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SetupError, match="only root can install it: run `sudo apt-get install"):
        browser.ensure_chromium()


def test_root_installs_debians_chromium_with_apt(no_chromium: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed: list[list[str]] = []

    def apt_install(packages: list[str]) -> None:
        installed.append(packages)
        _executable(no_chromium)

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr("edirunbook.docker.daemon.apt_install", apt_install)
    assert browser.ensure_chromium() == no_chromium
    assert installed == [["chromium"]]


def test_a_failed_apt_install_is_one_short_setup_error(no_chromium: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def apt_install(packages: list[str]) -> None:
        raise CommandFailed(["apt-get", "install", *packages], 100, "E: Unable to locate package chromium")

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr("edirunbook.docker.daemon.apt_install", apt_install)
    with pytest.raises(SetupError, match=r"^apt-get could not install chromium \(exit 100: E: Unable to locate "
                                         r"package chromium\)\. Install it by hand [^\n]*$"):
        browser.ensure_chromium()


# --- the database side of the figures ------------------------------------------------------------------------


class RecordingDatabase:
    """Answers every query with `answer` and keeps the statements and parameters."""

    def __init__(self, answer: list[tuple[Any, ...]]) -> None:
        self.answer = answer
        self.queries: list[tuple[str, Any]] = []

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        self.queries.append((sql, params))
        return self.answer


def test_a_selection_is_counted_between_the_same_bounds_bots_filters_with() -> None:
    db = RecordingDatabase([(4,)])
    errors = monitoring.selection("incoming files with errors")
    assert monitoring.count(db, errors, "2026-11-29 07:00:00", "2026-11-30 23:59:59") == 4  # type: ignore[arg-type]
    assert db.queries == [("SELECT COUNT(*) FROM filereport WHERE ts >= %s AND ts < %s AND statust = %s",
                           ("2026-11-29 07:00:00", "2026-11-30 23:59:59", 1))]
    monitoring.count(db, monitoring.selection("engine runs"), "a", "b")  # type: ignore[arg-type]
    assert db.queries[-1] == ("SELECT COUNT(*) FROM report WHERE ts >= %s AND ts < %s", ("a", "b"))


def test_an_unknown_selection_names_the_known_ones() -> None:
    with pytest.raises(AppError, match="'incoming files', 'incoming files with errors', 'engine runs'"):
        monitoring.selection("outgoing files")


def test_failed_files_shown_compare_with_the_database_whitespace_as_a_browser_shows_it() -> None:
    db = RecordingDatabase([("/in/2-ORDERS_malformed.edi", "[E05]: Segmentcount in UNT is 12;\n  should be 11.")])
    recorded = monitoring.file_errors(db, "a", "b")  # type: ignore[arg-type]
    shown = monitoring.shown_errors([{"Status": "Error", "InFile": "/in/2-ORDERS_malformed.edi",
                                      "Error": "[E05]: Segmentcount in UNT is 12; should be 11."}])
    assert shown == recorded == [("/in/2-ORDERS_malformed.edi", "[E05]: Segmentcount in UNT is 12; should be 11.")]


def test_a_list_without_infile_and_error_columns_is_not_the_incoming_view() -> None:
    with pytest.raises(AppError, match="no column Error, InFile: it is not Bots' incoming view"):
        monitoring.shown_errors([{"State": "ok", "#in": "3"}])
    assert monitoring.shown_errors([]) == []


def test_bots_4_shows_a_failed_files_error_in_a_row_of_its_own_under_the_files_row() -> None:
    rows = [{"0": "", "Index": "651", "Status": "Error", "InFile": "View 1-ORDERS_malformed.edi"},
            {"0": "", "Index": "", "Status": "bots.exceptions.MessageError: [E05]: Segmentcount in UNT is 12;\n"
                                             "should be 11.", "InFile": ""},
            {"0": "", "Index": "640", "Status": "Error", "InFile": "2-INVOIC.edi"},
            {"0": "", "Index": "", "Status": "No module named 'x'", "InFile": ""},
            {"0": "", "Index": "", "Status": "TranslationNotFoundError: No (valid) grammar", "InFile": ""},
            {"0": "", "Index": "630", "Status": "Done", "InFile": "3-ORDERS_good.edi"}]
    assert monitoring.shown_errors(rows) == [
        ("1-ORDERS_malformed.edi", "bots.exceptions.MessageError: [E05]: Segmentcount in UNT is 12; should be 11."),
        ("2-INVOIC.edi", "No module named 'x' TranslationNotFoundError: No (valid) grammar"),
        ("3-ORDERS_good.edi", "")]
    recorded = [("/home/bots/.bots/botssys/infile/r/1-ORDERS_malformed.edi", "E05")]
    assert monitoring.as_shown(recorded, [("1-ORDERS_malformed.edi", "E05")]) == [("1-ORDERS_malformed.edi", "E05")]
    assert monitoring.as_shown(recorded, [("/home/bots/x", "E05")]) == recorded, "Bots 3.3 shows the path"
