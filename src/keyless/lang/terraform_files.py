"""Text a Terraform block takes from other files: `file()`, `filebase64()`, `templatefile()` and
provisioner scripts.

Engines leave these calls unrendered, so a key in a boot script or a task definition kept beside the
code was invisible to every rule. Here each call of a block is read again from the block's own text,
its path resolved the way Terraform resolves it, and the file read with limits:

- `${path.module}` is the block's module folder; `${path.root}`, `${path.cwd}` and plain relative
  paths (Terraform resolves those against the working directory) are the root module's folder;
  any other interpolation in a path cannot be known offline and the call is left alone;
- only regular files inside the scanned tree are read (a symlink is judged by its target), up to
  `MAX_BYTES`; `file()` and `templatefile()` need UTF-8 text, as Terraform does, while a
  `filebase64()` file that is not text is binary content (an archive, an image) and is skipped silently;
- whatever cannot be read is one `FileProblem` (a one-line message; the audit lists it with the
  files it could not read) and the block is judged without it;
- `templatefile()` variables are substituted where their value is written in the code: a literal,
  or a `var.` default or a `local.` the block's module defines. Any other placeholder stays as
  written (`${key}`), which the detectors treat as a value filled in at run time.

Each text keeps the lines of its file, so a finding points at the line where the key is written.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from stat import S_ISDIR, S_ISREG
from typing import Any

from keyless.detect.walk import Path
from keyless.lang.terraform import Block, TerraformModel, _lookup, strings, unwrap

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024  # user data is at most 16 KiB and a task definition 64 KiB; scripts rarely pass 1 MiB
FUNCTIONS = ("templatefile", "filebase64", "file")
_CALL = re.compile(r"(?<![\w.-])(templatefile|filebase64|file)\(")
_PROVISIONER_FILES = ("script", "scripts", "source")  # remote-exec script(s), file provisioner source


@dataclass(frozen=True)
class ReferencedText:
    """The content of one file a block references, with each line where the file has it."""

    path: Path  # where the reference is written in the block (user_data, provisioner[0].remote-exec.script)
    file: str  # absolute path of the file read
    function: str  # file, filebase64, templatefile, or the provisioner argument (script, scripts, source)
    lines: tuple[str, ...] = field(repr=False)  # the file's lines, template variables substituted
    written: tuple[str, ...] = field(default=(), repr=False)  # the file's lines as written, when substituted

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def line_at(self, offset: int) -> int:
        """The file line (1-based) of a character offset in `text`."""
        return bisect_right(_starts(self.lines), offset)

    def line_holding(self, needle: str) -> int | None:
        """The first line of the file as written that holds `needle`, or None (a substituted value)."""
        return next((i for i, line in enumerate(self.written or self.lines, start=1) if needle in line), None)


@lru_cache(maxsize=64)
def _starts(lines: tuple[str, ...]) -> tuple[int, ...]:
    starts, position = [], 0
    for line in lines:
        starts.append(position)
        position += len(line)
    return tuple(starts)


@dataclass(frozen=True)
class FileProblem:
    """A referenced file keyless could not judge, and why."""

    file: str  # absolute path (as resolved, whether or not it exists)
    referrer: str  # the Terraform file that references it
    reason: str
    written: str = ""  # the path as the code writes it

    def message(self) -> str:
        return f"{self.file}: {self.reason} (referenced from {self.referrer}); its content is not judged"


_problems: dict[tuple[str, str], FileProblem] = {}


def take_problems() -> list[FileProblem]:
    """The problems met since the last call (each file and reason once), for a report to list."""
    found = list(_problems.values())
    _problems.clear()
    return found


def _problem(file: str, referrer: str, reason: str, written: str = "") -> None:
    if (file, reason) not in _problems:
        problem = FileProblem(file, referrer, reason, written)
        _problems[(file, reason)] = problem
        log.warning("keyless: %s", problem.message())


# --- reading -------------------------------------------------------------------------------------


class _Unreadable(Exception):
    def __init__(self, reason: str, quiet: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.quiet = reason, quiet


def read_referenced(target: str, tree: str, binary_ok: bool = False) -> str:
    """The text of a file a block references; raises `_Unreadable` with a one-line reason.

    `binary_ok`: content that is not text is expected (`filebase64`) and is skipped quietly.
    """
    real, root = os.path.realpath(target), os.path.realpath(tree)
    if os.path.commonpath([real, root]) != root:
        raise _Unreadable("outside the scanned folder")
    try:
        info = os.stat(real)
    except FileNotFoundError as error:
        raise _Unreadable("not found") from error
    except OSError as error:
        raise _Unreadable(f"cannot be read: {error.strerror}") from error
    if S_ISDIR(info.st_mode):
        raise _Unreadable("is a folder, not a file")
    if not S_ISREG(info.st_mode):
        raise _Unreadable("is not a regular file")
    if info.st_size > MAX_BYTES:
        raise _Unreadable(f"is larger than {MAX_BYTES // 1024} KiB")
    return _read_text(real, info.st_mtime_ns, info.st_size, binary_ok)


@lru_cache(maxsize=256)
def _read_text(path: str, _mtime: int, _size: int, binary_ok: bool) -> str:
    try:
        # non-blocking, and checked again once open: a file swapped for a FIFO since `stat` never blocks the run
        with open(path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NONBLOCK)) as handle:
            if not S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise _Unreadable("is not a regular file")
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise _Unreadable(f"cannot be read: {error.strerror}") from error
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Unreadable(f"is not UTF-8 text (byte {error.start})", quiet=binary_ok) from error
    if "\x00" in text:
        raise _Unreadable("is binary, not text", quiet=binary_ok)
    return text


# --- where a block's calls point ------------------------------------------------------------------


def module_folder(block: Block) -> str:
    return os.path.dirname(block.file)


def root_folder(block: Block) -> str:
    """The root module's folder: the folder of the outermost module call, or the block's own folder."""
    if not block.module:
        return module_folder(block)
    try:
        call: Any = json.loads(block.module)
        while isinstance(call, Mapping) and isinstance(call.get("nested_tf_module"), Mapping):
            call = call["nested_tf_module"]
        path = call.get("path") if isinstance(call, Mapping) else None
    except ValueError:
        path = None
    return os.path.dirname(path) if isinstance(path, str) and os.path.isabs(path) else module_folder(block)


def resolve_path(written: str, block: Block) -> str | None:
    """The absolute path a written path expression names, or None when it depends on more than paths."""
    expanded = re.sub(r"\$\{\s*path\.module\s*\}", lambda _: module_folder(block), written)
    expanded = re.sub(r"\$\{\s*path\.(?:root|cwd)\s*\}", lambda _: root_folder(block), expanded)
    if "${" in expanded or "%{" in expanded or not expanded.strip():
        return None
    expanded = os.path.expanduser(expanded) if expanded.startswith("~") else expanded
    return os.path.normpath(os.path.join(root_folder(block), expanded))


def _string_literal(text: str, start: int) -> tuple[str, int] | None:
    """The HCL string literal starting at `text[start]` (a quote) and the index after it."""
    if start >= len(text) or text[start] != '"':
        return None
    i, depth, out = start + 1, 0, []
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i:i + 2])
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            out.append("${")
            i += 2
            continue
        if char == "}" and depth:
            depth -= 1
        elif char == '"' and not depth:
            return "".join(out), i + 1
        out.append(char)
        i += 1
    return None


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the call whose arguments start at `start`, or -1."""
    depth, quote, i = 1, "", start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char == "\\":
            i += 1  # a quote escaped by the parser's repr of an enclosing string (jsonencode({...}))
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return i if char == ")" else -1
        i += 1
    return -1


