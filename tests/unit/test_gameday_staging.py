"""The staging harness's pure parts: the cluster config, the pod network, the overlay, the volumes, the secrets."""
from __future__ import annotations

import io
import ipaddress
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from edirunbook import paths
from edirunbook.errors import EnvironmentNotReady
from edirunbook.gameday import staging
from edirunbook.gameday.staging import Credentials, Layout, Script

SOURCE = staging.SOURCE


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path / "state" / "staging")


def rendered_config(layout: Layout) -> dict[str, Any]:
    text = staging.cluster_config((SOURCE / "cluster.yaml").read_text(), layout)
    assert "${" not in text
    return dict(yaml.safe_load(text))


def test_cluster_config_has_two_nodes_on_loopback_with_staging_ranges_and_no_host_ports(layout: Layout) -> None:
    config = rendered_config(layout)
    assert [node["role"] for node in config["nodes"]] == ["control-plane", "worker"]
    assert config["networking"] == {"apiServerAddress": "127.0.0.1", "podSubnet": staging.POD_SUBNET,
                                    "serviceSubnet": staging.SERVICE_SUBNET}
    assert all("extraPortMappings" not in node for node in config["nodes"])
    assert ipaddress.ip_address(staging.API_SERVICE_IP) == next(ipaddress.ip_network(staging.SERVICE_SUBNET).hosts())


def test_cluster_config_carries_the_suite_clusters_machine_patches(layout: Layout) -> None:
    """restrict_oom_score_adj, failCgroupV1: false, evictionHard, conntrack maxPerCore 0, as environments/kind; not
    the suite's 10-second volume statistics (they hurry its volume alert): staging's kubelet keeps the default
    minute, as production's does. Nor the suite's lighter control plane (no leader election, readiness probes every
    10 s): staging's is kubeadm's, as a team's would be."""
    config = rendered_config(layout)
    suite = yaml.safe_load((paths.ENVIRONMENTS_DIR / "kind" / "cluster.yaml").read_text())
    assert config["containerdConfigPatches"] == suite["containerdConfigPatches"]
    assert "restrict_oom_score_adj = true" in config["containerdConfigPatches"][0]
    patches = [yaml.safe_load(patch) for patch in config["kubeadmConfigPatches"]]
    suite_patches = [patch for patch in map(yaml.safe_load, suite["kubeadmConfigPatches"])
                     if patch["kind"] in ("KubeletConfiguration", "KubeProxyConfiguration")]
    assert suite_patches[0].pop("volumeStatsAggPeriod") == "10s"
    assert patches == suite_patches
    kubelet, proxy = patches
    assert kubelet["failCgroupV1"] is False and kubelet["evictionHard"]["memory.available"] == "100Mi"
    assert proxy["conntrack"]["maxPerCore"] == 0


def test_every_node_mounts_its_own_pod_network_and_the_shared_volumes_from_absolute_host_paths(layout: Layout) -> None:
    config = rendered_config(layout)
    for node, name in zip(config["nodes"], (staging.CONTROL_PLANE, staging.WORKER), strict=True):
        mounts = {mount["containerPath"]: mount["hostPath"] for mount in node["extraMounts"]}
        assert all(Path(host).is_absolute() for host in mounts.values())
        assert mounts["/etc/cni/net.d/10-edirunbook-bridge.conflist"] == str(layout.conflist(name).resolve())
        assert mounts["/var/lib/bots-staging/data"] == str(layout.data_volume.resolve())
        assert mounts["/var/lib/bots-staging/backup"] == str(layout.backup_volume.resolve())


def test_each_node_gets_its_own_pod_range_inside_the_pod_subnet_without_masquerading_between_pods() -> None:
    subnet = ipaddress.IPv4Network(staging.POD_SUBNET)
    ranges = [ipaddress.IPv4Network(r) for r in staging.POD_RANGES.values()]
    assert all(r.subnet_of(subnet) for r in ranges) and not ranges[0].overlaps(ranges[1])
    bridge = json.loads(staging.conflist("10.245.1.0/24"))["plugins"][0]
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.245.1.0/24"}]]
    assert bridge["ipMasq"] is False


def test_the_pod_network_routes_each_nodes_range_to_it_and_masquerades_only_what_leaves_the_pods() -> None:
    ips = {staging.CONTROL_PLANE: "172.18.0.2", staging.WORKER: "172.18.0.3"}
    shown = [" ".join(c) for c in staging.pod_network_commands(ips)]
    assert f"docker exec {staging.CONTROL_PLANE} ip route replace 10.245.1.0/24 via 172.18.0.3" in shown
    assert f"docker exec {staging.WORKER} ip route replace 10.245.0.0/24 via 172.18.0.2" in shown
    masquerade = [c for c in shown if "MASQUERADE" in c]
    assert len(masquerade) == 2
    assert all(f"-s {staging.POD_SUBNET} ! -d {staging.POD_SUBNET}" in c for c in masquerade)


def test_the_generated_overlay_points_back_at_the_checked_in_one_and_sets_the_loaded_image(layout: Layout) -> None:
    at = layout.app_overlay
    at.mkdir(parents=True)
    data = json.loads(staging.overlay(SOURCE, at, [(staging.APP_IMAGE_NAME, "edirunbook/target-reference:26be56")]))
    assert (at / data["resources"][0]).resolve() == SOURCE.resolve()
    assert data["images"] == [{"name": "harbor.pminc.me/priv/bots-edi", "newName": "edirunbook/target-reference",
                               "newTag": "26be56"}]


