"""Read an operations runbook written in Markdown: its sections and the commands it tells people to run.

- A section is a heading (`## Title` or a setext underline) with its GitHub-style anchor (`slugify`).
- A fenced block labelled bash, sh, shell, zsh or ksh is split into single commands (`split_commands`):
  backslash continuations are joined, comments dropped, a heredoc (`kubectl apply -f - <<EOF ... EOF`)
  stays one command with its body, quotes and `if/for/while/case ... fi/done/esac` may span lines.
  In a `#!/bin/bash` script, statements that only print (`echo "Pods:"`) are decoration, not commands.
- A fenced block labelled promql is split into single PromQL queries (`split_queries`): a query a line, the
  `# comment` lines right above it its note, blank and comment lines no queries; a query whose parentheses,
  brackets or braces are still open continues on the following lines (joined). Its commands have
  language "promql" (shell commands: "shell"), and `text` is the query with every whitespace outside its
  string literals removed (`normalise_promql`), so `rate(x[5m]) / rate(y[5m])` equals `rate(x[5m])/rate(y[5m])`.
- Any other fenced block (```yaml, ```sql, an unlabelled fence) is kept as a non-executable block.
- An inline code span in prose is a command too when it has arguments and starts with a program that the
  runbook's shell blocks run (`kubectl patch cronjob/bots-engine ...` in a bullet list).
Each command has `text`, its normalised one-line form, which is what scenarios are matched against (a shell
command only against shell commands, a PromQL query only against queries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from edirunbook.errors import CoverageError

SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "zsh", "ksh"})
PROMQL_LANGUAGES = frozenset({"promql"})
# What a command is (Command.language): run in bash, or sent to Prometheus as a query.
SHELL, PROMQL = "shell", "promql"

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*)$")
_ATX = re.compile(r"^ {0,3}(?P<marks>#{1,6})(?:[ \t]+(?P<title>.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?P<underline>=+|-+)[ \t]*$")
_NOT_A_PARAGRAPH = re.compile(r"^\s*(?:[-*+>|<]|\d+[.)])")
_INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_HEREDOC = re.compile(r"<<(?P<dash>-?)[ \t]*(?P<quote>['\"]?)\\?(?P<word>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)")
_SEPARATORS = re.compile(r";;|&&|\|\||[;|&]")
_BLOCK_OPENERS = frozenset({"if", "case", "for", "while", "until", "select", "{"})
_BLOCK_CLOSERS = frozenset({"fi", "esac", "done", "}"})
_KEYWORD_PREFIXES = frozenset({"then", "do", "else", "elif", "!", "time"})
_PRINTERS = frozenset({"echo", "printf"})


@dataclass(frozen=True)
class Command:
    """One command as the runbook writes it."""

    source: str  # the lines as written (fence indentation removed)
    text: str  # normalised: one line, continuations joined, comments gone, whitespace collapsed
    line: int  # 1-based line of its first line in the file
    summary: str  # one readable line; a heredoc shows its command line and the body's size
    note: str = ""  # the comment lines right above it ("Restart webserver")
    heredoc: bool = False
    inline: bool = False  # an inline code span in prose, not a fenced block
    language: str = SHELL  # SHELL or PROMQL: a command only ever matches one of its own language


@dataclass(frozen=True)
class CodeBlock:
    language: str  # the fence's info word, lowercased; "" when unlabelled
    line: int  # line of the opening fence
    text: str
    commands: tuple[Command, ...]

    @property
    def executable(self) -> bool:
        """Its text is commands scenarios run: shell commands or PromQL queries."""
        return self.language in SHELL_LANGUAGES | PROMQL_LANGUAGES


@dataclass
class Section:
    title: str
    slug: str
    level: int
    line: int
    parent: str | None  # slug of the enclosing section
    blocks: list[CodeBlock] = field(default_factory=list)
    inline_commands: list[Command] = field(default_factory=list)

    @property
    def commands(self) -> list[Command]:
        found = [cmd for block in self.blocks for cmd in block.commands] + self.inline_commands
        return sorted(found, key=lambda cmd: cmd.line)

    @property
    def non_executable_blocks(self) -> list[CodeBlock]:
        return [block for block in self.blocks if not block.executable]


@dataclass
class Runbook:
    path: Path
    sections: list[Section]
    warnings: list[str] = field(default_factory=list)

    def section(self, slug: str) -> Section | None:
        return next((s for s in self.sections if s.slug == slug), None)

    def lineage(self, slug: str) -> list[str]:
        """The slug itself and the slugs of every section enclosing it, innermost first."""
        chain: list[str] = []
        section = self.section(slug)
        while section is not None:
            chain.append(section.slug)
            section = self.section(section.parent) if section.parent is not None else None
        return chain


def slugify(title: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped (not - or _), spaces become hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", title)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def parse_runbook(path: Path) -> Runbook:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise CoverageError(
            f"runbook {path} does not exist; pass --runbook PATH (make coverage RUNBOOK=...)"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise CoverageError(
            f"cannot read runbook {path}: {error}; it must be a readable UTF-8 Markdown file"
        ) from error
    runbook = parse_markdown(text, path)
    if not any(section.level > 0 for section in runbook.sections):
        raise CoverageError(
            f"runbook {path} has no headings; coverage is reported per section, "
            "so give each procedure a heading such as '### Restart a Service'"
        )
    return runbook


def parse_markdown(text: str, path: Path = Path("<runbook>")) -> Runbook:
    lines = text.splitlines()
    sections = [Section(title="(before the first heading)", slug="", level=0, line=1, parent=None)]
    warnings: list[str] = []
    prose: list[tuple[int, str, Section]] = []
    seen: dict[str, int] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE_OPEN.match(line)
        if fence and not (fence["fence"][0] == "`" and "`" in fence["info"]):
            end = _closing_fence(lines, index, fence["fence"])
            if end == len(lines):
                warnings.append(f"{path}:{index + 1}: code fence {fence['fence']} is never closed; close it")
            body = [_dedent(raw, len(fence["indent"])) for raw in lines[index + 1 : end]]
            sections[-1].blocks.append(_code_block(fence["info"], index + 1, body))
            index = end + 1
            continue
        heading = _heading(lines, index)
        if heading is not None:
            level, title, consumed = heading
            slug = _unique(slugify(title), seen)
            parent = next((s.slug for s in reversed(sections) if 0 < s.level < level), None)
            sections.append(Section(title=title, slug=slug, level=level, line=index + 1, parent=parent))
            index += consumed
            continue
        prose.append((index + 1, line, sections[-1]))
        index += 1
    _add_inline_commands(prose, sections)
    if not sections[0].blocks and not sections[0].inline_commands:
        sections.pop(0)
    return Runbook(path=path, sections=sections, warnings=warnings)


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    return next((i for i in range(start + 1, len(lines)) if closing.match(lines[i])), len(lines))


def _dedent(line: str, width: int) -> str:
    """Remove up to `width` leading spaces: the fence's own indentation inside a list item."""
    stripped = line.lstrip(" ")
    return line[min(width, len(line) - len(stripped)) :]


