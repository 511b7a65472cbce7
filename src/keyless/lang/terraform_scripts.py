"""The scripts and files a Terraform block hands to a machine, wherever they are written.

Rule 8 reads them for credential writes, and rules 3 and 4 for key material a block only references:

- user data of instances, launch templates and configurations, and Lightsail instances, written
  inline, read from a file (`file`, `filebase64`, `templatefile`), or rendered by a
  `template_file` or `cloudinit_config` data source (`data.template_file.x.rendered`);
- provisioners: `remote-exec` inline commands and script files, and what a `file` provisioner
  uploads (its `content`, or its `source` file);
- a `template_file` or `cloudinit_config` data source's own text, for when no compute uses it.

Each script keeps where it is handed over in the block (`path`) and, when it comes from a file, that
file with its lines (`source`), so a finding points at the line where the credential is written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from keyless.detect.userdata import CredentialWrite, _is_literal, find_credential_writes, iter_assignments
from keyless.detect.values import Origin
from keyless.detect.walk import Path
from keyless.findings import Finding
from keyless.lang.environment import LIGHTSAIL_TYPES, RENDERING_DATA_TYPES
from keyless.lang.terraform import Block, TerraformModel, nested_blocks, origin, user_data_texts
from keyless.lang.terraform_files import ReferencedText, referenced_texts, render_line, written_config

USER_DATA_ATTRIBUTES = ("user_data", "user_data_base64")
_DATA_REFERENCE = re.compile(r"\bdata\.(template_file|cloudinit_config)\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.rendered\b")


@dataclass(frozen=True)
class Script:
    path: Path  # where the block hands it over (user_data, provisioner[0].remote-exec.inline)
    label: str  # how a message names it
    text: str
    source: ReferencedText | None = None  # the file it is read from, for the line
    via: str = ""  # the data source that renders it, when one does


def scripts(block: Block, model: TerraformModel | None, user_data_types: tuple[str, ...]) -> list[Script]:
    """Every script a block hands over: user data (for `user_data_types` and Lightsail), provisioners,
    and for a rendering data source its own text."""
    found: list[Script] = []
    files = referenced_texts(block, model) if block.kind in ("resource", "data") else []
    if block.kind == "resource" and block.type in (*user_data_types, *LIGHTSAIL_TYPES):
        found += _user_data(block, model, files)
    if block.kind == "resource":
        found += _provisioners(block, files)
    if block.kind == "data" and block.type in RENDERING_DATA_TYPES:
        found += rendered_by(block, model, block.tree, files)
    return found


def _user_data(block: Block, model: TerraformModel | None, files: list[ReferencedText]) -> list[Script]:
    found = [Script((attr,), attr, text) for attr, text in user_data_texts(block, model)]
    found += [Script(f.path, str(f.path[0]), f.text, f) for f in files if f.path and f.path[0] in USER_DATA_ATTRIBUTES]
    for attr in USER_DATA_ATTRIBUTES:
        value = block.config.get(attr)
        for data in used_data_sources(block, model, value if isinstance(value, str) else ""):
            for script in rendered_by(data, model, block.tree):
                found.append(Script((attr,), attr, script.text, script.source, data.address))
    return found


def used_data_sources(block: Block, model: TerraformModel | None, text: str) -> Iterator[Block]:
    """The template_file and cloudinit_config data sources of the block's module that `text` renders."""
    if model is None or not text:
        return
    for match in _DATA_REFERENCE.finditer(text):
        for other in model.in_scope(block):
            if other.kind == "data" and other.type == match.group(1) and other.name == match.group(2):
                yield other
                break


def is_used(data: Block, model: TerraformModel | None, user_data_types: tuple[str, ...]) -> bool:
    """Whether a compute resource of the data source's module hands its rendering over as user data."""
    if model is None:
        return False
    for other in model.in_scope(data):
        if other.kind == "resource" and other.type in (*user_data_types, *LIGHTSAIL_TYPES):
            for attr in USER_DATA_ATTRIBUTES:
                value = other.config.get(attr)
                if isinstance(value, str) and any(d is data or d.address == data.address
                                                  for d in used_data_sources(other, model, value)):
                    return True
    return False


