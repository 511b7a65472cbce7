"""Two Terraform roots that share addresses, scanned together, give exactly the findings of separate scans.

`tests/fixtures/two-roots`: `envs/dev` and `envs/prod` both declare `aws_instance.web`,
`aws_iam_access_key.deploy` and a call of `modules/app`; only dev's hold keys and a login profile,
only prod's key leaks through an output. dev's key for a user "ops" has a namesake login profile
only in prod: rules 2 and 9 match within a root. Each tree is laid out in both folder orders, because the
first block found for an address used to win. Run through checkov (in process) and through the audit
(batched, forked); `tests/e2e/test_two_roots_cli.py` runs `keyless checkov`.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from checkov.common.models.enums import CheckResult

from keyless.audit import plan
from keyless.audit.report import audit
from keyless.catalog import rule
from keyless.engines import run_checkov

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "two-roots"
Finding = tuple[str, str, str, str]  # (rule slug, absolute file, resource, message)


def lay_out(tmp: Path, dev_first: bool) -> tuple[Path, Path, Path]:
    """The fixture with dev and prod in folders that sort dev first, or prod first."""
    shutil.copytree(FIXTURE / "modules", tmp / "modules")
    dev, prod = (tmp / "envs/a", tmp / "envs/b") if dev_first else (tmp / "envs/b", tmp / "envs/a")
    shutil.copytree(FIXTURE / "envs/dev", dev)
    shutil.copytree(FIXTURE / "envs/prod", prod)
    return tmp, dev, prod


def checkov_findings(root: Path) -> set[Finding]:
    found = set()
    for report in run_checkov(str(root), frameworks=["terraform"]):
        for record in report.failed_checks:
            assert record.check_result["result"] == CheckResult.FAILED
            for message in record.details:
                found.add((rule(record.check_id).slug, os.path.realpath(record.file_abs_path), record.resource, message))
    return found


def _placed_file(file: str, message: str) -> str:
    """The audit places a finding inside a module at the call its message names (`called in REL`)."""
    call = re.search(r"\(created through module\.[^,]+, called in ([^)]+)\)", message)
    return os.path.realpath(os.path.join(os.path.dirname(file), call.group(1)) if call else file)


def audit_findings(root: Path, jobs: int = 1) -> set[Finding]:
    report, failures = audit([str(root)], progress=False, jobs=jobs)
    assert failures == []
    return {(f.rule, os.path.realpath(os.path.join(root, f.file)), f.resource, f.message) for f in report.findings}


def _where(findings: set[Finding], root: Path) -> set[tuple[str, str, str]]:
    return {(slug, os.path.relpath(file, root), resource) for slug, file, resource, _ in findings}


@pytest.mark.parametrize("dev_first", [True, False], ids=["dev-first", "prod-first"])
def test_checkov_keeps_each_roots_blocks_apart(tmp_path: Path, dev_first: bool) -> None:
    tree, dev, prod = lay_out(tmp_path, dev_first)
    together = checkov_findings(tree)
    apart = checkov_findings(dev) | checkov_findings(prod)
    assert together == apart
    where = _where(together, tree)
    d, p = os.path.relpath(dev, tree), os.path.relpath(prod, tree)
    # what the fixture says, independently of keyless: dev's keys and login profile, prod's output
    assert ("credentials-in-compute", f"{d}/main.tf", "aws_instance.web") in where  # despite `> /var/log/boot.log`
    assert ("hardcoded-access-key-id", f"{d}/main.tf", "aws_instance.web") in where
    assert ("human-user-access-key", f"{d}/main.tf", "aws_iam_access_key.deploy") in where
    assert ("access-key-secret-exposed", f"{p}/main.tf", "aws_iam_access_key.deploy") in where
    assert not {w for w in where if w[1] == f"{p}/main.tf" and w[0] != "access-key-secret-exposed"}
    assert not {w for w in where if w[1] == f"{d}/main.tf" and w[0] in ("access-key-secret-exposed",)}
    # dev's "ops" key matches prod's login profile by name only: rule 1, never rule 2
    assert ("iam-access-key", f"{d}/main.tf", "aws_iam_access_key.ops") in where
    assert ("human-user-access-key", f"{d}/main.tf", "aws_iam_access_key.ops") not in where
    module_findings = {(slug, resource) for slug, file, resource in where if file == "modules/app/main.tf"}
    assert module_findings == {("hardcoded-access-key-id", "module.app.aws_lambda_function.app"),
                               ("credentials-in-compute", "module.app.aws_lambda_function.app")}
    # the module instance called with a key is dev's: its message names that key, once per rule
    assert len([f for f in together if f[1].endswith("modules/app/main.tf")]) == 2


@pytest.mark.parametrize("dev_first", [True, False], ids=["dev-first", "prod-first"])
def test_audit_batched_and_forked_keeps_each_roots_blocks_apart(tmp_path: Path, dev_first: bool,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    tree, dev, prod = lay_out(tmp_path, dev_first)
    one_run = audit_findings(tree)
    assert one_run == audit_findings(dev) | audit_findings(prod)
    monkeypatch.setattr(plan, "BATCH_FILES", 1)
    assert audit_findings(tree, jobs=2) == one_run
    assert one_run == {(s, _placed_file(f, m), r, m) for s, f, r, m in checkov_findings(tree)}


def test_the_old_address_only_lookup_would_mix_the_roots(tmp_path: Path) -> None:
    """The fixture does exercise the defect: both roots declare the same addresses."""
    tree, dev, prod = lay_out(tmp_path, True)
    addresses: dict[str, Any] = {}
    for root in (dev, prod):
        text = (root / "main.tf").read_text()
        addresses[root.name] = {line.split('"')[1] + "." + line.split('"')[3]
                                for line in text.splitlines() if line.startswith("resource ")}
    assert addresses["a"] & addresses["b"] >= {"aws_instance.web", "aws_iam_access_key.deploy"}
