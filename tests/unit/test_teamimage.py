"""A team's Dockerfile builds here: its FROM images come from recipes when missing, its tag follows its inputs."""
from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edirunbook import images, target, teamimage
from edirunbook.docker.daemon import Docker
from edirunbook.errors import BuildError
from edirunbook.teamimage import DockerIgnore, context_digest, required_images

OWNER_KEY, _, OWNER_VALUE = images.OWNER_LABEL.partition("=")


@dataclass(frozen=True)
class FakeDaemon(Docker):
    """The docker CLI as teamimage and images call it: image inspect and tag, on an in-memory image store."""

    host: str | None = None
    store: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)  # ref -> (id, labels)
    builds: list[str] = field(default_factory=list)
    recipes: list[tuple[str, str]] = field(default_factory=list)  # (recipe, base) per images.recipe call

    def add(self, ref: str, image_id: str, *, ours: bool = False) -> None:
        self.store[ref] = (image_id, {OWNER_KEY: OWNER_VALUE} if ours else {})

    def run(self, *args: str, check: bool = True, timeout: float | None = None,
            input: str | bytes | None = None) -> subprocess.CompletedProcess[str]:
        if args[:3] == ("image", "inspect", "--format"):
            fmt, ref = args[3], args[4]
            if ref not in self.store:
                return subprocess.CompletedProcess(list(args), 1, "", f"Error: No such image: {ref}")
            image_id, labels = self.store[ref]
            out = image_id if fmt == "{{.Id}}" else labels.get(OWNER_KEY, "<no value>")
            return subprocess.CompletedProcess(list(args), 0, out + "\n", "")
        if args[0] == "tag":
            self.store[args[2]] = self.store[args[1]]
            return subprocess.CompletedProcess(list(args), 0, "", "")
        raise AssertionError(f"unexpected docker call: {args}")


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> FakeDaemon:
    fake = FakeDaemon()
    def recipe(docker: Docker, name: str, base: str, *, extra: object = ()) -> str:
        fake.recipes.append((name, base))
        ref = f"edirunbook/{name}:r1"
        fake.add(ref, f"sha256:recipe-{name}", ours=True)
        return ref

    def docker_build(docker: Docker, context: Path, ref: str, *, build_args: Mapping[str, str] | None = None,
                     dockerfile: Path | None = None, name: str = "") -> None:
        fake.builds.append(ref)
        fake.add(ref, f"sha256:built-{len(fake.builds)}", ours=True)

    monkeypatch.setattr(images, "recipe", recipe)
    def debian_base(docker: Docker) -> str:
        fake.add("edirunbook/debian:bookworm-test", "sha256:debian", ours=True)
        return "edirunbook/debian:bookworm-test"

    monkeypatch.setattr(images, "debian_base", debian_base)
    monkeypatch.setattr(images, "docker_build", docker_build)
    monkeypatch.setattr(images, "local_ca_certificates", lambda: "")
    return fake


CUSTOMER_STYLE = """\
# Multi-stage Dockerfile
FROM python:3.11-slim AS builder
RUN apt-get update && apt-get install -y \\
      gcc \\
    && rm -rf /var/lib/apt/lists/*
FROM python:3.11-slim AS runtime
COPY --from=builder /wheels /wheels
FROM runtime AS production
CMD []
"""


# --- which images a Dockerfile needs --------------------------------------------------------------------------


def test_stages_built_from_stages_are_not_images() -> None:
    needed = required_images(CUSTOMER_STYLE)
    assert [(i.name, i.line) for i in needed] == [("python:3.11-slim", 2)]


def test_arg_defaults_and_build_args_name_the_image() -> None:
    text = "ARG PY=3.11\nARG VARIANT=slim\nARG BASE=python:${PY}-${VARIANT}\nFROM ${BASE} AS app\n"
    assert [i.name for i in required_images(text)] == ["python:3.11-slim"]
    assert [i.name for i in required_images(text, {"PY": "3.12"})] == ["python:3.12-slim"]
    assert [i.name for i in required_images(text, {"BASE": "debian:bookworm"})] == ["debian:bookworm"]


def test_only_declared_args_reach_from_and_defaults_fill_unset_ones() -> None:
    text = "ARG TAG\nFROM busybox:${TAG:-1.36}\nFROM alpine:$UNDECLARED_IS_EMPTY${X:-3.20}\n"
    assert [i.name for i in required_images(text, {"UNDECLARED_IS_EMPTY": "9"})] == ["busybox:1.36", "alpine:3.20"]
    assert [i.name for i in required_images(text, {"TAG": "1.37"})][0] == "busybox:1.37"


def test_platform_flags_case_scratch_and_copy_from() -> None:
    text = ("from --platform=$BUILDPLATFORM golang:1.26 as Build\n"
            "FROM scratch\n"
            "COPY --from=build /out /bin\n"
            "COPY --from=0 /x /y\n"
            "COPY --from=nginx:1.27 /etc/nginx /etc/nginx\n"
            "FROM BUILD AS again\n")
    assert [i.name for i in required_images(text)] == ["golang:1.26", "nginx:1.27"]


