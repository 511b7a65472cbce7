"""`keyless explain`: a rule's documentation page in the terminal, offline.

The pages ship inside the package (`keyless/rule_docs/<slug>.md`, the same files as `docs/rules/`),
so an installed wheel can explain a finding without network access or a source checkout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from keyless.catalog import RULES, Rule, rule

# A plain folder next to this module: importlib.resources (and `keyless.__file__`) trip over setuptools'
# editable finder, which turns `keyless` into a namespace with a placeholder path; wheels install unzipped.
RULE_DOCS = Path(__file__).resolve().parent / "rule_docs"


def page(r: Rule) -> str:
    """The Markdown page of one rule, read from the installed package."""
    return (RULE_DOCS / f"{r.slug}.md").read_text(encoding="utf-8")


def _explain(args: argparse.Namespace) -> int:
    try:
        r = rule(args.rule)
    except KeyError:
        print(f"keyless: unknown rule {args.rule!r}. Valid rules (slug, checkov ID, cfn-lint ID):", file=sys.stderr)
        for known in RULES:
            print(f"  {'  '.join(known.ids)}", file=sys.stderr)
        return 2
    sys.stdout.write(page(r))
    return 0


def add_parser(subparsers: Any) -> None:
    """Register `keyless explain` with the `keyless` command."""
    explain = subparsers.add_parser(
        "explain", help="print a rule's documentation page",
        description="Print a rule's page: what it flags, why, examples, how to fix and suppress it. "
                    "Accepts the slug, the checkov ID or the cfn-lint ID, in any case.",
    )
    explain.add_argument("rule", metavar="ID", help="e.g. iam-access-key, CKV_KEYLESS_1 or WK001")
    explain.set_defaults(func=_explain)
