"""Build a team's own Dockerfile on this machine, content-addressed, without pulling anything.

The images its FROM lines name are provided by the suite's recipes (`base_images`: FROM name -> recipe
under images/) unless the daemon already has them; the result is tagged `edirunbook/target-<name>:<hash>`,
where the hash covers the build context as docker sends it (.dockerignore applied), the Dockerfile, the
build arguments and the base images' IDs. An unchanged input set finds its tag and builds nothing.
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import stat
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from edirunbook import images, paths
from edirunbook.docker.daemon import Docker
from edirunbook.errors import BuildError
from edirunbook.process import note, step
from edirunbook.target import SUITE_BASE

__all__ = ["BaseImage", "DockerIgnore", "build", "context_digest", "image_digest", "required_images"]

HASH_LENGTH = 12
_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


def build(docker: Docker, *, context: Path, dockerfile: Path, build_args: Mapping[str, str],
          base_images: Mapping[str, str], name: str) -> str:
    """Build `dockerfile` on `context` as edirunbook/target-<name>:<hash> (skipped when that tag exists)."""
    if not _NAME.fullmatch(name):
        raise BuildError(f"target name {name!r} cannot be part of an image name: use lowercase letters, digits, "
                         "and '.', '_' or '-' between them.")
    context, dockerfile = context.resolve(), dockerfile.resolve()
    if not dockerfile.is_file():
        raise BuildError(f"the Dockerfile {dockerfile} does not exist (target {name!r}).")
    text = dockerfile.read_text()
    if "ARG EXTRA_CA_CERTS" in text and "EXTRA_CA_CERTS" not in build_args:
        build_args = {**build_args, "EXTRA_CA_CERTS": images.local_ca_certificates()}  # as images.recipe does
    needed = required_images(text, build_args, source=str(dockerfile))
    ids = provide_base_images(docker, needed, base_images)
    digest = hashlib.sha256()
    for part in ("teamimage-v1", context_digest(context, dockerfile), text,
                 *(f"arg:{k}={v}" for k, v in sorted(build_args.items())),
                 *(f"base:{image}={image_id}" for image, image_id in ids.items())):
        digest.update(part.encode() + b"\0")
    ref = f"edirunbook/target-{name}:{digest.hexdigest()[:HASH_LENGTH]}"
    with paths.cache_lock(ref):
        if images.exists(docker, ref):
            note(f"{ref} is up to date (context, Dockerfile, build args and base images unchanged)")
            return ref
        with step(f"building {ref} from {dockerfile} (context {context})"):
            images.docker_build(docker, context, ref, build_args=build_args, dockerfile=dockerfile,
                                name=f"target-{name}")
        return ref


def image_digest(docker: Docker, ref: str) -> str:
    """The image ID (sha256:...) of `ref`, for reports."""
    image_id = _image_id(docker, ref)
    if image_id is None:
        raise BuildError(f"the daemon has no image {ref}; build it first.")
    return image_id


# --- the images a Dockerfile needs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseImage:
    """An image a Dockerfile builds on: as written after ARG substitution, and where."""

    name: str
    line: int
    source: str = "Dockerfile"

    def where(self) -> str:
        return f"{self.source}:{self.line}"


def required_images(text: str, build_args: Mapping[str, str] | None = None, *,
                    source: str = "Dockerfile") -> list[BaseImage]:
    """Images named by FROM (and COPY --from) lines; stage names, stage numbers and scratch are not images."""
    args = dict(build_args or {})
    scope: dict[str, str] = {}
    stages: set[str] = set()
    found: list[BaseImage] = []
    seen_from = False
    for line, instruction, rest in _instructions(text):
        if instruction == "ARG" and not seen_from:
            for declaration in _split(rest, source, line):
                key, has_default, default = declaration.partition("=")
                if key in args:
                    scope[key] = args[key]
                elif has_default:
                    scope[key] = _substitute(default, scope)
        elif instruction == "FROM":
            seen_from = True
            words = [w for w in _split(rest, source, line) if not w.startswith("--")]
            if not words:
                raise BuildError(f"{source}:{line}: FROM without an image.")
            image = _substitute(words[0], scope)
            if not image:
                raise BuildError(f"{source}:{line}: FROM {words[0]} names no image: pass that build argument.")
            stage = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
            if image.lower() not in stages and image.lower() != "scratch":
                found.append(BaseImage(image, line, source))
            if stage:
                stages.add(stage)
        elif instruction == "COPY":
            for word in _split(rest, source, line):
                if word.startswith("--from="):
                    image = _substitute(word[len("--from="):], scope)
                    if image and not image.isdigit() and image.lower() not in stages:
                        found.append(BaseImage(image, line, source))
    unique: dict[str, BaseImage] = {}
    for item in found:
        unique.setdefault(item.name, item)
    return list(unique.values())


def provide_base_images(docker: Docker, needed: Iterable[BaseImage], base_images: Mapping[str, str]) -> dict[str, str]:
    """Make every needed image present (recipe + tag where the daemon lacks it; never a pull): name -> image ID."""
    recipes = {_normalise(k): v for k, v in base_images.items()}
    ids: dict[str, str] = {}
    for image in needed:
        present = _image_id(docker, image.name)
        recipe_name = recipes.get(_normalise(image.name))
        if recipe_name is not None and (present is None or _built_here(docker, image.name)):
            present = _from_recipe(docker, image, recipe_name)
        if present is None:
            raise BuildError(
                f"{image.where()} needs the image {image.name!r}, which this Docker daemon does not have, and the "
                "suite never pulls. Provide it in the target file's `base_images` (FROM name -> recipe under images/, "
                f"e.g. {{{image.name!r}: <recipe>}}), or put it into the daemon yourself (docker load / docker pull "
                "where a registry is reachable).")
        ids[image.name] = present
    return ids


def _from_recipe(docker: Docker, image: BaseImage, recipe_name: str) -> str:
    if recipe_name != SUITE_BASE and not (paths.IMAGES_DIR / recipe_name / "Dockerfile").is_file():
        raise BuildError(f"base_images maps {image.name!r} to the recipe {recipe_name!r}, but "
                         f"{paths.IMAGES_DIR / recipe_name / 'Dockerfile'} does not exist.")
    if "@" in image.name:
        raise BuildError(f"{image.where()} pins {image.name!r} by digest, which no locally built image can carry. "
                         "Build FROM a tag, or load that exact image into the daemon (docker load).")
    if recipe_name == SUITE_BASE:
        built = images.debian_base(docker)
    else:
        ca = images.local_ca_certificates()  # baked into the recipe's image: a new CA must rebuild it
        built = images.recipe(docker, recipe_name, images.debian_base(docker),
                              extra=[hashlib.sha256(ca.encode()).hexdigest()] if ca else [])
    built_id = _image_id(docker, built)
    if built_id is None:
        raise BuildError(f"the recipe images/{recipe_name} was built as {built}, but the daemon does not have it.")
    if _image_id(docker, image.name) != built_id:
        images.tag(docker, built, image.name)
        note(f"{image.name} is {built} (images/{recipe_name}; the daemon had no image of its own by that name)")
    return built_id


def _image_id(docker: Docker, ref: str) -> str | None:
    result = docker.run("image", "inspect", "--format", "{{.Id}}", ref, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def _built_here(docker: Docker, ref: str) -> bool:
    """An image this suite built (so a newer recipe may replace the tag), not one pulled or loaded by someone."""
    key, _, value = images.OWNER_LABEL.partition("=")
    result = docker.run("image", "inspect", "--format", f'{{{{index .Config.Labels "{key}"}}}}', ref, check=False)
    return result.returncode == 0 and result.stdout.strip() == value


def _normalise(ref: str) -> str:
    """docker.io/library/python:3.11-slim, python:3.11-slim -> one key; a missing tag is :latest."""
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last or "@" in last else f"{ref}:latest"


def _instructions(text: str) -> Iterator[tuple[int, str, str]]:
    """(first line number, INSTRUCTION, arguments) per logical line: continuations joined, comments dropped."""
    escape = "\\"
    lines = text.splitlines()
    for raw in lines:  # parser directives: only at the very top
        match = re.fullmatch(r"\s*#\s*(\w+)\s*=\s*(\S+)\s*", raw)
        if not match:
            break
        if match.group(1).lower() == "escape":
            escape = match.group(2)
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and (not stripped or stripped.startswith("#")):
            continue  # comments and empty lines inside a continued instruction are dropped, as docker does
        if not buffer:
            start = number
        if stripped.endswith(escape):
            buffer.append(stripped[: -len(escape)])
            continue
        buffer.append(stripped)
        logical = " ".join(buffer)
        buffer = []
        instruction, _, rest = logical.partition(" ")
        yield start, instruction.upper(), rest.strip()
    if buffer:
        logical = " ".join(buffer)
        instruction, _, rest = logical.partition(" ")
        yield start, instruction.upper(), rest.strip()


def _split(rest: str, source: str, line: int) -> list[str]:
    try:
        return shlex.split(rest, comments=False, posix=True)
    except ValueError as error:
        raise BuildError(f"{source}:{line}: cannot read {rest!r} ({error}).") from None


_VARIABLE = re.compile(r"\\\$|\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+])?(?P<word>[^}]*)\}"
                       r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def _substitute(value: str, scope: Mapping[str, str]) -> str:
    """Dockerfile variable expansion: $X, ${X}, ${X:-default}, ${X:+alternative}; unset is empty."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "\\$":
            return "$"
        name = match.group("braced") or match.group("plain")
        current = scope.get(name)
        op = match.group("op")
        if op in (":-", "-"):
            unset = current is None or (op == ":-" and current == "")
            return _substitute(match.group("word"), scope) if unset else str(current)
        if op in (":+", "+"):
            isset = current is not None and (op == "+" or current != "")
            return _substitute(match.group("word"), scope) if isset else ""
        return current or ""

    return _VARIABLE.sub(replace, value)


