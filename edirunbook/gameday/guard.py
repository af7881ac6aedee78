"""The guard rails of a run on a live cluster: which cluster, whether anything may change it, and how far.

Every decision here is a pure function of the run's settings (environments/<env>/env.yaml `live:`), the mode the
run was started in, and the context the kubeconfig names, so each refusal is unit-tested. A refusal is a
GuardRailRefused that says what was refused, why, and what would allow it; it is raised before anything changes.

- A live run names its context explicitly (CONTEXT=...): the kubeconfig's current-context is never taken, since
  "whatever kubectl points at right now" is how production gets hit by accident. The context must be the one
  the environment file is for, when that file names one.
- Read-only is the default mode: only @readonly scenarios are selected, and a fault refuses to start.
- Game-day mode must be asked for, and confirmed by typing the context's name (CONFIRM=<context>).
- Destructive work refuses a context that is not on the environment's allowlist (exact names or fnmatch globs).
  A context whose name or API server matches a production pattern must be named exactly by the allowlist: a glob
  such as `staging-*` never lets a production-looking context through.
- Every fault has a blast radius: the environment's namespace and the objects it names; anything else is refused.
"""
from __future__ import annotations

import enum
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from edirunbook.errors import GuardRailRefused

# Names and API servers that look like production, refused for destructive work unless the allowlist names the
# context exactly. An environment file adds its own (a company's production domain, say).
DEFAULT_PRODUCTION_PATTERNS = (r"prod", r"\bprd\b", r"\blive\b")


class Mode(enum.Enum):
    READONLY = "readonly"  # the default: @readonly scenarios only, no fault may start
    GAMEDAY = "gameday"  # destructive scenarios and faults, behind the allowlist and the confirmation
    DRY_RUN = "dry-run"  # prints what a game day would run and inject; changes nothing

    @classmethod
    def parse(cls, text: str | None) -> Mode:
        try:
            return cls(text or cls.READONLY.value)
        except ValueError:
            raise GuardRailRefused(f"unknown run mode {text!r}: use one of "
                                   f"{', '.join(m.value for m in cls)}") from None


@dataclass(frozen=True)
class LiveSettings:
    """environments/<env>/env.yaml `live:`, as read (edirunbook.environment.config)."""

    context: str | None = None  # the kubeconfig context this environment is, when it names one
    allowlist: tuple[str, ...] = ()  # contexts destructive work may run on (names or fnmatch globs)
    production_patterns: tuple[str, ...] = DEFAULT_PRODUCTION_PATTERNS  # regexes, case-insensitive
    max_fault_seconds: float = 900.0  # no fault lasts longer: rolled back when it does
    objects: tuple[str, ...] = ()  # "Kind/name" a fault may touch (the blast radius), in the namespace
    max_fill_megabytes: int = 1024  # the largest filler file the disk-full fault writes


@dataclass(frozen=True)
class Attachment:
    """The cluster a run is attached to: its context and API server, as the kubeconfig says."""

    context: str
    server: str
    namespace: str


@dataclass(frozen=True)
class RunRequest:
    """How the run was started: the context asked for, the mode, and the confirmation typed."""

    context: str | None
    mode: Mode = Mode.READONLY
    confirm: str | None = None
    contexts: tuple[str, ...] = field(default=())  # every context the kubeconfig has


def choose_context(request: RunRequest, settings: LiveSettings) -> str:
    """The context to attach to; refused when none was named, when it is not the environment's, or unknown."""
    if not request.context:
        pinned = f" (this environment is for {settings.context!r})" if settings.context else ""
        raise GuardRailRefused("a live run needs its cluster named: CONTEXT=<kubeconfig context>" + pinned +
                               ". The kubeconfig's current-context is never used on its own.")
    if settings.context and request.context != settings.context:
        raise GuardRailRefused(f"wrong context: CONTEXT={request.context!r}, but this environment is for "
                               f"{settings.context!r} (environments/<env>/env.yaml live.context). Name that "
                               "context, or use the environment file made for the other cluster.")
    if request.contexts and request.context not in request.contexts:
        raise GuardRailRefused(f"the kubeconfig has no context {request.context!r}; it has "
                               f"{', '.join(sorted(request.contexts)) or 'none'}")
    return request.context


