"""The monitoring add-on as the steps read it (a fake API client standing in for the API server's service proxy),
the metric names a rule's expression selects, the alert timeline, and the alert rules' routing check."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from edirunbook import alertrules, prometheus
from edirunbook.errors import AppError, WaitTimeout
from edirunbook.prometheus import AlertTimeline, Monitoring, counted_ratios, metric_names


class FakeApi:
    """Answers GETs on /api/v1/namespaces/monitoring/services/<svc>/proxy/<path> from `answers[path]` (a list is
    served one item a call, the last one repeated); records each call."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, list[tuple[str, str]]]] = []

    def call_api(self, resource: str, method: str, *, query_params: list[tuple[str, str]], **_: Any) -> Any:
        path = resource.split("/proxy/", 1)[1]
        self.calls.append((method, path, query_params))
        answer = self.answers[f"{method} {path}"]
        if isinstance(answer, list) and answer and isinstance(answer[0], Step):
            answer = (answer.pop(0) if len(answer) > 1 else answer[0]).value
        if isinstance(answer, client.ApiException):
            raise answer
        return SimpleNamespace(data=json.dumps(answer).encode() if answer is not None else b"")


class Step:
    def __init__(self, value: Any) -> None:
        self.value = value


def ok(data: Any) -> dict[str, Any]:
    return {"status": "success", "data": data}


def monitoring(answers: dict[str, Any]) -> tuple[Monitoring, FakeApi]:
    api = FakeApi(answers)
    return Monitoring(api), api


@pytest.mark.parametrize(("expr", "names"), [
    ('absent(up{namespace="edi", component="webserver"} == 1)', {"up"}),
    ('max(rate(bots_errors_total{namespace="edi"}[5m]) / rate(bots_transactions_total{namespace="edi"}[5m])) > 0.05',
     {"bots_errors_total", "bots_transactions_total"}),
    ("histogram_quantile(0.95, sum by (le) (rate(bots_processing_duration_seconds_bucket[5m])))",
     {"bots_processing_duration_seconds_bucket"}),
    ('kubelet_volume_stats_used_bytes{namespace="edi"} / on(persistentvolumeclaim) group_left '
     'kubelet_volume_stats_capacity_bytes offset 5m > bool 0.9', {"kubelet_volume_stats_used_bytes",
                                                                  "kubelet_volume_stats_capacity_bytes"}),
    ('time() - max(bots_last_run_timestamp_seconds{job=~"a|b"}) > 3600 and vector(1)',
     {"bots_last_run_timestamp_seconds"}),
    ('count({__name__="x"}) or on() vector(0)', set()),
    ('label_replace(up, "dst", "$1", "src", "(.*)")', {"up"}),
])
def test_the_metric_names_an_expression_selects(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_a_misspelt_metric_is_one_the_cluster_does_not_have() -> None:
    have = {"up", "bots_errors_total", "bots_transactions_total"}
    assert metric_names("rate(bots_error_total[5m]) / rate(bots_transactions_total[5m])") - have == \
        {"bots_error_total"}


def test_an_instant_query_returns_samples_and_a_scalar_one_sample() -> None:
    mon, api = monitoring({
        "GET api/v1/query": [Step(ok({"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "pod": "a"}, "value": [1.0, "1"]},
            {"metric": {"pod": "b"}, "value": [1.0, "NaN"]}]})),
            Step(ok({"resultType": "scalar", "result": [1.0, "0.25"]}))]})
    samples = mon.query("up", at=1700000000.5)
    assert [s.labels["pod"] for s in samples] == ["a", "b"] and samples[0].value == 1.0
    assert samples[1].value != samples[1].value  # NaN kept as NaN
    assert samples[0].describe() == 'up{pod="a"} 1'
    assert api.calls[0][2] == [("query", "up"), ("time", "1700000000.500")]
    assert mon.query("scalar(x)")[0].value == 0.25


def test_a_query_prometheus_refuses_says_why() -> None:
    refused = client.ApiException(status=400)
    refused.body = json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error: unexpected }"})
    mon, _ = monitoring({"GET api/v1/query": refused})
    with pytest.raises(AppError, match=r"400: bad_data parse error: unexpected \}"):
        mon.query("rate(x[5m]}")


def test_each_series_first_sample_in_the_window() -> None:
    mon, api = monitoring({"GET api/v1/query": ok({"resultType": "matrix", "result": [
        {"metric": {"pod": "old"}, "values": [[1000.0, "5"], [1015.0, "6"]]},
        {"metric": {"pod": "new"}, "values": [[1200.5, "6"]]},
        {"metric": {"pod": "gone"}, "values": []}]})})
    assert mon.first_samples('bots_transactions_total{namespace="edi"}') == {"old": 1000.0, "new": 1200.5}
    assert api.calls[0][2] == [("query", 'bots_transactions_total{namespace="edi"}[5m]')]


RUNS = [(100.0, 5, 4), (150.0, 12, 12), (400.0, 10, 1)]  # (start, received, failed), in time order


