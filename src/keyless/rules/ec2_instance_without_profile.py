"""Rule 6: an EC2 instance without an instance profile, directly or through its launch template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keyless.detect.walk import Path
from keyless.findings import Finding, simple_finding
from keyless.lang.cloudformation import Template, present
from keyless.lang.environment import CLOUDFORMATION_INSTANCE_TYPES, TERRAFORM_INSTANCE_TYPES
from keyless.lang.instance_profiles import (
    launch_template_has_profile,
    launch_template_of,
    terraform_block_has_profile,
)
from keyless.lang.terraform import Block, TerraformModel, nested_blocks
from keyless.lang.terraform_modules import has_nested_value

SLUG = "ec2-instance-without-profile"
TERRAFORM = {"resource": TERRAFORM_INSTANCE_TYPES}
CLOUDFORMATION = CLOUDFORMATION_INSTANCE_TYPES


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    if terraform_block_has_profile(block, model):
        return []
    uses_template = has_nested_value(block, model, "launch_template", ("id", "name"))
    if uses_template is None:
        uses_template = bool(nested_blocks(block.config, "launch_template"))
    if uses_template:
        # Only a launch template resource of this module can be read; a data source lookup, a template
        # in another module or one chosen by variable gets the benefit of the doubt.
        templates = [t for t in model.targets(block, "launch_template")
                     if t.kind == "resource" and t.type == "aws_launch_template"] if model else []
        if not templates or any(terraform_block_has_profile(t, model) for t in templates):
            return []
        what = (f"{block.address} has no instance profile (iam_instance_profile), and neither has its "
                f"launch template {templates[0].address} (launch_template)")
        where: tuple[str, ...] = ("launch_template",)
    else:
        what = f"{block.address} has no instance profile (iam_instance_profile)"
        where = ("iam_instance_profile",)
    return [simple_finding(SLUG, block.address, where, what)]


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    props = tpl.properties(name)
    if present(props.get("IamInstanceProfile"), tpl):
        return []
    spec: Any = props.get("LaunchTemplate")
    where: Path = ("Resources", name, "Properties")  # where the missing profile belongs
    if isinstance(spec, Mapping):
        target = launch_template_of(spec, tpl)
        if target is None or launch_template_has_profile(target, tpl):
            return []  # an external launch template cannot be read: benefit of the doubt
        what = f"{name} has no IamInstanceProfile, and its launch template {target} has none"
        where = (*where, "LaunchTemplate")
    else:
        what = f"{name} has no IamInstanceProfile"
    return [simple_finding(SLUG, name, where, what)]
