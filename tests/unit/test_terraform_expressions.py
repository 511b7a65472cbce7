"""The expression subset that decides what a module creates, with Terraform's unknown semantics."""

from __future__ import annotations

from typing import Any

import pytest

from keyless.lang.terraform_expressions import UNKNOWN, evaluate, evaluate_value

VALUES: dict[tuple[str, str], Any] = {
    ("var", "create"): True, ("var", "create_key"): False, ("var", "items"): {}, ("var", "profile"): None,
    ("var", "name"): "app", ("local", "list"): [1, 2],
}


def resolve(root: str, name: str) -> Any:
    return VALUES.get((root, name), UNKNOWN)


@pytest.mark.parametrize(("expression", "expected"), [
    ("var.create && var.create_key ? 1 : 0", 0),
    ("var.create ? 1 : 0", 1),
    ("var.items", {}),
    ("var.profile != null || var.profile != None ? [1] : []", []),
    ("!var.create && var.profile == null ? var.profile : null", None),
    ("var.create ? aws_iam_instance_profile.this[0].name : var.profile", UNKNOWN),
    ("var.create_key ? aws_iam_instance_profile.this[0].name : var.profile", None),
    ("false && var.unset", False),
    ("true || var.unset", True),
    ("var.unset ? 1 : 0", UNKNOWN),
    ("var.unset ? 1 : 1", 1),
    ("length(local.list) > 1", True),
    ("{ for k, v in var.items : k => v if var.create }", UNKNOWN),
    ("{a = 1, \"b\" = [1, 2]}", {"a": 1, "b": [1, 2]}),
    ("var.profile != null ? ['${var.profile}'] : []", []),
    ("coalesce(var.profile, var.name)", "app"),
    ("try(aws_x.y[0].id, null)", UNKNOWN),
    ("var.create &&", UNKNOWN),  # not an expression: unknown, never an error
])
def test_evaluate(expression: str, expected: Any) -> None:
    assert evaluate(expression, resolve) == expected


def test_parser_output_is_unwrapped() -> None:
    assert evaluate_value(["${var.create ? 1 : 0}"], resolve) == 1
    assert evaluate_value("plain", resolve) == "plain"
    assert evaluate_value("prefix-${var.name}", resolve) is UNKNOWN
