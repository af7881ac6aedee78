"""TLS contexts the suite builds once per process instead of once per request.

`ssl.create_default_context()` loads a CA bundle: about 57 ms of CPU here each time. httpx builds one for every
`httpx.get()` and every `httpx.Client()` without a transport, even for a plain-HTTP URL (its transport is made before
the URL is known). The suite polls the webserver with a new client per request (a fresh connection each poll, so a
restarted pod is seen as it is), hundreds of times a lane: py-spy on a lane's pytest under `make verify` found these
contexts 6 % of its CPU (PyMySQL's, built the same way per connection, another 23 %: database._Connection). A context
serves any number of sockets and threads, so one is enough; what it verifies is httpx's default, unchanged.
"""
from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def httpx_default() -> ssl.SSLContext:
    """httpx's default context (certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR), built once: pass as `verify=`."""
    return httpx.create_ssl_context()
