"""A data volume filled for real until writes fail with ENOSPC, and the runbook's cleanup."""
from __future__ import annotations

from pytest_bdd import given, then

from edirunbook import app
from fixtures.scenario import ScenarioContext

DATA = f"{app.BOTS_HOME}/botssys/data"
FILL = (
    # Archived transaction files older than the runbook's 30 days, written until the volume is full:
    # dd stops with a real "No space left on device".
    f"mkdir -p {DATA} && i=0; while dd if=/dev/zero of={DATA}/edirunbook-filler-$i.old bs=1M count=16 "
    f"2>/tmp/dd.err; do touch -d '40 days ago' {DATA}/edirunbook-filler-$i.old; i=$((i+1)); done; "
    f"touch -d '40 days ago' {DATA}/edirunbook-filler-$i.old; cat /tmp/dd.err"
)


@given("old archived files have filled the data volume")
def fill_volume(ctx: ScenarioContext) -> None:
    output = ctx.bots.exec_web(FILL, timeout=300)
    assert "No space left on device" in output, f"filling the volume ended without ENOSPC:\n{output}"


@then("writing to the data volume fails with No space left on device")
def write_fails(ctx: ScenarioContext) -> None:
    result = ctx.bots.kubectl_run("exec", f"deployment/{app.WEBSERVER}", "--", "sh", "-c",
                                  f"cp {app.SAMPLES_DIR}/ORDERS_good.edi {app.INFILE_DIR}/ 2>&1; echo exit=$?")
    assert "No space left on device" in result and "exit=0" not in result, \
        f"a write to the full volume did not fail with ENOSPC:\n{result}"


@then("the data volume shows 100% used")
def volume_full(ctx: ScenarioContext) -> None:
    output = ctx.last.output
    line = next((ln for ln in output.splitlines() if ln.split() and ln.split()[-1] == app.BOTS_HOME), "")
    assert line.split()[-2:-1] == ["100%"], f"df does not show {app.BOTS_HOME} at 100%:\n{output}"


@then("the largest entries listed include the filled data directory")
def du_lists(ctx: ScenarioContext) -> None:
    first = ctx.last.output.strip().splitlines()[:1]
    assert first and first[0].split()[-1].endswith("botssys"), \
        f"expected botssys first in the du listing:\n{ctx.last.output}"


@then("the data volume has room again")
def room_again(ctx: ScenarioContext) -> None:
    output = ctx.bots.exec_web(f"df -P {app.BOTS_HOME} | tail -1")
    used = int(output.split()[-2].rstrip("%"))
    assert used < 50, f"the cleanup freed too little: the volume is still {used}% used\n{output}"
