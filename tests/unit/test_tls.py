"""The TLS contexts built once per process (edirunbook/tls.py, database._Connection)."""
from __future__ import annotations

import ssl

import httpx

from edirunbook import tls


def test_httpx_default_is_built_once_and_verifies_as_httpxs_own() -> None:
    shared = tls.httpx_default()
    assert shared is tls.httpx_default()
    own = httpx.create_ssl_context()
    assert (shared.verify_mode, shared.check_hostname) == (own.verify_mode, own.check_hostname) \
        == (ssl.CERT_REQUIRED, True)
    assert shared.cert_store_stats() == own.cert_store_stats() and shared.cert_store_stats()["x509_ca"] > 0
