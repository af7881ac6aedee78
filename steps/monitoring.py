"""The runbook's Monitoring: its PromQL queries through Prometheus's HTTP API, its alerts caused for real and
followed from pending to firing to resolved, and where their notifications arrive (edirunbook/prometheus.py)."""
from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes.utils import parse_quantity
from pytest_bdd import given, parsers, then, when

from edirunbook import alertrules, app, orders
from edirunbook.durations import parse_duration
from edirunbook.prometheus import (
    SCRAPE_INTERVAL,
    AlertTimeline,
    Monitoring,
    Sample,
    counted_ratios,
    describe_notification,
    metric_names,
)
from edirunbook.report import record_command, record_duration
from edirunbook.runbook import split_queries
from edirunbook.shell import OPERATOR_QUERIES, OPERATOR_QUERIES_BLOCK
from edirunbook.waiting import Observation, hold_for, wait_for
from fixtures.scenario import ScenarioContext

# the app's counters: every webserver replica reports the database's same totals, each when it is scraped
TOTALS = {"transactions": 'bots_transactions_total{namespace="edi"}',
          "errors": 'bots_errors_total{namespace="edi"}',
          "engine runs timed": 'bots_processing_duration_seconds_count{namespace="edi"}'}


def _monitoring(ctx: ScenarioContext) -> Monitoring:
    return Monitoring(ctx.bots.api)


def _webserver_pods(ctx: ScenarioContext) -> set[str]:
    return {pod.metadata.name for pod in ctx.bots.deployment_pods(app.WEBSERVER)}


@given("Prometheus scrapes every webserver pod by its annotations")
def scrapes_webservers(ctx: ScenarioContext) -> None:
    """Each running webserver pod is an active target, found by Kubernetes discovery, whose last scrape worked."""
    monitoring = _monitoring(ctx)

    def probe() -> Observation:
        pods = _webserver_pods(ctx)
        targets = {t["labels"].get("pod"): t["health"] for t in monitoring.targets()
                   if t["labels"].get("namespace") == ctx.bots.namespace
                   and t["labels"].get("component") == "webserver"}
        return Observation(bool(pods) and all(targets.get(pod) == "up" for pod in pods),
                           f"webserver pods {sorted(pods)}, targets {targets}")

    wait_for("Prometheus to scrape every webserver pod", probe, timeout=4 * SCRAPE_INTERVAL + 30)


def _totals(monitoring: Monitoring) -> dict[str, dict[str, float]]:
    """Each counter's latest scraped value, by webserver pod."""
    return {name: {str(sample.labels.get("pod")): sample.value for sample in monitoring.query(query)}
            for name, query in TOTALS.items()}


@when(parsers.parse("the engine runs once on {good:d} good orders and {malformed:d} malformed orders"))
def engine_workload(ctx: ScenarioContext, good: int, malformed: int) -> None:
    """Prometheus's totals noted (after a scrape newer than any earlier run), then the files dropped inbound as
    partners send them and one engine Job from the CronJob run to its end."""
    ctx.counters = {name: max(by_pod.values(), default=float("nan"))
                    for name, by_pod in _totals(_monitoring(ctx)).items()}
    stamp = int(time.time() * 1000)
    for n in range(good):
        ctx.bots.drop_sample("ORDERS_good.edi", as_name=f"{stamp}-{n}-ORDERS_good.edi")
    for n in range(malformed):
        ctx.bad_files.append(ctx.bots.drop_sample("ORDERS_malformed.edi", as_name=f"{stamp}-{n}-ORDERS_malformed.edi")
                             .rsplit("/", 1)[1])
    ctx.bots.run_engine_job(f"bots-engine-manual-{int(time.time())}")


@then(parsers.parse("within {timeout} Prometheus counts {files:d} more transactions, {errors:d} more errors and "
                    "{runs:d} more timed engine runs"))
