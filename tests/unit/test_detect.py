"""Unit tests of the engine-neutral detectors, on plain strings and values."""

from __future__ import annotations

import base64
import random

import pytest

from keyless.detect.material import (
    account_id_from_key_id,
    decode_base64_text,
    find_key_ids,
    find_secrets,
    is_credential_name,
    looks_like_secret_key,
    mask_key_id,
    mask_secret,
)
from keyless.detect.userdata import find_credential_writes
from keyless.detect.values import Origin, is_placeholder_value, terraform_origin
from keyless.detect.walk import find_key_material

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GIT_SHA = "3f786850e387550fdab836ed7e6dc881de23001b"


def make_key_id(account: int, prefix: str = "AKIA", seed: int = 0) -> str:
    """Encode an account number into a key ID the way AWS does (account << 7 in the first six bytes)."""
    rng = random.Random(seed)
    head = (account << 7 | rng.getrandbits(7)).to_bytes(6, "big")
    tail = bytes(rng.getrandbits(8) for _ in range(4))
    return prefix + base64.b32encode(head + tail).decode()


@pytest.mark.parametrize("prefix", ["AKIA", "ASIA", "ABIA", "ACCA"])
def test_credential_prefixes_are_found(prefix: str) -> None:
    key = make_key_id(123456789012, prefix)
    assert find_key_ids(f"key={key};") == [key]


@pytest.mark.parametrize("prefix", ["AIDA", "AROA", "AGPA", "ANPA", "ANVA", "AIPA"])
def test_unique_ids_are_not_credentials(prefix: str) -> None:
    assert find_key_ids(f"id: {prefix}IOSFODNN7EXAMPLE") == []


def test_old_key_ids_with_digits_outside_base32_are_found() -> None:
    assert find_key_ids("AKIAI44QH8DHBEXAMPLE") == ["AKIAI44QH8DHBEXAMPLE"]


@pytest.mark.parametrize(
    "text", ["XAKIAIOSFODNN7EXAMPLE", "7AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE1", "AKIAIOSFODNN7EXAMPLEZ"]
)
def test_ids_glued_into_longer_tokens_are_not_keys(text: str) -> None:
    assert find_key_ids(text) == []


def test_a_lowercase_word_glued_after_a_key_id_is_tolerated() -> None:
    # checkov drops heredoc newlines once it renders an interpolation
    assert find_key_ids("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLEexport X=1") == ["AKIAIOSFODNN7EXAMPLE"]


def test_secret_needs_a_credential_context() -> None:
    assert find_secrets(SECRET) == []
    assert [m.value for m in find_secrets(SECRET, "aws_secret_access_key")] == [SECRET]
    assert [m.value for m in find_secrets(SECRET, "S3_SECRET_KEY")] == [SECRET]
    assert [m.value for m in find_secrets(f"AKIAIOSFODNN7EXAMPLE:{SECRET}")] == [SECRET]
    assert [m.value for m in find_secrets(f"export AWS_SECRET_ACCESS_KEY={SECRET}")] == [SECRET]


@pytest.mark.parametrize("value", [GIT_SHA, GIT_SHA.upper(), "n1GZQ7tpOj8Vd1sLDUvu0dZz5ZcNl6Z1c6mTgYQK3eA=", "a" * 40])
def test_look_alikes_are_not_secrets(value: str) -> None:
    assert not looks_like_secret_key(value)
    assert find_secrets(value, "secret_key") == []
    assert find_secrets(value, "source_code_hash") == []


def test_session_token_under_its_name() -> None:
    token = "IQoJb3JpZ2luX2VjE" + "A" * 60 + "b/c+d" * 20 + "=="
    found = find_secrets(token, "aws_session_token")
    assert [m.kind for m in found] == ["session-token"]
    assert token not in found[0].masked


def test_masking_reveals_at_most_four_characters() -> None:
    assert mask_key_id("AKIAIOSFODNN7EXAMPLE") == "AKIA…MPLE"
    masked = mask_secret(SECRET)
    assert masked.startswith("wJal") and SECRET[:5] not in masked


