"""The runbook's site, https://bots-edi.pminc.me, as this machine reaches it: through the cluster's ingress.

The ingress controller's HTTPS node port is mapped by kind to 127.0.0.1:<https_port> (env.yaml `ingress`). The
site's name is resolved to 127.0.0.1 only where the suite says so, never through DNS (the production name must
not reach the network): the suite's HTTP clients connect to the loopback port and send the name as TLS SNI and
Host (`Site.transport`), and the operator's curl reads `.state/curl/.curlrc` (CURL_HOME), which says
`resolve` and `cacert` as a person would on the command line. No client skips verification: each trusts the
CA this checkout makes (`.state/tls/ca.crt`), which signs the site's certificate through cert-manager's
ClusterIssuer `letsencrypt-prod` (a CA issuer here; production's name kept, so the base's Certificate is
applied unchanged).
"""
from __future__ import annotations

import datetime
import hashlib
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client

from edirunbook import cluster, paths
from edirunbook.environment.config import EnvConfig
from edirunbook.process import run, step

CA_SECRET = "edirunbook-ca"  # in cert-manager's cluster resource namespace, which the ClusterIssuer reads
ISSUER_NAMESPACE = "cert-manager"
ISSUER_MANIFEST = paths.ENVIRONMENTS_DIR / "kind" / "cluster-issuer.yaml"
CA_DAYS = 3650


def tls_dir() -> Path:
    return paths.state_dir() / "tls"


def ca_files() -> tuple[Path, Path]:
    return tls_dir() / "ca.crt", tls_dir() / "ca.key"


def ensure_ca() -> tuple[bytes, bytes]:
    """This checkout's CA (certificate, key in PEM), made once and kept across environments; the key is 0600."""
    cert_file, key_file = ca_files()
    if cert_file.exists() and key_file.exists():
        return cert_file.read_bytes(), key_file.read_bytes()
    tls_dir().mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    # the checkout's state directory named by a hash: a common name has at most 64 characters
    checkout = hashlib.sha256(str(paths.state_dir()).encode()).hexdigest()[:12]
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edirunbook"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"checkout {checkout}"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "edirunbook test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    cert_file.write_bytes(cert_pem)
    return cert_pem, key_pem


def install_issuer(api: client.ApiClient, kubeconfig: Path) -> None:
    """The CA as cert-manager's Secret, and the ClusterIssuer `letsencrypt-prod` signing with it."""
    cert_pem, key_pem = ensure_ca()
    core = client.CoreV1Api(api)
    body = client.V1Secret(metadata=client.V1ObjectMeta(name=CA_SECRET, labels={"app.kubernetes.io/part-of":
                                                                                  "edirunbook"}),
                           type="kubernetes.io/tls",
                           string_data={"tls.crt": cert_pem.decode(), "tls.key": key_pem.decode()})
    with step(f"installing this checkout's CA ({paths.shown(ca_files()[0])}) and ClusterIssuer letsencrypt-prod"):
        cluster.put_secret(core, ISSUER_NAMESPACE, body)
        run([str(paths.bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig), "apply", "-f",
             str(ISSUER_MANIFEST)], timeout=120)


def curl_home() -> Path:
    return paths.state_dir() / "curl"


def write_curlrc(config: EnvConfig) -> Path:
    """`.state/curl/.curlrc`: curl resolves the site's name to the loopback port and trusts the cluster's CA."""
    directory = curl_home()
    directory.mkdir(parents=True, exist_ok=True)
    rc = directory / ".curlrc"
    rc.write_text("# Written by edirunbook (edirunbook/ingress.py): the runbook's site on this machine's kind\n"
                  "# cluster. Use with CURL_HOME=<this directory>, or pass the same as --resolve and --cacert.\n"
                  f'resolve = "{config.ingress_host}:{config.https_port}:127.0.0.1"\n'
                  f'cacert = "{ca_files()[0]}"\n')
    return directory


@dataclass(frozen=True)
class Site:
    """https://<host>:<port> served on 127.0.0.1:<port>; clients verify its certificate against the CA file."""

    host: str
    port: int
    ca_file: Path

    @classmethod
    def of(cls, config: EnvConfig) -> Site:
        return cls(config.ingress_host, config.https_port, ca_files()[0])

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def transport(self) -> httpx.HTTPTransport:
        return LoopbackTransport(self.host, verify=self.ssl_context())

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(transport=self.transport(), **kwargs)

    def served_certificate(self, timeout: float = 5) -> x509.Certificate:
        """The leaf certificate the ingress presents for the site's name, read from a verified TLS handshake."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as raw, \
                self.ssl_context().wrap_socket(raw, server_hostname=self.host) as tls:
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        return x509.load_der_x509_certificate(der)


class LoopbackTransport(httpx.HTTPTransport):
    """Requests for `host` go to 127.0.0.1 (same port), with `host` as TLS SNI, verified name and Host header."""

    def __init__(self, host: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host = host

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == self.host:
            request.url = request.url.copy_with(host="127.0.0.1")
            request.extensions = {**request.extensions, "sni_hostname": self.host}
        return super().handle_request(request)


def describe(cert: x509.Certificate) -> str:
    """Serial, validity, subject and issuer on one line, for reports."""
    return (f"serial {cert.serial_number:x}, notBefore {cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}, notAfter "
            f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}, subject {cert.subject.rfc4514_string()}, issuer "
            f"{cert.issuer.rfc4514_string()}")
