"""Waits poll until done, treat errors as 'not yet', and on timeout show the last thing seen."""
import pytest

from edirunbook.errors import NotSettled, StopWaiting, WaitTimeout
from edirunbook.waiting import Observation, hold_for, wait_for


def test_returns_once_done() -> None:
    answers = iter([Observation(False, "starting"), Observation(True, "ready")])
    assert wait_for("thing", lambda: next(answers), timeout=5, interval=0.01) >= 0


def test_timeout_reports_what_was_last_seen() -> None:
    with pytest.raises(WaitTimeout) as error:
        wait_for("the pod to be Ready", lambda: Observation(False, "pod web-1: Pending"), timeout=0.05,
                 interval=0.01)
    assert "the pod to be Ready" in str(error.value)
    assert "pod web-1: Pending" in str(error.value)


def test_exceptions_are_waited_through_and_reported() -> None:
    def probe() -> Observation:
        raise ConnectionRefusedError("connection refused")

    with pytest.raises(WaitTimeout) as error:
        wait_for("the API", probe, timeout=0.05, interval=0.01)
    assert "ConnectionRefusedError: connection refused" in str(error.value)


def test_stop_waiting_ends_the_wait_at_once() -> None:
    calls = []

    def probe() -> Observation:
        calls.append(1)
        raise StopWaiting("job/bots-db-init failed")

    with pytest.raises(StopWaiting):
        wait_for("the job", probe, timeout=5, interval=0.01)
    assert len(calls) == 1



def test_hold_for_returns_when_the_state_holds_for_the_whole_period() -> None:
    checks = []

    def steady() -> Observation:
        checks.append(1)
        return Observation(True, "2/2 Ready")

    hold_for("the pods Ready", steady, seconds=0.05, interval=0.01)
    assert len(checks) >= 2


def test_hold_for_says_when_the_state_stopped_holding_and_what_was_seen() -> None:
    states = iter([Observation(True, "1/1 Ready"), Observation(False, "bots-jobqueue-x: restarted 0 -> 1")])
    with pytest.raises(NotSettled) as error:
        hold_for("deployment/bots-jobqueue Ready without restarts", lambda: next(states), seconds=5, interval=0.01)
    message = str(error.value)
    assert message.startswith("deployment/bots-jobqueue Ready without restarts did not hold for 5s: after ")
    assert "restarted 0 -> 1" in message
