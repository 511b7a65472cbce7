"""Keys written outside checkov's entities: comments, unused defaults, locals, outputs, backends, -var-files.

Expectations come from the fixtures' text, never from keyless's output: in each rule folder's
`outside.tf` and `envs/prod.tfvars`, every line holding a key ID (rule 3) or a mixed-case
40-character string next to a credential word (rule 4) must be reported by the audit at exactly that
line. checkov's side (the `fail_outside_` entities) is checked with every other label by
test_terraform_rules.py; here, that checkov reports nothing else of those files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from keyless.audit.report import audit
from keyless.engines import run_checkov

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
FOLDERS = {
    "hardcoded-access-key-id": FIXTURES / "hardcoded-access-key-id" / "terraform",
    "hardcoded-secret-access-key": FIXTURES / "hardcoded-secret-access-key" / "terraform",
}
FILES = ("outside.tf", "envs/prod.tfvars")
_KEY_ID = re.compile(r"(?<![A-Za-z0-9])AKIA[A-Z0-9]{16}(?![A-Z0-9])")
_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_CREDENTIAL_WORD = re.compile(r"(?i)secret")


def _mixed(value: str) -> bool:
    return bool(re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"[0-9/+]", value))


def expected(folder: Path) -> set[tuple[str, str, int]]:
    """(rule, file, line) of every key written in the folder's outside-the-entities files.

    A value inside a checkov entity (a `fail_outside_` data source) is reported, as every checkov
    finding is, at the entity's first line; a comment inside one at the comment's own line. A
    variable's default and an output's value are named by the variable or output.
    """
    found = set()
    for name in FILES:
        entity, header = 0, ""
        for number, line in enumerate((folder / name).read_text().splitlines(), start=1):
            if re.match(r'(resource|data|provider|module)\s', line):
                entity = number
            elif line.startswith("}"):
                entity, header = 0, ""
            if re.match(r"[a-z]", line):
                header = line  # a variable or output is named in its first line
            where = entity if entity and not line.strip().startswith("#") else number
            if _KEY_ID.search(line):
                found.add(("hardcoded-access-key-id", name, where))
            if _CREDENTIAL_WORD.search(line + header) and any(_mixed(s) for s in _SECRET.findall(line)):
                found.add(("hardcoded-secret-access-key", name, where))
    return found


@pytest.fixture(scope="module")
def audited() -> dict[str, list[Any]]:
    out = {}
    for slug, folder in FOLDERS.items():
        report, failures = audit([str(folder)], progress=False, jobs=1)
        assert failures == []
        out[slug] = report.findings
    return out


@pytest.mark.parametrize("slug", FOLDERS)
def test_every_key_outside_the_entities_is_reported_at_its_line(audited: dict[str, list[Any]], slug: str) -> None:
    want = expected(FOLDERS[slug])
    assert len(want) >= 8
    got = {(f.rule, f.file, f.line) for f in audited[slug] if f.file in FILES}
    assert got == want


def test_a_var_file_names_the_variable_and_the_blocks_that_use_it(audited: dict[str, list[Any]]) -> None:
    by_line = {f.line: f for f in audited["hardcoded-access-key-id"] if f.file == "envs/prod.tfvars"}
    used = by_line[2]
    # main.tf: resource "aws_ssm_parameter" "fail_from_tfvars" { value = var.deploy_key_id }
    assert used.resource == "var.deploy_key_id"
    assert "sets variable deploy_key_id, used by aws_ssm_parameter.fail_from_tfvars" in used.message
    unused = {f.line: f for f in audited["hardcoded-secret-access-key"] if f.file == "envs/prod.tfvars"}[3]
    assert "which no block of its root uses" in unused.message


def test_what_checkov_cannot_report_is_named_where_it_is_written(audited: dict[str, list[Any]]) -> None:
    names = {(f.file, f.line): f.resource for f in audited["hardcoded-access-key-id"] if f.file == "outside.tf"}
    text = (FOLDERS["hardcoded-access-key-id"] / "outside.tf").read_text().splitlines()
    line = {needle: next(n for n, t in enumerate(text, start=1) if needle in t)
            for needle in ("AKIAK62F3FJTAYVIZMDN", "AKIA4QZIW6DIJ2HGHJSL", "AKIAL2JNU7OQHXLESADV",
                           "AKIANYZVZY2XFLCXZ4OT", "AKIAZYMLOPIFQYF7M2NX", "AKIA6IQ3S2KSY4MYVMWA")}
    assert names[("outside.tf", line["AKIAK62F3FJTAYVIZMDN"])] == "var.outside_unused_key_id"
    assert names[("outside.tf", line["AKIA4QZIW6DIJ2HGHJSL"])] == "local.outside_unused_key_id"
    assert names[("outside.tf", line["AKIAL2JNU7OQHXLESADV"])] == "output.outside_key_id"
    assert names[("outside.tf", line["AKIANYZVZY2XFLCXZ4OT"])] == "terraform"
    assert names[("outside.tf", line["AKIAZYMLOPIFQYF7M2NX"])] == "comment"
    # a comment inside a resource is that resource's finding, as in checkov
    assert names[("outside.tf", line["AKIA6IQ3S2KSY4MYVMWA"])] == "aws_s3_bucket.fail_outside_comment_in_resource"


@pytest.mark.parametrize("slug", FOLDERS)
def test_checkov_reports_only_the_entities_that_hold_or_use_the_key(slug: str) -> None:
    folder = FOLDERS[slug]
    failed = {r.resource for report in run_checkov(str(folder), frameworks=["terraform"])
              for r in report.failed_checks if r.file_path.endswith("/outside.tf")}
    labels = set(re.findall(r'"(fail_outside_\w+)"', (folder / "outside.tf").read_text()))
    assert labels and {r.rsplit(".", 1)[-1] for r in failed} == labels


@pytest.mark.parametrize("slug", FOLDERS)
def test_no_secret_written_outside_the_entities_reaches_a_report(audited: dict[str, list[Any]], slug: str) -> None:
    from keyless.audit.formats import render
    from keyless.audit.model import Report

    report, _ = audit([str(FOLDERS[slug])], progress=False, jobs=1)
    written = " ".join((FOLDERS[slug] / name).read_text() for name in FILES)
    secrets = {s for s in _SECRET.findall(written) if _mixed(s)} | set(_KEY_ID.findall(written))
    assert len(secrets) >= 8
    for fmt in ("json", "sarif", "markdown", "terminal"):
        text = render(Report.from_dict(json.loads(report.to_json())), fmt)
        assert [s[:4] for s in secrets if s in text] == [], fmt
