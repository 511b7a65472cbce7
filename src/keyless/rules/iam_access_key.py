"""Rule 1: an IAM access key created in infrastructure code (unless it is created inactive)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from keyless.detect.walk import Path
from keyless.findings import Finding, simple_finding
from keyless.lang.cloudformation import ACCESS_KEY, Template

if TYPE_CHECKING:  # Terraform helpers are imported where a Terraform block is judged (see keyless.rules)
    from keyless.lang.terraform import Block, TerraformModel

SLUG = "iam-access-key"
TERRAFORM = {"resource": ("aws_iam_access_key",), "module": ("module",)}
CLOUDFORMATION = (ACCESS_KEY,)


def _inactive(status: object) -> bool:
    return isinstance(status, str) and status.strip().lower() == "inactive"


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    from keyless.lang.terraform_modules import attribute_value

    if block.kind == "module":
        return _registry_module_call(block)
    status = attribute_value(block, model, "status", block.config.get("status"))
    if _inactive(status):
        return []
    state = f"status = {status}" if isinstance(status, str) and status else "status not set, so Active"
    return [simple_finding(SLUG, block.address, ("status",),
                           f"{block.address} creates an active long-term IAM access key ({state})")]


def judges_module_call(config: Mapping[str, object]) -> bool:
    """Only calls to registry modules in the knowledge base that checkov cannot follow: a local module, or
    one `terraform init` fetched into `.terraform/modules`, is followed instead."""
    from keyless.lang.registry_modules import registry_module

    return registry_module(config.get("source")) is not None


def _registry_module_call(block: Block) -> list[Finding]:
    """A call to a registry module that creates a key by default (`registry_modules`), judged on the call."""
    from keyless.lang.registry_modules import registry_module, switched_off
    from keyless.lang.terraform_modules import initialised_module_dir

    entry = registry_module(block.config.get("source"))
    if entry is None or switched_off(entry, block.config) is not None:
        return []
    version = block.config.get("version")
    if block.file and initialised_module_dir(os.path.dirname(block.file), str(block.config.get("source")),
                                             version if isinstance(version, str) else None):
        return []  # fetched by terraform init: checkov expands it and its resources are judged
    switches = " or ".join(f"{s.argument} = {_hcl(s.off)}" for s in entry.switches if s.argument != "enabled")
    return [simple_finding(SLUG, block.address, ("source",),
                           f"module {block.name} ({entry.source}) {entry.note}: the key's status is Active "
                           f"by default (set {switches})")]


def _hcl(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else f'"{value}"'


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    status = tpl.properties(name).get("Status")
    resolved = tpl.defaults.get(status["Ref"]) if isinstance(status, Mapping) and "Ref" in status else status
    if _inactive(resolved):
        return []
    # Without a Status the key is active: point at the properties where Status is missing.
    base: Path = ("Resources", name, "Properties")
    return [simple_finding(SLUG, name, (*base, "Status") if status else base,
                           f"{name} creates an active long-term IAM access key")]