def counters_counted(ctx: ScenarioContext, timeout: str, files: int, errors: int, runs: int) -> None:
    """bots_transactions_total, bots_errors_total and the duration histogram's _count, as Prometheus scraped them
    from every running webserver pod, rose by exactly that much since the workload began. Every pod, not one: a
    pod not scraped since the run ended would leave the run out of its rate() in the queries that follow."""
    assert ctx.counters, "no totals were noted before a workload in this scenario"
    monitoring = _monitoring(ctx)
    expected = {"transactions": files, "errors": errors, "engine runs timed": runs}

    def probe() -> Observation:
        pods = sorted(_webserver_pods(ctx))
        now = _totals(monitoring)
        rose = {pod: {name: now[name].get(pod, float("nan")) - ctx.counters[name] for name in expected}
                for pod in pods}
        return Observation(bool(pods) and all(by_name == expected for by_name in rose.values()),
                           "; ".join(f"{pod}: " + ", ".join(f"{name} +{by_name[name]:g} (expected +{expected[name]})"
                                                            for name in expected)
                                     for pod, by_name in rose.items()) or "no webserver pod")

    wait_for("Prometheus's bots_* totals to count the workload", probe, timeout=parse_duration(timeout))


@when(OPERATOR_QUERIES_BLOCK)
def operator_queries(ctx: ScenarioContext, request: pytest.FixtureRequest, docstring: str) -> None:
    """Each query of the docstring (a query a line, `#` comments naming them) sent as written to Prometheus's
    /api/v1/query; its result is in the report's transcript."""
    for query in split_queries(docstring):
        _query(ctx, request, query.summary, query.note or query.summary)


@when(parsers.re(OPERATOR_QUERIES.pattern))
def operator_query(ctx: ScenarioContext, request: pytest.FixtureRequest, query: str) -> None:
    """The query sent as written to Prometheus's /api/v1/query; its result is in the report's transcript."""
    _query(ctx, request, query, query)


def _query(ctx: ScenarioContext, request: pytest.FixtureRequest, query: str, name: str) -> None:
    started = time.monotonic()
    samples = _monitoring(ctx).query(query)
    ctx.queried[name] = samples
    shown = "\n".join(sample.describe() for sample in samples) or "(empty vector)"
    record_command(request, f"GET prometheus:9090/api/v1/query?query={query}", 0, shown, time.monotonic() - started)


def _result(ctx: ScenarioContext, name: str) -> list[Sample]:
    assert name in ctx.queried, f"no query named {name!r} ran; ran: {sorted(ctx.queried)}"
    return ctx.queried[name]


@then(parsers.parse('"{name}" has a series for each webserver pod, every value above zero'))
def series_per_webserver(ctx: ScenarioContext, name: str) -> None:
    """A sample above zero for each running webserver pod (the pod label). Pods replaced in the last five minutes
    may have series too (a range keeps their samples after they went): they are webserver pods, not counted."""
    samples = _result(ctx, name)
    pods = _webserver_pods(ctx)
    by_pod = {sample.labels.get("pod"): sample.value for sample in samples}
    missing = sorted(pods - set(by_pod))
    strangers = sorted(pod or "?" for pod in by_pod if not (pod or "").startswith(f"{app.WEBSERVER}-"))
    assert not missing and not strangers, \
        f"{name}: no series for running webserver pods {missing}; series of other pods {strangers}"
    low = {pod: by_pod[pod] for pod in pods if not by_pod[pod] > 0}
    assert not low, f"{name}: not above zero for {low}"


# How long before a series' first sample a run may have started and still be counted after it (a run's report row,
# dated when the run began, is written when it ends): the longest engine run the scenarios make, with room.
LONGEST_RUN = 180


@then(parsers.parse('"{name}" equals the share of the files received in those 5 minutes that failed, '
                    'as the database counts them, within {tolerance:g}'))
