"""Faults: checked before they run, rolled back on every way out, the state compared afterwards."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
import yaml

from edirunbook.errors import GuardRailRefused
from edirunbook.gameday import faults
from edirunbook.gameday.faults import Command, FaultTimedOut, RollbackIncomplete, Runner, inject
from edirunbook.gameday.guard import BlastRadius
from edirunbook.gameday.state import Snapshot

BEFORE: Snapshot = {"Deployment": {"bots-webserver": {"replicas": 2, "images": {"webserver": "bots:1"}}}}


@dataclass
class FakeCluster:
    """A namespace whose only state is the webserver's replicas, changed by the scale commands it is sent."""

    replicas: int = 2
    ran: list[str] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)  # commands that fail
    stuck: bool = False  # a rollback that does not take effect

    def run(self, command: Command) -> str:
        shown = command.shown()
        self.ran.append(shown)
        if shown in self.broken:
            raise RuntimeError("the API server refused")
        if command.args[0] == "scale" and not (self.stuck and self.replicas == 0):
            self.replicas = int(command.args[2].split("=")[1])
        return ""

    def observe(self) -> Snapshot:
        return {"Deployment": {"bots-webserver": {"replicas": self.replicas, "images": {"webserver": "bots:1"}}}}

    def runner(self, max_seconds: float = 60) -> Runner:
        return Runner(self.run, self.observe, BlastRadius("edi", ("Deployment/bots-webserver",)), "edi",
                      max_seconds=max_seconds, settle_seconds=0.5)


SCALE = faults.scale_to_zero("bots-webserver", 2)
ALLOW = lambda: None  # noqa: E731


def test_a_fault_is_injected_then_rolled_back_and_the_state_compared_equal() -> None:
    cluster = FakeCluster()
    with inject(SCALE, cluster.runner(), ALLOW) as record:
        assert cluster.replicas == 0
    assert cluster.replicas == 2 and record.rolled_back and not record.differences
    assert cluster.ran == ["kubectl scale deployment/bots-webserver --replicas=0",
                           "kubectl scale deployment/bots-webserver --replicas=2"]
    assert [what for _, what in record.events] == ["fault injected", "rolled back", "state compared: equal to before"]


def test_a_failing_scenario_still_rolls_back() -> None:
    cluster = FakeCluster()
    with pytest.raises(AssertionError), inject(SCALE, cluster.runner(), ALLOW) as record:
        raise AssertionError("the webserver did not come back")
    assert cluster.replicas == 2 and record.ended_by == "a failure"


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, faults.FaultTimedOut])
def test_an_interrupt_still_rolls_back(interrupt: type[BaseException]) -> None:
    cluster = FakeCluster()
    with pytest.raises(interrupt), inject(SCALE, cluster.runner(), ALLOW):
        raise interrupt()
    assert cluster.replicas == 2


def test_a_fault_past_its_maximum_duration_is_rolled_back() -> None:
    cluster = FakeCluster()
    started = time.monotonic()
    with pytest.raises(FaultTimedOut), inject(SCALE, cluster.runner(max_seconds=0.3), ALLOW) as record:
        while time.monotonic() - started < 10:  # a scenario stuck in the fault
            time.sleep(0.01)
    assert time.monotonic() - started < 5
    assert cluster.replicas == 2 and record.ended_by == "its maximum duration (0.3 s)"


def test_the_fault_s_own_maximum_is_kept_when_shorter_than_the_environment_s() -> None:
    cluster = FakeCluster()
    short = faults.Fault(SCALE.name, SCALE.description, SCALE.touches, SCALE.inject, SCALE.rollback, max_seconds=0.2)
    with pytest.raises(FaultTimedOut), inject(short, cluster.runner(max_seconds=60), ALLOW):
        time.sleep(5)
    assert cluster.replicas == 2


def test_outside_the_blast_radius_nothing_runs() -> None:
    cluster = FakeCluster()
    other = faults.scale_to_zero("bots-jobqueue", 1)
    with pytest.raises(GuardRailRefused, match="outside its blast radius"), inject(other, cluster.runner(), ALLOW):
        pass
    assert cluster.ran == []


def test_a_refused_authorisation_runs_nothing() -> None:
    cluster = FakeCluster()

    def refuse() -> None:
        raise GuardRailRefused("read-only mode")

    with pytest.raises(GuardRailRefused, match="read-only"), inject(SCALE, cluster.runner(), refuse):
        pass
    assert cluster.ran == []


