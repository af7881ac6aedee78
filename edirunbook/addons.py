"""The kind environment's cluster add-ons, compiled here from Go module sources like the control-plane images.

- Traefik v3.6 with its Ingress-NGINX provider: serves the deployment's Ingress (class `nginx`) over HTTPS;
- a cert-manager controller (our own main on cert-manager's controller packages): issues the Ingress's TLS
  Secret from the Certificate in environments/base/tls, signed by a CA this checkout makes (ingress.py);
- metrics-server: `kubectl top`;
- kube-network-policies: enforces NetworkPolicy (the node's bridge CNI does not);
- the snapshot controller and its CRDs, and our own CSI hostpath driver (images/addons/csi-hostpath) with the
  upstream provisioner, resizer and snapshotter sidecars: the default StorageClass (volumes that fill up with a
  real ENOSPC at their size and grow online) and the VolumeSnapshotClass `csi-snapclass`;
- Velero with its AWS plugin and gofakes3 as its object store;
- monitoring: Prometheus (compiled with Kubernetes service discovery only) with the deployment's alert rules
  (environments/base/monitoring), Alertmanager from Debian's package (images/alertmanager), and our own webhook
  receiver (images/addons/alert-receiver).

Each add-on is data: its programs are Go main packages, each compiled into a FROM-scratch image; an image of
Debian packages (DebianImage) is built from its Dockerfile on the suite's Debian base instead. A program's
recipe, images/addons/<recipe>/go.mod, pins the upstream module (the version shown and the image tag come from
there; a program of our own states its version); the main packages of one recipe, or of the recipes of one Go
workspace (images/addons/workspaces/<name>/go.work: one version of every module they share, compiled once), are
compiled together and cached by the hash of their inputs (gobuild.py, images.py), and
environments/kind/addons/<name>/ is the kustomization applied. Patches in images/addons/<recipe>/patches/
(zero-context, each saying what it fixes) are applied to a copy of the recipe's upstream module, those in
patches/<name>/ to the module the recipe requires whose path ends in /<name> (velero's AWS plugin), and the build
uses each patched copy in the module's place (a replace line in the workspace's go.work copy, or `go build
-modfile`): the checked-in go.mod stays as upstream resolves it. Where a kustomization uses upstream's own manifests,
`upstream` is linked to the first program's module directory in the Go module cache when it is applied, so no
upstream text is kept in this repository; the same holds for CRDs, applied server-side from their module
(cert-manager's are too large for a client-side apply's annotation).
"""
from __future__ import annotations

import concurrent.futures
import functools
import json
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from edirunbook import cluster, gobuild, images, paths, versions
from edirunbook.docker.daemon import Docker
from edirunbook.errors import BuildError, CommandFailed, ConfigError, EnvironmentNotReady
from edirunbook.process import run, step

RECIPES = paths.IMAGES_DIR / "addons"
MANIFESTS = paths.ENVIRONMENTS_DIR / "kind" / "addons"


@dataclass(frozen=True)
class Program:
    """One Go main package, compiled into one FROM-scratch image."""

    recipe: str  # images/addons/<recipe>: the Go module that pins `module`
    module: str  # the upstream module the main package comes from
    package: str  # the main package compiled ("." for our own main in the recipe)
    image: str  # the repository the manifests name (never pulled: loaded into the node)
    own_version: str = ""  # a program of our own has no upstream version to show
    plugins: tuple[str, ...] = ()  # main packages of the same recipe, put in the image's /plugins beside it
    version_variable: str = ""  # the string variable (`-X` at link time) that the program shows as its version
    command: bool = False  # also a command of the operator's: linked into <cache>/bin, beside kubectl
    tools: tuple[str, ...] = ()  # main packages of the same recipe linked into <cache>/bin only (no image)
    build_tags: tuple[str, ...] = ()  # `go build -tags` of the whole recipe

    @property
    def recipe_dir(self) -> Path:
        return RECIPES / self.recipe

    @property
    def binary(self) -> str:
        """What `go build -o dir/` names the main package's binary: the last element of its import path."""
        if self.package == ".":
            return module_path(self.recipe_dir / "go.mod").rsplit("/", 1)[-1]
        return self.package.rstrip("/").rsplit("/", 1)[-1]

    @property
    def version(self) -> str:
        return self.own_version or required_version(self.recipe_dir / "go.mod", self.module)

    @property
    def packages(self) -> list[str]:
        return [self.package, *self.plugins]

    @property
    def plugin_binaries(self) -> list[str]:
        return [plugin.rstrip("/").rsplit("/", 1)[-1] for plugin in self.plugins]

    @property
    def tool_binaries(self) -> list[str]:
        return [tool.rstrip("/").rsplit("/", 1)[-1] for tool in self.tools]


