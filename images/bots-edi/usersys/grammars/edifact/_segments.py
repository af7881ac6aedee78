"""Segment definitions both the envelope and the message grammars use.

A function, not a shared list: Bots normalises the field lists of a grammar in place when it reads it,
so each grammar needs its own copy.
"""


def unh():
    return [
        ["BOTSID", "M", 3, "A"],
        ["0062", "M", 14, "AN"],              # message reference number
        ["S009", "M", [
            ["S009.0065", "M", 6, "AN"],      # message type
            ["S009.0052", "M", 3, "AN"],      # version
            ["S009.0054", "M", 3, "AN"],      # release
            ["S009.0051", "M", 2, "AN"],      # controlling agency
            ["S009.0057", "C", 6, "AN"],      # association assigned code
        ]],
        ["0068", "C", 35, "AN"],
    ]
