"""Markdown for pull-request comments and wikis (GitHub-flavoured tables)."""

from __future__ import annotations

from typing import Any

from keyless.audit.formats.common import counts_of, evidence_text, plural, rule_ids, scanned, suppressed, title, verdict, where
from keyless.audit.formats.markdown_text import code_cell, text_cell
from keyless.audit.formats.status import failure_lines, rules_note
from keyless.audit.model import SEVERITIES_DESCENDING, Report, RepositoryReport
from keyless.catalog import AWS_PAGE


def cell(text: object) -> str:
    """Table-safe, inert text: one line, Markdown characters escaped (text may come from a merged report)."""
    return text_cell(text)


def _summary(summary: dict[str, Any], out: list[str], level: str) -> None:
    severities = ", ".join(f"{s} {summary['by_severity'][s]}" for s in SEVERITIES_DESCENDING if summary["by_severity"][s])
    out.append(f"**{verdict(summary['total'], summary['complete'])}**" + (f" ({severities})" if severities else "")
               + f" in {scanned(summary)}; {plural(summary['errors'], 'file')} could not be read or parsed"
               + (f"; {suppressed(summary)}" if suppressed(summary) else "") + ".")
    out.append("")
    out.append(f"{level} By recommendation ([AWS guidance]({AWS_PAGE}))")
    out.append("")
    out.append("| Recommendation | Findings | " + " | ".join(SEVERITIES_DESCENDING) + " |")
    out.append("| --- | ---: | " + " | ".join("---:" for _ in SEVERITIES_DESCENDING) + " |")
    for rec in summary["by_recommendation"]:
        out.append(f"| {cell(rec['title'])} | {rec['count']} | "
                   + " | ".join(str(rec["by_severity"][s]) for s in SEVERITIES_DESCENDING) + " |")
    out.append("")
    out.append(f"{level} By rule")
    out.append("")
    out.append("| Rule | checkov | cfn-lint | Severity | Findings |")
    out.append("| --- | --- | --- | --- | ---: |")
    for r in summary["by_rule"]:
        out.append(f"| {r['rule']} | {r['checkov_id']} | {r['cfn_lint_id'] or '-'} | {r['severity']} | {r['count']} |")
    if summary["by_file"]:
        out.append("")
        out.append(f"{level} By file")
        out.append("")
        out.append("| File | Findings | Worst |")
        out.append("| --- | ---: | --- |")
        for entry in summary["by_file"]:
            name = f"{entry['repository']}: {entry['file']}" if summary["repositories"] > 1 else entry["file"]
            out.append(f"| {code_cell(name)} | {entry['count']} | {entry['worst_severity']} |")
    out.append("")


def _repository(repo: RepositoryReport, out: list[str], level: str) -> None:
    if repo.findings:
        out.append(f"{level} Findings")
        out.append("")
        out.append("| Severity | Rule | Location | Resource | Finding | Evidence | Fix |")
        out.append("| --- | --- | --- | --- | --- | --- | --- |")
        for f in repo.findings:
            out.append(f"| {f.severity} | {cell(f.rule)} ({cell(rule_ids(f))}) | {code_cell(where(f))} | {code_cell(f.resource)} "
                       f"| {cell(f.headline)} | {cell(evidence_text(f))} | {cell(f.fix)} |")
        out.append("")
    if repo.errors:
        out.append(f"{level} Files that could not be read or parsed")
        out.append("")
        for e in repo.errors:
            out.append(f"- {code_cell(e.file)}: {cell(e.reason)}")
        out.append("")


def render_markdown(report: Report) -> str:
    out = [f"# {title(report)}", ""]
    _status(report, out)
    many = len(report.repositories) > 1
    if many:
        out.append("## Overall")
        out.append("")
    _summary(counts_of(report, report.repositories), out, "###" if many else "##")
    for repo in report.repositories:
        repo.sort()
        if many:
            out.append(f"## {cell(repo.name)}")
            out.append("")
            _summary(counts_of(report, [repo]), out, "###")
        _repository(repo, out, "###" if many else "##")
    return "\n".join(out).rstrip() + "\n"


def _status(report: Report, out: list[str]) -> None:
    failed = failure_lines(report)
    if failed:  # GitHub renders this as a red "Caution" box
        out += ["> [!CAUTION]", f"> **{failed[0]}**", ">", *(f"> - {cell(line)}" for line in failed[1:]), ""]
    note = rules_note(report)
    if note:
        out += [f"_{note}_", ""]
