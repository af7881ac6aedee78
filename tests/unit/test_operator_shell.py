"""The operator's runbook shell: commands run as written, with this environment's names and captured values
filled in."""
from pathlib import Path

import pytest

from edirunbook.errors import CommandError
from edirunbook.shell import RunbookShell, fill_placeholders, substitute


def test_substitution_prefers_the_longest_match() -> None:
    subs = {"bots-edi.pminc.me": "127.0.0.1:18080", "https://bots-edi.pminc.me": "http://127.0.0.1:18080"}
    assert substitute("curl -sf https://bots-edi.pminc.me/health/ping", subs) == \
        "curl -sf http://127.0.0.1:18080/health/ping"


def test_placeholders_are_filled_from_captured_values() -> None:
    assert fill_placeholders("kubectl logs -n edi <pod-name> --tail=100", {"pod-name": "web-1"}) == \
        "kubectl logs -n edi web-1 --tail=100"


def test_missing_placeholder_value_says_which() -> None:
    with pytest.raises(CommandError) as error:
        fill_placeholders("kubectl logs -n edi job/<latest-job-name>", {})
    assert "<latest-job-name>" in str(error.value)


def test_commands_run_in_bash_in_the_workdir(tmp_path: Path) -> None:
    shell = RunbookShell(substitutions={"PROD": "here"}, workdir=tmp_path)
    result = shell.run("echo PROD > out.txt && cat out.txt | tr a-z A-Z")
    assert result.ok and result.output.strip() == "HERE"
    assert (tmp_path / "out.txt").read_text().strip() == "here"
    assert shell.history == [result]


def test_failure_message_shows_written_and_executed_command(tmp_path: Path) -> None:
    shell = RunbookShell(substitutions={"kona.db.pminc.me": "bots-mysql"}, workdir=tmp_path)
    with pytest.raises(CommandError) as error:
        shell.run_ok("echo connecting to kona.db.pminc.me; exit 3")
    message = str(error.value)
    assert "exited 3" in message
    assert "kona.db.pminc.me" in message and "bots-mysql" in message


def test_secrets_are_redacted_from_output(tmp_path: Path) -> None:
    shell = RunbookShell(substitutions={}, workdir=tmp_path, secrets=["s3cr3t"])
    assert shell.run("echo password=s3cr3t").output.strip() == "password=***"


def test_timeout_is_reported_not_hung(tmp_path: Path) -> None:
    shell = RunbookShell(substitutions={}, workdir=tmp_path)
    result = shell.run("echo started; exec sleep 5", timeout=0.5)
    assert result.exit_code == 124
    assert "timed out" in result.output
