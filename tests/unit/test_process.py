"""The build subprocesses the suite runs itself: output captured, long builds streamed into their logs."""
from pathlib import Path

import pytest

from edirunbook.errors import CommandFailed
from edirunbook.process import run


def test_logged_commands_stream_into_the_log_and_return_their_output(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    assert run(["bash", "-c", "echo one; echo two >&2"], log=log).stdout == "one\ntwo\n"
    with pytest.raises(CommandFailed) as error:
        run(["bash", "-c", "echo broken; exit 3"], log=log)
    assert "exit 3" in str(error.value) and "broken" in str(error.value)
    assert "one" in log.read_text() and "broken" in log.read_text()


def test_unlogged_command_failure_carries_the_output_tail() -> None:
    with pytest.raises(CommandFailed) as error:
        run(["bash", "-c", "for i in $(seq 1 40); do echo line$i; done; exit 1"])
    assert "line40" in str(error.value) and "line1\n" not in str(error.value)
