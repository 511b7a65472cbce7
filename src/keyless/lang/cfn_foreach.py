"""`Fn::ForEach` (the `AWS::LanguageExtensions` transform): the resources a loop stands for.

cfn-lint expands the loops before its rules run; checkov does not, and the audit reads the template
as written. Every front end hands keyless the template through `expand`, which mirrors cfn-lint's
transform (`cfnlint/template/transforms/_language_extensions.py`) for what can be known offline, so
all three judge the same logical IDs (`tests/unit/test_cfn_foreach.py` compares the two):

- the identifier replaces `${Id}` and `&{Id}` (alphanumerics only) in keys and `Fn::Sub` strings, and
  `Ref: Id` anywhere in the body; loops nest;
- the collection is a literal list, a `Ref` to a parameter (its default, else its first allowed
  value; `...List` types split on commas; a list parameter with neither becomes two `Fn::Select`s,
  named by cfn-lint's hash), or an `Fn::FindInMap` of literal keys.

A collection cfn-lint could only fill with random names (a plain parameter without default or allowed
values) is left unexpanded: no path judges those resources (docs/rules/credentials-in-compute.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
FOR_EACH = re.compile(r"^Fn::ForEach::[a-zA-Z0-9]+$")
_VARIABLE = re.compile(r"\$\{[^!}][^}]*\}|&\{\s*[^!\s].*?\s*\}")
_DEPTH = 50
_BOOKKEEPING = frozenset({"__startline__", "__endline__", "__file__"})


class _Unresolvable(Exception):
    """A collection only the deployed stack knows."""


def declares_language_extensions(template: Mapping[str, Any]) -> bool:
    transform = template.get("Transform")
    return LANGUAGE_EXTENSIONS in (transform if isinstance(transform, list) else [transform])


def has_loops(template: Mapping[str, Any]) -> bool:
    resources = template.get("Resources")
    return (isinstance(resources, Mapping) and declares_language_extensions(template)
            and any(isinstance(k, str) and FOR_EACH.match(k) for k in resources))


def expand(template: Mapping[str, Any]) -> Mapping[str, Any]:
    """The template with its `Resources` loops expanded (the template itself when it has none)."""
    if not has_loops(template):
        return template
    expanded = dict(template)
    expanded["Resources"] = _Expander(template).walk(template["Resources"], {}, 0)
    return expanded


class _Expander:
    def __init__(self, template: Mapping[str, Any]) -> None:
        params = template.get("Parameters")
        mappings = template.get("Mappings")
        self.parameters: Mapping[str, Any] = params if isinstance(params, Mapping) else {}
        self.mappings: Mapping[str, Any] = mappings if isinstance(mappings, Mapping) else {}

    def walk(self, value: Any, params: dict[str, Any], depth: int) -> Any:
        if depth > _DEPTH:
            return value
        if isinstance(value, list):
            return [self.walk(v, params, depth + 1) for v in value]
        if not isinstance(value, Mapping):
            return value
        fields = _fields(value)
        if len(fields) == 1:
            (fn, arg), = fields.items()
            if fn == "Ref" and isinstance(arg, str) and arg in params:
                return _like(arg, params[arg]) if isinstance(params[arg], str) else params[arg]
            if fn == "Fn::Sub" and params:
                return self._sub(arg, params, depth)
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and FOR_EACH.match(key):
                self._loop(key, item, params, depth, out)
                continue
            new_key = _like(key, _replace(key, params)[1]) if isinstance(key, str) and params else key
            out[new_key] = self.walk(item, params, depth + 1)
        return _like(value, out)

    def _loop(self, key: str, loop: Any, params: dict[str, Any], depth: int, out: dict[Any, Any]) -> None:
        if not (isinstance(loop, list) and len(loop) == 3 and isinstance(loop[0], str) and isinstance(loop[2], Mapping)):
            out[key] = loop  # not a loop cfn-lint would expand either: left as written
            return
        try:
            values = self._collection(loop[1], params)
        except _Unresolvable:
            out[key] = loop
            return
        for item in values:
            for name, body in _fields(self.walk(loop[2], {**params, loop[0]: item}, depth + 1)).items():
                out.setdefault(name, body)  # cfn-lint refuses duplicates; keep the first

    def _sub(self, arg: Any, params: dict[str, Any], depth: int) -> Any:
        if isinstance(arg, str):
            only_text, text = _replace(arg, params)
            text = _like(arg, text)
            return text if only_text else {"Fn::Sub": text}
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            only_text, text = _replace(arg[0], params)
            text = _like(arg[0], text)
            if only_text:
                return text
            return {"Fn::Sub": [text, *(self.walk(a, params, depth + 1) for a in arg[1:])]}
        return {"Fn::Sub": self.walk(arg, params, depth + 1)}

    def _collection(self, collection: Any, params: dict[str, Any]) -> list[Any]:
        if isinstance(collection, list):
            return [self._item(item, params) for item in collection]
        if isinstance(collection, Mapping) and len(_fields(collection)) == 1:
            (fn, arg), = _fields(collection).items()
            if fn == "Ref" and isinstance(arg, str):
                values = params[arg] if arg in params else self._parameter(arg)
                if isinstance(values, list):
                    return values
            if fn == "Fn::FindInMap" and isinstance(arg, list) and len(arg) >= 3:
                keys = [self._item(a, params) for a in arg[:3]]
                found: Any = self.mappings
                for k in keys:
                    found = found.get(k) if isinstance(found, Mapping) else None
                if isinstance(found, list) and all(isinstance(v, str) for v in found):
                    return list(found)
        raise _Unresolvable

    def _item(self, item: Any, params: dict[str, Any]) -> str:
        if isinstance(item, str):
            return item
        if isinstance(item, Mapping) and set(_fields(item)) == {"Ref"} and isinstance(item["Ref"], str):
            value = params.get(item["Ref"], None)
            if value is None:
                value = self._parameter(item["Ref"])
            if isinstance(value, str):
                return value
        raise _Unresolvable

    def _parameter(self, name: str) -> Any:
        """What cfn-lint's transform takes a parameter to be."""
        p = self.parameters.get(name)
        if not isinstance(p, Mapping):
            raise _Unresolvable
        kind = str(p.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter"):
            raise _Unresolvable
        default = p.get("Default")
        allowed = p.get("AllowedValues")
        chosen = default if default else (allowed[0] if isinstance(allowed, list) and allowed else None)
        if isinstance(chosen, str):
            return [x.strip() for x in chosen.split(",")] if "List" in kind else chosen
        if "List" in kind and chosen is None:
            return [{"Fn::Select": [0, {"Ref": name}]}, {"Fn::Select": [1, {"Ref": name}]}]
        raise _Unresolvable


def _fields(mapping: Mapping[Any, Any]) -> dict[Any, Any]:
    """A mapping without the line bookkeeping checkov's JSON parser adds (`__startline__`, ...)."""
    return {k: v for k, v in mapping.items() if k not in _BOOKKEEPING}


def _like(original: Any, new: Any) -> Any:
    """`new` as the same kind of node as `original`, at its position: the parsers' dict and str nodes
    (cfn-lint's and checkov's alike take the value and both marks) carry the lines engines report."""
    start, end = getattr(original, "start_mark", None), getattr(original, "end_mark", None)
    if start is None or end is None or type(original) in (str, dict):
        return new
    try:
        return type(original)(new, start, end)
    except Exception:  # a node type built otherwise: the plain value still reads the same
        return new


def _replace(text: str, params: Mapping[str, Any]) -> tuple[bool, str]:
    """cfn-lint's substitution: (whether no variable is left, the text)."""
    if not _VARIABLE.search(text):
        return True, text
    new = str(text)
    for name, value in params.items():
        if isinstance(value, Mapping):
            value = hashlib.md5(json.dumps(value).encode("utf-8"), usedforsecurity=False).digest().hex()[0:4]
        value = str(value)
        new = new.replace("${" + name + "}", value).replace("&{" + name + "}", re.sub("[^0-9a-zA-Z]+", "", value))
    return not _VARIABLE.search(new), new
