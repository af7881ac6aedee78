"""`make unit`'s checks of the alerting configuration, without a cluster: `edirunbook alert-rules`.

- `promtool check rules` and `promtool test rules` on the deployment's alert rules (environments/base/monitoring:
  the rule file and its unit tests, synthetic series through each alert's `for:` window);
- `amtool check-config` on the kind environment's Alertmanager configuration, and each rule's labels routed
  through it (`amtool config routes test`) to the receiver the runbook names for its severity: critical pages
  on-call, warning goes to the chat channel.

promtool and amtool come from the very builds the monitoring add-on runs: promtool is compiled with Prometheus
(images/addons/prometheus, cached like the add-on's image), amtool is in Debian's `prometheus-alertmanager` package
at the version pinned in versions.py, downloaded with `apt-get download` (no install: nothing on the host changes)
and unpacked into <cache>/debs/<package>-<version>, once per version.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from edirunbook import addons, paths, versions
from edirunbook.errors import CommandFailed, ConfigError, SetupError
from edirunbook.process import run, step

RULES_DIR = paths.ENVIRONMENTS_DIR / "base" / "monitoring"
RULES = RULES_DIR / "bots-edi-alerts.yml"
RULE_TESTS = RULES_DIR / "bots-edi-alerts.test.yml"
ALERTMANAGER_CONFIG = paths.ENVIRONMENTS_DIR / "kind" / "addons" / "monitoring" / "alertmanager.yml"
# The runbook's Monitoring > Alerts: where each severity goes.
RECEIVERS = {"critical": "on-call", "warning": "chat"}


def tool(package: str, version: str, name: str) -> Path:
    """/usr/bin/<name> of Debian's `package` at `version`, downloaded and unpacked when missing."""
    target = paths.cache_dir() / "debs" / f"{package}-{version}"
    found = target / "usr" / "bin" / name
    if found.is_file():
        return found
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise SetupError(f"{name} comes from Debian's {package} package, fetched with apt-get download: run this on a "
                         "Debian or Ubuntu host (apt-get and dpkg-deb are missing here)")
    wanted = f"{package}={version}"
    with tempfile.TemporaryDirectory() as tmp, step(f"downloading Debian's {wanted} for {name}"):
        try:
            _download(wanted, Path(tmp))
        except CommandFailed as error:
            if os.geteuid() != 0:
                raise SetupError(f"apt-get download {wanted} failed; as root the suite runs apt-get update first and "
                                 f"tries again:\n{error}") from None
            run(["apt-get", "update", "-qq"], timeout=600)
            try:
                _download(wanted, Path(tmp))
            except CommandFailed as again:
                raise SetupError(f"Debian's mirror does not serve {wanted} (`apt-cache policy {package}` shows the "
                                 f"versions it has; pin one in edirunbook/versions.py):\n{again}") from None
        unpacked = Path(tmp) / "unpacked"
        run(["dpkg-deb", "-x", str(next(Path(tmp).glob(f"{package}_*.deb"))), str(unpacked)], timeout=300)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(unpacked), target)
    return found


def _download(package: str, directory: Path) -> None:
    run(["apt-get", "download", "-q", package], cwd=directory, timeout=600)


def promtool() -> Path:
    return addons.tool("promtool")


def amtool() -> Path:
    return tool("prometheus-alertmanager", versions.ALERTMANAGER_DEB, "amtool")


def rules(file: Path = RULES) -> list[dict[str, Any]]:
    """The alerting rules of a Prometheus rule file."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read the alert rules {paths.shown(file)}: {error}") from None
    return [rule for group in data.get("groups") or [] for rule in group.get("rules") or [] if "alert" in rule]


def routing_errors(rule_list: list[dict[str, Any]], routed: dict[str, str]) -> Iterator[str]:
    """Each alert whose severity is not the runbook's, or whose notification goes to another receiver than the
    runbook's for that severity (`routed`: alert name -> the receiver Alertmanager chose)."""
    for rule in rule_list:
        name, severity = rule["alert"], (rule.get("labels") or {}).get("severity", "")
        expected = RECEIVERS.get(severity)
        if expected is None:
            yield f"{name}: severity {severity or '(none)'!r}; the runbook knows {' and '.join(RECEIVERS)}"
        elif routed.get(name) != expected:
            yield f"{name} ({severity}) goes to {routed.get(name) or 'no receiver'}, the runbook says {expected}"


def route(config: Path, labels: dict[str, str]) -> str:
    """The receiver Alertmanager's configuration picks for an alert with these labels."""
    pairs = [f"{key}={value}" for key, value in sorted(labels.items())]
    result = run([str(amtool()), "config", "routes", "test", f"--config.file={config}", *pairs], timeout=60)
    return result.stdout.strip().splitlines()[-1]  # after amtool's warning that it reads no Alertmanager's URL


def check(rules_file: Path = RULES, tests: Path = RULE_TESTS, config: Path = ALERTMANAGER_CONFIG) -> list[str]:
    """Every problem found; an empty list when the rules and their routing are right."""
    problems = []
    for command in ([str(promtool()), "check", "rules", str(rules_file)],
                    [str(promtool()), "test", "rules", str(tests)],
                    [str(amtool()), "check-config", str(config)]):
        result = run(command, cwd=tests.parent, check=False, timeout=120)
        if result.returncode != 0:
            problems.append(f"{Path(command[0]).name} {' '.join(command[1:])}:\n"
                            f"{(result.stdout + result.stderr).strip()}")
    if problems:
        return problems
    rule_list = rules(rules_file)
    routed = {rule["alert"]: route(config, {"alertname": rule["alert"], **(rule.get("labels") or {})})
              for rule in rule_list}
    return list(routing_errors(rule_list, routed))


def command(args: argparse.Namespace) -> int:
    problems = check(Path(args.rules), Path(args.tests), Path(args.alertmanager_config))
    if problems:
        print("\n\n".join(problems))
        return 1
    print(f"{paths.shown(Path(args.rules))}: {len(rules(Path(args.rules)))} alerts checked, unit-tested and routed "
          f"as the runbook says ({', '.join(f'{s} to {r}' for s, r in RECEIVERS.items())})")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("alert-rules", help="promtool and amtool checks of the alert rules and routing")
    parser.add_argument("--rules", default=str(RULES))
    parser.add_argument("--tests", default=str(RULE_TESTS))
    parser.add_argument("--alertmanager-config", default=str(ALERTMANAGER_CONFIG))
    parser.set_defaults(func=command)