@dataclass(frozen=True)
class Call:
    function: str
    path: str  # the path argument as written
    variables: str  # templatefile's second argument as written ("" otherwise)


def calls_in(text: str) -> Iterator[Call]:
    """The `file`, `filebase64` and `templatefile` calls in a written expression (as the HCL parser
    gives it: `${templatefile("${path.module}/a.tpl",{'k': 'v'})}`), nested ones included."""
    for match in _CALL.finditer(text):
        literal = _string_literal(text, match.end())
        if literal is None:
            continue
        path, after = literal
        end = _closing(text, match.end())
        rest = text[after:end].strip() if end >= 0 else ""  # the path alone still names the file
        yield Call(match.group(1), path, rest[1:].strip() if rest.startswith(",") else "")


# --- templatefile variables ------------------------------------------------------------------------


_REFERENCE = re.compile(r"^\$\{\s*(var|local)\.([A-Za-z_][\w-]*)\s*\}$|^(var|local)\.([A-Za-z_][\w-]*)$")


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str) and "${" not in value:
        return value
    return None


def _resolved(value: Any, block: Block, model: TerraformModel | None) -> Any:
    """A `${var.x}` or `${local.x}` reference's value where the module writes it; anything else as is."""
    match = _REFERENCE.match(value) if isinstance(value, str) else None
    if match is None or model is None:
        return value
    kind, name = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    found = _lookup(model, block, kind, name)
    return value if found is None else found


