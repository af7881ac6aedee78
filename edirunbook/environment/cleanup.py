"""`make clean`: remove every cluster, container, network, image and cache entry this suite created.

Only things carrying the suite's label, named by it, or under its own cache/state directories are
touched; a Docker daemon is stopped only if the suite started it.
"""
from __future__ import annotations

import shutil
from typing import Any

from edirunbook import images, paths
from edirunbook.docker import daemon
from edirunbook.errors import RunbookSuiteError, SetupError
from edirunbook.process import note, step

LABEL_FILTER = f"label={images.OWNER_LABEL}"


def _staging_down() -> None:
    """The game days' staging cluster runs on the suite's daemon from the suite's images: removed whole (its
    routes, mount and kernel settings too) before its containers would be removed one by one below."""
    from edirunbook.gameday import staging

    try:
        staging.down(stop_daemon=False)  # clean goes on with the daemon, and stops it at the end
    except RunbookSuiteError as error:
        note(f"the staging cluster could not be removed: {error}")


def clean_all(env: Any) -> None:
    try:
        docker = daemon.connect()
    except SetupError:
        docker = None
    if docker is not None:
        env.down(stop_daemon=False)
        _staging_down()
        with step("removing the suite's containers, networks and images"):
            containers = docker.run("ps", "-aq", "--filter", LABEL_FILTER).stdout.split()
            if containers:
                docker.run("rm", "-f", *containers)
            networks = docker.run("network", "ls", "-q", "--filter", LABEL_FILTER).stdout.split()
            if networks:
                docker.run("network", "rm", *networks, check=False)
            refs = docker.run("images", "--filter", LABEL_FILTER, "--format", "{{.Repository}}:{{.Tag}}").stdout
            names = [r for r in refs.split() if not r.endswith(":<none>")]
            if names:
                docker.run("rmi", "-f", *names, check=False)
            docker.run("image", "prune", "-f", "--filter", LABEL_FILTER, check=False)
            note(f"removed {len(containers)} containers, {len(networks)} networks, {len(names)} image tags")
        if docker.started_by_us:
            daemon.stop_ours()
    cache = paths.cache_dir()
    with step(f"removing the build cache {cache}"):
        for name in ("go", "logs", "bin", "docker"):
            target = cache / name
            if target.exists() and not (name == "docker" and daemon.MARKER.exists()):
                shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(paths.state_dir(), ignore_errors=True)
