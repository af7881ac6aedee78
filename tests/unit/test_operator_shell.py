"""The operator's runbook shell: commands run as written, with this environment's names and captured values
filled in."""
from pathlib import Path

import pytest

from edirunbook.errors import CommandError
from edirunbook.shell import CommandResult, RunbookShell, describe_failure, fill_placeholders, substitute


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


def test_a_followed_command_is_stopped_once_it_shows_the_text(tmp_path: Path) -> None:
    shell = RunbookShell(substitutions={}, workdir=tmp_path)
    result = shell.follow("echo ready; while true; do sleep 0.1; done", "ready", timeout=10)
    assert (result.exit_code, result.seconds < 9) == (0, True)
    assert "stopped with Ctrl-C" in result.output


def test_a_followed_command_that_ends_by_itself_did_not_follow(tmp_path: Path) -> None:
    shell = RunbookShell(substitutions={}, workdir=tmp_path)
    assert shell.follow("echo ready", "ready", timeout=10).exit_code == 1
    assert shell.follow("echo other; exit 3", "ready", timeout=10).exit_code == 3


def test_a_followed_command_that_never_shows_the_text_times_out(tmp_path: Path) -> None:
    result = RunbookShell(substitutions={}, workdir=tmp_path).follow("while true; do sleep 0.1; done", "x", timeout=1)
    assert result.exit_code == 124 and "did not appear within 1s" in result.output


def test_a_command_on_another_host_runs_through_its_shell_with_the_equivalent(tmp_path: Path) -> None:
    from edirunbook.environment.config import HostAccess
    shell = RunbookShell(substitutions={"kona": "db"}, workdir=tmp_path, host_values={"box": "db-1"},
                         hosts={"database server": HostAccess("env HOST={box}", {"systemctl status mysql":
                                                                                  "echo status of kona"})})
    result = shell.run_on("database server", "systemctl status mysql")
    assert (result.exit_code, result.output.strip()) == (0, "status of db")
    assert result.written == "systemctl status mysql" and result.executed.startswith("env HOST=db-1 bash -c ")
    with pytest.raises(CommandError, match="env.yaml names no host 'node'"):
        shell.run_on("node", "true")


def test_a_failed_multi_line_command_says_in_its_first_line_what_ran_and_why_it_failed() -> None:
    written = "kubectl exec -n edi deployment/bots-webserver -- \\\n  du -sh /home/bots/.bots/botssys/*"
    result = CommandResult(written, written, 1, "du: cannot access '/home/bots/.bots/botssys/*': No such file\n", 0.2)
    first, *rest = describe_failure(result).splitlines()
    assert first == ("runbook command exited 1 (du: cannot access '/home/bots/.bots/botssys/*': No such file): "
                     "kubectl exec -n edi deployment/bots-webserver -- du -sh /home/bots/.bots/botssys/*")
    assert "  du -sh /home/bots/.bots/botssys/*" in rest, "the command as written follows"
    assert "(no output)" in describe_failure(CommandResult("false", "false", 1, "", 0.0))
