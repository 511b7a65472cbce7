"""A key or credential write in a file the code references is reported on the block that reads it,
at the file and line where it is written: in checkov's details, the audit and its SARIF.

Expectations are read from the fixture files themselves (the line that holds the text), never from
keyless's output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from keyless.audit.formats import render
from keyless.audit.report import audit
from keyless.engines import run_checkov

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
COMPUTE = FIXTURES / "credentials-in-compute" / "terraform"


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


# (rule, resource, file, text on the expected line)
PLACED = [
    ("credentials-in-compute", "aws_instance.fail_files_user_data_file", "files/boot.sh", "export AWS_ACCESS_KEY_ID="),
    ("hardcoded-access-key-id", "aws_instance.fail_files_user_data_file", "files/boot.sh", "export AWS_ACCESS_KEY_ID="),
    ("hardcoded-secret-access-key", "aws_instance.fail_files_user_data_file", "files/boot.sh", "AWS_SECRET_ACCESS_KEY="),
    ("credentials-in-compute", "aws_launch_configuration.fail_files_user_data_filebase64", "files/boot.sh",
     "export AWS_ACCESS_KEY_ID="),
    ("credentials-in-compute", "aws_launch_template.fail_files_templatefile_literal", "files/boot.tpl",
     "aws configure set aws_access_key_id"),
    ("credentials-in-compute", "aws_launch_template.fail_files_cloudinit_user_data", "files/cloud-config.yaml",
     "aws_access_key_id ="),
    ("credentials-in-compute", "aws_ecs_task_definition.fail_files_task_from_file", "files/task.json",
     "AWS_SECRET_ACCESS_KEY"),
    ("credentials-in-compute", "terraform_data.fail_files_remote_exec_script", "files/setup.sh", "aws_access_key_id"),
    ("credentials-in-compute", "aws_instance.fail_files_file_provisioner_source", "files/credentials", "aws_access_key_id"),
    # a template variable holding the value: the template line that uses it
    ("credentials-in-compute", "aws_ecs_task_definition.fail_files_task_from_templatefile", "files/task.json.tpl",
     "STORAGE_SECRET_KEY"),
]


@pytest.fixture(scope="module")
def compute_audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    tree = tmp_path_factory.mktemp("repo") / "infra"
    shutil.copytree(COMPUTE, tree)
    (tree.parent / ".git").mkdir()  # a repository root above the audited folder, for SARIF's SRCROOT
    report, failures = audit([str(tree)], progress=False, jobs=1)
    assert failures == []
    return tree, report


@pytest.mark.parametrize(("slug", "resource", "file", "text"), PLACED, ids=lambda v: str(v)[:40])
def test_the_audit_points_at_the_referenced_file(compute_audit: tuple[Path, Any], slug: str, resource: str, file: str,
                                                 text: str) -> None:
    tree, report = compute_audit
    where = {(f.file, f.line) for f in report.findings if f.rule == slug and f.resource == resource}
    assert where == {(file, _line(tree / file, text))}
    [message] = [f.message for f in report.findings if f.rule == slug and f.resource == resource]
    assert f"(written at {file}:{_line(tree / file, text)})" in message


def test_sarif_locations_point_at_the_referenced_file(compute_audit: tuple[Path, Any]) -> None:
    tree, report = compute_audit
    sarif = json.loads(render(report, "sarif"))
    located = {(r["properties"]["resource"], r["properties"]["slug"]):
               (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"])
               for run in sarif["runs"] for r in run["results"]}
    assert located[("aws_instance.fail_files_user_data_file", "credentials-in-compute")] == (
        "infra/files/boot.sh", _line(tree / "files/boot.sh", "export AWS_ACCESS_KEY_ID="))
    assert located[("terraform_data.fail_files_remote_exec_script", "hardcoded-access-key-id")] == (
        "infra/files/setup.sh", _line(tree / "files/setup.sh", "aws_access_key_id"))


def test_the_audit_lists_no_unreadable_file_for_the_fixtures(compute_audit: tuple[Path, Any]) -> None:
    _, report = compute_audit
    assert report.errors == []


def test_the_audit_lists_a_referenced_file_it_could_not_read(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_instance" "web" {\n  ami = "ami-1"\n  user_data = file("${path.module}/boot.sh")\n}\n')
    report, failures = audit([str(tmp_path)], progress=False, jobs=1)
    assert failures == []
    assert [(e.file, e.reason) for e in report.errors] == [("boot.sh", "not found (referenced from main.tf); not judged")]


def test_checkov_names_the_file_and_prints_no_secret_from_it() -> None:
    records = [r for report in run_checkov(str(COMPUTE), frameworks=["terraform"]) for r in report.failed_checks]
    details = {(r.check_id, r.resource): " ".join(r.details) for r in records}
    boot = COMPUTE / "files/boot.sh"
    assert f"(written at files/boot.sh:{_line(boot, 'export AWS_ACCESS_KEY_ID=')})" in \
        details[("CKV_KEYLESS_8", "aws_instance.fail_files_user_data_file")]
    printed = json.dumps([{"details": r.details, "code": r.code_block} for r in records], default=str)
    secrets = ["lV/juLrdGNHxx+WEFJCPkzXbRSjOwKNpb+o3l7jV", "AKIABDSOF2MPEICZADER", "ratpA4Ed8QebMOnGLogM+LdvhtO4mM0X7rstjF4j"]
    assert all(secret in (COMPUTE / "files").joinpath("boot.sh").read_text() + (COMPUTE / "files/setup.sh").read_text()
               for secret in secrets)
    assert [s[:4] for s in secrets if s in printed] == []
