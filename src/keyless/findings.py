"""The finding: what every detector returns and every adapter and report translates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from keyless.catalog import Rule, rule
from keyless.detect.material import KeyMaterial
from keyless.detect.walk import Path, find_key_material


def dotted(path: Path) -> str:
    """Render a path the way people write attribute paths: environment.variables.S3_KEY, Tags[0]."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass(frozen=True)
class Finding:
    """One rule violation.

    `resource` is the entity an engine reports on (a Terraform address or a CloudFormation logical
    ID); `path` is where the offending value sits, relative to the template root in CloudFormation
    and to the block in Terraform. `evidence` is already masked; `secrets` holds the
    raw values only so that adapters can ask an engine to mask them, and is never rendered.
    """

    slug: str
    resource: str
    path: Path
    message: str
    evidence: str = ""
    severity: str = ""
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)
    account_id: str | None = None
    documentation_example: bool = False
    # Where the offending value is written when that is not the reported entity itself (a variable's
    # default, a tfvars file): the absolute file and the line, for reports that point at the fix.
    written_at: tuple[str, int] | None = None
    # The resources checkov reports the finding on, when that is not `resource` itself: a key in a
    # CloudFormation Parameter default is reported on the resources that use the parameter (or the
    # template's first resource for template-level text), while cfn-lint and the audit name the parameter.
    reported_on: tuple[str, ...] = ()

    @property
    def checkov_resources(self) -> tuple[str, ...]:
        return self.reported_on or (self.resource,)

    @property
    def rule(self) -> Rule:
        return rule(self.slug)

    @property
    def effective_severity(self) -> str:
        return self.severity or self.rule.severity


def explain(slug: str, what: str) -> str:
    """Compose a message: what was found and where, then the recommendation and the fix."""
    r = rule(slug)
    if re.match(r"[a-z]+ ", what):  # a sentence starts upper-case; an attribute name (user_data) stays as written
        what = what[:1].upper() + what[1:]
    return f"{what}. {r.recommendation.title}: {r.fix}"


# --- finding factories, shared by the rules of both formats so they word findings alike -------------


def key_material_findings(
    resource: str, value: Any, path: Path = (), shown_path: Path | None = None, name: str = ""
) -> list[Finding]:
    """Rules 3 and 4 over every string under a value.

    `shown_path` is the path people read (relative to the block); `path` is where the value sits in
    the document, which cfn-lint needs to point at the line.
    """
    findings = []
    for where, material in find_key_material(value, path, name):
        shown = dotted(where[len(path) - len(shown_path):] if shown_path is not None else where)
        findings.append(material_finding(resource, where, shown, material))
    return findings


def material_finding(resource: str, where: Path, shown: str, material: KeyMaterial) -> Finding:
    if material.kind == "access-key-id":
        slug = "hardcoded-access-key-id"
        severity = "CRITICAL" if material.long_term else "HIGH"
    else:
        slug = "hardcoded-secret-access-key"
        severity = "CRITICAL"
    what = f"{material.describe()} is hardcoded at {shown or 'the top level'}"
    return Finding(
        slug=slug,
        resource=resource,
        path=where,
        message=explain(slug, what),
        evidence=material.masked,
        severity=severity,
        secrets=(material.value,),
        account_id=material.account_id,
        documentation_example=material.documentation_example,
    )


def simple_finding(slug: str, resource: str, where: Path, what: str) -> Finding:
    return Finding(slug=slug, resource=resource, path=where, message=explain(slug, what))
