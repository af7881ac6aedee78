"""Interactive commands in a real pseudo-terminal: typed lines, awaited texts, passwords, placeholders, closing.

A small Python program stands in for dbshell: it prompts `db> `, answers each line as a one-cell table, asks for a
password without echo on `login`, and writes its pid so a test can see it gone after the session closed.
"""
from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from edirunbook.errors import CommandError
from edirunbook.shell import RunbookShell
from edirunbook.terminal import Row, rows_of, run_in_terminal, screen_text, shows_in
from edirunbook.waiting import Observation, wait_for

PROGRAM = textwrap.dedent("""\
    import getpass, os, sys
    open("client.pid", "w").write(str(os.getpid()))
    stubborn = "--stubborn" in sys.argv
    while True:
        line = input("db> ")
        if line == "exit" and not stubborn:
            print("Bye")
            break
        if line == "login":
            print("welcome" if getpass.getpass("Enter password: ") == "s3cr3t" else "denied")
        elif line == "echo-login":
            print("welcome" if input("Enter password: ") == "s3cr3t" else "denied")
        elif line == "count":
            print("+----------+\\n| COUNT(*) |\\n+----------+\\n|        7 |\\n+----------+\\n1 row in set")
        else:
            print("| " + line.upper() + " |")
    """)


@pytest.fixture
def shell(tmp_path: Path) -> RunbookShell:
    (tmp_path / "client.py").write_text(PROGRAM)
    return RunbookShell(substitutions={"kona.db.pminc.me": "bots-mysql"}, workdir=tmp_path,
                        values={"pod-name": "web-1"}, secrets=["s3cr3t"])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_typed_lines_get_this_environments_names_and_captured_values(shell: RunbookShell) -> None:
    result = run_in_terminal(shell, "python3 client.py", [Row("connect kona.db.pminc.me as <pod-name>",
                                                              "CONNECT BOTS-MYSQL AS WEB-1"), Row("exit", "Bye")],
                             timeout=10)
    assert result.ok, result.failure
    assert "db> connect bots-mysql as web-1" in result.transcript
    assert result.exit_code == 0
    assert shell.history[-1].output == result.transcript


def test_the_command_itself_is_substituted_and_filled(shell: RunbookShell) -> None:
    result = run_in_terminal(shell, "echo kona.db.pminc.me <pod-name>", [], timeout=10)
    assert result.executed == "echo bots-mysql web-1"
    assert "\nbots-mysql web-1\n" in result.transcript


def test_a_line_typed_after_the_command_ended_lands_in_the_operators_shell(shell: RunbookShell) -> None:
    result = run_in_terminal(shell, "true", [Row("SHOW FULL PROCESSLIST;", "bash: SHOW: command not found")],
                             timeout=10)
    assert result.ok, result.failure
    assert "operator(0)$ SHOW FULL PROCESSLIST;" in result.transcript  # `true` exited 0 before the line was typed
    assert result.exit_code == 127


def test_a_text_that_never_appears_times_out_with_what_was_expected_and_the_last_screen(shell: RunbookShell) -> None:
    started = time.monotonic()
    result = run_in_terminal(shell, "python3 client.py", [Row("hello", "GOODBYE")], timeout=1)
    assert time.monotonic() - started < 15
    assert result.failure is not None
    assert "timed out after 1s waiting for `GOODBYE`" in result.failure
    assert "after typing `hello`" in result.failure
    assert "| HELLO |" in result.failure.split("the last screen:", 1)[1]  # the screen as it was


def test_a_count_is_found_as_a_table_cell_only(shell: RunbookShell) -> None:
    shell.values["count"] = "1"
    result = run_in_terminal(shell, "python3 client.py", [Row("count", "<count>")], timeout=1)
    assert result.failure is not None and "waiting for `1`" in result.failure  # not in "1 row in set"
    shell.values["count"] = "7"
    assert run_in_terminal(shell, "python3 client.py", [Row("count", "<count>")], timeout=10).ok


