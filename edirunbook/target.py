"""A target is data: the Bots EDI under test, described by targets/<name>/target.yaml.

A target names the app image (built from a Dockerfile, loaded from a `docker save` tarball, taken from the
local Docker daemon, or pulled where a registry is reachable), the team's kustomize directory, the test
overlay this suite layers on top for what a test cluster cannot run (a kustomize Component, each change with
its reason), the Secrets the manifests expect and how their values are made, and the names the runbook's
commands need mapped. The suite's own Bots EDI is the target `reference`, the default.

The manifests deployed are rendered from a kustomization the suite writes under .state/render/<target>/:
the team's directory as its resource, the environment's component (environments/<env>: storage, the
NodePort, never-pull), the target's test overlay, and the target's image names mapped to the image loaded
into the cluster.

Schema (targets/<name>/target.yaml; paths in `image` and `manifests.kustomize` are relative to the
source, everything else to the target's directory):
  description: str
  source: suite | {repository: URL}     suite: this repository; else SOURCE=<checkout> is required
  image:
    build: {context: dir, dockerfile: file (default <context>/Dockerfile), args: {K: V},
            base_images: {FROM-name: recipe under images/ (built here, never pulled), or `debian`: the
                          suite's Debian base}}   a Dockerfile declaring ARG EXTRA_CA_CERTS gets the local CAs
    | archive: file.tar                 (`docker save` output)
    | docker: ref                       (already in the local Docker daemon)
    | pull: ref                         (opt-in: only where a registry is reachable)
    names: [str]                        the image names in the manifests this image replaces
  manifests:
    kustomize: dir                      the team's kustomize directory (an overlay or a base)
    test_overlay: dir                   optional kustomize Component of this suite
    changes: {"Kind/name": reason}      why the test overlay changes each object it changes
  secrets: {Secret name: {KEY: template}}   templates may use {db_name} {db_user} {db_password} {db_host}
                                            {db_port} {django_secret_key} {admin_user} {admin_password}
  substitutions: {production text: this environment's text}   on top of env.yaml's
  app:                                  optional: where this Bots keeps its files, as its pods see them
    data_volume: /abs/path              where the data volume (bots-edi-data-pvc) is mounted (default
                                        /home/bots/.bots)
    botssys: /abs/path                  Bots' botssys (infile/, outfile/, data/, logging/); must be under
                                        data_volume, which the runbook's backups cover (default
                                        <data_volume>/botssys)
    bots_ini: /abs/path                 the bots.ini the running Bots reads (default
                                        <data_volume>/env/production/config/bots.ini)
  extends: <target>                     optional: start from that target's file; this file's top-level keys
                                        replace its keys (paths stay relative to the file that gives them)
  fixes: {file.patch: reason}           optional: the fix overlay, patches to the team's repository (`git diff
                                        -U0`, zero context: none of the team's text is needed) applied in order
                                        to a copy of SOURCE under .state/patched/<target>/ that the image and
                                        the manifests are then built from; the reason says which defect each
                                        fixes (gate.md lists them)
  release:                              optional: release v1.2.0 of this target, for the image rollout procedures
    recipe: dir                         a Dockerfile (ARG BASE_IMAGE: the deployed image) making the release
    separator: str                      how the route's orders from that release separate their fields
                                        (default: images/bots-edi-release, which writes `;` where the deployed
                                        image writes `,`)
  seed: route-plugin                    optional: once the workloads are Ready, the deploy installs the suite's
                                        route edifact_orders through the web UI as production installs one
                                        (edirunbook/plugin.py), as the {admin_user} superuser; without it the
                                        target's own init must make the route (the reference's db-init does)

The runbook's commands keep production's literal paths (app.BOTS_HOME): a target whose Bots keeps its files
elsewhere shows where the runbook's paths miss them.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import string
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edirunbook import paths
from edirunbook.environment.config import read_settings, section
from edirunbook.errors import ConfigError

DEFAULT_TARGET = "reference"
TARGETS_DIR = paths.REPO_ROOT / "targets"
IMAGE_SOURCES = ("build", "archive", "docker", "pull")
SUITE_BASE = "debian"  # in base_images: the suite's Debian base image itself (images.debian_base)
# what `seed:` may say: the suite's route read into the deployment as a Bots plugin (edirunbook/plugin.py)
SEED_ROUTE_PLUGIN = "route-plugin"
SEEDS = (SEED_ROUTE_PLUGIN,)
# where the reference keeps its files: the defaults of `app:`
DEFAULT_DATA_VOLUME = "/home/bots/.bots"
APP_KEYS = ("data_volume", "botssys", "bots_ini")
SECRET_FIELDS = ("db_name", "db_user", "db_password", "db_host", "db_port", "django_secret_key", "admin_user",
                 "admin_password")


@dataclass(frozen=True)
class ImageSource:
    """Where the app image comes from: `how` is one of IMAGE_SOURCES."""

    how: str
    ref: str = ""                      # docker, pull
    path: Path | None = None           # archive: the tarball; build: the context
    dockerfile: Path | None = None     # build
    args: dict[str, str] = field(default_factory=dict)
    base_images: dict[str, str] = field(default_factory=dict)

    def describe(self, source: Path) -> str:
        if self.how == "build":
            return f"built from {_shown(self.dockerfile, source)}"
        if self.how == "archive":
            return f"loaded from {_shown(self.path, source)}"
        return f"{'taken from the local Docker daemon' if self.how == 'docker' else 'pulled'}: {self.ref}"


@dataclass(frozen=True)
class AppPaths:
    """Where a target's Bots keeps its files, as its pods see them (target.yaml `app:`; the reference's by default).

    botssys is under data_volume: the runbook's backups of the data volume cover it, and on the node it is
    botssys_on_volume below the volume's own directory.
    """

    data_volume: str = DEFAULT_DATA_VOLUME
    botssys: str = f"{DEFAULT_DATA_VOLUME}/botssys"
    bots_ini: str = f"{DEFAULT_DATA_VOLUME}/env/production/config/bots.ini"

    @property
    def botssys_on_volume(self) -> str:
        """botssys relative to the data volume's root (`botssys`, `env/dev/botssys`)."""
        return posixpath.relpath(self.botssys, self.data_volume)

    @property
    def inbound(self) -> str:
        """Where the routes' inbound files arrive, one folder per route."""
        return f"{self.botssys}/infile"

    @property
    def data(self) -> str:
        """Bots' message files: data/<n>/ directories."""
        return f"{self.botssys}/data"

    @property
    def logging(self) -> str:
        return f"{self.botssys}/logging"

    def infile(self, route: str) -> str:
        """The inbound directory of a route, as its channel `botssys/infile/<route>` resolves."""
        return f"{self.inbound}/{route}"

    def outfile(self, route: str) -> str:
        """The outbound directory of a route, as its channel `botssys/outfile/<route>` resolves."""
        return f"{self.botssys}/outfile/{route}"


