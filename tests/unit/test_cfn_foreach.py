"""keyless expands `Fn::ForEach` the way cfn-lint's own transform does, so checkov and the audit judge
the same logical IDs as cfn-lint: compared on each collection form, with cfn-lint as the oracle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode
from cfnlint.template import Template as CfnLintTemplate

from keyless.lang.cfn_foreach import expand
from keyless.lang.cloudformation_parsing import load_cloudformation

HEAD = 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::LanguageExtensions\n'
FUNCTION = """
        Type: AWS::SNS::Topic
        Properties:
          TopicName: !Sub "topic-${NAME}"
          DisplayName: !Ref NAME
"""

CASES = {
    "literal list": "Resources:\n  Fn::ForEach::Topics:\n    - Name\n    - [Alpha, Beta]\n    - Topic${Name}:" + FUNCTION,
    "ampersand": "Resources:\n  Fn::ForEach::Topics:\n    - Name\n    - [a-b, c.d]\n    - Topic&{Name}:" + FUNCTION,
    "list parameter default": (
        "Parameters:\n  Names:\n    Type: CommaDelimitedList\n    Default: 'x, y,z'\n"
        "Resources:\n  Fn::ForEach::Topics:\n    - Name\n    - !Ref Names\n    - Topic${Name}:" + FUNCTION
    ),
    "list parameter allowed values": (
        "Parameters:\n  Names:\n    Type: CommaDelimitedList\n    AllowedValues: ['one,two']\n"
        "Resources:\n  Fn::ForEach::Topics:\n    - Name\n    - !Ref Names\n    - Topic${Name}:" + FUNCTION
    ),
    "list parameter without default": (
        "Parameters:\n  Names:\n    Type: CommaDelimitedList\n"
        "Resources:\n  Fn::ForEach::Topics:\n    - Name\n    - !Ref Names\n    - Topic${Name}:" + FUNCTION
    ),
    "mapping": (
        "Mappings:\n  Teams:\n    Names:\n      List: [red, blue]\n"
        "Resources:\n  Fn::ForEach::Topics:\n    - Name\n    - !FindInMap [Teams, Names, List]\n    - Topic${Name}:" + FUNCTION
    ),
    "nested loops": (
        "Resources:\n  Fn::ForEach::Outer:\n    - Team\n    - [Red, Blue]\n"
        "    - Fn::ForEach::Inner:\n        - Env\n        - [Dev, Prod]\n        - Topic${Team}${Env}:\n"
        "            Type: AWS::SNS::Topic\n            Properties:\n              TopicName: !Sub '${Team}-${Env}'\n"
    ),
}


def _cfn_lint_expansion(path: Path) -> dict[str, Any]:
    template, errors = decode(str(path))
    assert template is not None, errors
    cfn = CfnLintTemplate(str(path), template)
    assert not cfn.transform()
    return cfn.template["Resources"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("positions", [False, True], ids=["plain loader", "cfn-lint decoder"])
def test_expansion_matches_cfn_lint(name: str, positions: bool, tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(HEAD + CASES[name].replace("NAME", "Name"))
    theirs = _cfn_lint_expansion(path)
    template = load_cloudformation(str(path), positions=positions)
    assert template is not None
    ours = expand(template)["Resources"]
    assert set(ours) == set(theirs)
    assert len(ours) >= 2
    for logical_id, resource in theirs.items():
        assert ours[logical_id] == resource, logical_id


def test_a_collection_only_the_stack_knows_is_left_as_written(tmp_path: Path) -> None:
    """cfn-lint fills such a loop with random names: no logical ID could agree, so none is invented."""
    path = tmp_path / "template.yaml"
    path.write_text(HEAD + "Parameters:\n  Name:\n    Type: String\n"
                    "Resources:\n  Fn::ForEach::Topics:\n    - Item\n    - [!Ref Name]\n    - Topic${Item}:" +
                    FUNCTION.replace("NAME", "Item"))
    template = load_cloudformation(str(path), positions=False)
    assert template is not None
    assert list(expand(template)["Resources"]) == ["Fn::ForEach::Topics"]


def test_without_the_transform_nothing_is_expanded(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(HEAD.replace("Transform: AWS::LanguageExtensions\n", "") + CASES["literal list"].replace("NAME", "Name"))
    template = load_cloudformation(str(path), positions=False)
    assert template is not None and expand(template) is template
