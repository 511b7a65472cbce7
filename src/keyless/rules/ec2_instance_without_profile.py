"""Rule 6: EC2 compute launched without credentials of its own: an instance, a spot request or a fleet
with no instance profile (or one without a role), directly or through its launch template.

Fleets are judged here rather than under rule 7: like an instance, a fleet's launch specification
says what is launched; the launch template itself is rule 7's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from keyless.detect.walk import Path
from keyless.findings import Finding, dotted, simple_finding
from keyless.lang.cloudformation import Template
from keyless.lang.environment import CLOUDFORMATION_INSTANCE_TYPES, TERRAFORM_INSTANCE_TYPES
from keyless.lang.instance_profiles import launch_template_gaps, launch_template_of, profile_gaps

if TYPE_CHECKING:  # Terraform helpers are imported where a Terraform block is judged (see keyless.rules)
    from keyless.lang.terraform import Block, TerraformModel

SLUG = "ec2-instance-without-profile"
TERRAFORM_FLEET_TYPES = ("aws_spot_fleet_request", "aws_ec2_fleet")
CLOUDFORMATION_FLEET_TYPES = ("AWS::EC2::SpotFleet", "AWS::EC2::EC2Fleet")
TERRAFORM = {"resource": (*TERRAFORM_INSTANCE_TYPES, *TERRAFORM_FLEET_TYPES)}
CLOUDFORMATION = (*CLOUDFORMATION_INSTANCE_TYPES, *CLOUDFORMATION_FLEET_TYPES)
_NONE = "has no instance profile (iam_instance_profile)"


# --- Terraform -----------------------------------------------------------------------------------


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    if block.type in TERRAFORM_FLEET_TYPES:
        gaps = _fleet_gaps(block, model)
    else:
        gap = _instance_gap(block, model)
        gaps = [gap] if gap else []
    return [simple_finding(SLUG, block.address, path, f"{block.address} {what}") for path, what in gaps]


def _roleless(profile: Block) -> str:
    return f"uses instance profile {profile.address}, which sets no role (iam_instance_profile): it gives no credentials"


def _instance_gap(block: Block, model: TerraformModel | None) -> tuple[Path, str] | None:
    """Where and why an instance or spot request has no credentials, or None."""
    from keyless.lang.terraform import nested_blocks
    from keyless.lang.terraform_modules import has_nested_value
    from keyless.lang.terraform_profiles import roleless_profile, terraform_block_has_profile

    if terraform_block_has_profile(block, model):
        profile = roleless_profile(block, model)
        return None if profile is None else (("iam_instance_profile",), _roleless(profile))
    uses_template = has_nested_value(block, model, "launch_template", ("id", "name"))
    specs = nested_blocks(block.config, "launch_template") if uses_template is not False else []
    if not specs:
        return ("iam_instance_profile",), _NONE
    template = _template_without_credentials(block, model, specs[0], "launch_template")
    if template is None:
        return None
    return ("launch_template",), f"{_NONE}, and its launch template {template} (launch_template)"


def _template_without_credentials(block: Block, model: TerraformModel | None, spec: Mapping[str, Any],
                                  edge_label: str = "") -> str | None:
    """'<template> has none' / '<template> uses ... which sets no role' when the launch template a
    specification names gives no credentials; None when it does or cannot be read.

    Only a launch template resource of this module can be read; a data source lookup, a template in
    another module or one chosen by variable gets the benefit of the doubt.
    """
    from keyless.lang.terraform_profiles import launch_templates, roleless_profile, terraform_block_has_profile

    templates = launch_templates(block, model, spec, edge_label)
    if not templates:
        return None
    judged = [(t, roleless_profile(t, model) if terraform_block_has_profile(t, model) else None) for t in templates]
    if any(terraform_block_has_profile(t, model) and profile is None for t, profile in judged):
        return None
    template, profile = judged[0]
    if profile is not None:
        return f"{template.address} {_roleless(profile)}"
    return f"{template.address} has none either"


def _fleet_gaps(block: Block, model: TerraformModel | None) -> list[tuple[Path, str]]:
    """Each launch specification or launch template configuration of a fleet that launches instances
    without credentials."""
    from keyless.lang.terraform import nested_blocks
    from keyless.lang.terraform_profiles import roleless_profile, terraform_has_profile

    gaps: list[tuple[Path, str]] = []
    specs = nested_blocks(block.config, "launch_specification")
    for i, spec in enumerate(specs):
        where: Path = ("launch_specification", i) if len(specs) > 1 else ("launch_specification",)
        if not terraform_has_profile(spec):
            gaps.append(((*where, "iam_instance_profile"),
                         f"launches {dotted(where)} without an instance profile (iam_instance_profile)"))
        elif (profile := roleless_profile(block, model, spec)) is not None:
            gaps.append(((*where, "iam_instance_profile"), f"launches {dotted(where)}, which {_roleless(profile)}"))
    configs = nested_blocks(block.config, "launch_template_config")
    for i, config in enumerate(configs):
        where = ("launch_template_config", i) if len(configs) > 1 else ("launch_template_config",)
        for spec in nested_blocks(config, "launch_template_specification"):
            template = _template_without_credentials(block, model, spec)
            if template is not None:
                gaps.append(((*where, "launch_template_specification"),
                             f"launches instances without an instance profile (iam_instance_profile): its launch "
                             f"template {template} ({dotted(where)})"))
    return gaps


# --- CloudFormation ------------------------------------------------------------------------------


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    props = tpl.properties(name)
    base: Path = ("Resources", name, "Properties")
    kind = tpl.type_of(name)
    if kind == "AWS::EC2::SpotFleet":
        config = props.get("SpotFleetRequestConfigData")
        return _cfn_fleet(name, tpl, config if isinstance(config, Mapping) else {}, (*base, "SpotFleetRequestConfigData"))
    if kind == "AWS::EC2::EC2Fleet":
        return _cfn_fleet(name, tpl, props, base)
    spec: Any = props.get("LaunchTemplate")
    gaps = profile_gaps(props.get("IamInstanceProfile"), tpl)
    if isinstance(spec, Mapping) and gaps and all(g.startswith("has no IamInstanceProfile") for g in gaps):
        # the instance's own setting leaves it without a profile (in some branch): its template decides
        return _cfn_through_template(name, tpl, spec, (*base, "LaunchTemplate"), f"{name} has no IamInstanceProfile, and")
    path = (*base, "IamInstanceProfile") if "IamInstanceProfile" in props else base
    return [simple_finding(SLUG, name, path, f"{name} {gap}") for gap in gaps]


def _cfn_through_template(name: str, tpl: Template, spec: Mapping[str, Any], path: Path, lead: str) -> list[Finding]:
    target = launch_template_of(spec, tpl)
    if target is None:
        return []  # an external launch template cannot be read: benefit of the doubt
    return [simple_finding(SLUG, name, path, f"{lead} its launch template {target} {gap}")
            for gap in launch_template_gaps(target, tpl)]


def _cfn_fleet(name: str, tpl: Template, config: Mapping[str, Any], base: Path) -> list[Finding]:
    findings: list[Finding] = []
    specs = config.get("LaunchSpecifications")
    for i, spec in enumerate(specs if isinstance(specs, list) else []):
        if not isinstance(spec, Mapping):
            continue
        path: Path = (*base, "LaunchSpecifications", i)
        where = (*path, "IamInstanceProfile") if "IamInstanceProfile" in spec else path
        findings += [simple_finding(SLUG, name, where, f"{name} launches LaunchSpecifications[{i}], which {gap}")
                     for gap in profile_gaps(spec.get("IamInstanceProfile"), tpl)]
    configs = config.get("LaunchTemplateConfigs")
    for i, item in enumerate(configs if isinstance(configs, list) else []):
        spec = item.get("LaunchTemplateSpecification") if isinstance(item, Mapping) else None
        if isinstance(spec, Mapping):
            findings += _cfn_through_template(
                name, tpl, spec, (*base, "LaunchTemplateConfigs", i, "LaunchTemplateSpecification"),
                f"{name} launches instances without an IamInstanceProfile (LaunchTemplateConfigs[{i}]):")
    return findings