def error_ratio_agrees(ctx: ScenarioContext, name: str, tolerance: float) -> None:
    """Each running webserver pod's ratio equals Σ lasterror / Σ lastreceived of the engine runs (`report`) its
    series counted: those that ended after its first sample in the 5-minute window (the window's start, or the
    pod's first scrape when it began inside the window). The runs that began clearly after that sample are
    counted for sure; of those that began up to a long run's length before it, the later ones may be too (runs
    end in order). Pods replaced in the window keep series with their own older ratios: not checked."""
    samples = {sample.labels.get("pod"): sample.value for sample in _result(ctx, name)}
    pods = sorted(_webserver_pods(ctx))
    missing = [pod for pod in pods if pod not in samples]
    assert not missing, f"{name} has no series for running webserver pods {missing}: {sorted(map(str, samples))}"
    starts = _monitoring(ctx).first_samples('bots_transactions_total{namespace="edi"}')
    rows = [(float(at), int(received), int(failed)) for at, received, failed in ctx.env.database.query(
        "SELECT UNIX_TIMESTAMP(ts), lastreceived, lasterror FROM report "
        f"WHERE ts > NOW() - INTERVAL {300 + LONGEST_RUN} SECOND AND lastreceived > 0 ORDER BY ts")]
    for pod in pods:
        first = starts.get(pod)
        assert first is not None, f"Prometheus has no sample of bots_transactions_total for {pod} in 5 minutes"
        candidates = counted_ratios([run for run in rows if run[0] > first - LONGEST_RUN], counted_after=first)
        assert candidates, f"the database has no engine run that received files after {pod}'s first sample in " \
                           f"the window ({first:.0f}): {rows}"
        assert any(abs(samples[pod] - want) <= tolerance for want in candidates), \
            f"{name} is {samples[pod]:.4f} for {pod}; the database says " \
            f"{' or '.join(f'{want:.4f}' for want in candidates)} for the runs after its first sample at " \
            f"{first:.0f} (runs: start, received, failed: {rows})"


@then(parsers.parse('"{name}" lies within the histogram bucket of the longest engine Job of those 5 minutes'))
def quantile_agrees(ctx: ScenarioContext, name: str) -> None:
    """For each running webserver pod: 0 < p95 <= the upper bound of the bucket that holds the longest engine
    container's run time (a run lasts no longer than the container that runs it); NaN would mean no run in the
    window. Pods replaced in the window keep series of their own (NaN when no run ended in theirs): not checked."""
    samples = {sample.labels.get("pod"): sample.value for sample in _result(ctx, name)}
    pods = sorted(_webserver_pods(ctx))
    missing = [pod for pod in pods if pod not in samples]
    assert not missing, f"{name} has no series for running webserver pods {missing}: {sorted(map(str, samples))}"
    longest = _longest_engine_container(ctx, window=300)
    bounds = sorted(float(s.labels["le"]) for s in _monitoring(ctx).query(
        'max by (le) (bots_processing_duration_seconds_bucket{namespace="edi"})'))
    upper = next((b for b in bounds if longest <= b), float("inf"))
    for pod in pods:
        assert 0 < samples[pod] <= upper, \
            f"{name} is {samples[pod]:g} s for {pod}; the longest engine container of the last 5 minutes ran " \
            f"{longest:.1f} s, so at most {upper:g}"


def _longest_engine_container(ctx: ScenarioContext, window: float) -> float:
    """The longest run time of an engine container that ended in the last `window` seconds, plus the second its
    timestamps (whole seconds) may have cut off."""
    runs = [(ended.finished_at - ended.started_at).total_seconds() + 1
            for pod in ctx.bots.pods("component=engine") for status in pod.status.container_statuses or []
            if (ended := status.state.terminated if status.state else None) and ended.finished_at
            and time.time() - ended.finished_at.timestamp() <= window]
    assert runs, "no engine container ended in the last 5 minutes"
    return max(runs)