@dataclass(frozen=True)
class Crds:
    """CustomResourceDefinitions kept in an upstream module, applied server-side before the add-on."""

    recipe: str  # the recipe whose go.mod pins `module`
    module: str
    directories: tuple[str, ...]  # inside the module

    def files(self) -> list[Path]:
        """The directories' manifests (a kustomization.yaml beside them is no CRD: `kubectl wait` has no -k)."""
        root = module_dir(RECIPES / self.recipe, self.module)
        found = [path for directory in self.directories for path in sorted((root / directory).glob("*.yaml"))]
        return [path for path in found if path.name != "kustomization.yaml"]


@dataclass(frozen=True)
class DebianImage:
    """An image of Debian packages: images/<recipe>/Dockerfile on the suite's Debian base, each package's pinned
    version (edirunbook/versions.py) a build argument."""

    recipe: str
    packages: tuple[tuple[str, str], ...]  # (build argument, version)

    @property
    def image(self) -> str:
        return f"edirunbook/{self.recipe}"


@dataclass(frozen=True)
class Addon:
    name: str  # environments/kind/addons/<name>
    namespace: str
    deployments: tuple[str, ...]
    programs: tuple[Program, ...]
    crds: Crds | None = None
    debian_images: tuple[DebianImage, ...] = ()
    files: tuple[str, ...] = ()  # more files the kustomization reads, relative to environments/ (copied beside it)

    @property
    def version(self) -> str:
        return self.programs[0].version

    @property
    def images(self) -> list[str]:
        """The image repositories its manifests name."""
        return [*(d.image for d in self.debian_images), *(p.image for p in self.programs)]


