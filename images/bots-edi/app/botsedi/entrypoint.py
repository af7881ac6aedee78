"""Container entrypoint: `webserver`, `engine [args]`, `jobqueueserver`, `init-db`, or any command to exec.

Runs under tini (PID 1), which forwards SIGTERM to the process exec'd here. Before starting a component it
lays out the environment (botsedi.config.prepare); the component then replaces this process.
"""

import os
import subprocess
import sys

from botsedi import paths
from botsedi.config import PrepareError, prepare

USAGE = """usage: entrypoint COMPONENT [ARGS...]
  webserver          run init-db (unless BOTS_SKIP_DB_INIT=true), then bots-webserver on port 8080
  engine [ARGS]      bots-engine (e.g. `engine --new`)
  jobqueueserver     bots-jobqueueserver (with this image's fix: queued jobs really run)
  init-db            create or repair the Bots schema on the database, idempotently
  anything else      exec'd as given (e.g. bash, python manage.py ...)"""


def _log(message: str) -> None:
    print("entrypoint: " + message, file=sys.stderr, flush=True)


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


REQUIRED_ENV = ("DB_NAME", "DB_USER", "DB_PASSWORD", "DB_HOST", "DJANGO_SECRET_KEY")


def _missing_env() -> list:
    return [name for name in REQUIRED_ENV if not os.environ.get(name)]


def _exec(argv: list) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        _log(f"command not found: {argv[0]}\n{USAGE}")
        sys.exit(127)


def main(argv: list) -> None:
    component = argv[0] if argv else "webserver"
    args = argv[1:]
    if component in ("-h", "--help", "help"):
        print(USAGE)
        return
    known = component in ("webserver", "engine", "jobqueueserver", "init-db")
    if known and _missing_env():
        _log(f"{component}: environment variable(s) {', '.join(_missing_env())} not set. Provide DB_NAME, "
             "DB_USER, DB_PASSWORD, DB_HOST, DB_PORT and DJANGO_SECRET_KEY (in Kubernetes: envFrom the Secret "
             "bots-edidb-secret).")
        sys.exit(1)
    try:
        _log(prepare())
    except PrepareError as exc:
        if known:
            _log(str(exc))
            sys.exit(1)
        _log("warning: " + str(exc))  # a debugging shell should still start
    configarg = "-c" + paths.CONFIG_DIR
    if component == "webserver":
        if not _truthy("BOTS_SKIP_DB_INIT"):
            result = subprocess.run([sys.executable, "-m", "botsedi.initdb"])
            if result.returncode:
                _log(f"init-db failed (exit {result.returncode}); not starting the webserver")
                sys.exit(result.returncode)
        _exec([sys.executable, "-m", "botsedi.webserver", configarg] + args)
    elif component == "engine":
        _exec(["bots-engine", configarg] + args)
    elif component == "jobqueueserver":
        _exec(["bots-jobqueueserver", configarg] + args)
    elif component == "init-db":
        _exec([sys.executable, "-m", "botsedi.initdb"] + args)
    else:
        _exec([component] + args)


if __name__ == "__main__":
    main(sys.argv[1:])
