"""Rule 3: a hardcoded access key ID, in any string of any entity (values, tags, user data, sections)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyless.findings import Finding
from keyless.lang.cloudformation import Template
from keyless.rules import EVERY_TYPE, _key_material

if TYPE_CHECKING:
    from keyless.lang.terraform import Block, TerraformModel

SLUG = "hardcoded-access-key-id"
TERRAFORM = {"resource": (EVERY_TYPE,), "data": (EVERY_TYPE,), "provider": (EVERY_TYPE,), "module": ("module",)}
CLOUDFORMATION = (EVERY_TYPE,)


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    return [f for f in _key_material.terraform(block, model) if f.slug == SLUG]


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    return [f for f in _key_material.cloudformation(tpl) if f.slug == SLUG and f.checkov_resources[0] == name]
