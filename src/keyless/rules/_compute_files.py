"""Rule 8 over what a Terraform block hands a machine from scripts and other files.

Credential writes in user data (inline, from files, or rendered by a `template_file` or
`cloudinit_config` data source), in provisioners, and environment variables of task and job
definitions read from a file. A `template_file` or `cloudinit_config` data source is reported on
itself only when no compute resource of its module uses it (the resource is reported instead).

Terraform only: `credentials_in_compute.terraform` imports it, so CloudFormation never loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keyless.detect.values import Origin
from keyless.detect.walk import Path
from keyless.findings import Finding, dotted, simple_finding
from keyless.lang.environment import TERRAFORM_USER_DATA_TYPES, terraform_environment
from keyless.lang.terraform import Block, TerraformModel, origin
from keyless.lang.terraform_files import credentials_file_reads, referenced_texts
from keyless.lang.terraform_scripts import USER_DATA_ATTRIBUTES, first_write, is_used, placed_at, scripts, used_data_sources

SLUG = "credentials-in-compute"
_JSON_ATTRIBUTES = ("container_definitions", "container_properties")  # ECS task, Batch job definitions


def script_findings(block: Block, model: TerraformModel | None, flagged: set[Path]) -> list[Finding]:
    """The first credential write of each script the block hands over."""
    if block.kind == "data" and is_used(block, model, TERRAFORM_USER_DATA_TYPES):
        return []  # reported on the compute resource that uses it
    findings = []
    for script in scripts(block, model, TERRAFORM_USER_DATA_TYPES):
        if script.path in flagged:
            continue
        found = first_write(script.text)
        if found is None:
            continue
        write, offset = found
        writes = f"writes {write.variable} ({write.how}) with a hardcoded value"
        if script.path[0] in ("user_data", "user_data_base64") and block.kind == "resource":
            via = f" (rendered by {script.via})" if script.via else ""
            what = f"{script.path[0]} of {block.address}{via} {writes}"
        else:
            what = f"the {script.label} of {block.address} {writes} at {dotted(script.path)}"
        finding = simple_finding(SLUG, block.address, script.path, what)
        if script.source is not None:
            line = script.source.line_at(offset) if offset is not None else 1
            finding = placed_at(finding, block, (script.source.file, line))
        findings.append(finding)
        flagged.add(script.path)
    for path, written in _credentials_file_reads(block, model):
        if path not in flagged:
            findings.append(simple_finding(SLUG, block.address, path,
                                           f"{block.address} hands over the AWS credentials file {written} at {dotted(path)}"))
            flagged.add(path)
    return findings


def _credentials_file_reads(block: Block, model: TerraformModel | None) -> list[tuple[Path, str]]:
    """Reads of a shared credentials file in the block, or in a data source whose rendering it uses as
    user data."""
    found = credentials_file_reads(block)
    if block.kind == "resource":
        for attr in USER_DATA_ATTRIBUTES:
            value = block.config.get(attr)
            for data in used_data_sources(block, model, value if isinstance(value, str) else ""):
                found += [((attr,), written) for _, written in credentials_file_reads(data)]
    return found


def compute_file_findings(block: Block, model: TerraformModel | None, flagged: set[Path],
                          hands_over: Callable[[Origin, str, Any], bool]) -> list[Finding]:
    """Environment variables of container definitions read from a file (`file`, `templatefile`)."""
    if block.kind != "resource" or block.type not in ("aws_ecs_task_definition", "aws_batch_job_definition"):
        return []
    findings = []
    for source in referenced_texts(block, model):
        if source.path not in {(a,) for a in _JSON_ATTRIBUTES}:
            continue
        as_read = Block(kind=block.kind, type=block.type, name=block.name, address=block.address,
                        rendered={str(source.path[0]): source.text})
        for path, name, value in terraform_environment(as_read):
            if path in flagged or not hands_over(origin(value), name, value):
                continue
            finding = simple_finding(SLUG, block.address, path,
                                     f"{block.address} sets credential variable {name} at {dotted(path)}")
            line = source.line_holding(str(value)) or source.line_holding(name) or 1
            findings.append(placed_at(finding, block, (source.file, line)))
            flagged.add(path)
    return findings
