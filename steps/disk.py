"""A data volume filled for real until writes fail with ENOSPC, the way Bots fills it, and the cleanups."""
from __future__ import annotations

import math
import time

from pytest_bdd import given, parsers, then

from edirunbook import orders, volume
from fixtures.scenario import ScenarioContext


@given(parsers.parse("the engine has translated a day's orders: {count:d} large orders of {lines:d} lines"))
def days_orders(ctx: ScenarioContext, count: int, lines: int) -> None:
    """Big orders (the sample with that many order lines) dropped inbound and translated by one engine Job."""
    volume.start_day(ctx.bots)
    sample = ctx.bots.sample("ORDERS_good.edi")
    stamp = int(time.time() * 1000)
    for n in range(count):
        order = orders.large_order(sample, lines, f"PO-{stamp}-{n}")
        written = ctx.bots.write_web(f"{ctx.bots.inbound_dir}/{stamp}-{n}-large-order.edi", order)
        assert "exit=0" in written, f"dropping large order {n} failed: {written.strip()}"
    name = f"bots-engine-seed-{int(time.time())}"
    ctx.bots.run_engine_job(name)


@given("the data volume has filled up with the data of the days before")
def fill_volume(ctx: ScenarioContext) -> None:
    """The day's engine-made data files repeated as each earlier day's (dated that day) until a copy hits ENOSPC."""
    ctx.shell.values["used-before-fill"] = str(volume.used_percent(ctx.bots))
    output = volume.fill_with_days(ctx.bots)
    assert "No space left on device" in output, f"filling the volume ended without ENOSPC:\n{output}"
    days = int(output.rsplit("days=", 1)[1].split()[0])
    assert days > 40, f"only {days} days filled the volume: too few to have data older than 30 days"
    ctx.shell.values["days-filled"] = str(days)


@then("writing to the data volume fails with No space left on device")
def write_fails(ctx: ScenarioContext) -> None:
    """Copying an inbound file in the webserver pod fails with ENOSPC."""
    result = ctx.bots.write_web(f"{ctx.bots.inbound_dir}/ORDERS_good.edi", ctx.bots.sample("ORDERS_good.edi"))
    assert "No space left on device" in result and "exit=0" not in result, \
        f"a write to the full volume did not fail with ENOSPC:\n{result}"


@then("the largest entries listed include the filled data directory")
def du_lists(ctx: ScenarioContext) -> None:
    """The last `du ... | sort -hr` lists the entry of the data volume that holds botssys (where the files piled
    up) first."""
    holder = ctx.bots.paths.botssys_on_volume.split("/")[0]  # botssys itself, or env/ in front of it
    first = ctx.last.output.strip().splitlines()[:1]
    assert first and first[0].split()[-1].endswith(holder), \
        f"expected {holder} (it holds {ctx.bots.paths.botssys}) first in the du listing:\n{ctx.last.output}"


@then("the data volume is still full")
def still_full(ctx: ScenarioContext) -> None:
    """The data volume is at 100% Use% (as the webserver pod's df says): nothing was freed."""
    used = volume.used_percent(ctx.bots)
    assert used >= 99, f"the data volume is {used}% full: something was freed"


@then("the data of the last 30 days is kept and the older days' is gone")
def retention_kept(ctx: ScenarioContext) -> None:
    """Every earlier day's directory younger than 30 days still holds its files; none older than 30 days is left."""
    days = volume.day_directories(ctx.bots)
    filled = int(ctx.shell.values.get("days-filled", "0"))
    lost = [age for age in range(1, min(filled, 30)) if not days.get(age)]
    kept = sorted(age for age, files in days.items() if age > 30 and files)
    assert not lost and not kept, f"days lost though younger than 30: {lost}; days older than 30 kept: {kept}"


@then(parsers.parse("the data volume is less than {percent:d}% full"))
def volume_below(ctx: ScenarioContext, percent: int) -> None:
    """The last `df` shows the Bots home (the data volume) below this Use%."""
    used = volume.df_use_percent(ctx.last.output, ctx.bots.paths.data_volume)
    assert used < percent, f"the data volume is {used}% full (expected < {percent}%):\n{ctx.last.output}"


@then("the data volume shows 100% used")
def volume_full(ctx: ScenarioContext) -> None:
    """The last `df` shows the Bots home (the data volume) at 100% Use%."""
    used = volume.df_use_percent(ctx.last.output, ctx.bots.paths.data_volume)
    assert used == 100, f"the data volume is {used}% full, not 100%:\n{ctx.last.output}"


@then("the data volume has room again")
def room_again(ctx: ScenarioContext) -> None:
    """After the cleanup the data volume holds what it held before the earlier days' data filled it, plus no
    more than the last 30 of those days (their share of what they filled; 5 points for the rounding and the
    logs), and is well below full."""
    used = volume.used_percent(ctx.bots)
    filled = int(ctx.shell.values.get("days-filled", "0"))
    before = int(ctx.shell.values.get("used-before-fill", "0"))
    assert filled, "the volume was not filled with days of data earlier in this scenario"
    expected = before + math.ceil((100 - before) * min(filled, 30) / filled)
    assert used <= min(expected + 5, 90), \
        f"the cleanup freed too little: the volume is still {used}% used; it was {before}% before {filled} days " \
        f"filled it, and the last 30 of those days are {expected - before} points of it"
