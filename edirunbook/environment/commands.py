"""`edirunbook env ...`: bring the environment up or down, check it, clean everything."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from edirunbook import paths
from edirunbook.environment import config as env_config
from edirunbook.errors import EnvironmentNotReady


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("env", help="manage the environment the scenarios run on")
    parser.add_argument("--env", default=None, help="environment name (default: $ENV or kind)")
    actions = parser.add_subparsers(dest="action", required=True)
    for name, func, text in (
        ("build", build, "build or fetch every image and tool the environment needs, the target's app image "
                          "included (cached)"),
        ("up", up, "bring the environment up and deploy Bots EDI (idempotent)"),
        ("deploy", deploy, "build, load and apply the Bots EDI deployment; wait until Ready"),
        ("down", down, "remove the cluster and database, restore the host, stop the suite's own dockerd"),
        ("check", check, "smoke-check the running environment"),
        ("clean", clean, "remove everything this suite created, including its image cache"),
        ("bench", bench, "measure warm env-up against a bare kind create cluster"),
        ("kubeconfig", kubeconfig, "print the environment's kubeconfig path"),
        ("docker-host", docker_host, "print the DOCKER_HOST of the daemon the suite uses"),
        ("base-image", base_image, "build (if needed) and print the Debian base image all recipes start from"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.set_defaults(func=func)
        if name == "up":
            sub.add_argument("--no-deploy", action="store_true", help="only the cluster and the database")


def _environment(args: argparse.Namespace) -> Any:
    cfg = env_config.load(args.env)
    if cfg.type == "kind":
        from edirunbook.environment.kind import KindEnvironment

        return KindEnvironment(cfg)
    raise EnvironmentNotReady(f"environment {cfg.name!r} has type {cfg.type!r}, which `env {args.action}` "
                              "does not manage (a live cluster is brought up by its owners).")


def build(args: argparse.Namespace) -> int:
    from edirunbook import target as targets
    from edirunbook.docker import daemon

    built = _environment(args).build_all(daemon.ensure(), targets.load())
    for role, ref in built.items():
        print(f"{role}: {ref}")
    return 0


def up(args: argparse.Namespace) -> int:
    env = _environment(args)
    from edirunbook import target as targets
    from edirunbook.environment.deploy import up_for

    target = targets.load()
    timings = up_for(env, target)
    print("environment up: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    if not args.no_deploy:
        from edirunbook.environment.deploy import deploy as deploy_app

        deploy_app(env, target)
    print(f"kubeconfig: {paths.kubeconfig_path()}  (KUBECONFIG=$(make -s kubeconfig) kubectl get pods -n edi)")
    return 0


def deploy(args: argparse.Namespace) -> int:
    from edirunbook.environment.deploy import deploy as deploy_app

    deploy_app(_environment(args))
    return 0


def down(args: argparse.Namespace) -> int:
    env = _environment(args)
    if env.config.type == "kind":  # the lanes of a `make verify LANES=n KEEP=1` (or an interrupted one) first
        from edirunbook.gate import lanes

        lanes.down_kept(env.config)
    env.down()
    return 0


def check(args: argparse.Namespace) -> int:
    from edirunbook.environment import smoke

    results = smoke.run_checks(_environment(args))
    width = max(len(r.name) for r in results)
    for result in results:
        print(f"{'PASS' if result.ok else 'FAIL'}  {result.name:<{width}}  {result.seconds:6.1f}s  {result.detail}")
    return 0 if all(r.ok for r in results) else 1


def clean(args: argparse.Namespace) -> int:
    from edirunbook.environment import cleanup

    cleanup.clean_all(_environment(args))
    return 0


def bench(args: argparse.Namespace) -> int:
    from edirunbook.environment.bench import run_bench

    rows = run_bench(_environment(args))
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


def kubeconfig(args: argparse.Namespace) -> int:
    print(paths.kubeconfig_path())
    return 0


def docker_host(args: argparse.Namespace) -> int:
    from edirunbook.docker import daemon

    host = daemon.connect().host
    print(host or "", file=sys.stdout)
    return 0


def base_image(args: argparse.Namespace) -> int:
    from edirunbook import images
    from edirunbook.docker import daemon

    print(images.debian_base(daemon.ensure()))
    return 0
