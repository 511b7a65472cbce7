"""Reading CloudFormation templates the way cfn-lint does, for every keyless front end.

checkov's CloudFormation checks, the cfn-lint rules and the audit must see the same template, so
all of them read it with cfn-lint's decoder semantics (YAML short forms normalised). Where positions
are not needed (checkov reports whole resources; the audit locates lines only for findings), a plain
loader gives the same values at a third of the cost and without importing cfn-lint into checkov; it
hands anything it does not treat exactly like cfn-lint's decoder (anchors and aliases, merge keys,
duplicate or unhashable keys, odd encodings, YAML errors and the JSON fallback) to that decoder.
`tests/test_parsing.py` compares the two on every template the project has.
"""

from __future__ import annotations

import logging
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

_DECODER_LOGGERS = ("cfnlint.decode.decode", "cfnlint.decode.cfn_yaml", "cfnlint.decode.cfn_json")
_UNCONVERTED = ("Ref", "Condition")  # short forms cfn-lint does not prefix with "Fn::"


class TemplateError(ValueError):
    """The file is not a template keyless can read; the message says why."""


class _WhileKeylessDecodes(logging.Filter):
    """Drop the decoder's error logs while keyless decodes: keyless raises the reason instead.

    A filter, not a level: `Logger.setLevel` clears every logger's cache in the process, which
    cost checkov about 2 ms per template.
    """

    active = False

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.active


_quiet = _WhileKeylessDecodes()
for _name in _DECODER_LOGGERS:
    logging.getLogger(_name).addFilter(_quiet)


def load_cloudformation(path: str, *, positions: bool = True) -> dict[str, Any] | None:
    """The template at path: cfn-lint's nodes (with positions), or with positions=False plain values."""
    if not positions:
        try:
            return _load_plain(path)
        except Exception:  # _Unusual, YAML errors, encodings, recursion: cfn-lint's decoder decides
            pass
    from cfnlint.decode import decode  # imported on first use: checkov runs without cfn-lint loaded otherwise

    _quiet.active = True
    try:
        template, matches = decode(path)
    finally:
        _quiet.active = False
    if template is None:
        reason = "; ".join(str(m.message) for m in matches[:1]) if matches else "unreadable"
        raise TemplateError(f"{path}: {reason}")
    return template


class _Unusual(Exception):
    """Input the plain loader leaves to cfn-lint's decoder."""


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the loader cfn-lint's decoder builds on


class _PlainLoader(_Base):  # type: ignore[misc, valid-type]
    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if not isinstance(node, MappingNode):
            raise _Unusual("not a mapping")
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Unusual("merge key")
            key = self.construct_object(key_node, deep=deep)
            try:
                if key in seen:
                    raise _Unusual("duplicate key")  # cfn-lint refuses the template
                seen.add(key)
            except TypeError:
                raise _Unusual("unhashable key") from None
        return super().construct_mapping(node, deep=deep)


def _short_form(loader: _PlainLoader, suffix: str, node: Any) -> dict[str, Any]:
    """`!Ref x` as {"Ref": "x"}, `!GetAtt a.b` as {"Fn::GetAtt": ["a", "b"]}, `!Sub ...` as {"Fn::Sub": ...}."""
    tag = suffix if suffix in _UNCONVERTED else f"Fn::{suffix}"
    if tag == "Fn::GetAtt":
        if isinstance(node, ScalarNode):
            return {tag: str(node.value).split(".", 1)}
        if isinstance(node, SequenceNode):
            return {tag: [loader.construct_object(child, deep=True) for child in node.value]}
        raise _Unusual("GetAtt form")
    if isinstance(node, ScalarNode):
        return {tag: loader.construct_scalar(node)}
    if isinstance(node, SequenceNode):
        return {tag: loader.construct_sequence(node, deep=True)}
    return {tag: loader.construct_mapping(node, deep=True)}


_PlainLoader.add_multi_constructor("!", _short_form)


def _load_plain(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if "&" in text:
        raise _Unusual("anchors")  # cfn-lint bounds alias expansion and records where aliases are used
    template = yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a safe loader with CloudFormation tags
    if template is None:
        return {}
    if not isinstance(template, dict):
        raise _Unusual("not a mapping")
    return template
