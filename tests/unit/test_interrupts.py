"""SIGTERM (a cancelled CI job) tears a scenario down like Ctrl-C: pytest with the suite's plugin, and the gate's
way of running it, both signalled for real in the middle of a test."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edirunbook import interrupts
from edirunbook.errors import StopWaiting
from edirunbook.waiting import Observation, wait_for

# A "fault" fixture: injected (a file written), the test then runs until signalled, the teardown rolls it back.
SCENARIO = textwrap.dedent('''
    import pathlib, time
    import pytest

    MARK = pathlib.Path(__file__).parent

    @pytest.fixture
    def fault():
        (MARK / "injected").write_text("x")
        yield
        (MARK / "rolled-back").write_text("x")

    def test_long_fault(fault):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)
''')

PARENT = textwrap.dedent('''
    import sys
    from edirunbook import interrupts
    code = interrupts.run_forwarding([sys.executable, "-m", "pytest", *sys.argv[1:]])
    print(f"child ended {code}", flush=True)
    sys.exit(code)
''')


def _pytest_args(tmp_path: Path, plugin: bool = True) -> list[str]:
    (tmp_path / "test_scenario.py").write_text(SCENARIO)
    suite = ["-p", "edirunbook.report", "--report-dir", str(tmp_path / "reports")] if plugin else []
    return [str(tmp_path / "test_scenario.py"), *suite, "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path)]


def _wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 30) -> None:
    def written() -> Observation:
        if process.poll() is not None:
            raise StopWaiting(f"ended before {path.name}: {process.communicate()}")
        return Observation(path.exists(), f"no {path.name} yet")

    wait_for(f"{path.name} to be written", written, timeout=seconds, interval=0.05)


def _signalled(tmp_path: Path, argv: list[str], signum: int = signal.SIGTERM) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               cwd=tmp_path)
    try:
        _wait_for(tmp_path / "injected", process)
        process.send_signal(signum)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, out


def test_sigterm_runs_the_teardown_and_reports_an_interrupted_run(tmp_path: Path) -> None:
    code, out = _signalled(tmp_path, [sys.executable, "-m", "pytest", *_pytest_args(tmp_path)])
    assert (tmp_path / "rolled-back").exists(), out
    assert code == pytest.ExitCode.INTERRUPTED, out
    assert "SIGTERM" in out


def test_without_the_plugin_sigterm_skips_the_teardown(tmp_path: Path) -> None:
    """The defect this fixes: Python's default SIGTERM ends pytest at once, the fault stays."""
    code, out = _signalled(tmp_path, [sys.executable, "-m", "pytest", *_pytest_args(tmp_path, plugin=False)])
    assert code == -signal.SIGTERM, out
    assert not (tmp_path / "rolled-back").exists()


def test_the_gate_forwards_sigterm_and_waits_for_the_rollback(tmp_path: Path) -> None:
    (tmp_path / "parent.py").write_text(PARENT)
    code, out = _signalled(tmp_path, [sys.executable, str(tmp_path / "parent.py"), *_pytest_args(tmp_path)])
    assert (tmp_path / "rolled-back").exists(), out
    assert "child ended 2" in out and code == pytest.ExitCode.INTERRUPTED, out


def test_outside_the_main_thread_nothing_is_installed() -> None:
    import threading

    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(interrupts.sigterm_as_interrupt()))
    thread.start()
    thread.join()
    assert results == [False]
