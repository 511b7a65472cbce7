"""Rules 3 and 4 over text a Terraform block only references: files it reads (`file`, `filebase64`,
`templatefile`, provisioner scripts) and the user data a `template_file` or `cloudinit_config` data
source renders for it. The finding is on the block, placed where the key is written."""

from __future__ import annotations

from keyless.detect.walk import Path
from keyless.findings import Finding, key_material_findings
from keyless.lang.environment import LIGHTSAIL_TYPES, TERRAFORM_USER_DATA_TYPES
from keyless.lang.terraform import Block, TerraformModel
from keyless.lang.terraform_files import ReferencedText, block_lines, referenced_texts
from keyless.lang.terraform_scripts import USER_DATA_ATTRIBUTES, placed_at, rendered_by, used_data_sources
from keyless.lang.terraform_source import written_at


def referenced_key_material(block: Block, model: TerraformModel | None, seen: set[str]) -> list[Finding]:
    """Key material in what the block references and not already found in its own values (`seen`)."""
    if block.kind not in ("resource", "data"):
        return []
    findings: list[Finding] = []
    sources: list[tuple[Path, str, ReferencedText | Block]] = [(f.path, f.text, f) for f in referenced_texts(block, model)]
    if block.kind == "resource" and block.type in (*TERRAFORM_USER_DATA_TYPES, *LIGHTSAIL_TYPES):
        for attr in USER_DATA_ATTRIBUTES:
            value = block.config.get(attr)
            for data in used_data_sources(block, model, value if isinstance(value, str) else ""):
                sources += [((attr,), s.text, s.source or data) for s in rendered_by(data, model, block.tree)]
    for path, text, origin in sources:
        name = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
        for finding in key_material_findings(block.address, text, path, name=name):
            if seen.issuperset(finding.secrets):
                continue
            seen.update(finding.secrets)
            findings.append(_place(finding, block, origin))
    return findings


def _place(finding: Finding, block: Block, origin: ReferencedText | Block) -> Finding:
    secret = finding.secrets[0] if finding.secrets else ""
    if isinstance(origin, Block):  # text of a data source: its own lines, else where its module writes the key
        own = next((i for i, line in enumerate(block_lines(origin), start=origin.lines[0]) if secret and secret in line), None)
        where = (origin.file, own) if own else written_at(origin.file, (0, 0), secret) if secret else None
        return placed_at(finding, block, where) if where else finding
    line = origin.line_holding(secret) if secret else None
    if line is not None:
        return placed_at(finding, block, (origin.file, line))
    where = written_at(block.file, block.lines, secret) if secret else None  # a template variable's value
    return placed_at(finding, block, where) if where else finding