def template_variables(written: str, block: Block, model: TerraformModel | None) -> dict[str, str]:
    """templatefile's variables whose value is written in the code, as the text Terraform substitutes."""
    if not written:
        return {}
    value: Any = written
    # The HCL parser writes an object as a Python literal, its quotes escaped once more when the call
    # sits inside another expression's object (jsonencode({... templatefile(...) ...})).
    for candidate in (written, written.replace("\\'", "'")):
        try:
            value = ast.literal_eval(candidate)
            break
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
    value = _resolved(value, block, model)
    if not isinstance(value, Mapping):
        return {}
    known = {}
    for name, item in value.items():
        text = _scalar(_resolved(item, block, model))
        if isinstance(name, str) and text is not None:
            known[name] = text
    return known


_PLACEHOLDER = re.compile(r"([$%])\1\{|\$\{\s*([A-Za-z_][\w-]*)\s*\}")


def render_line(line: str, variables: Mapping[str, str]) -> str:
    """One template line with its known `${name}` placeholders substituted and `$${`/`%%{` unescaped."""
    def substitute(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(1) + "{"
        return variables.get(match.group(2), match.group(0))

    return _PLACEHOLDER.sub(substitute, line)


# --- a block's referenced texts ---------------------------------------------------------------------


def written_config(block: Block) -> Mapping[str, Any] | None:
    """The block as written (calls unrendered), when its text references a file; None otherwise."""
    start, end = block.lines
    if block.kind not in ("resource", "data") or not block.file or start < 1 or end < start:
        return None
    try:
        info = os.stat(block.file)
    except OSError:
        return None
    if not S_ISREG(info.st_mode):
        return None
    return _written(block.file, info.st_mtime_ns, info.st_size, start, end, block.kind, block.type, block.name)


_REFERENCES_A_FILE = re.compile(r"(?<![\w.-])(?:templatefile|filebase64|file)\s*\(|\bprovisioner\b")


@lru_cache(maxsize=256)
def _written(file: str, _mtime: int, _size: int, start: int, end: int, kind: str, type_: str,
             name: str) -> Mapping[str, Any] | None:
    text = "".join(_block_lines(file, _mtime, _size)[start - 1:end])
    if not _REFERENCES_A_FILE.search(text):
        return None
    try:
        import hcl2

        parsed = hcl2.loads(text + "\n")
    except Exception as error:  # the engine read it; judge its rendering rather than fail
        log.debug("keyless cannot re-read %s:%d-%d: %s", file, start, end, error)
        return None
    for entry in parsed.get(kind) or ():
        body = entry.get(type_) if isinstance(entry, Mapping) else None
        if isinstance(body, Mapping) and name in body:
            found = unwrap(body[name])
            return found if isinstance(found, Mapping) else None
    return None


def block_lines(block: Block) -> list[str]:
    """The lines of the block's own text (empty when unknown)."""
    start, end = block.lines
    try:
        info = os.stat(block.file)
    except OSError:
        return []
    return _block_lines(block.file, info.st_mtime_ns, info.st_size)[start - 1:end] if start >= 1 and S_ISREG(info.st_mode) else []


@lru_cache(maxsize=8)
def _block_lines(file: str, _mtime: int, _size: int) -> list[str]:
    with open(file, encoding="utf-8", errors="replace") as handle:
        return handle.readlines()


def referenced_texts(block: Block, model: TerraformModel | None, tree: str = "") -> list[ReferencedText]:
    """Every file a block's values read (`file`, `filebase64`, `templatefile`, provisioner scripts and
    sources), as text. `tree` is the scanned folder (default: the block's root module folder)."""
    written = written_config(block)
    if written is None:
        return []
    tree = tree or block.tree or root_folder(block)
    found: list[ReferencedText] = []
    for path, text in strings(written):
        for call in calls_in(text):
            target = resolve_path(call.path, block)
            variables = template_variables(call.variables, block, model) if call.function == "templatefile" else None
            _add(found, path, call.function, target, block, tree, variables, call.path)
        if _is_provisioner_file(path):
            _add(found, path, str(path[-1] if isinstance(path[-1], str) else path[-2]), resolve_path(text, block),
                 block, tree, None, text)
    return found


_CREDENTIALS_FILE = re.compile(r"(?:^|[/\\\"'(])\.aws[/\\]credentials\b")
_AWS_CONFIG_FOLDER = re.compile(r"(?:^|[/\\])\.aws[/\\]")  # the operator's own AWS files: never in the tree


_READ_PATH = re.compile(r'(?<![\w.-])(?:templatefile|filebase64|file)\(\s*(?:pathexpand\(\s*)?"([^"]*)"')


def credentials_file_reads(block: Block) -> list[tuple[Path, str]]:
    """(where, path as written) of each read of an AWS shared credentials file (`file("~/.aws/credentials")`,
    a file provisioner's `source = "~/.aws/credentials"`): the operator's own keys handed over."""
    written = written_config(block)
    found: list[tuple[Path, str]] = []
    for path, text in strings(written) if written is not None else ():
        paths = [m.group(1) for m in _READ_PATH.finditer(text)]
        if _is_provisioner_file(path) and path[-1] == "source":
            paths.append(text)
        found += [(path, p) for p in paths if _CREDENTIALS_FILE.search(p)]
    return found


def _is_provisioner_file(path: Path) -> bool:
    """`provisioner[i].remote-exec.script`, `...scripts[j]`, `provisioner[i].file.source`."""
    names = [p for p in path if isinstance(p, str)]
    if len(names) < 3 or names[0] != "provisioner":
        return False
    kind, argument = names[1], names[2]
    return (kind == "remote-exec" and argument in ("script", "scripts")) or (kind == "file" and argument == "source")


def _add(found: list[ReferencedText], path: Path, function: str, target: str | None, block: Block, tree: str,
         variables: Mapping[str, str] | None, written: str) -> None:
    if target is None or _CREDENTIALS_FILE.search(target):  # the operator's credentials: rule 8 reports the read
        return
    if _AWS_CONFIG_FOLDER.search(target) and not target.startswith(os.path.realpath(tree) + os.sep):
        return  # ~/.aws/config: settings of the machine running Terraform, not a file of the code
    try:
        text = read_referenced(target, tree, binary_ok=function == "filebase64")
    except _Unreadable as error:
        if not error.quiet and not (function == "source" and os.path.isdir(target)):  # a file provisioner uploads folders too
            _problem(target, block.file, error.reason, written)
        return
    lines = tuple(text.splitlines(keepends=True))
    if variables is not None:
        found.append(ReferencedText(path, target, function, tuple(render_line(line, variables) for line in lines), lines))
    else:
        found.append(ReferencedText(path, target, function, lines))
