"""The restart scenarios' request loop: a keep-alive connection the server closes unanswered is tried again once."""
from __future__ import annotations

import http.server
import re
import socket
import threading
from collections.abc import Iterator

import pytest

from edirunbook.app import RequestLoop
from edirunbook.waiting import Observation, wait_for

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.fixture()
def server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server: its first connection answers one request, then closes on the second unanswered (a
    stopping pod); every later connection answers once and closes. `seen` says what each connection did."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        first = True
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(OK)
                if first:
                    conn.recv(4096)  # the next request on the kept-alive connection: closed unanswered
                    seen.append("closed unanswered")
                    first = False
                else:
                    seen.append("answered")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/health/ping", seen
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_a_closed_keep_alive_connection_is_tried_again_once_and_only_a_second_failure_counts(
        server: tuple[str, list[str]]) -> None:
    url, seen = server
    loop = RequestLoop(url, interval=0.01, max_requests=4)
    loop.start()
    wait_for("4 requests sent", lambda: Observation(loop.sent >= 4, f"{loop.sent} sent"), timeout=10, interval=0.05)
    loop.stop()
    assert seen[0] == "closed unanswered"
    assert len(loop.retried) == 1 and "request 2" in loop.retried[0]
    assert loop.failures == [] and loop.sent == 4


def test_a_server_that_is_gone_is_a_failure() -> None:
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]
    loop = RequestLoop(f"http://127.0.0.1:{port}/", interval=0.01, max_requests=2)
    loop.start()
    wait_for("2 requests sent", lambda: Observation(loop.sent >= 2 and len(loop.failures) >= 2, f"{loop.sent} sent"),
             timeout=10, interval=0.05)
    loop.stop()
    assert len(loop.failures) == 2 and "ConnectError" in loop.failures[0] and loop.retried == []


def test_an_error_answer_is_a_failure_that_says_when_and_what_the_proxy_answered() -> None:
    class BadGateway(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = b"Bad Gateway"
            self.send_response(502)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), BadGateway) as proxy:
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        loop = RequestLoop(f"http://127.0.0.1:{proxy.server_address[1]}/health/ping", interval=0.01, max_requests=2)
        loop.start()
        wait_for("2 failures", lambda: Observation(len(loop.failures) >= 2, f"{loop.failures}"), timeout=10,
                 interval=0.05)
        loop.stop()
        proxy.shutdown()
    assert re.fullmatch(r"request 1 at \d+\.\ds: HTTP 502 'Bad Gateway'", loop.failures[0]), loop.failures[0]
    assert loop.failed_at[0] <= loop.failed_at[1]
