"""`make bench`: how long a warm environment takes to come up, against a bare `kind create cluster`.

Targets (issue: the kind environment): warm "node Ready + database ready" at most 2x a bare kind
create with the same node image, and at most 90 s on a 2-core machine.
"""
from __future__ import annotations

from typing import Any

from edirunbook.environment.kind import KindEnvironment
from edirunbook.process import step

TARGET_RATIO = 2.0
TARGET_SECONDS = 90.0


def run_bench(env: KindEnvironment) -> list[tuple[str, str]]:
    was_up = bool(env.read_state().get("cluster"))
    env.up()
    node_image = env.read_state()["node_image"]
    env.down(stop_daemon=False)
    with step("bare `kind create cluster` with the same node image and config"):
        bare = env.bare_kind_create_seconds(node_image)
    with step("warm `env up` (images cached)"):
        timings = env.up()
    if was_up:
        from edirunbook.environment.deploy import deploy

        deploy(env)
    if not was_up:
        env.down()
    ready = timings["node_and_database_ready"]
    ratio = ready / bare
    rows: list[tuple[str, Any]] = [
        ("bare kind create cluster", f"{bare:.1f}s"),
        ("warm env up: node Ready", f"{timings['node_ready']:.1f}s"),
        ("warm env up: database ready", f"{timings['database_ready']:.1f}s"),
        ("warm env up: node Ready + database ready", f"{ready:.1f}s"),
        ("warm env up: cluster DNS (CoreDNS) Ready", f"{timings['dns_ready']:.1f}s"),
        ("warm env up: add-ons loaded, applied, Ready (ingress, cert-manager, metrics-server)",
         f"{timings['addons']:.1f}s"),
        ("warm env up: whole command (incl. cache checks)", f"{timings['total']:.1f}s"),
        ("ratio to bare kind create (target <= 2.0x)",
         f"{ratio:.2f}x {'OK' if ratio <= TARGET_RATIO else 'OVER TARGET'}"),
        (f"absolute (target <= {TARGET_SECONDS:.0f}s)", "OK" if ready <= TARGET_SECONDS else "OVER TARGET"),
    ]
    return rows
