"""One cfn-lint rule class per keyless rule; all share one scan of the template."""

from __future__ import annotations

import logging
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from keyless.catalog import rule
from keyless.cloudformation import scan_template
from keyless.findings import Finding

log = logging.getLogger(__name__)
_last: tuple[Any, list[Finding]] = (None, [])


def _findings(template: Any) -> list[Finding]:
    """Scan a template once per run: cfn-lint calls every rule on the same template object."""
    global _last
    if _last[0] is not template:
        try:
            _last = (template, scan_template(template))
        except Exception:  # a rule never raises inside an engine (that would be an E0002)
            log.warning("keyless could not analyse the template; no keyless finding for it", exc_info=True)
            _last = (template, [])
    return _last[1]


class _KeylessRule(CloudFormationLintRule):
    slug = ""

    def __init__(self) -> None:
        super().__init__()
        r = rule(self.slug)
        self.id = r.cfn_lint_id or ""
        self.shortdesc = r.title
        self.description = f"{r.title}. {r.recommendation.title}."
        self.source_url = r.guideline
        self.tags = ["keyless", "iam", "credentials"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        for f in _findings(cfn.template):
            if f.slug == self.slug:
                path = _anchor(cfn.template, f.path)
                matches.append(RuleMatch(list(path), _message(cfn.template, f, path)))
        return matches


def _message(template: Any, finding: Finding, path: tuple[Any, ...]) -> str:
    """Name the function when a value is inherited from SAM Globals.

    Every function inheriting a value is reported at the same Globals line, and cfn-lint keeps one
    match per (line, column, rule, message): without the name, all but one function would vanish.
    """
    globals_ = template.get("Globals") if isinstance(template, dict) else None
    start, end = getattr(globals_, "start_mark", None), getattr(globals_, "end_mark", None)
    if not path or path[0] != "Resources" or start is None or end is None:
        return finding.message
    node = template
    try:
        for part in path:
            node = node[part]
    except (KeyError, IndexError, TypeError):  # never an E0002 over a message
        return finding.message
    mark = getattr(node, "start_mark", None)
    if mark is not None and (start.line, start.column) <= (mark.line, mark.column) < (end.line, end.column):
        if finding.resource in finding.message:
            return f"Inherited from Globals: {finding.message}"
        return f"{finding.resource} inherits from Globals: {finding.message}"
    return finding.message


def _anchor(template: Any, path: tuple[Any, ...]) -> tuple[Any, ...]:
    """The longest prefix of a path that exists, so cfn-lint can always place the match."""
    node = template
    for i, part in enumerate(path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return path[:i]
    return path


def _rule_class(class_name: str, slug: str) -> type[_KeylessRule]:
    r = rule(slug)
    return type(class_name, (_KeylessRule,), {
        "slug": slug, "id": r.cfn_lint_id, "shortdesc": r.title, "description": r.title,
        "source_url": r.guideline, "tags": ["keyless"], "__module__": __name__,
    })


IamAccessKey = _rule_class("IamAccessKey", "iam-access-key")
HumanUserAccessKey = _rule_class("HumanUserAccessKey", "human-user-access-key")
HardcodedAccessKeyId = _rule_class("HardcodedAccessKeyId", "hardcoded-access-key-id")
HardcodedSecretAccessKey = _rule_class("HardcodedSecretAccessKey", "hardcoded-secret-access-key")
Ec2InstanceWithoutProfile = _rule_class("Ec2InstanceWithoutProfile", "ec2-instance-without-profile")
LaunchTemplateWithoutProfile = _rule_class("LaunchTemplateWithoutProfile", "launch-template-without-profile")
CredentialsInCompute = _rule_class("CredentialsInCompute", "credentials-in-compute")
AccessKeySecretExposed = _rule_class("AccessKeySecretExposed", "access-key-secret-exposed")
