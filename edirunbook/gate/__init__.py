"""`edirunbook gate <command>`: the release gate's commands, one module each beside this file.

Each module in GATE_MODULES exposes `register(subparsers)`, adding its parser to the `gate` group and setting
`func` (as the top-level commands do, see cli.py).
"""
from __future__ import annotations

import argparse
import importlib

GATE_MODULES = ("edirunbook.gate.run", "edirunbook.gate.merge")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("gate", help="the release gate: run it on a target, merge sharded reports",
                                   description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="gate_command", required=True)
    for name in GATE_MODULES:
        importlib.import_module(name).register(commands)
