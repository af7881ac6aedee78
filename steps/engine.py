"""Files for the engine to translate, and what it left in the database."""
from __future__ import annotations

import datetime
import time

import pytest
from pytest_bdd import given, parsers, then, when

from edirunbook import app, botsdb
from edirunbook.durations import parse_duration
from edirunbook.report import record_duration
from edirunbook.waiting import Observation, hold_for, wait_for
from fixtures.scenario import ScenarioContext


@given(parsers.parse('the sample file "{sample}" is in the inbound directory'))
def sample_inbound(ctx: ScenarioContext, sample: str) -> None:
    """A copy of the image's sample file (under a unique name) waits in botssys/infile/edifact_orders."""
    ctx.bots.drop_sample(sample, as_name=f"{int(time.time() * 1000)}-{sample}")


@given(parsers.parse('the engine has translated the sample file "{sample}" {count:d} times'))
def engine_translated(ctx: ScenarioContext, sample: str, count: int) -> None:
    """That many copies dropped inbound, then one engine Job from the CronJob run to Complete."""
    _engine_run(ctx, sample, count)


@when(parsers.parse('the engine translates the sample file "{sample}"'))
def engine_translates(ctx: ScenarioContext, sample: str) -> None:
    """A copy dropped inbound, then one engine Job from the CronJob (its current image) run to Complete."""
    _engine_run(ctx, sample, 1)


@then(parsers.parse('the newest translated order has fields separated by "{separator}"'))
def newest_order_separator(ctx: ScenarioContext, separator: str) -> None:
    """The newest file in botssys/outfile/edifact_orders starts `HEA<separator>`: the grammar that made it."""
    _newest_order_starts(ctx, separator)


@then("the newest translated order has the fields release v1.2.0 writes")
def newest_order_of_release(ctx: ScenarioContext) -> None:
    """The newest outbound order is separated as the target's release v1.2.0 writes (target.yaml `release:`)."""
    _newest_order_starts(ctx, ctx.env.target.release.separator)


def _newest_order_starts(ctx: ScenarioContext, separator: str) -> None:
    outbound = ctx.bots.outbound_dir
    newest = ctx.bots.exec_web(f"cd {outbound} && ls -t | head -1").strip()
    assert newest, f"the outbound directory {outbound} is empty"
    first = ctx.bots.exec_web(f"head -1 {outbound}/{newest}").strip()
    assert first.startswith(f"HEA{separator}"), \
        f"the newest order {newest} starts {first[:40]!r}, not HEA{separator}: the running engine used another grammar"


@given(parsers.parse("the engine has run {count:d} times from the CronJob, one after the other"))
def engine_runs(ctx: ScenarioContext, count: int) -> None:
    """Engine Jobs made as the runbook makes them (`bots-engine-manual-<epoch>`), each run to Complete in turn."""
    for _ in range(count):
        second = int(time.time())
        name = f"bots-engine-manual-{second}"
        ctx.bots.run_engine_job(name)
        # the next name (and creation second) must differ, as a person's next `$(date +%s)` would
        _wait_past(second)


@given(parsers.parse("a burst of bad files is in the inbound directory: {malformed:d} malformed orders, {foreign:d} "
                      "files that are not EDIFACT and {invoices:d} invoices no grammar reads"))
def bad_burst(ctx: ScenarioContext, malformed: int, foreign: int, invoices: int) -> None:
    """Files as trading partners send them: the malformed sample, the CSV sample, and the good order sent as an
    INVOIC (a message type this Bots has no grammar for); names kept for later checks."""
    stamp = int(time.time() * 1000)
    for n in range(malformed):
        ctx.bad_files.append(ctx.bots.drop_sample("ORDERS_malformed.edi", as_name=f"{stamp}-{n}-ORDERS_malformed.edi")
                             .rsplit("/", 1)[1])
    for n in range(foreign):
        ctx.bad_files.append(ctx.bots.drop_sample("not_edifact.csv", as_name=f"{stamp}-{n}-not_edifact.csv")
                             .rsplit("/", 1)[1])
    for n in range(invoices):
        name = f"{stamp}-{n}-INVOIC.edi"
        invoice = ctx.bots.sample("ORDERS_good.edi").replace("ORDERS:D:96A", "INVOIC:D:96A")
        ctx.bots.write_web(f"{ctx.bots.inbound_dir}/{name}", invoice)
        ctx.bad_files.append(name)


@then("the output names every bad file with the error the database records for it")
def log_names_bad_files(ctx: ScenarioContext) -> None:
    """Each bad file has a filereport row in error (statust 1), and an output line names the file with that error."""
    assert ctx.bad_files, "no bad files were dropped in this scenario"
    reports = botsdb.file_reports(ctx.env.database, ctx.bad_files)
    problems = []
    for name in ctx.bad_files:
        status, text = reports.get(name, (None, ""))
        cause = text.strip().splitlines()[0] if text.strip() else ""
        if status != botsdb.ERROR or not cause:
            problems.append(f"{name}: filereport {'has no row' if status is None else f'statust {status}'}")
            continue
        lines = [line for line in ctx.last.output.splitlines() if name in line]
        if not any(cause[:80] in line for line in lines):
            problems.append(f"{name}: the database says {cause[:80]!r}; the output's lines for it: {lines or 'none'}")
    assert not problems, "the log output and the database disagree:\n" + "\n".join(problems)