@dataclass(frozen=True)
class Release:
    """Release v1.2.0 of a target: a recipe built on the deployed image, and what its engine runs then write."""

    recipe: Path = paths.IMAGES_DIR / "bots-edi-release"
    separator: str = ";"


@dataclass(frozen=True)
class Target:
    name: str
    directory: Path
    source: Path
    description: str
    image: ImageSource
    image_names: tuple[str, ...]
    manifests: Path
    test_overlay: Path | None
    changes: dict[str, str]
    secrets: dict[str, dict[str, str]]
    substitutions: dict[str, str]
    source_is_suite: bool = True
    origin: Path | None = None  # the checkout as given (SOURCE) when `source` is its patched copy (fixes)
    fixes: dict[Path, str] = field(default_factory=dict)  # patch -> the defect it fixes
    app: AppPaths = field(default_factory=AppPaths)
    release: Release = field(default_factory=Release)
    seed: str | None = None  # one of SEEDS: what the deploy installs once the workloads are Ready

    def secret_data(self, values: dict[str, str]) -> dict[str, dict[str, str]]:
        """Each Secret's keys with the generated values filled in (never written anywhere but the cluster)."""
        return {name: {key: template.format_map(values) for key, template in keys.items()}
                for name, keys in self.secrets.items()}

    def manifests_shown(self) -> str:
        return _shown(self.manifests, self.source)

    @property
    def checkout(self) -> Path:
        """The team's checkout as given (SOURCE), also when the deployment is built from its patched copy."""
        return self.origin or self.source

    def in_checkout(self, path: Path) -> Path:
        """Where a path of the (patched) source is in the checkout as given: for its git commit."""
        return self.checkout / path.relative_to(self.source) if self.origin else path


