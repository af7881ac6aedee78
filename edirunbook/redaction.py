"""Secrets out of text: every secret, also as Python's repr or JSON would quote it, becomes `***`."""
from __future__ import annotations

import json
from collections.abc import Iterable

MASK = "***"


def quoted_forms(secrets: Iterable[str]) -> list[str]:
    """Each non-empty secret as written and as repr/ascii/JSON quote it, longest first (one may contain another)."""
    forms: set[str] = set()
    for secret in secrets:
        if secret and secret.strip():
            forms |= {secret, repr(secret)[1:-1], ascii(secret)[1:-1], json.dumps(secret)[1:-1],
                      json.dumps(secret, ensure_ascii=False)[1:-1]}
    return sorted(forms, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every form of every secret replaced by ***."""
    for form in quoted_forms(secrets):
        text = text.replace(form, MASK)
    return text