def _heading(lines: list[str], index: int) -> tuple[int, str, int] | None:
    """(level, title, lines consumed) when a heading starts at `index`."""
    atx = _ATX.match(lines[index])
    if atx:
        return len(atx["marks"]), (atx["title"] or "").strip(), 1
    line = lines[index]
    if index + 1 < len(lines) and line.strip() and not _NOT_A_PARAGRAPH.match(line):
        setext = _SETEXT.match(lines[index + 1])
        if setext:
            return (1 if setext["underline"][0] == "=" else 2), line.strip(), 2
    return None


def _unique(slug: str, seen: dict[str, int]) -> str:
    """GitHub numbers repeated anchors: install, install-1, install-2."""
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"


def _code_block(info: str, fence_line: int, body: list[str]) -> CodeBlock:
    language = info.split()[0].lower() if info.split() else ""
    text = "\n".join(body)
    commands: tuple[Command, ...] = ()
    if language in SHELL_LANGUAGES:
        commands = tuple(split_commands(text, fence_line + 1))
    elif language in PROMQL_LANGUAGES:
        commands = tuple(split_queries(text, fence_line + 1))
    return CodeBlock(language=language, line=fence_line, text=text, commands=commands)


def _add_inline_commands(prose: list[tuple[int, str, Section]], sections: list[Section]) -> None:
    programs = {
        cmd.text.split()[0] for s in sections for b in s.blocks for cmd in b.commands
        if cmd.text and cmd.language == SHELL
    }
    for number, line, section in prose:
        for span in _INLINE_CODE.findall(line):
            parsed = split_commands(span, number)
            if len(parsed) == 1 and len(parsed[0].text.split()) > 1 and parsed[0].text.split()[0] in programs:
                text = parsed[0].text
                section.inline_commands.append(Command(span, text, number, text, inline=True))


