"""bots-webserver (bots.webserver.start, unchanged) with a graceful stop on SIGTERM.

3.3.1 stops cheroot cleanly only on KeyboardInterrupt; Kubernetes sends SIGTERM. Turning SIGTERM into
KeyboardInterrupt lets in-flight requests finish during a rolling update instead of being cut off.
"""

import signal
import sys

from bots import webserver


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    sys.argv[0] = "bots-webserver"
    webserver.start()


if __name__ == "__main__":
    main()
