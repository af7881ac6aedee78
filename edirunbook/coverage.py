"""Which runbook commands the scenarios execute, and where the two have drifted apart.

`edirunbook coverage --runbook docs/runbook.md --features features --env kind --min-coverage 80`
prints a table per section, writes reports/coverage.md and reports/coverage.json, and exits 1 when the
overall coverage is below --min-coverage (2 when the runbook, a feature or the environment is unreadable).

A runbook command in section S is *covered* when a scenario tagged `@runbook:S` (or tagged with a section
enclosing S) runs it: a step `the operator runs "<command>"`, or `the operator runs:` with a docstring of
commands (the other forms are shell.COMMAND_STEPS). Texts are compared after normalisation (see runbook.py),
as written or after the environment's `substitutions:` (environments/ENV/env.yaml) are applied to both, and
a placeholder (`<pod-name>`) or a command substitution (`$(date +%s)`) matches any single word.
A PromQL query of a ```promql block is covered the same way by `the operator queries Prometheus "<query>"`
or `the operator queries Prometheus:` with a docstring of queries (shell.QUERY_STEPS,
OPERATOR_QUERIES_BLOCK), compared after PromQL's normalisation (whitespace outside string literals removed)
and, as for shell, as written or with the substitutions applied to both; placeholders and `$(...)` are not
wildcards there (`<` and `>` are PromQL's comparisons). A query only ever matches a query, a shell command
only a shell command. A command run only by scenarios tagged for other sections is *elsewhere*; one that no
scenario runs is *uncovered*. A scenario command or query matching no runbook command at all is *drift*.
Last-run results come from pytest-bdd's Cucumber JSON.

JSON schema (reports/coverage.json):
  {"runbook": str, "env": str, "results": str | null (null: no run yet), "min_coverage": float,
   "summary": {"commands": int, "covered": int, "elsewhere": int, "uncovered": int, "percent": float,
               "meets_minimum": bool},
   "sections": [{"slug", "title", "level", "line", "parent": str | null, "commands_total": int,
                 "covered": int, "percent": float | null (null: no commands), "scenarios": [SCENARIO],
                 "non_executable_blocks": [{"line": int, "language": str, "lines": int}],
                 "commands": [{"line": int, "text": str, "source": str, "note": str, "heredoc": bool,
                               "inline": bool, "language": LANGUAGE,
                               "status": "covered" | "elsewhere" | "uncovered",
                               "result": RESULT, "scenarios": [SCENARIO], "elsewhere": [SCENARIO]}]}],
   "drift": {"not_in_runbook": [{"feature": str, "line": int, "scenario": str, "command": str,
                                 "language": LANGUAGE}],
             "not_run": [{"section": slug, "line": int, "command": str, "language": LANGUAGE}],
             "unknown_tags": [{"feature": str, "line": int, "scenario": str, "tag": str}],
             "untagged_scenarios": [SCENARIO]},
   "warnings": [str]}
  SCENARIO = {"feature": str, "line": int, "name": str, "result": RESULT}
  RESULT = "passed" | "failed" | "skipped" | "not run"
  LANGUAGE = "shell" | "promql" (a PromQL query's "text" has no whitespace outside its strings)
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_bdd.exceptions import GherkinParseError
from pytest_bdd.parser import FeatureParser, ScenarioTemplate, Step

from edirunbook.environment import config as env_config
from edirunbook.errors import CoverageError
from edirunbook.runbook import (
    PROMQL,
    SHELL,
    CodeBlock,
    Command,
    Runbook,
    Section,
    parse_runbook,
    slugify,
    split_commands,
    split_queries,
)
from edirunbook.shell import (
    COMMAND_STEPS,
    OPERATOR_QUERIES_BLOCK,
    OPERATOR_RUNS_BLOCK,
    OPERATOR_SAVES_SCRIPT,
    OPERATOR_TYPES,
    PLACEHOLDER,
    QUERY_STEPS,
)

TAG_PREFIX = "runbook:"
PASSED, FAILED, SKIPPED, NOT_RUN = "passed", "failed", "skipped", "not run"
_WILD = "\x00"


@dataclass(frozen=True)
class ScenarioCommand:
    text: str  # normalised as in runbook.Command.text
    summary: str
    line: int  # line in the feature file
    typed: bool = False  # typed into an interactive session: counts where it is a runbook command, never drift
    language: str = SHELL  # SHELL or PROMQL, as runbook.Command.language


@dataclass
class Scenario:
    feature: str  # the feature file, as displayed
    name: str
    line: int
    tags: frozenset[str]
    steps: int
    commands: list[ScenarioCommand] = field(default_factory=list)
    result: str = NOT_RUN

    @property
    def slugs(self) -> set[str]:
        return {tag[len(TAG_PREFIX) :] for tag in self.tags if tag.startswith(TAG_PREFIX)}

    def as_json(self) -> dict[str, Any]:
        return {"feature": self.feature, "line": self.line, "name": self.name, "result": self.result}


@dataclass
class CommandCoverage:
    section: Section
    command: Command
    scenarios: list[Scenario]  # tagged for this section (or one enclosing it) and running the command
    elsewhere: list[Scenario]  # running it, but tagged for other sections

    @property
    def status(self) -> str:
        return "covered" if self.scenarios else "elsewhere" if self.elsewhere else "uncovered"

    @property
    def result(self) -> str:
        return combined_result(s.result for s in self.scenarios)


@dataclass
class Report:
    runbook: Runbook
    env: str
    results: Path | None
    scenarios: list[Scenario]
    rows: list[CommandCoverage]
    drift: list[tuple[Scenario, ScenarioCommand]]

    def rows_of(self, section: Section) -> list[CommandCoverage]:
        return [row for row in self.rows if row.section is section]

    def scenarios_of(self, section: Section) -> list[Scenario]:
        """The scenarios that prove this section: tagged with its slug, or running its commands."""
        running = {id(s) for row in self.rows_of(section) for s in row.scenarios}
        return [s for s in self.scenarios if section.slug in s.slugs or id(s) in running]

    @property
    def covered(self) -> int:
        return sum(row.status == "covered" for row in self.rows)

    @property
    def percent(self) -> float:
        """Shown rounded to 0.1; a runbook without commands has 0% (nothing is proven)."""
        return round(100.0 * self.covered / len(self.rows), 1) if self.rows else 0.0

    def meets(self, minimum: float) -> bool:
        """Exact, not rounded: 79.96% does not meet 80%."""
        return 100.0 * self.covered >= minimum * len(self.rows) if self.rows else minimum == 0

    def unknown_tags(self) -> list[tuple[Scenario, str]]:
        known = {section.slug for section in self.runbook.sections}
        return [(s, f"@{TAG_PREFIX}{slug}") for s in self.scenarios for slug in sorted(s.slugs - known)]

    def untagged(self) -> list[Scenario]:
        return [s for s in self.scenarios if not s.slugs]


class Matcher:
    """Compares command texts: as written, or with the environment's substitutions applied to both sides."""

    def __init__(self, substitutions: Mapping[str, str]) -> None:
        self._substitutions = dict(substitutions)
        keys = sorted(self._substitutions, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, keys))) if keys else None

    def forms(self, text: str, language: str = SHELL) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """As written and substituted; in shell, placeholders and $(...) match any word (not in PromQL)."""
        variants = [text]
        if self._pattern is not None:
            variants.append(self._pattern.sub(lambda m: self._substitutions[m[0]], text))
        wild = _wildcarded if language == SHELL else _literal
        return tuple(_compiled(wild(variant)) for variant in variants)

    @staticmethod
    def same(one: tuple[tuple[str, re.Pattern[str]], ...], other: tuple[tuple[str, re.Pattern[str]], ...]) -> bool:
        return any(
            a == b or pattern_a.fullmatch(b) is not None or pattern_b.fullmatch(a) is not None
            for (a, pattern_a), (b, pattern_b) in zip(one, other, strict=True)
        )