@pytest.mark.parametrize(("expected", "screen", "found"), [
    ("7", "|        7 |", True),
    ("7", "1 row in set\n7 rows", False),
    ("7", "| 17 |", False),
    ("SHOW FULL PROCESSLIST", "| 5 | botsedi | Query | SHOW FULL PROCESSLIST |", True),
    ("SHOW FULL PROCESSLIST", "db> SHOW FULL PROCESSLIST;", False),
    ("Enter password:", "Enter password: ", True),
    ("MariaDB [botsedi_data]>", "\nMariaDB [botsedi_data]> ", True),
])
def test_shows_matches_whole_lines_and_cells(expected: str, screen: str, found: bool) -> None:
    assert shows_in(expected, screen) is found


def test_the_password_is_typed_at_its_prompt_without_echo_and_never_in_the_transcript(shell: RunbookShell) -> None:
    result = run_in_terminal(shell, "python3 client.py",
                             [Row("login", "Enter password:"), Row("<database-password>", "welcome"),
                              Row("exit", "Bye")],
                             secrets={"database-password": "s3cr3t"}, timeout=10)
    assert result.ok, result.failure
    assert "s3cr3t" not in result.transcript and result.echoed_secrets == ()


def test_a_password_that_echoes_is_redacted_and_reported(shell: RunbookShell) -> None:
    result = run_in_terminal(shell, "python3 client.py", [Row("echo-login", "Enter password:"),
                                                          Row("<database-password>", "welcome")],
                             secrets={"database-password": "s3cr3t"}, timeout=10)
    assert result.ok, result.failure
    assert "s3cr3t" not in result.transcript and "Enter password: ***" in result.transcript
    assert result.echoed_secrets == ("database-password",)


def test_a_password_is_never_typed_at_another_prompt(shell: RunbookShell) -> None:
    result = run_in_terminal(shell, "python3 client.py", [Row("<database-password>", "welcome")],
                             secrets={"database-password": "s3cr3t"}, timeout=1)
    assert result.failure is not None and "waiting for a password prompt" in result.failure
    assert "s3cr3t" not in result.failure and "s3cr3t" not in result.transcript


def test_a_missing_value_is_named_before_anything_runs(shell: RunbookShell) -> None:
    with pytest.raises(CommandError, match="<ta-count>"):
        run_in_terminal(shell, "python3 client.py", [Row("count", "<ta-count>")], timeout=1)
    assert not (shell.workdir / "client.pid").exists()


def test_a_secret_cannot_be_an_expected_text(shell: RunbookShell) -> None:
    with pytest.raises(CommandError, match="secret"):
        run_in_terminal(shell, "true", [Row("x", "<database-password>")], secrets={"database-password": "s"})


def test_the_session_is_closed_after_a_failure(shell: RunbookShell) -> None:
    result = run_in_terminal(shell, "python3 client.py", [Row("hello", "NEVER")], timeout=1)
    assert result.failure is not None
    assert result.exit_code == 0  # `exit` typed to the client, then to the operator's shell
    assert not alive(int((shell.workdir / "client.pid").read_text()))


def test_a_session_that_ignores_exit_is_terminated(shell: RunbookShell, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("edirunbook.terminal.EXIT_WAIT", 0.5)
    result = run_in_terminal(shell, "python3 client.py --stubborn", [Row("hello", "| HELLO |")], timeout=10)
    assert result.ok, result.failure
    assert result.exit_code is None and shell.history[-1].exit_code == 124
    pid = int((shell.workdir / "client.pid").read_text())
    wait_for("the client to end with its terminal", lambda: Observation(not alive(pid), f"pid {pid} alive"),
             timeout=10, interval=0.1)


def test_the_table_needs_typed_and_shows_columns() -> None:
    assert rows_of([["typed", "shows"], [" exit ", " Bye "]]) == [Row("exit", "Bye")]
    with pytest.raises(CommandError, match=r"\| typed \| shows \|"):
        rows_of([["command", "output"], ["exit", "Bye"]])


def test_screen_text_drops_escapes_and_keeps_what_a_terminal_shows() -> None:
    raw = "\x1b[?2004h\x1b]0;bots@web: /app\x07bots@web:/app$ \x1b(B\x1b[0;1mWelcome\x1b[m\r\nab\bc\r\nold\rnew"
    assert screen_text(raw) == "bots@web:/app$ Welcome\nac\nnew"
