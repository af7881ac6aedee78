from __future__ import annotations

from pathlib import Path

from edirunbook.orders import large_order

SAMPLE = (Path(__file__).parents[2] / "images" / "bots-edi" / "samples" / "ORDERS_good.edi").read_text()


def test_a_large_order_keeps_the_envelope_and_counts_its_segments() -> None:
    order = large_order(SAMPLE, 3, "PO-9001")
    segments = order.split("'\n")[:-1]
    assert segments[0] == "UNA:+.? " and segments[-1].startswith("UNZ+1+")
    assert [s for s in segments if s.startswith("LIN+")] == [
        "LIN+1++4000862100001:SRS", "LIN+2++4000862100002:SRS", "LIN+3++4000862100003:SRS"]
    unh = next(i for i, s in enumerate(segments) if s.startswith("UNH+"))
    unt = next(i for i, s in enumerate(segments) if s.startswith("UNT+"))
    assert segments[unt] == f"UNT+{unt - unh + 1}+1"
    assert "BGM+220+PO-9001+9" in segments
