"""What Terraform values mean: blocks, where they live, and the model of a tree's blocks and references.

A block is identified by where it lives (its file, and the module instance it belongs to) together
with its address: two roots of one tree (`envs/dev`, `envs/prod`) may both declare `aws_instance.web`,
and a module called from both is instantiated twice under the same address. Cross-block rules look
only inside a block's own scope: its module directory and module instance.

Values are judged as written: a block's `config` is what an engine rendered, corrected from the
block's own source text wherever the rendering changed it (`terraform_source`).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from keyless.detect.values import Origin, terraform_origin
from keyless.detect.walk import Path
from keyless.lang.terraform_source import judged, source_of


@dataclass(frozen=True)
class Block:
    kind: str  # resource, data, provider, module, output, variable, locals
    type: str  # resource/data type, provider name; "module" or "output" otherwise
    name: str  # the block's own name (resource name, output name, provider alias or name)
    address: str
    rendered: Mapping[str, Any]  # the engine's rendering, unwrapped (see `unwrap`)
    file: str = ""  # absolute path of the file the block is written in, when known
    module: str = ""  # which module instance the block belongs to ("" in a root module)
    lines: tuple[int, int] = (0, 0)  # first and last line of the block in its file
    tree: str = ""  # the scanned folder, when known: files the block references are read only inside it

    @property
    def scope(self) -> tuple[str, str]:
        """The module directory and module instance: cross-block rules never look beyond it."""
        return os.path.dirname(self.file), self.module

    @cached_property
    def config(self) -> Mapping[str, Any]:
        """The block's values as written in its file, with the engine's substitutions where they are sound."""
        source = source_of(self.file, self.lines, self.kind, self.type, self.name)
        return self.rendered if source is None else judged(self.rendered, unwrap(source))


@dataclass
class TerraformModel:
    """Blocks and references of a Terraform tree, with indexes built on first use.

    A monorepo holds tens of thousands of blocks, and every resource is looked up: linear scans here
    made checkov with keyless quadratic in the size of the tree.
    """

    blocks: list[Block] = field(default_factory=list)
    edges: list[tuple[int, int, str]] = field(default_factory=list)

    @cached_property
    def _by_location(self) -> dict[tuple[str, str, str], int]:
        index: dict[tuple[str, str, str], int] = {}
        for i, block in enumerate(self.blocks):
            index.setdefault((block.file, block.module, block.address), i)
        return index

    @cached_property
    def _outgoing(self) -> dict[int, list[tuple[int, str]]]:
        out: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for src, dst, label in self.edges:
            out[src].append((dst, label))
        return out

    @cached_property
    def _incoming(self) -> dict[int, list[int]]:
        into: dict[int, list[int]] = defaultdict(list)
        for src, dst, _ in self.edges:
            into[dst].append(src)
        return into

    @cached_property
    def _by_scope(self) -> dict[tuple[str, str], list[int]]:
        scopes: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, block in enumerate(self.blocks):
            scopes[block.scope].append(i)
        return scopes

    @cached_property
    def _by_name(self) -> dict[tuple[str, str, str, str], int]:
        index: dict[tuple[str, str, str, str], int] = {}
        for i, block in enumerate(self.blocks):
            index.setdefault((os.path.dirname(block.file), block.module, block.kind, block.name), i)
        return index

    def named(self, scope: tuple[str, str], kind: str, name: str) -> Block | None:
        """The `variable`, `locals` entry or module call of that name in a module instance."""
        found = self._by_name.get((*scope, kind, name))
        return None if found is None else self.blocks[found]

    def module_call(self, file: str, module: str, name: str) -> Block | None:
        """The `module "NAME"` block written in `file`, in the module instance `module`."""
        block = self.named((os.path.dirname(file), module), "module", name)
        return block if block is not None and block.file == file else None

    @cached_property
    def _created(self) -> dict[tuple[str, str, str, str], bool]:
        return {}

    @cached_property
    def _scopes(self) -> dict[tuple[str, str], Any]:
        return {}

    def scope_values(self, scope: tuple[str, str]) -> Any:
        """What `var.X` and `local.X` are in a module instance (`terraform_modules.Scope`)."""
        from keyless.lang.terraform_modules import Scope

        if scope not in self._scopes:
            self._scopes[scope] = Scope(self, *scope)
        return self._scopes[scope]

    def created(self, block: Block) -> bool:
        """Whether Terraform creates the block (`count`, `for_each` and the module calls above it,
        evaluated where their inputs are known; see `terraform_modules`). Other blocks always exist."""
        if block.kind not in _REPEATABLE:
            return True
        key = (block.file, block.module, block.kind, block.address)
        if key not in self._created:
            from keyless.lang.terraform_modules import created

            self._created[key] = True  # a cycle of module calls is taken as written
            self._created[key] = created(block, self)
        return self._created[key]

    def index_of(self, block: Block) -> int | None:
        return self._by_location.get((block.file, block.module, block.address))

    def find(self, file: str, module: str, address: str) -> Block | None:
        found = self._by_location.get((file, module, address))
        return None if found is None else self.blocks[found]

    def targets(self, block: Block, label_prefix: str = "") -> Iterator[Block]:
        me = self.index_of(block)
        for dst, label in self._outgoing.get(me, ()) if me is not None else ():
            if label.startswith(label_prefix) and self.created(self.blocks[dst]):
                yield self.blocks[dst]

    def sources(self, block: Block) -> Iterator[Block]:
        me = self.index_of(block)
        for src in self._incoming.get(me, ()) if me is not None else ():
            if self.created(self.blocks[src]):
                yield self.blocks[src]

    def in_scope(self, block: Block) -> Iterator[Block]:
        """The blocks of the same module directory and instance as `block` that Terraform creates."""
        for i in self._by_scope.get(block.scope, ()):
            if self.created(self.blocks[i]):
                yield self.blocks[i]


    @cached_property
    def _by_scope_and_type(self) -> dict[tuple[tuple[str, str], str, str], list[int]]:
        kinds: dict[tuple[tuple[str, str], str, str], list[int]] = defaultdict(list)
        for i, block in enumerate(self.blocks):
            kinds[(block.scope, block.kind, block.type)].append(i)
        return kinds

    def of_type(self, block: Block, kind: str, type_: str) -> Iterator[Block]:
        """The blocks of `block`'s scope of one kind and type (`resource`, `aws_launch_template`): rules
        that look up a few types for every resource stay linear in the size of the tree."""
        for i in self._by_scope_and_type.get((block.scope, kind, type_), ()):
            if self.created(self.blocks[i]):
                yield self.blocks[i]


_REPEATABLE = frozenset({"resource", "data", "module"})


def unwrap(value: Any) -> Any:
    """Undo the parsers' list-wrapping of every attribute (`{"a": ["x"]}` -> `{"a": "x"}`), and drop
    their bookkeeping keys (`__start_line__`, `__address__`...)."""
    if isinstance(value, Mapping):
        return {k: unwrap(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("__"))}
    if isinstance(value, list):
        if len(value) == 1:
            return unwrap(value[0])
        return [unwrap(v) for v in value]
    return value


def nested_blocks(config: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """A nested block as a list, whether it appears once (a dict) or repeatedly (a list)."""
    value = config.get(key)
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, Mapping)]
    return []


def present(value: Any) -> bool:
    return value not in (None, "", [], {}) and not (isinstance(value, list) and all(v in (None, "") for v in value))


def strings(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """(path, text) of every string under a value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(k, str):
                yield from strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings(v, (*path, i))


