"""Each rule's Terraform logic on plain blocks and models, without an engine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from keyless.lang.environment import terraform_environment
from keyless.lang.terraform import Block, TerraformModel, unwrap
from keyless.rules import scan_terraform_block


def _slugs(findings: Iterable[Any]) -> set[str]:
    return {f.slug for f in findings}


def _resource(type_: str, name: str, config: dict[str, Any], module: str = "") -> Block:
    return Block(kind="resource", type=type_, name=name, address=f"{type_}.{name}", rendered=config, module=module)


def test_unwrap_undoes_checkov_list_wrapping() -> None:
    wrapped = {"a": ["x"], "b": [{"c": [1]}], "d": [["p", "q"]]}
    assert unwrap(wrapped) == {"a": "x", "b": {"c": 1}, "d": ["p", "q"]}


def test_access_key_status() -> None:
    active = _resource("aws_iam_access_key", "k", {"user": "bot"})
    inactive = _resource("aws_iam_access_key", "k", {"user": "bot", "status": "Inactive"})
    assert "iam-access-key" in _slugs(scan_terraform_block(active))
    assert "iam-access-key" not in _slugs(scan_terraform_block(inactive))


def test_login_profile_by_user_name() -> None:
    key = _resource("aws_iam_access_key", "k", {"user": "alice"})
    graph = TerraformModel(blocks=[key, _resource("aws_iam_user_login_profile", "p", {"user": "alice"})])
    assert "human-user-access-key" in _slugs(scan_terraform_block(key, graph))
    other = TerraformModel(blocks=[key, _resource("aws_iam_user_login_profile", "p", {"user": "bob"})])
    assert "human-user-access-key" not in _slugs(scan_terraform_block(key, other))
    # a login profile in another module instance is another user
    apart = TerraformModel(blocks=[key, _resource("aws_iam_user_login_profile", "p", {"user": "alice"}, module="m")])
    assert "human-user-access-key" not in _slugs(scan_terraform_block(key, apart))


def test_provider_credentials() -> None:
    def provider(type_: str, config: dict[str, Any]) -> Block:
        return Block(kind="provider", type=type_, name=type_, address=type_, rendered=config)

    assert "provider-static-credentials" in _slugs(scan_terraform_block(provider("aws", {"access_key": "var.k"})))
    assert "provider-static-credentials" in _slugs(scan_terraform_block(provider("aws", {"token": "var.t"})))
    assert not scan_terraform_block(provider("aws", {"profile": "sso", "access_key": ""}))
    assert not scan_terraform_block(provider("google", {"access_key": "var.k"}))


def test_instance_profile_and_templates() -> None:
    bare = _resource("aws_instance", "i", {"ami": "ami-1"})
    assert "ec2-instance-without-profile" in _slugs(scan_terraform_block(bare))
    with_block_profile = _resource("aws_launch_template", "t", {"iam_instance_profile": {"arn": "arn:x"}})
    assert not scan_terraform_block(with_block_profile)
    empty_block = _resource("aws_launch_template", "t", {"iam_instance_profile": {}})
    assert "launch-template-without-profile" in _slugs(scan_terraform_block(empty_block))

    instance = _resource("aws_instance", "i", {"launch_template": {"id": "aws_launch_template.t.id"}})
    template = _resource("aws_launch_template", "t", {})
    graph = TerraformModel(blocks=[instance, template], edges=[(0, 1, "launch_template.id")])
    assert "ec2-instance-without-profile" in _slugs(scan_terraform_block(instance, graph))
    # A data source lookup cannot be read: benefit of the doubt.
    lookup = Block(kind="data", type="aws_launch_template", name="t", address="aws_launch_template.t", rendered={})
    external = TerraformModel(blocks=[instance, lookup], edges=[(0, 1, "launch_template.id")])
    assert not scan_terraform_block(instance, external)
    # No graph at all: the template is unknown, the instance passes.
    assert not scan_terraform_block(instance)


def test_eks_node_group_template() -> None:
    template = _resource("aws_launch_template", "t", {})
    group = _resource("aws_eks_node_group", "g", {"launch_template": {"id": "aws_launch_template.t.id"}})
    graph = TerraformModel(blocks=[template, group], edges=[(1, 0, "launch_template.id")])
    assert not scan_terraform_block(template, graph)
    assert "launch-template-without-profile" in _slugs(scan_terraform_block(template, TerraformModel(blocks=[template])))


def test_environment_variables_of_every_service() -> None:
    lambda_ = _resource("aws_lambda_function", "f", {"environment": {"variables": {"A_SECRET_KEY": "x1"}}})
    ecs = _resource("aws_ecs_task_definition", "t", {
        "container_definitions": '[{"environment": [{"name": "AWS_ACCESS_KEY_ID", "value": "x2"}]}]'})
    codebuild = _resource("aws_codebuild_project", "p", {"environment": {"environment_variable": [
        {"name": "AWS_SECRET_ACCESS_KEY", "value": "x3"},
        {"name": "AWS_ACCESS_KEY_ID", "value": "/ssm/name", "type": "PARAMETER_STORE"}]}})
    found = {name for b in (lambda_, ecs, codebuild) for _, name, _ in terraform_environment(b)}
    assert found == {"A_SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert all("credentials-in-compute" in _slugs(scan_terraform_block(b)) for b in (lambda_, ecs, codebuild))


def test_compute_values_from_outside_pass() -> None:
    env = {"S3_SECRET_KEY": "var.key", "S3_ACCESS_KEY": "data.aws_ssm_parameter.k.value",
           "SECRET_KEY_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k"}
    block = _resource("aws_lambda_function", "f", {"environment": {"variables": env}})
    assert not scan_terraform_block(block)


def test_user_data_behind_base64encode_local() -> None:
    template = _resource("aws_launch_template", "t", {
        "iam_instance_profile": {"name": "p"}, "user_data": "base64encode(local.boot)"})
    script = Block(kind="locals", type="locals", name="boot", address="boot",
                   rendered="aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE")  # type: ignore[arg-type]
    graph = TerraformModel(blocks=[template, script])
    assert _slugs(scan_terraform_block(template, graph)) == {"credentials-in-compute", "hardcoded-access-key-id"}
    assert not scan_terraform_block(template, TerraformModel(blocks=[template]))


def test_secret_exposure_needs_an_output_or_plain_parameter() -> None:
    key = _resource("aws_iam_access_key", "k", {"user": "bot", "status": "Inactive"})
    output = Block(kind="output", type="output", name="o", address="o",
                   rendered={"value": "aws_iam_access_key.k.secret", "sensitive": True})
    secure = _resource("aws_ssm_parameter", "p", {"type": "SecureString", "value": "aws_iam_access_key.k.secret"})
    plain = _resource("aws_ssm_parameter", "p", {"type": "String", "value": "aws_iam_access_key.k.secret"})
    other_key = Block(kind="output", type="output", name="o", address="o", rendered={"value": "aws_iam_access_key.k2.secret"})
    assert _slugs(scan_terraform_block(key, TerraformModel(blocks=[key, output]))) == {"access-key-secret-exposed"}
    assert _slugs(scan_terraform_block(key, TerraformModel(blocks=[key, plain]))) == {"access-key-secret-exposed"}
    assert not scan_terraform_block(key, TerraformModel(blocks=[key, secure]))
    assert not scan_terraform_block(key, TerraformModel(blocks=[key, other_key]))


@pytest.mark.parametrize("value", [
    "Zm9yIHRoZSBzYWtlIG9mIGFuIGV4YW1wbGUgb25s",  # bare 40-character base64 under a plain name
    "9fceb02d0ae598e95dc970b74767f19372d61af8",  # git SHA
    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",  # source_code_hash
])
def test_forty_character_look_alikes_pass(value: str) -> None:
    block = _resource("aws_ssm_parameter", "p", {"type": "String", "value": value, "tags": {"Commit": value}})
    assert not scan_terraform_block(block)


def test_compute_value_assembled_from_a_variable_passes() -> None:
    env = {"S3_ACCESS_KEY": "prefix-${var.key_id}", "S3_SECRET_KEY": "${data.aws_ssm_parameter.k.value}"}
    assert not scan_terraform_block(_resource("aws_lambda_function", "f", {"environment": {"variables": env}}))
    literal = {"S3_SECRET_KEY": "hardcoded-${local.suffix}"}  # a local checkov could not render is still code
    assert scan_terraform_block(_resource("aws_lambda_function", "f", {"environment": {"variables": literal}}))