def test_the_runs_a_counter_counted_after_its_first_sample() -> None:
    """Sampled first at 300: the run begun at 400 is counted for sure; the earlier ones may have ended after 300
    (their reports are written at the end), the later of them first: 1/10, 13/22, 17/27."""
    assert counted_ratios(RUNS, counted_after=300.0) == [17 / 27, 13 / 22, 1 / 10]
    assert counted_ratios(RUNS, counted_after=120.0) == [17 / 27, 13 / 22]  # the run begun at 150 for sure
    assert counted_ratios([(100.0, 0, 0)], counted_after=50.0) == []  # nothing received: no ratio


def test_a_matrix_is_no_instant_vector() -> None:
    mon, _ = monitoring({"GET api/v1/query": ok({"resultType": "matrix", "result": []})})
    with pytest.raises(AppError, match="matrix"):
        mon.query("up[5m]")


def _alert(name: str, state: str, active_at: str = "2026-12-01T01:00:00Z") -> dict[str, Any]:
    return {"labels": {"alertname": name, "severity": "critical"}, "state": state, "activeAt": active_at,
            "value": "1e+00"}


def test_follow_marks_pending_from_prometheus_activeat_then_firing_then_resolved(monkeypatch: Any) -> None:
    clock = iter(range(1000, 2000, 5))
    monkeypatch.setattr(prometheus.time, "time", lambda: float(next(clock)))
    mon, _ = monitoring({"GET api/v1/alerts": [
        Step(ok({"alerts": []})),
        Step(ok({"alerts": [_alert("BotsWebserverDown", "pending", "1970-01-01T00:16:42.123456789Z")]})),
        Step(ok({"alerts": [_alert("Other", "firing"), _alert("BotsWebserverDown", "firing")]})),
        Step(ok({"alerts": []}))]})
    timeline = AlertTimeline("BotsWebserverDown", caused_at=1000.0)
    mon.follow(timeline, "firing", timeout=60, interval=0)
    assert timeline.pending == pytest.approx(2.123457) and timeline.firing == 10.0  # seen firing at the 3rd look
    assert timeline.seen[-1].startswith("BotsWebserverDown firing")
    mon.follow(timeline, "inactive", timeout=60, interval=0)
    assert timeline.resolved is not None and timeline.resolved > timeline.firing


def test_an_alert_without_for_is_firing_from_its_first_evaluation() -> None:
    timeline = AlertTimeline("BotsEngineRunFailed", caused_at=0.0)
    timeline.mark("firing", 12.0)
    assert timeline.pending == timeline.firing == 12.0


def test_a_wait_for_firing_that_runs_out_shows_the_states_seen() -> None:
    mon, _ = monitoring({"GET api/v1/alerts": [Step(ok({"alerts": [_alert("A", "pending")]}))]})
    with pytest.raises(WaitTimeout, match="A pending"):
        mon.follow(AlertTimeline("A", caused_at=0.0), "firing", timeout=0.05, interval=0.01)


def _note(receiver: str, name: str, status: str) -> dict[str, Any]:
    return {"receiver": receiver, "status": status, "alerts": [{"status": status, "labels": {"alertname": name}}]}


def test_a_notification_is_looked_for_among_those_after_the_fault_only() -> None:
    old = _note("on-call", "A", "firing")
    later = [old, _note("chat", "B", "firing")]
    mon, _ = monitoring({"GET notifications": [Step([old]), Step(later), Step([*later, _note("chat", "A", "firing")])]})
    note = mon.wait_notification("A", "firing", after=1, timeout=5)
    assert note["receiver"] == "chat"


def test_a_notification_that_never_comes_names_what_came_instead() -> None:
    mon, _ = monitoring({"GET notifications": [Step([_note("chat", "B", "firing")])]})
    with pytest.raises(WaitTimeout, match="chat: B firing"):
        mon.wait_notification("A", "firing", after=0, timeout=0.05)


def test_the_routing_check_names_a_wrong_receiver_and_an_unknown_severity() -> None:
    rules: list[dict[str, Any]] = [{"alert": "Down", "labels": {"severity": "critical"}},
                                   {"alert": "Slow", "labels": {"severity": "warning"}},
                                   {"alert": "Odd", "labels": {"severity": "page"}},
                                   {"alert": "Bare"}]
    problems = list(alertrules.routing_errors(rules, {"Down": "chat", "Slow": "chat"}))
    assert problems == ["Down (critical) goes to chat, the runbook says on-call",
                        "Odd: severity 'page'; the runbook knows critical and warning",
                        "Bare: severity '(none)'; the runbook knows critical and warning"]


def test_the_shipped_rules_have_one_alert_per_runbook_alert_each_with_a_severity() -> None:
    rules = alertrules.rules()
    assert len(rules) == 6
    assert {rule["labels"]["severity"] for rule in rules} == {"critical", "warning"}
    assert all(rule.get("annotations", {}).get("runbook") for rule in rules)


def test_an_unreadable_rule_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yml"
    broken.write_text("groups: [\n")
    with pytest.raises(Exception, match="cannot read the alert rules"):
        alertrules.rules(broken)
