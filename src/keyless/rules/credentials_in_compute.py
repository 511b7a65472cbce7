"""Rule 8: AWS credentials handed to a compute service (environment, user data, instance metadata)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keyless.detect.material import is_credential_name
from keyless.detect.userdata import find_credential_writes
from keyless.detect.values import Origin, is_placeholder_value
from keyless.detect.walk import Path
from keyless.findings import Finding, dotted, simple_finding
from keyless.lang.cloudformation import Template
from keyless.lang.environment import (
    CLOUDFORMATION_ENVIRONMENT_TYPES,
    CLOUDFORMATION_INSTANCE_TYPES,
    CLOUDFORMATION_LAUNCH_TYPES,
    TERRAFORM_ENVIRONMENT_TYPES,
    TERRAFORM_USER_DATA_TYPES,
    cloudformation_environment,
    cloudformation_user_data,
    terraform_environment,
)
from keyless.lang.terraform import ACCESS_KEY_SECRET, Block, TerraformModel, origin, strings, user_data_texts
from keyless.lang.terraform_modules import secret_module_output

SLUG = "credentials-in-compute"
TERRAFORM = {"resource": (*TERRAFORM_USER_DATA_TYPES, *TERRAFORM_ENVIRONMENT_TYPES)}
CLOUDFORMATION = (*CLOUDFORMATION_INSTANCE_TYPES, *CLOUDFORMATION_LAUNCH_TYPES, *CLOUDFORMATION_ENVIRONMENT_TYPES)


def _hands_over(found: Origin, name: str, value: Any) -> bool:
    """An access key resource's ID or secret, or a literal under a credential name that is not a flag
    or a pointer to a store."""
    return found is Origin.ACCESS_KEY or (
        found is Origin.LITERAL and is_credential_name(name) and not is_placeholder_value(name, value))


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    findings: list[Finding] = []
    flagged: set[Path] = set()
    flagged_texts: set[str] = set()
    for path, name, value in terraform_environment(block):
        found = origin(value)
        if not _hands_over(found, name, value):
            continue
        if found is Origin.ACCESS_KEY:
            secret = ACCESS_KEY_SECRET.search(str(value))
            what = (f"the {secret.group(2)} of an access key" if secret else "an access key ID") + \
                f" is passed to {block.address} as {name}"
        else:
            what = f"{block.address} sets credential variable {name}"
        findings.append(simple_finding(SLUG, block.address, path, f"{what} at {dotted(path)}"))
        flagged.add(path)
        flagged_texts.add(str(value))
    if block.type in TERRAFORM_USER_DATA_TYPES:
        for attr, data in user_data_texts(block, model):
            if (attr,) in flagged:
                continue
            for write in find_credential_writes(data)[:1]:
                findings.append(simple_finding(
                    SLUG, block.address, (attr,),
                    f"{attr} of {block.address} writes {write.variable} ({write.how}) with a hardcoded value"))
                flagged.add((attr,))
    for path, text in strings(block.config):
        if path not in flagged and text not in flagged_texts and (
                ACCESS_KEY_SECRET.search(text) or secret_module_output(text, block, model)):
            findings.append(simple_finding(SLUG, block.address, path,
                                           f"an access key secret is passed to {block.address} at {dotted(path)}"))
            flagged.add(path)
    return findings


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    findings: list[Finding] = []
    for path, var, value in cloudformation_environment(name, tpl):
        found = tpl.origin(value)
        if _hands_over(found, var, value):
            what = (f"An access key is passed to {name}" if found is Origin.ACCESS_KEY
                    else f"{name} sets credential variable {var}")
            findings.append(simple_finding(SLUG, name, path, f"{what} at {dotted(path[3:])}"))
    user_data = cloudformation_user_data(name, tpl)
    if user_data is not None:
        path, value = user_data
        writes = find_credential_writes(tpl.text(value))
        if writes:
            findings.append(simple_finding(
                SLUG, name, path, f"UserData of {name} writes {writes[0].variable} ({writes[0].how}) with a hardcoded value"))
    findings += _authentication(name, tpl)
    if not any(f.path[:3] == ("Resources", name, "Properties") for f in findings):
        where = _secret_reference_path(tpl, tpl.properties(name), ("Resources", name, "Properties"))
        if where is not None:
            findings.append(simple_finding(SLUG, name, where, f"An access key secret is passed to {name} at {dotted(where[3:])}"))
    return findings


def _authentication(name: str, tpl: Template) -> list[Finding]:
    """`AWS::CloudFormation::Authentication` metadata that carries keys for cfn-init downloads."""
    metadata = tpl.resources[name].get("Metadata")
    auth = metadata.get("AWS::CloudFormation::Authentication") if isinstance(metadata, Mapping) else None
    findings = []
    for auth_name, block in (auth.items() if isinstance(auth, Mapping) else ()):
        if not isinstance(block, Mapping):
            continue
        keys = [k for k in ("accessKeyId", "secretKey") if k in block and tpl.origin(block[k]) is not Origin.EXTERNAL]
        if keys:
            path = ("Resources", name, "Metadata", "AWS::CloudFormation::Authentication", auth_name, keys[0])
            findings.append(simple_finding(
                SLUG, name, path, f"AWS::CloudFormation::Authentication {auth_name} of {name} carries {' and '.join(keys)}"))
    return findings


def _secret_reference_path(tpl: Template, value: Any, path: Path) -> Path | None:
    """Where the first access key secret referenced under a value is written (for the line number)."""
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("Fn::GetAtt", "Fn::Sub"):
        return path if tpl.secret_references(value) else None
    items = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _secret_reference_path(tpl, item, (*path, key))
        if found is not None:
            return found
    return None
