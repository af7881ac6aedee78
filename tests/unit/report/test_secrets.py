"""Registered secrets never appear in any report file or on the terminal, in any quoting or escaping.

The registry is process-wide and the pytester runs are in-process: every test that registers a secret, itself
or in its inner run, lists it in `forget_secrets` first, so it is unregistered when the test ends.
"""

from __future__ import annotations

import json

import pytest

from edirunbook.report import register_secret, unregister_secret
from edirunbook.report.secrets import redact

from .helpers import feature, own_steps, reports_showing, scenario_of

pytest_plugins = ["pytester"]


def test_a_registered_secret_never_appears_in_any_report_or_the_terminal(
    suite: pytest.Pytester, forget_secrets: list[str]
) -> None:
    secret = 'Pa55-"<word>"&\'x'
    forget_secrets.append(secret)  # the inner run registers it in this process
    feature(suite, """
        Feature: Database credentials

          Scenario: Log in
            When the password is used
    """)
    own_steps(suite, "test_secret", f'''
        import logging

        from pytest_bdd import scenarios, when

        from edirunbook.report import record_command, record_duration, register_secret

        scenarios("features")
        SECRET = {secret!r}


        @when("the password is used")
        def _(request):
            register_secret(SECRET)
            print("connecting with", SECRET)
            logging.getLogger("db").warning("password=%s", SECRET)
            record_command(request, f"mysql -uroot -p{{SECRET}} -e 'select 1'", 1, f"denied for {{SECRET}}", 0.1)
            record_duration(request, f"login-{{SECRET}}", 0.5)
            request.node.user_properties.append(("password", SECRET))
            assert SECRET == "expected", f"login failed with {{SECRET}}"
    ''')
    result = suite.runpytest("-v", "-rA")
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "***" in output and secret not in output
    assert reports_showing(suite, "Pa55") == [], "these reports show the secret"
    assert "mysql -uroot -p*** -e 'select 1'" in json.dumps(scenario_of(suite, "Log in")["commands"][0]["command"])
    result.stdout.fnmatch_lines(["FAILED test_secret.py::test_log_in - AssertionError: login failed with ***"])


def test_a_secret_registered_late_is_still_taken_out_of_every_report_file(
    suite: pytest.Pytester, forget_secrets: list[str]
) -> None:
    token = "late-t0ken-<&>-7781"
    forget_secrets.append(token)  # the inner run registers it in this process
    feature(suite, """
        Feature: Late secret

          Scenario: Leak before registering
            Then the token leaks

          Scenario: Register
            When the token is registered
    """)
    own_steps(suite, "test_late", f'''
        from pytest_bdd import scenarios, then, when

        from edirunbook.report import register_secret

        scenarios("features")
        TOKEN = {token!r}


        @then("the token leaks")
        def _():
            raise AssertionError(f"bad token {{TOKEN}}")


        @when("the token is registered")
        def _():
            register_secret(TOKEN)
    ''')
    suite.runpytest().assert_outcomes(passed=1, failed=1)
    assert reports_showing(suite, "t0ken") == [], "these reports show the secret"
    junit = (suite.path / "reports" / "junit.xml").read_text(encoding="utf-8")
    assert "bad token ***" in junit


def test_redact_masks_every_registered_secret_and_ignores_empty_ones(forget_secrets: list[str]) -> None:
    forget_secrets.append("s3cr3t-token-9")
    register_secret("")
    register_secret("s3cr3t-token-9")
    assert redact("token=s3cr3t-token-9; other") == "token=***; other"
    assert redact("nothing here") == "nothing here"


def test_an_unregistered_secret_is_shown_again(forget_secrets: list[str]) -> None:
    forget_secrets.append("0ld-pa55word-4")
    register_secret("0ld-pa55word-4")
    assert redact("password 0ld-pa55word-4") == "password ***"
    unregister_secret("0ld-pa55word-4")
    assert redact("password 0ld-pa55word-4") == "password 0ld-pa55word-4"
