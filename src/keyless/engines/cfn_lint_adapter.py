"""keyless rules as cfn-lint rules: one class per catalog rule with a cfn-lint ID, derived from the registry.

All classes share one scan of the template. `findings_with_lines` places findings exactly where
cfn-lint places the rules' matches, for front ends that report lines without running cfn-lint.
"""

from __future__ import annotations

import logging
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from keyless.catalog import Rule, rule
from keyless.findings import Finding
from keyless.rules import rule_modules, scan_template

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
        placed = []
        for f in _findings(cfn.template):
            if f.slug == self.slug:
                path = anchor(cfn.template, f.path)
                placed.append((f, path, _message(cfn.template, f, path)))
        return [RuleMatch(list(path), message) for _, path, message in _distinct(cfn.template, placed)]


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


def _distinct(template: Any, placed: list[tuple[Finding, tuple[Any, ...], str]]) -> list[tuple[Finding, tuple[Any, ...], str]]:
    """Name the resource where findings of several resources share one place and message.

    The resources of an `Fn::ForEach` loop are written once: their findings sit on the same line,
    and cfn-lint keeps one match per (line, column, rule, message), so all but one would vanish.
    """
    resources_at: dict[tuple[Any, ...], set[str]] = {}
    keys = []
    for f, path, message in placed:
        mark = getattr(_node(template, path), "start_mark", None)
        key = (mark.line, mark.column, message) if mark is not None else (path, message)
        resources_at.setdefault(key, set()).add(f.resource)
        keys.append(key)
    return [(f, path, f"{f.resource}: {message}" if len(resources_at[key]) > 1 else message)
            for (f, path, message), key in zip(placed, keys, strict=True)]


def _node(template: Any, path: tuple[Any, ...]) -> Any:
    node = template
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def anchor(template: Any, path: tuple[Any, ...]) -> tuple[Any, ...]:
    """The longest prefix of a path that exists, so cfn-lint can always place the match."""
    node = template
    for i, part in enumerate(path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return path[:i]
    return path


def class_name(r: Rule) -> str:
    return "".join(part.capitalize() for part in r.slug.split("-"))


def rule_classes() -> dict[str, type[_KeylessRule]]:
    """One rule class per catalog rule that has a cfn-lint ID, by class name."""
    return {class_name(r): _rule_class(r) for r, _ in rule_modules() if r.cfn_lint_id}


def _rule_class(r: Rule) -> type[_KeylessRule]:
    return type(class_name(r), (_KeylessRule,), {
        "slug": r.slug, "id": r.cfn_lint_id, "shortdesc": r.title, "description": r.title,
        "source_url": r.guideline, "tags": ["keyless"], "__module__": "keyless.cfn_lint",
    })


def findings_with_lines(path: str, findings: list[Finding]) -> list[tuple[Finding, int]]:
    """Each finding with the line cfn-lint reports its match on (1 where cfn-lint cannot place it).

    cfn-lint runs rules on the template after its own transform (SAM Globals merged into the
    functions, keeping the Globals positions) and looks the anchored path up with `get_location_yaml`.
    """
    from cfnlint.template import Template

    from keyless.lang.cloudformation_parsing import load_cloudformation

    try:
        cfn: Any = Template(path, load_cloudformation(path))
        cfn.transform()
    except Exception:  # cfn-lint places matches at line 1 when it cannot locate them
        log.debug("cannot build cfn-lint's view of %s", path, exc_info=True)
        return [(f, 1) for f in findings]
    placed = []
    for f in findings:
        try:
            location = cfn.get_location_yaml(cfn.template, list(anchor(cfn.template, f.path)))
        except Exception:
            location = None
        placed.append((f, int(location[0]) + 1 if location else 1))
    return placed
