"""Rule 1: an IAM access key created in infrastructure code (unless it is created inactive)."""

from __future__ import annotations

from collections.abc import Mapping

from keyless.detect.walk import Path
from keyless.findings import Finding, simple_finding
from keyless.lang.cloudformation import ACCESS_KEY, Template
from keyless.lang.terraform import Block, TerraformModel
from keyless.lang.terraform_modules import attribute_value

SLUG = "iam-access-key"
TERRAFORM = {"resource": ("aws_iam_access_key",)}
CLOUDFORMATION = (ACCESS_KEY,)


def _inactive(status: object) -> bool:
    return isinstance(status, str) and status.strip().lower() == "inactive"


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    status = attribute_value(block, model, "status", block.config.get("status"))
    if _inactive(status):
        return []
    state = f"status = {status}" if isinstance(status, str) and status else "status not set, so Active"
    return [simple_finding(SLUG, block.address, ("status",),
                           f"{block.address} creates an active long-term IAM access key ({state})")]


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    status = tpl.properties(name).get("Status")
    resolved = tpl.defaults.get(status["Ref"]) if isinstance(status, Mapping) and "Ref" in status else status
    if _inactive(resolved):
        return []
    # Without a Status the key is active: point at the properties where Status is missing.
    base: Path = ("Resources", name, "Properties")
    return [simple_finding(SLUG, name, (*base, "Status") if status else base,
                           f"{name} creates an active long-term IAM access key")]