def target_name() -> str:
    return os.environ.get("TARGET") or DEFAULT_TARGET


def source_dir(explicit: str | None = None) -> Path | None:
    value = explicit if explicit is not None else os.environ.get("SOURCE")
    return Path(value).resolve() if value else None


def built_from_suite(name: str, targets: Path | None = None) -> bool:
    """Whether targets/<name> is built from this repository (`source: suite`, also through `extends:`), so it
    needs no SOURCE checkout."""
    targets = targets or TARGETS_DIR
    file = targets / name / "target.yaml"
    return bool(_with_parents(file, read_settings(file, "description, image, manifests, secrets ..."), targets)
                .get("source", "suite") == "suite")


def load(name: str | None = None, source: Path | None = None, targets: Path | None = None) -> Target:
    """targets/<name>/target.yaml (name: $TARGET, else reference); ConfigError says what is wrong and what to do."""
    name = name or target_name()
    targets = targets or TARGETS_DIR
    directory = targets / name
    file = directory / "target.yaml"
    if not file.exists():
        known = sorted(p.parent.name for p in targets.glob("*/target.yaml"))
        raise ConfigError(f"unknown target {name!r}: there is no {file}; choose one of {', '.join(known) or 'none'} "
                          "(TARGET=NAME for make)")
    data = _with_parents(file, read_settings(file, "description, image, manifests, secrets ..."), targets)
    try:
        return _target(name, directory, file, data, source if source is not None else source_dir())
    except (AttributeError, TypeError, ValueError, KeyError) as error:
        raise ConfigError(f"{file} has a setting of the wrong shape ({error}); compare it with "
                          "targets/reference/target.yaml") from None


# which file gave each top-level key, for the paths in it (set by _with_parents)
_FROM = "__from__"


