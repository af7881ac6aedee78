"""The suite's own subprocesses (docker, go, kind, kubectl during builds and setup) and progress lines.

The operator's runbook commands run elsewhere: edirunbook.shell.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from edirunbook.errors import CommandFailed


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
    input: str | bytes | None = None,
    timeout: float | None = None,
    log: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv, capturing stdout+stderr (also appended to `log` when given)."""
    args = [str(a) for a in argv]
    full_env = {**os.environ, **(env or {})}
    data = input.encode() if isinstance(input, str) else input
    if log is None:
        proc = subprocess.run(args, env=full_env, cwd=cwd, input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout, check=False)
        output = proc.stdout.decode(errors="replace")
    else:
        # long builds stream into their log, so `tail -f` shows progress while they run
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as handle:
            handle.write(f"$ {' '.join(args)}\n".encode())
            handle.flush()
            start = handle.tell()
            proc = subprocess.run(args, env=full_env, cwd=cwd, input=data, stdout=handle,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
        with log.open("rb") as handle:
            handle.seek(start)
            output = handle.read().decode(errors="replace")
    if check and proc.returncode != 0:
        raise CommandFailed(args, proc.returncode, output)
    return subprocess.CompletedProcess(args, proc.returncode, output, "")


def succeeds(argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 20) -> bool:
    try:
        return run(argv, env=env, check=False, timeout=timeout).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    """Print `==> title` and, when done, how long it took (naming the step again when another one started
    meanwhile: steps of parallel builds)."""
    global _last_title
    print(f"==> {title}", file=sys.stderr, flush=True)
    _last_title = title
    started = time.monotonic()
    yield
    which = "" if _last_title == title else f" ({title})"
    print(f"    done in {time.monotonic() - started:.1f}s{which}", file=sys.stderr, flush=True)


_last_title = ""


def note(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)