@dataclass
class _Scan:
    """One line of shell, read up to its comment."""

    code: str  # the line without comment or trailing continuation backslash
    masked: str  # `code` with quoted text replaced by "_", to see the structure
    quote: str | None  # the quote still open at the end of the line
    heredocs: list[tuple[str, bool]]  # (delimiter, strip leading tabs)
    continued: bool  # ended with a backslash


def _scan(line: str, quote: str | None) -> _Scan:
    code: list[str] = []
    masked: list[str] = []
    heredocs: list[tuple[str, bool]] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and quote != "'":
            if i + 1 == len(line):
                return _Scan("".join(code), "".join(masked), quote, heredocs, continued=True)
            code.append(line[i : i + 2])
            masked.append("__")
            i += 2
            continue
        if quote is not None:
            quote = None if ch == quote else quote
            code.append(ch)
            masked.append(ch if quote is None else "_")
        elif ch == "#" and (i == 0 or line[i - 1] in " \t;&|()"):
            break
        elif ch == "<" and (heredoc := _HEREDOC.match(line, i)) and not line.startswith("<<<", i):
            heredocs.append((heredoc["word"], heredoc["dash"] == "-"))
            code.append(heredoc[0])
            masked.append(heredoc[0])
            i = heredoc.end()
            continue
        else:
            quote = ch if ch in "'\"" else None
            code.append(ch)
            masked.append(ch)
        i += 1
    return _Scan("".join(code), "".join(masked), quote, heredocs, continued=False)


def _paren_depth(masked: str, depth: int) -> int:
    for ch in masked:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)  # a `case` pattern `a)` has no opening parenthesis
    return depth


def _block_depth(masked: str) -> int:
    """How many if/for/while/case/{ blocks this line opens minus how many it closes."""
    delta = 0
    for segment in _SEPARATORS.split(masked):
        words = segment.split()
        while words and words[0] in _KEYWORD_PREFIXES:
            words.pop(0)
        if words and words[0] in _BLOCK_OPENERS:
            delta += 1
        elif words and words[0] in _BLOCK_CLOSERS:
            delta -= 1
        elif words and words[-1] == "{":  # name() {
            delta += 1
    return delta


def _only_prints(masked: str, code: str) -> bool:
    words = masked.split()
    quiet = not any(mark in masked for mark in "|&;<>`") and "$(" not in code
    return bool(words) and words[0] in _PRINTERS and quiet


@dataclass
class _Reader:
    """The command being read: its lines, normalised pieces and what is still open."""

    start: int = 0
    lines: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)  # normalised pieces before a heredoc body
    body: list[str] = field(default_factory=list)  # normalised heredoc body lines
    masked: list[str] = field(default_factory=list)
    quote: str | None = None
    parens: int = 0
    blocks: int = 0
    heredocs: list[tuple[str, bool]] = field(default_factory=list)
    had_heredoc: bool = False
    open_end: bool = False  # continuation, pipe or && at the end of the last line

    def complete(self) -> bool:
        idle = self.quote is None and not self.heredocs and not self.open_end
        return idle and self.parens == 0 and self.blocks <= 0

    def command(self, note: str, first_line: int) -> Command:
        head = " ".join(" ".join(self.head).split())
        body = " ".join(" ".join(self.body).split())
        summary = f"{head} ... ({len(self.body)} lines)" if self.had_heredoc else head
        text = f"{head} {body}".strip()
        source = "\n".join(self.lines).rstrip()
        return Command(source, text, first_line + self.start, summary, note, heredoc=self.had_heredoc)