@then(parsers.parse("the output leaves out some of the bad files: kubectl shows {lines:d} lines a pod"))
def output_misses_bad_files(ctx: ScenarioContext, lines: int) -> None:
    """Some bad file is not named: `kubectl logs -l` shows each pod's last lines only (--tail 10 with a selector)."""
    named = [name for name in ctx.bad_files if name in ctx.last.output]
    assert len(ctx.bad_files) > lines, f"only {len(ctx.bad_files)} bad files: too few to fall out of {lines} lines"
    assert len(named) < len(ctx.bad_files), \
        f"every bad file is named: the {lines}-line limit did not hide any:\n{ctx.last.output}"


@then("the output names every invoice of the burst")
def output_names_invoices(ctx: ScenarioContext) -> None:
    """Every INVOIC file dropped in this scenario is named in the last command's output."""
    invoices = [name for name in ctx.bad_files if name.endswith("-INVOIC.edi")]
    missing = [name for name in invoices if name not in ctx.last.output]
    assert invoices and not missing, f"not named: {missing or 'no invoices were dropped'}\n{ctx.last.output}"


def _wait_past(second: int) -> None:
    wait_for("the clock to reach the next second",
             lambda: Observation(int(time.time()) != second, "the same second"), timeout=2, interval=0.1)


def _engine_run(ctx: ScenarioContext, sample: str, count: int) -> None:
    for n in range(count):
        ctx.bots.drop_sample(sample, as_name=f"{n}-{sample}")
    name = f"bots-engine-seed-{int(time.time())}"
    ctx.bots.run_engine_job(name)
    done = botsdb.transactions_done(ctx.env.database)
    assert done >= count, (f"job/{name} ended Complete, but the {count} file(s) dropped in {ctx.bots.inbound_dir} left "
                           f"{done} done transactions; the engine's log says: "
                           f"{app.engine_summary(ctx.bots.job_logs(name))}")


@then(parsers.parse("the database holds at least {count:d} done transactions within {timeout}"))
def done_transactions(ctx: ScenarioContext, count: int, timeout: str) -> None:
    """At least this many ta rows have statust 3 (done)."""
    def probe() -> Observation:
        done = botsdb.transactions_done(ctx.env.database)
        return Observation(done >= count, f"{done} ta rows with statust 3 (done)")

    wait_for(f"{count} done transactions", probe, timeout=parse_duration(timeout))


@then("the translated order is in the outbound directory")
def outbound_file(ctx: ScenarioContext) -> None:
    """botssys/outfile/edifact_orders holds the engine's output."""
    outbound = ctx.bots.outbound_dir
    listing = ctx.bots.exec_web(f"ls -1 {outbound}/ 2>/dev/null || true")
    assert listing.strip(), f"the outbound directory {outbound} is empty"


@then("the database records an error for the malformed file")
def error_recorded(ctx: ScenarioContext) -> None:
    """filereport has an error row (statust 1) for the malformed file, and every error row says why."""
    rows = botsdb.error_transactions(ctx.env.database)
    assert any("ORDERS_malformed" in name for name, _ in rows), \
        f"no ta row with statust 1 (error) for the malformed file; error rows: {rows}"
    assert all(text.strip() for _, text in rows), f"an error row has no reason: {rows}"


@then("the first engine run's log names the failed file and its cause")
def first_run_log(ctx: ScenarioContext) -> None:
    """A pod log of the last engine Job names the malformed file with `failed:` and the cause."""
    name = ctx.shell.values["latest-job-name"]
    logs = ctx.bots.job_pod_logs(name)
    assert any('failed:' in log and "ORDERS_malformed" in log for log in logs), \
        "no engine log line names the malformed file and why it failed; pod logs:\n" + "\n---\n".join(logs)


@given("the engine CronJob runs every minute")
def engine_every_minute(ctx: ScenarioContext) -> None:
    """Its schedule patched to `* * * * *` and resumed (its concurrencyPolicy as deployed); the known state puts
    the deployed schedule back."""
    ctx.bots.batch.patch_namespaced_cron_job(app.ENGINE_CRONJOB, ctx.bots.namespace,
                                             {"spec": {"schedule": "* * * * *", "suspend": False}})


@then(parsers.parse("the engine CronJob starts a Job on its own within {timeout}"))
def cronjob_starts_job(ctx: ScenarioContext, request: pytest.FixtureRequest, timeout: str) -> None:
    """The CronJob controller (not a person) makes an engine Job for a scheduled time; a resumed CronJob runs the
    run it missed at once. Later steps on "the engine job" mean this one."""
    started = time.monotonic()
    name = ctx.bots.wait_scheduled_engine_job(timeout=parse_duration(timeout))
    record_duration(request, "CronJob started a Job", time.monotonic() - started)
    ctx.shell.values["latest-job-name"] = name


@then("no second engine Job starts while it runs, through the next scheduled minute")
def no_second_job(ctx: ScenarioContext) -> None:
    """Until 20s past the next minute the CronJob makes no other Job: concurrencyPolicy Forbid at work
    (with Allow a second engine would start and find Bots' mutex row)."""
    first = ctx.shell.values["latest-job-name"]
    now = datetime.datetime.now(datetime.UTC)
    seconds = 60 - now.second + 20

    def one_engine() -> Observation:
        jobs = sorted(j.metadata.name for j in ctx.bots.scheduled_engine_jobs())
        active = ctx.bots.batch.read_namespaced_job(first, ctx.bots.namespace).status.active or 0
        return Observation(jobs == [first] and active > 0,
                           f"Jobs the CronJob made: {', '.join(jobs)}; job/{first} active {active}")

    hold_for("one engine Job at a time", one_engine, seconds=seconds)
