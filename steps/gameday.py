"""Game days on a live cluster: faults injected under the guard rails, found by the runbook's own checks, recovered
by its procedures, each moment on the game day's timeline (fixtures/gameday.py, edirunbook/gameday/)."""
from __future__ import annotations

import contextlib
import re

import pytest
from pytest_bdd import given, parsers, then, when

from edirunbook.durations import parse_duration
from edirunbook.gameday import faults
from edirunbook.gameday.state import compare
from edirunbook.report import Stopwatch, record_command
from edirunbook.shell import ON_CALL_FIXES, ON_CALL_REPEATS, ON_CALL_RUNS
from edirunbook.waiting import Observation, wait_for
from fixtures.gameday import GameDayScenario
from steps.commands import DB_CONNECTION_ERROR, recorded

POD_ROW = re.compile(r"^(?P<name>bots-\S+)\s+(?P<ready>\d+/\d+)\s+(?P<status>\S+)", re.MULTILINE)
NODE_ROW = re.compile(r"^(?P<name>\S+)\s+(?P<status>\S+)\s+\S+\s+\S+\s+v\S+$", re.MULTILINE)
PERCENT = re.compile(r"(?P<percent>\d+)%\s+(?P<mount>/\S*)\s*$", re.MULTILINE)


@given("the live deployment is healthy")
def live_healthy(gameday: GameDayScenario) -> None:
    """Every Deployment the runbook names has all its replicas available (waited for, up to 3 minutes)."""
    live = gameday.live

    def probe() -> Observation:
        problems = live.unhealthy()
        return Observation(not problems, "; ".join(problems) or "healthy")

    wait_for(f"the deployment on {live.attachment.context} to be healthy", probe, timeout=180, interval=2)
    gameday.event("deployment healthy")


@when(parsers.parse('the fault "{name}" is injected'))
def fault_injected(gameday: GameDayScenario, stopwatch: Stopwatch, name: str) -> None:
    """The fault made from what is observed now, under the guard rails (game-day mode, the allowlist, the blast
    radius); rolled back when the scenario ends, whatever happens. The recovery clock starts with its injection."""
    fault = gameday.live.fault(name)
    stack = contextlib.ExitStack()
    stopwatch.start("recovery")  # before: a drain's own command takes the pods away and waits for them to go
    gameday.event(f"injecting {fault.name}: {' && '.join(c.shown().splitlines()[0] for c in fault.inject)}")
    gameday.records[name] = stack.enter_context(faults.inject(fault, gameday.live.runner(), gameday.live.authorize))
    gameday.in_place[name] = stack
    gameday.event(f"fault injected: {fault.description}")


def _run(gameday: GameDayScenario, request: pytest.FixtureRequest, command: str, should_fail: bool) -> None:
    recorded(request, gameday.shell.run(command), should_fail=should_fail)


@when(parsers.re(ON_CALL_RUNS.pattern))
def on_call_runs(gameday: GameDayScenario, request: pytest.FixtureRequest, command: str, fails: str | None) -> None:
    """Run a runbook command as written on the live cluster (its one-context kubeconfig); `, which fails` expects a
    non-zero exit."""
    _run(gameday, request, command, bool(fails))
    gameday.event(f"ran `{command}`" + (" (failed, as expected)" if fails else ""))


@when(parsers.re(ON_CALL_REPEATS.pattern))
def on_call_repeats(gameday: GameDayScenario, request: pytest.FixtureRequest, command: str, text: str | None,
                    timeout: str) -> None:
    """Run a runbook check as written again and again (a few seconds apart) until it fails, or until its output
    shows the text; each run is in the transcript. A fault takes a moment to show (a pod to fail its pull, a
    policy to be enforced), and an on-call engineer re-runs the check."""
    def probe() -> Observation:
        result = gameday.shell.run(command)
        record_command(request, result.executed, result.exit_code, result.output, result.seconds)
        shown = (text in result.output) if text is not None else not result.ok
        return Observation(shown, f"exit {result.exit_code}: {result.output.strip()[-400:]}")

    wait_for(f"`{command}` to " + (f"show {text!r}" if text is not None else "fail"), probe,
             timeout=parse_duration(timeout), interval=3)
    gameday.event(f"ran `{command}` until it " + (f"showed {text!r}" if text is not None else "failed"))


