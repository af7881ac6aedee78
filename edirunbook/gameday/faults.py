"""Faults that work on a real cluster, each bounded and always rolled back.

A fault is data: what it does, the objects it touches (checked against the blast radius before anything runs),
the kubectl commands that inject it and those that roll it back. Being data, a dry run prints exactly what a game
day would execute. The rollback is computed from the state observed before the fault (the replicas to scale back
to, the image to set back), never from what the suite would like the cluster to be.

`inject()` runs a fault as a context manager:
- the blast radius and the guard rails are checked first (GuardRailRefused, nothing changed);
- the state before is observed, the fault injected, and a deadline armed: past the fault's maximum duration the
  main thread gets FaultTimedOut, whatever it was doing, and the rollback runs;
- the rollback runs on every way out: success, failure, timeout, Ctrl-C, SIGTERM (edirunbook.interrupts);
- afterwards the state is observed again until it equals the state before (or the wait runs out), and the
  comparison is part of the record: a rollback that did not restore everything fails the run, naming what differs.
"""
from __future__ import annotations

import shlex
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from edirunbook.errors import GuardRailRefused, WaitTimeout
from edirunbook.gameday.guard import BlastRadius
from edirunbook.gameday.state import Difference, Snapshot, compare
from edirunbook.waiting import Observation, wait_for

NETWORK_POLICY = "edirunbook-gameday-deny-database"
# what ended a fault (FaultRecord.ended_by), besides its maximum duration
ENDED_BY_SCENARIO, ENDED_BY_FAILURE = "the scenario", "a failure"
ENDED_BY_INTERRUPT = "an interrupt (Ctrl-C or SIGTERM)"
# not a dotfile: a full disk's filler is found by the runbook's `du -sh /home/bots/.bots/*` as a real one would be
FILLER = "edirunbook-gameday-filler"


@dataclass(frozen=True)
class Command:
    """One kubectl invocation (its arguments after `kubectl --context C -n NS`), with its stdin if any."""

    args: tuple[str, ...]
    stdin: str | None = None

    def shown(self) -> str:
        text = "kubectl " + shlex.join(self.args)
        return text + (" <<EOF\n" + self.stdin.rstrip() + "\nEOF" if self.stdin else "")


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    touches: tuple[tuple[str, str], ...]  # (Kind, name) of every object it changes
    inject: tuple[Command, ...]
    rollback: tuple[Command, ...]
    max_seconds: float | None = None  # None: the environment's live.max_fault_seconds
    kind_only: bool = False  # not a Kubernetes fault: only on the suite's own kind environment

    def plan(self) -> list[str]:
        lines = [f"fault {self.name}: {self.description}",
                 "  touches: " + ", ".join(f"{kind}/{name}" for kind, name in self.touches)]
        lines += [f"  inject:   {command.shown()}" for command in self.inject]
        lines += [f"  rollback: {command.shown()}" for command in self.rollback]
        return lines


class FaultTimedOut(BaseException):
    """A fault lasted longer than its maximum duration; raised in the main thread to reach the rollback. Not an
    Exception, so no `except Exception` on the way (a wait's probe) swallows it."""


# --- the faults -----------------------------------------------------------------------------------------------------

def scale_to_zero(deployment: str, replicas_before: int) -> Fault:
    return Fault(f"scale-{deployment}-to-zero", f"deployment {deployment} scaled from {replicas_before} to 0",
                 (("Deployment", deployment),),
                 (Command(("scale", f"deployment/{deployment}", "--replicas=0")),),
                 (Command(("scale", f"deployment/{deployment}", f"--replicas={replicas_before}")),))


def delete_pods(selector: str, pods: Sequence[str]) -> Fault:
    """The pods deleted at once; their controller replaces them (the rollback is the controller's own)."""
    return Fault(f"delete-pods-{selector.replace('=', '-').replace(',', '-')}",
                 f"pods {', '.join(pods)} deleted ({selector})",
                 tuple(("Pod", pod) for pod in pods),
                 (Command(("delete", "pod", *pods, "--wait=false")),), ())


def deny_database_egress(selector: dict[str, str], database_ip: str, port: int) -> Fault:
    """A NetworkPolicy that lets the selected pods reach everything but the database's address and port: the
    database unreachable from the application, as a firewall change or a network partition makes it. The
    cluster's CNI must enforce NetworkPolicy, or nothing happens (a game day checks the fault took effect)."""
    labels = "\n".join(f"      {key}: {value}" for key, value in sorted(selector.items()))
    manifest = f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {NETWORK_POLICY}
  labels:
    app.kubernetes.io/managed-by: edirunbook-gameday
