"""Reading CloudFormation templates the way cfn-lint does, for every keyless front end.

checkov's CloudFormation checks, the cfn-lint rules and the audit must see the same template, so
all of them parse with cfn-lint's decoder (YAML short forms normalised, positions kept).
"""

from __future__ import annotations

import logging
from typing import Any

_DECODER_LOGGERS = ("cfnlint.decode.decode", "cfnlint.decode.cfn_yaml", "cfnlint.decode.cfn_json")


class TemplateError(ValueError):
    """The file is not a template keyless can read; the message says why."""


class _WhileKeylessDecodes(logging.Filter):
    """Drop the decoder's error logs while keyless decodes: keyless raises the reason instead.

    A filter, not a level: `Logger.setLevel` clears every logger's cache in the process, which
    cost checkov about 2 ms per template.
    """

    active = False

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.active


_quiet = _WhileKeylessDecodes()
for _name in _DECODER_LOGGERS:
    logging.getLogger(_name).addFilter(_quiet)


def load_cloudformation(path: str) -> dict[str, Any] | None:
    from cfnlint.decode import decode  # imported on first use: checkov runs without cfn-lint loaded otherwise

    _quiet.active = True
    try:
        template, matches = decode(path)
    finally:
        _quiet.active = False
    if template is None:
        reason = "; ".join(str(m.message) for m in matches[:1]) if matches else "unreadable"
        raise TemplateError(f"{path}: {reason}")
    return template
