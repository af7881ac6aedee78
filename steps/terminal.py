"""Interactive sessions in a terminal: what the operator types, what must appear, compared with the suite's reads."""
from __future__ import annotations

import re

import pytest
from pytest_bdd import given, parsers, then, when

from edirunbook.report import record_command
from edirunbook.shell import OPERATOR_TYPES
from edirunbook.terminal import TerminalResult, rows_of, run_in_terminal
from fixtures.scenario import ScenarioContext


def _secrets(ctx: ScenarioContext) -> dict[str, str]:
    """The secrets a typed line may name: typed at a password prompt, never shown."""
    return {"database-password": ctx.env.credentials.password}


@when(parsers.re(OPERATOR_TYPES.pattern), target_fixture="terminal_session")
def operator_types(ctx: ScenarioContext, request: pytest.FixtureRequest, command: str,
                   datatable: list[list[str]]) -> TerminalResult:
    """Run the command at the operator's shell in a pseudo-terminal, type each row at a prompt: `shows` must appear.

    `shows` is a whole line or a whole table cell of what follows (a count of 1 is not found in `1 row in set`);
    `<database-password>` is typed only at a password prompt and never shown.
    """
    result = run_in_terminal(ctx.shell, command, rows_of(datatable), secrets=_secrets(ctx),
                             timeout=ctx.env.config.timeout("terminal", 60))
    record_command(request, result.executed, result.exit_code, result.transcript, result.seconds)
    if result.failure:
        raise AssertionError(f"in the terminal running {result.executed}: {result.failure}")
    return result


@given(parsers.parse("the database's count of {table} rows is noted as <{placeholder}>"))
def note_row_count(ctx: ScenarioContext, table: str, placeholder: str) -> None:
    """SELECT COUNT(*) read by the suite itself, kept for <placeholder> (a terminal's answer is compared with it)."""
    assert re.fullmatch(r"\w+", table), f"{table!r} is not a table name"
    [(count,)] = ctx.env.database.query(f"SELECT COUNT(*) FROM `{table}`")
    ctx.shell.values[placeholder] = str(count)


@then("the terminal did not show the database password")
def password_not_shown(terminal_session: TerminalResult) -> None:
    """The password typed at the prompt was not echoed: the terminal never displayed it, even before redaction."""
    assert "database-password" not in terminal_session.echoed_secrets, \
        "the terminal displayed the database password (the transcript has it as ***): it was typed where it echoes"