TRAEFIK = "github.com/traefik/traefik/v3"
CERT_MANAGER = "github.com/cert-manager/cert-manager"
METRICS_SERVER = "sigs.k8s.io/metrics-server"
KUBE_NETWORK_POLICIES = "sigs.k8s.io/kube-network-policies"
SNAPSHOTTER = "github.com/kubernetes-csi/external-snapshotter/v8"
VELERO = "github.com/vmware-tanzu/velero"
PROMETHEUS = "github.com/prometheus/prometheus"
ADDONS = (
    Addon("traefik", "ingress-traefik", ("traefik",),
          (Program("traefik", TRAEFIK, f"{TRAEFIK}/cmd/traefik", "edirunbook/traefik",
                   build_tags=("edirunbook_no_ecs",)),)),  # no AWS ECS provider: patches/04-*
    Addon("cert-manager", "cert-manager", ("cert-manager",),
          (Program("cert-manager", CERT_MANAGER, ".", "edirunbook/cert-manager-controller"),),
          crds=Crds("cert-manager", CERT_MANAGER, ("deploy/crds",))),
    Addon("metrics-server", "kube-system", ("metrics-server",),
          (Program("metrics-server", METRICS_SERVER, f"{METRICS_SERVER}/cmd/metrics-server",
                   "edirunbook/metrics-server"),)),
    # NetworkPolicy enforcement beside the node's bridge CNI, which enforces none: the enforcer kindnet embeds
    Addon("kube-network-policies", "kube-system", ("kube-network-policies",),
          (Program("kube-network-policies", KUBE_NETWORK_POLICIES, f"{KUBE_NETWORK_POLICIES}/cmd",
                   "edirunbook/kube-network-policies"),)),
    Addon("snapshot-controller", "kube-system", ("snapshot-controller",),
          (Program("snapshot-controller", SNAPSHOTTER, f"{SNAPSHOTTER}/cmd/snapshot-controller",
                   "edirunbook/snapshot-controller"),),
          crds=Crds("snapshot-controller", "github.com/kubernetes-csi/external-snapshotter/client/v8",
                    ("config/crd",))),
    Addon("csi-hostpath", "kube-system", ("csi-hostpath",), (
        Program("csi-hostpath", "edirunbook.local/csi-hostpath", ".", "edirunbook/csi-hostpath", own_version="0.1.0"),
        Program("csi-sidecars", "github.com/kubernetes-csi/external-provisioner/v5",
                "github.com/kubernetes-csi/external-provisioner/v5/cmd/csi-provisioner", "edirunbook/csi-provisioner"),
        Program("csi-sidecars", "github.com/kubernetes-csi/external-resizer",
                "github.com/kubernetes-csi/external-resizer/cmd/csi-resizer", "edirunbook/csi-resizer"),
        Program("snapshot-controller", SNAPSHOTTER, f"{SNAPSHOTTER}/cmd/csi-snapshotter",
                "edirunbook/csi-snapshotter"),
    )),
    # after csi-hostpath: Velero's backups take CSI snapshots of the claims (the VolumeSnapshotClass it labels)
    Addon("velero", "velero", ("velero", "gofakes3"), (
        Program("velero", VELERO, f"{VELERO}/cmd/velero", "edirunbook/velero",
                plugins=("github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws",),
                version_variable=f"{VELERO}/pkg/buildinfo.Version", command=True,
                build_tags=("edirunbook_s3_only",)),  # no Azure or GCS repository backend: patches/01-*
        Program("velero", "github.com/johannesboyne/gofakes3", "github.com/johannesboyne/gofakes3/cmd/gofakes3",
                "edirunbook/gofakes3"),
    ), crds=Crds("velero", VELERO, ("config/crd/v1/bases", "config/crd/v2alpha1/bases"))),
    # the runbook's Monitoring: Prometheus with the deployment's alert rules (and promtool on the host, for their
    # unit tests), Alertmanager routing them to the runbook's receivers, our receiver recording the notifications
    Addon("monitoring", "monitoring", ("prometheus", "alertmanager", "alert-receiver"), (
        Program("prometheus", PROMETHEUS, f"{PROMETHEUS}/cmd/prometheus", "edirunbook/prometheus",
                tools=(f"{PROMETHEUS}/cmd/promtool",), build_tags=("remove_all_sd", "enable_kubernetes_sd")),
        Program("alert-receiver", "edirunbook.local/alert-receiver", ".", "edirunbook/alert-receiver",
                own_version="0.1.0"),
    ), debian_images=(DebianImage("alertmanager", (("ALERTMANAGER_DEB", versions.ALERTMANAGER_DEB),)),),
        files=("base/monitoring/bots-edi-alerts.yml",)),
)


def module_path(go_mod: Path) -> str:
    match = re.search(r"^module\s+(\S+)", go_mod.read_text(), re.MULTILINE)
    if not match:
        raise ConfigError(f"{go_mod} has no module line")
    return match.group(1)


def requirements(go_mod: Path) -> dict[str, str]:
    """Every module go.mod requires, with its version (single-line or block form; a module's first line counts, as
    a replace line naming a version comes after its require)."""
    found: dict[str, str] = {}
    for module, version in re.findall(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)", go_mod.read_text(), re.MULTILINE):
        found.setdefault(module, version)
    return found


def required_version(go_mod: Path, module: str) -> str:
    """The version go.mod requires of `module`."""
    version = requirements(go_mod).get(module)
    if not version:
        raise ConfigError(f"{go_mod} does not require {module}")
    return version


@functools.cache  # one `go list` per module and process: the CRDs and the kustomization both ask
def module_dir(go_mod_dir: Path, module: str) -> Path:
    """The upstream module's directory in the Go module cache (downloaded if missing), as go.mod resolves it."""
    try:
        result = run(["go", "list", "-m", "-json", module], cwd=go_mod_dir,
                     env={"GOFLAGS": "-mod=mod", "GOWORK": "off"}, timeout=600)
    except CommandFailed as error:
        raise BuildError(f"the Go module {module} ({go_mod_dir / 'go.mod'}) could not be resolved:\n{error}") \
            from None
    directory = json.loads(result.stdout).get("Dir")
    if not directory:
        run(["go", "mod", "download", module], cwd=go_mod_dir, timeout=600)
        directory = json.loads(run(["go", "list", "-m", "-json", module], cwd=go_mod_dir).stdout)["Dir"]
    return Path(directory)


