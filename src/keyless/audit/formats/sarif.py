"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

One run per repository (each with its own automation ID, so code scanning keeps their alerts
apart), the nine rules described as checkov's SARIF describes them (`keyless.sarif_rules`: same
rule IDs, `security-severity`, help page), and the keyless fingerprint as a partial fingerprint so
alerts survive unrelated edits.

Locations are relative to the repository root, the git top level above the audited folder, so
code scanning can place them when a subfolder was audited; `SRCROOT` names that root. A run that
failed says so: `executionSuccessful` is false and each failure is an error notification, so an
upload of a failed run never reads as a clean scan.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any

from keyless.audit.model import Report, RepositoryReport
from keyless.catalog import HOME_URL, SARIF_LEVEL, SECURITY_SEVERITY, rule
from keyless.sarif_rules import rule_descriptors

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def repository_root(folder: str) -> tuple[Path, str] | None:
    """The git top level holding `folder`, and `folder` relative to it (POSIX, "" for the top itself).

    Found by looking for `.git` (a folder, or a file in worktrees and submodules) upwards: no git
    process, no network. A folder outside any repository (or one that no longer exists, as in a
    merged report) is its own root.
    """
    start = Path(folder).resolve()
    if not start.is_dir():
        return None
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            inside = start.relative_to(candidate).as_posix()
            return candidate, "" if inside == "." else inside
    return start, ""


def _location(uri: str, line: int | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "SRCROOT"}}
    if line is not None:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _run(repo: RepositoryReport, rules: list[dict[str, Any]], version: str, failures: list[str]) -> dict[str, Any]:
    index = {r["id"]: i for i, r in enumerate(rules)}
    root = repository_root(repo.path)
    prefix = root[1] if root else ""

    def uri(file: str) -> str:
        return posixpath.normpath(posixpath.join(prefix, file)) if prefix else file

    results = []
    for f in repo.findings:
        text = f.message + (f" Evidence: {f.evidence}." if f.evidence else "")
        if f.account_id:
            text += f" Account: {f.account_id}."
        if f.documentation_example:
            text += " This is AWS's documentation example key."
        rule_id = rule(f.rule).checkov_id
        location = _location(uri(f.file), f.line)
        location["logicalLocations"] = [{"name": f.resource, "kind": "resource"}]
        results.append({
            "ruleId": rule_id,
            "ruleIndex": index[rule_id],
            "level": SARIF_LEVEL.get(f.severity, "warning"),
            "message": {"text": text},
            "locations": [location],
            "partialFingerprints": {"keylessFingerprint/v1": f.fingerprint},
            "properties": {
                "severity": f.severity, "slug": f.rule, "checkov_id": f.checkov_id, "cfn_lint_id": f.cfn_lint_id or "",
                "resource": f.resource, "evidence": f.evidence, "account_id": f.account_id or "",
                "documentation_example": f.documentation_example,
                "security-severity": SECURITY_SEVERITY.get(f.severity, SECURITY_SEVERITY["MEDIUM"]),
            },
        })
    notifications = [
        {"level": "error", "message": {"text": f"keyless audit failed: {failure}"}, "descriptor": {"id": "audit-failed"}}
        for failure in failures
    ]
    notifications += [
        {"level": "warning", "message": {"text": f"{e.file}: {e.reason}"}, "descriptor": {"id": "unreadable-file"},
         "locations": [_location(uri(e.file))]}
        for e in repo.errors
    ]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "keyless", "version": version, "informationUri": HOME_URL, "rules": rules,
        }},
        "automationDetails": {"id": f"keyless/{repo.name}/"},
        "invocations": [{"executionSuccessful": not failures, "toolExecutionNotifications": notifications}],
        "results": results,
        "properties": {"repository": repo.name, "suppressed": {  # findings the report leaves out, and why
            "baseline": repo.suppressed, "inline": repo.suppressed_inline, "config": repo.suppressed_config}},
    }
    if root is not None:
        run["originalUriBaseIds"] = {
            "SRCROOT": {"uri": root[0].as_uri().rstrip("/") + "/",
                        "description": {"text": "The repository root (git top level) of the audited folder"}},
        }
    return run


def render_sarif(report: Report) -> str:
    rules = rule_descriptors()
    version = report.tool.get("keyless", "0")
    failures = list(report.failures)
    runs = []
    for repo in report.repositories:
        repo.sort()
        runs.append(_run(repo, rules, version, failures))
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}, indent=2, ensure_ascii=False) + "\n"

