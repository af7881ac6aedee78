"""The game-day guard rails: each refusal, and what passes."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from edirunbook.errors import GuardRailRefused
from edirunbook.gameday.guard import (
    Attachment,
    BlastRadius,
    LiveSettings,
    Mode,
    RunRequest,
    authorize_destructive,
    choose_context,
    scenario_selection,
)

SETTINGS = LiveSettings(context=None, allowlist=("kind-bots-staging", "staging-*"),
                        production_patterns=(r"prod", r"pminc\.me"))
STAGING = Attachment("kind-bots-staging", "https://127.0.0.1:41234", "edi")


def _refused(call: Callable[..., object], *args: object) -> str:
    with pytest.raises(GuardRailRefused) as error:
        call(*args)
    return str(error.value)


def test_a_live_run_must_name_its_context() -> None:
    assert "CONTEXT=<kubeconfig context>" in _refused(choose_context, RunRequest(None), SETTINGS)


def test_the_wrong_context_is_refused() -> None:
    pinned = LiveSettings(context="kind-bots-staging")
    message = _refused(choose_context, RunRequest("kind-edirunbook"), pinned)
    assert "wrong context" in message and "kind-bots-staging" in message


def test_a_context_the_kubeconfig_lacks_is_refused() -> None:
    request = RunRequest("kind-other", contexts=("kind-bots-staging",))
    assert "no context 'kind-other'" in _refused(choose_context, request, SETTINGS)


def test_the_named_context_is_chosen() -> None:
    request = RunRequest("kind-bots-staging", contexts=("kind-bots-staging", "prod-eu"))
    assert choose_context(request, LiveSettings(context="kind-bots-staging")) == "kind-bots-staging"


@pytest.mark.parametrize("mode", [Mode.READONLY, Mode.DRY_RUN])
def test_destructive_work_is_refused_outside_game_day_mode(mode: Mode) -> None:
    request = RunRequest(STAGING.context, mode, confirm=STAGING.context)
    message = _refused(authorize_destructive, request, STAGING, SETTINGS)
    assert f"{mode.value} mode" in message and "make gameday CONTEXT=kind-bots-staging" in message


@pytest.mark.parametrize("confirm", [None, "yes", "kind-bots-stagin"])
def test_destructive_work_needs_the_context_typed_as_confirmation(confirm: str | None) -> None:
    request = RunRequest(STAGING.context, Mode.GAMEDAY, confirm=confirm)
    assert "CONFIRM=kind-bots-staging" in _refused(authorize_destructive, request, STAGING, SETTINGS)


def test_a_context_not_on_the_allowlist_is_refused() -> None:
    other = Attachment("kind-edirunbook", "https://127.0.0.1:5000", "edi")
    message = _refused(authorize_destructive, RunRequest(other.context, Mode.GAMEDAY, other.context), other, SETTINGS)
    assert "not on the allowlist" in message and "kind-bots-staging, staging-*" in message


def test_a_production_looking_context_needs_the_allowlist_to_name_it_exactly() -> None:
    """`staging-*` would let it through; its name says prod, so a glob is not enough."""
    prod = Attachment("staging-prod-mirror", "https://10.0.0.1:6443", "edi")
    message = _refused(authorize_destructive, RunRequest(prod.context, Mode.GAMEDAY, prod.context), prod, SETTINGS)
    assert "looks like production" in message and "'prod' matches the context" in message


def test_a_production_api_server_is_recognised_behind_an_innocent_name() -> None:
    sneaky = Attachment("staging-2", "https://k8s.pminc.me:6443", "edi")
    message = _refused(authorize_destructive, RunRequest(sneaky.context, Mode.GAMEDAY, sneaky.context), sneaky,
                       SETTINGS)
    assert "matches the API server 'https://k8s.pminc.me:6443'" in message


def test_an_exactly_allowlisted_production_looking_context_is_allowed() -> None:
    settings = LiveSettings(allowlist=("prod-dr-rehearsal",), production_patterns=(r"prod",))
    dr = Attachment("prod-dr-rehearsal", "https://127.0.0.1:6443", "edi")
    authorize_destructive(RunRequest(dr.context, Mode.GAMEDAY, dr.context), dr, settings)


def test_game_day_on_an_allowlisted_staging_context_is_allowed() -> None:
    authorize_destructive(RunRequest(STAGING.context, Mode.GAMEDAY, STAGING.context), STAGING, SETTINGS)
    globbed = Attachment("staging-eu", "https://127.0.0.1:1", "edi")
    authorize_destructive(RunRequest(globbed.context, Mode.GAMEDAY, globbed.context), globbed, SETTINGS)


def test_read_only_runs_select_readonly_scenarios_whatever_was_asked() -> None:
    assert scenario_selection(Mode.READONLY, "") == "readonly"
    assert scenario_selection(Mode.READONLY, "runbook:database-connection-loss") == \
        "readonly and (runbook:database-connection-loss)"
    assert scenario_selection(Mode.DRY_RUN, "destructive") == "destructive"  # the plan of what would run
    assert scenario_selection(Mode.GAMEDAY, "destructive") == "destructive"


def test_an_unknown_mode_is_refused() -> None:
    assert "unknown run mode 'yolo'" in _refused(Mode.parse, "yolo")
    assert Mode.parse(None) is Mode.READONLY


def test_the_blast_radius_is_one_namespace_and_the_named_objects() -> None:
    radius = BlastRadius("edi", ("Deployment/bots-webserver", "Pod/bots-webserver-*", "Node/worker-2"))
    radius.check("Deployment", "bots-webserver", "edi", "f")
    radius.check("Pod", "bots-webserver-abc12", "edi", "f")
    radius.check("Node", "worker-2", "edi", "f")
    assert "namespace 'edi' only" in _refused(radius.check, "Deployment", "bots-webserver", "kube-system", "f")
    assert "outside its blast radius" in _refused(radius.check, "Deployment", "bots-jobqueue", "edi", "f")
    assert "outside its blast radius" in _refused(radius.check, "Node", "worker-1", "edi", "f")