def _with_parents(file: Path, data: dict[str, Any], targets: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The settings with `extends:` resolved: the parent's keys, replaced key by key by this file's."""
    data = {**data, _FROM: {key: file.parent for key in data}}
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    parent_file = targets / str(parent_name) / "target.yaml"
    if not parent_file.exists():
        raise ConfigError(f"{file}: extends {parent_name!r}, but there is no {parent_file}")
    if parent_file in seen or parent_file == file:
        raise ConfigError(f"{file}: extends {parent_name!r}, which extends it back; a target extends at most a chain")
    parent = _with_parents(parent_file, read_settings(parent_file, "description, image, manifests, ..."), targets,
                           (*seen, file))
    parent.pop("fixes", None)  # a parent's fixes are its own: a target says which patches it applies
    return {**parent, **data, _FROM: {**parent[_FROM], **data[_FROM]}}


def _target(name: str, directory: Path, file: Path, data: dict[str, Any], source: Path | None) -> Target:
    declared = data.get("source", "suite")
    from_suite = declared == "suite"
    if from_suite:
        root = paths.REPO_ROOT
    elif source is None:
        repository = declared.get("repository", "its repository") if isinstance(declared, dict) else declared
        raise ConfigError(f"target {name!r} is built from a checkout of {repository}: give its path, "
                          f"e.g. make gate TARGET={name} SOURCE=/path/to/checkout")
    else:
        root = source
        if not root.is_dir():
            raise ConfigError(f"SOURCE={root} is not a directory: give the path of a checkout of {name}'s repository")
    given_by = data.get(_FROM, {})
    fixes = _fixes(section(data, "fixes", file), directory, file, from_suite)
    origin = None
    if fixes:
        origin, root = root, patched_source(name, root, fixes)
    image = section(data, "image", file)
    manifests = section(data, "manifests", file)
    if "kustomize" not in manifests:
        raise ConfigError(f"{file}: manifests.kustomize must name the kustomize directory to deploy")
    kustomize = root / str(manifests["kustomize"])
    if not (kustomize / "kustomization.yaml").exists() and not (kustomize / "kustomization.yml").exists():
        raise ConfigError(f"{file}: manifests.kustomize {kustomize} has no kustomization.yaml "
                          + ("" if from_suite else "(is SOURCE the right checkout?)"))
    overlay_base = given_by.get("manifests", directory)
    overlay = overlay_base / str(manifests["test_overlay"]) if manifests.get("test_overlay") else None
    if overlay is not None and not (overlay / "kustomization.yaml").exists():
        raise ConfigError(f"{file}: manifests.test_overlay {overlay} has no kustomization.yaml")
    names = image.get("names") or []
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{file}: image.names must list the image names in the manifests this image replaces")
    secrets = section(data, "secrets", file)
    for secret, keys in secrets.items():
        if not isinstance(keys, dict):
            raise ConfigError(f"{file}: secrets.{secret} must map each key to how its value is made")
        for key, template in keys.items():
            unknown = [f for _, f, _, _ in string.Formatter().parse(str(template)) if f and f not in SECRET_FIELDS]
            if unknown:
                raise ConfigError(f"{file}: secrets.{secret}.{key} uses {{{unknown[0]}}}; the values the suite "
                                  f"makes are {', '.join('{' + f + '}' for f in SECRET_FIELDS)}")
    seed = _seed(data.get("seed"), file)
    templates = " ".join(str(t) for keys in secrets.values() for t in keys.values())
    if seed is not None and not all(f"{{{f}}}" in templates for f in ("admin_user", "admin_password")):
        raise ConfigError(f"{file}: seed {seed} logs in to the web UI as the superuser the target's Secrets make: "
                          "give its user name {admin_user} and its password {admin_password} in secrets")
    return Target(
        name=name, directory=directory, source=root, description=str(data.get("description", "")).strip(),
        image=_image_source(image, root, file), image_names=tuple(names), manifests=kustomize,
        test_overlay=overlay, changes={str(k): str(v) for k, v in section(manifests, "changes", file).items()},
        secrets={str(s): {str(k): str(v) for k, v in keys.items()} for s, keys in secrets.items()},
        substitutions={str(k): str(v) for k, v in section(data, "substitutions", file).items()},
        source_is_suite=from_suite, origin=origin, fixes=fixes, app=_app_paths(section(data, "app", file), file),
        release=_release(section(data, "release", file), given_by.get("release", directory), file), seed=seed)


def _release(release: dict[str, Any], directory: Path, file: Path) -> Release:
    if not release:
        return Release()
    if set(release) != {"recipe", "separator"}:
        raise ConfigError(f"{file}: release needs recipe (a directory with a Dockerfile built on ARG BASE_IMAGE) "
                          "and separator (how that release's orders separate their fields), and nothing else")
    recipe = directory / str(release["recipe"])
    if not (recipe / "Dockerfile").is_file():
        raise ConfigError(f"{file}: release.recipe {recipe} has no Dockerfile")
    separator = str(release["separator"])
    if len(separator) != 1:
        raise ConfigError(f"{file}: release.separator must be one character, not {separator!r}")
    return Release(recipe, separator)


def _fixes(fixes: dict[str, Any], directory: Path, file: Path, from_suite: bool) -> dict[Path, str]:
    if fixes and from_suite:
        raise ConfigError(f"{file}: fixes patch a team's checkout (SOURCE); a target built from this suite changes "
                          "its own files instead")
    found: dict[Path, str] = {}
    for patch, reason in fixes.items():
        path = directory / str(patch)
        if not path.is_file():
            raise ConfigError(f"{file}: fixes names {patch}, but there is no {path}")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{file}: fixes.{patch} must say which defect the patch fixes")
        found[path] = reason.strip()
    return found


def patched_source(name: str, checkout: Path, patches: dict[Path, str]) -> Path:
    """A copy of the checkout with the patches applied in order, under .state/patched/<name>/ (reused while the
    checkout and the patches are unchanged); ConfigError names a patch that does not apply and why."""
    digest = hashlib.sha256(f"patched-v1\0{checkout}\0".encode())
    for patch in patches:
        digest.update(patch.name.encode() + b"\0" + patch.read_bytes() + b"\0")
    for entry in _tree_entries(checkout):
        digest.update(entry.encode() + b"\0")
    stamp = digest.hexdigest()
    home = paths.state_dir() / "patched" / name
    tree, stamp_file = home / "source", home / "stamp"  # the stamp outside the copy: not in its build context
    if tree.is_dir() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        return tree
    work = home / "source.new"
    shutil.rmtree(work, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(checkout, work, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    # a plain patch (no repository around it): git must not find this suite's own repository above .state/
    environ = {**os.environ, "GIT_CEILING_DIRECTORIES": str(home)}
    for patch in patches:
        applied = subprocess.run(["git", "apply", "--unidiff-zero", "--whitespace=nowarn", str(patch)], cwd=work,
                                 env=environ, capture_output=True, text=True, check=False, timeout=120)
        if applied.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            error = " ".join(applied.stderr.split())[:400]
            raise ConfigError(f"the fix {patch.name} of target {name!r} does not apply to {checkout}: {error}. Is "
                              "SOURCE the checkout the patches were made for? (git apply --unidiff-zero --check "
                              "there shows the same)")
    stamp_file.unlink(missing_ok=True)
    shutil.rmtree(tree, ignore_errors=True)
    work.rename(tree)
    stamp_file.write_text(stamp)
    return tree


def _tree_entries(root: Path) -> list[str]:
    """Every file of a checkout (not .git) with its size and modification time: a copy is stale when one changes."""
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            path = os.path.join(folder, name)
            info = os.lstat(path)
            entries.append(f"{os.path.relpath(path, root)}:{info.st_size}:{info.st_mtime_ns}")
    return entries


def _app_paths(app: dict[str, Any], file: Path) -> AppPaths:
    unknown = sorted(str(key) for key in app if key not in APP_KEYS)
    if unknown:
        raise ConfigError(f"{file}: app.{unknown[0]} is not a setting; app: may set {', '.join(APP_KEYS)}")
    found: dict[str, str] = {}
    for key, value in app.items():
        if not isinstance(value, str) or not value.startswith("/"):
            raise ConfigError(f"{file}: app.{key} must be an absolute path as the pods see it, not {value!r}")
        found[str(key)] = posixpath.normpath(value)
    data_volume = found.get("data_volume", DEFAULT_DATA_VOLUME)
    paths = AppPaths(data_volume=data_volume, botssys=found.get("botssys", f"{data_volume}/botssys"),
                     bots_ini=found.get("bots_ini", f"{data_volume}/env/production/config/bots.ini"))
    if not paths.botssys.startswith(data_volume.rstrip("/") + "/"):
        raise ConfigError(f"{file}: app.botssys {paths.botssys} is not under app.data_volume {data_volume}: the "
                          "backups of the data volume would not cover it; give the path where the pods mount the "
                          "data volume (bots-edi-data-pvc) and botssys below it")
    return paths


def _seed(value: object, file: Path) -> str | None:
    if value is None:
        return None
    if value not in SEEDS:
        raise ConfigError(f"{file}: seed {value!r} is not known; it may be {', '.join(SEEDS)} (the suite's route "
                          "installed through the web UI), or left out when the target's own init makes the route")
    return str(value)


def _image_source(image: dict[str, Any], root: Path, file: Path) -> ImageSource:
    given = [how for how in IMAGE_SOURCES if how in image]
    if len(given) != 1:
        raise ConfigError(f"{file}: image needs exactly one of {', '.join(IMAGE_SOURCES)} (it has "
                          f"{', '.join(given) or 'none'})")
    how = given[0]
    value = image[how]
    if how == "build":
        if not isinstance(value, dict) or "context" not in value:
            raise ConfigError(f"{file}: image.build needs a context (the directory docker builds)")
        context = root / str(value["context"])
        dockerfile = root / str(value["dockerfile"]) if value.get("dockerfile") else context / "Dockerfile"
        if not dockerfile.exists():
            raise ConfigError(f"{file}: there is no Dockerfile at {dockerfile}")
        return ImageSource(how, path=context, dockerfile=dockerfile,
                           args={str(k): str(v) for k, v in (value.get("args") or {}).items()},
                           base_images={str(k): str(v) for k, v in (value.get("base_images") or {}).items()})
    if how == "archive":
        archive = root / str(value)
        if not archive.is_file():
            raise ConfigError(f"{file}: image.archive {archive} does not exist (make it with docker save -o)")
        return ImageSource(how, path=archive)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{file}: image.{how} must be an image reference")
    return ImageSource(how, ref=value)


def _shown(path: Path | None, root: Path) -> str:
    if path is None:
        return ""
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)