@then(parsers.parse('"{name}" has a series for each container of the running Bots EDI pods'))
def series_per_container(ctx: ScenarioContext, name: str) -> None:
    """A sample labelled with each running Bots EDI pod and each of its containers, above zero; a memory figure
    below the container's limit."""
    samples = _result(ctx, name)
    seen = {(s.labels.get("pod"), s.labels.get("container")): s.value for s in samples}
    missing, wrong = [], []
    for pod in ctx.bots.pods("app=bots-edi"):
        if pod.status.phase != "Running":
            continue
        for container in pod.spec.containers:
            value = seen.get((pod.metadata.name, container.name))
            limit = (container.resources.limits or {}).get("memory") if container.resources else None
            if value is None:
                missing.append(f"{pod.metadata.name}/{container.name}")
            elif value <= 0 or ("memory" in name.lower() and limit and value > _bytes(limit)):
                wrong.append(f"{pod.metadata.name}/{container.name}: {value:g} (limit {limit})")
    assert not missing and not wrong, f"{name}: no series for {missing}; out of range: {wrong}; " \
        f"series: {sorted(f'{p}/{c}' for p, c in seen)}"


def _bytes(quantity: str) -> float:
    return float(parse_quantity(quantity))


@given("Prometheus has loaded the deployment's alert rules")
def rules_loaded(ctx: ScenarioContext) -> None:
    """Every alert of environments/base/monitoring/bots-edi-alerts.yml is a rule Prometheus evaluates, healthy."""
    wanted = {rule["alert"] for rule in alertrules.rules()}
    loaded = {rule["name"]: rule for rule in _monitoring(ctx).alert_rules()}
    assert wanted <= set(loaded), f"Prometheus has not loaded {sorted(wanted - set(loaded))}; it has {sorted(loaded)}"
    unhealthy = {name: loaded[name].get("lastError") for name in wanted if loaded[name].get("health") != "ok"}
    assert not unhealthy, f"rules failing to evaluate: {unhealthy}"


@then("each runbook alert has its rule, with the runbook's severity:")
def runbook_alert_rules(ctx: ScenarioContext, datatable: list[list[str]]) -> None:
    """Per row (runbook alert, rule, severity): the loaded rule exists and carries that severity label."""
    loaded = {rule["name"]: rule for rule in _monitoring(ctx).alert_rules()}
    header, *rows = datatable
    problems = []
    for alert, rule, severity in rows:
        found = loaded.get(rule)
        if found is None:
            problems.append(f"{alert}: no rule {rule}")
        elif found.get("labels", {}).get("severity") != severity:
            problems.append(f"{alert}: {rule} has severity {found.get('labels', {}).get('severity')}, not {severity}")
    assert not problems, "; ".join(problems)
    assert len(rows) == len(alertrules.rules()), f"the rules file has {len(alertrules.rules())} alerts, the " \
        f"runbook {len(rows)}"


@then("no rule refers to a metric the cluster does not have")
def rules_metrics_exist(ctx: ScenarioContext) -> None:
    """Every metric name each loaded rule's expression selects is one Prometheus has series of (waiting up to two
    minutes: on a cluster just up, the kubelet measures the volumes once a minute and Prometheus scrapes after)."""
    monitoring = _monitoring(ctx)

    def probe() -> Observation:
        have = monitoring.names()
        missing = {rule["name"]: sorted(metric_names(rule["query"]) - have) for rule in monitoring.alert_rules()}
        missing = {name: names for name, names in missing.items() if names}
        return Observation(not missing, f"rules refer to metrics Prometheus has no series of: {missing}")

    wait_for("every rule's metrics to have series", probe, timeout=120, interval=5)


