"""The catalog is the single source of truth: the README table and the engines must agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from keyless import cfn_lint
from keyless.catalog import RECOMMENDATIONS, RULES, rule

ROOT = Path(__file__).resolve().parents[2]


def test_ids_are_unique_and_well_formed() -> None:
    ids = [i for r in RULES for i in r.ids]
    assert len(ids) == len(set(ids))
    for r in RULES:
        assert r.checkov_id == f"CKV_KEYLESS_{r.number}"
        if r.cfn_lint_id:
            assert re.fullmatch(r"[EW]K\d{3}", r.cfn_lint_id)
            assert int(r.cfn_lint_id[2:]) == r.number
    assert {r.recommendation for r in RULES} <= set(RECOMMENDATIONS)


def test_readme_rules_table_matches_catalog() -> None:
    text = (ROOT / "README.md").read_text()
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == len(RULES)
    for line, r in zip(rows, RULES, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells == [
            str(r.number), r.slug, r.checkov_id, r.cfn_lint_id or "(Terraform only)", r.severity, r.recommendation.title,
        ]


def test_lookup_by_any_id() -> None:
    assert rule("ek003") is rule("CKV_KEYLESS_3") is rule("hardcoded-access-key-id")
    with pytest.raises(KeyError):
        rule("CKV_KEYLESS_99")


def test_cfn_lint_module_exports_one_rule_per_cloudformation_rule() -> None:
    exported = {getattr(cfn_lint, name)().id for name in cfn_lint.__all__}
    assert exported == {r.cfn_lint_id for r in RULES if r.cfn_lint_id}


def test_recommendations_quote_the_aws_page() -> None:
    page = ROOT.parent / "shared" / "reference" / "aws-programmatic-access.txt"
    if not page.exists():
        pytest.skip("the AWS page copy lives beside the repository only in the workplace")
    text = page.read_text()
    for recommendation in RECOMMENDATIONS:
        assert recommendation.title.replace("'", "'") in text.replace("\u2019", "'")


def test_the_shipped_report_schema_lists_the_catalog() -> None:
    from keyless.audit.model import schema, shipped_schema

    assert shipped_schema() == schema(), "schema.json's enumerations differ from the catalog's"
