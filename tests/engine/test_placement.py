"""A key is reported where it is written: a variable default, a tfvars file or a local, not the resource."""

from __future__ import annotations

from pathlib import Path

from keyless.audit.report import audit
from keyless.engines import run_checkov

MAIN = '''resource "aws_ssm_parameter" "from_default" {
  name  = "/a"
  type  = "String"
  value = var.default_key
}

resource "aws_ssm_parameter" "from_tfvars" {
  name  = "/b"
  type  = "String"
  value = var.tfvars_key
}

resource "aws_ssm_parameter" "decoy" {
  name  = "/c"
  type  = "String"
  value = "AKIAJQ2EXAMPLE7D3ZXM"
}
'''
VARIABLES = '''variable "default_key" {
  type    = string
  default = "AKIAJQ2EXAMPLE7D3ZXM"
}

variable "tfvars_key" {
  type = string
}
'''


def test_the_audit_points_at_the_line_that_holds_the_key(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "variables.tf").write_text(VARIABLES)
    (tmp_path / "prod.auto.tfvars").write_text('\n\ntfvars_key = "AKIAI44QH8DHBEXAMPLE"\n')
    report, failures = audit([str(tmp_path)], progress=False, jobs=1)
    assert failures == []
    where = {(f.resource, f.file, f.line) for f in report.findings if f.rule == "hardcoded-access-key-id"}
    assert where == {
        ("aws_ssm_parameter.from_default", "variables.tf", 3),  # the default, not main.tf:1 nor the decoy's line
        ("aws_ssm_parameter.from_tfvars", "prod.auto.tfvars", 3),
        ("aws_ssm_parameter.decoy", "main.tf", 13),  # a literal in the block: the block's own line
    }
    messages = {f.resource: f.message for f in report.findings if f.rule == "hardcoded-access-key-id"}
    assert "(written at variables.tf:3)" in messages["aws_ssm_parameter.from_default"]
    assert "written at" not in messages["aws_ssm_parameter.decoy"]


def test_checkov_names_where_the_key_is_written(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "variables.tf").write_text(VARIABLES)
    details = {r.resource: " ".join(r.details) for report in run_checkov(str(tmp_path), frameworks=["terraform"])
               for r in report.failed_checks if r.check_id == "CKV_KEYLESS_3"}
    assert "(written at variables.tf:3)" in details["aws_ssm_parameter.from_default"]
