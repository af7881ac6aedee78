"""The operator runs the runbook's own commands; what they print is checked."""
from __future__ import annotations

import re

import pytest
from pytest_bdd import parsers, then, when

from edirunbook.runbook import split_commands
from edirunbook.runner import CommandResult, describe_failure
from fixtures.scenario import ScenarioContext
from steps import reporting

CREATED = re.compile(r"^(?:job\.batch|job)/(?P<name>\S+?-(?P<timestamp>\d+)) created$", re.MULTILINE)


DB_CONNECTION_ERROR = re.compile(r"Can't connect to (MySQL )?server|Unknown (MySQL )?server host|Lost connection to"
                                 r"|Connection refused|Name or service not known|Temporary failure in name resolution"
                                 r"|No address associated with hostname|getaddrinfo", re.IGNORECASE)


def _run(ctx: ScenarioContext, request: pytest.FixtureRequest, command: str, *, should_fail: bool = False
         ) -> CommandResult:
    result = ctx.shell.run(command)
    reporting.command(request, result)
    if should_fail and result.ok:
        raise AssertionError(f"expected this runbook command to fail, but it exited 0:\n  {result.executed}\n"
                             f"{result.output}")
    if not should_fail and not result.ok:
        raise AssertionError(describe_failure(result))
    created = CREATED.search(result.output)
    if created:
        ctx.shell.values.update({"timestamp": created["timestamp"], "latest-job-name": created["name"]})
    return result


@when(parsers.re(r'the operator runs "(?P<command>.+)"$'))
def operator_runs(ctx: ScenarioContext, request: pytest.FixtureRequest, command: str) -> None:
    _run(ctx, request, command)


@when(parsers.re(r'the operator runs "(?P<command>.+)", which fails$'))
def operator_runs_failing(ctx: ScenarioContext, request: pytest.FixtureRequest, command: str) -> None:
    _run(ctx, request, command, should_fail=True)


@then("the output shows a database connection error")
def output_db_error(ctx: ScenarioContext) -> None:
    assert DB_CONNECTION_ERROR.search(ctx.last.output), \
        f"expected a database connection error in the output of {ctx.last.executed}:\n{ctx.last.output}"


@when("the operator runs:")
def operator_runs_block(ctx: ScenarioContext, request: pytest.FixtureRequest, docstring: str) -> None:
    for command in split_commands(docstring):
        _run(ctx, request, command.source)


@then(parsers.parse('the output contains "{text}"'))
def output_contains(ctx: ScenarioContext, text: str) -> None:
    assert text in ctx.last.output, f"expected {text!r} in the output of:\n  {ctx.last.executed}\n{ctx.last.output}"


@then(parsers.parse('the output does not contain "{text}"'))
def output_lacks(ctx: ScenarioContext, text: str) -> None:
    assert text not in ctx.last.output, f"did not expect {text!r} in the output of {ctx.last.executed}:\n" \
        f"{ctx.last.output}"


@then(parsers.parse("the output lists {count:d} pods, all Running"))
def output_lists_pods(ctx: ScenarioContext, count: int) -> None:
    rows = [line.split() for line in ctx.last.output.strip().splitlines()[1:] if line.strip()]
    statuses = {row[0]: row[2] for row in rows if len(row) >= 3}
    assert len(statuses) == count and set(statuses.values()) == {"Running"}, \
        f"expected {count} Running pods in:\n{ctx.last.output}"


@then("the output is not empty")
def output_not_empty(ctx: ScenarioContext) -> None:
    assert ctx.last.output.strip(), f"no output from:\n  {ctx.last.executed}"


@then(parsers.re(r"the output shows the CronJob (?P<negation>not )?suspended$"))
def cronjob_suspended(ctx: ScenarioContext, negation: str | None) -> None:
    header, *rows = ctx.last.output.strip().splitlines()
    column = header.index("SUSPEND")  # by position: the SCHEDULE column has spaces in it
    values = {row.split()[0]: row[column:].split()[0] for row in rows if row.strip()}
    expected = "False" if negation else "True"
    assert values and set(values.values()) == {expected}, f"expected SUSPEND {expected}:\n{ctx.last.output}"


@then("every listed pod is Running or Completed")
def output_pods_running(ctx: ScenarioContext) -> None:
    rows = [line.split() for line in ctx.last.output.strip().splitlines()[1:] if line.strip()]
    bad = [row[0] for row in rows if len(row) >= 3 and row[2] not in ("Running", "Completed")]
    assert rows and not bad, f"pods not Running: {', '.join(bad) or '(no pods listed)'}\n{ctx.last.output}"


@then(parsers.parse("the data volume is less than {percent:d}% full"))
def data_volume_usage(ctx: ScenarioContext, percent: int) -> None:
    used = _df_use_percent(ctx.last.output, "/home/bots/.bots")
    assert used < percent, f"the data volume is {used}% full (limit {percent}%):\n{ctx.last.output}"


def _df_use_percent(output: str, mount: str) -> int:
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[-1] == mount:
            return int(fields[-2].rstrip("%"))
    raise AssertionError(f"df shows no line for {mount}:\n{output}")
