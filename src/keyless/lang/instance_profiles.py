"""What gives EC2 compute an instance profile, in each format: its own setting or its launch template's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keyless.lang.cloudformation import Template, present
from keyless.lang.terraform import Block, TerraformModel
from keyless.lang.terraform import present as tf_present
from keyless.lang.terraform_modules import has_nested_value


def terraform_has_profile(config: Mapping[str, Any]) -> bool:
    """Whether a Terraform instance, launch template or launch configuration names an instance profile."""
    profile = config.get("iam_instance_profile")
    if isinstance(profile, Mapping):
        return tf_present(profile.get("name")) or tf_present(profile.get("arn"))
    return tf_present(profile)


def terraform_block_has_profile(block: Block, model: TerraformModel | None) -> bool:
    """Whether a block names an instance profile, judged by what its source evaluates to in its module
    instance: `var.create ? aws_iam_instance_profile.this[0].name : var.profile` with neither set, or a
    `dynamic "iam_instance_profile"` whose `for_each` is empty, names none (see `terraform_modules`)."""
    judged = has_nested_value(block, model, "iam_instance_profile", ("name", "arn"))
    return terraform_has_profile(block.config) if judged is None else judged


def launch_template_of(reference: Mapping[str, Any], tpl: Template) -> str | None:
    """The launch template resource a LaunchTemplate specification points at, if it is in the template."""
    for key in ("LaunchTemplateId", "Id", "LaunchTemplateName", "Name"):
        value = reference.get(key)
        if isinstance(value, Mapping):
            target = value.get("Ref")
            if target is None and "Fn::GetAtt" in value:
                att = value["Fn::GetAtt"]
                target = att.split(".", 1)[0] if isinstance(att, str) else (att[0] if isinstance(att, list) and att else None)
            if tpl.type_of(target) == "AWS::EC2::LaunchTemplate":
                return str(target)
        elif isinstance(value, str):
            for other, res in tpl.resources.items():
                if res.get("Type") == "AWS::EC2::LaunchTemplate" and tpl.properties(other).get("LaunchTemplateName") == value:
                    return other
    return None


def launch_template_has_profile(name: str, tpl: Template) -> bool:
    data = tpl.properties(name).get("LaunchTemplateData")
    return isinstance(data, Mapping) and present(data.get("IamInstanceProfile"), tpl)
