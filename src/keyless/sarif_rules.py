"""The SARIF description of each rule, shared by the audit's SARIF and checkov's.

GitHub code scanning files an alert under (tool, rule ID) and ranks it by the rule's
`security-severity`, so both SARIF files describe a rule with the same record built here from the
catalog: the checkov ID as rule ID (the ID `checkov:skip=` and checkov's console use), the catalog's
score, the rule page as `helpUri`, and the page itself (keys masked) as `help`, so the help reads
without a network.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from keyless.catalog import RULES, SARIF_LEVEL, Rule


@cache
def help_page(slug: str) -> str:
    """The rule's page as SARIF help, its example keys masked as every keyless report masks key material.

    The examples use AWS's documented example keys; a report still never holds a full key, since a
    SARIF file travels to places (code scanning, artifacts, other scanners) where one would be flagged.
    """
    from keyless.engines.logmask import mask_text
    from keyless.explain import RULE_DOCS

    try:
        return mask_text((RULE_DOCS / f"{slug}.md").read_text(encoding="utf-8"))
    except OSError:  # a broken install still describes the rule, with the link instead of the page
        return ""


def rule_descriptor(r: Rule) -> dict[str, Any]:
    """The SARIF `reportingDescriptor` of one rule."""
    page = help_page(r.slug) or f"{r.title}. {r.fix} See {r.guideline}"
    return {
        "id": r.checkov_id,
        "name": "".join(part.title() for part in r.slug.split("-")),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": f"{r.title}. {r.recommendation.title}."},
        "help": {"text": page, "markdown": page},
        "helpUri": r.guideline,
        "defaultConfiguration": {"level": SARIF_LEVEL[r.severity]},
        "properties": {
            "slug": r.slug,
            "checkov_id": r.checkov_id,
            "cfn_lint_id": r.cfn_lint_id or "",
            "recommendation": r.recommendation.key,
            "security-severity": r.security_severity,
            "tags": ["security", "aws", "credentials"],
        },
    }


def rule_descriptors() -> list[dict[str, Any]]:
    return [rule_descriptor(r) for r in RULES]
