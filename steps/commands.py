"""The operator runs the runbook's own commands; what they print is checked."""
from __future__ import annotations

import re

import pytest
from pytest_bdd import parsers, then, when

from edirunbook import tables
from edirunbook.report import record_command
from edirunbook.runbook import split_commands
from edirunbook.shell import (
    OPERATOR_FOLLOWS,
    OPERATOR_RUNS,
    OPERATOR_RUNS_BLOCK,
    OPERATOR_RUNS_ON,
    OPERATOR_SAVES_SCRIPT,
    CommandResult,
    describe_failure,
)
from fixtures.scenario import ScenarioContext

CREATED = re.compile(r"^(?:job\.batch|job)/(?P<name>\S+?-(?P<timestamp>\d+)) created$", re.MULTILINE)
DB_CONNECTION_ERROR = re.compile(r"Can't connect to (MySQL )?server|Unknown (MySQL )?server host|Lost connection to"
                                 r"|Connection refused|Name or service not known|Temporary failure in name resolution"
                                 r"|No address associated with hostname|getaddrinfo|No route to host"
                                 r"|Connection timed out", re.IGNORECASE)


def _run(ctx: ScenarioContext, request: pytest.FixtureRequest, command: str, *, should_fail: bool = False) -> None:
    _check(ctx, request, ctx.shell.run(command), should_fail=should_fail)


def recorded(request: pytest.FixtureRequest, result: CommandResult, *, should_fail: bool = False) -> None:
    """The command in the report's transcript; AssertionError when it exited otherwise than expected."""
    record_command(request, result.executed, result.exit_code, result.output, result.seconds)
    if should_fail and result.ok:
        raise AssertionError(f"expected this runbook command to fail, but it exited 0:\n  {result.executed}\n"
                             f"{result.output}")
    if not should_fail and not result.ok:
        raise AssertionError(describe_failure(result))


def _check(ctx: ScenarioContext, request: pytest.FixtureRequest, result: CommandResult, *,
           should_fail: bool = False) -> None:
    recorded(request, result, should_fail=should_fail)
    created = CREATED.search(result.output)
    if created:
        ctx.shell.values.update({"timestamp": created["timestamp"], "latest-job-name": created["name"]})


@when(parsers.re(OPERATOR_RUNS.pattern))
def operator_runs(ctx: ScenarioContext, request: pytest.FixtureRequest, command: str, fails: str | None) -> None:
    """Run one runbook command as written (production names substituted); `, which fails` expects a non-zero exit.

    `kubectl create job ...` output sets <timestamp> and <latest-job-name> for later commands.
    """
    _run(ctx, request, command, should_fail=bool(fails))


@when(OPERATOR_RUNS_BLOCK)
def operator_runs_block(ctx: ScenarioContext, request: pytest.FixtureRequest, docstring: str) -> None:
    """Run every command of the docstring in order (continuations and heredocs kept whole); stop at a failure."""
    for command in split_commands(docstring):
        _run(ctx, request, command.source)


@when(parsers.re(OPERATOR_RUNS_ON.pattern))
def operator_runs_on(ctx: ScenarioContext, request: pytest.FixtureRequest, command: str, host: str,
                     fails: str | None) -> None:
    """Run a command on the machine the runbook names, reached as env.yaml `hosts` says (the report shows how)."""
    _check(ctx, request, ctx.shell.run_on(host, command), should_fail=bool(fails))


@when(parsers.re(OPERATOR_FOLLOWS.pattern))
def operator_follows(ctx: ScenarioContext, request: pytest.FixtureRequest, command: str, text: str) -> None:
    """Run a `-f` command until its output shows the text (within 60s), then stop it with Ctrl-C."""
    _check(ctx, request, ctx.shell.follow(command, text, timeout=60))


