"""Durations as people write them, in features and tags: `90s`, `15m`, `1h`, `1h30m`, `2.5m`; and back."""
from __future__ import annotations

import re

from edirunbook.errors import DurationError

_DURATION = re.compile(r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?")
HELP = "write it like 30s, 15m, 1h, 1h30m"


def parse_duration(text: str, hint: str = HELP) -> float:
    """Seconds in `30s`, `15m`, `1h`, `1h30m` or `2.5m`; DurationError (ending with `hint`) for anything else."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise DurationError(f"{text!r} is not a duration: {hint}")
    seconds = sum(float(match[unit] or 0) * factor for unit, factor in (("h", 3600), ("m", 60), ("s", 1)))
    if seconds <= 0:
        raise DurationError(f"{text!r} is a zero duration: it must be longer than that; {hint}")
    return seconds


def format_duration(seconds: float) -> str:
    """Short and exact enough for a table: 850ms, 12.3s, 3m12s, 1h02m."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
