"""What counts as a health report saying ok: the app's own words for healthy, every check passing."""
from __future__ import annotations

import pytest

from steps.migrations import _healthy_report


@pytest.mark.parametrize("output", [
    '{"status": "ok", "checks": {"database": "ok"}}',  # the reference
    '{"status": "ready", "checks": {"database": true, "botssys": true}}',  # Bots 4.0's readiness
    '  % Total  % Received\n100 105 {"status": "started", "checks": {}}  0 --:--:--\n',  # curl's meter on its line
])
def test_healthy_reports(output: str) -> None:
    assert _healthy_report(output)["status"] in {"ok", "ready", "started"}


@pytest.mark.parametrize(("output", "message"), [
    ('{"status": "not_ready", "checks": {"database": false}}', "not healthy"),
    ('{"status": "ok", "checks": {"database": "error: refused"}}', "not healthy"),
    ("<!DOCTYPE html>", "not a JSON health report"),
])
def test_unhealthy_or_no_report(output: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        _healthy_report(output)
