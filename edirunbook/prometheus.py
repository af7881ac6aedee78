"""The monitoring add-on seen from the suite: Prometheus's HTTP API, Alertmanager's, and the notifications our
alert receiver recorded, each reached through the API server's service proxy (no port of the host opened).

An alert's life as the scenarios follow it: `pending` from the first rule evaluation that finds its condition,
`firing` once the condition has held for the rule's `for:`, then gone from /api/v1/alerts when the condition
ends; Alertmanager sends the receiver its notification (status firing) and later the resolved one.
"""
from __future__ import annotations

import datetime
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from edirunbook.errors import AppError
from edirunbook.waiting import Observation, wait_for

NAMESPACE = "monitoring"
PROMETHEUS = ("prometheus", 9090)
RECEIVER = ("alert-receiver", 8080)
SCRAPE_INTERVAL = 15.0  # environments/kind/addons/monitoring/prometheus.yml (global scrape and evaluation)

# PromQL words that are no metric: keywords, aggregation modifiers and set operators
_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                       "offset", "inf", "nan", "atan2", "start", "end"})


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float

    def describe(self) -> str:
        shown = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "__name__")
        return f"{self.labels.get('__name__', '')}{{{shown}}} {self.value:g}"


@dataclass
class AlertTimeline:
    """An alert's life in seconds after its fault was caused (`caused_at`, the Unix time just before it): pending
    from Prometheus's own activeAt (the evaluation that first found the condition), firing and resolved when the
    suite first saw them (it polls every second)."""

    name: str
    caused_at: float
    pending: float | None = None
    firing: float | None = None
    resolved: float | None = None
    seen: list[str] = field(default_factory=list)

    def mark(self, state: str, at: float, active_at: float | None = None) -> None:
        if state in ("pending", "firing") and self.pending is None:
            self.pending = (at if active_at is None else active_at) - self.caused_at
        if state == "firing" and self.firing is None:
            self.firing = at - self.caused_at
        elif state == "inactive" and self.firing is not None and self.resolved is None:
            self.resolved = at - self.caused_at


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are no function call, keyword, label
    name or string (label matchers, range and offset durations, `by (...)` lists are taken out first)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        names.add(name)
    return names


def counted_ratios(runs: list[tuple[float, int, int]], counted_after: float) -> list[float]:
    """failed / received of every suffix of the runs (in time order) that holds all the runs begun after
    `counted_after`: the sets a counter sampled at that moment can have counted since."""
    ratios = []
    for start in range(len(runs)):
        if start > 0 and runs[start - 1][0] > counted_after:
            break  # a run begun after the first sample is always counted
        received = sum(r for _, r, _ in runs[start:])
        if received:
            ratios.append(sum(f for _, _, f in runs[start:]) / received)
    return ratios


