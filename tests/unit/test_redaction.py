"""Secrets out of text: every secret, as written and as repr/ascii/JSON quote it, becomes ***."""
from __future__ import annotations

import json

from edirunbook.redaction import quoted_forms, redact


def test_longer_secrets_are_replaced_first() -> None:
    assert redact("a pw-long b pw c", ["pw", "pw-long"]) == "a *** b *** c"
    assert redact("a pw-long b pw c", ["pw-long", "pw"]) == "a *** b *** c"
    forms = quoted_forms(["pw", "pw-long"])
    assert forms == sorted(forms, key=len, reverse=True)
    assert forms[0] == "pw-long"


def test_empty_and_blank_secrets_are_ignored() -> None:
    assert redact("nothing here", ["", "pw"]) == "nothing here"
    assert redact("a b  c", ["", " ", "  "]) == "a b  c"
    assert quoted_forms(["", "   "]) == []


def test_json_quoted_secrets_are_replaced() -> None:
    secret = 'pa"ss\\wörd'
    assert redact(json.dumps({"password": secret}), [secret]) == '{"password": "***"}'
    assert redact(json.dumps({"password": secret}, ensure_ascii=False), [secret]) == '{"password": "***"}'


def test_repr_quoted_secrets_are_replaced() -> None:
    secret = "it's\\secret\n"
    assert redact(repr({"password": secret}), [secret]) == "{'password': \"***\"}"
    assert redact(str(["pw\\x"]), ["pw\\x"]) == "['***']"
    assert redact(ascii("grüße"), ["grüße"]) == "'***'"


def test_text_without_secrets_is_unchanged() -> None:
    assert redact("MYSQL_USER=bots", ["root-pw", "app-pw"]) == "MYSQL_USER=bots"