def programs() -> dict[str, Program]:
    """Every add-on's programs by image repository."""
    return {program.image: program for addon in ADDONS for program in addon.programs}


def image_repositories() -> list[str]:
    """Every image repository the add-ons' manifests name: the programs' and the Debian images'."""
    return [image for addon in ADDONS for image in addon.images]


def workspace_of(recipe: str) -> Path | None:
    """The go.work in images/addons/workspaces/ that compiles `recipe` together with other recipes, if one does."""
    return gobuild.addon_workspaces().get(recipe)


def build_units() -> list[list[Program]]:
    """The programs compiled together by one `go build`: a workspace's recipes, or one recipe alone."""
    units: dict[str, list[Program]] = {}
    for program in programs().values():
        work = workspace_of(program.recipe)
        units.setdefault(f"workspace {work.parent.name}" if work else program.recipe, []).append(program)
    return list(units.values())


def build(docker: Docker) -> dict[str, str]:
    """Every add-on image in the suite's Docker daemon; {image repository: ref}. The main packages of one recipe,
    or of the recipes of one workspace, are compiled together. The tag is the program's version and the hash of
    the build inputs, so a rebuilt image changes the Deployment that runs it (and rolls it). The Debian images are
    built meanwhile."""

    def build_recipe(members: list[Program]) -> dict[str, str]:
        out = compile_recipe(members)
        refs = {}
        for program in members:
            refs[program.image] = f"{program.image}:{program.version}-{out.key}"
            images.scratch_image(docker, out / program.binary, out.key, refs[program.image],
                                 beside=tuple((out / plugin, "/plugins") for plugin in program.plugin_binaries))
        return refs

    # one at a time, beside Kubernetes' compile (KindEnvironment.build): one large `go build` keeps both cores busy
    # by itself (k8s-0.34 alone: 1190 s of CPU in 622 s), and three at once gain nothing (three cold builds of one
    # package graph at once: 140 s of wall, 92 s of CPU each; one after another: 3 x 46 s, 86 s each). In a cold
    # `make test` the images were built after 39 min 12 s this way, 38 min 33 s three at a time: the same work on
    # two busy cores, with fewer compilers in memory at once. The largest module graphs (go.sum's size) first.
    recipes = sorted(build_units(), key=lambda members: -sum(map(_module_graph_size, _recipe_dirs(members))))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as apt:
        debian = apt.submit(debian_images, docker)  # downloads and unpacks: no core of its own needed
        built = {image: ref for members in recipes for image, ref in build_recipe(members).items()}
        return {**built, **debian.result()}


def compile_recipe(members: list[Program]) -> gobuild.GoOutput:
    """The main packages of one build unit's programs (build_units) compiled together (cached), and their commands
    linked into <cache>/bin. A workspace's build uses a copy of its go.work (GOWORK) with the patched modules."""
    first = members[0]
    versions = [f"-X {p.version_variable}={p.version}" for p in members if p.version_variable]
    work = workspace_of(first.recipe)
    # from a workspace's folder, a main package of our own is named by its module path
    packages = [module_path(p.recipe_dir / "go.mod") if work and pkg == "." else pkg
                for p in members for pkg in (*p.packages, *p.tools)]
    binaries = [b for p in members for b in (p.binary, *p.plugin_binaries, *p.tool_binaries)]
    ldflags, tags = " ".join(["-s -w", *versions]), tuple(sorted({tag for p in members for tag in p.build_tags}))
    if work is None:
        out = gobuild.module_binaries(first.recipe, first.recipe_dir, packages, binaries,
                                      prepare=functools.partial(patched_module_flags, first), ldflags=ldflags,
                                      tags=tags)
    else:
        inputs = tuple(_recipe_dirs(members))
        key = images.content_hash(work.parent, *inputs)
        generated = paths.cache_dir() / "go" / "work" / f"{work.parent.name}-{key}"
        out = gobuild.module_binaries(
            work.parent.name, work.parent, packages, binaries, ldflags=ldflags, tags=tags, inputs=inputs,
            environ={"GOWORK": str(generated / "go.work")},
            prepare=lambda: _workspace_prepared(work, members, generated))
    for program in members:
        for name in ([program.binary] if program.command else []) + program.tool_binaries:
            gobuild.link_command(out / name)
    return out