class Monitoring:
    def __init__(self, api: client.ApiClient) -> None:
        self.api = api

    def _call(self, service: tuple[str, int], method: str, path: str, params: list[tuple[str, str]] | None = None,
              *, timeout: float = 30) -> Any:
        name, port = service
        resource = f"/api/v1/namespaces/{NAMESPACE}/services/{name}:{port}/proxy/{path.lstrip('/')}"
        try:
            response = self.api.call_api(resource, method, query_params=params or [], auth_settings=["BearerToken"],
                                         _preload_content=False, _return_http_data_only=True,
                                         _request_timeout=timeout)
        except client.ApiException as error:
            raise AppError(f"{method} {name}:{port}/{path.lstrip('/')} answered {error.status}: "
                           f"{_error_text(error.body)}") from None
        body = response.data.decode("utf-8", "replace")
        return json.loads(body) if body.strip() else None

    def _prometheus(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        answer = self._call(PROMETHEUS, "GET", path, params)
        if not isinstance(answer, dict) or answer.get("status") != "success":
            raise AppError(f"Prometheus {path}: {_error_text(answer)}")
        return answer["data"]

    def query(self, promql: str, at: float | None = None) -> list[Sample]:
        """An instant query (at `at`, a Unix time, or now); a scalar comes back as one sample without labels."""
        params = [("query", promql)] + ([("time", f"{at:.3f}")] if at is not None else [])
        data = self._prometheus("api/v1/query", params)
        if data["resultType"] == "scalar":
            return [Sample({}, float(data["result"][1]))]
        if data["resultType"] != "vector":
            raise AppError(f"{promql} gives a {data['resultType']}, not an instant vector")
        return [Sample(item["metric"], float(item["value"][1])) for item in data["result"]]

    def first_samples(self, selector: str, window: str = "5m") -> dict[str, float]:
        """The time (Unix) of each series' first sample in the window ending now, by its `pod` label: where a
        `rate(...[window])` of that series starts counting (later than the window's start for a pod that began
        inside it)."""
        data = self._prometheus("api/v1/query", [("query", f"{selector}[{window}]")])
        if data["resultType"] != "matrix":
            raise AppError(f"{selector}[{window}] gives a {data['resultType']}, not a range vector")
        return {str(item["metric"].get("pod")): min(float(t) for t, _ in item["values"])
                for item in data["result"] if item["values"]}

    def names(self) -> set[str]:
        """Every metric name Prometheus has series of."""
        return set(self._prometheus("api/v1/label/__name__/values"))

    def alert_rules(self) -> list[dict[str, Any]]:
        """The alerting rules Prometheus loaded, each with its health, lastError and its current alerts."""
        groups = self._prometheus("api/v1/rules", [("type", "alert")])["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts pending or firing now (labels, state, activeAt, value)."""
        return list(self._prometheus("api/v1/alerts")["alerts"])

    def targets(self) -> list[dict[str, Any]]:
        return list(self._prometheus("api/v1/targets", [("state", "active")])["activeTargets"])

    def notifications(self) -> list[dict[str, Any]]:
        """What the alert receiver recorded, oldest first: receiver, receivedAt, status, alerts (labels...)."""
        return list(self._call(RECEIVER, "GET", "notifications") or [])

    def forget_notifications(self) -> None:
        self._call(RECEIVER, "DELETE", "notifications")

    def alert_state(self, name: str) -> tuple[str, dict[str, Any] | None]:
        """(pending | firing | inactive, the alert) for the alert of that name."""
        found = [alert for alert in self.alerts() if alert["labels"].get("alertname") == name]
        if not found:
            return "inactive", None
        firing = [alert for alert in found if alert["state"] == "firing"]
        alert = (firing or found)[0]
        return alert["state"], alert

    def follow(self, timeline: AlertTimeline, until: str, *, timeout: float, interval: float = 1.0) -> AlertTimeline:
        """Watch the alert until it is `until` (firing, or inactive: resolved), marking each state when first
        seen; the failed wait shows every state seen."""
        def probe() -> Observation:
            state, alert = self.alert_state(timeline.name)
            timeline.mark(state, time.time(), unix_time(alert["activeAt"]) if alert else None)
            seen = f"{timeline.name} {state}" + (f" (value {alert.get('value')})" if alert else "")
            if not timeline.seen or timeline.seen[-1] != seen:
                timeline.seen.append(seen)
            return Observation(state == until, " -> ".join(timeline.seen[-6:]))

        wait_for(f"alert {timeline.name} to be {until}", probe, timeout=timeout, interval=interval)
        return timeline

    def wait_notification(self, name: str, status: str, *, after: int, timeout: float) -> dict[str, Any]:
        """The first notification about alert `name` with `status` (firing | resolved) among those the receiver
        recorded after the first `after` (it only appends)."""
        found: list[dict[str, Any]] = []

        def probe() -> Observation:
            recent = self.notifications()[after:]
            found[:] = [note for note in recent if any(alert["labels"].get("alertname") == name and
                                                       alert["status"] == status for alert in note["alerts"])]
            return Observation(bool(found), "; ".join(map(describe_notification, recent)) or "no notification")

        wait_for(f"a {status} notification of {name} at the alert receiver", probe, timeout=timeout, interval=1.0)
        return found[0]


def unix_time(rfc3339: str) -> float:
    """Prometheus's RFC 3339 times (nanoseconds, Z) as Unix seconds."""
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", rfc3339).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(trimmed).timestamp()


def describe_notification(note: dict[str, Any]) -> str:
    alerts = ", ".join(f"{a['labels'].get('alertname', '?')} {a['status']}" for a in note.get("alerts") or [])
    return f"{note.get('receiver')}: {alerts}"


def _error_text(body: Any) -> str:
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            return str(body)[:300]
    if isinstance(body, dict):
        return f"{body.get('errorType', '')} {body.get('error', body)}".strip()
    return str(body)[:300]