# --- the build context as docker sends it ---------------------------------------------------------------------


class DockerIgnore:
    """.dockerignore as the docker client applies it while walking the context (moby/patternmatcher's
    MatchesUsingParentResults): patterns in order, a directory's matches inherited by what is inside it, and an
    excluded directory not entered unless a `!` pattern names something inside it. The client always sends
    .dockerignore and the Dockerfile: pass `always` to include them."""

    def __init__(self, lines: Iterable[str], always: Iterable[str] = ()) -> None:
        self.patterns: list[tuple[str, bool]] = []  # (cleaned pattern, exclusion)
        for raw in [*lines, *(f"!{keep}" for keep in always)]:
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            exclusion = text.startswith("!")
            if exclusion:
                text = text[1:].strip()
            text = os.path.normpath(text).replace(os.sep, "/") if text else "."
            if len(text) > 1 and text.startswith("/"):
                text = text[1:]
            if text != ".":
                self.patterns.append((text, exclusion))
        try:
            self._regexes = [re.compile(_pattern_regex(p) + r"\Z", re.DOTALL) for p, _ in self.patterns]
            # one call answers "does any pattern match this path itself?": most paths are decided by their dir
            self._any = re.compile("(?:" + "|".join(_pattern_regex(p) for p, _ in self.patterns) + r")\Z",
                                   re.DOTALL) if self.patterns else None
        except re.error as error:
            raise BuildError(f".dockerignore has a pattern docker cannot use either ({error}).") from None
        self._dirs: dict[str, _DirMatch] = {"": _DirMatch((False,) * len(self.patterns), False, False)}

    @classmethod
    def of(cls, context: Path, always: Iterable[str] = (".dockerignore",)) -> DockerIgnore:
        file = context / ".dockerignore"
        return cls(file.read_text().splitlines() if file.is_file() else [], always)

    def _match(self, rel: str, parent: tuple[bool, ...]) -> tuple[bool, tuple[bool, ...]]:
        """(excluded, which patterns matched) for `rel` whose parent directory matched `parent`."""
        matched = False
        result = []
        for (_, exclusion), regex, inherited in zip(self.patterns, self._regexes, parent, strict=True):
            match = inherited
            if not match and exclusion == matched:
                match = regex.match(rel) is not None
            result.append(match)
            if match:
                matched = not exclusion
        return matched, tuple(result)

    def _dir(self, rel: str) -> _DirMatch:
        cached = self._dirs.get(rel)
        if cached is None:
            parent = self._dir(rel.rpartition("/")[0])
            excluded, vector = self._match(rel, parent.vector)
            skipped = parent.skipped or (excluded and not self._opened(rel))
            inherited = [not exclusion for (_, exclusion), hit in zip(self.patterns, vector, strict=True) if hit]
            cached = self._dirs[rel] = _DirMatch(vector, skipped, bool(inherited) and inherited[-1])
        return cached

    def _opened(self, rel: str) -> bool:
        return any(exclusion and (p + "/").startswith(rel + "/") for p, exclusion in self.patterns)

    def excluded(self, rel: str) -> bool:
        """Whether the file at `rel` (relative to the context, '/'-separated) stays out of the context."""
        parent = self._dir(rel.rpartition("/")[0])
        if parent.skipped:
            return True
        if self._any is None or not self._any.match(rel):
            return parent.inherited  # no pattern matches the path itself: its directory's matches decide
        return self._match(rel, parent.vector)[0]

    def skips_dir(self, rel: str) -> bool:
        """Whether the walk does not enter the directory `rel` at all."""
        return self._dir(rel).skipped