def tool(name: str) -> Path:
    """An add-on's tool (e.g. promtool) on the host, compiled with its recipe if it is not yet."""
    for program in programs().values():
        if name in program.tool_binaries:
            return compile_recipe(next(unit for unit in build_units() if program in unit)) / name
    raise ConfigError(f"no add-on builds a tool named {name}")


def _recipe_dirs(members: list[Program]) -> list[Path]:
    return [RECIPES / recipe for recipe in sorted({program.recipe for program in members})]


def _workspace_prepared(work: Path, members: list[Program], generated: Path) -> list[str]:
    """The workspace's go.work for this build: upstream modules with patches replaced by patched copies."""
    shutil.rmtree(generated, ignore_errors=True)
    upstream: dict[str, Program] = {}  # a recipe's patches are to its first program's module (and patches/<name>/)
    for program in members:
        upstream.setdefault(program.recipe, program)
    replaces = {module: patched_copy(program.recipe_dir, module, module_patches)
                for program in upstream.values() for module, module_patches in patched_modules(program).items()}
    gobuild.workspace_file(work, generated, replaces)
    return []


def _module_graph_size(recipe_dir: Path) -> int:
    go_sum = recipe_dir / "go.sum"  # a program of our own on the standard library alone has none
    return go_sum.stat().st_size if go_sum.is_file() else 0


def debian_images(docker: Docker) -> dict[str, str]:
    """The add-ons' images of Debian packages; {image repository: ref}."""
    wanted = [image for addon in ADDONS for image in addon.debian_images]
    if not wanted:
        return {}
    base = images.debian_base(docker)
    return {image.image: images.recipe(docker, image.recipe, base, args=dict(image.packages)) for image in wanted}


def patches(program: Program) -> list[Path]:
    """The patches to the program's own upstream module (the recipe's patches/*.patch)."""
    return sorted((program.recipe_dir / "patches").glob("*.patch"))


def patched_modules(program: Program) -> dict[str, list[Path]]:
    """{module: its patches} for the program's recipe: patches/*.patch are to the program's module, patches/<name>/
    to the one module the recipe's go.mod requires whose path ends in /<name>."""
    own = patches(program)
    found = {program.module: own} if own else {}
    folder = program.recipe_dir / "patches"
    go_mod = program.recipe_dir / "go.mod"
    for sub in sorted(path for path in folder.glob("*/") if path.is_dir()):
        matching = sorted(module for module in requirements(go_mod) if module.endswith(f"/{sub.name}"))
        if len(matching) != 1:
            raise ConfigError(f"{paths.shown(sub)}: patches for a module whose path ends in /{sub.name}, but "
                              f"{paths.shown(go_mod)} requires {' and '.join(matching) or 'none'}")
        found[matching[0]] = sorted(sub.glob("*.patch"))
    return found


def patched_module_flags(program: Program) -> list[str]:
    """`go build` flags that use patched copies of the upstream modules (none when the recipe has no patches)."""
    modules = patched_modules(program)
    if not modules:
        return []
    replaced = {module: patched_copy(program.recipe_dir, module, module_patches)
                for module, module_patches in modules.items()}
    modfile = patched_dir(program.recipe_dir) / "go.mod"
    modfile.write_text((program.recipe_dir / "go.mod").read_text()
                       + "".join(f"\nreplace {module} => {source}\n" for module, source in replaced.items()))
    shutil.copy2(program.recipe_dir / "go.sum", modfile.parent / "go.sum")
    return [f"-modfile={modfile}"]


def patched_dir(recipe_dir: Path) -> Path:
    """Where a recipe's patched module copies (and its -modfile) are made: <cache>/go/patched/<recipe>."""
    work = paths.cache_dir() / "go" / "patched" / recipe_dir.name
    work.mkdir(parents=True, exist_ok=True)
    return work


