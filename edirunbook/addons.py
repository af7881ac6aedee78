"""The kind environment's cluster add-ons, compiled here from Go module sources like the control-plane images.

- Traefik v3.6 with its Ingress-NGINX provider: serves the deployment's Ingress (class `nginx`) over HTTPS;
- a cert-manager controller (our own main on cert-manager's controller packages): issues the Ingress's TLS
  Secret from the Certificate in environments/base/tls, signed by a CA this checkout makes (ingress.py);
- metrics-server: `kubectl top`.

Each add-on is data: images/addons/<name>/go.mod pins the upstream module (the version shown and the image
tag come from there), the Go main package is compiled into a FROM-scratch image cached by the hash of its
inputs (gobuild.py, images.py), and environments/kind/addons/<name>/ is the kustomization applied. Patches in
images/addons/<name>/patches/ (zero-context, each saying what it fixes) are applied to a copy of the upstream
module, which the build uses in its place (`go build -modfile` with a replace line): the checked-in go.mod
stays as upstream resolves it. Where a kustomization uses upstream's own manifests, `upstream` is linked to the
module's directory in the Go module cache when it is applied, so no upstream text is kept in this repository;
the same holds for CRDs, applied server-side from the module (cert-manager's are too large for a client-side
apply's annotation).
"""
from __future__ import annotations

import functools
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from edirunbook import cluster, gobuild, images, paths
from edirunbook.docker.daemon import Docker
from edirunbook.errors import BuildError, CommandFailed, ConfigError, EnvironmentNotReady
from edirunbook.process import run, step

RECIPES = paths.IMAGES_DIR / "addons"
MANIFESTS = paths.ENVIRONMENTS_DIR / "kind" / "addons"


@dataclass(frozen=True)
class Addon:
    name: str  # images/addons/<name>, environments/kind/addons/<name>
    module: str  # the upstream module images/addons/<name>/go.mod requires
    package: str  # the Go main package compiled ("." for our own main in images/addons/<name>)
    image: str  # the repository the manifests name (never pulled: loaded into the node)
    namespace: str
    deployments: tuple[str, ...]
    crds: str = ""  # directory of CRDs inside the upstream module, applied server-side before the kustomization

    @property
    def recipe(self) -> Path:
        return RECIPES / self.name

    @property
    def binary(self) -> str:
        """What `go build -o dir/` names the main package's binary: the last element of its import path."""
        if self.package == ".":
            return module_path(self.recipe / "go.mod").rsplit("/", 1)[-1]
        return self.package.rstrip("/").rsplit("/", 1)[-1]

    @property
    def patches(self) -> list[Path]:
        return sorted((self.recipe / "patches").glob("*.patch"))

    @property
    def version(self) -> str:
        return required_version(self.recipe / "go.mod", self.module)


ADDONS = (
    Addon("traefik", "github.com/traefik/traefik/v3", "github.com/traefik/traefik/v3/cmd/traefik",
          "edirunbook/traefik", "ingress-traefik", ("traefik",)),
    Addon("cert-manager", "github.com/cert-manager/cert-manager", ".", "edirunbook/cert-manager-controller",
          "cert-manager", ("cert-manager",), crds="deploy/crds"),
    Addon("metrics-server", "sigs.k8s.io/metrics-server", "sigs.k8s.io/metrics-server/cmd/metrics-server",
          "edirunbook/metrics-server", "kube-system", ("metrics-server",)),
)


def module_path(go_mod: Path) -> str:
    match = re.search(r"^module\s+(\S+)", go_mod.read_text(), re.MULTILINE)
    if not match:
        raise ConfigError(f"{go_mod} has no module line")
    return match.group(1)


def required_version(go_mod: Path, module: str) -> str:
    """The version go.mod requires of `module` (single-line or block form)."""
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", go_mod.read_text(), re.MULTILINE)
    if not match:
        raise ConfigError(f"{go_mod} does not require {module}")
    return match.group(1)


@functools.cache  # one `go list` per module and process: the CRDs and the kustomization both ask
def module_dir(go_mod_dir: Path, module: str) -> Path:
    """The upstream module's directory in the Go module cache (downloaded if missing), as go.mod resolves it."""
    try:
        result = run(["go", "list", "-m", "-json", module], cwd=go_mod_dir, env={"GOFLAGS": "-mod=mod"},
                     timeout=600)
    except CommandFailed as error:
        raise BuildError(f"the Go module {module} ({go_mod_dir / 'go.mod'}) could not be resolved:\n{error}") \
            from None
    directory = json.loads(result.stdout).get("Dir")
    if not directory:
        run(["go", "mod", "download", module], cwd=go_mod_dir, timeout=600)
        directory = json.loads(run(["go", "list", "-m", "-json", module], cwd=go_mod_dir).stdout)["Dir"]
    return Path(directory)


