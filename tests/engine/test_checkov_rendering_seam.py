"""The audit's remembered rendering (`checkov_seam.remembered_rendering`): checkov's Terraform graph
rendered with it is the graph rendered without it, and the helpers it remembers are the ones checkov
calls (if a checkov release moves one, the hit counts fall to zero and this fails)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from checkov.runner_filter import RunnerFilter
from checkov.terraform.graph_builder.variable_rendering import evaluate_terraform
from checkov.terraform.runner import Runner

from keyless.engines import checkov_seam, run_checkov_with_findings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TREES = sorted({p.parent for p in (FIXTURES / "rules").glob("*/terraform/**/*.tf")}
               | {FIXTURES / "rendering" / "root", FIXTURES / "two-roots", FIXTURES / "rendered-values",
                  FIXTURES / "var-files"})


def _rendered(tree: Path) -> str:
    """checkov's rendered definitions and graph vertices of a tree, as comparable text."""
    runner = Runner()
    runner.run(root_folder=str(tree), runner_filter=RunnerFilter(framework=["terraform"], checks=["CKV_NONE"]))
    definitions = {str(key): value for key, value in (runner.definitions or {}).items()}
    vertices = sorted(json.dumps(node, default=str, sort_keys=True)  # (type, attributes) pairs: seam item 3
                      for graph, _ in runner.all_graphs for node in graph.nodes())
    return json.dumps({"definitions": definitions, "vertices": vertices}, default=str, sort_keys=True)


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_the_graph_is_the_same_with_and_without_it(tree: Path) -> None:
    plain = _rendered(tree)
    with checkov_seam.remembered_rendering():
        remembered = _rendered(tree)
    assert remembered == plain


def test_checkov_calls_the_helpers_it_remembers() -> None:
    with checkov_seam.remembered_rendering() as hits:
        _rendered(FIXTURES / "rendering" / "root")
    assert hits["evaluate"] > 0
    assert hits["find_brackets_pairs"] > 0
    assert hits["find_var_blocks"] > 0


def test_jsonpath_paths_parse_as_before_with_tables_built_once() -> None:
    """checkov parses one JSONPath per nested attribute it renders (each parse used to build PLY's tables)."""
    from bc_jsonpath_ng.ext import parse

    paths = ["$.tags.user", "$.settings[0].policies[1]", "$.statement[0].condition.StringEquals.\"aws:x\""]
    plain = [repr(parse(path)) for path in paths]
    with checkov_seam.remembered_rendering() as hits:
        remembered = [repr(parse(path)) for path in paths]
    assert remembered == plain
    assert hits["jsonpath_parser"] == len(paths) - 1


def test_everything_is_put_back() -> None:
    from bc_jsonpath_ng.parser import JsonPathParser

    def current() -> tuple[Any, ...]:
        return (evaluate_terraform.evaluate, evaluate_terraform.find_brackets_pairs, evaluate_terraform.find_var_blocks,
                JsonPathParser.parse_token_stream)

    before = current()
    with checkov_seam.remembered_rendering():
        assert all(now is not then for now, then in zip(current(), before, strict=True))
    assert current() == before


def test_a_remembered_failure_fails_again_and_values_are_fresh_objects() -> None:
    with checkov_seam.remembered_rendering():
        for _ in range(2):
            with pytest.raises(ValueError):
                evaluate_terraform.evaluate("undefined_name(")
        first: Any = evaluate_terraform.evaluate('{"a": [1, 2]}')
        first["a"].append(3)
        assert evaluate_terraform.evaluate('{"a": [1, 2]}') == {"a": [1, 2]}
        blocks = evaluate_terraform.find_var_blocks("${var.a}-${local.b}")
        blocks[0].replace("var.a", "x")
        blocks.reverse()
        assert [b.var_only for b in evaluate_terraform.find_var_blocks("${var.a}-${local.b}")] == ["var.a", "local.b"]


def test_sets_are_evaluated_afresh() -> None:
    """A copy of a set may iterate in another order than the set evaluated from the same string, which
    would reorder `for_each` instances (seen on a fixture under some hash seeds): sets are not remembered."""
    plain = list(evaluate_terraform.evaluate('toset(["dana", "erin", "frank"])'))
    with checkov_seam.remembered_rendering() as hits:
        for _ in range(3):
            assert list(evaluate_terraform.evaluate('toset(["dana", "erin", "frank"])')) == plain
            assert list(evaluate_terraform.evaluate('{"people": toset(["dana", "erin"])}')["people"])
    assert hits["evaluate"] == 0


def test_the_audit_finds_the_for_each_key_with_it() -> None:
    """The audit's runs use it (lean runs): the records and findings are those of the module tree."""
    _, failed = run_checkov_with_findings(str(FIXTURES / "rendering"))
    found = sorted((record.check_id, record.resource) for record, _ in failed)
    assert ("CKV_KEYLESS_1", 'module.user["robot"].aws_iam_access_key.this[0]') in found
    assert not any('"alice"' in resource and check == "CKV_KEYLESS_1" for check, resource in found)
