"""A data volume filled for real until writes fail with ENOSPC, and the runbook's cleanup."""
from __future__ import annotations

from pytest_bdd import given, parsers, then

from edirunbook import app, volume
from fixtures.scenario import ScenarioContext


@given("old archived files have filled the data volume")
def fill_volume(ctx: ScenarioContext) -> None:
    """Files dated 40 days ago are written into botssys/data until dd fails with No space left on device."""
    output = volume.fill(ctx.bots)
    assert "No space left on device" in output, f"filling the volume ended without ENOSPC:\n{output}"


@then("writing to the data volume fails with No space left on device")
def write_fails(ctx: ScenarioContext) -> None:
    """Copying an inbound file in the webserver pod fails with ENOSPC."""
    result = ctx.bots.exec_web(f"cp {app.SAMPLES_DIR}/ORDERS_good.edi {app.INFILE_DIR}/ 2>&1; echo exit=$?")
    assert "No space left on device" in result and "exit=0" not in result, \
        f"a write to the full volume did not fail with ENOSPC:\n{result}"


@then("the largest entries listed include the filled data directory")
def du_lists(ctx: ScenarioContext) -> None:
    """The last `du ... | sort -hr` lists botssys (where the files piled up) first."""
    first = ctx.last.output.strip().splitlines()[:1]
    assert first and first[0].split()[-1].endswith("botssys"), \
        f"expected botssys first in the du listing:\n{ctx.last.output}"


@then("the data volume has room again")
def room_again(ctx: ScenarioContext) -> None:
    """After the cleanup the data volume is less than half full."""
    used = volume.used_percent(ctx.bots)
    assert used < 50, f"the cleanup freed too little: the volume is still {used}% used"


@then(parsers.parse("the data volume is less than {percent:d}% full"))
def data_volume_usage(ctx: ScenarioContext, percent: int) -> None:
    """The last `df` shows the Bots home (the data volume) below this Use%."""
    used = volume.df_use_percent(ctx.last.output)
    assert used < percent, f"the data volume is {used}% full (limit {percent}%):\n{ctx.last.output}"


@then("the data volume shows 100% used")
def volume_full(ctx: ScenarioContext) -> None:
    """The last `df` shows the Bots home (the data volume) at 100% Use%."""
    used = volume.df_use_percent(ctx.last.output)
    assert used == 100, f"df shows the data volume at {used}%, not 100%:\n{ctx.last.output}"
