"""The kube-network-policies add-on: NetworkPolicy enforcement on kind, where the node's bridge CNI enforces none.

Its declaration, recipe and manifests agree: the pinned upstream module, the one main package it compiles (patched to
queue with the xtables NFQUEUE target), and a privileged enforcer on the node's network with only the read access it
needs and the AdminNetworkPolicy APIs off.
"""
from __future__ import annotations

from typing import Any

import yaml

from edirunbook import addons

MODULE = "sigs.k8s.io/kube-network-policies"


def _addon() -> addons.Addon:
    return next(addon for addon in addons.ADDONS if addon.name == "kube-network-policies")


def _objects() -> dict[str, dict[str, Any]]:
    directory = addons.MANIFESTS / "kube-network-policies"
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    found = [doc for name in kustomization["resources"]
             for doc in yaml.safe_load_all((directory / name).read_text()) if doc]
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc for doc in found}


def test_the_enforcer_is_upstreams_main_at_the_pinned_release() -> None:
    addon = _addon()
    (program,) = addon.programs
    assert (addon.namespace, addon.deployments) == ("kube-system", ("kube-network-policies",))
    assert program.module == MODULE and program.package == f"{MODULE}/cmd" and program.binary == "cmd"
    assert addon.version == "v0.8.0", "the pin and its reason are in images/addons/README.md"
    assert "replace" not in (program.recipe_dir / "go.mod").read_text()
    assert f'import _ "{MODULE}/cmd"' in (program.recipe_dir / "tools.go").read_text()
    assert not addon.crds and not addon.debian_images


def test_its_patch_queues_with_the_xtables_target_and_adds_lines_only() -> None:
    (program,) = _addon().programs
    (patch,) = addons.patches(program)
    text = patch.read_text()
    assert "nft_queue" in text.split("diff --git")[0], "the patch starts with what it fixes"
    removed = [line for line in text.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert not removed, "zero-context and add-only: no upstream text in the repository"
    assert '+\treturn &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &info}' in text
    assert text.count("+\tqueue := xtQueue(") == 2, "both chains: postrouting and the DNS prerouting"


def test_it_runs_privileged_on_the_nodes_network_with_admin_network_policies_off() -> None:
    objects = _objects()
    deployment = objects["Deployment/kube-network-policies"]
    assert deployment["metadata"]["namespace"] == "kube-system"
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}, "two enforcers must never share the queue"
    pod = deployment["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["serviceAccountName"] == "kube-network-policies"
    (container,) = pod["containers"]
    assert container["image"].split(":")[0] == "edirunbook/kube-network-policies"
    assert container["imagePullPolicy"] == "Never" and container["securityContext"]["privileged"] is True
    assert {"--admin-network-policy=false", "--baseline-admin-network-policy=false"} <= set(container["args"])


def test_its_role_reads_policies_pods_and_namespaces_only() -> None:
    objects = _objects()
    role = objects["ClusterRole/edirunbook-kube-network-policies"]
    granted = {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
               for resource in rule["resources"] for verb in rule["verbs"]}
    assert granted == {(group, resource, verb) for group, resource in
                       [("", "pods"), ("", "namespaces"), ("networking.k8s.io", "networkpolicies")]
                       for verb in ("list", "watch")}
    binding = objects["ClusterRoleBinding/edirunbook-kube-network-policies"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kube-network-policies",
                                    "namespace": "kube-system"}]
    assert "ServiceAccount/kube-network-policies" in objects
