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
