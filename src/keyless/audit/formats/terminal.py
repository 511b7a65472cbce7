"""The default format: a readable report for a terminal, coloured only when it goes to one."""

from __future__ import annotations

from typing import Any

from keyless.audit.formats.common import (
    counts_of,
    evidence_text,
    plural,
    printable_report,
    rule_ids,
    scanned,
    suppressed,
    title,
    verdict,
    where,
)
from keyless.audit.formats.status import failure_lines, rules_note
from keyless.audit.model import SEVERITIES_DESCENDING, AuditFinding, Report, RepositoryReport
from keyless.catalog import AWS_PAGE

_COLOURS = {"CRITICAL": "1;31", "HIGH": "31", "MEDIUM": "33", "LOW": "36", "clean": "32", "dim": "2", "bold": "1"}


class _Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, kind: str) -> str:
        code = _COLOURS.get(kind)
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text


def _severity_counts(counts: dict[str, int], style: _Style) -> str:
    parts = [style(f"{s} {counts[s]}", s) for s in SEVERITIES_DESCENDING if counts.get(s)]
    return ", ".join(parts) if parts else style("clean", "clean")


def _verdict(summary: dict[str, Any], style: _Style) -> str:
    """'3 findings: CRITICAL 1, HIGH 2', or just 'clean' (not 'clean: clean')."""
    if summary["total"] == 0:
        return style(verdict(0, summary["complete"]), "clean" if summary["complete"] else "CRITICAL")
    return f"{verdict(summary['total'], summary['complete'])}: {_severity_counts(summary['by_severity'], style)}"


def _summary(summary: dict[str, Any], style: _Style, out: list[str], by_file: bool = True,
             compact: bool = False) -> None:
    out.append(f"  {_verdict(summary, style)}"
               f"  ({scanned(summary)}; {plural(summary['errors'], 'unreadable file')}"
               + (f", {suppressed(summary)}" if suppressed(summary) else "")
               + ")")
    out.append("")
    out.append(style("  By recommendation", "bold") + style(f"  ({AWS_PAGE})", "dim"))
    for rec in summary["by_recommendation"]:
        count = style(f"{rec['count']:>5}", "clean" if rec["count"] == 0 else "bold")
        out.append(f"  {count}  {rec['title']}")
    if compact:
        return
    out.append("")
    out.append(style("  By rule", "bold"))
    for r in summary["by_rule"]:
        ids = f"{r['checkov_id']:<14} {r['cfn_lint_id'] or '-':<6}"
        count = style(f"{r['count']:>5}", "clean" if r["count"] == 0 else "bold")
        out.append(f"  {count}  {ids} {r['rule']}")
    if by_file and summary["by_file"]:
        out.append("")
        out.append(style("  By file", "bold"))
        many = summary["repositories"] > 1
        for entry in summary["by_file"]:
            name = f"{entry['repository']}: {entry['file']}" if many else entry["file"]
            out.append(f"  {entry['count']:>5}  {name}  " + style(entry["worst_severity"], entry["worst_severity"]))


def _finding(f: AuditFinding, style: _Style, out: list[str]) -> None:
    out.append(f"  {style(f'{f.severity:<8}', f.severity)}  {style(f.rule, 'bold')}  {style(rule_ids(f), 'dim')}")
    out.append(f"            {where(f)}  {f.resource}")
    out.append(f"            {f.headline}")
    evidence = evidence_text(f)
    if evidence:
        out.append(f"            evidence: {evidence}")
    out.append(style(f"            fix: {f.fix}", "dim"))


def _compact_finding(f: AuditFinding, style: _Style, out: list[str]) -> None:
    """One line: severity, place, rule, resource and what was found (no evidence or fix lines)."""
    out.append(f"  {style(f'{f.severity:<8}', f.severity)}  {where(f)}  {style(f.rule, 'bold')}  {f.resource}: {f.headline}")


def _repository(report: Report, repo: RepositoryReport, style: _Style, out: list[str], with_summary: bool,
                compact: bool = False) -> None:
    if with_summary:
        out.append(style(f"== {repo.name} ({repo.path}) ==", "bold"))
        _summary(counts_of(report, [repo]), style, out, by_file=False, compact=compact)
        out.append("")
    if repo.findings:
        out.append(style("  Findings", "bold"))
        for f in repo.findings:
            (_compact_finding if compact else _finding)(f, style, out)
    if repo.errors:
        out.append(style("  Files that could not be read or parsed (their findings are missing)", "bold"))
        for e in repo.errors:
            out.append(f"    {e.file}: {e.reason}")
    out.append("")


def render_terminal(report: Report, colour: bool = False, compact: bool = False) -> str:
    """The full report; `compact` gives one line per finding and only the by-recommendation summary."""
    report = printable_report(report)  # text from merged reports never acts on the terminal
    style = _Style(colour)
    out = [style(title(report), "bold")]
    _status(report, style, out)
    overall = counts_of(report, report.repositories)
    _summary(overall, style, out, compact=compact)
    out.append("")
    many = len(report.repositories) > 1
    for repo in report.repositories:
        repo.sort()
        _repository(report, repo, style, out, with_summary=many, compact=compact)
    if not report.complete:  # a long report scrolls its top away: say it again at the end
        out.append(style(failure_lines(report)[0], "CRITICAL"))
    return "\n".join(out).rstrip() + "\n"


def _status(report: Report, style: _Style, out: list[str]) -> None:
    failed = failure_lines(report)
    if failed:
        out.append(style(f"  {failed[0]}", "CRITICAL"))
        out.extend(f"    - {line}" for line in failed[1:])
    note = rules_note(report)
    if note:
        out.append(style(f"  {note}", "dim"))