@given(parsers.parse('the alert "{name}" is not active'))
def alert_inactive(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str) -> None:
    """Neither pending nor firing (waiting up to the 5-minute window of a rate an earlier scenario raised); its
    timeline starts now, just before the fault, and only notifications from now on count."""
    monitoring = _monitoring(ctx)
    state = {"value": ""}

    def probe() -> Observation:
        state["value"], alert = monitoring.alert_state(name)
        return Observation(state["value"] == "inactive", f"{name} {state['value']}: {alert}")

    waited = wait_for(f"alert {name} to be inactive", probe, timeout=390)
    if waited > 2:
        record_duration(request, f"{name} inactive (left by earlier scenarios)", waited)
    if not ctx.alerts:
        ctx.notifications_before = len(monitoring.notifications())
    ctx.alerts[name] = AlertTimeline(name, caused_at=time.time())


def _timeline(ctx: ScenarioContext, name: str) -> AlertTimeline:
    assert name in ctx.alerts, f'no "the alert "{name}" is not active" step came before the fault'
    return ctx.alerts[name]


def _rule(ctx: ScenarioContext, name: str) -> dict[str, Any]:
    found = [rule for rule in _monitoring(ctx).alert_rules() if rule["name"] == name]
    assert found, f"Prometheus has no alert rule {name}"
    return found[0]


@then(parsers.parse('the alert "{name}" fires within its for: window plus two scrape intervals of becoming pending'))
def alert_fires(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str) -> None:
    """Followed until firing (up to two minutes for the fault to show, then its window): pending from the rule
    evaluation that first found the condition (Prometheus's activeAt), firing within `for` + 2 scrapes of that."""
    timeline = _timeline(ctx, name)
    hold = float(_rule(ctx, name).get("duration") or 0)
    target = hold + 2 * SCRAPE_INTERVAL
    _monitoring(ctx).follow(timeline, "firing", timeout=120 + target)
    ctx.alerts[name] = ctx.alerts.pop(name)  # the last one followed: the one "its notification" means
    assert timeline.pending is not None and timeline.firing is not None
    record_duration(request, f"{name} pending after the fault", timeline.pending)
    record_duration(request, f"{name} firing after pending", timeline.firing - timeline.pending, target)
    assert timeline.firing - timeline.pending <= target + 2, \
        f"{name} fired {timeline.firing - timeline.pending:.0f} s after becoming pending; its for: is {hold:g} s " \
        f"({' -> '.join(timeline.seen)})"


@then(parsers.parse('its notification reaches the "{receiver}" receiver and no other'))
def notified(ctx: ScenarioContext, request: pytest.FixtureRequest, receiver: str) -> None:
    """The alert last seen firing: its firing notification arrives at that receiver within a minute, and no
    notification of it went anywhere else."""
    name = list(ctx.alerts)[-1]
    _notification(ctx, request, name, "firing", receiver)


@then(parsers.parse('the alert "{name}" resolves within {timeout} and the "{receiver}" receiver gets the resolved '
                    'notification'))
def alert_resolves(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str, timeout: str,
                   receiver: str) -> None:
    """Followed until it is neither pending nor firing; then Alertmanager's resolved notification reaches the
    same receiver, and no other received one about it."""
    timeline = _timeline(ctx, name)
    resolving_from = time.time()
    _monitoring(ctx).follow(timeline, "inactive", timeout=parse_duration(timeout))
    record_duration(request, f"{name} resolved after the fix", time.time() - resolving_from)
    _notification(ctx, request, name, "resolved", receiver)


def _notification(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str, status: str,
                  receiver: str) -> None:
    monitoring = _monitoring(ctx)
    started = time.monotonic()
    note = monitoring.wait_notification(name, status, after=ctx.notifications_before, timeout=60)
    record_duration(request, f"{name} {status} notification", time.monotonic() - started)
    about = [n for n in monitoring.notifications()[ctx.notifications_before:]
             if any(alert["labels"].get("alertname") == name for alert in n["alerts"])]
    elsewhere = [describe_notification(n) for n in about if n["receiver"] != receiver]
    assert note["receiver"] == receiver and not elsewhere, \
        f"{name}'s {status} notification went to {note['receiver']}; also to: {elsewhere or 'nobody else'}"
    record_command(request, f"GET alert-receiver:8080/notifications ({name} {status})", 0,
                   "\n".join(describe_notification(n) for n in about), time.monotonic() - started)


