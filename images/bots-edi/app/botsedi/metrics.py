"""/metrics: Prometheus metrics computed at scrape time from Bots' own tables `report` and `ta`.

Every webserver replica reports the same database totals (aggregate with max(), not sum()).
- bots_transactions_total           files received by the engine (sum of report.lastreceived)
- bots_errors_total                 received files that ended in error (sum of report.lasterror)
- bots_process_errors_total         process errors of engine runs (sum of report.processerrors)
- bots_engine_runs_total            engine runs (rows in report)
- bots_processing_duration_seconds  histogram of engine run durations: from the run's report.ts to the
                                    last ta row the run wrote
- bots_open_transactions            ta rows still open (statust 0)
- bots_last_run_timestamp_seconds   start of the latest engine run
- bots_engine_last_run_failed       1 when the latest engine run that did any work (received a file or had a
                                    process error) ended in error (report.status: a file in error or left
                                    unfinished, or a process error), else 0. The engine's Job does not show
                                    it: bots-engine exits 2, the Job retries, and the retry, with nothing new
                                    to read, exits 0 and writes a report of its own (so does every idle run)
- bots_database_up                  1 when the queries above worked
Bots deletes reports and ta rows after `maxdays`; the counters then drop, which Prometheus treats as a
counter reset.
"""

from django.http import HttpResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from botsedi import db

BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

# each finished run (its report row) spans the ta rows from its own idta up to the next run's root ta row (script
# 0). Not up to the next report: a run in progress has its root row but no report yet, and its rows would be
# counted into the run before it, moving that run from bucket to bucket while it lasts (a counter going down)
_RUN_DURATIONS = """
SELECT TIMESTAMPDIFF(MICROSECOND, r.ts, MAX(t.ts)) / 1000000.0
FROM report r
JOIN ta t ON t.idta >= r.idta
         AND t.idta < COALESCE((SELECT MIN(n.idta) FROM ta n WHERE n.idta > r.idta AND n.script = 0), 2147483647)
GROUP BY r.idta, r.ts
"""


def _histogram(durations):
    counts = [0] * len(BUCKETS)
    total = 0.0
    for value in durations:
        value = max(float(value or 0), 0.0)
        total += value
        for i, bound in enumerate(BUCKETS):
            if value <= bound:
                counts[i] += 1
    buckets = [(str(bound), counts[i]) for i, bound in enumerate(BUCKETS)]
    buckets.append(("+Inf", len(durations)))
    return buckets, total


class BotsCollector:
    def collect(self):
        up = GaugeMetricFamily("bots_database_up", "1 if the Bots database answered the metrics queries")
        try:
            with db.probe_connection() as conn:
                cur = conn.cursor()
                cur.execute(
                    "SELECT COUNT(*), COALESCE(SUM(lastreceived), 0), COALESCE(SUM(lasterror), 0), "
                    "COALESCE(SUM(processerrors), 0), UNIX_TIMESTAMP(MAX(ts)) FROM report"
                )
                runs, received, errors, processerrors, lastrun = cur.fetchone()
                cur.execute(
                    "SELECT status FROM report WHERE lastreceived > 0 OR processerrors > 0 "
                    "ORDER BY idta DESC LIMIT 1"
                )
                latest = cur.fetchone()
                cur.execute(_RUN_DURATIONS)
                durations = [row[0] for row in cur.fetchall()]
                cur.execute("SELECT COUNT(*) FROM ta WHERE statust = 0")
                (openta,) = cur.fetchone()
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield CounterMetricFamily(
            "bots_transactions", "Files received by the Bots engine", value=float(received)
        )
        yield CounterMetricFamily(
            "bots_errors", "Received files that ended in error", value=float(errors)
        )
        yield CounterMetricFamily(
            "bots_process_errors", "Process errors of Bots engine runs", value=float(processerrors)
        )
        yield CounterMetricFamily("bots_engine_runs", "Bots engine runs", value=float(runs))
        buckets, total = _histogram(durations)
        yield HistogramMetricFamily(
            "bots_processing_duration_seconds",
            "Duration of Bots engine runs",
            buckets=buckets,
            sum_value=total,
        )
        yield GaugeMetricFamily("bots_open_transactions", "ta rows still open", value=float(openta))
        last = GaugeMetricFamily("bots_last_run_timestamp_seconds", "Start of the latest engine run")
        last.add_metric([], float(lastrun) if lastrun is not None else 0.0)
        yield last
        yield GaugeMetricFamily(
            "bots_engine_last_run_failed",
            "1 if the latest Bots engine run that did any work ended in error",
            value=1.0 if latest and latest[0] else 0.0,
        )


_REGISTRY = CollectorRegistry(auto_describe=False)
_REGISTRY.register(BotsCollector())


def view(request):
    return HttpResponse(generate_latest(_REGISTRY), content_type=CONTENT_TYPE_LATEST)