def _wildcarded(text: str) -> str:
    """Replace placeholders and $(...) substitutions (not an escaped \\$) by a wildcard mark."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$(", i) and (i == 0 or text[i - 1] != "\\"):
            depth, j = 0, i + 1
            while j < len(text):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            out.append(_WILD)
            i = j + 1
            continue
        out.append(text[i])
        i += 1
    return PLACEHOLDER.sub(_WILD, "".join(out))


def _literal(text: str) -> str:
    """PromQL has no wildcards: `<name>` would be comparisons (`a<b>c`), `$(` is no substitution."""
    return text


def _compiled(text: str) -> tuple[str, re.Pattern[str]]:
    return text, re.compile(r"\S+".join(re.escape(part) for part in text.split(_WILD)))


def combined_result(results: Iterable[str]) -> str:
    """A command's result over the scenarios that ran it: any failure wins, then any pass."""
    seen = set(results)
    return next((r for r in (FAILED, PASSED, SKIPPED) if r in seen), NOT_RUN)


def load_scenarios(features: Path, display_root: Path | None = None) -> list[Scenario]:
    if not features.exists():
        raise CoverageError(f"features folder {features} does not exist; pass --features PATH")
    files = sorted(features.rglob("*.feature")) if features.is_dir() else [features]
    return [scenario for path in files for scenario in _feature_scenarios(path, display_root or Path.cwd())]


