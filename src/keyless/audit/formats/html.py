"""One self-contained HTML file: summary, an SVG chart, a ranking of repositories, sortable finding tables.

Merged reports come from other repositories' CI jobs, so every value from the report is untrusted: the page
is rendered by Jinja2 with autoescaping on (templates/report.html.j2), links are emitted only for http(s)
addresses, and the script reads nothing but the page's own DOM. The chart is inline SVG computed here, so it
shows even with scripts off; the script only sorts and filters. `report.html#filter=EK003&severity=CRITICAL`
opens filtered.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from keyless.audit.formats.common import (
    counts_of,
    key_note,
    plural,
    rank_repositories,
    rule_ids,
    scanned,
    suppressed,
    title,
    verdict,
    worst_first,
)
from keyless.audit.model import SEVERITIES_DESCENDING, AuditFinding, Report, RepositoryReport, severity_rank
from keyless.catalog import AWS_PAGE, RECOMMENDATIONS

FILL = {"CRITICAL": "#8b0000", "HIGH": "#d62728", "MEDIUM": "#e6a100", "LOW": "#1f77b4"}
# Chart geometry: labels wrap at LABEL_CHARS characters into a column LABEL_WIDTH pixels wide (12 px text).
LABEL_CHARS, LABEL_WIDTH, BAR_WIDTH, LINE_HEIGHT, LEGEND_HEIGHT = 50, 370, 420, 15, 30


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("keyless.audit.formats", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _asset(name: str) -> Markup:
    """The page's own stylesheet or script, trusted and inlined verbatim (the report must work offline)."""
    return Markup(resources.files("keyless.audit.formats").joinpath("templates", name).read_text(encoding="utf-8"))


def safe_link(uri: str | None) -> str | None:
    """`uri` when a browser may follow it (http or https), else None: a report could carry `javascript:`."""
    if not uri:
        return None
    try:
        scheme = urlsplit(uri).scheme.lower()
    except ValueError:
        return None
    return uri if scheme in ("http", "https") and uri.isprintable() else None


@dataclass(frozen=True)
class ChartRow:
    key: str
    title: str
    lines: list[str]
    y: int
    height: int
    count: int
    bars: list[dict[str, Any]]
    end: float


def chart(summary: dict[str, Any]) -> dict[str, Any]:
    """Stacked horizontal bars per recommendation, split by severity; labels wrapped, never cut."""
    biggest = max([r["count"] for r in summary["by_recommendation"]] + [1])
    rows, y = [], LEGEND_HEIGHT
    for rec in summary["by_recommendation"]:
        lines = textwrap.wrap(rec["title"], LABEL_CHARS) or [""]
        height = max(30, LINE_HEIGHT * len(lines) + 12)
        x, bars = float(LABEL_WIDTH), []
        for sev in SEVERITIES_DESCENDING:
            n = rec["by_severity"][sev]
            if n:
                width = BAR_WIDTH * n / biggest
                bars.append({"severity": sev, "count": n, "x": f"{x:.1f}", "width": f"{width:.1f}", "fill": FILL[sev]})
                x += width
        rows.append(ChartRow(rec["key"], rec["title"], lines, y, height, rec["count"], bars, x))
        y += height
    legend = [{"severity": s, "fill": FILL[s], "x": LABEL_WIDTH + 90 * i} for i, s in enumerate(SEVERITIES_DESCENDING)]
    return {"rows": rows, "legend": legend, "width": LABEL_WIDTH + BAR_WIDTH + 60, "height": y + 10,
            "line_height": LINE_HEIGHT}


def tool_text(tool: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(tool.items()))


def ranking(report: Report) -> list[dict[str, Any]]:
    """The org table: repositories, the most severe first, each linking to its section."""
    anchors = {id(repo): f"repository-{i + 1}" for i, repo in enumerate(report.repositories)}
    return [{"anchor": anchors[id(repo)], "name": repo.name, "summary": summary, "tool": tool_text(repo.tool)}
            for repo, summary in rank_repositories(report)]


def _finding_view(f: AuditFinding) -> dict[str, Any]:
    return {"f": f, "ids": rule_ids(f), "note": key_note(f), "link": safe_link(f.help_uri),
            "sort_severity": 9 - severity_rank(f.severity), "sort_place": f"{f.file}:{f.line:08d}"}


def _repository_view(report: Report, repo: RepositoryReport, index: int, many: bool) -> dict[str, Any]:
    summary = counts_of(report, [repo])
    return {"repo": repo, "anchor": f"repository-{index + 1}", "summary": summary, "tool": tool_text(repo.tool),
            "findings": [_finding_view(f) for f in worst_first(repo.findings)], "many": many}


def _top_tool(report: Report) -> str:
    """The versions line: one set when every repository was scanned alike, else say they differ."""
    versions = {tool_text(r.tool) for r in report.repositories if r.tool}
    if len(versions) <= 1:
        return next(iter(versions), tool_text(report.tool))
    return f"scanned by {len(versions)} different tool versions (see each repository); merged by {tool_text(report.tool)}"


def render_html(report: Report) -> str:
    for repo in report.repositories:
        repo.sort()
    summary = counts_of(report, report.repositories)
    many = len(report.repositories) > 1
    page = _environment().get_template("report.html.j2")
    return page.render(
        title=title(report), failures=list(report.failures), generated_at=report.generated_at,
        tool=_top_tool(report), aws_page=AWS_PAGE, summary=summary, many=many, chart=chart(summary),
        ranking=ranking(report) if many else [], severities=SEVERITIES_DESCENDING, recommendations=RECOMMENDATIONS,
        repositories=[_repository_view(report, r, i, many) for i, r in enumerate(report.repositories)],
        verdict=verdict, plural=plural, scanned=scanned, suppressed=suppressed, css=_asset("report.css"), js=_asset("report.js"),
    ) + "\n"
