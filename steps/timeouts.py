"""Durations as features write them: 90s, 3m, 1h."""
import re

_UNITS = {"s": 1, "m": 60, "h": 3600}


def seconds(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh])\s*", text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (write e.g. 90s, 3m, 1h)")
    return float(match.group(1)) * _UNITS[match.group(2)]
