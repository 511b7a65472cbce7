"""Rule 7: a launch template or launch configuration without an instance profile.

A launch template used by an EKS node group passes: the node group supplies the node role.
"""

from __future__ import annotations

from collections.abc import Mapping

from keyless.detect.walk import Path
from keyless.findings import Finding, simple_finding
from keyless.lang.cloudformation import Template, present
from keyless.lang.environment import CLOUDFORMATION_LAUNCH_TYPES, TERRAFORM_LAUNCH_TYPES
from keyless.lang.instance_profiles import (
    launch_template_has_profile,
    launch_template_of,
    terraform_block_has_profile,
)
from keyless.lang.terraform import Block, TerraformModel

SLUG = "launch-template-without-profile"
TERRAFORM = {"resource": TERRAFORM_LAUNCH_TYPES}
CLOUDFORMATION = CLOUDFORMATION_LAUNCH_TYPES


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    if terraform_block_has_profile(block, model):
        return []
    if block.type == "aws_launch_template" and model is not None:
        if any(s.type == "aws_eks_node_group" for s in model.sources(block)):
            return []  # EKS node groups supply the node role themselves
    return [simple_finding(SLUG, block.address, ("iam_instance_profile",),
                           f"{block.address} has no instance profile (iam_instance_profile)")]


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    where: Path = ("Resources", name, "Properties")  # where the missing profile belongs
    if tpl.type_of(name) == "AWS::EC2::LaunchTemplate":
        if launch_template_has_profile(name, tpl):
            return []
        for other, res in tpl.resources.items():
            spec = tpl.properties(other).get("LaunchTemplate") if res.get("Type") == "AWS::EKS::Nodegroup" else None
            if isinstance(spec, Mapping) and launch_template_of(spec, tpl) == name:
                return []  # EKS node groups supply the node role themselves
        where = (*where, "LaunchTemplateData")
    elif present(tpl.properties(name).get("IamInstanceProfile"), tpl):
        return []
    return [simple_finding(SLUG, name, where, f"{name} has no IamInstanceProfile")]
