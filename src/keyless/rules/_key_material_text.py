"""Rules 3 and 4 on Terraform text that checkov never hands a check.

checkov checks resources, data sources, providers and module calls. A key can also be written in a
comment (a commented-out provider), a variable default nobody uses, a local, an output, a
`terraform { backend "s3" {...} }` block, or a `-var-file` such as `envs/prod.tfvars`. The same
detectors judge those values (the HCL parser checkov ships reads each block), and each finding is
placed at its file and line:

- a comment inside a checkov entity is that entity's finding, in every path (`comment_findings`);
- everything else is reported by the audit only, named by where it is written (`var.x`, `local.x`,
  `output.x`, `terraform.backend.s3`, `comment`, or `var.x` for a tfvars value), with the blocks
  that use it (`text_findings`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from keyless.detect.material import SECRET_CANDIDATE, KeyMaterial, find_key_ids
from keyless.detect.walk import Path, find_key_material
from keyless.findings import Finding, dotted, material_finding
from keyless.lang.terraform import unwrap
from keyless.lang.terraform_text import Comment, TerraformText, TopBlock, read

log = logging.getLogger(__name__)

# The blocks checkov hands checks: keys in them are found by the checks themselves.
CHECKOV_ENTITIES = frozenset({"resource", "data", "provider", "module"})
TFVARS_SUFFIXES = (".tfvars", ".tfvars.json")


def may_hold_key_material(text: str) -> bool:
    """A cheap first look: a key ID, or a 40-character run a secret could be."""
    return bool(find_key_ids(text)) or SECRET_CANDIDATE.search(text) is not None


# --- comments inside checkov's entities ----------------------------------------------------------


def comment_findings(resource: str, file: str, lines: tuple[int, int], seen: Iterable[str] = ()) -> list[Finding]:
    """Key material in the comments between a block's first and last line, each at its own line."""
    if not file:
        return []
    start, end = lines
    known = set(seen)
    found = []
    for line, material in _comment_material(file):
        if start <= line <= end and material.value not in known:
            known.add(material.value)
            found.append(_comment_finding(resource, file, line, material))
    return found


def _comment_finding(resource: str, file: str, line: int, material: KeyMaterial) -> Finding:
    finding = material_finding(resource, ("comment",), f"a comment (line {line})", material)
    return replace(finding, written_at=(file, line))


