"""The finding: what every detector returns and every adapter and report translates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from keyless.catalog import Rule, rule

Path = tuple[str | int, ...]


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
    ID); `path` is where the offending value is written, relative to the template root in
    CloudFormation and to the block in Terraform. `evidence` is already masked; `secrets` holds the
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
