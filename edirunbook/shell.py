"""Run the runbook's own command text, with this environment's names, through a real shell.

A feature carries a command exactly as the runbook writes it (production host names and all). Before
it runs, the environment's substitutions turn production names into this environment's, and
`<placeholder>`s are filled from values earlier steps captured (a pod name, a job's timestamp).
Commands run in bash, in a per-scenario working directory, with the pinned kubectl first on PATH
and KUBECONFIG pointing at the environment's cluster.
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edirunbook.environment.config import HostAccess
from edirunbook.errors import CommandError
from edirunbook.redaction import redact

# `<pod-name>`, `<timestamp>`: a value an earlier step captured (the coverage report matches it to any word).
PLACEHOLDER = re.compile(r"<([A-Za-z][\w.-]*)>")
# The steps that run runbook text, and the coverage report that finds those commands in features, share these.
OPERATOR_RUNS = re.compile(r'the operator runs "(?P<command>.+)"(?P<fails>, which fails)?')
OPERATOR_RUNS_BLOCK = "the operator runs:"
# PromQL, as the runbook's ```promql blocks write it: a docstring of queries split like such a block
# (runbook.split_queries: `# comment` lines, a query a line, open brackets continue it), or one query inline.
# The coverage report matches these queries only to the runbook's PromQL queries, never to shell commands.
OPERATOR_QUERIES_BLOCK = "the operator queries Prometheus:"
OPERATOR_QUERIES = re.compile(r'the operator queries Prometheus "(?P<query>.+)"')
# A script the runbook gives to save (`# save as: check-bots-status.sh`): saved as written, made executable, run.
OPERATOR_SAVES_SCRIPT = re.compile(r'the operator saves the script as "(?P<name>[\w.-]+)" and runs it:')
# `-f` commands never end by themselves: followed until a text appears, then stopped as a person would (Ctrl-C).
OPERATOR_FOLLOWS = re.compile(r'the operator follows "(?P<command>.+)" until it shows "(?P<text>.+)"')
# An interactive command in a pseudo-terminal; the step's table says what is typed and what must appear.
# Typed lines that are runbook commands (`python manage.py dbshell` at the pod's shell) count as run.
OPERATOR_TYPES = re.compile(r'the operator runs "(?P<command>.+)" in a terminal and types:')
# `open URL` (the runbook's macOS habit): a real headless browser opens the page.
OPERATOR_OPENS = re.compile(r'the operator opens "(?P<url>[^"]+)" in a browser(?P<rest>.*)')
# A command the runbook says to run on another machine ("On DB server"): env.yaml `hosts` says how to reach it.
OPERATOR_RUNS_ON = re.compile(r'the operator runs "(?P<command>.+)" on the (?P<host>[\w -]+?)(?P<fails>, which fails)?')
# A game day's commands (features/gameday): the on-call engineer runs them on the live cluster attached to.
ON_CALL_RUNS = re.compile(r'the on-call engineer runs "(?P<command>.+)"(?P<fails>, which fails)?')
ON_CALL_FIXES = re.compile(r'the on-call engineer applies the runbook\'s fix "(?P<command>.+)"')
# A check run again until it shows the fault (a person re-running it), within a time: `until it fails` or
# `until its output shows "text"`.
ON_CALL_REPEATS = re.compile(r'the on-call engineer repeats "(?P<command>.+)" until (?:it fails|its output shows '
                             r'"(?P<text>[^"]+)") \(within (?P<timeout>\w+)\)')


@dataclass(frozen=True)
class CommandStep:
    """A step form whose text carries one runbook command; `template` makes the runbook's text of it."""

    pattern: re.Pattern[str]
    template: str = "{command}"

    def command(self, step: str) -> str | None:
        match = self.pattern.fullmatch(step.strip())
        return self.template.format(**match.groupdict()) if match else None


# Every inline step form the coverage report reads commands from (the block form is OPERATOR_RUNS_BLOCK).
COMMAND_STEPS = (
    CommandStep(OPERATOR_RUNS),
    CommandStep(OPERATOR_FOLLOWS),
    CommandStep(OPERATOR_TYPES),
    CommandStep(OPERATOR_OPENS, "open {url}"),
    CommandStep(OPERATOR_RUNS_ON),
    CommandStep(ON_CALL_RUNS),
    CommandStep(ON_CALL_FIXES),
    CommandStep(ON_CALL_REPEATS),
)
# Every inline step form the coverage report reads PromQL queries from (the block form is OPERATOR_QUERIES_BLOCK).
QUERY_STEPS = (CommandStep(OPERATOR_QUERIES, "{query}"),)


