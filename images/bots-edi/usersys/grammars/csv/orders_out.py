"""CSV orders for the order system: one HEA line per order, one LIN line per order line.

HEA,<order number>,<order date CCYYMMDD>,<buyer GLN>,<supplier GLN>,<interchange sender>,<interchange reference>
LIN,<line number>,<EAN>,<ordered quantity>
"""

from bots.botsconfig import *  # noqa: F403

syntax = {
    "field_sep": ",",
    "quote_char": '"',
    "forcequote": 0,     # quote only when needed
    "charset": "utf-8",
    "merge": False,      # one output file per order
    "record_sep": "\n",
}

structure = [
    {ID: "HEA", MIN: 1, MAX: 1, LEVEL: [
        {ID: "LIN", MIN: 1, MAX: 9999},
    ]},
]

recorddefs = {
    "HEA": [
        ["BOTSID", "M", 3, "A"],
        ["ORDERNUMBER", "M", 35, "A"],
        ["ORDERDATE", "C", 8, "A"],
        ["BUYER", "C", 35, "A"],
        ["SUPPLIER", "C", 35, "A"],
        ["SENDER", "C", 35, "A"],
        ["INTERCHANGE", "C", 14, "A"],
    ],
    "LIN": [
        ["BOTSID", "M", 3, "A"],
        ["LINENUMBER", "M", 6, "A"],
        ["EAN", "M", 35, "A"],
        ["QUANTITY", "M", 15, "R"],
    ],
}