# An access key's secret, referenced from configuration.
ACCESS_KEY_SECRET = re.compile(r"aws_iam_access_key\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.(secret|ses_smtp_password_v4)\b")
# An interpolation an engine could not render: the value is assembled at plan time from outside the code.
_EXTERNAL_INTERPOLATION = re.compile(r"\$\{\s*(?:var|data|module)\.")


def origin(value: Any) -> Origin:
    """Where a rendered value comes from (see `terraform_origin`), counting `"prefix-${var.key}"` as
    external: the credential part is not written here."""
    found = terraform_origin(value)
    if found is Origin.LITERAL and isinstance(value, str) and _EXTERNAL_INTERPOLATION.search(value):
        return Origin.EXTERNAL
    return found


_WRAPPED_REFERENCE = re.compile(
    r"^\s*\$?\{?\s*(?:base64encode|base64gzip|trimspace|chomp)\(\s*(local|var)\.([A-Za-z0-9_-]+)\s*\)\s*\}?\s*$")


def _lookup(model: TerraformModel, block: Block, kind: str, name: str) -> Any:
    """The value of `local.NAME` (or the default of `var.NAME`) in the block's module, or None."""
    for other in model.in_scope(block):
        if other.name != name:
            continue
        if kind == "local" and other.kind == "locals":
            return other.config
        if kind == "var" and other.kind == "variable" and isinstance(other.config, Mapping):
            return other.config.get("default")
    return None


def user_data_texts(block: Block, model: TerraformModel | None) -> list[tuple[str, str]]:
    """(attribute, text) of a block's user data, with `base64encode(local.script)` looked up.

    Engines leave a reference inside base64encode(...) unrendered, so the script itself would be
    invisible to every rule; the local (or variable default) it names is in the model.
    """
    texts = []
    for attr in ("user_data", "user_data_base64"):
        data = block.config.get(attr)
        if not isinstance(data, str):
            continue
        texts.append((attr, data))
        m = _WRAPPED_REFERENCE.match(data)
        resolved = _lookup(model, block, *m.groups()) if m and model is not None else None
        if isinstance(resolved, str):
            texts.append((attr, resolved))
    return texts