def rendered_by(data: Block, model: TerraformModel | None, tree: str = "",
                files: list[ReferencedText] | None = None) -> list[Script]:
    """What a template_file (its template, `vars` substituted where literal) or a cloudinit_config
    (each part's content) renders."""
    files = referenced_texts(data, model, tree) if files is None else files
    by_path = {f.path: f for f in files}
    config = data.config
    found: list[Script] = []
    if data.type == "template_file":
        variables = {k: v for k, v in _scalars(config.get("vars")).items()}
        source = by_path.get(("template",))
        if source is not None and source.function == "file":
            lines = tuple(render_line(line, variables) for line in source.lines)
            source = ReferencedText(source.path, source.file, source.function, lines, source.lines)
            found.append(Script(("template",), "template", source.text, source))
        elif isinstance(config.get("template"), str) and source is None:
            found.append(Script(("template",), "template", render_line(config["template"], variables)))
    elif data.type == "cloudinit_config":
        parts = nested_blocks(config, "part")
        for i, part in enumerate(parts):
            path: Path = ("part", i, "content") if len(parts) > 1 else ("part", "content")
            source = by_path.get(path)
            if source is not None:
                found.append(Script(path, f"part {i}", source.text, source))
            elif isinstance(part.get("content"), str):
                found.append(Script(path, f"part {i}", part["content"]))
    return found


_UNRENDERED_CALL = re.compile(r"^\s*(?:\$\{)?\s*[a-z][a-z0-9_]*\(.*\)\s*\}?\s*$", re.DOTALL)  # file("~/x") as checkov left it


def _scalars(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    out = {}
    for name, item in value.items():
        if isinstance(item, bool):
            out[str(name)] = "true" if item else "false"
        elif isinstance(item, (int, float)) or (isinstance(item, str) and origin(item) is Origin.LITERAL
                                                 and not _UNRENDERED_CALL.match(item)):
            out[str(name)] = str(item)
    return out


def _provisioners(block: Block, files: list[ReferencedText]) -> list[Script]:
    """remote-exec commands and scripts, and what file provisioners upload."""
    config = written_config(block) or block.config
    found: list[Script] = []
    provisioners = config.get("provisioner")
    entries = provisioners if isinstance(provisioners, list) else [provisioners] if isinstance(provisioners, Mapping) else []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue
        for kind, body in entry.items():
            if not isinstance(body, Mapping):
                continue
            base: Path = ("provisioner", i, kind) if len(entries) > 1 else ("provisioner", kind)
            if kind == "remote-exec" and body.get("inline") is not None:
                inline = body["inline"]
                lines = inline if isinstance(inline, list) else [inline]
                found.append(Script((*base, "inline"), "remote-exec provisioner",
                                    "\n".join(str(line) for line in lines)))
            elif kind == "file" and isinstance(body.get("content"), str):
                found.append(Script((*base, "content"), _upload_label(body), body["content"]))
            for source in files:
                if source.path[:len(base)] == base:
                    label = "remote-exec provisioner script" if kind == "remote-exec" else _upload_label(body)
                    found.append(Script(source.path, label, source.text, source))
    return found


def _upload_label(body: Mapping[str, Any]) -> str:
    destination = body.get("destination")
    return f"file provisioner to {destination}" if isinstance(destination, str) else "file provisioner"


def first_write(text: str) -> tuple[CredentialWrite, int | None] | None:
    """The first credential write with a literal value in a script, and its offset (None when it is
    found only in the script's base64 decoding)."""
    for assignment in iter_assignments(text):
        if _is_literal(assignment.value):
            return CredentialWrite(assignment.variable, assignment.how), assignment.start
    writes = find_credential_writes(text)
    return (writes[0], None) if writes else None


def placed_at(finding: Finding, block: Block, where: tuple[str, int]) -> Finding:
    """A finding on `block` whose value is written at `where` (another file, or another block)."""
    shown = f"{os.path.relpath(where[0], os.path.dirname(block.file) or '.')}:{where[1]}"
    head, _, tail = finding.message.partition(". ")
    return replace(finding, written_at=where, message=f"{head} (written at {shown}). {tail}")