@when(parsers.re(ON_CALL_FIXES.pattern))
def on_call_fixes(gameday: GameDayScenario, request: pytest.FixtureRequest, command: str) -> None:
    """Run the runbook's resolution command as written; it must succeed. On the timeline as the runbook step
    applied."""
    _run(gameday, request, command, False)
    gameday.event(f"runbook step applied: `{command}`")


@then("the fault is detected by that check")
def detected(gameday: GameDayScenario) -> None:
    """The last command is the check that found the fault: the time from injection to it is the detection time."""
    gameday.detected = gameday.last.written
    gameday.event(f"detected by `{gameday.last.written}`")


@then(parsers.parse('its output contains "{text}"'))
def output_contains(gameday: GameDayScenario, text: str) -> None:
    """The last command's output contains the text."""
    assert text in gameday.last.output, f"expected {text!r} in the output of {gameday.last.executed}:\n" \
                                        f"{gameday.last.output}"


@then("its output shows a database connection error")
def output_database_error(gameday: GameDayScenario) -> None:
    """The last command's output has a connection error saying the database cannot be reached."""
    assert DB_CONNECTION_ERROR.search(gameday.last.output), \
        f"expected a database connection error in the output of {gameday.last.executed}:\n{gameday.last.output}"


@then(parsers.parse("its output lists every pod of deployment {deployment} as {status}"))
def output_pods(gameday: GameDayScenario, deployment: str, status: str) -> None:
    """`kubectl get pods` output: a row for each of the deployment's pods, each with that STATUS and all its
    containers ready when Running."""
    rows = [m for m in POD_ROW.finditer(gameday.last.output) if m["name"].startswith(f"{deployment}-")]
    assert rows, f"no pod of {deployment} in:\n{gameday.last.output}"
    wrong = [m.group(0) for m in rows if m["status"] != status
             or (status == "Running" and m["ready"].split("/")[0] != m["ready"].split("/")[1])]
    assert not wrong, f"pods of {deployment} not {status}: {wrong}"


