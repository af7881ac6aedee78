"""Readiness of the job queue: its XML-RPC server answers and its launcher thread is alive.

`python -m botsedi.jobqueue_ready [port]` exits 0 when both hold, 1 otherwise (with the reason on stderr).
A listening port alone is not enough: a queue whose launcher died accepts jobs and never runs them.
"""

import socket
import sys
import xmlrpc.client


def main() -> int:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 28082
    socket.setdefaulttimeout(3)
    try:
        alive = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}", allow_none=True).ping()
    except (OSError, xmlrpc.client.Error) as exc:
        print(f"job queue not answering on 127.0.0.1:{port}: {exc}", file=sys.stderr)
        return 1
    if not alive:
        print("job queue answers, but its launcher is not running: queued jobs would never start", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