def test_continuations_comments_and_the_escape_directive() -> None:
    text = "# escape=`\n# a comment\nFROM `\n  # comment inside\n  debian:bookworm `\n  AS base\nFROM base\n"
    assert [(i.name, i.line) for i in required_images(text)] == [("debian:bookworm", 3)]


def test_a_from_that_names_nothing_says_which_argument() -> None:
    with pytest.raises(BuildError, match="pass that build argument"):
        required_images("ARG BASE\nFROM ${BASE}\n")


# --- providing them -------------------------------------------------------------------------------------------


def test_a_missing_mapped_image_is_built_from_its_recipe_and_tagged(daemon: FakeDaemon) -> None:
    ids = teamimage.provide_base_images(daemon, required_images(CUSTOMER_STYLE),
                                        {"python:3.11-slim": "python-3.11-slim"})
    assert ids == {"python:3.11-slim": "sha256:recipe-python-3.11-slim"}
    assert daemon.store["python:3.11-slim"][0] == "sha256:recipe-python-3.11-slim"
    assert daemon.recipes == [("python-3.11-slim", "edirunbook/debian:bookworm-test")]


def test_debian_names_the_suites_own_base_image(daemon: FakeDaemon) -> None:
    ids = teamimage.provide_base_images(daemon, required_images("FROM debian:bookworm-slim\n"),
                                        {"debian:bookworm-slim": target.SUITE_BASE})
    assert ids == {"debian:bookworm-slim": "sha256:debian"} and daemon.recipes == []


def test_an_image_the_daemon_has_of_its_own_is_used_as_it_is(daemon: FakeDaemon) -> None:
    daemon.add("python:3.11-slim", "sha256:official")
    ids = teamimage.provide_base_images(daemon, required_images(CUSTOMER_STYLE),
                                        {"python:3.11-slim": "python-3.11-slim"})
    assert ids == {"python:3.11-slim": "sha256:official"}
    assert daemon.recipes == []


def test_a_tag_this_suite_made_follows_the_recipe(daemon: FakeDaemon) -> None:
    daemon.add("python:3.11-slim", "sha256:older-recipe", ours=True)
    ids = teamimage.provide_base_images(daemon, required_images(CUSTOMER_STYLE),
                                        {"docker.io/library/python:3.11-slim": "python-3.11-slim"})
    assert ids == {"python:3.11-slim": "sha256:recipe-python-3.11-slim"}


def test_an_image_neither_present_nor_mapped_is_named_with_the_way_to_provide_it(daemon: FakeDaemon) -> None:
    with pytest.raises(BuildError) as error:
        teamimage.provide_base_images(daemon, required_images(CUSTOMER_STYLE, source="team/Dockerfile"), {})
    message = str(error.value)
    assert "'python:3.11-slim'" in message and "team/Dockerfile:2" in message and "base_images" in message
    assert daemon.recipes == []


def test_a_mapping_to_a_recipe_that_does_not_exist_says_so(daemon: FakeDaemon) -> None:
    with pytest.raises(BuildError, match="no-such-recipe"):
        teamimage.provide_base_images(daemon, required_images(CUSTOMER_STYLE), {"python:3.11-slim": "no-such-recipe"})


# --- the tag follows the inputs -------------------------------------------------------------------------------


def make_context(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print('hello')\n")
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("# guide\n")
    (root / "README.md").write_text("# readme\n")
    (root / ".dockerignore").write_text(".git\ndocs/\n*.md\n**/__pycache__\n")
    (root / "Dockerfile").write_text(CUSTOMER_STYLE)
    return root


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                   check=True, capture_output=True)


