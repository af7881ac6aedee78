"""Bots.write_web: an exec whose output was lost (kubectl exited 0, nothing printed, not even the shell's `exit=N`)
is sent again, and never passed on as a result a step could read as a failed or successful write."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edirunbook.app import Bots
from edirunbook.errors import AppError


def _bots(monkeypatch: pytest.MonkeyPatch, outputs: list[str]) -> tuple[Bots, list[Any]]:
    bots = Bots(api=None, namespace="edi", kubectl=Path("kubectl"), kubeconfig=Path("kubeconfig"),
                web_url="http://127.0.0.1:1")
    calls: list[Any] = []

    def kubectl_run(self: Bots, *args: str, input: str | None = None, timeout: float = 120) -> str:
        calls.append((args, input))
        return outputs.pop(0)

    monkeypatch.setattr(Bots, "kubectl_run", kubectl_run)
    return bots, calls


def test_a_lost_output_is_sent_again_and_the_shells_answer_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    full = "cat: write error: No space left on device\nexit=1\n"
    bots, calls = _bots(monkeypatch, ["", full])
    assert bots.write_web("/data/in/a.edi", "UNA") == full
    assert len(calls) == 2 and all(input == "UNA" for _, input in calls)


def test_an_output_lost_every_time_is_an_error_not_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    bots, calls = _bots(monkeypatch, ["", "", ""])
    with pytest.raises(AppError, match="printed nothing, not even the shell's exit status, 3 times"):
        bots.write_web("/data/in/a.edi", "UNA")
    assert len(calls) == 3


def test_a_write_that_answered_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    bots, calls = _bots(monkeypatch, ["exit=0\n"])
    assert bots.write_web("/data/in/a.edi", "UNA") == "exit=0\n" and len(calls) == 1