def _comment_material(file: str) -> list[tuple[int, KeyMaterial]]:
    try:
        stat = os.stat(file)
    except OSError:
        return []
    return _file_comment_material(file, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _file_comment_material(file: str, _mtime: int, _size: int) -> list[tuple[int, KeyMaterial]]:
    text = _read(file)
    if not text or not may_hold_key_material(text):
        return []
    return list(_material_in_comments(read(text).comments))


def _material_in_comments(comments: list[Comment]) -> Iterable[tuple[int, KeyMaterial]]:
    """Consecutive line comments are read as one text (`# access_key = ...` above `# secret_key = ...`)."""
    for group in _groups(comments):
        text = "\n".join(c.text for c in group)
        for _, material in find_key_material(text):
            line = next((c.line + c.text[:c.text.find(material.value)].count("\n")
                         for c in group if material.value in c.text), group[0].line)
            yield line, material


def _groups(comments: list[Comment]) -> Iterable[list[Comment]]:
    group: list[Comment] = []
    for comment in comments:
        if group and comment.line != group[-1].line + 1 + group[-1].text.count("\n"):
            yield group
            group = []
        group.append(comment)
    if group:
        yield group


# --- the audit's pass over Terraform text ----------------------------------------------------------


def text_findings(file: str, module_files: list[str]) -> list[Finding]:
    """Key material in a .tf or tfvars file outside checkov's entities, at its line.

    `module_files` are the .tf files of the module the file belongs to (for a tfvars file, the root
    it is written for): the blocks that use a variable or local are named from them.
    """
    text = _read(file)
    if not text or not may_hold_key_material(text):
        return []
    try:
        if file.endswith(TFVARS_SUFFIXES):
            return _tfvars_findings(file, text, module_files)
        return _tf_findings(file, text, module_files)
    except Exception:  # one unreadable file never stops the audit; checkov reports parse errors itself
        log.debug("keyless cannot read %s as Terraform text", file, exc_info=True)
        return []


def _tf_findings(file: str, text: str, module_files: list[str]) -> list[Finding]:
    lines = text.splitlines()
    parsed = read(text)
    findings: list[Finding] = []
    for block in parsed.blocks:
        if block.kind in CHECKOV_ENTITIES:
            continue
        body = "\n".join(lines[block.start - 1:block.end])
        if may_hold_key_material(body):
            findings += _block_findings(file, block, body, lines, module_files)
    for line, material in _material_in_comments(parsed.comments):
        holder = parsed.block_at(line)
        if holder is not None and holder.kind in CHECKOV_ENTITIES:
            continue  # checkov's own finding for that entity (`comment_findings`)
        findings.append(_comment_finding(holder.address if holder else "comment", file, line, material))
    return findings


def _block_findings(file: str, block: TopBlock, body: str, lines: list[str], module_files: list[str]) -> list[Finding]:
    import hcl2

    try:
        parsed = hcl2.loads(body + "\n")
    except Exception as error:
        log.debug("keyless cannot parse %s:%d: %s", file, block.start, error)
        return []
    entries = parsed.get(block.kind) if isinstance(parsed, dict) else None
    found: list[Finding] = []
    for entry in entries if isinstance(entries, list) else ():
        value = unwrap(entry)
        if block.kind == "locals":
            for name, item in (value.items() if isinstance(value, dict) else ()):
                found += _value_findings(file, f"local.{name}", item, ("local", name), lines, block, module_files)
        elif block.kind in ("variable", "output") and block.labels and isinstance(value, dict):
            # A variable's default and an output's value are named by the variable or output itself.
            name = block.labels[0]
            body = value.get(name, value)
            held = "default" if block.kind == "variable" else "value"
            for key, item in (body.items() if isinstance(body, dict) else ()):
                found += _value_findings(file, block.address, item, (block.kind, name, key), lines, block,
                                         module_files, label=name if key == held else str(key))
        else:
            found += _value_findings(file, block.address, value, (block.kind, *block.labels), lines, block, [])
    return found


def _value_findings(file: str, resource: str, value: Any, path: Path, lines: list[str], block: TopBlock,
                    module_files: list[str], label: str | None = None) -> list[Finding]:
    findings = []
    name = str(path[-1]) if label is None else label
    for where, material in find_key_material(value, path, name):
        line = next((n for n in range(block.start, block.end + 1) if material.value in lines[n - 1]), block.start)
        findings.append(_placed(material_finding(resource, where, dotted(where), material), file, line,
                                _users(resource, module_files)))
    return findings


def _tfvars_findings(file: str, text: str, module_files: list[str]) -> list[Finding]:
    if file.endswith(".json"):
        import json

        values = json.loads(text)
    else:
        import hcl2

        values = unwrap(hcl2.loads(text + "\n"))
    lines = text.splitlines()
    findings = []
    for name, value in (values.items() if isinstance(values, dict) else ()):
        for where, material in find_key_material(value, (str(name),), str(name)):
            line = next((n for n, t in enumerate(lines, start=1) if material.value in t), 1)
            variable = f"var.{name}"
            finding = material_finding(variable, where, f"{dotted(where)} in {os.path.basename(file)}", material)
            findings.append(_placed(finding, file, line, _users(variable, module_files), tfvars=True))
    for line, material in _material_in_comments(read(text).comments):
        findings.append(_comment_finding("comment", file, line, material))
    return findings


def _placed(finding: Finding, file: str, line: int, users: list[str], tfvars: bool = False) -> Finding:
    if tfvars:
        used = f"sets variable {finding.resource.removeprefix('var.')}"
        used += f", used by {', '.join(users)}" if users else ", which no block of its root uses"
    elif finding.resource.startswith(("var.", "local.")):
        used = f"used by {', '.join(users)}" if users else "not used by any block"
    else:
        return replace(finding, written_at=(file, line))
    head, _, tail = finding.message.partition(". ")
    return replace(finding, written_at=(file, line), message=f"{head} ({used}). {tail}")


def _users(name: str, module_files: list[str]) -> list[str]:
    """The blocks of a module that refer to `var.x` or `local.x`."""
    if not name.startswith(("var.", "local.")):
        return []
    reference = re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w-])")
    users: list[str] = []
    for path in module_files:
        text, lines, blocks = _blocks_of(path)
        if name not in text:
            continue
        for block in blocks:
            if block.address != name and any(reference.search(t) for t in lines[block.start - 1:block.end]):
                users.append(block.address)
    return sorted(set(users))


def _blocks_of(path: str) -> tuple[str, list[str], list[TopBlock]]:
    try:
        stat = os.stat(path)
    except OSError:
        return "", [], []
    return _cached_blocks(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _cached_blocks(path: str, _mtime: int, _size: int) -> tuple[str, list[str], list[TopBlock]]:
    text = _read(path)
    return text, text.splitlines(), read(text).blocks if text else []


def _read(file: str) -> str:
    try:
        with open(file, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def root_of(folder: str, terraform_dirs: set[str]) -> str:
    """The folder a tfvars file is written for: its own if it holds .tf files, else the nearest above
    that does (`envs/prod.tfvars` beside a root's main.tf), else its own."""
    probe = folder
    while probe not in terraform_dirs and probe not in ("", ".", os.sep):
        probe = os.path.dirname(probe) or "."
    return probe if probe in terraform_dirs else folder


__all__ = ["CHECKOV_ENTITIES", "TerraformText", "comment_findings",
           "root_of", "text_findings"]
