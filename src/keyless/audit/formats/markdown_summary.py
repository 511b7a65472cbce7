"""A Markdown summary sized for a pull-request comment (`--format markdown-summary`).

GitHub refuses a comment body over 65,536 characters; the full Markdown report of a large repository is
several times that. The summary keeps the counts, the repositories ranked (when there are several), the
worst findings that fit, and says how many it left out. It stays under MAX_CHARS (measured in UTF-16 code
units, as browsers count), leaving room for text a CI job wraps around it. Every value from the report is
escaped, so a crafted merged report cannot add links, images, mentions or table cells to the comment.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from keyless.audit.formats import markdown_text
from keyless.audit.formats.common import (
    counts_of,
    plural,
    rank_repositories,
    rule_ids,
    scanned,
    title,
    verdict,
    where,
    worst_first,
)
from keyless.audit.model import SEVERITIES_DESCENDING, AuditFinding, Report
from keyless.catalog import AWS_PAGE

GITHUB_COMMENT_LIMIT = 65_536
MAX_CHARS = 60_000
MAX_FINDINGS = 50
MAX_REPOSITORIES = 25
MAX_FAILURES = 10
CELL_CHARS = 160


def size(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units; never less than len())."""
    return len(text.encode("utf-16-le")) // 2


def text_cell(value: object, limit: int = CELL_CHARS) -> str:
    return markdown_text.text_cell(value, limit)


def code_cell(value: object, limit: int = CELL_CHARS) -> str:
    return markdown_text.code_cell(value, limit)


def _counts(summary: dict[str, Any]) -> str:
    severities = ", ".join(f"{s} {summary['by_severity'][s]}" for s in SEVERITIES_DESCENDING if summary["by_severity"][s])
    return (f"**{verdict(summary['total'], summary['complete'])}**" + (f" ({severities})" if severities else "")
            + f" in {scanned(summary)}; {plural(summary['errors'], 'file')} could not be read or parsed"
            + (f"; {summary['suppressed_by_baseline']} in the baseline" if summary["suppressed_by_baseline"] else "")
            + ".")


def _failures(report: Report) -> list[str]:
    if not report.failures:
        return []
    out = ["> [!CAUTION]", "> **The run failed: this summary is incomplete.** Findings from what failed are missing.", ">"]
    out += [f"> - {text_cell(f, 300)}" for f in report.failures[:MAX_FAILURES]]
    if len(report.failures) > MAX_FAILURES:
        out.append(f"> - and {len(report.failures) - MAX_FAILURES} more")
    return [*out, ""]


def _recommendations(summary: dict[str, Any]) -> list[str]:
    out = [f"### By recommendation ([AWS guidance]({AWS_PAGE}))", "",
           "| Recommendation | Findings | " + " | ".join(SEVERITIES_DESCENDING) + " |",
           "| --- | ---: | " + " | ".join("---:" for _ in SEVERITIES_DESCENDING) + " |"]
    for rec in summary["by_recommendation"]:
        out.append(f"| {text_cell(rec['title'])} | {rec['count']} | "
                   + " | ".join(str(rec["by_severity"][s]) for s in SEVERITIES_DESCENDING) + " |")
    return [*out, ""]


def _repositories(report: Report) -> list[str]:
    ranked = rank_repositories(report)
    out = ["### Repositories, most severe first", "",
           "| Repository | Findings | " + " | ".join(SEVERITIES_DESCENDING) + " | Unreadable files |",
           "| --- | ---: | " + " | ".join("---:" for _ in SEVERITIES_DESCENDING) + " | ---: |"]
    for repo, summary in ranked[:MAX_REPOSITORIES]:
        out.append(f"| {text_cell(repo.name, 80)} | {summary['total']} | "
                   + " | ".join(str(summary["by_severity"][s]) for s in SEVERITIES_DESCENDING)
                   + f" | {summary['errors']} |")
    if len(ranked) > MAX_REPOSITORIES:
        out += ["", f"_{len(ranked) - MAX_REPOSITORIES} more repositories are not listed._"]
    return [*out, ""]


def _finding_row(f: AuditFinding, many: bool) -> str:
    place = f"{f.repository}: {where(f)}" if many else where(f)
    return (f"| {f.severity} | {text_cell(f.rule, 40)} ({text_cell(rule_ids(f), 30)}) | {code_cell(place)} "
            f"| {code_cell(f.resource, 100)} | {text_cell(f.headline)} |")


def _left_out(findings: list[AuditFinding]) -> str:
    by_sev = Counter(f.severity for f in findings)
    parts = ", ".join(f"{s} {by_sev[s]}" for s in SEVERITIES_DESCENDING if by_sev[s])
    return (f"_{plural(len(findings), 'more finding')} ({parts}) not shown here: see the full report "
            "(`keyless audit --format html` or `--format markdown`)._")


def render_markdown_summary(report: Report, max_chars: int = MAX_CHARS, max_findings: int = MAX_FINDINGS) -> str:
    for repo in report.repositories:
        repo.sort()
    summary = counts_of(report, report.repositories)
    many = len(report.repositories) > 1
    out = [f"## {text_cell(title(report), 200)}", "", *_failures(report), _counts(summary), "", *_recommendations(summary)]
    if many:
        out += _repositories(report)
    findings = worst_first(report.findings)
    if findings:
        head = ["### Worst findings", "", "| Severity | Rule | Location | Resource | Finding |",
                "| --- | --- | --- | --- | --- |"]
        shown: list[str] = []
        used = size("\n".join(out + head)) + 400  # the closing note's room
        for f in findings[:max_findings]:
            row = _finding_row(f, many)
            if used + size(row) + 1 > max_chars:
                break
            shown.append(row)
            used += size(row) + 1
        if shown:
            head[0] = f"### Worst findings ({len(shown)} of {len(findings)})"
            out += head + shown + [""]
        if len(shown) < len(findings):
            out.append(_left_out(findings[len(shown):]))
    return "\n".join(out).rstrip() + "\n"
