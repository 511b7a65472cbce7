"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

One run per repository (each with its own automation ID, so code scanning keeps their alerts
apart), the nine rules with `helpUri` and `security-severity`, and the keyless fingerprint as a
partial fingerprint so alerts survive unrelated edits.
"""

from __future__ import annotations

import json
from typing import Any

from keyless.audit.model import Report, RepositoryReport
from keyless.catalog import RULES

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}
_SECURITY_SEVERITY = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "3.0"}


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": r.slug,
            "name": "".join(part.title() for part in r.slug.split("-")),
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": f"{r.title}. {r.recommendation.title}."},
            "help": {"text": r.fix, "markdown": f"**{r.recommendation.title}.** {r.fix}"},
            "helpUri": r.guideline,
            "defaultConfiguration": {"level": _LEVEL[r.severity]},
            "properties": {
                "checkov_id": r.checkov_id,
                "cfn_lint_id": r.cfn_lint_id or "",
                "recommendation": r.recommendation.key,
                "security-severity": _SECURITY_SEVERITY[r.severity],
                "tags": ["security", "aws", "credentials"],
            },
        }
        for r in RULES
    ]


def _run(repo: RepositoryReport, rules: list[dict[str, Any]], version: str) -> dict[str, Any]:
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in repo.findings:
        text = f.message + (f" Evidence: {f.evidence}." if f.evidence else "")
        if f.account_id:
            text += f" Account: {f.account_id}."
        if f.documentation_example:
            text += " This is AWS's documentation example key."
        results.append({
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _LEVEL.get(f.severity, "warning"),
            "message": {"text": text},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": f.file, "uriBaseId": "SRCROOT"},
                    "region": {"startLine": f.line},
                },
                "logicalLocations": [{"name": f.resource, "kind": "resource"}],
            }],
            "partialFingerprints": {"keylessFingerprint/v1": f.fingerprint},
            "properties": {
                "severity": f.severity, "checkov_id": f.checkov_id, "cfn_lint_id": f.cfn_lint_id or "",
                "resource": f.resource, "evidence": f.evidence, "account_id": f.account_id or "",
                "documentation_example": f.documentation_example, "security-severity": _SECURITY_SEVERITY.get(
                    f.severity, "5.5"),
            },
        })
    notifications = [
        {"level": "warning", "message": {"text": f"{e.file}: {e.reason}"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": e.file, "uriBaseId": "SRCROOT"}}}]}
        for e in repo.errors
    ]
    return {
        "tool": {"driver": {
            "name": "keyless", "version": version, "informationUri": rules[0]["helpUri"], "rules": rules,
        }},
        "automationDetails": {"id": f"keyless/{repo.name}/"},
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": results,
        "properties": {"repository": repo.name, "suppressed": {  # findings the report leaves out, and why
            "baseline": repo.suppressed, "inline": repo.suppressed_inline, "config": repo.suppressed_config}},
    }


def render_sarif(report: Report) -> str:
    rules = _rules()
    version = report.tool.get("keyless", "0")
    runs = []
    for repo in report.repositories:
        repo.sort()
        runs.append(_run(repo, rules, version))
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}, indent=2, ensure_ascii=False) + "\n"
