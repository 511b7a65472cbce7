"""One self-contained HTML file: summary, an SVG chart, and sortable, filterable finding tables.

The chart is drawn as inline SVG when the report is generated, so it shows even with scripts off;
the script only sorts and filters. `report.html#filter=EK003&severity=CRITICAL` opens filtered.
"""

from __future__ import annotations

from html import escape
from typing import Any

from keyless.audit.formats.common import key_note, plural, rule_ids, scanned, suppressed, title, verdict
from keyless.audit.formats.html_assets import CSS, JS
from keyless.audit.model import SEVERITIES_DESCENDING, Report, RepositoryReport, severity_rank, summarise
from keyless.catalog import AWS_PAGE, RECOMMENDATIONS

_FILL = {"CRITICAL": "#8b0000", "HIGH": "#d62728", "MEDIUM": "#e6a100", "LOW": "#1f77b4"}


def chart(summary: dict[str, Any]) -> str:
    """Stacked horizontal bars: findings per recommendation, split by severity, with a legend."""
    label_w, bar_w, row_h, top = 450, 420, 30, 30
    biggest = max([r["count"] for r in summary["by_recommendation"]] + [1])
    height = top + row_h * len(summary["by_recommendation"]) + 10
    parts = [f'<svg id="chart" role="img" aria-label="Findings per recommendation and severity" '
             f'width="{label_w + bar_w + 60}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    x = label_w
    for sev in SEVERITIES_DESCENDING:
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{_FILL[sev]}"/>'
                     f'<text x="{x + 16}" y="14">{sev}</text>')
        x += 90
    for i, rec in enumerate(summary["by_recommendation"]):
        y = top + i * row_h
        short = rec["title"] if len(rec["title"]) <= 70 else rec["title"][:68] + "…"
        parts.append(f'<text x="0" y="{y + 16}"><title>{escape(rec["title"])}</title>{escape(short)}</text>')
        x = float(label_w)
        for sev in SEVERITIES_DESCENDING:
            n = rec["by_severity"][sev]
            if n:
                w = bar_w * n / biggest
                parts.append(f'<rect class="bar" data-recommendation="{rec["key"]}" data-severity="{sev}" '
                             f'data-count="{n}" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="18" '
                             f'fill="{_FILL[sev]}"><title>{sev}: {n}</title></rect>')
                x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 17}">{rec["count"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _n(value: int) -> str:
    return f'<td class="n{" zero" if value == 0 else ""}">{value}</td>'


def _summary_tables(summary: dict[str, Any], many: bool) -> str:
    out = ["<h3>By recommendation</h3><table class=\"by-recommendation\"><thead><tr><th>Recommendation</th>"
           "<th>Findings</th>" + "".join(f"<th>{s}</th>" for s in SEVERITIES_DESCENDING) + "</tr></thead><tbody>"]
    for rec in summary["by_recommendation"]:
        out.append(f'<tr data-recommendation="{rec["key"]}"><td>{escape(rec["title"])}</td>{_n(rec["count"])}'
                   + "".join(_n(rec["by_severity"][s]) for s in SEVERITIES_DESCENDING) + "</tr>")
    out.append("</tbody></table><h3>By rule</h3><table class=\"by-rule\"><thead><tr><th>Rule</th><th>checkov</th>"
               "<th>cfn-lint</th><th>Severity</th><th>Findings</th></tr></thead><tbody>")
    for r in summary["by_rule"]:
        out.append(f"<tr><td>{r['rule']}</td><td>{r['checkov_id']}</td><td>{r['cfn_lint_id'] or '-'}</td>"
                   f"<td class=\"sev sev-{r['severity']}\">{r['severity']}</td>{_n(r['count'])}</tr>")
    out.append("</tbody></table>")
    if summary["by_file"]:
        out.append("<h3>By file</h3><table class=\"by-file\"><thead><tr><th>File</th><th>Findings</th><th>Worst</th>"
                   "</tr></thead><tbody>")
        for e in summary["by_file"]:
            name = f"{e['repository']}: {e['file']}" if many else e["file"]
            out.append(f"<tr><td><code>{escape(name)}</code></td>{_n(e['count'])}"
                       f"<td class=\"sev sev-{e['worst_severity']}\">{e['worst_severity']}</td></tr>")
        out.append("</tbody></table>")
    if summary["accounts"]:
        out.append("<h3>AWS accounts owning hardcoded key IDs</h3><table class=\"accounts\"><thead><tr><th>Account</th>"
                   "<th>Findings</th><th>Note</th></tr></thead><tbody>")
        for a in summary["accounts"]:
            note = "AWS documentation example key" if a["documentation_example"] else ""
            out.append(f"<tr><td>{a['account_id']}</td>{_n(a['count'])}<td>{note}</td></tr>")
        out.append("</tbody></table>")
    return "".join(out)