def test_a_rollback_that_does_not_restore_the_state_fails_naming_what_differs() -> None:
    cluster = FakeCluster(stuck=True)
    with pytest.raises(RollbackIncomplete) as error, inject(SCALE, cluster.runner(), ALLOW) as record:
        pass
    assert "Deployment/bots-webserver replicas 2 -> 0" in str(error.value)
    assert not record.rolled_back and record.differences


def test_every_rollback_command_runs_even_when_one_fails() -> None:
    cluster = FakeCluster(broken={"kubectl uncordon n1"})
    two = faults.Fault("two", "two steps", (("Deployment", "bots-webserver"),), SCALE.inject,
                       (Command(("uncordon", "n1")), *SCALE.rollback))
    with pytest.raises(RollbackIncomplete, match="the API server refused"), inject(two, cluster.runner(), ALLOW):
        pass
    assert cluster.replicas == 2


def test_the_database_egress_policy_denies_only_the_database() -> None:
    fault = faults.deny_database_egress({"app": "bots-edi"}, "172.18.0.3", 3306)
    policy = yaml.safe_load(fault.inject[0].stdin or "")
    assert policy["kind"] == "NetworkPolicy" and policy["spec"]["podSelector"] == {"matchLabels": {"app": "bots-edi"}}
    everything_else, database_other_ports = policy["spec"]["egress"]
    assert everything_else["to"][0]["ipBlock"] == {"cidr": "0.0.0.0/0", "except": ["172.18.0.3/32"]}
    assert database_other_ports["ports"] == [{"port": 3307, "protocol": "TCP"}]
    assert fault.rollback[0].args == ("delete", "networkpolicy", faults.NETWORK_POLICY, "--ignore-not-found")


def test_a_plan_shows_every_command() -> None:
    plan = "\n".join(faults.fill_volume("bots-webserver", "/home/bots/.bots/botssys/data", 64).plan())
    assert "dd if=/dev/zero of=/home/bots/.bots/botssys/data/edirunbook-gameday-filler bs=1M count=64" in plan
    assert "rollback: kubectl exec deployment/bots-webserver -- rm -f " \
           "/home/bots/.bots/botssys/data/edirunbook-gameday-filler" in plan


def test_the_bad_image_is_rolled_back_to_the_image_observed_before() -> None:
    fault = faults.bad_image("bots-webserver", "webserver", "registry/bots:1.4", "registry/bots:does-not-exist")
    assert fault.rollback[0].args == ("set", "image", "deployment/bots-webserver", "webserver=registry/bots:1.4")


def test_the_state_observed_before_is_restored_by_commands_where_it_can_be() -> None:
    from edirunbook.gameday.state import Difference

    differences = [
        Difference("Deployment", "bots-webserver", {"replicas": 2, "images": {"webserver": "bots:1"}, "paused": False},
                   {"replicas": 0, "images": {"webserver": "bots:bad"}, "paused": True}),
        Difference("CronJob", "bots-engine", {"schedule": "*/5 * * * *", "suspend": False, "images": {}},
                   {"schedule": "*/5 * * * *", "suspend": True, "images": {}}),
        Difference("NetworkPolicy", faults.NETWORK_POLICY, None, {"pods": {"app": "bots-edi"}}),
        Difference("ConfigMap", "bots-config-ini", {"digest": "a"}, {"digest": "b"}),
    ]
    commands, by_hand = faults.restoration(differences)
    assert [c.shown() for c in commands] == [
        "kubectl set image deployment/bots-webserver webserver=bots:1",
        "kubectl scale deployment/bots-webserver --replicas=2",
        "kubectl rollout resume deployment/bots-webserver",
        'kubectl patch cronjob/bots-engine --type=merge -p \'{"spec":{"suspend":false}}\'',
        f"kubectl delete networkpolicy {faults.NETWORK_POLICY} --ignore-not-found"]
    assert by_hand == ["ConfigMap/bots-config-ini digest 'a' -> 'b'"]


def test_a_maximum_duration_reached_outside_the_with_body_is_still_recorded() -> None:
    """A step-driven fault: entered in one step, the scenario goes on in others; the alarm fires there."""
    import contextlib

    cluster = FakeCluster()
    stack = contextlib.ExitStack()
    record = stack.enter_context(inject(SCALE, cluster.runner(max_seconds=0.2), ALLOW))
    with pytest.raises(FaultTimedOut):
        time.sleep(5)  # another step, waiting
    stack.close()  # the scenario's teardown
    assert record.ended_by == "its maximum duration (0.2 s)" and cluster.replicas == 2