def split_commands(text: str, first_line: int = 1) -> list[Command]:
    """Split a shell block (or a Gherkin docstring) into single commands; `first_line` numbers its first line."""
    lines = text.splitlines()
    script = bool(lines) and next((ln for ln in lines if ln.strip()), "").lstrip().startswith("#!")
    commands: list[Command] = []
    notes: list[str] = []
    reader: _Reader | None = None
    for offset, line in enumerate(lines):
        if reader is not None and reader.heredocs:
            reader.lines.append(line)
            delimiter, tabs = reader.heredocs[0]
            if (line.lstrip("\t") if tabs else line).strip() == delimiter:
                reader.heredocs.pop(0)
            else:
                reader.body.append(line)
        else:
            scan = _scan(line, reader.quote if reader else None)
            if reader is None:
                if not scan.code.strip() and scan.quote is None:
                    notes = _note(line, notes)
                    continue
                reader = _Reader(start=offset)
            reader.lines.append(line)
            (reader.body if reader.had_heredoc else reader.head).append(scan.code)
            reader.masked.append(scan.masked)
            reader.quote = scan.quote
            reader.parens = _paren_depth(scan.masked, reader.parens)
            reader.blocks += _block_depth(scan.masked)
            reader.heredocs.extend(scan.heredocs)
            reader.had_heredoc = reader.had_heredoc or bool(scan.heredocs)
            reader.open_end = scan.continued or scan.masked.rstrip().endswith(("|", "&&"))
        if reader.complete():
            masked = " ".join(reader.masked)
            if not (script and _only_prints(masked, " ".join(reader.head))):
                commands.append(reader.command("; ".join(notes), first_line))
            reader, notes = None, []
    if reader is not None:
        commands.append(reader.command("; ".join(notes), first_line))
    return commands


def _note(line: str, notes: list[str]) -> list[str]:
    """Comment lines right above a command describe it; a blank line forgets them."""
    stripped = line.strip()
    if not stripped:
        return []
    if stripped.startswith("#!"):
        return notes
    return [*notes, stripped.lstrip("#").strip()]


def split_queries(text: str, first_line: int = 1) -> list[Command]:
    """Split a PromQL block (or a Gherkin docstring) into single queries; `first_line` numbers its first line.

    A query a line; one whose ( [ { are still open when its line ends continues on the next lines, joined.
    `#` starts a comment outside string literals; the comment lines right above a query are its note.
    """
    commands: list[Command] = []
    notes: list[str] = []
    lines: list[str] = []  # the query being read, as written
    codes: list[str] = []  # the same lines without their comments
    start, depth = 0, 0
    quote: str | None = None  # a raw string (`...`) still open at the end of the line
    for offset, line in enumerate(text.splitlines()):
        code, depth, quote = _scan_promql(line, depth, quote)
        if not lines:
            if not code.strip():
                notes = _note(line, notes)
                continue
            start = offset
        lines.append(line)
        codes.append(code)
        if depth == 0 and quote is None:
            commands.append(_query(lines, codes, first_line + start, "; ".join(notes)))
            lines, codes, notes = [], [], []
    if lines:
        commands.append(_query(lines, codes, first_line + start, "; ".join(notes)))
    return commands


def normalise_promql(query: str) -> str:
    """The query with every whitespace outside its string literals removed (its comments must be gone already)."""
    out: list[str] = []
    quote: str | None = None
    escaped = False
    for ch in query:
        if quote is not None:
            out.append(ch)
            quote, escaped = _in_string(ch, quote, escaped)
        elif not ch.isspace():
            quote = ch if ch in "\"'`" else None
            out.append(ch)
    return "".join(out)


def _in_string(ch: str, quote: str, escaped: bool) -> tuple[str | None, bool]:
    """One character inside a PromQL string literal opened by `quote`: (the quote still open, or None when this
    character closed it; whether the next character is escaped). A raw string (`...`) has no escapes."""
    if escaped:
        return quote, False
    if ch == "\\" and quote != "`":
        return quote, True
    return (None if ch == quote else quote), False


def _scan_promql(line: str, depth: int, quote: str | None) -> tuple[str, int, str | None]:
    """The line up to its comment, the bracket depth after it, and the string literal still open (a raw `...`)."""
    escaped = False
    for i, ch in enumerate(line):
        if quote is not None:
            quote, escaped = _in_string(ch, quote, escaped)
        elif ch == "#":
            return line[:i], depth, None
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
    return line, depth, quote if quote == "`" else None  # only a raw string may span lines


def _query(lines: list[str], codes: list[str], line: int, note: str) -> Command:
    joined = "\n".join(codes)
    summary = " ".join(joined.split())
    return Command("\n".join(lines).rstrip(), normalise_promql(joined), line, summary, note, language=PROMQL)
