"""The one scan for key material that rules 3 (key IDs) and 4 (secrets and tokens) share.

Both rules judge every string of every entity; each keeps its own kind of finding from one scan,
remembered for the entity or template last scanned (the engines ask for all rules of one entity in
a row). The Terraform scan lives in `_key_material_terraform`, imported on the first block judged:
cfn-lint in the editor imports keyless per template, and Terraform helpers load only when a Terraform
block is judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from keyless.detect.walk import Path, find_key_material
from keyless.findings import Finding, dotted, key_material_findings, material_finding
from keyless.lang.cloudformation import TEMPLATE_SECTIONS, Template

if TYPE_CHECKING:
    from keyless.lang.terraform import Block, TerraformModel

_last_block: tuple[Any, Any, list[Finding]] = (None, None, [])
_last_template: tuple[Any, list[Finding]] = (None, [])


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    global _last_block
    if _last_block[0] is not block or _last_block[1] is not model:
        from keyless.rules._key_material_terraform import scan_block  # Terraform only (module docstring)

        _last_block = (block, model, scan_block(block, model))
    return _last_block[2]


def cloudformation(tpl: Template) -> list[Finding]:
    global _last_template
    if _last_template[0] is not tpl:
        _last_template = (tpl, _scan_template(tpl))
    return _last_template[1]


def _scan_template(tpl: Template) -> list[Finding]:
    """Key material in every resource, in the template's other sections and its Description, and
    across the parts of Fn::Join and Fn::Sub.

    A value outside Resources is named by where it is written (`Parameters.DeployKeyId`, what cfn-lint
    and the audit report); checkov, which reports resources only, reports a parameter's value on the
    resources that use the parameter, and template-level text (an unused parameter, Mappings, Outputs,
    Metadata, the Description) on the template's first resource, the only entity that stands for the
    template.
    """
    findings: list[Finding] = []
    for name, res in tpl.resources.items():
        findings += key_material_findings(name, res.get("Properties"), ("Resources", name, "Properties"), ())
        findings += key_material_findings(name, res.get("Metadata"), ("Resources", name, "Metadata"), ("Metadata",))
    if tpl.first_resource:
        for section in TEMPLATE_SECTIONS:
            findings += _section_findings(tpl, section, tpl.raw.get(section))
    # A joined secret already reported in the same resource, or at a parameter default that the
    # join pulled in, is not reported twice.
    reported = {(f.resource if f.path[0] == "Resources" else "", s) for f in findings for s in f.secrets}
    for name, res in tpl.resources.items():
        for part in ("Properties", "Metadata"):
            findings += [f for f in _joined_findings(name, res.get(part), ("Resources", name, part), tpl)
                         if not any((name, s) in reported or ("", s) in reported for s in f.secrets)]
    return [f for f in findings if not _is_logical_id(f, tpl.raw)]


def _joined_findings(resource: str, value: Any, path: Path, tpl: Template, name: str = "") -> list[Finding]:
    """Secrets across the parts of Fn::Join and Fn::Sub.

    `aws_secret_access_key=` and the secret, or a key ID and its secret, may sit in different parts;
    each part alone is a bare string. Key IDs need no context and are found part by part.
    """
    found: list[Finding] = []
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("Fn::Join", "Fn::Sub"):
        for where, material in find_key_material(tpl.text(value), path, name):
            if material.kind != "access-key-id":
                found.append(material_finding(resource, where, dotted(where[3:]), material))
        return found
    items = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        label = name if isinstance(key, int) or str(key).startswith("Fn::") else str(key)
        found += _joined_findings(resource, item, (*path, key), tpl, label)
    return found


def _is_logical_id(finding: Finding, template: Mapping[str, Any]) -> bool:
    """A 40-character "secret" that names a resource, parameter or output is a long logical ID."""
    if finding.slug != "hardcoded-secret-access-key" or not finding.secrets:
        return False
    names: set[str] = set()
    for section in ("Resources", "Parameters", "Outputs", "Conditions", "Mappings"):
        entries = template.get(section)
        names |= {str(n) for n in entries} if isinstance(entries, Mapping) else set()
    return all(secret in names for secret in finding.secrets)


# The entry of a Parameter or an Output whose name is the entry's own name: `Parameters:
# DeployerSecretAccessKey: Default: ...` is a secret under a credential name.
_NAMED_ENTRY_VALUE = {"Parameters": "Default", "Outputs": "Value"}


def _section_findings(tpl: Template, section: str, value: Any) -> list[Finding]:
    value_key = _NAMED_ENTRY_VALUE.get(section)
    if value_key is None or not isinstance(value, Mapping):
        return _outside(tpl, section, "", key_material_findings(section, value, (section,), (section,)))
    findings: list[Finding] = []
    for entry, body in value.items():
        label = f"{section}.{entry}"
        if not isinstance(body, Mapping):
            findings += _outside(tpl, section, entry, key_material_findings(label, body, (section, entry), (section, entry)))
            continue
        for key, item in body.items():
            if key == value_key:
                path: Path = (section, entry, key)
                found = key_material_findings(label, item, path, path, name=str(entry))
            else:
                found = key_material_findings(label, {key: item}, (section, entry), (section, entry))
            findings += _outside(tpl, section, entry, found)
    return findings


def _outside(tpl: Template, section: str, entry: Any, findings: list[Finding]) -> list[Finding]:
    """Findings outside Resources, with the resources checkov reports them on (see `_scan_template`)."""
    if not findings:
        return findings
    users = tpl.users_of(entry) if section == "Parameters" and isinstance(entry, str) else []
    reported_on = tuple(users) or (tpl.first_resource,)
    return [replace(f, reported_on=reported_on) for f in findings]
