"""Every tfvars file is read by the audit, wherever it sits, and reported at its line with its own root's users.

The tree (tests/fixtures/var-files) has two roots, envs/dev and envs/prod, each with a `-var-file`
(`dev.tfvars`, `prod.tfvars`, and a `config/rotation.tfvars.json` below prod), and a `shared.tfvars`
no root holds. Expectations come from the files' text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from keyless.audit.report import audit
from keyless.engines import run_checkov

TREE = Path(__file__).resolve().parents[1] / "fixtures" / "var-files"
_KEY_ID = re.compile(r"(?<![A-Za-z0-9])AKIA[A-Z0-9]{16}(?![A-Z0-9])")
_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


@pytest.fixture(scope="module")
def findings() -> list[Any]:
    report, failures = audit([str(TREE)], progress=False, jobs=1)
    assert failures == []
    return report.findings


def _var_files() -> list[Path]:
    return sorted(p for p in TREE.rglob("*") if p.name.endswith((".tfvars", ".tfvars.json")))


def test_every_key_in_every_var_file_is_reported_at_its_line(findings: list[Any]) -> None:
    want = set()
    for path in _var_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            rel = path.relative_to(TREE).as_posix()
            if _KEY_ID.search(line):
                want.add(("hardcoded-access-key-id", rel, number))
            if "secret" in line and any(re.search(r"[a-z]", s) and re.search(r"[A-Z]", s) for s in _SECRET.findall(line)):
                want.add(("hardcoded-secret-access-key", rel, number))
    assert len(want) == 6
    assert {(f.rule, f.file, f.line) for f in findings} == want


def test_each_var_file_names_the_blocks_of_its_own_root(findings: list[Any]) -> None:
    for f in findings:
        env = re.match(r"envs/(dev|prod)/", f.file)
        if env is None:
            assert "no block of its root uses" in f.message  # shared.tfvars: no root holds it
            continue
        other = "prod" if env.group(1) == "dev" else "dev"
        used = re.search(r"used by ([\w.]+)", f.message)
        assert used and used.group(1).startswith(f"aws_ssm_parameter.{env.group(1)}_"), f.message
        assert f"{other}_" not in f.message
        assert f"sets variable {f.resource.removeprefix('var.')}" in f.message


def test_checkov_reads_no_var_file() -> None:
    """What the checkov path covers: terraform.tfvars and *.auto.tfvars only (see the rule pages)."""
    failed = [r for report in run_checkov(str(TREE), frameworks=["terraform"]) for r in report.failed_checks]
    assert failed == []
