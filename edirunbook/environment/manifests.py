"""The manifests a target is deployed with on an environment, rendered by kustomize.

The suite writes a kustomization under .state/render/<env>-<target>/ that takes the target's own kustomize
directory as its resource, adds the environment's component (environments/<env>/kustomization.yaml: storage,
the NodePort, never-pull) and the target's test overlay, and maps the target's image names to the image
loaded into the cluster. kustomize only accepts relative paths, so they are written relative to that folder.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from edirunbook import paths
from edirunbook.environment.config import EnvConfig
from edirunbook.errors import CommandFailed, ConfigError
from edirunbook.process import run
from edirunbook.target import Target

# The name the target's image has in the cluster (`kind load` gives it both this name and its content-hashed ref).
CLUSTER_IMAGE = "edirunbook/bots-edi:local"


def render_dir(env: EnvConfig, target: Target) -> Path:
    """The kustomization that layers the environment and the target's test overlay on the target's manifests."""
    directory = paths.state_dir() / "render" / f"{env.name}-{target.name}"
    directory.mkdir(parents=True, exist_ok=True)
    name, _, tag = CLUSTER_IMAGE.partition(":")
    components = [env.directory] + ([target.test_overlay] if target.test_overlay else [])
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": env.namespace,
        "resources": [_relative(target.manifests, directory)],
        "components": [_relative(c, directory) for c in components],
        "images": [{"name": image, "newName": name, "newTag": tag} for image in target.image_names],
    }
    text = ("# Written by the suite (edirunbook/environment/manifests.py) for every deploy: do not edit.\n"
            + yaml.safe_dump(kustomization, sort_keys=False))
    file = directory / "kustomization.yaml"
    if not file.exists() or file.read_text() != text:
        file.write_text(text)
    return directory


def render(env: EnvConfig, target: Target, image: str | None = None) -> str:
    """The manifests as applied: kustomize over render_dir, with the cluster image's content-hashed ref."""
    kubectl = paths.bin_dir() / "kubectl"
    try:
        text = run([str(kubectl), "kustomize", str(render_dir(env, target))]).stdout
    except CommandFailed as error:
        raise ConfigError(f"kustomize cannot render target {target.name!r} ({target.manifests_shown()}) on "
                          f"environments/{env.name}:\n{error}") from None
    return text.replace(CLUSTER_IMAGE, image) if image else text


def render_target_only(target: Target) -> str:
    """The target's own manifests, as its kustomize directory renders them: what the team ships, before this
    environment or the test overlay change anything (what a check of the manifests as shipped reads)."""
    try:
        return run([str(paths.bin_dir() / "kubectl"), "kustomize", str(target.manifests)]).stdout
    except CommandFailed as error:
        raise ConfigError(f"kustomize cannot render {target.manifests_shown()} of target {target.name!r}:\n"
                          f"{error}") from None


def _relative(path: Path, start: Path) -> str:
    return os.path.relpath(path.resolve(), start.resolve())
