"""Values are judged as written, not as checkov rendered them.

checkov evaluates strings with a spaced comparison or logic operator (` > `, ` == `, ` && `) into None
or a bool, and joins a heredoc's lines once it renders an interpolation in it. Each resource of
`tests/fixtures/rendered-values` holds a literal key ID beside such a form, and writes a credential in
its user data: every one must fail rules 3 and 8, through checkov and through the audit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from keyless.audit.report import audit
from keyless.catalog import rule
from keyless.engines import run_checkov

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "rendered-values"
RESOURCES = sorted(re.findall(r'^resource "aws_instance" "(\w+)"', (FIXTURE / "main.tf").read_text(), re.MULTILINE))
EXPECTED = {(slug, f"aws_instance.{name}") for name in RESOURCES
            for slug in ("hardcoded-access-key-id", "credentials-in-compute")}


def test_the_fixture_holds_every_form() -> None:
    text = (FIXTURE / "main.tf").read_text()
    for form in (" > ", " == ", " && ", "<<-EOT", "${var.", "base64encode(<<"):
        assert form in text, form
    assert len(RESOURCES) >= 6


def test_checkov_sees_the_written_values() -> None:
    failed = {(rule(r.check_id).slug, r.resource)
              for report in run_checkov(str(FIXTURE), frameworks=["terraform"]) for r in report.failed_checks}
    assert EXPECTED - failed == set()


@pytest.mark.parametrize("jobs", [1, 2])
def test_audit_sees_the_written_values(jobs: int) -> None:
    report, failures = audit([str(FIXTURE)], progress=False, jobs=jobs)
    assert failures == []
    found = {(f.rule, f.resource) for f in report.findings}
    assert EXPECTED - found == set()
    lines = {f.line for f in report.findings if f.rule == "credentials-in-compute"}
    assert len(lines) == len(RESOURCES), "each finding sits on its own resource's line"
