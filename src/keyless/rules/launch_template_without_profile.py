"""Rule 7: a launch template or launch configuration that gives its instances no credentials: no
instance profile, or one without a role.

A launch template launched by an EKS node group, or by an AWS Batch compute environment that sets its
own instance role, passes: those services give the instances a role themselves (EKS rejects a
template that names a profile; Batch applies the compute environment's `instanceRole`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from keyless.detect.walk import Path
from keyless.findings import Finding, simple_finding
from keyless.lang.cloudformation import Template
from keyless.lang.environment import CLOUDFORMATION_LAUNCH_TYPES, TERRAFORM_LAUNCH_TYPES
from keyless.lang.instance_profiles import cfn_role_supplier, launch_template_gaps, profile_gaps

if TYPE_CHECKING:  # Terraform helpers are imported where a Terraform block is judged (see keyless.rules)
    from keyless.lang.terraform import Block, TerraformModel

SLUG = "launch-template-without-profile"
TERRAFORM = {"resource": TERRAFORM_LAUNCH_TYPES}
CLOUDFORMATION = CLOUDFORMATION_LAUNCH_TYPES


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    from keyless.lang.terraform_profiles import role_supplier, roleless_profile, terraform_block_has_profile

    if terraform_block_has_profile(block, model):
        profile = roleless_profile(block, model)
        if profile is None:
            return []
        what = (f"{block.address} uses instance profile {profile.address}, which sets no role "
                f"(iam_instance_profile): it gives no credentials")
    else:
        what = f"{block.address} has no instance profile (iam_instance_profile)"
    if block.type == "aws_launch_template" and role_supplier(block, model) is not None:
        return []  # an EKS node group or a Batch compute environment supplies the role
    return [simple_finding(SLUG, block.address, ("iam_instance_profile",), what)]


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    where: Path = ("Resources", name, "Properties")  # where the missing profile belongs
    if tpl.type_of(name) == "AWS::EC2::LaunchTemplate":
        gaps = launch_template_gaps(name, tpl)
        if not gaps or cfn_role_supplier(name, tpl) is not None:
            return []  # an EKS node group or a Batch compute environment supplies the role
        data = tpl.properties(name).get("LaunchTemplateData")
        where = (*where, "LaunchTemplateData")
        if isinstance(data, Mapping) and "IamInstanceProfile" in data:
            where = (*where, "IamInstanceProfile")
    else:
        props = tpl.properties(name)
        gaps = profile_gaps(props.get("IamInstanceProfile"), tpl)
        if "IamInstanceProfile" in props:
            where = (*where, "IamInstanceProfile")
    return [simple_finding(SLUG, name, where, f"{name} {gap}") for gap in gaps]
