"""The plain template loader gives exactly the values of cfn-lint's decoder, or leaves the file to it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.node import dict_node, list_node, str_node

from keyless.lang.cloudformation_parsing import load_cloudformation

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402

SUFFIXES = (".yaml", ".yml", ".json", ".template")
TEMPLATES = sorted(
    p for folder in ("tests/fixtures/rules", "tests/fixtures/malformed/cloudformation", "examples")
    for p in (ROOT / folder).rglob("*") if p.suffix in SUFFIXES and "terraform" not in p.parts
)


def _outcome(path: Path, positions: bool) -> Any:
    try:
        return load_cloudformation(str(path), positions=positions)
    except Exception as error:
        return ("raised", type(error).__name__, str(error))


def _plain(value: Any) -> Any:
    """cfn-lint's node classes subclass dict, list and str; compare as exact types."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _nodes(value: Any) -> int:
    count = isinstance(value, (dict_node, list_node, str_node))
    if isinstance(value, dict):
        return count + sum(_nodes(k) + _nodes(v) for k, v in value.items())
    if isinstance(value, list):
        return count + sum(_nodes(v) for v in value)
    return count


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plain_values_equal_cfn_lints(path: Path) -> None:
    plain, decoded = _outcome(path, positions=False), _outcome(path, positions=True)
    assert _plain(plain) == _plain(decoded)
    assert type(plain) is type(decoded) or isinstance(decoded, dict_node)


def test_plain_loader_is_used_and_has_no_nodes() -> None:
    """Most templates go through the plain loader: its values are exact dicts, lists and strings."""
    plain = [load_cloudformation(str(p), positions=False) for p in TEMPLATES if "malformed" not in p.parts]
    assert sum(_nodes(t) == 0 for t in plain) > len(plain) * 0.8


def test_plain_values_equal_cfn_lints_on_a_generated_monorepo(tmp_path: Path) -> None:
    generate(tmp_path, seed=11, scale=0.05)
    templates = sorted((tmp_path / "cloudformation").iterdir())
    assert len(templates) > 20
    for path in templates:
        assert _plain(_outcome(path, positions=False)) == _plain(_outcome(path, positions=True)), path.name


@pytest.mark.parametrize("text", [
    "Resources:\n  A: &x {Type: AWS::S3::Bucket}\n  B: *x\n",          # aliases: cfn-lint records them
    "Resources:\n  A: {Type: AWS::S3::Bucket}\n  A: {Type: AWS::SNS::Topic}\n",  # duplicate keys
    "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties:\n\t  X: 1\n",  # a tab: JSON fallback
    "Resources:\n  A: {Type: AWS::S3::Bucket, Properties: {X: !GetAtt [B, !Ref C]}}\n",
    "Resources:\n  A: {Type: AWS::S3::Bucket, Properties: {X: !Sub ['${a}', {a: !Ref B}], Y: !Condition C}}\n",
    "",
    "- just\n- a list\n",
])
def test_unusual_input_gets_the_decoders_answer(tmp_path: Path, text: str) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(text, encoding="utf-8")
    assert _plain(_outcome(path, positions=False)) == _plain(_outcome(path, positions=True))
