"""Wording shared by the human-readable formats, so terminal, Markdown and HTML say the same thing."""

from __future__ import annotations

from typing import Any

from keyless.audit.model import AuditFinding, Report


def rule_ids(f: AuditFinding) -> str:
    return " / ".join(i for i in (f.checkov_id, f.cfn_lint_id) if i)


def where(f: AuditFinding) -> str:
    return f"{f.file}:{f.line}"


def key_note(f: AuditFinding) -> str:
    """What a key ID tells about its owner: the account, or that it is AWS's documentation example."""
    parts = []
    if f.account_id:
        parts.append(f"account {f.account_id}")
    if f.documentation_example:
        parts.append("AWS documentation example key")
    return "; ".join(parts)


def evidence_text(f: AuditFinding) -> str:
    note = key_note(f)
    return f"{f.evidence} ({note})" if f.evidence and note else f.evidence or note


def title(report: Report) -> str:
    names = [r.name for r in report.repositories]
    if len(names) == 1:
        return f"keyless audit: {names[0]}"
    return f"keyless audit: {len(names)} repositories"


def verdict(count: int) -> str:
    return "clean" if count == 0 else f"{count} finding{'s' if count != 1 else ''}"


def suppressed(summary: dict[str, Any]) -> str:
    """'3 suppressed (1 in the baseline, 2 by skips in the code)', or '' when nothing was suppressed."""
    parts = [(summary.get("suppressed_by_baseline", 0), "in the baseline"),
             (summary.get("suppressed_by_inline", 0), "by skips in the code"),
             (summary.get("suppressed_by_config", 0), "by .checkov.yaml or .cfnlintrc")]
    total = sum(count for count, _ in parts)
    return f"{total} suppressed ({', '.join(f'{n} {how}' for n, how in parts if n)})" if total else ""


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def scanned(summary: dict[str, Any]) -> str:
    """'2 Terraform folders and 1 CloudFormation template': what was scanned."""
    return (f"{plural(summary['terraform_roots'], 'Terraform folder')} and "
            f"{plural(summary['cloudformation_templates'], 'CloudFormation template')}")
