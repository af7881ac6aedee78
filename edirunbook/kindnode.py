"""Build a kind node image here, from Go module sources and Debian packages, without any registry.

Pieces, each cached by the hash of its inputs:
- Go binaries (Kubernetes, etcd, CoreDNS, pause, crictl, kind, the smoke-check server) under
  <cache>/go/<name>-<hash>/, built with the pinned versions of versions.py;
- the control-plane images kubeadm expects (registry.k8s.io/... tags), built FROM scratch (kube-proxy on
  Debian, for iptables) and saved to one tar;
- kind's base image (images/kind-node/base) with kind's own node files taken from the pinned
  sigs.k8s.io/kind module at build time;
- the node image: binaries + /kind files on the base, then the control-plane images imported into
  containerd's k8s.io namespace (unpacked lazily, as kind does), committed as edirunbook/kind-node.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edirunbook import images, paths, versions
from edirunbook.docker.daemon import Docker
from edirunbook.errors import BuildError
from edirunbook.shell import CommandFailed, run, step

RECIPES = paths.IMAGES_DIR / "kind-node"
KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy",
                 "kubelet", "kubeadm", "kubectl")
REGISTRY = "registry.k8s.io"


@dataclass(frozen=True)
class GoOutput:
    directory: Path
    key: str

    def __truediv__(self, name: str) -> Path:
        return self.directory / name


def go_env() -> dict[str, str]:
    return {"CGO_ENABLED": "0", "GOFLAGS": "-trimpath", "GOTOOLCHAIN": "local"}


def go_version() -> str:
    if not shutil.which("go"):
        raise BuildError("Go is not installed: the offline image build compiles Kubernetes from its Go "
                         "modules. Install Go 1.24 or later (https://go.dev/dl or `apt-get install golang`).")
    return run(["go", "env", "GOVERSION"]).stdout.strip()


def _go_build(name: str, module: Path | None, targets: list[str], outputs: list[str], *,
              ldflags: str = "-s -w", install: bool = False, extra: tuple[str, ...] = ()) -> GoOutput:
    key = images.content_hash(*( [module] if module else []), go_version(), ldflags, *targets, *extra)
    out = paths.cache_dir() / "go" / f"{name}-{key}"
    if all((out / o).exists() for o in outputs):
        return GoOutput(out, key)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log = images.build_log(f"go-{name}")
    with step(f"compiling {name} ({', '.join(outputs)}) from Go module sources; log {log}"):
        try:
            if install:
                run(["go", "install", "-ldflags", ldflags, *targets], env={**go_env(), "GOBIN": str(tmp)},
                    log=log, timeout=3600)
            else:
                run(["go", "build", "-ldflags", ldflags, "-o", f"{tmp}/", *targets], env=go_env(), cwd=module,
                    log=log, timeout=3600)
        except CommandFailed as error:
            raise BuildError(f"compiling {name} failed; full log in {log}\n{error}") from None
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return GoOutput(out, key)


def kubernetes_ldflags() -> str:
    major, minor = versions.KUBERNETES.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {pkg}.gitVersion={versions.KUBERNETES}", f"-X {pkg}.gitMajor={major}",
                  f"-X {pkg}.gitMinor={minor}", f"-X {pkg}.gitTreeState=clean",
                  f"-X {pkg}.gitCommit=0000000000000000000000000000000000000000",
                  f"-X {pkg}.buildDate=1970-01-01T00:00:00Z"]
    return " ".join(flags)


def kubernetes_binaries() -> GoOutput:
    return _go_build("kubernetes", RECIPES / "kubernetes", [f"k8s.io/kubernetes/cmd/{c}" for c in KUBE_COMMANDS],
                     list(KUBE_COMMANDS), ldflags=kubernetes_ldflags())


def small_binary(name: str) -> GoOutput:
    """etcd, coredns, pause, smoke: one main package in images/kind-node/<name>."""
    return _go_build(name, RECIPES / name, ["."], [name])


def kind_binary() -> Path:
    return _go_build("kind", None, [f"sigs.k8s.io/kind@{versions.KIND}"], ["kind"], install=True) / "kind"


def crictl_binary() -> Path:
    return _go_build("crictl", None, [f"sigs.k8s.io/cri-tools/cmd/crictl@{versions.CRICTL}"], ["crictl"],
                     install=True) / "crictl"


def kind_module_dir() -> Path:
    result = run(["go", "mod", "download", "-json", f"sigs.k8s.io/kind@{versions.KIND}"],
                 env={"GOFLAGS": "-mod=mod"}, cwd=Path(tempfile.gettempdir()))
    return Path(json.loads(result.stdout)["Dir"])


def scratch_image(docker: Docker, binary: Path, key: str, ref: str) -> None:
    """A FROM-scratch image holding one static binary, tagged as kubeadm expects."""
    name = binary.name
    cached = f"edirunbook/{name}:{images.content_hash('scratch', key, ref)}"
    if not images.exists(docker, cached):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy2(binary, Path(tmp) / name)
            (Path(tmp) / "Dockerfile").write_text(
                f"FROM scratch\nCOPY {name} /usr/local/bin/{name}\n"
                "ENV PATH=/usr/local/bin:/usr/bin:/bin\n"
                f'ENTRYPOINT ["/usr/local/bin/{name}"]\n')
            images.docker_build(docker, Path(tmp), cached, name=name)
    images.tag(docker, cached, ref)


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
        if not images.exists(docker, cached):
            with tempfile.TemporaryDirectory() as tmp:
                shutil.copy2(RECIPES / "kube-proxy" / "Dockerfile", Path(tmp) / "Dockerfile")
                shutil.copy2(kube / "kube-proxy", Path(tmp) / "kube-proxy")
                images.docker_build(docker, Path(tmp), cached, build_args={"BASE_IMAGE": base}, name="kube-proxy")
        images.tag(docker, cached, proxy_ref)
        refs.append(proxy_ref)
        for name, ref in (("etcd", f"{REGISTRY}/etcd:{versions.ETCD_IMAGE_TAG}"),
                          ("coredns", f"{REGISTRY}/coredns/coredns:{versions.COREDNS}"),
                          ("pause", pause_ref())):
            out = small_binary(name)
            scratch_image(docker, out / name, out.key, ref)
            refs.append(ref)
            keys.append(out.key)
    return refs, images.content_hash(*keys, base, *refs)


def pause_ref() -> str:
    return f"{REGISTRY}/pause:{versions.PAUSE}"


def kind_base(docker: Docker, base: str) -> str:
    recipe = RECIPES / "base"
    kind_files = kind_module_dir() / "images" / "base" / "files"
    ref = f"edirunbook/kind-base:{images.content_hash(recipe, kind_files, base, versions.KIND)}"
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
        raise BuildError(f"importing the control-plane images into the node image failed:\n{error}") from None
    finally:
        docker.run("rm", "-f", name, check=False)
