"""Issue 12, "both formats": secrets beside key IDs, placeholders, LocalStack providers."""

from __future__ import annotations

import random
import string

import pytest

from keyless.detect.material import (
    find_key_ids,
    find_real_key_ids,
    find_secrets,
    is_placeholder,
    looks_like_secret_beside_key_id,
)
from keyless.detect.walk import find_key_material, sibling_group
from keyless.rules.provider_static_credentials import is_local_emulator

KEY_ID = "AKIAUATT63SKGW42KCDY"
SECRET = "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"


def _secrets(value: object) -> list[tuple[object, str]]:
    return [(where, m.value) for where, m in find_key_material(value) if m.kind == "secret-access-key"]


@pytest.mark.parametrize("key_id", ["AKIAXXXXXXXXXXXXXXXX", "AKIA0000000000000000", "ASIAYYYYYYYYYYYYYYYY",
                                    "AKIAXXXXYYYYXXXXYYYY", "AKIAB2C3AAAAAAAAAAAA"])
def test_placeholder_key_ids_are_found_by_the_detector_but_not_reported(key_id: str) -> None:
    assert is_placeholder(key_id)
    assert find_key_ids(f"id={key_id}") == [key_id]  # still masked wherever key IDs are masked
    assert find_real_key_ids(f"id={key_id}") == []
    assert find_key_material({"tags": {"Id": key_id}}) == []


def test_documentation_example_and_real_keys_are_not_placeholders() -> None:
    assert not is_placeholder("AKIAIOSFODNN7EXAMPLE") and not is_placeholder("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    rng = random.Random(12)
    base32 = string.ascii_uppercase + "234567"
    alphabet = string.ascii_letters + string.digits + "/+"
    keys = ["AKIA" + "".join(rng.choice(base32) for _ in range(16)) for _ in range(20000)]
    secrets = ["".join(rng.choice(alphabet) for _ in range(40)) for _ in range(20000)]
    assert [k for k in keys if is_placeholder(k)] == []
    assert [s for s in secrets if is_placeholder(s)] == []


def test_a_placeholder_secret_under_a_secret_name_is_not_reported() -> None:
    assert find_secrets("AbCdEfGhxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "aws_secret_access_key") == []
    assert [m.value for m in find_secrets(SECRET, "aws_secret_access_key")] == [SECRET]


@pytest.mark.parametrize(("where", "group"), [
    (("environment", "variables", "STORAGE_PASS"), ("environment", "variables")),
    (("container_definitions", 0, "environment", 1, "value"), ("container_definitions", 0, "environment")),
    (("Tags", 1, "Value"), ("Tags",)),
    (("Tags", 1, "Value", "Fn::Sub"), ("Tags",)),
    (("setting", "value"), ()),
])
def test_sibling_groups(where: tuple[object, ...], group: tuple[object, ...]) -> None:
    assert sibling_group(where) == group


def test_a_secret_beside_a_key_id_is_found_under_any_name() -> None:
    lambda_env = {"environment": {"variables": {"STORAGE_KEY_ID": KEY_ID, "STORAGE_PASS": SECRET}}}
    assert _secrets(lambda_env) == [(("environment", "variables", "STORAGE_PASS"), SECRET)]
    ecs = {"environment": [{"name": "S3_KEY", "value": KEY_ID}, {"name": "S3_PASS", "value": SECRET}]}
    assert _secrets(ecs) == [(("environment", 1, "value"), SECRET)]
    tags = {"Tags": [{"Key": "LegacyId", "Value": KEY_ID}, {"Key": "LegacyPwd", "Value": SECRET}]}
    assert _secrets(tags) == [(("Tags", 1, "Value"), SECRET)]


def test_what_is_not_a_secret_beside_a_key_id() -> None:
    # no key ID beside it; a placeholder key ID; another map; a git commit ID; a 40-letter identifier
    assert _secrets({"v": {"BUILD_DIGEST": SECRET}}) == []
    assert _secrets({"v": {"ID": "AKIAXXXXXXXXXXXXXXXX", "PASS": SECRET}}) == []
    assert _secrets({"a": {"ID": KEY_ID}, "b": {"PASS": SECRET}}) == []
    sha = "9fceb02d0ae598e95dc970b74767f19372d61af8"
    identifier = "PartnerReportsDeliveryStreamForExportsXY"
    assert _secrets({"v": {"ID": KEY_ID, "COMMIT": sha, "UPPER": sha.upper(), "STREAM": identifier}}) == []
    assert not looks_like_secret_beside_key_id(identifier) and looks_like_secret_beside_key_id(SECRET)


@pytest.mark.parametrize(("config", "emulator"), [
    ({"access_key": "test", "secret_key": "test", "endpoints": {"s3": "http://localhost:4566"}}, True),
    ({"access_key": "test", "secret_key": "test", "s3_use_path_style": True}, True),
    ({"access_key": "mock_access_key", "secret_key": "mock_secret_key", "skip_credentials_validation": "true"}, True),
    ({"access_key": "test", "secret_key": "test"}, False),  # no endpoint: a provider pointed at AWS
    ({"access_key": "test", "secret_key": "test", "s3_use_path_style": False}, False),
    ({"access_key": "${var.key}", "secret_key": "test", "endpoints": {"s3": "http://localhost:4566"}}, False),
    ({"access_key": KEY_ID, "secret_key": SECRET, "endpoints": {"s3": "http://localhost:4566"}}, False),
])
def test_local_emulator_providers(config: dict[str, object], emulator: bool) -> None:
    assert is_local_emulator(config) is emulator
