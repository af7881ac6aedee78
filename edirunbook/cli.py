"""Command line entry point: `edirunbook <command> ...` (the Makefile's targets call this).

Each command lives in its own module, which exposes `register(subparsers)`; the module
adds its parser and sets `func` to a callable taking the parsed arguments and returning
an exit code. Errors of the suite's own types are printed as one paragraph, no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from edirunbook.errors import RunbookSuiteError

COMMAND_MODULES = (
    "edirunbook.environment.commands",
    "edirunbook.coverage",
    "edirunbook.catalogue",
    "edirunbook.manifestlint",
    "edirunbook.cilint",
    "edirunbook.report.shard",
    "edirunbook.gate",
    "edirunbook.alertrules",
    "edirunbook.gameday.staging",
    "edirunbook.gameday.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edirunbook", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RunbookSuiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
