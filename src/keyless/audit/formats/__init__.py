"""Report formats. Each module renders the whole `Report` model to text; none reads raw key material."""

from __future__ import annotations

from keyless.audit.model import Report

FORMATS = ("terminal", "markdown", "markdown-summary", "json", "sarif", "html")


def render(report: Report, fmt: str, colour: bool = False, compact: bool = False) -> str:
    """`compact` (terminal only): one line per finding."""
    if fmt == "terminal":
        from keyless.audit.formats.terminal import render_terminal

        return render_terminal(report, colour=colour, compact=compact)
    if fmt == "markdown":
        from keyless.audit.formats.markdown import render_markdown

        return render_markdown(report)
    if fmt == "markdown-summary":
        from keyless.audit.formats.markdown_summary import render_markdown_summary

        return render_markdown_summary(report)
    if fmt == "json":
        return report.to_json()
    if fmt == "sarif":
        from keyless.audit.formats.sarif import render_sarif

        return render_sarif(report)
    if fmt == "html":
        from keyless.audit.formats.html import render_html

        return render_html(report)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
