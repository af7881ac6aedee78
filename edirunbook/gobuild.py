"""Go binaries compiled from their module sources at the pinned versions, cached by the hash of their inputs.

Each build lands in <cache>/go/<name>-<hash>/: Kubernetes (control plane, kubelet, kubeadm, kubectl), etcd,
CoreDNS, pause and the smoke-check server (small modules in images/kind-node/<name>), crictl, and kind.
The pinned tools the operator's shell and the environment use (kind, kubectl) are linked into <cache>/bin.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edirunbook import images, paths, versions
from edirunbook.errors import BuildError, CommandFailed
from edirunbook.process import run, step

# The small Go modules of the project (go.mod pinning the upstream versions, replace lines included).
MODULES = paths.IMAGES_DIR / "kind-node"
ADDON_RECIPES = paths.IMAGES_DIR / "addons"  # the cluster add-ons' modules (addons.py)
# Go workspaces of add-on recipes compiled together, so a module they share is compiled once (addons.py)
ADDON_WORKSPACES = ADDON_RECIPES / "workspaces"
KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy",
                 "kubelet", "kubeadm", "kubectl")
CONTROL_PLANE_SMALL_BINARIES = ("etcd",)  # of small_binary's: compiled with CONTROL_PLANE_GCFLAGS


@dataclass(frozen=True)
class GoOutput:
    directory: Path
    key: str

    def __truediv__(self, name: str) -> Path:
        return self.directory / name


# Every compile's flags (part of each build's key).
GOFLAGS = "-trimpath"
# The compiler's flags, for every package of a build. The binaries are stripped (-ldflags -s -w), so the DWARF the
# compiler makes for every package would only be thrown away at link time: -dwarf=false skips making it, 7 % less
# compile CPU (a cold `go build` of client-go's informers and the apiserver library: 449 s of CPU, 419 s without).
CONTROL_PLANE_GCFLAGS = "all=-dwarf=false"
# Everything but the control plane is also compiled without inlining (-l): the add-ons, CoreDNS, crictl, kind and the
# linters. A cold `go build` of k8s.io/apimachinery/pkg/apis/meta/v1 and the standard library took 89.2 s of CPU,
# 71.4 s without inlining (-20 %; -N as well: 76.5 s). What -l costs is the programs' CPU when they run, and in
# `make verify` that is Kubernetes' and etcd's: a lane's cluster spends most of its CPU in the API server, the
# kubelet, etcd and the controllers (cgroup accounting over 404 s of three lanes and staging), all the add-ons
# together 11 % of one core. So Kubernetes and etcd keep inlining (CONTROL_PLANE_GCFLAGS) and the rest go without.
# In a whole cold `make test` it bought less than that figure: about a minute of the image build (images/addons/README).
TOOL_GCFLAGS = f"{CONTROL_PLANE_GCFLAGS} -l"


def go_env() -> dict[str, str]:
    """A workspace only where a build names one (GOWORK): never one the caller's environment happens to set."""
    return {"CGO_ENABLED": "0", "GOFLAGS": GOFLAGS, "GOTOOLCHAIN": "local", "GOWORK": "off"}


@functools.cache  # one `go env` per process: every cached binary's key asks for it
def go_version() -> str:
    if not shutil.which("go"):
        raise BuildError("Go is not installed: the offline image build compiles Kubernetes from its Go "
                         "modules. Install Go 1.24 or later (https://go.dev/dl or `apt-get install golang`).")
    return run(["go", "env", "GOVERSION"]).stdout.strip()


