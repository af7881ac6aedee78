"""Build a kind node image here, from Go module sources and Debian packages, without any registry.

Pieces, each cached by the hash of its inputs:
- Go binaries (Kubernetes, etcd, CoreDNS, pause, crictl) compiled by gobuild.py;
- the control-plane images kubeadm expects (registry.k8s.io/... tags), built FROM scratch (kube-proxy on
  Debian, for iptables) and saved to one tar;
- kind's base image (images/kind-node/base) with kind's own node files taken from the pinned
  sigs.k8s.io/kind module at build time;
- the node image: binaries + /kind files on the base, then the control-plane images imported into
  containerd's k8s.io namespace (unpacked lazily, as kind does), committed as edirunbook/kind-node.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from edirunbook import images, paths, versions
from edirunbook.docker.daemon import Docker
from edirunbook.errors import BuildError, CommandFailed
from edirunbook.gobuild import crictl_binary, kind_module_dir, kubernetes_binaries, small_binary
from edirunbook.images import scratch_image
from edirunbook.process import step

RECIPES = paths.IMAGES_DIR / "kind-node"
REGISTRY = "registry.k8s.io"


def control_plane_images(docker: Docker, base: str) -> tuple[list[str], str]:
    """Build the images kubeadm pulls; returns their refs and a key for the set."""
    kube = kubernetes_binaries()
    refs: list[str] = []
    keys = [kube.key]
    with step("building control-plane images (kube-*, etcd, coredns, pause)"):
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            ref = f"{REGISTRY}/{name}:{versions.KUBERNETES}"
            scratch_image(docker, kube / name, kube.key, ref)
            refs.append(ref)
        proxy_ref = f"{REGISTRY}/kube-proxy:{versions.KUBERNETES}"
        cached = f"edirunbook/kube-proxy:{images.content_hash(RECIPES / 'kube-proxy', kube.key, base)}"
        with paths.cache_lock(cached):
            if not images.exists(docker, cached):
                with tempfile.TemporaryDirectory() as tmp:
                    shutil.copy2(RECIPES / "kube-proxy" / "Dockerfile", Path(tmp) / "Dockerfile")
                    shutil.copy2(kube / "kube-proxy", Path(tmp) / "kube-proxy")
                    images.docker_build(docker, Path(tmp), cached, build_args={"BASE_IMAGE": base}, name="kube-proxy")
        images.tag(docker, cached, proxy_ref)
        refs.append(proxy_ref)
        for name, ref in small_components().items():
            out = small_binary(name)
            scratch_image(docker, out / name, out.key, ref)
            refs.append(ref)
            keys.append(out.key)
    return refs, images.content_hash(*keys, base, *refs)


def small_components() -> dict[str, str]:
    """The control-plane images compiled from images/kind-node/<name>: {name: the ref kubeadm pulls}."""
    return {"etcd": f"{REGISTRY}/etcd:{versions.ETCD_IMAGE_TAG}",
            "coredns": f"{REGISTRY}/coredns/coredns:{versions.COREDNS}", "pause": pause_ref()}


def pause_ref() -> str:
    return f"{REGISTRY}/pause:{versions.PAUSE}"


def kind_base(docker: Docker, base: str) -> str:
    recipe = RECIPES / "base"
    kind_files = kind_module_dir() / "images" / "base" / "files"
    ref = f"edirunbook/kind-base:{images.content_hash(recipe, kind_files, base, versions.KIND)}"
    with paths.cache_lock(ref):
        if images.exists(docker, ref):
            return ref
        with step(f"building {ref} (Debian + containerd + kind {versions.KIND} node files)"), \
                tempfile.TemporaryDirectory() as tmp:
            context = Path(tmp)
            shutil.copy2(recipe / "Dockerfile", context / "Dockerfile")
            shutil.copytree(kind_files, context / "kind-files")
            for item in (context / "kind-files").rglob("*"):
                item.chmod(0o755 if item.is_dir() else 0o644)
            images.docker_build(docker, context, ref, build_args={"BASE_IMAGE": base}, name="kind-base")
        return ref


def node_parts(docker: Docker) -> None:
    """The node image's parts other than Kubernetes' commands, built (cached) ahead of it: the kind base image and the
    small compiles (etcd, CoreDNS, pause, crictl). Built after Kubernetes' compile, as `node_image` asks for them,
    they were a chain of five minutes at the end of a cold build with a core idle; built beside it, they fill in."""
    kind_base(docker, images.debian_base(docker))
    for name in small_components():
        small_binary(name)
    crictl_binary()


def node_image(docker: Docker) -> str:
    """The kind node image for versions.KUBERNETES, built here; returns its ref."""
    base = images.debian_base(docker)
    kind_base_ref = kind_base(docker, base)
    component_refs, components_key = control_plane_images(docker, base)
    kube = kubernetes_binaries()
    crictl = crictl_binary()
    node_recipe = RECIPES / "node"
    key = images.content_hash(node_recipe, kind_base_ref, components_key, kube.key, crictl.parent.name)
    ref = f"edirunbook/kind-node:{versions.KUBERNETES}-{key}"
    with paths.cache_lock(ref):
        if images.exists(docker, ref):
            return ref
        with step(f"assembling node image {ref}"), tempfile.TemporaryDirectory(dir=paths.cache_dir()) as tmp:
            context = Path(tmp) / "context"
            shutil.copytree(node_recipe, context)
            (context / "bin").mkdir()
            for name in ("kubelet", "kubeadm", "kubectl"):
                shutil.copy2(kube / name, context / "bin" / name)
            shutil.copy2(crictl, context / "bin" / "crictl")
            (context / "version").write_text(versions.KUBERNETES + "\n")
            stage = f"edirunbook/kind-node-stage:{key}"
            images.docker_build(docker, context, stage, build_args={"KIND_BASE": kind_base_ref,
                                                                     "PAUSE_IMAGE": pause_ref()}, name="kind-node")
            archive = Path(tmp) / "images.tar"
            docker.run("save", "-o", str(archive), *component_refs, timeout=600)
            _import_and_commit(docker, stage, archive, ref)
            docker.run("rmi", stage, check=False)
        return ref


PRELOADED = "edirunbook/kind-node-preloaded"


def with_images(docker: Docker, node: str, refs: list[str]) -> str:
    """The node image `node` with the images `refs` (the cluster add-ons', the smoke checks') already in its
    containerd, imported as the control-plane images are; returns its ref. A cluster made from it has them from the
    start: `kind load` finds each one present and skips it, instead of every cluster (each lane of LANES=n) saving
    and importing them anew.
    Keyed by the node image and each image's ID; the one it replaces is removed (unless a container uses it)."""
    ids = docker.run("image", "inspect", "--format", "{{.Id}}", *refs).stdout.split()  # one line per image, in order
    key = images.content_hash(node, *sorted(f"{image}@{image_id}" for image, image_id in zip(refs, ids, strict=True)))
    ref = f"{PRELOADED}:{versions.KUBERNETES}-{key}"
    with paths.cache_lock(ref):
        if images.exists(docker, ref):
            return ref
        with step(f"assembling {ref}: the node image with {len(refs)} images in its containerd"), \
                tempfile.TemporaryDirectory(dir=paths.cache_dir()) as tmp:
            archive = Path(tmp) / "images.tar"
            docker.run("save", "-o", str(archive), *refs, timeout=900)
            _import_and_commit(docker, node, archive, ref)
        older = docker.run("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", PRELOADED).stdout.split()
        for old in older:
            if old != ref:  # in use by a cluster: docker refuses, and it stays until that cluster is gone
                docker.run("rmi", old, check=False)
        return ref


IMPORT_SCRIPT = """
set -eu
containerd >/var/log/containerd-import.log 2>&1 &
for i in $(seq 1 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack \
    --digests /images.tar
ctr --namespace=k8s.io images ls -q
kill %1
wait || true
rm -f /var/log/containerd-import.log
"""


def _import_and_commit(docker: Docker, stage: str, archive: Path, ref: str) -> None:
    name = f"edirunbook-node-build-{os.getpid()}"
    try:
        docker.run("run", "--name", name, "--privileged", "--entrypoint", "/bin/bash",
                   "-v", f"{archive}:/images.tar:ro", stage, "-c", IMPORT_SCRIPT, timeout=900)
        docker.run("commit", "--change", 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
                   "--change", 'CMD []', "--change", f"LABEL {images.OWNER_LABEL}", name, ref, timeout=900)
    except CommandFailed as error:
        raise BuildError(f"importing images into the node image {ref} failed:\n{error}") from None
    finally:
        docker.run("rm", "-f", name, check=False)