def production_match(attachment: Attachment, patterns: Iterable[str]) -> str | None:
    """The first production pattern the context name or the API server matches, as `pattern (in what)`."""
    for pattern in patterns:
        for what, text in (("context", attachment.context), ("API server", attachment.server)):
            if re.search(pattern, text, re.IGNORECASE):
                return f"{pattern!r} matches the {what} {text!r}"
    return None


def allowlisted(context: str, allowlist: Iterable[str], exact_only: bool = False) -> bool:
    return any(context == entry or (not exact_only and fnmatch.fnmatchcase(context, entry)) for entry in allowlist)


def authorize_destructive(request: RunRequest, attachment: Attachment, settings: LiveSettings) -> None:
    """Game-day mode, confirmed with the context's name, on an allowlisted context that does not look like
    production (or is named exactly); GuardRailRefused with the first rule that fails."""
    if request.mode is not Mode.GAMEDAY:
        raise GuardRailRefused(
            f"destructive work refused on {attachment.context!r}: the run is in {request.mode.value} mode. "
            f"A game day is started explicitly: make gameday CONTEXT={attachment.context} "
            f"CONFIRM={attachment.context}")
    if request.confirm != attachment.context:
        typed = f"CONFIRM={request.confirm!r}" if request.confirm else "no CONFIRM"
        raise GuardRailRefused(f"destructive work refused on {attachment.context!r}: {typed}; confirm by typing "
                               f"the context's name: CONFIRM={attachment.context}")
    looks_like_production = production_match(attachment, settings.production_patterns)
    if not allowlisted(attachment.context, settings.allowlist, exact_only=looks_like_production is not None):
        why = (f"it looks like production ({looks_like_production}), so the allowlist must name it exactly"
               if looks_like_production else "it is not on the allowlist")
        raise GuardRailRefused(f"destructive work refused on {attachment.context!r} ({attachment.server}): {why}. "
                               f"Allowed: {', '.join(settings.allowlist) or 'nothing'} "
                               "(environments/<env>/env.yaml live.allowlist).")


def scenario_selection(mode: Mode, tags: str) -> str:
    """The tag expression a live run selects with: read-only runs add `readonly`, whatever was asked; a dry run
    plans what the game day would run (and runs nothing)."""
    asked = tags.strip()
    if mode in (Mode.GAMEDAY, Mode.DRY_RUN):
        return asked
    return f"readonly and ({asked})" if asked else "readonly"


CLUSTER_SCOPED = frozenset({"Node"})


@dataclass(frozen=True)
class BlastRadius:
    """What a fault may touch: objects of one namespace, by `Kind/name` (globs allowed, e.g. `Pod/bots-*`), and
    cluster-scoped objects (a Node) only when named."""

    namespace: str
    objects: tuple[str, ...]

    def allows(self, kind: str, name: str) -> bool:
        return any(fnmatch.fnmatchcase(f"{kind}/{name}", entry) for entry in self.objects)

    def check(self, kind: str, name: str, namespace: str, fault: str) -> None:
        """`namespace`: where the fault's commands run."""
        if kind not in CLUSTER_SCOPED and namespace != self.namespace:
            raise GuardRailRefused(f"fault {fault!r} refused: it would touch {kind}/{name} in namespace "
                                   f"{namespace!r}; its blast radius is namespace {self.namespace!r} only")
        if not self.allows(kind, name):
            raise GuardRailRefused(f"fault {fault!r} refused: {kind}/{name} is outside its blast radius "
                                   f"({', '.join(self.objects) or 'nothing'}; environments/<env>/env.yaml "
                                   "live.objects)")