def patched_copy(recipe_dir: Path, module: str, module_patches: list[Path]) -> Path:
    """A copy of an upstream module (as the recipe resolves it) with the patches applied."""
    version = required_version(recipe_dir / "go.mod", module)
    work = patched_dir(recipe_dir)
    source = work / f"{module.rsplit('/', 1)[-1]}@{version}"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(module_dir(recipe_dir, module), source)
    for item in [source, *source.rglob("*")]:
        item.chmod(item.stat().st_mode | 0o200)  # the module cache's copies are read-only
    environ = {"GIT_CEILING_DIRECTORIES": str(work)}  # a plain patch: no repository around it
    for patch in module_patches:
        try:
            run(["git", "apply", "--unidiff-zero", "--whitespace=nowarn", str(patch)], cwd=source, env=environ)
        except CommandFailed as error:
            raise BuildError(f"the patch {paths.shown(patch)} does not apply to {module}@{version}: "
                             f"{' '.join(error.output.split())[:300]}") from None
    return source


def rendered_kustomization(addon: Addon, refs: dict[str, str], patches: Sequence[dict[str, Any]] = ()) -> Path:
    """environments/kind/addons/<name> copied under .state with its `files` beside it and `upstream` linked to its
    first program's module directory (an upstream one), inside a kustomization that sets each image to its ref in
    `refs` (by repository), with `patches` (kustomize's patches entries)."""
    target = paths.state_dir() / "addons" / addon.name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(MANIFESTS / addon.name, target / "base")
    for file in addon.files:
        shutil.copy2(paths.ENVIRONMENTS_DIR / file, target / "base" / Path(file).name)
    first = addon.programs[0]
    if not first.own_version:
        (target / "base" / "upstream").symlink_to(module_dir(first.recipe_dir, first.module),
                                                  target_is_directory=True)
    tags = [refs[image].rsplit(":", 1) for image in addon.images]
    (target / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["base"],
        "images": [{"name": repository, "newTag": tag} for repository, tag in tags],
        **({"patches": list(patches)} if patches else {})}, sort_keys=False))
    return target


DEFAULT_OBJECT_STORE_PORT = 18900  # environments/kind/addons/velero/object-store.yaml's publicUrl


def object_store_patches(addon: Addon, port: int) -> list[dict[str, Any]]:
    """Velero's backup location published on `port` of this machine when that is not the manifests' own port."""
    if addon.name != "velero" or port == DEFAULT_OBJECT_STORE_PORT:
        return []
    operation = [{"op": "replace", "path": "/spec/config/publicUrl", "value": f"http://127.0.0.1:{port}"}]
    return [{"target": {"kind": "BackupStorageLocation", "name": "default"}, "patch": json.dumps(operation)}]


def install(kubeconfig: Path, refs: dict[str, str], *, timeout: float,
            object_store_port: int = DEFAULT_OBJECT_STORE_PORT) -> dict[str, float]:
    """Apply every add-on (CRDs first) with its programs' images `refs[repository]`, and wait until its
    Deployments are Ready; {name: seconds}."""
    kubectl = [str(paths.bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig)]
    api = cluster.connect(kubeconfig)
    timings = {}
    for addon in ADDONS:
        started = time.monotonic()
        with step(f"applying add-on {addon.name} {addon.version} (environments/kind/addons/{addon.name})"):
            try:
                if addon.crds:
                    files = [arg for path in addon.crds.files() for arg in ("-f", str(path))]
                    run([*kubectl, "apply", "--server-side", "--force-conflicts", *files], timeout=300)
                    run([*kubectl, "wait", "--for=condition=Established", "--timeout=120s", *files], timeout=180)
                kustomization = rendered_kustomization(addon, refs, object_store_patches(addon, object_store_port))
                run([*kubectl, "apply", "-k", str(kustomization)], timeout=300)
            except CommandFailed as error:
                raise EnvironmentNotReady(f"add-on {addon.name} could not be applied:\n{error}") from None
        timings[addon.name] = time.monotonic() - started
    for addon in ADDONS:
        with step(f"waiting for add-on {addon.name} ({', '.join(addon.deployments)} in {addon.namespace})"):
            cluster.wait_deployments_ready(api, addon.namespace, list(addon.deployments), timeout=timeout)
    return timings