spec:
  podSelector:
    matchLabels:
{labels}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except: [{database_ip}/32]
  - to:
    - ipBlock:
        cidr: {database_ip}/32
    ports:
    - port: {port + 1 if port < 65535 else port - 1}
      protocol: TCP
"""
    return Fault("deny-database-egress", f"egress from pods {selector} to the database {database_ip}:{port} denied "
                 f"by NetworkPolicy {NETWORK_POLICY}",
                 (("NetworkPolicy", NETWORK_POLICY),),
                 (Command(("apply", "-f", "-"), manifest),),
                 (Command(("delete", "networkpolicy", NETWORK_POLICY, "--ignore-not-found")),))


def fill_volume(deployment: str, directory: str, megabytes: int) -> Fault:
    """A filler file of at most `megabytes` in the data volume, written in the deployment's pod; always removed.
    dd stops at the size or at a full disk, whichever comes first."""
    path = f"{directory.rstrip('/')}/{FILLER}"
    return Fault(f"fill-volume-{megabytes}M", f"{path} written up to {megabytes} MiB in deployment {deployment}",
                 (("Deployment", deployment),),
                 (Command(("exec", f"deployment/{deployment}", "--", "sh", "-c",
                           f"dd if=/dev/zero of={path} bs=1M count={megabytes} 2>&1 || true")),),
                 (Command(("exec", f"deployment/{deployment}", "--", "rm", "-f", path)),))


def bad_image(deployment: str, container: str, image_before: str, bad: str) -> Fault:
    """A rollout of an image that does not exist; rolled back by setting the image observed before (exact, not
    `rollout undo`, which depends on the revision history)."""
    return Fault(f"bad-image-{deployment}", f"deployment {deployment} container {container} set to {bad}",
                 (("Deployment", deployment),),
                 (Command(("set", "image", f"deployment/{deployment}", f"{container}={bad}")),),
                 (Command(("set", "image", f"deployment/{deployment}", f"{container}={image_before}")),))


def cordon_and_drain(node: str, selector: str) -> Fault:
    """The node cordoned and the deployment's pods on it evicted (only where the cluster has another node)."""
    return Fault(f"drain-{node}", f"node {node} cordoned, pods {selector} on it evicted",
                 (("Node", node),),
                 (Command(("cordon", node)),
                  Command(("drain", node, "--pod-selector", selector, "--ignore-daemonsets", "--delete-emptydir-data",
                           "--timeout=120s"))),
                 (Command(("uncordon", node)),))


# --- running one ----------------------------------------------------------------------------------------------------

@dataclass
class FaultRecord:
    """What happened to one fault, for the report: times are seconds since the fault was injected."""

    fault: Fault
    injected_at: float = 0.0  # wall clock
    events: list[tuple[float, str]] = field(default_factory=list)
    ended_by: str = ENDED_BY_SCENARIO  # or its maximum duration, an interrupt, a failure (`end`)
    rolled_back: bool = False
    differences: list[Difference] = field(default_factory=list)

    def event(self, what: str) -> None:
        self.events.append((time.time() - self.injected_at, what))

    def end(self, why: str) -> None:
        """What ended the fault, the first time something other than the scenario itself does."""
        if self.ended_by == ENDED_BY_SCENARIO:
            self.ended_by = why


@dataclass(frozen=True)
class Runner:
    """Runs a fault's commands (kubectl on the attached context and namespace) and observes the namespace."""

    run: Callable[[Command], str]
    observe: Callable[[], Snapshot]
    radius: BlastRadius
    namespace: str  # the namespace its kubectl runs in (-n)
    max_seconds: float
    settle_seconds: float = 180.0  # how long the state may take to come back after the rollback


@contextmanager
def _deadline(seconds: float, name: str, record: FaultRecord) -> Iterator[None]:
    """FaultTimedOut in the main thread after `seconds` (SIGALRM), wherever it is (the fault's scenario goes on
    in other steps while the fault is in place): the record says so. Outside the main thread a timer cannot
    interrupt, so GuardRailRefused: a fault is never run without its limit."""
    if threading.current_thread() is not threading.main_thread():
        raise GuardRailRefused(f"fault {name!r} refused: its maximum duration can only be enforced from the main "
                               "thread")

    def expire(signum: int, frame: object) -> None:
        record.end(f"its maximum duration ({seconds:g} s)")
        raise FaultTimedOut(f"fault {name!r} lasted its maximum of {seconds:g} s")

    before = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:  # the alarm may fire just before it is cancelled: the handler is put back all the same
            signal.signal(signal.SIGALRM, before)