def _feature_scenarios(path: Path, root: Path) -> list[Scenario]:
    shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        feature = FeatureParser(str(path.parent), path.name).parse()
        lines = path.read_text(encoding="utf-8").splitlines()
    except GherkinParseError as error:
        raise CoverageError(f"{shown}:{error.line}: {error.message} ({error.line_content.strip()})") from error
    except (OSError, UnicodeDecodeError) as error:
        raise CoverageError(f"cannot read feature file {shown}: {error}") from error
    scenarios = []
    for template in feature.scenarios.values():
        tags = set(feature.tags) | template.tags | (template.rule.tags if template.rule else set())
        scenario = Scenario(shown, template.name, template.line_number, frozenset(tags), len(template.steps))
        seen: set[tuple[int, str]] = set()
        for step in _rendered_steps(template):
            for command in _step_commands(step, lines, shown):
                if (command.line, command.text) not in seen:
                    seen.add((command.line, command.text))
                    scenario.commands.append(command)
        scenarios.append(scenario)
    return scenarios


def _rendered_steps(template: ScenarioTemplate) -> list[Step]:
    """A Scenario Outline's steps once per Examples row, so `<replicas>` becomes the row's value."""
    contexts = [context for examples in template.examples for context in examples.as_contexts()]
    if not contexts:
        return template.steps
    return [step for context in contexts for step in template.render(context).steps]


def _step_commands(step: Step, lines: list[str], shown: str) -> list[ScenarioCommand]:
    query = next((text for form in QUERY_STEPS if (text := form.command(step.name)) is not None), None)
    if query is not None:
        found = split_queries(query, step.line_number)
        return [ScenarioCommand(c.text, c.summary, step.line_number, language=PROMQL) for c in found]
    inline = next((text for form in COMMAND_STEPS if (text := form.command(step.name)) is not None), None)
    if inline is not None:
        found = split_commands(inline, step.line_number)
        commands = [ScenarioCommand(c.text, c.summary, step.line_number) for c in found]
        if OPERATOR_TYPES.fullmatch(step.name.strip()) and step.datatable is not None:
            commands += _typed_commands(step)
        return commands
    name = step.name.strip()
    if name == OPERATOR_QUERIES_BLOCK:
        split, language, inline_form = split_queries, PROMQL, 'the operator queries Prometheus "..."'
    elif name == OPERATOR_RUNS_BLOCK or OPERATOR_SAVES_SCRIPT.fullmatch(name):
        split, language, inline_form = split_commands, SHELL, 'the operator runs "..."'
    else:
        return []
    if step.docstring is None:
        raise CoverageError(
            f'{shown}:{step.line_number}: step "{name}" has no docstring; put the commands '
            f'between """ lines right under it, or write the command inline: {inline_form}'
        )
    opening = next(
        (i for i in range(step.line_number, len(lines)) if lines[i].lstrip().startswith(('"""', "```"))),
        step.line_number,
    )
    return [ScenarioCommand(c.text, c.summary, c.line, language=language) for c in split(step.docstring, opening + 2)]


