"""Envelope grammar for incoming EDIFACT interchanges, syntax version 3: UNB, UNH ... UNT, UNZ.

Each UNH starts a message whose grammar Bots finds from the UNH message identifier
(S009: type + version + release + agency + association code, e.g. ORDERS:D:96A:UN -> ORDERSD96AUN).
"""

from bots.botsconfig import *  # noqa: F403  (ID, MIN, MAX, LEVEL, QUERIES, SUBTRANSLATION)

from ._segments import unh

syntax = {
    "version": "3",
    "charset": "UNOA",
}

nextmessage = ({"BOTSID": "UNB"}, {"BOTSID": "UNH"})

structure = [
    {ID: "UNB", MIN: 1, MAX: 1,
     QUERIES: {
         "frompartner": {"BOTSID": "UNB", "S002.0004": None},
         "topartner": {"BOTSID": "UNB", "S003.0010": None},
         "reference": {"BOTSID": "UNB", "0020": None},
         "testindicator": {"BOTSID": "UNB", "0035": None},
     },
     LEVEL: [
         {ID: "UNH", MIN: 1, MAX: 99999,
          SUBTRANSLATION: [
              {"BOTSID": "UNH", "S009.0065": None},
              {"BOTSID": "UNH", "S009.0052": None},
              {"BOTSID": "UNH", "S009.0054": None},
              {"BOTSID": "UNH", "S009.0051": None},
              {"BOTSID": "UNH", "S009.0057": None},
          ]},
         {ID: "UNZ", MIN: 1, MAX: 1},
     ]},
]

recorddefs = {
    "UNB": [
        ["BOTSID", "M", 3, "A"],
        ["S001", "M", [
            ["S001.0001", "M", 4, "A"],       # syntax identifier, e.g. UNOA
            ["S001.0002", "M", 1, "AN"],      # syntax version number
        ]],
        ["S002", "M", [
            ["S002.0004", "M", 35, "AN"],     # interchange sender
            ["S002.0007", "C", 4, "AN"],      # partner identification code qualifier
            ["S002.0008", "C", 14, "AN"],
        ]],
        ["S003", "M", [
            ["S003.0010", "M", 35, "AN"],     # interchange recipient
            ["S003.0007", "C", 4, "AN"],
            ["S003.0014", "C", 14, "AN"],
        ]],
        ["S004", "M", [
            ["S004.0017", "M", (6, 6), "AN"],  # date YYMMDD
            ["S004.0019", "M", (4, 4), "AN"],  # time HHMM
        ]],
        ["0020", "M", 14, "AN"],              # interchange control reference
        ["S005", "C", [
            ["S005.0022", "M", 14, "AN"],
            ["S005.0025", "C", 2, "AN"],
        ]],
        ["0026", "C", 14, "AN"],              # application reference
        ["0029", "C", 1, "AN"],               # processing priority code
        ["0031", "C", 1, "AN"],               # acknowledgement request
        ["0032", "C", 35, "AN"],              # communications agreement identification
        ["0035", "C", 1, "AN"],               # test indicator
    ],
    "UNH": unh(),
    "UNZ": [
        ["BOTSID", "M", 3, "A"],
        ["0036", "M", 6, "N"],                # interchange control count (number of messages)
        ["0020", "M", 14, "AN"],              # same reference as in UNB
    ],
}
