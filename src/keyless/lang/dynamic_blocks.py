"""Terraform `dynamic` blocks judged by their content, with `for_each` resolved where it is known.

checkov renders a `dynamic "setting"` block as one `setting` whose values are the unresolved iterator
references (`setting.key`, `setting.value`) and drops `for_each`, so a key written in a literal
`for_each`, or in the local or variable default it names, is invisible in the rendering. The block's
own source is read again (with the HCL parser checkov ships) and each instance is built:

- `for_each` a literal map or list, `local.NAME`, or `var.NAME` (its default, the documented rule for
  values that cannot be known offline): one instance per element, `<iterator>.key`, `.value`,
  `.value.FIELD` and `.value["FIELD"]` substituted;
- anything else (a condition, a function call, a variable without default): one instance, the content
  as written.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from stat import S_ISREG
from typing import Any

from keyless.lang.terraform import Block, TerraformModel, _lookup, unwrap
from keyless.lang.terraform_source import _file_lines

log = logging.getLogger(__name__)

_SCOPE_REFERENCE = re.compile(r"^\$\{\s*(local|var)\.([A-Za-z0-9_-]+)\s*\}$")
_ITERATOR_REFERENCE = re.compile(r'^\$\{\s*(\w+)\.(key|value)(?:\.(\w+)|\[\s*"([^"]+)"\s*\])?\s*\}$')
_DYNAMIC = re.compile(r'^\s*dynamic\s+"', re.MULTILINE)


def dynamic_blocks(block: Block) -> list[tuple[str, Mapping[str, Any]]]:
    """(block name, body as written: for_each, iterator, content) of each `dynamic` block, unwrapped."""
    start, end = block.lines
    if "dynamic" not in block.rendered or not block.file or start < 1 or end < start:
        return []  # engines keep a `dynamic` key where the block has one: most blocks cost nothing here
    try:
        stat = os.stat(block.file)
    except OSError:
        return []
    if not S_ISREG(stat.st_mode):
        return []
    parsed = _parse(block.file, stat.st_mtime_ns, stat.st_size, start, end)
    found: list[tuple[str, Mapping[str, Any]]] = []
    for body in _find_dynamic(parsed):
        for name, spec in body.items():
            if isinstance(name, str) and isinstance(spec, Mapping):
                found.append((name, unwrap(spec)))
    return found


@lru_cache(maxsize=256)
def _parse(file: str, mtime: int, size: int, start: int, end: int) -> Any:
    try:
        text = "".join(_file_lines(file, mtime, size)[start - 1:end])
        if not _DYNAMIC.search(text):
            return None
        import hcl2

        return hcl2.loads(text + "\n")
    except Exception as error:  # the engine read it; the rendering stays the only view
        log.debug("keyless cannot re-read the dynamic blocks of %s:%d-%d: %s", file, start, end, error)
        return None


def _find_dynamic(parsed: Any) -> Iterator[Mapping[str, Any]]:
    """The `dynamic` entries of the one block in a parse (resource > type > name > body)."""
    if not isinstance(parsed, Mapping):
        return
    for entries in parsed.values():
        for entry in entries if isinstance(entries, list) else ():
            for by_type in entry.values() if isinstance(entry, Mapping) else ():
                bodies = by_type.values() if isinstance(by_type, Mapping) else ()
                for body in bodies:
                    dynamic = body.get("dynamic") if isinstance(body, Mapping) else None
                    for item in dynamic if isinstance(dynamic, list) else ():
                        if isinstance(item, Mapping):
                            yield item


def literal_for_each(block: Block) -> dict[str, Any]:
    """`{"dynamic": {name: {"for_each": value}}}` for each `for_each` written as a literal collection:
    what rules 3 and 4 read, since the rendering drops it."""
    found = {name: {"for_each": spec["for_each"]} for name, spec in dynamic_blocks(block)
             if isinstance(spec.get("for_each"), (Mapping, list))}
    return {"dynamic": found} if found else {}


def instances(block: Block, model: TerraformModel | None, name: str) -> list[dict[str, Any]]:
    """The content of each instance of `dynamic "<name>"` in a block, resolved as far as is known."""
    out: list[dict[str, Any]] = []
    for block_name, spec in dynamic_blocks(block):
        content = spec.get("content")
        if block_name != name or not isinstance(content, Mapping):
            continue
        written_iterator = spec.get("iterator")  # the parser gives `iterator = env` as "${env}"
        iterator = written_iterator.strip("${} ") if isinstance(written_iterator, str) else name
        collection = _collection(spec.get("for_each"), block, model)
        if collection is None:
            out.append(dict(content))
            continue
        for key, value in collection:
            out.append({field: _substituted(written, iterator, key, value) for field, written in content.items()})
    return out


def _collection(for_each: Any, block: Block, model: TerraformModel | None) -> list[tuple[Any, Any]] | None:
    if isinstance(for_each, str) and model is not None:
        reference = _SCOPE_REFERENCE.match(for_each.strip())
        for_each = _lookup(model, block, *reference.groups()) if reference else None
    if isinstance(for_each, Mapping):
        return list(for_each.items())
    if isinstance(for_each, list):
        return list(enumerate(for_each))
    return None


def _substituted(written: Any, iterator: str, key: Any, value: Any) -> Any:
    if not isinstance(written, str):
        return written
    reference = _ITERATOR_REFERENCE.match(written.strip())
    if reference is None or reference.group(1) != iterator:
        return written
    if reference.group(2) == "key":
        return str(key)
    field = reference.group(3) or reference.group(4)
    if field is None:
        return value
    return value.get(field, written) if isinstance(value, Mapping) else written
