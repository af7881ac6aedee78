"""What the runbook relies on, read from the live objects: field paths, expected values, and the mismatches.

A field path walks the object as `kubectl get -o json` shows it: `spec.strategy.rollingUpdate.maxUnavailable`.
`pod.` stands for the pod template's spec of any workload (a Deployment's `spec.template.spec`, a CronJob's
`spec.jobTemplate.spec.template.spec`), and `[name]` picks the list item with that name:
`pod.containers[webserver].readinessProbe.httpGet.path`. An expected value is written as YAML (`false`, `0`,
`Forbid`, `[ALL]`, `"*/5 * * * *"`), or `(absent)` (the field is not set) or `(set)` (set, not empty).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

POD_SPEC = {"Deployment": "spec.template.spec", "StatefulSet": "spec.template.spec", "Job": "spec.template.spec",
            "CronJob": "spec.jobTemplate.spec.template.spec"}
ABSENT_TEXT, SET_TEXT = "(absent)", "(set)"
_PART = re.compile(r"(?P<key>[^.\[\]]+)(?:\[(?P<pick>[^\]]+)\])?")


class _Absent:
    def __repr__(self) -> str:
        return ABSENT_TEXT


ABSENT: Any = _Absent()


def read(obj: Mapping[str, Any], path: str) -> Any:
    """The value at `path` in the object, or ABSENT."""
    if path.startswith("pod."):
        path = f"{POD_SPEC.get(str(obj.get('kind')), 'spec.template.spec')}.{path[4:]}"
    node: Any = obj
    for part in path.split("."):
        match = _PART.fullmatch(part)
        if match is None or not isinstance(node, Mapping) or node.get(match["key"]) is None:
            return ABSENT
        node = node[match["key"]]
        if match["pick"] is not None:
            picked = [item for item in node if isinstance(item, Mapping) and item.get("name") == match["pick"]] \
                if isinstance(node, list) else []
            if not picked:
                return ABSENT
            node = picked[0]
    return node


def expected_value(text: str) -> Any:
    text = text.strip()
    if text == ABSENT_TEXT:
        return ABSENT
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def shown(value: Any) -> str:
    return ABSENT_TEXT if value is ABSENT else json.dumps(value)


def mismatch(where: str, found: Any, expected_text: str) -> str | None:
    """'<where>: found X, expected Y' when the value does not meet the expectation, else None."""
    if expected_text.strip() == SET_TEXT:
        if found is ABSENT or found in ("", [], {}):
            return f"{where}: found {shown(found)}, expected it set"
        return None
    expected = expected_value(expected_text)
    if found == expected or (found is ABSENT and expected is ABSENT):
        return None
    return f"{where}: found {shown(found)}, expected {shown(expected)}"


def check_objects(live: Callable[[str], Mapping[str, Any]], rows: Iterable[tuple[str, str, str]]) -> list[str]:
    """Rows of (object, field, expected), e.g. ("cronjob/bots-engine", "spec.suspend", "false")."""
    problems = []
    for ref, field, expected in rows:
        problem = mismatch(f"{ref} {field}", read(live(ref), field), expected)
        if problem:
            problems.append(problem)
    return problems


def containers(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = read(obj, "pod.containers")
    return [] if found is ABSENT else list(found)


def volume_mount_problems(ref: str, obj: Mapping[str, Any], claim: str, mount_path: str) -> list[str]:
    """Problems when the workload does not mount `claim` at `mount_path` in every container."""
    volumes = read(obj, "pod.volumes")
    names = [v["name"] for v in ([] if volumes is ABSENT else volumes)
             if (v.get("persistentVolumeClaim") or {}).get("claimName") == claim]
    if not names:
        return [f"{ref}: mounts no volume of claim {claim}"]
    problems = []
    for container in containers(obj):
        mounts = {m.get("mountPath") for m in container.get("volumeMounts") or [] if m.get("name") in names}
        if mount_path not in mounts:
            problems.append(f"{ref} container {container.get('name')}: claim {claim} mounted at "
                            f"{', '.join(sorted(str(m) for m in mounts)) or 'nowhere'}, expected {mount_path}")
    return problems
