"""EDIFACT orders as trading partners send them, made from the image's sample order."""
from __future__ import annotations

_TERMINATOR = "'\n"


def large_order(sample: str, lines: int, reference: str) -> str:
    """The sample order with `lines` order lines (LIN + QTY each), its UNT segment count and references updated.

    A big order of a big customer: the same interchange, message and parties, many more articles.
    """
    segments = [s for s in sample.split(_TERMINATOR) if s.strip()]
    head = [s for s in segments if not s.startswith(("LIN+", "QTY+", "UNS+", "UNT+", "UNZ+"))]
    start = next(i for i, s in enumerate(head) if s.startswith("UNH+"))
    head = [s.replace("PO-4711", reference) for s in head]
    body = [segment for n in range(1, lines + 1)
            for segment in (f"LIN+{n}++{4000862100000 + n}:SRS", f"QTY+21:{n % 48 + 1}")]
    message = head + body + ["UNS+S"]
    unz = next(s for s in segments if s.startswith("UNZ+"))
    message += [f"UNT+{len(message) - start + 1}+1", unz]
    return _TERMINATOR.join(message) + _TERMINATOR
