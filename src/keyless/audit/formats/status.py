"""What a reader must know before the counts: the run failed, or some rules were not checked.

A failed run still writes its report (the failure and whatever was scanned are worth keeping), so
every human-readable format opens with this, worded the same way, and never lets a partial
result read as a clean one.
"""

from __future__ import annotations

from keyless.audit.model import Report

FAILED = "FAILED: this audit did not complete. The findings below are partial; a zero count does not mean clean."


def failure_lines(report: Report) -> list[str]:
    """The headline and one line per failure; empty for a complete run."""
    if report.complete:
        return []
    return [FAILED, *report.failures]


def rules_note(report: Report) -> str:
    """A note naming the rules left out by --check/--skip-check; empty when every rule ran."""
    if not report.rules_not_checked:
        return ""
    return f"Rules not checked (--check/--skip-check), shown with zero counts: {', '.join(report.rules_not_checked)}"
