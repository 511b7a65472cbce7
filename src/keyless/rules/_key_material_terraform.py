"""Rules 3 and 4 over one Terraform block: the Terraform half of `_key_material`.

A module of its own so the CloudFormation path never loads it (nor the Terraform modules it reads):
`_key_material.terraform` imports it on the first Terraform block judged.
"""

from __future__ import annotations

import os
from dataclasses import replace

from keyless.findings import Finding, key_material_findings
from keyless.lang.dynamic_blocks import literal_for_each
from keyless.lang.terraform import Block, TerraformModel, user_data_texts
from keyless.lang.terraform_source import written_at
from keyless.rules._key_material_text import comment_findings
from keyless.rules._referenced_material import referenced_key_material


def scan_block(block: Block, model: TerraformModel | None) -> list[Finding]:
    findings = key_material_findings(block.address, block.config)
    seen = {s for f in findings for s in f.secrets}
    if block.config is not block.rendered:
        # What the engine substituted into a value the block's own text overrides (a variable default
        # inside an evaluated string) is still key material written in the tree.
        findings += [f for f in key_material_findings(block.address, block.rendered) if not seen.issuperset(f.secrets)]
        seen = {s for f in findings for s in f.secrets}
    for attr, text in user_data_texts(block, model):
        if text != block.config.get(attr):  # a script looked up behind base64encode(local.x)
            findings += [f for f in key_material_findings(block.address, {attr: text}) if not seen.issuperset(f.secrets)]
    written_for_each = literal_for_each(block)  # `dynamic` blocks: the rendering drops for_each
    if written_for_each:
        findings += [f for f in key_material_findings(block.address, written_for_each) if not seen.issuperset(f.secrets)]
    # checkov renders a `dynamic` block's literal content twice (under `dynamic` and as the block itself)
    outside_dynamic = {s for f in findings if f.path[:1] != ("dynamic",) for s in f.secrets}
    findings = [f for f in findings if f.path[:1] != ("dynamic",) or not outside_dynamic.issuperset(f.secrets)]
    placed = [_placed(f, block) for f in findings]
    seen = {s for f in findings for s in f.secrets}
    placed += referenced_key_material(block, model, seen)
    # A commented-out line inside the block (`# secret_key = "..."`) is the block's finding, at its line.
    return placed + comment_findings(block.address, block.file, block.lines, seen | {s for f in placed for s in f.secrets})


def _placed(finding: Finding, block: Block) -> Finding:
    """A key the block received from elsewhere in its module (a variable default, tfvars, a local) is
    reported where it is written, the block that uses it named in the message."""
    where = written_at(block.file, block.lines, finding.secrets[0]) if finding.secrets else None
    if where is None:
        return finding
    shown = f"{os.path.relpath(where[0], os.path.dirname(block.file))}:{where[1]}"
    head, _, tail = finding.message.partition(". ")
    return replace(finding, written_at=where, message=f"{head} (written at {shown}). {tail}")
