"""Interactive runbook commands in a real pseudo-terminal: lines typed at prompts, what must appear, a transcript.

The operator's terminal is an interactive bash without rc files, its prompt `operator(<last exit status>)$ `.
The command is typed at that prompt, as a person types it; then each row of the step's table is typed once the
terminal waits at a prompt (a last line ending in `$ `, `# `, `> ` or `: `), and the row's `shows` text must
appear before the next one is typed. A command that ends at once leaves the operator at their own shell, and the
next line lands there: exactly what happens at a real terminal.

The command and every typed line pass through the environment's substitutions and have their `<placeholders>`
filled from what earlier steps captured. A placeholder that names a secret (`<database-password>`) is filled
from the environment's credentials, typed only at a password prompt, and never shown: the transcript is redacted.
The session is always closed (`exit` typed until the operator's shell ends, then terminated), also on failure.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pexpect

from edirunbook.errors import CommandError, StopWaiting, WaitTimeout
from edirunbook.redaction import redact
from edirunbook.shell import PLACEHOLDER, CommandResult, RunbookShell, fill_placeholders, substitute
from edirunbook.waiting import Observation, wait_for

__all__ = ["OPERATOR_PROMPT", "Row", "TerminalResult", "rows_of", "run_in_terminal", "screen_text", "shows_in"]

# `$?` in the prompt: the transcript shows how each command at the operator's shell ended.
OPERATOR_PROMPT = "operator($?)$ "
# A terminal waits for input when its last line ends like a prompt: `$ `, `# `, `> `, `Enter password: `.
PROMPT = re.compile(r"[$#>:] $")
PASSWORD_PROMPT = re.compile(r"(?i)password[^\n]*: ?$")
# CSI (colours, bracketed paste), OSC (window titles), charset selection, other two-byte escapes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|\x1b[()*+][0-9A-Za-z]|\x1b[@-Z\\-_=>78]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
HEADER = ["typed", "shows"]
SCREEN_LINES = 20  # how much of the screen a failure shows
MAX_EXITS = 4  # nested sessions an `exit` each: a client, the pod's shell, kubectl's, the operator's
EXIT_WAIT = 5.0  # seconds to wait for a prompt before each `exit` (typed anyway when none comes)


@dataclass(frozen=True)
class Row:
    """A line the operator types (then Enter), and the text that must appear afterwards ('' awaits nothing)."""

    typed: str
    shows: str = ""


@dataclass(frozen=True)
class TerminalResult:
    written: str
    executed: str
    transcript: str  # what the terminal showed, control sequences removed, secrets redacted
    exit_code: int | None  # the operator's shell's, when it ended by `exit`; None when it had to be terminated
    seconds: float
    failure: str | None  # why a row was not answered as the table says; None when every row was
    echoed_secrets: tuple[str, ...]  # names of secrets the terminal displayed (before redaction)

    @property
    def ok(self) -> bool:
        return self.failure is None


def rows_of(datatable: Sequence[Sequence[str]]) -> list[Row]:
    """The rows of a `| typed | shows |` table (cells stripped); CommandError for any other header."""
    header, *rows = datatable
    if [cell.strip() for cell in header] != HEADER:
        raise CommandError(f"the table's header must be | typed | shows |, not | {' | '.join(header)} |")
    return [Row(row[0].strip(), row[1].strip()) for row in rows]


def screen_text(raw: str) -> str:
    """What a terminal would show of `raw`: escapes and controls removed, a carriage return overwriting its line."""
    text = _ESCAPES.sub("", raw).replace("\r\n", "\n")
    lines = []
    for line in text.split("\n"):
        shown: list[str] = []
        for char in line.rstrip("\r").rsplit("\r", 1)[-1]:
            if char == "\b":
                shown = shown[:-1]
            else:
                shown.append(char)
        lines.append(_CONTROLS.sub("", "".join(shown)))
    return "\n".join(lines)


def shows_in(expected: str, text: str) -> bool:
    """`expected` is a whole line of `text` or a whole cell of a `| a | b |` table row (surrounding spaces aside).

    Never a part of one: a count of `1` is not found in `1 row in set`, only in the table's `|        1 |`.
    """
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped == expected:
            return True
        if len(stripped) > 1 and stripped.startswith("|") and stripped.endswith("|") \
                and expected in (cell.strip() for cell in stripped[1:-1].split("|")):
            return True
    return False


def _last_lines(text: str, count: int = SCREEN_LINES) -> str:
    lines = text.rstrip("\n").split("\n")
    return "\n".join(lines[-count:]) or "(nothing)"


class _Session:
    """One pexpect session: what it printed so far, waits on it, and a close that always happens."""

    def __init__(self, shell: RunbookShell, secrets: Sequence[str], timeout: float) -> None:
        self._secrets = secrets
        self.timeout = timeout
        self.raw = ""
        shell.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **shell.env, "PS1": OPERATOR_PROMPT, "PS2": "> ", "TERM": "dumb", "HISTFILE": "/dev/null"}
        self.child = pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], cwd=str(shell.workdir), env=env,
                                   encoding="utf-8", codec_errors="replace", dimensions=(50, 250), timeout=timeout)

    def screen(self, since: int = 0) -> str:
        return screen_text(self.raw[since:])

    def last_screen(self) -> str:
        return redact(_last_lines(self.screen()), self._secrets)

    def read(self, seconds: float = 0.2) -> None:
        """What the terminal printed within `seconds` (up to 64 KiB); EOF when the session has ended."""
        with contextlib.suppress(pexpect.TIMEOUT):
            self.raw += self.child.read_nonblocking(65536, timeout=seconds)

    def wait(self, what: str, done: Callable[[str], bool], since: int) -> None:
        """Read until done(screen since `since`) holds; CommandError saying what was awaited and the last screen."""
        def probe() -> Observation:
            try:
                self.read()
            except pexpect.EOF:
                if done(self.screen(since)):
                    return Observation(True, "")
                raise StopWaiting(f"the terminal session ended before {what}") from None
            return Observation(done(self.screen(since)), "")

        try:
            wait_for(what, probe, timeout=self.timeout, interval=0)
        except StopWaiting as error:
            raise CommandError(f"{error}; the last screen:\n{self.last_screen()}") from None
        except WaitTimeout:
            raise CommandError(f"timed out after {self.timeout:.0f}s waiting for {what}; the last screen:\n"
                               f"{self.last_screen()}") from None

    def wait_prompt(self, since: int, *, password: bool = False) -> None:
        pattern = PASSWORD_PROMPT if password else PROMPT
        what = "a password prompt" if password else "a prompt (a last line ending in `$ `, `# `, `> ` or `: `)"
        self.wait(what, lambda screen: bool(pattern.search(screen.rsplit("\n", 1)[-1])), since)

    def send(self, line: str) -> int:
        """Type `line` and Enter; returns where the output that answers it begins."""
        mark = len(self.raw)
        self.child.sendline(line)
        return mark

    def close(self, since: int) -> int | None:
        """`exit` at each prompt until the operator's shell ends (nested sessions need one each), then terminate
        what is left. `since`: where the output answering the last typed line begins."""
        try:
            for _ in range(MAX_EXITS):
                deadline = time.monotonic() + EXIT_WAIT
                while time.monotonic() < deadline and not PROMPT.search(self.screen(since).rsplit("\n", 1)[-1]):
                    self.read()
                if not self.child.isalive():
                    break
                since = self.send("exit")
            self.read(1.0)  # the end of the session, when the last `exit` has not yet been answered by it
        except (pexpect.EOF, OSError):
            pass
        terminated = self.child.isalive()
        if terminated:
            self.child.terminate(force=True)
        self.child.close(force=True)
        return None if terminated else self.child.exitstatus


def _secret_names(text: str, secrets: Mapping[str, str]) -> set[str]:
    return {name for name in PLACEHOLDER.findall(text) if name in secrets}


def _prepare(shell: RunbookShell, text: str, secrets: Mapping[str, str]) -> str:
    """This environment's names, then the captured values and the secrets filled in (as RunbookShell.prepare)."""
    return fill_placeholders(substitute(text, shell.substitutions), {**shell.values, **secrets})


