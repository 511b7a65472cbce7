"""What gives Terraform EC2 compute credentials: the Terraform half of keyless.lang.instance_profiles
(see there). Imported by the rules' `terraform()` only: CloudFormation never loads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from keyless.lang.terraform import Block, TerraformModel, nested_blocks
from keyless.lang.terraform import present as tf_present
from keyless.lang.terraform_modules import has_nested_value
from keyless.lang.terraform_source import block_text

PROFILE = "aws_iam_instance_profile"
LAUNCH_TEMPLATE = "aws_launch_template"
_PROFILE_REFERENCE = re.compile(r"\baws_iam_instance_profile\.([A-Za-z0-9_-]+)")
_TEMPLATE_REFERENCE = re.compile(r"\baws_launch_template\.([A-Za-z0-9_-]+)")
_LOCAL_REFERENCE = re.compile(r"\blocal\.([A-Za-z0-9_-]+)")
# Who launches a template with a role of its own: EKS supplies the node role, and an AWS Batch compute
# environment its `instance_role` (the instance profile Batch applies to the instances it launches).
_ROLE_SUPPLIERS = ("aws_eks_node_group", "aws_batch_compute_environment")


def profile_values(config: Mapping[str, Any]) -> list[Any]:
    """The values that name an instance profile: `iam_instance_profile` (an attribute, or a block's
    `name`/`arn`), `iam_instance_profile_arn` (spot fleets), and a `dynamic "iam_instance_profile"`
    block's content, judged by what it would write."""
    values: list[Any] = []
    profile = config.get("iam_instance_profile")
    for item in profile if isinstance(profile, list) else [profile]:
        if isinstance(item, Mapping):
            values += [item.get("name"), item.get("arn")]
        else:
            values.append(item)
    values.append(config.get("iam_instance_profile_arn"))
    for dynamic in nested_blocks(config, "dynamic"):
        body = dynamic.get("iam_instance_profile")
        content = body.get("content", body) if isinstance(body, Mapping) else None
        if isinstance(content, Mapping):
            values += [content.get("name"), content.get("arn")]
    return values


def terraform_has_profile(config: Mapping[str, Any]) -> bool:
    """Whether a Terraform instance, launch template, launch configuration or fleet launch
    specification names an instance profile."""
    return any(tf_present(value) for value in profile_values(config))


def terraform_block_has_profile(block: Block, model: TerraformModel | None) -> bool:
    """Whether a block names an instance profile, judged by what its source evaluates to in its module
    instance: `var.create ? aws_iam_instance_profile.this[0].name : var.profile` with neither set, or a
    `dynamic "iam_instance_profile"` whose `for_each` is empty, names none (see `terraform_modules`)."""
    judged = has_nested_value(block, model, "iam_instance_profile", ("name", "arn"))
    return terraform_has_profile(block.config) if judged is None else judged

def _resources(model: TerraformModel, block: Block, type_: str) -> Iterator[Block]:
    return model.of_type(block, "resource", type_)


def resource_name(block: Block) -> str:
    """`web` for `module.a.aws_instance.web["x"]`: the name references use."""
    found = re.search(rf"{re.escape(block.type)}\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?$", block.address)
    return found.group(1) if found else block.name


def _strings(values: list[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str) and v]


def roleless_profile(block: Block, model: TerraformModel | None, config: Mapping[str, Any] | None = None) -> Block | None:
    """The `aws_iam_instance_profile` of the block's own module that it names (by reference or by
    literal name) when that profile has no `role`; None when it has one or cannot be read."""
    if model is None:
        return None
    values = _strings(profile_values(block.config if config is None else config))
    if not values:
        return None
    referenced = {m.group(1) for v in values for m in _PROFILE_REFERENCE.finditer(v)}
    profiles = [p for p in _resources(model, block, PROFILE)
                if resource_name(p) in referenced or p.config.get("name") in values]
    if config is None and not profiles:
        profiles = [t for t in model.targets(block, "iam_instance_profile") if t.kind == "resource" and t.type == PROFILE]
    if profiles and not any(tf_present(p.config.get("role")) or tf_present(p.config.get("roles")) for p in profiles):
        return profiles[0]
    return None


def launch_templates(block: Block, model: TerraformModel | None, spec: Mapping[str, Any],
                     edge_label: str = "") -> list[Block]:
    """The `aws_launch_template` resources of the block's module that a launch template specification
    (`id`/`name`, `launch_template_id`/`launch_template_name`) points at: by reference, by the
    template's literal name, or (`edge_label`) by the engine's reference edges. Empty when it cannot be
    read (a data source, a variable, another module): the caller gives the benefit of the doubt."""
    if model is None:
        return []
    values = _strings([spec.get(k) for k in ("id", "name", "launch_template_id", "launch_template_name")])
    referenced = {m.group(1) for v in values for m in _TEMPLATE_REFERENCE.finditer(v)}
    literal = {v for v in values if "." not in v and "${" not in v}
    found = [t for t in _resources(model, block, LAUNCH_TEMPLATE)
             if resource_name(t) in referenced or (t.config.get("name") in literal)]
    if not found and edge_label:
        found = [t for t in model.targets(block, edge_label) if t.kind == "resource" and t.type == LAUNCH_TEMPLATE]
    return found


def role_supplier(template: Block, model: TerraformModel | None) -> Block | None:
    """An EKS node group, or an AWS Batch compute environment that sets `instance_role`, of the
    template's module that launches it: they give the instances a role themselves.

    Found through the engine's edges, through a local that names the template (the community EKS
    module's `local.launch_template_id`), or in the user's own text: checkov renders a `dynamic
    "launch_template"` block without its references, so no edge is left there.
    """
    if model is None:
        return None
    me = model.index_of(template)
    name = resource_name(template)
    literal_name = template.config.get("name")
    for supplier in _ROLE_SUPPLIERS:
        for user in _resources(model, template, supplier):
            if supplier == "aws_batch_compute_environment" and not _batch_instance_role(user):
                continue
            if _launches(user, model, me, name, literal_name):
                return user
    return None


def _batch_instance_role(environment: Block) -> bool:
    return any(tf_present(r.get("instance_role")) for r in nested_blocks(environment.config, "compute_resources"))


def _launches(user: Block, model: TerraformModel, me: int | None, name: str, literal_name: Any) -> bool:
    targets = list(model.targets(user))
    if me is not None and any(model.index_of(t) == me for t in targets):
        return True
    text = block_text(user.file, user.lines)
    if any(m.group(1) == name for m in _TEMPLATE_REFERENCE.finditer(text)):
        return True
    locals_used = {m.group(1) for m in _LOCAL_REFERENCE.finditer(text)} | {t.name for t in targets if t.kind == "locals"}
    for local in model.of_type(user, "locals", "locals"):
        if local.name in locals_used:
            if me is not None and any(model.index_of(t) == me for t in model.targets(local)):
                return True
    if isinstance(literal_name, str) and literal_name:
        specs = nested_blocks(user.config, "launch_template")
        for resources in nested_blocks(user.config, "compute_resources"):
            specs += nested_blocks(resources, "launch_template")
        return any(literal_name in (s.get("name"), s.get("launch_template_name")) for s in specs)
    return False