def test_account_id_decoding_of_constructed_keys() -> None:
    for seed, account in enumerate([1, 123456789012, 999999999999, 609629065308]):
        assert account_id_from_key_id(make_key_id(account, seed=seed)) == f"{account:012d}"


def test_account_id_of_a_published_key() -> None:
    assert account_id_from_key_id("ASIAY34FZKBOKMUTVV7A") == "609629065308"


def test_old_style_key_ids_have_no_account() -> None:
    assert account_id_from_key_id("AKIAI44QH8DHBEXAMPLE") is None


def test_credential_names() -> None:
    for name in ("AWS_ACCESS_KEY_ID", "accessKeyId", "S3_SECRET_KEY", "SecretAccessKey", "aws_session_token"):
        assert is_credential_name(name), name
    for name in ("BUCKET", "API_URL", "KEYSPACE", "SECRET_NAME_PREFIX"):
        assert not is_credential_name(name), name


def test_placeholders_under_credential_names() -> None:
    assert is_placeholder_value("SECRET_KEY_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:x")
    assert is_placeholder_value("USE_SESSION_TOKEN", "true")
    assert not is_placeholder_value("S3_SECRET_KEY", SECRET)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", ["aws_access_key_id"]),
        (f"export AWS_SECRET_ACCESS_KEY={SECRET}", ["AWS_SECRET_ACCESS_KEY"]),
        ("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", ["aws_access_key_id"]),
        ("export AWS_SECRET_ACCESS_KEY=$(aws secretsmanager get-secret-value --secret-id x)", []),
        ("export AWS_ACCESS_KEY_ID=${var.key_id}", []),
        ("export AWS_SECRET_ACCESS_KEY=${aws_iam_access_key.deploy.secret}", ["AWS_SECRET_ACCESS_KEY"]),
        ("export AWS_REGION=eu-west-1", []),
        (r"printf '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n' > ~/.aws/credentials", ["aws_access_key_id"]),
    ],
)
def test_user_data_credential_writes(script: str, expected: list[str]) -> None:
    assert [w.variable for w in find_credential_writes(script)] == expected


def test_base64_user_data_is_decoded() -> None:
    script = "#!/bin/bash\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
    encoded = base64.b64encode(script.encode()).decode()
    assert decode_base64_text(encoded) == script
    assert [w.variable for w in find_credential_writes(encoded)] == ["AWS_ACCESS_KEY_ID"]
    assert decode_base64_text(GIT_SHA) is None or "AKIA" not in (decode_base64_text(GIT_SHA) or "")


def test_terraform_origins() -> None:
    assert terraform_origin("AKIAIOSFODNN7EXAMPLE") is Origin.LITERAL
    assert terraform_origin("var.key") is Origin.EXTERNAL
    assert terraform_origin("${data.aws_secretsmanager_secret_version.s.secret_string}") is Origin.EXTERNAL
    assert terraform_origin("aws_iam_access_key.deploy.secret") is Origin.ACCESS_KEY
    assert terraform_origin("{{resolve:secretsmanager:x}}") is Origin.EXTERNAL


def test_key_material_paths_and_sibling_names() -> None:
    config = {
        "environment": [{"name": "S3_SECRET_KEY", "value": SECRET}, {"name": "BUCKET", "value": GIT_SHA}],
        "tags": {"id": "AKIAIOSFODNN7EXAMPLE"},
    }
    found = {(path, m.kind) for path, m in find_key_material(config)}
    assert found == {
        (("environment", 0, "value"), "secret-access-key"),
        (("tags", "id"), "access-key-id"),
    }


def test_log_masking_hides_key_material_but_keeps_look_alikes() -> None:
    from keyless.engines.logmask import mask_text

    line = f"Entity configuration: {{'user_data': ['export AWS_SECRET_ACCESS_KEY={SECRET}'], 'id': 'AKIAIOSFODNN7EXAMPLE'}}"
    masked = mask_text(line)
    assert SECRET not in masked and SECRET[:5] not in masked and "AKIAIOSFODNN7EXAMPLE" not in masked
    assert mask_text(f"commit {GIT_SHA}") == f"commit {GIT_SHA}"