@then(parsers.parse("its output shows a pod of deployment {deployment} that cannot pull its image"))
def output_pull_error(gameday: GameDayScenario, deployment: str) -> None:
    """`kubectl get pods` output: a pod of the deployment waiting in ErrImagePull, ImagePullBackOff or (images loaded
    into the nodes, never pulled) ErrImageNeverPull."""
    rows = [m.group(0) for m in POD_ROW.finditer(gameday.last.output) if m["name"].startswith(f"{deployment}-")
            and m["status"] in ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull")]
    assert rows, f"no pod of {deployment} failing to pull its image in:\n{gameday.last.output}"


@then(parsers.parse("its output shows no pod of deployment {deployment}"))
def output_no_pods(gameday: GameDayScenario, deployment: str) -> None:
    """`kubectl get pods` output: no row of the deployment's pods."""
    rows = [m.group(0) for m in POD_ROW.finditer(gameday.last.output) if m["name"].startswith(f"{deployment}-")]
    assert not rows, f"expected no pod of {deployment}, found: {rows}"


@then("its output shows every node Ready")
def output_nodes_ready(gameday: GameDayScenario) -> None:
    """`kubectl get nodes` output: every node's STATUS is Ready (not NotReady, not SchedulingDisabled)."""
    rows = list(NODE_ROW.finditer(gameday.last.output))
    assert rows, f"no node rows in:\n{gameday.last.output}"
    wrong = [m.group(0) for m in rows if m["status"] != "Ready"]
    assert not wrong, f"nodes not Ready: {wrong}"


@then("its output shows a node cordoned")
def output_node_cordoned(gameday: GameDayScenario) -> None:
    """`kubectl get nodes` output: a node's STATUS shows SchedulingDisabled."""
    assert "SchedulingDisabled" in gameday.last.output, f"no cordoned node in:\n{gameday.last.output}"


@then(parsers.parse("its output shows the data volume {comparison} {percent:d}% full"))
def output_volume(gameday: GameDayScenario, comparison: str, percent: int) -> None:
    """`df -h` output: the data volume's (mounted at the Bots home) use%, `less than` or `at least` the figure."""
    found = {m["mount"]: int(m["percent"]) for m in PERCENT.finditer(gameday.last.output)}
    used = found.get("/home/bots/.bots")
    assert used is not None, f"no line for /home/bots/.bots in:\n{gameday.last.output}"
    ok = used < percent if comparison == "less than" else used >= percent
    assert ok, f"the data volume is {used}% full, expected {comparison} {percent}%"


@then(parsers.parse('its output names "{text}" first'))
def output_first(gameday: GameDayScenario, text: str) -> None:
    """The first line of the last command's output contains the text (`du ... | sort -hr | head`: the largest)."""
    first = gameday.last.output.strip().splitlines()[0] if gameday.last.output.strip() else ""
    assert text in first, f"expected {text!r} on the first line of:\n{gameday.last.output}"


@when(parsers.parse('the fault "{name}" is undone by hand: {why}'))
def undone_by_hand(gameday: GameDayScenario, name: str, why: str) -> None:
    """The runbook has no step that undoes it: the game day's own rollback does, and the report lists it among
    what the operators had to do by hand, with why."""
    record = gameday.undo(name)
    commands = "; ".join(command.shown() for command in record.fault.rollback) or "nothing to run"
    gameday.by_hand.append(f"{name}: {commands} ({why})")
    gameday.event(f"undone by hand: {commands}")


@then(parsers.parse('the runbook\'s "{step}" does not work as written: {why}'))
def not_as_written(gameday: GameDayScenario, step: str, why: str) -> None:
    """A runbook step this game day found wanting (shown by the steps before), for the report."""
    gameday.not_as_written.append(f"{step}: {why}")


@then(parsers.parse("the live deployment recovers within {timeout}"))
def recovers(gameday: GameDayScenario, stopwatch: Stopwatch, timeout: str) -> None:
    """Every Deployment the runbook names has all its replicas available again; the time since the fault was
    injected is the recovery time, compared with the scenario's @rto."""
    live = gameday.live

    def probe() -> Observation:
        problems = live.unhealthy()
        return Observation(not problems, "; ".join(problems) or "healthy")

    wait_for(f"the deployment on {live.attachment.context} to recover", probe, timeout=parse_duration(timeout),
             interval=2)
    if stopwatch.running("recovery"):
        stopwatch.stop("recovery")
    gameday.event("recovered: every deployment available")


@then(parsers.parse("no pod of deployment {deployment} runs on the drained node"))
def none_on_drained_node(gameday: GameDayScenario, deployment: str) -> None:
    """The node the drain took had a pod of the deployment (the fault chose it so) and has none now."""
    drained = [name for record in gameday.records.values() for kind, name in record.fault.touches if kind == "Node"]
    assert drained, "no node was drained in this scenario"
    pods = [pod for pod in gameday.live.webserver_pods() if pod.metadata.name.startswith(f"{deployment}-")]
    there = [pod.metadata.name for pod in pods if pod.spec.node_name in drained]
    assert not there, f"pods of {deployment} still on the drained node {drained[0]}: {there}"
    gameday.event(f"no pod of {deployment} on {drained[0]}: " +
                  ", ".join(f"{pod.metadata.name} on {pod.spec.node_name}" for pod in pods))


@then("the fault is rolled back and the state is as before it")
def rolled_back(gameday: GameDayScenario) -> None:
    """Every fault still in place is rolled back now; the namespace's state equals the state observed before it."""
    for name in list(gameday.in_place):
        record = gameday.undo(name)
        assert record.rolled_back, f"{name}: {[d.describe() for d in record.differences]}"
    gameday.event("every fault rolled back, the state as before")


@then("the live state is what it was when the game day began")
def state_unchanged(gameday: GameDayScenario) -> None:
    """Nothing in the namespace differs from the state observed at the start (a read-only scenario changed
    nothing)."""
    left = compare(gameday.session.before, gameday.live.observe())
    assert not left, "the namespace changed: " + "; ".join(d.describe() for d in left)
