"""Reading CloudFormation templates the way cfn-lint does, for every keyless front end.

checkov's CloudFormation checks, the cfn-lint rules and the audit must see the same template, so
all of them parse with cfn-lint's decoder (YAML short forms normalised, positions kept).
"""

from __future__ import annotations

import logging
from typing import Any


class TemplateError(ValueError):
    """The file is not a template keyless can read; the message says why."""


def load_cloudformation(path: str) -> dict[str, Any] | None:
    from cfnlint.decode import decode  # imported on first use: checkov runs without cfn-lint loaded otherwise

    quiet = logging.getLogger("cfnlint.decode")
    level, quiet.level = quiet.level, logging.CRITICAL  # the reason is raised, not logged as an error
    try:
        template, matches = decode(path)
    finally:
        quiet.setLevel(level)
    if template is None:
        reason = "; ".join(str(m.message) for m in matches[:1]) if matches else "unreadable"
        raise TemplateError(f"{path}: {reason}")
    return template