def _typed_commands(step: Step) -> list[ScenarioCommand]:
    """The first column of an interactive step's table (under its header row): what the operator types."""
    _header, *rows = step.datatable.raw() if step.datatable is not None else [[]]
    typed = [str(row[0]) for row in rows if row and str(row[0]).strip()]
    return [ScenarioCommand(c.text, c.summary, step.line_number, typed=True)
            for text in typed for c in split_commands(text, step.line_number)]


def load_results(path: Path, scenarios: list[Scenario]) -> bool:
    """Set each scenario's last result from Cucumber JSON; False when there is no such file (not run yet).

    pytest-bdd 9.0.1 writes a scenario only when its test body ran (a skip in a fixture leaves it out:
    "not run"), and reports a step interrupted by pytest.skip as passed with duration 0: that is "skipped".
    """
    if not path.exists():
        return False
    try:
        features = json.loads(path.read_text(encoding="utf-8"))
        elements = [(f["uri"], element) for f in features for element in f["elements"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise CoverageError(
            f"cannot read test results {path}: {error}; run the suite again (it rewrites the file) or delete it"
        ) from error
    for scenario in scenarios:
        runs = [
            _element_result(element, scenario.steps)
            for uri, element in elements
            if element.get("line") == scenario.line
            and Path(scenario.feature).parts[-len(Path(uri).parts) :] == Path(uri).parts
        ]
        scenario.result = next((r for r in (FAILED, SKIPPED, PASSED) if r in runs), NOT_RUN)
    return True


def _element_result(element: Mapping[str, Any], expected_steps: int) -> str:
    steps = element.get("steps", [])
    statuses = {step.get("result", {}).get("status") for step in steps}
    if FAILED in statuses:
        return FAILED
    unfinished = any(step.get("result", {}).get("duration") == 0 for step in steps)
    if SKIPPED in statuses or unfinished or len(steps) < expected_steps:
        return SKIPPED
    return PASSED


def build_report(
    runbook: Runbook, scenarios: list[Scenario], substitutions: Mapping[str, str], env: str, results: Path | None
) -> Report:
    matcher = Matcher(substitutions)
    ran = [(s, c, matcher.forms(c.text, c.language)) for s in scenarios for c in s.commands]
    matched: set[tuple[int, ScenarioCommand]] = set()
    rows = []
    for section in runbook.sections:
        lineage = set(runbook.lineage(section.slug))
        for command in section.commands:
            forms = matcher.forms(command.text, command.language)
            runners = [(s, c) for s, c, f in ran if c.language == command.language and Matcher.same(forms, f)]
            matched.update((id(s), c) for s, c in runners)
            tagged = _unique(s for s, _ in runners if s.slugs & lineage)
            others = _unique(s for s, _ in runners if not s.slugs & lineage)
            rows.append(CommandCoverage(section, command, tagged, others))
    drift = [(s, c) for s, c, _ in ran if (id(s), c) not in matched and not c.typed]
    return Report(runbook, env, results, scenarios, rows, drift)


def _unique(scenarios: Iterable[Scenario]) -> list[Scenario]:
    return list({id(s): s for s in scenarios}.values())


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "coverage",
        help="which runbook commands the scenarios execute, and drift between them",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--runbook", type=Path, default=Path("docs/runbook.md"), help="the runbook (Markdown)")
    parser.add_argument("--features", type=Path, default=Path("features"), help="folder of .feature files")
    parser.add_argument("--env", default="kind", help="environment whose substitutions apply (default: kind)")
    parser.add_argument("--environments", type=Path, default=Path("environments"), help="folder of environments")
    parser.add_argument("--min-coverage", type=_percent, default=0.0, help="exit 1 below this percentage")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="writes coverage.md and coverage.json")
    parser.add_argument("--results", type=Path, default=Path("reports/cucumber.json"), help="Cucumber JSON")
    parser.set_defaults(func=run)


def _percent(value: str) -> float:
    try:
        number = float(value.rstrip("%"))
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 100.0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a percentage between 0 and 100")
    return number


def run(args: argparse.Namespace) -> int:
    runbook = parse_runbook(args.runbook)
    substitutions = env_config.load(args.env, args.environments).substitutions
    scenarios = load_scenarios(args.features)
    results = args.results if load_results(args.results, scenarios) else None
    report = build_report(runbook, scenarios, substitutions, args.env, results)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "coverage.md").write_text(as_markdown(report, args.min_coverage), encoding="utf-8")
        (args.out / "coverage.json").write_text(
            json.dumps(as_json(report, args.min_coverage), indent=2) + "\n", "utf-8"
        )
    except OSError as error:
        raise CoverageError(f"cannot write the coverage report to {args.out}: {error}; pass --out DIR") from error
    print(as_text(report, args.min_coverage))
    print(f"Wrote {args.out / 'coverage.md'} and {args.out / 'coverage.json'}")
    return 0 if report.meets(args.min_coverage) else 1