@dataclass(frozen=True)
class _DirMatch:
    vector: tuple[bool, ...]  # which patterns matched the directory (or were inherited from its parent)
    skipped: bool  # the walk does not enter it
    inherited: bool  # what its matches alone decide for a path inside that no pattern matches itself


def _pattern_regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1: i + 2] == "*":
                i += 2
                if pattern[i: i + 1] == "/":
                    i += 1
                out.append(".*" if i >= len(pattern) else "(?:.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise BuildError(f".dockerignore pattern {pattern!r}: '[' without ']'.")
            out.append(pattern[i: end + 1])  # a class goes to the regex as written, as docker's does
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def context_digest(context: Path, dockerfile: Path | None = None) -> str:
    """sha256 over (path, mode, git blob id) of every file docker would send from `context`.

    A git work tree is read from git: the committed tree's listing, then every file `git status` reports as
    changed, untracked or ignored, read from disk (so no file is read twice and unchanged files are not read
    at all). Anything else is walked and read. Both give the same digest for the same files.
    """
    always = [".dockerignore"]
    if dockerfile is not None and dockerfile.resolve().is_relative_to(context.resolve()):
        always.append(dockerfile.resolve().relative_to(context.resolve()).as_posix())
    ignore = DockerIgnore.of(context, always)
    listing = _git_listing(context, ignore)
    if listing is None:
        listing = dict(_walk(context, "", ignore))
    digest = hashlib.sha256()
    for rel in sorted(listing):
        digest.update(f"{rel}\0{listing[rel]}\0".encode())
    return digest.hexdigest()


def _git(context: Path, *args: str) -> str | None:
    """git's stdout alone (a warning on stderr must not become a path), or None where git cannot answer."""
    try:
        result = subprocess.run(["git", "-C", str(context), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return os.fsdecode(result.stdout) if result.returncode == 0 else None


def _git_listing(context: Path, ignore: DockerIgnore) -> dict[str, str] | None:
    inside = _git(context, "rev-parse", "--is-inside-work-tree", "--show-prefix")
    if inside is None or not inside.startswith("true") or _git(context, "rev-parse", "--verify", "-q", "HEAD") is None:
        return None
    prefix = inside.splitlines()[1].strip() if len(inside.splitlines()) > 1 else ""
    # --full-tree: run in a subdirectory, ls-tree would otherwise keep only the entries under that same prefix
    # inside the subtree it is given (none), and every committed file would drop out of the digest
    tree = _git(context, "ls-tree", "--full-tree", "-r", "-z", f"HEAD:{prefix}" if prefix else "HEAD^{tree}")
    status = _git(context, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=traditional",
                  "--", ".")
    if tree is None or status is None:
        return None
    listing: dict[str, str] = {}
    for entry in filter(None, tree.split("\0")):
        meta, _, rel = entry.partition("\t")
        mode, kind, obj = meta.split(" ")
        if kind == "commit":
            return None  # a submodule: docker sends its files, so read them from disk instead
        if not ignore.excluded(rel):
            listing[rel] = f"{mode} {obj}"
    fields = status.split("\0")
    changed: list[str] = []
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        changed.append(entry[3:])
        if entry[0] in "RC":  # a rename or copy: the next field is where it came from
            changed.append(fields[i])
            i += 1
    for path in changed:
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix):].rstrip("/")
        file = context / rel
        if file.is_dir() and not file.is_symlink():
            listing.update(_walk(context, rel, ignore))
        elif ignore.excluded(rel):
            continue
        elif file.is_symlink() or file.exists():
            listing[rel] = _token(file)
        else:
            listing.pop(rel, None)
    return listing


def _walk(context: Path, start: str, ignore: DockerIgnore) -> Iterator[tuple[str, str]]:
    for root, dirs, files in os.walk(context / start if start else context):
        base = os.path.relpath(root, context).replace(os.sep, "/")
        base = "" if base == "." else base
        kept = []
        for d in sorted(dirs):
            rel = f"{base}/{d}" if base else d
            if os.path.islink(os.path.join(root, d)):
                files.append(d)
            elif not ignore.skips_dir(rel):
                kept.append(d)
        dirs[:] = kept
        for f in files:
            rel = f"{base}/{f}" if base else f
            if not ignore.excluded(rel):
                yield rel, _token(Path(root) / f)


def _token(file: Path) -> str:
    """Mode and git blob id of one file as on disk: what `git ls-tree` shows for it once committed."""
    info = file.lstat()
    if stat.S_ISLNK(info.st_mode):
        return "120000 " + _blob_id(os.readlink(file).encode())
    digest = hashlib.sha1(b"blob %d\0" % info.st_size, usedforsecurity=False)
    with file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return ("100755 " if info.st_mode & stat.S_IXUSR else "100644 ") + digest.hexdigest()


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
