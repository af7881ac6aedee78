"""The site through the ingress: the checkout's CA, curl's settings, and clients that verify against the CA.

A real HTTPS server on 127.0.0.1 with a certificate the CA signs for the production name stands in for the
ingress controller: the clients must reach it by the name without DNS, and must refuse it without the CA.
"""
from __future__ import annotations

import datetime
import http.server
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edirunbook import addons, ingress, paths, versions
from edirunbook.app import RequestLoop
from edirunbook.environment import config

HOST = "bots-edi.pminc.me"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EDIRUNBOOK_STATE", str(tmp_path / "state"))
    return tmp_path / "state"


def test_the_ca_is_made_once_with_a_private_key_only_its_owner_reads(state: Path) -> None:
    cert_pem, key_pem = ingress.ensure_ca()
    cert_file, key_file = ingress.ca_files()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate(cert_pem)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > datetime.timedelta(days=3000)
    assert ingress.ensure_ca() == (cert_pem, key_pem)  # kept: curl's and the browser's trust stays valid


def test_curl_resolves_the_site_to_loopback_and_trusts_the_ca(state: Path) -> None:
    home = ingress.write_curlrc(config.load("kind"))
    rc = (home / ".curlrc").read_text()
    assert f'resolve = "{HOST}:18443:127.0.0.1"' in rc
    assert f'cacert = "{ingress.ca_files()[0]}"' in rc
    assert "insecure" not in rc and "-k" not in rc.split()


def _leaf(names: list[str], serial: int) -> tuple[bytes, bytes]:
    ca_cert = x509.load_pem_x509_certificate(ingress.ensure_ca()[0])
    ca_key = serialization.load_pem_private_key(ingress.ensure_ca()[1], password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = f"{self.path} for {self.headers['Host']}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(tmp_path: Path, names: list[str], serial: int) -> Iterator[int]:
    cert, key = _leaf(names, serial)
    (tmp_path / "leaf.crt").write_bytes(cert)
    (tmp_path / "leaf.key").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.crt", tmp_path / "leaf.key")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def ingress_port(state: Path, tmp_path: Path) -> Iterator[int]:
    yield from _serve(tmp_path, [HOST], 0x5E41)


def test_the_client_reaches_the_site_by_name_on_loopback_and_verifies_it(ingress_port: int) -> None:
    site = ingress.Site(HOST, ingress_port, ingress.ca_files()[0])
    with site.client(timeout=5) as http:
        response = http.get(site.url + "/health/ping")
    assert response.status_code == 200
    assert response.text == f"/health/ping for {HOST}:{ingress_port}"  # the name went as Host, not 127.0.0.1


def test_the_served_certificate_comes_from_the_handshake(ingress_port: int) -> None:
    cert = ingress.Site(HOST, ingress_port, ingress.ca_files()[0]).served_certificate()
    assert cert.serial_number == 0x5E41
    assert "serial 5e41" in ingress.describe(cert)
    assert "edirunbook test CA" in ingress.describe(cert)


def test_a_certificate_the_ca_did_not_sign_is_refused(ingress_port: int, tmp_path: Path) -> None:
    other = tmp_path / "other-ca.crt"
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone else")])
    now = datetime.datetime.now(datetime.UTC)
    other.write_bytes(x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                      .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                      .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    site = ingress.Site(HOST, ingress_port, other)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"), site.client(timeout=5) as http:
        http.get(site.url + "/")
    with pytest.raises(ssl.SSLCertVerificationError):
        site.served_certificate()


def test_a_certificate_for_another_name_is_refused(state: Path, tmp_path: Path) -> None:
    for port in _serve(tmp_path, ["other.example"], 7):
        site = ingress.Site(HOST, port, ingress.ca_files()[0])
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"), site.client(timeout=5) as http:
            http.get(site.url + "/")


def test_the_request_loop_goes_through_the_site(ingress_port: int) -> None:
    site = ingress.Site(HOST, ingress_port, ingress.ca_files()[0])
    loop = RequestLoop(site.url + "/health/ping", transport=site.transport(), interval=0.01, max_requests=5)
    loop.start()
    assert loop._thread is not None
    loop._thread.join(timeout=10)  # it ends by itself after max_requests
    assert loop.sent == 5 and not loop.failures and loop.failing_seconds == 0


def test_each_addon_pins_its_upstream_modules_and_has_its_manifests() -> None:
    for addon in addons.ADDONS:
        assert (addons.MANIFESTS / addon.name / "kustomization.yaml").is_file()
        manifests = "".join(p.read_text() for p in (addons.MANIFESTS / addon.name).glob("*.yaml"))
        for program in addon.programs:
            assert program.own_version or program.version.startswith("v"), program
        for image in addon.images:
            assert image in manifests, f"{addon.name}'s manifests do not name its image {image}"
        for file in addon.files:
            assert (paths.ENVIRONMENTS_DIR / file).is_file(), file
    assert {p.binary for p in addons.programs().values()} == {
        "traefik", "cert-manager", "metrics-server", "snapshot-controller", "csi-snapshotter", "csi-hostpath",
        "csi-provisioner", "csi-resizer", "velero", "gofakes3", "prometheus", "alert-receiver",
        "cmd"}


def test_monitoring_compiles_prometheus_with_kubernetes_discovery_and_takes_alertmanager_from_debian() -> None:
    monitoring = next(addon for addon in addons.ADDONS if addon.name == "monitoring")
    prometheus = addons.programs()["edirunbook/prometheus"]
    assert prometheus.build_tags == ("remove_all_sd", "enable_kubernetes_sd")
    assert prometheus.tool_binaries == ["promtool"] and not prometheus.command
    assert monitoring.version == prometheus.version == "v0.316.0"
    image = monitoring.debian_images[0]
    assert dict(image.packages) == {"ALERTMANAGER_DEB": versions.ALERTMANAGER_DEB}
    assert monitoring.images == ["edirunbook/alertmanager", "edirunbook/prometheus", "edirunbook/alert-receiver"]
    dockerfile = (paths.IMAGES_DIR / image.recipe / "Dockerfile").read_text()
    assert all(f"ARG {arg}" in dockerfile for arg, _ in image.packages)
    assert monitoring.files == ("base/monitoring/bots-edi-alerts.yml",)


def test_velero_carries_its_object_store_plugin_and_shows_its_version() -> None:
    velero = addons.programs()["edirunbook/velero"]
    assert velero.plugin_binaries == ["velero-plugin-for-aws"]
    assert velero.packages == [velero.package, *velero.plugins]
    assert velero.version == "v1.18.3" and velero.version_variable.endswith("/pkg/buildinfo.Version")
    assert velero.command, "velero is the operator's command too: linked beside kubectl"


def test_the_required_version_is_read_from_either_form_of_require(tmp_path: Path) -> None:
    single = tmp_path / "single.mod"
    single.write_text("module x\n\nrequire example.com/a v1.2.3\n")
    block = tmp_path / "block.mod"
    block.write_text("module x\n\nrequire (\n\texample.com/a v1.2.4\n\texample.com/ab v9.9.9 // indirect\n)\n")
    assert addons.required_version(single, "example.com/a") == "v1.2.3"
    assert addons.required_version(block, "example.com/a") == "v1.2.4"
    with pytest.raises(Exception, match="does not require example.com/b"):
        addons.required_version(block, "example.com/b")
