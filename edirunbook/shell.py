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
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edirunbook.errors import CommandError
from edirunbook.redaction import redact

# `<pod-name>`, `<timestamp>`: a value an earlier step captured (the coverage report matches it to any word).
PLACEHOLDER = re.compile(r"<([A-Za-z][\w.-]*)>")
# The steps that run runbook text, and the coverage report that finds those commands in features, share these.
OPERATOR_RUNS = re.compile(r'the operator runs "(?P<command>.+)"(?P<fails>, which fails)?')
OPERATOR_RUNS_BLOCK = "the operator runs:"
# `-f` commands never end by themselves: followed until a text appears, then stopped as a person would (Ctrl-C).
OPERATOR_FOLLOWS = re.compile(r'the operator follows "(?P<command>.+)" until it shows "(?P<text>.+)"')
# An interactive command in a pseudo-terminal; the step's table says what is typed and what must appear.
# Typed lines that are runbook commands (`python manage.py dbshell` at the pod's shell) count as run.
OPERATOR_TYPES = re.compile(r'the operator runs "(?P<command>.+)" in a terminal and types:')
# `open URL` (the runbook's macOS habit): a real headless browser opens the page.
OPERATOR_OPENS = re.compile(r'the operator opens "(?P<url>[^"]+)" in a browser(?P<rest>.*)')
# A command the runbook says to run on another machine ("On DB server"): env.yaml `hosts` says how to reach it.
OPERATOR_RUNS_ON = re.compile(r'the operator runs "(?P<command>.+)" on the (?P<host>[\w -]+)')


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
)


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

    def prepare(self, written: str) -> str:
        """The command as it will run here: this environment's names, captured values filled in."""
        return fill_placeholders(substitute(written, self.substitutions), self.values)

    def run(self, written: str, *, timeout: float = 300) -> CommandResult:
        """Run in bash; never raises for a non-zero exit (exit 124 and a note when it timed out)."""
        executed = self.prepare(written)
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

    def run_ok(self, written: str, *, timeout: float = 300) -> CommandResult:
        result = self.run(written, timeout=timeout)
        if not result.ok:
            raise CommandError(describe_failure(result))
        return result


def describe_failure(result: CommandResult) -> str:
    tail = "\n".join(result.output.strip().splitlines()[-20:]) or "(no output)"
    shown = result.executed.strip()
    if result.written.strip() != shown:
        shown = f"{result.written.strip()}\n  (run here as: {shown})"
    return f"runbook command exited {result.exit_code}:\n  {shown}\noutput:\n{tail}"