def _counts_line(summary: dict[str, Any]) -> str:
    sev = ", ".join(f'<span class="sev sev-{s}">{s} {summary["by_severity"][s]}</span>'
                    for s in SEVERITIES_DESCENDING if summary["by_severity"][s])
    extra = f", {escape(suppressed(summary))}" if suppressed(summary) else ""
    return (f"<p><strong>{verdict(summary['total'])}</strong>{' (' + sev + ')' if sev else ''} in "
            f"{escape(scanned(summary))}; {plural(summary['errors'], 'file')} could not be read or parsed{extra}.</p>")


_COLUMNS = (("severity", "Severity", "text"), ("rule", "Rule", "text"), ("file", "Location", "text"),
            ("resource", "Resource", "text"), ("message", "Finding", "text"), ("evidence", "Evidence", "text"),
            ("fix", "Fix", "text"))


def _findings_table(repo: RepositoryReport) -> str:
    head = "".join(f'<th data-key="{key}" data-type="{kind}">{label}</th>' for key, label, kind in _COLUMNS)
    out = [f'<table class="findings" data-repository="{escape(repo.name)}"><thead><tr>{head}</tr></thead><tbody>']
    for f in repo.findings:
        note = key_note(f)
        example = ' <span class="example">documentation example</span>' if f.documentation_example else ""
        account = f"<br>account {f.account_id}" if f.account_id else ""
        out.append(
            f'<tr class="finding" data-severity="{f.severity}" data-rule="{f.rule}" '
            f'data-recommendation="{f.recommendation}" data-fingerprint="{f.fingerprint}">'
            f'<td class="sev sev-{f.severity}" data-sort="{9 - severity_rank(f.severity)}">{f.severity}</td>'
            f"<td>{escape(f.rule)}<br><small>{escape(rule_ids(f))}</small></td>"
            f'<td data-sort="{escape(f.file)}:{f.line:08d}"><code>{escape(f.file)}:{f.line}</code></td>'
            f"<td><code>{escape(f.resource)}</code></td>"
            f"<td>{escape(f.headline)}</td>"
            f'<td title="{escape(note)}">{escape(f.evidence)}{account}{example}</td>'
            f'<td class="fix">{escape(f.fix)}</td></tr>'
        )
    out.append("</tbody></table>")
    return "".join(out)


def _repository(repo: RepositoryReport, many: bool) -> str:
    out = [f'<section class="repository" data-name="{escape(repo.name)}">']
    if many:
        summary = summarise([repo])
        out.append(f"<h2>{escape(repo.name)}</h2><p class=\"meta\"><code>{escape(repo.path)}</code></p>")
        out.append(_counts_line(summary))
        out.append(_summary_tables(summary, many=False))
    out.append("<h3>Findings</h3>" + (_findings_table(repo) if repo.findings else "<p>No findings.</p>"))
    if repo.errors:
        out.append("<h3>Files that could not be read or parsed</h3><ul class=\"errors\">")
        out.extend(f"<li><code>{escape(e.file)}</code>: {escape(e.reason)}</li>" for e in repo.errors)
        out.append("</ul>")
    out.append("</section>")
    return "".join(out)


def render_html(report: Report) -> str:
    for repo in report.repositories:
        repo.sort()
    summary = summarise(report.repositories)
    many = len(report.repositories) > 1
    severity_options = "".join(f'<option value="{s}">{s}</option>' for s in SEVERITIES_DESCENDING)
    rec_options = "".join(f'<option value="{r.key}">{escape(r.title)}</option>' for r in RECOMMENDATIONS)
    tool = ", ".join(f"{k} {v}" for k, v in sorted(report.tool.items()))
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title(report))}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title(report))}</h1>"
        f"<p class=\"meta\">{escape(report.generated_at)} · {escape(tool)} · recommendations from "
        f"<a href=\"{AWS_PAGE}\">{AWS_PAGE}</a></p>"
        f"<section id=\"summary\"><h2>{'Overall summary' if many else 'Summary'}</h2>{_counts_line(summary)}"
        f"{chart(summary)}{_summary_tables(summary, many)}</section>"
        "<div class=\"controls\"><label>Filter <input id=\"filter\" type=\"search\" "
        "placeholder=\"rule, ID, file, resource, account…\"></label>"
        f"<label>Severity <select id=\"severity-filter\"><option value=\"\">all</option>{severity_options}</select></label>"
        f"<label>Recommendation <select id=\"recommendation-filter\"><option value=\"\">all</option>{rec_options}"
        "</select></label><span id=\"visible-count\"></span></div>"
        + "".join(_repository(repo, many) for repo in report.repositories)
        + f"<script>{JS}</script></body></html>\n"
    )