def run_in_terminal(shell: RunbookShell, written: str, rows: Sequence[Row], *,
                    secrets: Mapping[str, str] | None = None, timeout: float = 60.0) -> TerminalResult:
    """Type `written` at the operator's prompt, then each row; never raises for a row the terminal did not answer
    (the result's `failure` says which and shows the last screen). CommandError before anything runs when a
    placeholder has no value, or a `shows` text names a secret.
    """
    secrets = dict(secrets or {})
    executed = shell.prepare(written)
    typed = []
    for row in rows:
        if _secret_names(row.shows, secrets):
            raise CommandError(f"a secret cannot be what the terminal shows: | {row.typed} | {row.shows} |")
        typed.append((row, _prepare(shell, row.typed, secrets), shell.prepare(row.shows) if row.shows else ""))
    hidden = [*shell.secrets, *secrets.values()]
    started = time.monotonic()
    session = _Session(shell, hidden, timeout)
    failure, since = None, 0
    try:
        session.wait_prompt(0)
        since = session.send(executed)
        for row, line, shows in typed:
            session.wait_prompt(since, password=bool(_secret_names(row.typed, secrets)))
            since = session.send(line)
            if shows:
                session.wait(f"`{shows}` (a whole line or table cell) after typing `{row.typed}`",
                             _answered(shows, line), since)
    except CommandError as error:
        failure = str(error)
    finally:
        exit_code = session.close(since)
    raw = session.screen()
    transcript = redact(raw, hidden)
    echoed = tuple(sorted(name for name, value in secrets.items() if value and value in raw))
    result = TerminalResult(written, executed, transcript, exit_code, time.monotonic() - started, failure, echoed)
    shell.history.append(CommandResult(written, executed, 124 if exit_code is None else exit_code, transcript,
                                       result.seconds))
    return result


def _answered(shows: str, line: str) -> Callable[[str], bool]:
    return lambda screen: shows_in(shows, _without_echo(screen, line))


def _without_echo(screen: str, typed: str) -> str:
    """The answer to a typed line: the terminal's echo of the line itself (its first line) left out."""
    first, _, rest = screen.partition("\n")
    return rest if first.strip().endswith(typed.strip()) else screen
