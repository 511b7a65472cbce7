"""Make checkov's SARIF valid and keyless's own wherever a keyless check failed.

checkov turns each string of a check's `details` into a result attachment `{"description": text}`:
SARIF 2.1.0 wants an `artifactLocation` in every attachment and a message object as its description,
so codeql-action's upload rejects the file exactly when a keyless check has something to say. checkov
also builds a rule's description from its first record and scores severity on its own scale. keyless
keeps `details` (checkov's console and JSON print them, and the audit reads them), and after checkov
builds its SARIF document, rewrites the keyless parts: the finding messages become the result text
instead of attachments, and each keyless rule gets the description the audit's SARIF gives it.
Other checks' results are left exactly as checkov wrote them.

checkov builds the SARIF in its main process, but with more than one framework it runs the checks
(and so imports keyless) in forked workers and pickles the records back. The messages are therefore
`FindingMessage` strings: unpickling one imports this module in the main process, and importing it
installs the repair. A run in one process installs it when the checks load (in a process running checkov's
command line: see `install_sarif_repair`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable
from typing import Any

from keyless.catalog import RULES
from keyless.engines.checkov_codeblocks import install_report_masking
from keyless.findings import Finding
from keyless.sarif_rules import rule_descriptor

_BY_CHECKOV_ID = {r.checkov_id: r for r in RULES}


class FindingMessage(str):
    """A keyless finding's message in a checkov record's `details` (see the module docstring for why)."""

    __slots__ = ()


def checkov_details(findings: Iterable[Finding]) -> list[str]:
    """What a failing keyless check hands checkov as `details`: one message per finding."""
    return [FindingMessage(f.message) for f in findings]


def repair(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite, in place, the keyless rules and results of a SARIF document checkov built."""
    for run in document.get("runs") or []:
        driver = (run.get("tool") or {}).get("driver") or {}
        rules = driver.get("rules") or []
        for i, descriptor in enumerate(rules):
            r = _BY_CHECKOV_ID.get(descriptor.get("id"))
            if r is not None:
                rules[i] = rule_descriptor(r)
        for result in run.get("results") or []:
            if result.get("ruleId") not in _BY_CHECKOV_ID:
                continue
            attachments = result.pop("attachments", None) or []
            messages = [a["description"] for a in attachments if isinstance(a.get("description"), str)]
            if messages:
                result["message"] = {"text": "\n".join(messages)}
    return document


def install_sarif_repair(anywhere: bool = False) -> None:
    """Have checkov pass every SARIF document it builds through `repair` (once per process).

    Only where checkov's command line runs (`checkov.main` loaded), unless `anywhere`: a process that
    only runs checkov's runners (the audit) writes no checkov SARIF, and importing checkov's output
    formats costs it about a second.
    """
    if not anywhere and "checkov.main" not in sys.modules:
        return
    try:
        from checkov.common.output.sarif import Sarif
    except ImportError:  # a checkov without this module writes SARIF some other way: nothing to repair
        return
    original = Sarif.create_json
    if getattr(original, "keyless_repair", False):
        return

    @functools.wraps(original)
    def create_json(self: Any) -> dict[str, Any]:
        return repair(original(self))

    create_json.keyless_repair = True  # type: ignore[attr-defined]
    Sarif.create_json = create_json  # type: ignore[method-assign]


install_sarif_repair()
# The same unpickling is keyless's only way into checkov's main process under plain checkov: mask the code
# blocks of the reports collected there too (the secrets scan's records never pass a keyless worker).
install_report_masking()
