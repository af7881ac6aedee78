"""What the known state had to repair, and which repairs mean the deployment drifted on its own.

Every scenario starts from the same state and puts it back afterwards (fixtures/scenario.py). The restore
after a scenario repairs what the scenario changed on purpose; the restore before the next one then finds
nothing, unless something changed in between that no scenario did: drift of the deployment itself (a
controller scaling, a CronJob resumed, a config rewritten). Only the session's first restore may normalise
the deployment as shipped: it suspends the engine CronJob and removes the Jobs it ran.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# repair kinds
DATABASE, NODES, ENGINE_SCHEDULE, ENGINE_JOBS, CONFIG, IMAGES, CRONJOB, REPLICAS, FILLERS, SCHEMA = (
    "database", "nodes", "engine-schedule", "engine-jobs", "config", "images", "cronjob", "replicas", "fillers",
    "schema")
WRITE_TEST = "write-test"
KUBELET = "kubelet"
TEMPLATE = "pod-template"
EXTRA_CRONJOBS = "extra-cronjobs"
EXTRA_PODS = "extra-pods"
CLAIMS = "claims"
EXTRA_STORAGE = "extra-storage"
VELERO = "velero"
NAMESPACE = "namespace"
INBOUND = "inbound-files"
INGRESS = "ingress"
NORMALISATIONS = frozenset({ENGINE_SCHEDULE, ENGINE_JOBS})


@dataclass(frozen=True)
class Repair:
    kind: str
    text: str


@dataclass
class RepairLog:
    """The session's restores, in order; says when a restore before a scenario found drift."""

    normalised: bool = False
    last_restore_failed: bool = False
    history: list[tuple[str, Repair]] = field(default_factory=list)

    def before_scenario(self, scenario: str, repairs: list[Repair]) -> list[Repair]:
        """Record the repairs made before `scenario`; returns those no scenario explains."""
        allowed = NORMALISATIONS if not self.normalised else frozenset()
        explained = self.last_restore_failed  # an earlier restore stopped half-way: this one finishes it
        self.normalised, self.last_restore_failed = True, False
        self.history += [(f"before {scenario}", r) for r in repairs]
        return [] if explained else [r for r in repairs if r.kind not in allowed]

    def after_scenario(self, scenario: str, repairs: list[Repair]) -> None:
        self.history += [(f"after {scenario}", r) for r in repairs]

    def failed(self) -> None:
        self.last_restore_failed = True


def drift_message(scenario: str, unexplained: list[Repair]) -> str:
    return (f"Before {scenario!r} the known state had to repair what no scenario changed (drift of the deployment "
            "itself, between scenarios): " + "; ".join(r.text for r in unexplained)
            + ". Find what changes it (a controller, an autoscaler, a CronJob) and fix the deployment.")
