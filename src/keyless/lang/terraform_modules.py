"""Terraform module calls: who calls a module instance, and what the instance actually creates.

checkov expands local modules with the caller's inputs, but hands every rule the instances that a
`count = 0` (or an empty `for_each`) never creates, and leaves the conditional references that decide
an instance profile (`dynamic "iam_instance_profile"`, `var.create_profile ? aws_...name : var.profile`)
as text. Here those switches are evaluated (`terraform_expressions`) in the block's own module
instance: `var.X` is the value the caller passes (checkov renders it into the instance's variable),
else tfvars, else the variable's default; `local.X` is evaluated from its expression in the module.

The one rule for what cannot be known (a required input nobody sets, a resource attribute, a data
source, a `for` expression): the block is taken as written. A resource whose `count` cannot be
known is created; a `dynamic` block whose `for_each` cannot be known is expanded with its content;
an attribute that cannot be known is present.

A finding inside a module instance is placed at the module call in the root module (the outermost
call: where the inputs come from and the fix goes).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from keyless.lang.terraform_expressions import UNKNOWN, evaluate_value
from keyless.lang.terraform_source import _select

if TYPE_CHECKING:
    from keyless.findings import Finding
    from keyless.lang.terraform import Block, TerraformModel

log = logging.getLogger(__name__)


# --- module calls --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleCall:
    name: str  # the call's label: module "NAME"
    file: str  # absolute path of the file the call is written in
    parent: str  # the module instance the call is written in ("" in a root module), as Block.module


def calls_of(module: str) -> list[ModuleCall]:
    """The chain of module calls that made an instance (a Block's `module`), innermost first."""
    calls: list[ModuleCall] = []
    try:
        current: Any = json.loads(module) if module else None
    except ValueError:
        return calls
    while isinstance(current, Mapping) and current.get("name"):
        parent = current.get("nested_tf_module")
        parent_key = json.dumps(parent, sort_keys=True, default=str) if isinstance(parent, Mapping) else ""
        calls.append(ModuleCall(str(current["name"]), str(current.get("path") or ""), parent_key))
        current = parent
    return calls


def call_address(module: str) -> str:
    """`module.outer.module.inner` for an instance."""
    return ".".join(f"module.{c.name}" for c in reversed(calls_of(module)))


def call_site(block: Block, model: TerraformModel | None) -> tuple[str, int] | None:
    """The file and line of the outermost module call that instantiates the block's module."""
    calls = calls_of(block.module)
    if not calls:
        return None
    outer = calls[-1]
    found = model.module_call(outer.file, outer.parent, outer.name) if model is not None else None
    if found is not None and found.lines[0] > 0:
        return outer.file, found.lines[0]
    line = _call_line(outer.file, outer.name)
    return (outer.file, line) if line else None


def _call_line(file: str, name: str) -> int:
    pattern = re.compile(rf'^\s*module\s+"{re.escape(name)}"\s*\{{')
    for number, line in enumerate(_lines(file), start=1):
        if pattern.match(line):
            return number
    return 0


# --- what a block is: its own source ---------------------------------------------------------------


def _lines(file: str) -> list[str]:
    try:
        stat = os.stat(file)
    except OSError:
        return []
    return _read(file, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read(file: str, _mtime: int, _size: int) -> list[str]:
    try:
        with open(file, encoding="utf-8", errors="replace") as handle:
            return handle.readlines()
    except OSError:
        return []


def _text(block: Block) -> str:
    start, end = block.lines
    if not block.file or start < 1 or end < start:
        return ""
    return "".join(_lines(block.file)[start - 1:end])


_INDEX = re.compile(r"\[[^\]]*\]$")


def _source_name(block: Block) -> str:
    """The block's label as written (`this` for the instance `module.x.aws_y.this[0]`)."""
    if block.kind in ("resource", "data"):
        return _INDEX.sub("", block.address.rsplit(".", 1)[-1])
    return _INDEX.sub("", block.name)


def source_body(block: Block) -> Mapping[str, Any] | None:
    """The block's own parse (list-wrapped, as the HCL parser gives it), or None."""
    text = _text(block)
    if not text:
        return None
    parsed = _parse_text(text)
    if parsed is None:
        return None
    found = _select(parsed, block.kind, block.type, _source_name(block))
    return found if isinstance(found, Mapping) else None


@lru_cache(maxsize=512)
def _parse_text(text: str) -> dict[str, Any] | None:
    try:
        import hcl2

        return hcl2.loads(text + "\n")
    except Exception as error:  # checkov read it; keep its rendering rather than fail the rule
        log.debug("keyless cannot re-read a block: %s", error)
        return None


# --- the values a module instance sees -------------------------------------------------------------


class Scope:
    """Resolves `var.X` and `local.X` for the blocks of one module instance."""

    def __init__(self, model: TerraformModel, folder: str, module: str) -> None:
        self.model = model
        self.folder = folder
        self.module = module
        self._locals: dict[str, Any] = {}
        self._resolving: set[str] = set()

    def resolve(self, root: str, name: str) -> Any:
        if root == "var":
            variable = self.model.named((self.folder, self.module), "variable", name)
            if variable is None or not isinstance(variable.rendered, Mapping) or "default" not in variable.rendered:
                return UNKNOWN
            return _known(variable.rendered["default"])
        if name in self._locals:
            return self._locals[name]
        expression = _local_expressions(self.folder).get(name)
        if expression is None or name in self._resolving:
            return UNKNOWN
        self._resolving.add(name)
        try:
            value = evaluate_value(expression, self.resolve)
        finally:
            self._resolving.discard(name)
        self._locals[name] = value
        return value

    def value(self, written: Any) -> Any:
        return evaluate_value(written, self.resolve)


_REFERENCE = re.compile(
    r"^\s*\$?\{?\s*(?:(?:var|local|data|module|each|count|path|self)\.|[a-z][a-z0-9]*_[\w-]+\.[\w-]+)"
    r"|\$\{|^\s*[a-z_]+\(")


def _known(rendered: Any) -> Any:
    """A value checkov rendered, or UNKNOWN where it left a reference or an expression as text."""
    if isinstance(rendered, str):
        return UNKNOWN if _REFERENCE.search(rendered) else rendered
    if isinstance(rendered, list):
        return [_known(v) for v in rendered]
    if isinstance(rendered, Mapping):
        return {k: _known(v) for k, v in rendered.items()}
    return rendered


def _local_expressions(folder: str) -> dict[str, Any]:
    """Every `locals` entry written in a module folder, as the HCL parser gives it."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".tf"))
    except OSError:
        return {}
    key = tuple((n, os.stat(os.path.join(folder, n)).st_mtime_ns) for n in names)
    return _locals_of(folder, key)


_LOCALS_START = re.compile(r"^locals\s*\{")


@lru_cache(maxsize=64)
def _locals_of(folder: str, files: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, _ in files:
        lines = _lines(os.path.join(folder, name))
        for _start, text in _top_level_blocks(lines, _LOCALS_START):
            parsed = _parse_text(text)
            for entry in (parsed or {}).get("locals", []):
                if isinstance(entry, Mapping):
                    found.update({k: v for k, v in entry.items() if not k.startswith("__")})
    return found


def _top_level_blocks(lines: list[str], opening: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    """(first line, text) of each top-level block that starts with `opening` and ends at a `}` in column 0."""
    start = None
    for number, line in enumerate(lines):
        if start is None and opening.match(line):
            start = number
        elif start is not None and line.startswith("}"):
            yield start + 1, "".join(lines[start:number + 1])
            start = None


def scope_of(block: Block, model: TerraformModel) -> Scope:
    return model.scope_values(block.scope)


# --- what is created ---------------------------------------------------------------------------------

_REPETITION = re.compile(r"^\s*(?:count|for_each)\s*=", re.MULTILINE)


def instances_exist(block: Block, model: TerraformModel) -> bool:
    """Whether the block's own `count`/`for_each` creates at least one instance (True when unknown)."""
    rendered = block.rendered.get("count") if isinstance(block.rendered, Mapping) else None
    if isinstance(rendered, (int, float)) and not isinstance(rendered, bool):
        return rendered > 0
    text = _text(block)
    if not text or not _REPETITION.search(text):
        return True
    body = source_body(block)
    if body is None:
        return True
    scope = scope_of(block, model)
    if "count" in body:
        count = scope.value(body["count"])
        if isinstance(count, bool):
            return count
        return count > 0 if isinstance(count, (int, float)) else True
    if "for_each" in body:
        items = scope.value(body["for_each"])
        if isinstance(items, (list, Mapping)):
            return len(items) > 0
        return True
    return True


def created(block: Block, model: TerraformModel) -> bool:
    """Whether Terraform would create the block: its own count/for_each and every module call above it."""
    if not instances_exist(block, model):
        return False
    for call in calls_of(block.module):
        found = model.module_call(call.file, call.parent, call.name)
        if found is not None and not model.created(found):
            return False
    return True


# --- attributes judged by what they evaluate to ----------------------------------------------------


def _present(value: Any) -> bool:
    """Whether an evaluated attribute names something (unknown counts as present: taken as written)."""
    if value is UNKNOWN:
        return True
    if isinstance(value, list):
        return any(_present(v) for v in value)
    if isinstance(value, Mapping):
        return any(_present(v) for v in value.values())
    return value not in (None, "", False)


def has_nested_value(block: Block, model: TerraformModel | None, name: str, fields: tuple[str, ...]) -> bool | None:
    """Whether a block sets `name` (an attribute, a nested block with one of `fields`, or a `dynamic`
    block of that name that is expanded at least once), evaluated in its module instance.

    None when the block's source cannot be read again or never mentions `name`: the caller keeps its
    own reading of the rendered configuration.
    """
    if model is None:
        return None
    text = _text(block)
    if name not in text:
        return None
    body = source_body(block)
    if body is None:
        return None
    scope = scope_of(block, model)
    found = False
    if name in body:
        found = True
        if _set(scope, body[name], fields):
            return True
    for dynamic in body.get("dynamic", []) if isinstance(body.get("dynamic"), list) else ():
        spec = dynamic.get(name) if isinstance(dynamic, Mapping) else None
        if not isinstance(spec, Mapping):
            continue
        found = True
        items = scope.value(spec.get("for_each"))
        if isinstance(items, (list, Mapping)) and not items or items is None:
            continue  # expanded zero times
        content = spec.get("content")
        if _set(scope, content, fields):
            return True
    return False if found else None


def _set(scope: Scope, written: Any, fields: tuple[str, ...]) -> bool:
    entries = written if isinstance(written, list) else [written]
    for entry in entries:
        if isinstance(entry, Mapping):
            if any(_present(scope.value(entry[f])) for f in fields if f in entry):
                return True
        elif _present(scope.value(entry)):
            return True
    return False


# --- where a finding inside a module goes ------------------------------------------------------------


def placed(findings: list[Finding], block: Block, model: TerraformModel | None) -> list[Finding]:
    """Findings of a block inside a module instance, placed at the outermost module call (the caller's
    file and line), the call named in the message. A finding already placed where its value is
    written (a tfvars line, a variable default) keeps that place."""
    if not findings or not block.module:
        return findings
    site = call_site(block, model)
    if site is None:
        return findings
    shown = os.path.relpath(site[0], os.path.dirname(block.file)) if block.file else site[0]
    note = f" (created through {call_address(block.module)}, called in {shown})"
    out = []
    for finding in findings:
        if finding.written_at is not None:
            out.append(finding)
            continue
        suffix = f". {finding.rule.recommendation.title}: {finding.rule.fix}"
        message = finding.message
        if message.endswith(suffix):
            message = message[: -len(suffix)] + note + suffix
        else:
            message += note
        out.append(replace(finding, written_at=site, message=message))
    return out


def attribute_value(block: Block, model: TerraformModel | None, name: str, rendered: Any) -> Any:
    """An attribute as evaluated in the block's module instance (`status = var.access_key_status` with
    the caller's value or the default), or the engine's rendering where that cannot be known."""
    if model is None or not isinstance(rendered, str) or not _REFERENCE.search(rendered):
        return rendered
    body = source_body(block)
    if body is None or name not in body:
        return rendered
    value = scope_of(block, model).value(body[name])
    return rendered if value is UNKNOWN else value


# --- modules `terraform init` fetched -----------------------------------------------------------------

_REGISTRY_HOST = re.compile(r"^(?:registry\.terraform\.io|registry\.opentofu\.org)/", re.IGNORECASE)


def initialised_module_dir(current_dir: str, source: str, version: str | None) -> str | None:
    """The folder `terraform init` fetched a module call's source into, from the nearest
    `.terraform/modules/modules.json` at or above the calling folder; None when there is none.

    Entries are matched by source (registry host ignored); where one source was fetched at several
    versions, the one whose version equals the call's `version` is preferred."""
    wanted = _REGISTRY_HOST.sub("", source.strip())
    folder = os.path.abspath(current_dir)
    while True:
        manifest = os.path.join(folder, ".terraform", "modules", "modules.json")
        if os.path.isfile(manifest):
            entries = [e for e in _manifest(manifest, os.stat(manifest).st_mtime_ns)
                       if _REGISTRY_HOST.sub("", e[0]) == wanted]
            chosen = next((e for e in entries if e[1] == version), entries[0] if entries else None)
            if chosen is None:
                return None
            path = os.path.normpath(os.path.join(folder, chosen[2]))
            return path if os.path.isdir(path) else None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


@lru_cache(maxsize=16)
def _manifest(path: str, _mtime: int) -> tuple[tuple[str, str, str], ...]:
    """(source, version, dir) of every module in a modules.json."""
    try:
        with open(path, encoding="utf-8") as handle:
            modules = json.load(handle).get("Modules") or []
    except (OSError, ValueError, AttributeError) as error:
        log.warning("keyless cannot read %s: %s", path, error)
        return ()
    return tuple((str(m.get("Source") or ""), str(m.get("Version") or ""), str(m.get("Dir") or ""))
                 for m in modules if isinstance(m, Mapping) and m.get("Key") and m.get("Source") and m.get("Dir"))


# --- module outputs that carry a key's secret ---------------------------------------------------------

_MODULE_OUTPUT = re.compile(r"\bmodule\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.([A-Za-z0-9_-]+)")
_KEY_SECRET = re.compile(r"aws_iam_access_key\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?\.(?:secret|ses_smtp_password_v4)\b")
_outputs: tuple[Any, dict[tuple[str, str, str, str], list[Block]]] = (None, {})


def secret_module_output(text: str, block: Block, model: TerraformModel | None) -> str | None:
    """`module.NAME.OUTPUT` in a value, when that output carries an access key's secret: a local module's
    output that references one, or a registry module's documented secret output (`registry_modules`)."""
    if model is None or "module." not in text:
        return None
    from keyless.lang.registry_modules import registry_module

    for match in _MODULE_OUTPUT.finditer(text):
        call_name, output = match.groups()
        call = model.named(block.scope, "module", call_name)
        entry = registry_module(call.config.get("source")) if call is not None else None
        if entry is not None and output in entry.secret_outputs:
            return match.group(0)
        for found in _outputs_of(model).get((os.path.dirname(block.file), block.module, call_name, output), ()):
            if any(_KEY_SECRET.search(s) for s in _strings(found.rendered) + _strings(found.config)):
                return match.group(0)
    return None


def _outputs_of(model: TerraformModel) -> dict[tuple[str, str, str, str], list[Block]]:
    """Output blocks by (caller folder, caller instance, call name, output name), built once per model."""
    global _outputs
    if _outputs[0] is not model:
        index: dict[tuple[str, str, str, str], list[Block]] = {}
        for candidate in model.blocks:
            if candidate.kind != "output" or not candidate.module:
                continue
            calls = calls_of(candidate.module)
            if calls:
                key = (os.path.dirname(calls[0].file), calls[0].parent, calls[0].name, candidate.name)
                index.setdefault(key, []).append(candidate)
        _outputs = (model, index)
    return _outputs[1]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
