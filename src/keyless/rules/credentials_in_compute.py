"""Rule 8: AWS credentials handed to a compute service (environment, user data, instance metadata).

The Terraform helpers are imported inside `terraform()`: cfn-lint in the editor imports keyless per
template, and Terraform helpers load only when a Terraform block is judged (see keyless.rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from keyless.detect.material import find_real_key_ids, is_credential_name, looks_like_secret_beside_key_id
from keyless.detect.userdata import find_credential_writes
from keyless.detect.values import Origin, is_placeholder_value
from keyless.detect.walk import Path
from keyless.findings import Finding, dotted, simple_finding
from keyless.lang import buildspec
from keyless.lang.cfn_init import INIT, init_writes
from keyless.lang.cloudformation import Template
from keyless.lang.environment import (
    CLOUDFORMATION_ENVIRONMENT_TYPES,
    CLOUDFORMATION_INSTANCE_TYPES,
    CLOUDFORMATION_LAUNCH_TYPES,
    LIGHTSAIL_TYPES,
    PROVISIONER_TYPES,
    RENDERING_DATA_TYPES,
    TERRAFORM_ENVIRONMENT_TYPES,
    TERRAFORM_USER_DATA_TYPES,
    cloudformation_environment,
    cloudformation_user_data,
    terraform_environment,
)

if TYPE_CHECKING:
    from keyless.lang.terraform import Block, TerraformModel

SLUG = "credentials-in-compute"
TERRAFORM = {"resource": (*TERRAFORM_USER_DATA_TYPES, *TERRAFORM_ENVIRONMENT_TYPES, *LIGHTSAIL_TYPES, *PROVISIONER_TYPES),
             "data": RENDERING_DATA_TYPES}
CLOUDFORMATION = (*CLOUDFORMATION_INSTANCE_TYPES, *CLOUDFORMATION_LAUNCH_TYPES, *CLOUDFORMATION_ENVIRONMENT_TYPES)


def _hands_over(found: Origin, name: str, value: Any) -> bool:
    """An access key resource's ID or secret, or a literal under a credential name that is not a flag
    or a pointer to a store."""
    return found is Origin.ACCESS_KEY or (
        found is Origin.LITERAL and is_credential_name(name) and not is_placeholder_value(name, value))


def _as_written(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _literal_key_material(table: list[tuple[Path, str, Any]], text: Callable[[Any], str] = _as_written) -> dict[Path, str]:
    """Literal key material under any name (`STORAGE_KEY_ID`, `S3_KEY`), by path: "an access key ID",
    and, where the table holds one, "a secret access key" for a secret-shaped value beside it.

    The same judgement as rules 3 and 4 (detect/material.py): placeholders are not key IDs, and a
    neutral-named secret counts only beside a key ID. `text` flattens a value (CloudFormation: a `Ref`
    to a parameter by its default, `Fn::Sub` and `Fn::Join` joined).
    """
    texts = {path: text(value) for path, _, value in table}
    ids = {path for path, written in texts.items() if find_real_key_ids(written)}
    found = dict.fromkeys(ids, "an access key ID")
    if ids:
        for path, written in texts.items():
            if path not in ids and looks_like_secret_beside_key_id(written.strip()):
                found[path] = "a secret access key"
    return found


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    from keyless.lang.terraform import ACCESS_KEY_SECRET, origin, strings
    from keyless.lang.terraform_modules import secret_module_output
    from keyless.rules._compute_files import compute_file_findings, script_findings

    findings: list[Finding] = []
    flagged: set[Path] = set()
    flagged_texts: set[str] = set()
    table = list(terraform_environment(block, model))
    literal = _literal_key_material(table)
    for path, name, value in table:
        found = origin(value)
        if not _hands_over(found, name, value) and path not in literal:
            continue
        if found is Origin.ACCESS_KEY:
            secret = ACCESS_KEY_SECRET.search(str(value))
            what = (f"the {secret.group(2)} of an access key" if secret else "an access key ID") + \
                f" is passed to {block.address} as {name}"
        elif path in literal:
            what = f"{block.address} is given {literal[path]} as {name}"
        else:
            what = f"{block.address} sets credential variable {name}"
        findings.append(simple_finding(SLUG, block.address, path, f"{what} at {dotted(path)}"))
        flagged.add(path)
        flagged_texts.add(str(value))
    for in_buildspec in _buildspec(block.address, buildspec.terraform_variables(block), buildspec.terraform_commands(block)):
        findings.append(in_buildspec)
        flagged.add(in_buildspec.path)
    findings += compute_file_findings(block, model, flagged, _hands_over)
    findings += script_findings(block, model, flagged)
    for path, text in strings(block.config):
        if path not in flagged and text not in flagged_texts and (
                ACCESS_KEY_SECRET.search(text) or secret_module_output(text, block, model)):
            findings.append(simple_finding(SLUG, block.address, path,
                                           f"an access key secret is passed to {block.address} at {dotted(path)}"))
            flagged.add(path)
    return findings


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    findings: list[Finding] = []
    table = list(cloudformation_environment(name, tpl))
    literal = _literal_key_material(table, tpl.text)
    for path, var, value in table:
        found = tpl.origin(value)
        if _hands_over(found, var, value) or path in literal:
            what = (f"An access key is passed to {name}" if found is Origin.ACCESS_KEY
                    else f"{name} is given {literal[path]} as {var}" if path in literal
                    else f"{name} sets credential variable {var}")
            findings.append(simple_finding(SLUG, name, path, f"{what} at {dotted(path[3:])}"))
    user_data = cloudformation_user_data(name, tpl)
    if user_data is not None:
        path, value = user_data
        writes = find_credential_writes(tpl.text(value))
        if writes:
            findings.append(simple_finding(
                SLUG, name, path, f"UserData of {name} writes {writes[0].variable} ({writes[0].how}) with a hardcoded value"))
    findings += _buildspec(name, buildspec.cloudformation_variables(name, tpl), buildspec.cloudformation_commands(name, tpl))
    findings += _authentication(name, tpl)
    findings += [simple_finding(SLUG, name, w.path, f"{INIT} of {name} ({w.where}) writes {w.variable} from {w.source}")
                 for w in init_writes(name, tpl)]
    if not any(f.path[:3] == ("Resources", name, "Properties") for f in findings):
        where = _secret_reference_path(tpl, tpl.properties(name), ("Resources", name, "Properties"))
        if where is not None:
            findings.append(simple_finding(SLUG, name, where, f"An access key secret is passed to {name} at {dotted(where[3:])}"))
    return findings


def _buildspec(resource: str, variables: Iterable[buildspec.BuildspecVariable],
               commands: Iterable[buildspec.BuildspecCommands]) -> list[Finding]:
    """A CodeBuild inline buildspec's `env.variables` and the credentials its commands write."""
    findings = []
    for v in variables:
        if _hands_over(v.origin, v.name, v.value):
            what = (f"An access key is set as {v.name}" if v.origin is Origin.ACCESS_KEY
                    else f"Credential variable {v.name} is set")
            findings.append(simple_finding(
                SLUG, resource, v.path, f"{what} in the buildspec of {resource} at {_shown(v.path)} (env.variables)"))
    for c in commands:
        for write in find_credential_writes(c.text)[:1]:
            what = f"The buildspec of {resource} writes {write.variable} ({write.how}) with a hardcoded value"
            findings.append(simple_finding(SLUG, resource, c.path, f"{what} at {_shown(c.path)}"))
    return findings


def _shown(path: Path) -> str:
    """A path as people read it: from the resource's properties in CloudFormation, the block in Terraform."""
    return dotted(path[3:] if path[:1] == ("Resources",) else path)


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