@dataclass
class CommandResult:
    written: str
    executed: str
    exit_code: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def substitute(text: str, substitutions: Mapping[str, str]) -> str:
    """Replace production names, longest first (so a URL wins over the bare host inside it)."""
    for source in sorted(substitutions, key=len, reverse=True):
        text = text.replace(source, substitutions[source])
    return text


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Each `<name>` replaced by the value an earlier step captured; CommandError names any missing one."""
    missing = sorted({name for name in PLACEHOLDER.findall(text) if name not in values})
    if missing:
        raise CommandError(f"the command needs values for {', '.join('<' + m + '>' for m in missing)}, which no "
                           f"earlier step captured: {text.strip()}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


@dataclass
class RunbookShell:
    substitutions: Mapping[str, str]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    history: list[CommandResult] = field(default_factory=list)
    hosts: Mapping[str, HostAccess] = field(default_factory=dict)
    host_values: Mapping[str, str] = field(default_factory=dict)  # {database_container} etc. in hosts' shells

    def prepare(self, written: str) -> str:
        """The command as it will run here: this environment's names, captured values filled in."""
        return fill_placeholders(substitute(written, self.substitutions), self.values)

    def run(self, written: str, *, timeout: float = 300) -> CommandResult:
        """Run in bash; never raises for a non-zero exit (exit 124 and a note when it timed out)."""
        return self._execute(written, self.prepare(written), timeout)

    def _execute(self, written: str, executed: str, timeout: float) -> CommandResult:
        self.workdir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            proc = subprocess.run(["bash", "-c", executed], cwd=self.workdir, env={**os.environ, **self.env},
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=timeout, check=False)
            code, output = proc.returncode, proc.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired as error:
            partial = error.output.decode(errors="replace") if error.output else ""
            code, output = 124, partial + f"\n[timed out after {timeout:.0f}s]"
        result = CommandResult(written, executed, code, redact(output, self.secrets), time.monotonic() - started)
        self.history.append(result)
        return result

    def follow(self, written: str, until: str, *, timeout: float = 60) -> CommandResult:
        """Run a command that never ends by itself (`-f`) until its output shows the text, then stop it (SIGINT).

        Exit code 0 when the text appeared and the command was still following (stopped as a person stops it),
        124 when the text did not appear within the timeout; a command that ended by itself did not follow: its
        own exit code, or 1.
        """
        executed = self.prepare(written)
        self.workdir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        proc = subprocess.Popen(["bash", "-c", executed], cwd=self.workdir, env={**os.environ, **self.env},
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_interruptible)
        output: list[str] = []
        found = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                output.append(raw.decode(errors="replace"))
                if until in "".join(output[-50:]):
                    found.set()
            found.set()  # ended by itself: stop waiting

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        found.wait(timeout)
        shown = until in "".join(output)
        reader.join(0.5)  # at end of output: the command is ending by itself, let it
        ended = proc.wait(5) if not reader.is_alive() else proc.poll()
        if ended is None:
            for stop, grace in ((signal.SIGINT, 5), (signal.SIGTERM, 5), (signal.SIGKILL, None)):
                os.killpg(proc.pid, stop)
                try:
                    proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        reader.join(5)
        text = "".join(output)
        if ended is not None:  # a command that follows never ends by itself
            code = ended if ended != 0 else 1
            text += f"\n[ended by itself with exit {ended}{'' if shown else f', without showing {until!r}'}]"
        elif shown:
            code = 0
            text += f"\n[still following after showing {until!r}: stopped with Ctrl-C]"
        else:
            code = 124
            text += f"\n[{until!r} did not appear within {timeout:.0f}s; stopped]"
        result = CommandResult(written, executed, code, redact(text, self.secrets), time.monotonic() - started)
        self.history.append(result)
        return result

    def run_on(self, host: str, written: str, *, timeout: float = 120) -> CommandResult:
        """Run a command the runbook runs on another machine, through env.yaml's `hosts` (equivalents applied).

        The result's `executed` shows the mapping (how the host was reached, what ran in place of what).
        """
        access = self.hosts.get(host)
        if access is None:
            known = ", ".join(sorted(self.hosts)) or "none"
            raise CommandError(f"env.yaml names no host {host!r} (hosts: {known}); add hosts.{host}.shell, the "
                               "command prefix that runs a command there")
        command = access.equivalents.get(written.strip(), written)
        try:
            prefix = access.shell.format(**self.host_values)
        except KeyError as error:
            raise CommandError(f"hosts.{host}.shell uses {{{error.args[0]}}}; known values: "
                               f"{', '.join(sorted(self.host_values))}") from error
        return self._execute(written, f"{prefix} bash -c {shlex.quote(self.prepare(command))}", timeout)

    def run_ok(self, written: str, *, timeout: float = 300) -> CommandResult:
        result = self.run(written, timeout=timeout)
        if not result.ok:
            raise CommandError(describe_failure(result))
        return result


def _interruptible() -> None:
    """In the child: Ctrl-C's signal at its default, even when the suite runs in the background (where the
    shell that started it ignores SIGINT, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def describe_failure(result: CommandResult) -> str:
    """What failed, in its first line (the command on one line, and its last line of output: usually why), then
    the command as written and as run, and the output's last 20 lines."""
    lines = result.output.strip().splitlines()
    tail = "\n".join(lines[-20:]) or "(no output)"
    said = next((line.strip() for line in reversed(lines) if line.strip()), "no output")
    one_line = " ".join(result.written.replace("\\\n", " ").split())
    shown = result.executed.strip()
    if result.written.strip() != shown:
        shown = f"{result.written.strip()}\n  (run here as: {shown})"
    return (f"runbook command exited {result.exit_code} ({said}): {one_line}\n  {shown}\noutput:\n{tail}")