def build(docker: Docker) -> dict[str, str]:
    """Every add-on's image in the suite's Docker daemon; {name: ref}. The tag is the upstream version and the
    hash of the build's inputs, so a rebuilt image changes the Deployment that runs it (and rolls it)."""
    built = {}
    for addon in ADDONS:
        out = gobuild.module_binary(addon.name, addon.recipe, addon.package, addon.binary,
                                    prepare=functools.partial(patched_module_flags, addon))
        ref = f"{addon.image}:{addon.version}-{out.key}"
        images.scratch_image(docker, out / addon.binary, out.key, ref)
        built[addon.name] = ref
    return built


def patched_module_flags(addon: Addon) -> list[str]:
    """`go build` flags that use a patched copy of the upstream module (none when the add-on has no patches)."""
    if not addon.patches:
        return []
    work = paths.cache_dir() / "go" / "patched" / f"{addon.name}-{addon.version}"
    shutil.rmtree(work, ignore_errors=True)
    source = work / "module"
    shutil.copytree(module_dir(addon.recipe, addon.module), source)
    for item in [source, *source.rglob("*")]:
        item.chmod(item.stat().st_mode | 0o200)  # the module cache's copies are read-only
    environ = {"GIT_CEILING_DIRECTORIES": str(work)}  # a plain patch: no repository around it
    for patch in addon.patches:
        try:
            run(["git", "apply", "--unidiff-zero", "--whitespace=nowarn", str(patch)], cwd=source, env=environ)
        except CommandFailed as error:
            raise BuildError(f"the patch {paths.shown(patch)} does not apply to {addon.module}@{addon.version}: "
                             f"{' '.join(error.output.split())[:300]}") from None
    modfile = work / "go.mod"
    modfile.write_text((addon.recipe / "go.mod").read_text() + f"\nreplace {addon.module} => {source}\n")
    shutil.copy2(addon.recipe / "go.sum", work / "go.sum")
    return [f"-modfile={modfile}"]


def rendered_kustomization(addon: Addon, ref: str) -> Path:
    """environments/kind/addons/<name> copied under .state with `upstream` linked to the module's directory, inside
    a kustomization that sets the image to `ref` (the manifests name the repository with the upstream version)."""
    target = paths.state_dir() / "addons" / addon.name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(MANIFESTS / addon.name, target / "base")
    (target / "base" / "upstream").symlink_to(module_dir(addon.recipe, addon.module), target_is_directory=True)
    repository, tag = ref.rsplit(":", 1)
    (target / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["base"],
        "images": [{"name": repository, "newTag": tag}]}, sort_keys=False))
    return target


def install(kubeconfig: Path, refs: dict[str, str], *, timeout: float) -> dict[str, float]:
    """Apply every add-on (CRDs first) with its image `refs[name]`, and wait until its Deployments are Ready;
    {name: seconds}."""
    kubectl = [str(paths.bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig)]
    api = cluster.connect(kubeconfig)
    timings = {}
    for addon in ADDONS:
        started = time.monotonic()
        with step(f"applying add-on {addon.name} {addon.version} (environments/kind/addons/{addon.name})"):
            try:
                if addon.crds:
                    crds = module_dir(addon.recipe, addon.module) / addon.crds
                    run([*kubectl, "apply", "--server-side", "--force-conflicts", "-f", str(crds)], timeout=300)
                    run([*kubectl, "wait", "--for=condition=Established", "--timeout=120s", "-f", str(crds)],
                        timeout=180)
                run([*kubectl, "apply", "-k", str(rendered_kustomization(addon, refs[addon.name]))], timeout=300)
            except CommandFailed as error:
                raise EnvironmentNotReady(f"add-on {addon.name} could not be applied:\n{error}") from None
        timings[addon.name] = time.monotonic() - started
    for addon in ADDONS:
        with step(f"waiting for add-on {addon.name} ({', '.join(addon.deployments)} in {addon.namespace})"):
            cluster.wait_deployments_ready(api, addon.namespace, list(addon.deployments), timeout=timeout)
    return timings