def _go_build(name: str, module: Path | None, targets: list[str], outputs: list[str], *,
              ldflags: str = "-s -w", install: bool = False, extra: tuple[str, ...] = (),
              prepare: Callable[[], list[str]] | None = None, tags: tuple[str, ...] = (),
              inputs: tuple[Path, ...] = (), environ: dict[str, str] | None = None,
              gcflags: str = TOOL_GCFLAGS) -> GoOutput:
    tag_flags = ["-tags", ",".join(tags)] if tags else []
    compile_flags = [f"-gcflags={gcflags}", "-ldflags", ldflags]
    key = images.content_hash(*( [module] if module else []), *inputs, go_version(), GOFLAGS, *compile_flags,
                              *targets, *extra, *tag_flags)
    out = paths.cache_dir() / "go" / f"{name}-{key}"
    with paths.cache_lock(f"go-{name}-{key}"):
        if all((out / o).exists() for o in outputs):
            return GoOutput(out, key)
        tmp = out.with_name(out.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        log = images.build_log(f"go-{name}")
        with step(f"compiling {name} ({', '.join(outputs)}) from Go module sources; log {log}"):
            try:
                if install:
                    run(["go", "install", *compile_flags, *targets], env={**go_env(), "GOBIN": str(tmp)},
                        log=log, timeout=3600)
                else:
                    flags = prepare() if prepare else []
                    run(["go", "build", *flags, *tag_flags, *compile_flags, "-o", f"{tmp}/", *targets],
                        env={**go_env(), **(environ or {})}, cwd=module, log=log, timeout=3600)
            except CommandFailed as error:
                raise BuildError(f"compiling {name} failed; full log in {log}\n{error}") from None
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        return GoOutput(out, key)


def _download_in_background(modules: list[tuple[Path, dict[str, str]]]) -> threading.Thread:
    """`go mod download` in each (folder, environment): a module, or a workspace (GOWORK: the versions its modules
    share), in a thread; a failure is left to the module's own build to report (the downloads' log:
    <cache>/logs/build-go-download.log)."""
    log = images.build_log("go-download")

    def download() -> None:
        for folder, environ in modules:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                run(["go", "mod", "download"], cwd=folder, env={**go_env(), **environ}, log=log, timeout=1800,
                    check=False)

    thread = threading.Thread(target=download, name="go-mod-download", daemon=True)
    thread.start()
    return thread


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
    """Kubernetes' commands. A cold compile takes minutes of CPU; the cluster add-ons' module downloads (network
    and disk, minutes more: Traefik's alone are 378 MB) run beside it, so their builds find them in the cache."""
    downloads: list[threading.Thread] = []

    def start_downloads() -> list[str]:
        downloads.append(_download_in_background(addon_downloads()))
        return []

    built = _go_build("kubernetes", MODULES / "kubernetes", [f"k8s.io/kubernetes/cmd/{c}" for c in KUBE_COMMANDS],
                      list(KUBE_COMMANDS), ldflags=kubernetes_ldflags(), prepare=start_downloads,
                      gcflags=CONTROL_PLANE_GCFLAGS)
    for thread in downloads:
        with step("finishing the cluster add-ons' Go module downloads"):
            thread.join(timeout=1800)
    return built


def addon_downloads() -> list[tuple[Path, dict[str, str]]]:
    """Where `go mod download` fetches the add-ons' modules: each workspace through a copy of its go.work (the command
    writes every module's sums into the go.work.sum beside it; in the checkout's that would change the workspace's
    build key between a run's start and its end, and rebuild the add-ons), each recipe of no workspace in its folder."""
    works = sorted(set(addon_workspaces().values()))
    copies = [workspace_file(w, paths.cache_dir() / "go" / "work" / f"download-{w.parent.name}", {}) for w in works]
    alone = [p.parent for p in sorted(ADDON_RECIPES.glob("*/go.mod")) if p.parent.name not in addon_workspaces()]
    return [*((w.parent, {"GOWORK": str(copy)}) for w, copy in zip(works, copies, strict=True)),
            *((folder, {}) for folder in alone)]


def small_binary(name: str) -> GoOutput:
    """etcd, coredns, pause, smoke: one main package in images/kind-node/<name>."""
    return _go_build(name, MODULES / name, ["."], [name],
                     gcflags=CONTROL_PLANE_GCFLAGS if name in CONTROL_PLANE_SMALL_BINARIES else TOOL_GCFLAGS)


def module_binaries(name: str, module: Path, packages: list[str], binaries: list[str],
                    prepare: Callable[[], list[str]] | None = None, ldflags: str = "-s -w",
                    tags: tuple[str, ...] = (), inputs: tuple[Path, ...] = (),
                    environ: dict[str, str] | None = None) -> GoOutput:
    """Cluster add-on main packages (upstream's or our own), built together in their module
    images/addons/<name> (or a workspace's folder, its recipes' folders among the key's `inputs`, GOWORK in
    `environ`) with build `tags`; `prepare` runs only when they must be compiled and returns extra `go build` flags
    (a patched module)."""
    return _go_build(name, module, packages, binaries, prepare=prepare, ldflags=ldflags, tags=tags, inputs=inputs,
                     environ=environ)


def kind_binary() -> Path:
    return _go_build("kind", None, [f"sigs.k8s.io/kind@{versions.KIND}"], ["kind"], install=True) / "kind"


def kube_score_binary() -> Path:
    return _go_build("kube-score", None, [f"github.com/zegl/kube-score/cmd/kube-score@{versions.KUBE_SCORE}"],
                     ["kube-score"], install=True) / "kube-score"


def crictl_binary() -> Path:
    return _go_build("crictl", None, [f"sigs.k8s.io/cri-tools/cmd/crictl@{versions.CRICTL}"], ["crictl"],
                     install=True) / "crictl"


def kind_module_dir() -> Path:
    result = run(["go", "mod", "download", "-json", f"sigs.k8s.io/kind@{versions.KIND}"],
                 env={"GOFLAGS": "-mod=mod"}, cwd=Path(tempfile.gettempdir()))
    return Path(json.loads(result.stdout)["Dir"])


def workspace_members(work: Path) -> list[str]:
    """The recipes (images/addons/<recipe>) a go.work uses, by name: its `use` directives, one-line or block."""
    text = re.sub(r"//.*", "", work.read_text())
    entries = re.findall(r"^use\s+([^\s(]\S*)\s*$", text, re.MULTILINE)
    for block in re.findall(r"^use\s*\((.*?)\)", text, re.MULTILINE | re.DOTALL):
        entries += block.split()
    return [(work.parent / entry).resolve().name for entry in entries]


@functools.cache  # read once per process: every build unit and every download asks
def addon_workspaces() -> dict[str, Path]:
    """{recipe: the go.work in images/addons/workspaces/ that compiles it with other recipes}."""
    return {recipe: work for work in sorted(ADDON_WORKSPACES.glob("*/go.work")) for recipe in workspace_members(work)}


def workspace_file(work: Path, destination: Path, replaces: dict[str, Path]) -> Path:
    """A copy of the go.work `work` at `destination` (its go.work.sum beside it), its `use` paths made absolute and
    `replaces` (module => a patched copy of it) added; returns the copy's path (GOWORK)."""
    def absolute(match: re.Match[str]) -> str:
        return match.group(1) + str((work.parent / match.group(2)).resolve())

    text = re.sub(r"^(\s*(?:use\s+)?)(\.\.?/\S*)", absolute, work.read_text(), flags=re.MULTILINE)
    text += "".join(f"\nreplace {module} => {copy}\n" for module, copy in sorted(replaces.items()))
    destination.mkdir(parents=True, exist_ok=True)
    (destination / "go.work").write_text(text)
    if (work.parent / "go.work.sum").exists():
        shutil.copy2(work.parent / "go.work.sum", destination / "go.work.sum")
    return destination / "go.work"


def tools_path() -> Path:
    """Pinned kind and kubectl, linked into <cache>/bin (prepend it to PATH)."""
    link_command(kind_binary())
    link_command(kubernetes_binaries() / "kubectl")
    return paths.bin_dir()


def link_command(target: Path) -> None:
    """A pinned command of the operator's shell: <cache>/bin/<name> links to the cached build."""
    link = paths.bin_dir() / target.name
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    # made beside it and renamed over it: processes linking the same command at once (`make test`'s image build and
    # its checks, when Kubernetes' compile ends) each replace the link whole; unlinking and then linking raced
    made = link.with_name(f".{link.name}.{os.getpid()}.{threading.get_ident()}")
    made.unlink(missing_ok=True)
    made.symlink_to(target)
    os.replace(made, link)