@when(parsers.re(OPERATOR_SAVES_SCRIPT.pattern))
def operator_saves_script(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str, docstring: str) -> None:
    """Save the docstring as the runbook's script (production names substituted), `chmod +x` it and run it."""
    script = ctx.workdir / name
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    script.write_text(ctx.shell.prepare(docstring).rstrip("\n") + "\n", encoding="utf-8")
    _run(ctx, request, f"chmod +x {name} && ./{name}")


@when(parsers.parse('the operator runs the saved script "{name}" again'))
def operator_reruns_script(ctx: ScenarioContext, request: pytest.FixtureRequest, name: str) -> None:
    """Run the script this scenario saved earlier once more, unchanged."""
    assert (ctx.workdir / name).exists(), f"no script {name} was saved earlier in this scenario"
    _run(ctx, request, f"./{name}")


@then(parsers.parse('the operator\'s file "{pattern}" exists and is empty'))
def operator_file_empty(ctx: ScenarioContext, pattern: str) -> None:
    """A file the commands wrote in the operator's working directory (a glob) exists with 0 bytes."""
    found = sorted(ctx.workdir.glob(pattern))
    assert found, f"no file {pattern} in the operator's directory: {sorted(p.name for p in ctx.workdir.iterdir())}"
    sizes = {path.name: path.stat().st_size for path in found}
    assert set(sizes.values()) == {0}, f"expected {pattern} empty, found sizes {sizes}"


@then("the output shows a database connection error")
def output_db_error(ctx: ScenarioContext) -> None:
    """The last command's output has a MySQL client or DNS error saying the database cannot be reached."""
    assert DB_CONNECTION_ERROR.search(ctx.last.output), \
        f"expected a database connection error in the output of {ctx.last.executed}:\n{ctx.last.output}"


@then(parsers.parse('the output contains "{text}"'))
def output_contains(ctx: ScenarioContext, text: str) -> None:
    """The last command's output contains the text."""
    assert text in ctx.last.output, f"expected {text!r} in the output of:\n  {ctx.last.executed}\n{ctx.last.output}"


@then(parsers.parse('the output does not contain "{text}"'))
def output_lacks(ctx: ScenarioContext, text: str) -> None:
    """The last command's output does not contain the text."""
    assert text not in ctx.last.output, f"did not expect {text!r} in the output of {ctx.last.executed}:\n" \
        f"{ctx.last.output}"


@then(parsers.parse("the output lists {count:d} pods, all Running"))
def output_lists_pods(ctx: ScenarioContext, count: int) -> None:
    """The last `kubectl get pods` lists exactly this many pods, every one with STATUS Running."""
    statuses = {row["NAME"]: row.get("STATUS", "") for row in tables.rows(ctx.last.output)}
    assert len(statuses) == count and set(statuses.values()) == {"Running"}, \
        f"expected {count} Running pods in:\n{ctx.last.output}"


@then("the output is not empty")
def output_not_empty(ctx: ScenarioContext) -> None:
    """The last command printed something."""
    assert ctx.last.output.strip(), f"no output from:\n  {ctx.last.executed}"


@then(parsers.re(r"the output shows the CronJob (?P<negation>not )?suspended"))
def cronjob_suspended(ctx: ScenarioContext, negation: str | None) -> None:
    """The last `kubectl get cronjob` shows SUSPEND True (or False, with `not`) for every CronJob listed."""
    values = {row["NAME"]: row.get("SUSPEND", "") for row in tables.rows(ctx.last.output)}
    expected = "False" if negation else "True"
    assert values and set(values.values()) == {expected}, f"expected SUSPEND {expected}:\n{ctx.last.output}"


@then("every listed pod is Running or Completed")
def output_pods_running(ctx: ScenarioContext) -> None:
    """The last `kubectl get pods` lists pods, each Running or Completed."""
    rows = tables.rows(ctx.last.output)
    bad = [row["NAME"] for row in rows if row.get("STATUS") not in ("Running", "Completed")]
    assert rows and not bad, f"pods not Running: {', '.join(bad) or '(no pods listed)'}\n{ctx.last.output}"
