"""`.tf.json` (CDKTF's `cdk.tf.json`) through checkov's real `terraform_json` framework and the audit.

`tests/fixtures/cdktf/` is laid out as `cdktf synth` writes it: one stack per folder under
`cdktf.out/stacks/<name>/`, `//` metadata keys beside every resource, references written `${...}`.
Each stack is named after a rule, and its `fail_...` resources (and provider aliases) must fail that
rule and its `pass_...` ones pass it. Expectations come from the JSON files, never from keyless's
own output.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from checkov.common.models.enums import CheckResult

from keyless.audit.report import audit
from keyless.catalog import rule
from keyless.engines import checkov_adapter, run_checkov
from keyless.rules import runs_everywhere

CDKTF = Path(__file__).resolve().parents[1] / "fixtures" / "cdktf"
STACKS = CDKTF / "cdktf.out" / "stacks"
SLUGS = sorted(p.name for p in STACKS.iterdir())
_INTENT = re.compile(r"^(?:fail|pass)_\w+$")


def _labels(slug: str) -> dict[str, str]:
    """{fail_/pass_ label: the address checkov's `.tf` path gives it} from one stack's JSON."""
    doc = json.loads((STACKS / slug / "cdk.tf.json").read_text())
    found: dict[str, str] = {}
    for rtype, blocks in doc.get("resource", {}).items():
        found.update({name: f"{rtype}.{name}" for name in blocks if _INTENT.match(name)})
    for name, configs in doc.get("provider", {}).items():
        for config in configs:
            alias = config.get("alias", "")
            if _INTENT.match(alias):
                found[alias] = f"{name}.{alias}"
    return found


def _stack(record: Any) -> str:
    return Path(record.file_path).parent.name


JUDGED: set[tuple[str, str, str]] = set()  # (check ID, stack, address) of every entity a keyless check judged


@pytest.fixture(scope="module")
def records() -> list[Any]:
    judge = checkov_adapter._KeylessCheckMixin._judge

    def spy(check: Any, conf: dict[str, Any], *args: Any) -> CheckResult:
        result = judge(check, conf, *args)
        JUDGED.add((check.id, Path(check.entity_path.split(":", 1)[0]).parent.name, str(conf.get("__address__"))))
        return result

    checkov_adapter._KeylessCheckMixin._judge = spy  # type: ignore[method-assign]
    try:
        reports = run_checkov(str(CDKTF), frameworks=["terraform_json"])
    finally:
        checkov_adapter._KeylessCheckMixin._judge = judge  # type: ignore[method-assign]
    found = [r for report in reports for r in (*report.failed_checks, *report.passed_checks)]
    assert {_stack(r) for r in found} == set(SLUGS), "every stack should be scanned"
    return found


def test_stacks_cover_every_rule() -> None:
    assert SLUGS == sorted(r for r in SLUGS if rule(r))
    assert len(SLUGS) == 9


@pytest.mark.parametrize("slug", SLUGS)
def test_rule_fails_and_passes_exactly_the_named_entities(records: list[Any], slug: str) -> None:
    check_id = rule(slug).checkov_id
    labels = _labels(slug)
    mine = [r for r in records if r.check_id == check_id and _stack(r) == slug]
    failed = {r.resource for r in mine if r.check_result["result"] == CheckResult.FAILED}
    passed = {r.resource for r in mine if r.check_result["result"] == CheckResult.PASSED}
    if runs_everywhere(slug):  # rules 3 and 4 report failures only: a judged, silent entity passed
        assert not passed
        passed = {address for check, stack, address in JUDGED if check == check_id and stack == slug} - failed
    want_fail = {address for label, address in labels.items() if label.startswith("fail_")}
    want_pass = {address for label, address in labels.items() if label.startswith("pass_")}
    assert want_fail and want_pass, f"{slug}: the stack needs fail_ and pass_ cases"
    assert {a for a in failed if _INTENT.match(a.rsplit(".", 1)[-1])} == want_fail
    assert want_pass <= passed
    assert not want_pass & failed


def test_records_are_named_by_their_terraform_address(records: list[Any]) -> None:
    """checkov's terraform_json framework alone would write `resource.<label>` and `provider.aws`."""
    names = {r.resource for r in records}
    assert not {n for n in names if n.startswith(("resource.", "provider."))}
    assert "aws_iam_access_key.fail_active_key" in names
    assert "aws.default" in names and "aws.fail_static_keys" in names


def test_cdktf_metadata_and_references_are_understood(records: list[Any]) -> None:
    """`${aws_iam_user.x.name}` and `${var.x}` are resolved through checkov's graph, as in `.tf`."""
    details = {(r.check_id, r.resource): " ".join(r.details) for r in records if r.check_result["result"] == CheckResult.FAILED}
    assert "for IAM user alice" in details[("CKV_KEYLESS_2", "aws_iam_access_key.fail_console_user_key")]
    variable_line = _line_of(STACKS / "hardcoded-access-key-id" / "cdk.tf.json", "AKIAZ7Q2W4E6R8T1Y3U5")
    from_variable = details[("CKV_KEYLESS_3", "aws_ssm_parameter.fail_key_id_from_variable")]
    assert f"(written at cdk.tf.json:{variable_line})" in from_variable
    assert not any("//" in text or "uniqueId" in text for text in details.values()), "CDKTF metadata is no finding"


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


@pytest.fixture(scope="module")
def audited() -> list[dict[str, Any]]:
    report, failures = audit([str(CDKTF)], progress=False)
    assert failures == []
    return [f for repo in json.loads(report.to_json())["repositories"] for f in repo["findings"]]


def test_audit_reports_what_checkov_reports(records: list[Any], audited: list[dict[str, Any]]) -> None:
    checkov = sorted((rule(r.check_id).slug, os.path.relpath(r.file_abs_path, CDKTF), r.resource)
                     for r in records if r.check_result["result"] == CheckResult.FAILED for _ in (r.details or [""]))
    mine = sorted((f["rule"], f["file"], f["resource"]) for f in audited)
    assert checkov and all(f["framework"] == "terraform" for f in audited)
    # a value written elsewhere in the stack (a variable default) is reported in the same file, at its line
    assert mine == checkov


def test_audit_points_at_the_json_line_of_each_key(audited: list[dict[str, Any]]) -> None:
    keyed = [f for f in audited if f["rule"] in ("hardcoded-access-key-id", "hardcoded-secret-access-key")]
    assert len(keyed) >= 6
    for finding in keyed:
        text = (CDKTF / finding["file"]).read_text().splitlines()[finding["line"] - 1]
        assert re.search(r"AKIA[A-Z0-9]{16}|[A-Za-z0-9/+]{40}", text), finding
    others = [f for f in audited if f["rule"] == "ec2-instance-without-profile"]
    [instance] = others
    first = (CDKTF / instance["file"]).read_text().splitlines()[instance["line"] - 1]
    assert '"fail_no_profile"' in first, "other rules point at the block's first line, as in .tf"


def test_audit_skips_the_folders_its_walk_skips(tmp_path: Path) -> None:
    """checkov's terraform_json framework globs every folder; the audit, like its `.tf` walk, skips
    node_modules and hidden folders (a CDKTF project's node_modules holds packages, not the stack)."""
    stack = (STACKS / "iam-access-key" / "cdk.tf.json").read_text()
    for folder in ("cdktf.out/stacks/app", "node_modules/some-package/fixtures", ".cache/stacks/app"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "cdk.tf.json").write_text(stack)
    report, failures = audit([str(tmp_path)], progress=False)
    assert failures == []
    files = {f["file"] for repo in json.loads(report.to_json())["repositories"] for f in repo["findings"]}
    assert files == {"cdktf.out/stacks/app/cdk.tf.json"}