@contextmanager
def inject(fault: Fault, runner: Runner, authorize: Callable[[], None],
           ignore: Sequence[str] = ()) -> Iterator[FaultRecord]:
    """The fault in place for the body of the `with`; rolled back and verified on every way out."""
    for kind, name in fault.touches:
        runner.radius.check(kind, name, runner.namespace, fault.name)
    authorize()
    limit = min(fault.max_seconds or runner.max_seconds, runner.max_seconds)
    before = runner.observe()
    record = FaultRecord(fault, injected_at=time.time())
    try:
        with _deadline(limit, fault.name, record):
            for command in fault.inject:
                runner.run(command)
            record.event("fault injected")
            yield record
    except FaultTimedOut:
        record.end(f"its maximum duration ({limit:g} s)")
        raise
    except KeyboardInterrupt:
        record.end(ENDED_BY_INTERRUPT)
        raise
    except BaseException:
        record.end(ENDED_BY_FAILURE)
        raise
    finally:
        _roll_back(fault, runner, record, before, ignore)


def _roll_back(fault: Fault, runner: Runner, record: FaultRecord, before: Snapshot, ignore: Sequence[str]) -> None:
    """Every rollback command (one failing does not stop the next), then the state awaited equal to before."""
    failures = []
    for command in fault.rollback:
        try:
            runner.run(command)
        except Exception as error:  # noqa: BLE001 - the next command must still run; reported below
            failures.append(f"{command.shown()}: {error}")
    record.event("rolled back")

    def same() -> Observation:
        record.differences = compare(before, runner.observe(), ignore)
        return Observation(not record.differences,
                           "; ".join(d.describe() for d in record.differences) or "equal")

    try:
        wait_for(f"the state after rolling back {fault.name} to equal the state before", same,
                 timeout=runner.settle_seconds, interval=1.0)
    except WaitTimeout as error:
        failures.append(str(error))
    record.rolled_back = not failures
    record.event("state compared: " + ("equal to before" if not record.differences else
                                       "; ".join(d.describe() for d in record.differences)))
    if failures:
        raise RollbackIncomplete(fault.name, failures)


class RollbackIncomplete(GuardRailRefused):
    """The rollback of a fault failed or did not restore the state before; says what differs."""

    def __init__(self, fault: str, failures: list[str]) -> None:
        super().__init__(f"the rollback of fault {fault!r} did not restore the state before it:\n" +
                         "\n".join(failures))


# --- the observed known state, restored -----------------------------------------------------------------------------

def restoration(differences: Sequence[Difference]) -> tuple[list[Command], list[str]]:
    """The kubectl commands that put back what was observed before a game day, for the differences found at its
    end, and the differences no command of the game day's own can put back (reported for a person to look at)."""
    commands: list[Command] = []
    by_hand: list[str] = []
    for difference in differences:
        kind, name, before, after = difference.kind, difference.name, difference.before, difference.after
        if kind == "NetworkPolicy" and before is None and name == NETWORK_POLICY:
            commands.append(Command(("delete", "networkpolicy", name, "--ignore-not-found")))
        elif kind in ("Deployment", "CronJob") and before is not None and after is not None:
            resource = f"{kind.lower()}/{name}"
            images = {container: image for container, image in before.get("images", {}).items()
                      if after.get("images", {}).get(container) != image}
            if images:
                commands.append(Command(("set", "image", resource, *(f"{c}={i}" for c, i in sorted(images.items())))))
            if kind == "Deployment" and before.get("replicas") != after.get("replicas"):
                commands.append(Command(("scale", resource, f"--replicas={before['replicas']}")))
            if kind == "Deployment" and before.get("paused") != after.get("paused"):
                commands.append(Command(("rollout", "pause" if before["paused"] else "resume", resource)))
            if kind == "CronJob" and before.get("suspend") != after.get("suspend"):
                commands.append(Command(("patch", resource, "--type=merge", "-p",
                                         f'{{"spec":{{"suspend":{str(before["suspend"]).lower()}}}}}')))
            rest = {k for k in {*before, *after} if before.get(k) != after.get(k)} - {"images", "replicas", "paused",
                                                                                         "suspend"}
            if rest:
                by_hand.append(difference.describe())
        else:
            by_hand.append(difference.describe())
    return commands, by_hand