def as_json(report: Report, minimum: float) -> dict[str, Any]:
    sections = []
    for section in report.runbook.sections:
        rows = report.rows_of(section)
        sections.append(
            {
                "slug": section.slug,
                "title": section.title,
                "level": section.level,
                "line": section.line,
                "parent": section.parent,
                "commands_total": len(rows),
                "covered": _covered(rows),
                "percent": _section_percent(rows),
                "scenarios": [s.as_json() for s in report.scenarios_of(section)],
                "non_executable_blocks": [
                    {"line": b.line, "language": b.language, "lines": len(b.text.splitlines())}
                    for b in section.non_executable_blocks
                ],
                "commands": [_command_json(row) for row in rows],
            }
        )
    return {
        "runbook": str(report.runbook.path),
        "env": report.env,
        "results": str(report.results) if report.results else None,
        "min_coverage": minimum,
        "summary": {
            "commands": len(report.rows),
            "covered": report.covered,
            "elsewhere": sum(row.status == "elsewhere" for row in report.rows),
            "uncovered": sum(row.status == "uncovered" for row in report.rows),
            "percent": report.percent,
            "meets_minimum": report.meets(minimum),
        },
        "sections": sections,
        "drift": {
            "not_in_runbook": [
                {"feature": s.feature, "line": c.line, "scenario": s.name, "command": c.text, "language": c.language}
                for s, c in report.drift
            ],
            "not_run": [
                {"section": r.section.slug, "line": r.command.line, "command": r.command.text,
                 "language": r.command.language}
                for r in report.rows
                if r.status == "uncovered"
            ],
            "unknown_tags": [
                {"feature": s.feature, "line": s.line, "scenario": s.name, "tag": tag}
                for s, tag in report.unknown_tags()
            ],
            "untagged_scenarios": [s.as_json() for s in report.untagged()],
        },
        "warnings": report.runbook.warnings,
    }