def git_context(root: Path) -> Path:
    make_context(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def build(daemon: FakeDaemon, context: Path, **changes: object) -> str:
    options: dict[str, object] = {"build_args": {}, "base_images": {"python:3.11-slim": "python-3.11-slim"},
                                  "name": "team", **changes}
    return teamimage.build(daemon, context=context, dockerfile=context / "Dockerfile", **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["git", "plain"])
def test_the_tag_changes_with_a_sent_file_and_not_with_an_ignored_one(daemon: FakeDaemon, tmp_path: Path,
                                                                      kind: str) -> None:
    context = git_context(tmp_path / "ctx") if kind == "git" else make_context(tmp_path / "ctx")
    first = build(daemon, context)
    assert first.startswith("edirunbook/target-team:") and daemon.builds == [first]

    assert build(daemon, context) == first and daemon.builds == [first]  # unchanged: no second build
    (context / "docs" / "guide.md").write_text("# changed guide\n")
    (context / "README.md").write_text("# changed readme\n")
    (context / "app" / "__pycache__").mkdir()
    (context / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    assert build(daemon, context) == first

    (context / "app" / "main.py").write_text("print('changed')\n")
    changed = build(daemon, context)
    assert changed != first and daemon.builds == [first, changed]
    (context / "app" / "new.py").write_text("")  # an untracked file is sent too
    assert build(daemon, context) not in (first, changed)


def test_a_commit_of_the_same_files_keeps_the_tag(daemon: FakeDaemon, tmp_path: Path) -> None:
    context = git_context(tmp_path / "ctx")
    (context / "app" / "main.py").write_text("print('changed')\n")
    (context / "app" / "gone.py").write_text("x = 1\n")
    dirty = build(daemon, context)
    git(context, "add", "-A")
    git(context, "commit", "-q", "-m", "change")
    assert build(daemon, context) == dirty
    (context / "app" / "gone.py").unlink()
    assert build(daemon, context) != dirty


def test_build_args_and_base_images_are_inputs(daemon: FakeDaemon, tmp_path: Path) -> None:
    context = make_context(tmp_path / "ctx")
    first = build(daemon, context)
    assert build(daemon, context, build_args={"VERSION": "2"}) != first
    daemon.add("python:3.11-slim", "sha256:another-base")  # an image of the daemon's own now
    assert build(daemon, context) != first


def test_a_dockerfile_that_asks_for_the_local_cas_gets_them(daemon: FakeDaemon, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    context = make_context(tmp_path / "ctx")
    (context / "Dockerfile").write_text("FROM python:3.11-slim\nARG EXTRA_CA_CERTS\n")
    given: list[Mapping[str, str] | None] = []
    monkeypatch.setattr(images, "docker_build", lambda docker, ctx, ref, *, build_args=None, dockerfile=None,
                        name="": given.append(build_args))
    monkeypatch.setattr(images, "local_ca_certificates", lambda: "-----BEGIN CERTIFICATE-----\n")
    build(daemon, context)
    assert given == [{"EXTRA_CA_CERTS": "-----BEGIN CERTIFICATE-----\n"}]


def test_git_and_a_plain_walk_agree(tmp_path: Path) -> None:
    context = git_context(tmp_path / "ctx")
    (context / "app" / "main.py").chmod(0o755)
    (context / "app" / "link.py").symlink_to("main.py")
    (context / "app" / "untracked.txt").write_text("u")
    via_git = context_digest(context, context / "Dockerfile")
    plain = tmp_path / "plain"
    subprocess.run(["cp", "-a", str(context), str(plain)], check=True)
    subprocess.run(["rm", "-rf", str(plain / ".git")], check=True)
    assert context_digest(plain, plain / "Dockerfile") == via_git


def test_a_context_in_a_subdirectory_of_the_repository_is_digested_from_its_committed_files(tmp_path: Path) -> None:
    """The suite's own target: images/bots-edi inside the checkout. A committed change must change the digest, and
    git must agree with a plain walk (once, every committed file dropped out: the digest was of nothing)."""
    repo = tmp_path / "repo"
    context = make_context(repo / "images" / "app")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    first = context_digest(context, context / "Dockerfile")
    plain = tmp_path / "plain"
    subprocess.run(["cp", "-a", str(context), str(plain)], check=True)
    assert first == context_digest(plain, plain / "Dockerfile")
    (context / "app" / "main.py").write_text("print('changed')\n")
    git(repo, "commit", "-q", "-am", "change")
    assert context_digest(context, context / "Dockerfile") != first


def test_a_bad_target_name_is_refused(daemon: FakeDaemon, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="lowercase"):
        build(daemon, make_context(tmp_path / "ctx"), name="Team A")


# --- .dockerignore as the docker client reads it --------------------------------------------------------------


def test_dockerignore_follows_the_docker_client() -> None:
    # the customer's style: broad excludes, then `!dir/` to keep whole trees
    ignore = DockerIgnore(["*.md", "docs/", "**/tests/", "__pycache__", "!bots/", "!entrypoint.sh"], [".dockerignore"])
    assert ignore.excluded("README.md") and ignore.excluded("docs/a/b.txt")
    assert not ignore.excluded("bots/README.md")  # *.md is for the top level only
    assert ignore.excluded("bots/pkg/tests/test_x.py")  # the walk never enters tests/, `!bots` notwithstanding
    assert not ignore.excluded("bots/pkg/__pycache__/x.pyc")  # a bare name is top level only
    assert not ignore.excluded("entrypoint.sh") and not ignore.excluded(".dockerignore")


def test_an_exception_inside_an_excluded_directory_is_still_sent() -> None:
    ignore = DockerIgnore(["docs", "!docs/keep.md", "# comment", "", "/build"])
    assert not ignore.excluded("docs/keep.md")
    assert ignore.excluded("docs/other.md") and ignore.excluded("build/out")
    assert not ignore.excluded("src/build/out")
