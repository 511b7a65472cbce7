"""Rule 5: the Terraform AWS provider configured with static access keys (Terraform only)."""

from __future__ import annotations

from keyless.findings import Finding, simple_finding
from keyless.lang.cloudformation import Template
from keyless.lang.terraform import Block, TerraformModel, present

SLUG = "provider-static-credentials"
TERRAFORM = {"provider": ("aws",)}
CLOUDFORMATION: tuple[str, ...] = ()


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    keys = [k for k in ("access_key", "secret_key", "token") if present(block.config.get(k))]
    if not keys:
        return []
    return [simple_finding(SLUG, block.address, (keys[0],), f'provider "aws" sets {", ".join(keys)} in code')]


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    return []
