"""Content-addressed image builds: an image is rebuilt only when the inputs of its recipe change.

Every image this suite builds is tagged `edirunbook/<name>:<hash>`, where the hash covers the
recipe's files and every input passed in (versions, base image). A second build with unchanged
inputs finds the tag and does nothing.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from edirunbook import paths, versions
from edirunbook.docker.daemon import Docker, apt_install
from edirunbook.errors import BuildError, CommandFailed
from edirunbook.process import run, step

OWNER_LABEL = "edirunbook.owner=edirunbook"


def content_hash(*inputs: Path | str, length: int = 12) -> str:
    """sha256 over files (path + bytes, directories walked in order) and strings."""
    digest = hashlib.sha256()
    for item in inputs:
        if isinstance(item, Path):
            files = sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
            for file in files:
                rel = file.relative_to(item) if item.is_dir() else Path(file.name)
                digest.update(f"file:{rel}\0".encode())
                digest.update(file.read_bytes())
        else:
            digest.update(f"str:{item}\0".encode())
    return digest.hexdigest()[:length]


def exists(docker: Docker, ref: str) -> bool:
    return docker.run("image", "inspect", "--format", "{{.Id}}", ref, check=False).returncode == 0


def build_log(name: str) -> Path:
    return paths.cache_dir() / "logs" / f"build-{name}.log"


def docker_build(docker: Docker, context: Path, ref: str, *, build_args: Mapping[str, str] | None = None,
                 dockerfile: Path | None = None, name: str = "") -> None:
    args = ["build", "--label", OWNER_LABEL, "-t", ref]
    env = {**docker.env(), "DOCKER_BUILDKIT": "0"}
    for key, value in (build_args or {}).items():
        # values travel in the environment (`--build-arg KEY`), so logs show names, not contents
        args += ["--build-arg", key]
        env[key] = value
    if dockerfile:
        args += ["-f", str(dockerfile)]
    log = build_log(name or ref.split("/")[-1].split(":")[0])
    try:
        run(["docker", *args, str(context)], env=env, log=log)
    except CommandFailed as error:
        raise BuildError(f"building {ref} failed; full log in {log}\n{error}") from None


def tag(docker: Docker, source: str, *targets: str) -> None:
    for target in targets:
        docker.run("tag", source, target)


def debian_base(docker: Docker) -> str:
    """Debian minbase imported from a debootstrapped rootfs: the base of every image built here."""
    include = ["ca-certificates"]
    ref = f"edirunbook/debian:{versions.DEBIAN_SUITE}-" + content_hash(
        "debootstrap", "minbase", versions.DEBIAN_SUITE, versions.DEBIAN_MIRROR, *include)
    with paths.cache_lock(ref):
        if exists(docker, ref):
            return ref
        if not shutil.which("debootstrap"):
            apt_install(["debootstrap"])
        with step(f"building {ref} with debootstrap ({versions.DEBIAN_SUITE}, minbase)"), \
                tempfile.TemporaryDirectory(dir=paths.cache_dir()) as tmp:
            rootfs = Path(tmp) / "rootfs"
            log = build_log("debian")
            try:
                run(["debootstrap", "--variant=minbase", f"--include={','.join(include)}", versions.DEBIAN_SUITE,
                     str(rootfs), versions.DEBIAN_MIRROR], log=log, timeout=1800)
            except CommandFailed as error:
                raise BuildError(f"debootstrap failed; full log in {log}\n{error}") from None
            for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for item in (rootfs / cache).glob("*"):
                    if item.is_file():
                        item.unlink()
            run(["tar", "-C", str(rootfs), "-c", "-f", str(Path(tmp) / "rootfs.tar"), "."])
            docker.run("import", "--change", f"LABEL {OWNER_LABEL}", "--change", 'CMD ["/bin/bash"]',
                       str(Path(tmp) / "rootfs.tar"), ref, timeout=600)
        return ref


LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")


def local_ca_certificates() -> str:
    """The CAs this machine trusts beyond the system bundle (Debian's local CA directory), as PEM text.

    Where the network intercepts TLS (a proxy in front of PyPI), build containers need them to
    download packages; recipes opt in by declaring `ARG EXTRA_CA_CERTS` in a builder stage.
    """
    if not LOCAL_CA_DIR.is_dir():
        return ""
    return "".join(p.read_text() for p in sorted(LOCAL_CA_DIR.rglob("*.crt")))


def recipe(docker: Docker, name: str, base: str, *, extra: Iterable[str] = (), context: Path | None = None,
           args: Mapping[str, str] | None = None) -> str:
    """Build images/<name> (or `context`: a Dockerfile taking ARG BASE_IMAGE) on top of `base`, with more build
    `args` (part of the tag's hash, like `extra`)."""
    context = context or paths.IMAGES_DIR / name
    more = dict(args or {})
    ref = f"edirunbook/{name}:" + content_hash(context, base, *extra, *(f"{k}={v}" for k, v in sorted(more.items())))
    with paths.cache_lock(ref):
        if not exists(docker, ref):
            build_args = {"BASE_IMAGE": base, **more}
            if "ARG EXTRA_CA_CERTS" in (context / "Dockerfile").read_text():
                build_args["EXTRA_CA_CERTS"] = local_ca_certificates()
            with step(f"building {ref} from {paths.shown(context)}"):
                docker_build(docker, context, ref, build_args=build_args, name=name)
    return ref


def scratch_image(docker: Docker, binary: Path, key: str, ref: str, *, beside: tuple[tuple[Path, str], ...] = ()) \
        -> None:
    """A FROM-scratch image holding one static binary (its entrypoint), tagged as kubeadm expects; `beside` adds
    more static binaries, each (file, directory in the image): an add-on's plugins."""
    name = binary.name
    cached = f"edirunbook/{name}:{content_hash('scratch', key, ref, *(f'{f.name}>{d}' for f, d in beside))}"
    with paths.cache_lock(cached):
        if not exists(docker, cached):
            with tempfile.TemporaryDirectory() as tmp:
                copies = [f"COPY {name} /usr/local/bin/{name}"]
                for number, (extra, directory) in enumerate(beside):
                    (Path(tmp) / str(number)).mkdir()
                    shutil.copy2(extra, Path(tmp) / str(number) / extra.name)
                    copies.append(f"COPY {number}/{extra.name} {directory.rstrip('/')}/{extra.name}")
                shutil.copy2(binary, Path(tmp) / name)
                (Path(tmp) / "Dockerfile").write_text(
                    "FROM scratch\n" + "".join(f"{line}\n" for line in copies) +
                    "ENV PATH=/usr/local/bin:/usr/bin:/bin\n"
                    f'ENTRYPOINT ["/usr/local/bin/{name}"]\n')
                docker_build(docker, Path(tmp), cached, name=name)
    tag(docker, cached, ref)
