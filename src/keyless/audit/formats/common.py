"""Wording shared by the human-readable formats, so terminal, Markdown and HTML say the same thing."""

from __future__ import annotations

import dataclasses
from typing import Any

from keyless.audit.model import SEVERITIES_DESCENDING, AuditFinding, Report, RepositoryReport, severity_rank, summarise


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


def verdict(count: int, complete: bool = True) -> str:
    """'clean' only for a run that completed: a failed run's zero is not a clean bill (its banner says FAILED)."""
    if count == 0:
        return "clean" if complete else "0 findings (incomplete: the run failed)"
    return f"{count} finding{'s' if count != 1 else ''}"


def counts_of(report: Report, repositories: list[RepositoryReport]) -> dict[str, Any]:
    """The summary of some of a report's repositories, marked with whether the run completed."""
    return {**summarise(repositories), "complete": report.complete}


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


def worst_first(findings: list[AuditFinding]) -> list[AuditFinding]:
    """Most severe first; within a severity, the report's stable order by place."""
    return sorted(findings, key=lambda f: (-severity_rank(f.severity), f.sort_key))


def rank_repositories(report: Report) -> list[tuple[RepositoryReport, dict[str, Any]]]:
    """Repositories with their summaries, the most severe first: by CRITICAL, HIGH, MEDIUM, LOW counts, then by
    unreadable files (whose findings are missing), then by name."""
    rows = [(repo, counts_of(report, [repo])) for repo in report.repositories]
    rows.sort(key=lambda row: ([-row[1]["by_severity"][s] for s in SEVERITIES_DESCENDING], -row[1]["errors"],
                               row[0].name))
    return rows


def printable(text: str) -> str:
    """`text` with every non-printable character (newlines, escape sequences, bidi controls) shown as an escape.

    Merged reports carry text from other repositories' CI jobs: on a terminal or in a CI log it must not
    move the cursor, recolour, clear the screen or start a line of its own (`::error::` in GitHub Actions).
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in text)


def printable_report(report: Report) -> Report:
    """A copy of the report whose text is all `printable` (for the terminal format)."""
    def clean(obj: Any) -> Any:
        changes = {f.name: printable(value) for f in dataclasses.fields(obj)
                   if isinstance(value := getattr(obj, f.name), str)}
        return dataclasses.replace(obj, **changes)

    repos = []
    for repo in report.repositories:
        copy = clean(repo)
        copy.findings = [clean(f) for f in repo.findings]
        copy.errors = [clean(e) for e in repo.errors]
        copy.terraform_roots = [printable(r) for r in repo.terraform_roots]
        copy.templates = [printable(t) for t in repo.templates]
        copy.tool = {printable(k): printable(v) for k, v in repo.tool.items()}
        repos.append(copy)
    return dataclasses.replace(report, repositories=repos, failures=[printable(f) for f in report.failures])
