"""Screenshots a step saves are recorded on its scenario: listed in summary.json and summary.md, shown in
report.html."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from edirunbook.report import html
from edirunbook.report.model import Attachment, ScenarioRecord

from .helpers import feature, own_steps, scenario_of, summary

pytest_plugins = ["pytester"]

# A 1x1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")

SCREENSHOT_STEPS = f'''
from pytest_bdd import given, scenarios, then

from edirunbook.report import attachment_dir, record_attachment, register_secret

scenarios("features")
PNG = {PNG!r}


@given("the operator looks at the home page")
def _(request):
    register_secret("s3cret-admin-pw")
    folder = attachment_dir(request, "screenshots")
    folder.mkdir(parents=True)
    (folder / "01-home.png").write_bytes(PNG)
    record_attachment(request, folder / "01-home.png", "home: logged in with s3cret-admin-pw")


@then("a screenshot that was never saved is recorded")
def _(request):
    record_attachment(request, "missing.png", "missing")
'''


def test_a_recorded_screenshot_is_listed_in_every_summary_and_embedded_in_the_html_report(
    suite: pytest.Pytester, forget_secrets: list[str]
) -> None:
    forget_secrets.append("s3cret-admin-pw")
    feature(suite, """
        Feature: Transaction monitoring

          Scenario: Open the web UI
            Given the operator looks at the home page
    """)
    own_steps(suite, "test_shots", SCREENSHOT_STEPS)
    suite.runpytest().assert_outcomes(passed=1)
    relative = "screenshots/transaction-monitoring-open-the-web-ui/01-home.png"
    assert (suite.path / "reports" / relative).read_bytes() == PNG
    assert scenario_of(suite, "Open the web UI")["attachments"] == [{"title": "home: logged in with ***",
                                                                      "path": relative}]
    markdown = (suite.path / "reports" / "summary.md").read_text(encoding="utf-8")
    assert f"## Screenshots\n\n- Transaction monitoring: Open the web UI: [home: logged in with ***]({relative})" \
        in markdown
    # pytest-html keeps the extras HTML-escaped in a JSON string (its quotes as \\&#34;)
    page = (suite.path / "reports" / "report.html").read_text(encoding="utf-8").replace("\\&#34;", '"')
    assert "&lt;b&gt;screenshots&lt;/b&gt; (1)" in page
    assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in page
    assert f'href="{relative}"' in page
    assert "s3cret-admin-pw" not in page + markdown + json.dumps(summary(suite))


def test_recording_a_file_that_was_not_saved_fails_the_step(suite: pytest.Pytester) -> None:
    feature(suite, """
        Feature: Misuse

          Scenario: Nothing saved
            Then a screenshot that was never saved is recorded
    """)
    own_steps(suite, "test_shots", SCREENSHOT_STEPS)
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ReportError: attachment missing.png does not exist: save the file before "
                                 "recording it*"])


def test_a_screenshot_too_large_to_embed_is_linked_and_one_outside_the_report_dir_keeps_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside, outside = tmp_path / "reports" / "screenshots" / "s" / "01-big.png", tmp_path / "elsewhere.png"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(PNG * 10)
    outside.write_bytes(PNG)
    monkeypatch.setattr(html, "MAX_EMBEDDED_BYTES", len(PNG) * 5)
    record = ScenarioRecord("t::x", "x", attachments=[Attachment(inside, "big"), Attachment(outside, "small")])
    details = html.html_details(record, tmp_path / "reports")
    assert details.count("data:image/png;base64,") == 1  # only the small one
    assert 'href="screenshots/s/01-big.png"' in details and f'href="{outside.as_posix()}"' in details
    inside.unlink()
    assert "(the file is gone)" in html.html_details(record, tmp_path / "reports")
