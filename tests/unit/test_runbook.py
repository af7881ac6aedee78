"""How a Markdown runbook is read: its sections, and the single commands in its shell blocks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from edirunbook.errors import CoverageError
from edirunbook.runbook import (
    Runbook,
    normalise_promql,
    parse_markdown,
    parse_runbook,
    slugify,
    split_commands,
    split_queries,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return parse_runbook(DATA / "runbook.md")


def texts(runbook: Runbook, slug: str) -> list[str]:
    section = runbook.section(slug)
    assert section is not None, f"no section #{slug}"
    return [command.text for command in section.commands]


def block(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# --- sections -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Restart a Service", "restart-a-service"),
        ("Pod Won't Start", "pod-wont-start"),
        ("Bots EDI - Operations Runbook", "bots-edi---operations-runbook"),
        ("Backup and Restore (PVC)", "backup-and-restore-pvc"),
        ("`kubectl` tips", "kubectl-tips"),
        ("See [the guide](guide.md)", "see-the-guide"),
        ("snake_case stays", "snake_case-stays"),
    ],
)
def test_a_heading_slug_is_its_github_anchor(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_sections_are_the_headings_in_order_with_level_and_line(runbook: Runbook) -> None:
    first = runbook.sections[:4]
    assert [(s.title, s.level, s.line) for s in first] == [
        ("Fixture Runbook", 1, 1),
        ("Daily Operations", 2, 5),
        ("Health Checks", 3, 7),
        ("Quick Status Check", 3, 17),
    ]


def test_a_nested_section_knows_the_sections_enclosing_it(runbook: Runbook) -> None:
    assert runbook.lineage("verify") == ["verify", "restart-a-service", "common-tasks", "fixture-runbook"]


def test_a_repeated_heading_gets_a_numbered_slug_as_on_github(runbook: Runbook) -> None:
    verify = [s for s in runbook.sections if s.title == "Verify"]
    assert [(s.slug, s.parent) for s in verify] == [("verify", "restart-a-service"), ("verify-1", "scale-webserver")]


def test_an_underlined_setext_heading_is_a_section(runbook: Runbook) -> None:
    contact = runbook.section("contact-information")
    assert contact is not None
    assert (contact.level, contact.line, contact.parent) == (2, 159, "fixture-runbook")


def test_a_hash_inside_a_code_block_is_not_a_heading() -> None:
    runbook = parse_markdown(
        block("""
        ## Only Section
        ```bash
        # Restart webserver
        kubectl rollout restart deployment/bots-webserver -n edi
        ```
    """)
    )
    assert [s.title for s in runbook.sections] == ["Only Section"]


def test_commands_before_the_first_heading_get_a_section_of_their_own() -> None:
    runbook = parse_markdown("```bash\nkubectl get nodes\n```\n# Title\n")
    assert [(s.slug, s.level, [c.text for c in s.commands]) for s in runbook.sections] == [
        ("", 0, ["kubectl get nodes"]),
        ("title", 1, []),
    ]


# --- commands of a runbook ------------------------------------------------------------------------


def test_each_command_of_a_shell_block_is_listed_with_its_line(runbook: Runbook) -> None:
    section = runbook.section("health-checks")
    assert section is not None
    assert [(c.line, c.text) for c in section.commands] == [
        (11, "kubectl get pods -n edi"),
        (14, "kubectl exec -n edi deployment/bots-webserver -- df -h /home/bots/.bots"),
    ]


def test_the_comment_above_a_command_is_its_note_not_a_command(runbook: Runbook) -> None:
    section = runbook.section("restart-a-service")
    assert section is not None
    assert [c.note for c in section.commands] == ["Restart webserver", "Wait for rollout"]


def test_a_command_in_two_sections_belongs_to_both(runbook: Runbook) -> None:
    assert "kubectl get pods -n edi" in texts(runbook, "health-checks")
    assert "kubectl get pods -n edi" in texts(runbook, "service-outage")


def test_a_fenced_block_indented_in_a_numbered_list_is_read_with_its_real_lines(runbook: Runbook) -> None:
    section = runbook.section("service-outage")
    assert section is not None
    fenced = [(c.line, c.source, c.note) for c in section.commands if not c.inline]
    assert fenced == [
        (129, "kubectl get pods -n edi", ""),
        (135, "systemctl status mysql", "On DB server"),
    ]


def test_a_continued_command_is_one_command_with_its_trailing_comment_dropped(runbook: Runbook) -> None:
    section = runbook.section("update-container-image")
    assert section is not None
    (command,) = section.commands
    assert (
        command.text
        == "kubectl set image deployment/bots-webserver webserver=harbor.pminc.me/priv/bots-edi:v1.2.0 -n edi"
    )
    assert command.source.splitlines()[0] == "kubectl set image deployment/bots-webserver \\"


def test_a_heredoc_is_one_command_that_keeps_its_body(runbook: Runbook) -> None:
    section = runbook.section("database-backup")
    assert section is not None
    heredoc, dump = section.commands
    assert heredoc.heredoc and heredoc.line == 94
    assert heredoc.summary == "kubectl apply -f - <<EOF ... (19 lines)"
    assert 'schedule: "0 2 * * *" # 2 AM daily' in heredoc.text, "a # inside the body is YAML, not a comment"
    assert r"DATE=\$(date +%Y%m%d-%H%M%S)" in heredoc.text, "the escaped \\$ is kept as written"
    assert heredoc.source.splitlines()[-1] == "EOF"
    assert dump.text.startswith("kubectl exec -n edi deployment/bots-webserver -- mysqldump -h kona.db.pminc.me")
    assert dump.text.endswith("> backup-$(date +%Y%m%d).sql")


def test_a_script_yields_its_commands_but_not_its_shebang_or_echo_decoration(runbook: Runbook) -> None:
    assert texts(runbook, "quick-status-check") == [
        "kubectl get pods -n edi -l app=bots-edi",
        'curl -sf https://bots-edi.pminc.me/health/ping && echo "✓ Healthy" || echo "✗ Unhealthy"',
        "for deployment in bots-webserver bots-jobqueue; do"
        ' kubectl rollout status "deployment/$deployment" -n edi done',
    ]


def test_a_placeholder_is_kept_as_written(runbook: Runbook) -> None:
    assert texts(runbook, "manual-engine-run") == [
        "kubectl create job --from=cronjob/bots-engine bots-engine-manual-$(date +%s) -n edi",
        "kubectl logs -n edi -f job/bots-engine-manual-<timestamp>",
    ]


def test_a_commented_out_sql_line_after_a_command_is_not_a_command(runbook: Runbook) -> None:
    assert texts(runbook, "performance-degradation") == [
        "kubectl exec -n edi deployment/bots-webserver -- python manage.py dbshell"
    ]


def test_blocks_neither_shell_nor_promql_are_listed_but_hold_no_commands(runbook: Runbook) -> None:
    contact = runbook.section("contact-information")
    assert contact is not None
    assert [(b.language, b.line, b.executable) for b in contact.non_executable_blocks] == [("", 162, False)]
    assert contact.commands == []


def test_a_promql_block_holds_queries_and_is_not_listed_as_non_executable(runbook: Runbook) -> None:
    queries = runbook.section("prometheus-queries")
    assert queries is not None
    assert queries.non_executable_blocks == []
    assert [(c.line, c.text, c.note, c.language) for c in queries.commands] == [
        (156, "rate(bots_errors_total[5m])/rate(bots_transactions_total[5m])", "Error rate", "promql")
    ]


def test_a_yaml_block_stays_non_executable_beside_a_promql_block() -> None:
    runbook = parse_markdown(
        block("""
        ## Monitoring
        ```yaml
        groups:
          - name: bots
        ```
        ```promql
        up{job="bots"}
        ```
        ```sql
        SHOW FULL PROCESSLIST;
        ```
    """)
    )
    section = runbook.sections[0]
    assert [(b.language, b.line) for b in section.non_executable_blocks] == [("yaml", 2), ("sql", 9)]
    assert [(c.line, c.text, c.language) for c in section.commands] == [(7, 'up{job="bots"}', "promql")]


def test_inline_code_in_prose_is_a_command_when_it_starts_with_a_program_the_runbook_runs(runbook: Runbook) -> None:
    section = runbook.section("service-outage")
    assert section is not None
    inline = [(c.line, c.text) for c in section.commands if c.inline]
    assert inline == [(138, """kubectl patch cronjob/bots-engine -n edi -p '{"spec":{"suspend":false}}'""")]


def test_a_block_of_comments_and_open_yields_the_open_command() -> None:
    runbook = parse_markdown(
        block("""
        ### Transaction Monitoring
        ```bash
        # Access web UI
        open https://bots-edi.pminc.me

        # Check dashboard for:
        # - Error rate (<1% acceptable)
        ```
    """)
    )
    assert [(c.line, c.text, c.note) for c in runbook.sections[0].commands] == [
        (4, "open https://bots-edi.pminc.me", "Access web UI")
    ]


def test_shell_commands_are_shell_and_inline_code_never_starts_with_a_query() -> None:
    runbook = parse_markdown(
        block("""
        ## Checks
        ```bash
        kubectl get pods -n edi
        ```
        ```promql
        kubectl_pods
        ```
        Run `kubectl get nodes -o wide` or `kubectl_pods by (namespace)`.
    """)
    )
    assert [(c.text, c.language, c.inline) for c in runbook.sections[0].commands] == [
        ("kubectl get pods -n edi", "shell", False),
        ("kubectl_pods", "promql", False),
        ("kubectl get nodes -o wide", "shell", True),
    ]


def test_an_unclosed_fence_is_read_to_the_end_with_a_warning() -> None:
    runbook = parse_markdown("## Broken\n```bash\nkubectl get pods -n edi\n", Path("broken.md"))
    assert [c.text for c in runbook.sections[0].commands] == ["kubectl get pods -n edi"]
    assert runbook.warnings == ["broken.md:2: code fence ``` is never closed; close it"]


# --- splitting shell text into commands -----------------------------------------------------------


def test_split_numbers_commands_from_the_first_line_it_is_given() -> None:
    commands = split_commands("kubectl get nodes\n\nkubectl get pods -n edi", first_line=10)
    assert [(c.line, c.text) for c in commands] == [(10, "kubectl get nodes"), (12, "kubectl get pods -n edi")]


def test_split_joins_lines_ending_in_a_pipe_or_and() -> None:
    commands = split_commands("kubectl get events -n edi |\n  tail -20 &&\n  echo done")
    assert [c.text for c in commands] == ["kubectl get events -n edi | tail -20 && echo done"]


def test_split_keeps_a_quoted_string_that_spans_lines_in_one_command() -> None:
    commands = split_commands('kubectl patch cronjob/bots-engine -n edi -p \'{\n  "spec": {"suspend": false}\n}\'')
    assert len(commands) == 1
    assert commands[0].text == """kubectl patch cronjob/bots-engine -n edi -p '{ "spec": {"suspend": false} }'"""


def test_split_reads_quoted_and_dash_heredoc_delimiters() -> None:
    text = "cat <<'END'\nkeep $HOME\nEND\nkubectl apply -f - <<-EOF\n\tkind: Namespace\n\tEOF\nkubectl get ns"
    commands = split_commands(text)
    assert [(c.text, c.heredoc) for c in commands] == [
        ("cat <<'END' keep $HOME", True),
        ("kubectl apply -f - <<-EOF kind: Namespace", True),
        ("kubectl get ns", False),
    ]


def test_split_keeps_if_and_while_blocks_whole() -> None:
    text = block("""
        if kubectl get ns edi; then
          kubectl get pods -n edi
        fi
        while ! curl -sf http://127.0.0.1:18080/health/ready; do
          sleep 1
        done
    """)
    commands = split_commands(text)
    assert [c.line for c in commands] == [1, 4]
    assert commands[0].text == "if kubectl get ns edi; then kubectl get pods -n edi fi"


def test_split_does_not_take_a_hash_inside_a_word_or_quotes_for_a_comment() -> None:
    commands = split_commands("""curl -s 'http://x/#top' "a # b" ${#var} # real comment""")
    assert [c.text for c in commands] == ["""curl -s 'http://x/#top' "a # b" ${#var}"""]


def test_split_keeps_echo_outside_scripts() -> None:
    assert [c.text for c in split_commands('echo "hello"')] == ['echo "hello"']


def test_split_keeps_an_echo_that_writes_a_file_in_a_script() -> None:
    commands = split_commands('#!/bin/bash\necho "[settings]" > bots.ini\necho "Pods:"')
    assert [c.text for c in commands] == ['echo "[settings]" > bots.ini']


# --- splitting PromQL into queries ----------------------------------------------------------------

PROMQL_BLOCK = """\
# Transaction rate
rate(bots_transactions_total[5m])

# Error rate
rate(bots_errors_total[5m]) / rate(bots_transactions_total[5m])

# Processing time
histogram_quantile(0.95, rate(bots_processing_duration_seconds_bucket[5m]))

# Pod CPU usage
container_cpu_usage_seconds_total{namespace="edi",pod=~"bots-.*"}

# Pod memory
container_memory_working_set_bytes{namespace="edi",pod=~"bots-.*"}
"""


def test_a_promql_block_is_a_query_a_line_with_its_comment_as_note_and_its_line() -> None:
    queries = split_queries(PROMQL_BLOCK, first_line=105)
    assert [(q.line, q.note, q.text) for q in queries] == [
        (106, "Transaction rate", "rate(bots_transactions_total[5m])"),
        (109, "Error rate", "rate(bots_errors_total[5m])/rate(bots_transactions_total[5m])"),
        (112, "Processing time", "histogram_quantile(0.95,rate(bots_processing_duration_seconds_bucket[5m]))"),
        (115, "Pod CPU usage", 'container_cpu_usage_seconds_total{namespace="edi",pod=~"bots-.*"}'),
        (118, "Pod memory", 'container_memory_working_set_bytes{namespace="edi",pod=~"bots-.*"}'),
    ]
    assert {q.language for q in queries} == {"promql"}
    assert queries[1].summary == queries[1].source == "rate(bots_errors_total[5m]) / rate(bots_transactions_total[5m])"


def test_a_promql_block_in_a_runbook_gives_the_sections_queries_their_file_lines() -> None:
    runbook = parse_markdown("## Prometheus Queries\n\n```promql\n" + PROMQL_BLOCK + "```\n")
    assert [(c.line, c.note) for c in runbook.sections[0].commands] == [
        (5, "Transaction rate"), (8, "Error rate"), (11, "Processing time"), (14, "Pod CPU usage"), (17, "Pod memory"),
    ]  # fmt: skip


def test_a_query_with_open_brackets_continues_on_the_next_lines() -> None:
    text = block("""
        # Error ratio per pod
        sum by (pod) (
          rate(bots_errors_total{namespace="edi"}[5m])  # errors
        )
        /
        up
    """)
    first, *rest = split_queries(text, first_line=20)
    assert (first.line, first.note, first.text) == (
        21, "Error ratio per pod", 'sumby(pod)(rate(bots_errors_total{namespace="edi"}[5m]))'
    )  # fmt: skip
    assert first.summary == 'sum by (pod) ( rate(bots_errors_total{namespace="edi"}[5m]) )'
    assert first.source.splitlines()[-1] == ")"
    assert [(q.line, q.text) for q in rest] == [(24, "/"), (25, "up")], "only open brackets continue a query"


def test_a_hash_or_a_bracket_inside_a_promql_string_is_text() -> None:
    (query,) = split_queries('count(up{job="a # (b"}) # how many')
    assert query.text == 'count(up{job="a # (b"})'


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("rate(x[5m]) / rate(y[5m])", "rate(x[5m])/rate(y[5m])"),
        ("sum  by (job)\n  (rate(x[5m]))", "sumby(job)(rate(x[5m]))"),
        ('up{job = "bots edi", path=~\'/a b\'}', 'up{job="bots edi",path=~\'/a b\'}'),
        ('up{job="say \\"hi there\\""} > 0', 'up{job="say \\"hi there\\""}>0'),
        ('label_replace(up, `a  b`, "", "", "")', 'label_replace(up,`a  b`,"","","")'),
    ],
)
def test_promql_normalisation_removes_whitespace_outside_string_literals_only(written: str, normalised: str) -> None:
    assert normalise_promql(written) == normalised


# --- reading the file -----------------------------------------------------------------------------


def test_a_missing_runbook_says_which_option_to_use(tmp_path: Path) -> None:
    with pytest.raises(CoverageError, match=r"runbook .*missing\.md does not exist; pass --runbook PATH"):
        parse_runbook(tmp_path / "missing.md")


def test_a_runbook_without_headings_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "flat.md"
    path.write_text("```bash\nkubectl get pods -n edi\n```\n", encoding="utf-8")
    with pytest.raises(CoverageError, match="has no headings; coverage is reported per section"):
        parse_runbook(path)


def test_a_runbook_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("# Caf\xe9\n".encode("latin-1"))
    with pytest.raises(CoverageError, match="must be a readable UTF-8 Markdown file"):
        parse_runbook(path)
