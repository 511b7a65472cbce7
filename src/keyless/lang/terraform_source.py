"""A Terraform block's values as written in its file, to correct what an engine's rendering changed.

checkov evaluates any string holding a spaced comparison or logic operator (`echo done > /tmp/log`
becomes `None` or a bool) and joins the lines of a heredoc once it renders an interpolation in it.
Either would blind every rule to a key in user data. So where a block's text shows such a form, the
block is parsed again from its own lines with the HCL parser checkov ships (`hcl2`), and `judged`
keeps the written value wherever the rendering changed its type or its lines.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from stat import S_ISREG
from typing import Any

log = logging.getLogger(__name__)

# What a rendering may rewrite: comparison and logic operators with spaces, and heredocs.
_REWRITTEN_FORMS = re.compile(r" (?:[<>]=?|[=!]=|&&|\|\|) |<<")
_MISSING = object()


def source_of(file: str, lines: tuple[int, int], kind: str, type_: str, name: str) -> Any:
    """The block's own parse (still list-wrapped, as the parser gives it), or None where the rendering
    can be trusted as it is (no rewritable form in the block) or the block cannot be read again."""
    start, end = lines
    if not file or start < 1 or end < start:
        return None
    try:
        stat = os.stat(file)
    except OSError:
        return None
    if not S_ISREG(stat.st_mode):
        return None
    parsed = _parse_block(file, stat.st_mtime_ns, stat.st_size, start, end)
    if parsed is None:
        return None
    return _select(parsed, kind, type_, name)


@lru_cache(maxsize=1024)
def _parse_block(file: str, _mtime: int, _size: int, start: int, end: int) -> dict[str, Any] | None:
    text = "".join(_file_lines(file, _mtime, _size)[start - 1:end])
    if not _REWRITTEN_FORMS.search(text):
        return None
    try:
        import hcl2

        return hcl2.loads(text + "\n")
    except Exception as error:  # the engine read it; keep its rendering rather than fail the rule
        log.debug("keyless cannot re-read %s:%d-%d: %s", file, start, end, error)
        return None


def written_at(file: str, lines: tuple[int, int], text: str) -> tuple[str, int] | None:
    """Where a value a block received is written, when not in the block itself.

    The block's module may set it in a tfvars file (which overrides defaults), a variable's default or
    a local; those are looked at first, then any other line of the module's own files. None when the
    block's own lines hold the value, or nothing in the module does.
    """
    if not file or not text:
        return None
    start, end = lines
    if any(text in line for line in _lines_of(file)[max(start - 1, 0):end]):
        return None
    folder = os.path.dirname(file)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith((".tf", ".tfvars", ".tf.json")))
    except OSError:
        return None
    anywhere = None
    for name in sorted(names, key=lambda n: not n.endswith(".tfvars")):
        path = os.path.join(folder, name)
        defining = name.endswith(".tfvars")
        for number, line in enumerate(_lines_of(path), start=1):
            if _TOP_LEVEL_BLOCK.match(line):
                defining = name.endswith(".tfvars") or _DEFINING_BLOCK.match(line) is not None
            if text in line:
                if defining:
                    return path, number
                anywhere = anywhere or (path, number)
    return anywhere


def block_text(file: str, lines: tuple[int, int]) -> str:
    """A block's own lines as written (cached per file), or "" when they cannot be read.

    For references an engine dropped: checkov renders a `dynamic` block's content without the
    references it holds, so a node group's `launch_template { id = local.x }` leaves no edge.
    """
    start, end = lines
    if not file or start < 1 or end < start:
        return ""
    return "".join(_lines_of(file)[start - 1:end])


_TOP_LEVEL_BLOCK = re.compile(r"^[a-z_]+\b")
_DEFINING_BLOCK = re.compile(r'^(?:variable\s+"|locals\s*\{)')


def _lines_of(file: str) -> list[str]:
    try:
        stat = os.stat(file)
        return _file_lines(file, stat.st_mtime_ns, stat.st_size) if os.path.isfile(file) else []
    except OSError:
        return []


@lru_cache(maxsize=8)
def _file_lines(file: str, _mtime: int, _size: int) -> list[str]:
    with open(file, encoding="utf-8", errors="replace") as handle:
        return handle.readlines()


def _select(parsed: Mapping[str, Any], kind: str, type_: str, name: str) -> Any:
    """The one block of the parse that is (kind, type, name)."""
    entries = parsed.get(kind)
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping):
            continue
        if kind in ("resource", "data"):
            found = entry.get(type_, {}).get(name) if isinstance(entry.get(type_), Mapping) else None
        elif kind == "provider":
            body = entry.get(type_)
            alias = body.get("alias") if isinstance(body, Mapping) else None
            alias = alias[0] if isinstance(alias, list) and alias else alias
            found = body if name in (type_, f"{type_}.{alias}") else None
        elif kind == "locals":
            found = entry.get(name, _MISSING)
            found = None if found is _MISSING else found
        else:  # module, output, variable
            found = entry.get(name)
        if found is not None:
            return found
    return None


def judged(rendered: Any, source: Any) -> Any:
    """The rendered value, except where the rendering changed what is written.

    - a string with no interpolation is taken as written;
    - a string the engine evaluated into None or a bool (a comparison), or cut short, is taken as written;
    - a multi-line string the engine joined into one line keeps its lines, with the rendered
      values of its interpolations put back where they can be placed.
    Everything else (rendered variables, `jsonencode` maps, unknown shapes) stays as rendered.
    """
    if isinstance(source, str):
        if "${" not in source and "%{" not in source:
            return source
        if rendered is None or isinstance(rendered, bool):
            return source
        if isinstance(rendered, str) and rendered in source:
            return source  # the rendering only cut the text (`base64encode(<<EOT ...` becomes `base64encode(`)
        if isinstance(rendered, str) and "\n" in source and "\n" not in rendered:
            return _relined(source, rendered)
        return rendered
    if isinstance(source, Mapping) and isinstance(rendered, Mapping):
        merged = dict(rendered)
        for key, value in source.items():
            if isinstance(key, str) and key.startswith("__"):
                continue
            merged[key] = judged(rendered.get(key), value) if key in rendered else value
        return merged
    if isinstance(source, list) and isinstance(rendered, list) and len(source) == len(rendered):
        return [judged(r, s) for r, s in zip(rendered, source, strict=True)]
    return source if rendered is None else rendered


def _relined(source: str, rendered: str) -> str:
    """The source text with each interpolation replaced by what the rendering put in its place.

    The literal pieces between interpolations are found in the rendered text in order (their newlines
    dropped, as the rendering dropped them); what lies between two pieces is an interpolation's value.
    Where the pieces cannot all be found, the source text is kept as written.
    """
    pieces, _ = _split_interpolations(source)
    flat = [piece.replace("\n", "") for piece in pieces]
    if not rendered.startswith(flat[0]):
        return source
    position, values = len(flat[0]), []
    for piece in flat[1:]:
        found = rendered.find(piece, position) if piece else (len(rendered) if piece is flat[-1] else position)
        if found < 0:
            return source
        values.append(rendered[position:found])
        position = found + len(piece)
    out = pieces[0]
    for value, piece in zip(values, pieces[1:], strict=True):
        out += value + piece
    return out


def _split_interpolations(text: str) -> tuple[list[str], list[str]]:
    """Literal pieces and `${...}`/`%{...}` spans of a template string, braces counted."""
    pieces, spans = [], []
    start = i = 0
    while i < len(text) - 1:
        if text[i] in "$%" and text[i + 1] == "{" and (i == 0 or text[i - 1] != text[i]):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            pieces.append(text[start:i])
            spans.append(text[i:j])
            start = i = j
        else:
            i += 1
    pieces.append(text[start:])
    return pieces, spans
