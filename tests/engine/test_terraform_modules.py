"""Module calls through the real checkov and the audit: what a call creates, and where its findings go."""

from __future__ import annotations

from pathlib import Path

from keyless.audit.report import audit
from keyless.engines import run_checkov

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
KEYS = FIXTURES / "iam-access-key" / "terraform"


def _call_line(path: Path, name: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(f'module "{name}"'))


def test_the_audit_places_a_module_finding_at_the_call() -> None:
    report, failures = audit([str(KEYS)], progress=False, jobs=1)
    assert failures == []
    inside = [f for f in report.findings if f.rule == "iam-access-key" and f.resource.startswith("module.")]
    assert {(f.resource, f.file, f.line) for f in inside} == {
        ("module.fail_module_key_by_default.aws_iam_access_key.this[0]", "modules.tf",
         _call_line(KEYS / "modules.tf", "fail_module_key_by_default")),
    }
    assert "called in ../../modules.tf" in inside[0].message


def test_checkov_names_the_call_and_drops_keys_never_created() -> None:
    records = [r for report in run_checkov(str(KEYS), frameworks=["terraform"]) for r in report.failed_checks
               if r.check_id == "CKV_KEYLESS_1" and r.resource.startswith("module.")]
    assert [r.resource for r in records] == ["module.fail_module_key_by_default.aws_iam_access_key.this[0]"]
    assert "created through module.fail_module_key_by_default" in " ".join(records[0].details)


def _initialised_root(tmp_path: Path) -> Path:
    """A root after `terraform init`: a registry call, its module fetched into .terraform/modules."""
    fetched = tmp_path / ".terraform" / "modules" / "ci" / "modules" / "iam-user"
    fetched.mkdir(parents=True)
    (fetched / "main.tf").write_text(
        (KEYS / "modules" / "keyless_user" / "main.tf").read_text())
    (tmp_path / ".terraform" / "modules" / "modules.json").write_text(
        '{"Modules":[{"Key":"","Source":"","Dir":"."},'
        '{"Key":"ci","Source":"registry.terraform.io/terraform-aws-modules/iam/aws//modules/iam-user",'
        '"Version":"6.5.0","Dir":".terraform/modules/ci/modules/iam-user"}]}')
    (tmp_path / "main.tf").write_text(
        'module "ci" {\n  source  = "terraform-aws-modules/iam/aws//modules/iam-user"\n  version = "6.5.0"\n'
        '  name    = "ci"\n}\n\nmodule "ci_off" {\n  source  = "terraform-aws-modules/iam/aws//modules/iam-user"\n'
        '  version = "6.5.0"\n  name    = "ci-off"\n  create_access_key = false\n}\n')
    return tmp_path


def test_modules_fetched_by_terraform_init_are_followed(tmp_path: Path) -> None:
    root = _initialised_root(tmp_path)
    failed = {(r.resource, r.file_path) for report in run_checkov(str(root), frameworks=["terraform"])
              for r in report.failed_checks if r.check_id == "CKV_KEYLESS_1"}
    # the key inside the fetched module, with the call's inputs; not the call itself (knowledge base)
    assert failed == {("module.ci.aws_iam_access_key.this[0]", "/.terraform/modules/ci/modules/iam-user/main.tf")}
    report, failures = audit([str(root)], progress=False, jobs=1)
    assert failures == []
    assert {(f.rule, f.file, f.line) for f in report.findings} == {("iam-access-key", "main.tf", 1)}


def test_without_the_fetched_module_the_call_is_judged_by_the_knowledge_base(tmp_path: Path) -> None:
    root = _initialised_root(tmp_path)
    (root / ".terraform" / "modules" / "modules.json").unlink()
    failed = {r.resource for report in run_checkov(str(root), frameworks=["terraform"])
              for r in report.failed_checks if r.check_id == "CKV_KEYLESS_1"}
    assert failed == {"ci"}
