"""The known state's repairs: the first restore may normalise the deployment, later ones must find nothing."""
from edirunbook import knownstate
from edirunbook.knownstate import Repair, RepairLog

SUSPEND = Repair(knownstate.ENGINE_SCHEDULE, "cronjob/bots-engine was not suspended: suspended")
JOBS = Repair(knownstate.ENGINE_JOBS, "engine Jobs bots-engine-2961: deleted")
SCALE = Repair(knownstate.REPLICAS, "deployment/bots-webserver had 3 replicas: scaled to 2")


def test_the_first_restore_may_suspend_the_engine_and_remove_its_jobs_but_nothing_else() -> None:
    log = RepairLog()
    assert log.before_scenario("test_first", [SUSPEND, JOBS, SCALE]) == [SCALE]


def test_after_a_scenario_anything_may_be_repaired_and_before_the_next_nothing() -> None:
    log = RepairLog()
    assert log.before_scenario("test_scale", []) == []
    log.after_scenario("test_scale", [SCALE])
    assert log.before_scenario("test_next", [SUSPEND]) == [SUSPEND]  # something resumed the engine in between
    assert ("after test_scale", SCALE) in log.history and ("before test_next", SUSPEND) in log.history


def test_a_restore_that_failed_half_way_is_finished_by_the_next_without_blame() -> None:
    log = RepairLog()
    log.before_scenario("test_first", [])
    log.failed()
    assert log.before_scenario("test_next", [SCALE]) == []
    assert log.before_scenario("test_after", [SCALE]) == [SCALE]


def test_the_drift_message_names_the_scenario_and_every_unexplained_repair() -> None:
    message = knownstate.drift_message("test_next", [SUSPEND, SCALE])
    assert message.startswith("Before 'test_next' the known state had to repair what no scenario changed")
    assert "cronjob/bots-engine was not suspended: suspended; deployment/bots-webserver had 3 replicas" in message
