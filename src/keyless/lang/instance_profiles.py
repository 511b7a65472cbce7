"""What gives EC2 compute credentials, in each format: an instance profile (its own, or its launch
template's) that holds a role.

An instance profile without a role gives an instance no credentials at all, which is what pushes
people to copy access keys onto it; so a profile counts only when it can hold a role. What cannot be
read (a profile or launch template outside the module or template, a value from a variable) gets the
benefit of the doubt.

This module is the CloudFormation half; the Terraform half is keyless.lang.terraform_profiles, apart
so that cfn-lint, which the editor starts once per template, never loads the Terraform modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keyless.lang.cloudformation import Template, present

_NO_VALUE = {"Ref": "AWS::NoValue"}


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


def profile_gaps(value: Any, tpl: Template) -> list[str]:
    """Why an IamInstanceProfile value gives no credentials, one reason per case; [] when it does.

    `Fn::If` is judged per branch, and a reason names the condition (`when condition X is false`):
    an `AWS::NoValue` branch launches the instance without a profile. A launch template's
    `{Arn: ...}`/`{Name: ...}` is read through. A profile of the template without `Roles` counts as none.
    """
    if isinstance(value, Mapping) and set(value) == {"Fn::If"}:
        arg = value["Fn::If"]
        if isinstance(arg, list) and len(arg) == 3:
            return [f"{gap} when condition {arg[0]} is {truth}"
                    for branch, truth in ((arg[1], "true"), (arg[2], "false"))
                    for gap in profile_gaps(branch, tpl)]
    if value == _NO_VALUE or not present(value, tpl):
        return ["has no IamInstanceProfile"]
    if isinstance(value, Mapping) and value and set(value) <= {"Arn", "Name"}:
        inner = value.get("Arn") if "Arn" in value else value.get("Name")
        return profile_gaps(inner, tpl)
    profile = _profile_resource(value, tpl)
    if profile is not None and not _has_roles(tpl.properties(profile).get("Roles"), tpl):
        return [f"uses instance profile {profile}, which has no Roles"]
    return []


def _profile_resource(value: Any, tpl: Template) -> str | None:
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    (fn, arg), = value.items()
    if fn == "Fn::GetAtt":
        arg = arg.split(".", 1)[0] if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg else None)
    elif fn != "Ref":
        return None
    return str(arg) if tpl.type_of(arg) == "AWS::IAM::InstanceProfile" else None


def _has_roles(roles: Any, tpl: Template) -> bool:
    if isinstance(roles, list):
        return any(r != _NO_VALUE and present(r, tpl) for r in roles)
    return roles != _NO_VALUE and present(roles, tpl)  # an intrinsic (If, Split...): benefit of the doubt


def launch_template_gaps(name: str, tpl: Template) -> list[str]:
    """Why a launch template of the template gives its instances no credentials ([] when it does)."""
    data = tpl.properties(name).get("LaunchTemplateData")
    return profile_gaps(data.get("IamInstanceProfile") if isinstance(data, Mapping) else None, tpl)


def launch_template_has_profile(name: str, tpl: Template) -> bool:
    return not launch_template_gaps(name, tpl)


def cfn_role_supplier(name: str, tpl: Template) -> str | None:
    """An EKS node group, or a Batch compute environment with an InstanceRole, that launches the
    launch template `name`: they give its instances a role themselves."""
    for other, res in tpl.resources.items():
        kind = res.get("Type")
        props = tpl.properties(other)
        if kind == "AWS::EKS::Nodegroup":
            spec = props.get("LaunchTemplate")
        elif kind == "AWS::Batch::ComputeEnvironment":
            resources = props.get("ComputeResources")
            if not isinstance(resources, Mapping) or not present(resources.get("InstanceRole"), tpl):
                continue
            spec = resources.get("LaunchTemplate")
        else:
            continue
        if isinstance(spec, Mapping) and launch_template_of(spec, tpl) == name:
            return other
    return None