def _kustomize(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize` with the pinned kubectl (built into the cache when it is not there yet)."""
    from edirunbook import gobuild
    from edirunbook.process import run

    kubectl = gobuild.tools_path() / "kubectl"
    return [doc for doc in yaml.safe_load_all(run([str(kubectl), "kustomize", str(directory)]).stdout) if doc]


def test_the_staging_overlay_is_the_base_without_its_certificate_and_with_the_loaded_image(layout: Layout) -> None:
    at = layout.app_overlay
    at.mkdir(parents=True)
    ref = "edirunbook/target-reference:0123456789ab"
    (at / "kustomization.yaml").write_text(staging.overlay(SOURCE, at, [(staging.APP_IMAGE_NAME, ref)]))
    rendered = _kustomize(at)
    base = [doc for doc in _kustomize(paths.ENVIRONMENTS_DIR / "base") if doc["kind"] != "Certificate"]
    assert "Certificate" in {doc["kind"] for doc in _kustomize(paths.ENVIRONMENTS_DIR / "base")}
    images = {line.split("image:")[1].strip() for line in yaml.safe_dump_all(rendered).splitlines()
              if "image:" in line}
    assert images == {ref}
    # nothing else changed: the same objects with the base's image where the overlay has the loaded one
    as_base = yaml.safe_load_all(yaml.safe_dump_all(rendered).replace(ref, "harbor.pminc.me/priv/bots-edi:latest"))
    assert list(as_base) == base


def test_every_claim_of_the_base_has_a_shared_volume_bound_to_it_by_claim_ref() -> None:
    claims = {doc["metadata"]["name"]: doc for name in ("pvc.yaml", "backup-pvc.yaml")
              for doc in [yaml.safe_load((paths.ENVIRONMENTS_DIR / "base" / name).read_text())]}
    volumes = [doc for doc in yaml.safe_load_all((SOURCE / "volumes.yaml").read_text()) if doc]
    mounted = {m["containerPath"] for node in yaml.safe_load((SOURCE / "cluster.yaml").read_text())["nodes"]
               for m in node["extraMounts"]}
    assert {v["spec"]["claimRef"]["name"] for v in volumes} == set(claims)
    for volume in volumes:
        spec = volume["spec"]
        claim = claims[spec["claimRef"]["name"]]["spec"]
        assert spec["claimRef"]["namespace"] == staging.NAMESPACE
        assert spec["accessModes"] == claim["accessModes"]
        assert _gib(spec["capacity"]["storage"]) >= _gib(claim["resources"]["requests"]["storage"])
        assert spec["storageClassName"] == "standard"  # what the default class gives the classless claims
        assert "nodeAffinity" not in spec  # a pod that uses it may run on either node
        assert spec["hostPath"]["path"] in mounted


def _gib(quantity: str) -> int:
    return int(quantity.removesuffix("Gi"))


def test_credentials_are_new_every_time_and_give_the_secret_the_example_files_keys() -> None:
    first, second = Credentials.generate(), Credentials.generate()
    assert set(first.secrets).isdisjoint(second.secrets)
    example = (paths.ENVIRONMENTS_DIR / "kind" / "secret.env.example").read_text()
    keys = [line.split("=")[0] for line in example.splitlines() if line and not line.startswith("#")]
    secret = dict(line.split("=", 1) for line in first.secret_env().splitlines())
    mysql = dict(line.split("=", 1) for line in first.mysql_env().splitlines())
    assert list(secret) == keys
    assert secret["DB_HOST"] == staging.DATABASE
    assert mysql["MYSQL_PASSWORD"] == secret["DB_PASSWORD"] and mysql["MYSQL_USER"] == secret["DB_USER"]
    assert mysql["MYSQL_DATABASE"] == secret["DB_NAME"]
    assert not any(value in repr(first) for value in first.secrets)


def test_secret_files_are_private_and_read_back_for_redaction(tmp_path: Path) -> None:
    credentials = Credentials.generate()
    file = tmp_path / "secret.env"
    file.write_text("old")
    file.chmod(0o644)
    staging.write_private(file, credentials.secret_env())
    staging.write_private(tmp_path / "mysql.env", credentials.mysql_env())
    assert file.stat().st_mode & 0o777 == 0o600
    found = staging.read_secrets(file, tmp_path / "mysql.env", tmp_path / "missing.env")
    assert set(found) == set(credentials.secrets)
    assert staging.DATABASE not in found and staging.DB_USER not in found


def _script(secret: str) -> tuple[Script, io.StringIO]:
    out = io.StringIO()
    return Script(env={"PATH": os.environ.get("PATH", "")}, secrets=[secret], out=out), out


def test_printed_commands_and_their_output_show_secrets_as_stars() -> None:
    secret = Credentials.generate().db_password
    script, out = _script(secret)
    script.run("echo", f"--password={secret}")
    script.shell(f"echo {secret} | tr a-z A-Z >/dev/null; echo password={secret}")
    script.say(f"about {secret}")
    printed = out.getvalue()
    assert secret not in printed
    assert "$ echo '--password=***'" in printed and "--password=***" in printed.splitlines()
    assert "password=***" in printed.splitlines() and "# about ***" in printed


def test_a_failing_command_is_one_redacted_error() -> None:
    secret = Credentials.generate().root_password
    script, out = _script(secret)
    with pytest.raises(EnvironmentNotReady) as raised:
        script.run("sh", "-c", f"echo denied for {secret} >&2; exit 3")
    message = str(raised.value)
    assert secret not in message and secret not in out.getvalue()
    assert "exit 3" in message and "denied for ***" in message


def test_a_command_that_is_not_installed_says_so() -> None:
    script, _ = _script("unused-secret-value")
    with pytest.raises(Exception, match="not installed"):
        script.run("no-such-command-bots-staging")