@then(parsers.parse('the alert "{name}" is not active'))
def alert_still_inactive(ctx: ScenarioContext, name: str) -> None:
    """Neither pending nor firing now: this fault is not its cause."""
    state, alert = _monitoring(ctx).alert_state(name)
    assert state == "inactive", f"{name} is {state}: {alert}"


@when(parsers.parse("a backup's global read lock stalls an engine run of {count:d} large orders for {duration}"))
def engine_stalled(ctx: ScenarioContext, count: int, duration: str) -> None:
    """Large orders (9000 lines each) dropped inbound and an engine Job from the CronJob started; the moment its
    run has written its first row, FLUSH TABLES WITH READ LOCK from a root session (as consistent-snapshot backup
    tools take it: reads go on, writes wait), held while the Job stays active for that long, then UNLOCK TABLES
    (always, also when the step fails) and the Job run to its end. The run must have taken that long."""
    seconds = parse_duration(duration)
    sample, stamp = ctx.bots.sample("ORDERS_good.edi"), int(time.time() * 1000)
    for n in range(count):
        ctx.bots.write_web(f"{ctx.bots.inbound_dir}/{stamp}-{n}-large-order.edi",
                           orders.large_order(sample, 9000, f"PO-{stamp}-{n}"))
    database = ctx.env.database
    before = database.query("SELECT COALESCE(MAX(idta), 0) FROM ta")[0][0]
    name = f"bots-engine-manual-{int(time.time())}"
    ctx.bots.kubectl_run("create", "job", f"--from=cronjob/{app.ENGINE_CRONJOB}", name)

    def run_started() -> Observation:
        latest = database.query("SELECT COALESCE(MAX(idta), 0) FROM ta")[0][0]
        return Observation(latest > before, f"newest ta row {latest} (before the run: {before})")

    def stalled() -> Observation:
        job = ctx.bots.batch.read_namespaced_job(name, ctx.bots.namespace)
        finished = [c.type for c in job.status.conditions or [] if c.status == "True"]
        return Observation(not finished, f"job/{name}: active {job.status.active or 0}, finished {finished}")

    wait_for(f"the engine run job/{name} to write its first row", run_started, timeout=120, interval=0.02)
    connection = database.connect(as_root=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("FLUSH TABLES WITH READ LOCK")
        hold_for(f"the engine run job/{name} stalled by the lock", stalled, seconds=seconds)
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("UNLOCK TABLES")
        finally:
            connection.close()
    state = ctx.bots.wait_job(name, timeout=300)
    assert state == "Complete", f"the stalled engine run job/{name} ended {state}:\n{ctx.bots.job_logs(name)}"
    took = database.query(
        "SELECT TIMESTAMPDIFF(SECOND, r.ts, MAX(t.ts)) FROM report r JOIN ta t ON t.idta >= r.idta "
        "WHERE r.idta > %s AND r.lastreceived > 0 GROUP BY r.idta, r.ts ORDER BY r.idta LIMIT 1", [before])
    assert took and took[0][0] >= seconds - 5, \
        f"the engine's run took {took[0][0] if took else '?'} s, not the {seconds:.0f} s of the lock: it wrote " \
        "everything before the lock took hold (larger orders would keep it busy longer)"


@when("every webserver pod goes away: deployment bots-webserver scaled to 0")
def webservers_gone(ctx: ScenarioContext) -> None:
    """The webserver Deployment scaled to zero replicas (the runbook's fix scales it back)."""
    ctx.bots.scale(app.WEBSERVER, 0)
