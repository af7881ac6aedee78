#!/usr/bin/env python
"""Django's manage.py for Bots EDI (bots-ediint ships none): migrate, showmigrations, dumpdata,
loaddata, dbshell, createsuperuser ... against the database of $BOTSENV.

Run it from the image's working directory exactly as the runbook does:
    python manage.py dumpdata --exclude auth.permission --exclude contenttypes > backup.json
    python manage.py loaddata < backup.json
`loaddata` without a fixture name and with data on standard input reads that input as JSON
(Django itself wants `loaddata --format=json -`).
"""

import os
import sys

# options of `loaddata` that take a value (everything else starting with "-" is a flag)
_LOADDATA_VALUE_OPTIONS = {"--database", "--app", "--format", "-e", "--exclude", "-v", "--verbosity",
                           "--settings", "--pythonpath"}


def _loaddata_reads_stdin(args: list) -> bool:
    positional = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _LOADDATA_VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-") or arg == "-":
            positional.append(arg)
    return not positional and not sys.stdin.isatty()


def main() -> None:
    from bots import botsinit
    from botsedi import paths
    from botsedi.config import prepare

    if not os.path.isfile(os.path.join(paths.CONFIG_DIR, "settings.py")):
        prepare()
    argv = list(sys.argv)
    if len(argv) >= 2 and argv[1] == "loaddata" and _loaddata_reads_stdin(argv[2:]):
        if not any(a == "--format" or a.startswith("--format=") for a in argv):
            argv.append("--format=json")
        argv.append("-")
    botsinit.generalinit(paths.CONFIG_DIR)
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