def _command_json(row: CommandCoverage) -> dict[str, Any]:
    command = row.command
    return {
        "line": command.line,
        "text": command.text,
        "source": command.source,
        "note": command.note,
        "heredoc": command.heredoc,
        "inline": command.inline,
        "language": command.language,
        "status": row.status,
        "result": row.result,
        "scenarios": [s.as_json() for s in row.scenarios],
        "elsewhere": [s.as_json() for s in row.elsewhere],
    }


def _covered(rows: list[CommandCoverage]) -> int:
    return sum(row.status == "covered" for row in rows)


def _section_percent(rows: list[CommandCoverage]) -> float | None:
    return round(100.0 * _covered(rows) / len(rows), 1) if rows else None


def _shown_percent(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


def _last_run(scenarios: list[Scenario]) -> str:
    counts = {r: sum(s.result == r for s in scenarios) for r in (PASSED, FAILED, SKIPPED, NOT_RUN)}
    return ", ".join(f"{n} {r}" for r, n in counts.items() if n)


def _verdict(report: Report, minimum: float) -> str:
    relation = "meets" if report.meets(minimum) else "is below"
    share = f"{report.percent:g}% ({report.covered} of {len(report.rows)} commands)"
    return f"Coverage {share} {relation} the minimum {minimum:g}%."


def _header(report: Report) -> str:
    files = len({s.feature for s in report.scenarios})
    results = f"last run: {report.results}" if report.results else "no run yet (no Cucumber JSON)"
    return f"{len(report.scenarios)} scenarios in {files} feature files, env {report.env}, {results}"


def as_text(report: Report, minimum: float) -> str:
    out = [f"Runbook coverage of {report.runbook.path}", _header(report), ""]
    width = max([len(s.title) + 2 * s.level for s in report.runbook.sections] + [len("Overall")]) + 2
    out.append(f"{'Section':<{width}}{'Commands':>9}{'Covered':>9}{'%':>8}  Last run")
    for section in report.runbook.sections:
        rows = report.rows_of(section)
        name = "  " * max(section.level - 1, 0) + section.title
        pct = _shown_percent(_section_percent(rows))
        out.append(
            f"{name:<{width}}{len(rows):>9}{_covered(rows):>9}{pct:>8}  {_last_run(report.scenarios_of(section))}"
        )
    out.append(f"{'Overall':<{width}}{len(report.rows):>9}{report.covered:>9}{report.percent:>7g}%")
    out += _text_uncovered(report) + _text_drift(report)
    out += [f"warning: {w}" for w in report.runbook.warnings]
    return "\n".join([*out, "", _verdict(report, minimum)])


def _text_uncovered(report: Report) -> list[str]:
    out = ["", "Runbook commands no scenario for their section runs:"]
    for section in report.runbook.sections:
        missing = [r for r in report.rows_of(section) if r.status != "covered"]
        blocks = section.non_executable_blocks
        if missing or blocks:
            out.append(f"  {section.title} (#{section.slug}, line {section.line})")
        for row in missing:
            out.append(f"    line {row.command.line}: {_short(row.command.summary)}{_kind(row.command.language)}")
            out += [f"      covered elsewhere by {s.feature}:{s.line} {s.name!r} {_tags(s)}" for s in row.elsewhere]
        out += [f"    line {b.line}: {_block_kind(b)} block, not shell or PromQL (not counted)" for b in blocks]
    return out


def _kind(language: str) -> str:
    """Shown after a command that is not shell: ` (PromQL)`."""
    return " (PromQL)" if language == PROMQL else ""


def _block_kind(block: CodeBlock) -> str:
    return f"a {block.language}" if block.language else "an unlabelled"


def _text_drift(report: Report) -> list[str]:
    out = ["", "Drift: commands scenarios run that the runbook does not contain:"]
    drifted = [f"  {s.feature}:{c.line} {s.name!r}: {_short(c.summary)}{_kind(c.language)}" for s, c in report.drift]
    out += drifted or ["  none"]
    out += [f"  {s.feature}:{s.line} {s.name!r}: {tag} names no runbook section" for s, tag in report.unknown_tags()]
    out += [f"  {s.feature}:{s.line} {s.name!r}: has no @{TAG_PREFIX}<section> tag" for s in report.untagged()]
    return out


def _tags(scenario: Scenario) -> str:
    return " ".join(f"@{TAG_PREFIX}{slug}" for slug in sorted(scenario.slugs)) or "(no @runbook tag)"


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_markdown(report: Report, minimum: float) -> str:
    out = [f"# Runbook coverage: `{report.runbook.path}`", "", _verdict(report, minimum), "", _header(report) + ".", ""]
    out += ["| Section | Commands | Covered | % | Last run |", "|---|---:|---:|---:|---|"]
    anchors = _report_anchors(report)
    for section in report.runbook.sections:
        rows = report.rows_of(section)
        pct = _shown_percent(_section_percent(rows))
        anchor = anchors.get(id(section))
        link = f"[{_cell(section.title)}](#{anchor})" if anchor else _cell(section.title)
        out.append(f"| {link} | {len(rows)} | {_covered(rows)} | {pct} | {_last_run(report.scenarios_of(section))} |")
    for section in _detailed(report):
        out += _markdown_section(report, section)
    out += ["", "## Drift", "", "Commands scenarios run that the runbook does not contain:", ""]
    drifted = [
        f"- `{s.feature}:{c.line}` {_cell(s.name)}: {_code(c.summary)}{_kind(c.language)}" for s, c in report.drift
    ]
    out += drifted or ["- none"]
    out += [
        f"- `{s.feature}:{s.line}` {_cell(s.name)}: `{tag}` names no runbook section"
        for s, tag in report.unknown_tags()
    ]
    out += [f"- `{s.feature}:{s.line}` {_cell(s.name)}: has no `@runbook:` tag" for s in report.untagged()]
    out += ["", "Runbook commands no scenario runs:", ""]
    uncovered = [r for r in report.rows if r.status == "uncovered"]
    out += [
        f"- {_cell(r.section.title)}, line {r.command.line}: {_code(r.command.summary)}{_kind(r.command.language)}"
        for r in uncovered
    ]
    return "\n".join(out + (["- none"] if not uncovered else []) + [""])


def _detailed(report: Report) -> list[Section]:
    """The sections that get their own heading in the Markdown report."""
    return [s for s in report.runbook.sections if report.rows_of(s) or s.non_executable_blocks]


def _report_anchors(report: Report) -> dict[int, str]:
    """Anchors of the report's own headings, numbered as GitHub numbers repeated titles."""
    seen: dict[str, int] = {slugify(f"Runbook coverage: {report.runbook.path}"): 1}
    anchors = {}
    for section in _detailed(report):
        slug = slugify(section.title)
        anchors[id(section)] = f"{slug}-{seen[slug]}" if slug in seen else slug
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _markdown_section(report: Report, section: Section) -> list[str]:
    rows = report.rows_of(section)
    blocks = section.non_executable_blocks
    out = ["", f"## {section.title}", "", f"Runbook line {section.line}, `#{section.slug}`.", ""]
    if rows:
        out += ["| Line | Command | Status | Scenarios | Last run |", "|---:|---|---|---|---|"]
    for row in rows:
        names = [f"{_cell(s.name)} (`{s.feature}:{s.line}`)" for s in row.scenarios or row.elsewhere]
        out.append(
            f"| {row.command.line} | {_code(row.command.summary)}{_kind(row.command.language)} | {row.status} | "
            f"{'<br>'.join(names)} | {row.result if row.scenarios else ''} |"
        )
    out += [f"\nNot shell or PromQL, not counted: line {b.line}, {_block_kind(b)} block." for b in blocks]
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{_cell(text)}{pad}{fence}"
