"""Findings shared by the Terraform and CloudFormation detectors, so both word them alike."""

from __future__ import annotations

from typing import Any

from keyless.detect.material import KeyMaterial
from keyless.detect.walk import find_key_material
from keyless.findings import Finding, Path, dotted, explain


def key_material_findings(
    resource: str, value: Any, path: Path = (), shown_path: Path | None = None, name: str = ""
) -> list[Finding]:
    """Rules 3 and 4 over every string under a value.

    `shown_path` is the path people read (relative to the block); `path` is where the value sits in
    the document, which cfn-lint needs to point at the line.
    """
    findings = []
    for where, material in find_key_material(value, path, name):
        shown = dotted(where[len(path) - len(shown_path):] if shown_path is not None else where)
        findings.append(material_finding(resource, where, shown, material))
    return findings


def material_finding(resource: str, where: Path, shown: str, material: KeyMaterial) -> Finding:
    if material.kind == "access-key-id":
        slug = "hardcoded-access-key-id"
        severity = "CRITICAL" if material.long_term else "HIGH"
    else:
        slug = "hardcoded-secret-access-key"
        severity = "CRITICAL"
    what = f"{material.describe()} is hardcoded at {shown or 'the top level'}"
    return Finding(
        slug=slug,
        resource=resource,
        path=where,
        message=explain(slug, what),
        evidence=material.masked,
        severity=severity,
        secrets=(material.value,),
        account_id=material.account_id,
        documentation_example=material.documentation_example,
    )


def compute_finding(resource: str, where: Path, what: str, evidence: str = "") -> Finding:
    return Finding(
        slug="credentials-in-compute",
        resource=resource,
        path=where,
        message=explain("credentials-in-compute", what),
        evidence=evidence,
    )


def simple_finding(slug: str, resource: str, where: Path, what: str) -> Finding:
    return Finding(slug=slug, resource=resource, path=where, message=explain(slug, what))
