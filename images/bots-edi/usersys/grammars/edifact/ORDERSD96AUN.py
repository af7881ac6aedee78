"""EDIFACT ORDERS D.96A, the subset the edirunbook sample route uses: order header, parties, lines.

UNH
  BGM  document name, order number, message function        1
  DTM  dates (137 = document date)                         1..35
  NAD  parties (BY buyer, SU supplier, DP delivery party)   0..99
  LIN  order line: line number + item number (EAN)        1..9999
    QTY  quantities (21 = ordered quantity)                1..99
  UNS  section control                                       1
  UNT  segment count + message reference                     1
"""

from bots.botsconfig import *  # noqa: F403

from ._segments import unh

structure = [
    {ID: "UNH", MIN: 1, MAX: 1, LEVEL: [
        {ID: "BGM", MIN: 1, MAX: 1,
         QUERIES: {"botskey": {"BOTSID": "BGM", "1004": None}}},
        {ID: "DTM", MIN: 1, MAX: 35},
        {ID: "NAD", MIN: 0, MAX: 99},
        {ID: "LIN", MIN: 1, MAX: 9999, LEVEL: [
            {ID: "QTY", MIN: 1, MAX: 99},
        ]},
        {ID: "UNS", MIN: 1, MAX: 1},
        {ID: "UNT", MIN: 1, MAX: 1},
    ]},
]

recorddefs = {
    "UNH": unh(),
    "BGM": [
        ["BOTSID", "M", 3, "A"],
        ["C002", "C", [
            ["C002.1001", "C", 3, "AN"],      # document name code, 220 = order
            ["C002.1131", "C", 3, "AN"],
            ["C002.3055", "C", 3, "AN"],
            ["C002.1000", "C", 35, "AN"],
        ]],
        ["1004", "M", 35, "AN"],              # order number
        ["1225", "C", 3, "AN"],               # message function, 9 = original
        ["4343", "C", 3, "AN"],
    ],
    "DTM": [
        ["BOTSID", "M", 3, "A"],
        ["C507", "M", [
            ["C507.2005", "M", 3, "AN"],      # qualifier
            ["C507.2380", "C", 35, "AN"],     # value
            ["C507.2379", "C", 3, "AN"],      # format, 102 = CCYYMMDD
        ]],
    ],
    "NAD": [
        ["BOTSID", "M", 3, "A"],
        ["3035", "M", 3, "AN"],               # party qualifier
        ["C082", "C", [
            ["C082.3039", "M", 35, "AN"],     # party identification (GLN)
            ["C082.1131", "C", 3, "AN"],
            ["C082.3055", "C", 3, "AN"],      # 9 = EAN
        ]],
    ],
    "LIN": [
        ["BOTSID", "M", 3, "A"],
        ["1082", "M", 6, "AN"],               # line number
        ["1229", "C", 3, "AN"],
        ["C212", "M", [
            ["C212.7140", "M", 35, "AN"],     # item number
            ["C212.7143", "C", 3, "AN"],      # SRS = EAN/GTIN
            ["C212.1131", "C", 3, "AN"],
            ["C212.3055", "C", 3, "AN"],
        ]],
    ],
    "QTY": [
        ["BOTSID", "M", 3, "A"],
        ["C186", "M", [
            ["C186.6063", "M", 3, "AN"],      # qualifier, 21 = ordered quantity
            ["C186.6060", "M", 15, "N"],      # quantity
            ["C186.6411", "C", 3, "AN"],      # unit
        ]],
    ],
    "UNS": [
        ["BOTSID", "M", 3, "A"],
        ["0081", "M", 1, "AN"],               # S = detail/summary separation
    ],
    "UNT": [
        ["BOTSID", "M", 3, "A"],
        ["0074", "M", 6, "N"],                # number of segments UNH..UNT
        ["0062", "M", 14, "AN"],              # same reference as in UNH
    ],
}
