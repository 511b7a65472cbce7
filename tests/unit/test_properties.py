"""Property-based tests: generated values in the shapes each engine produces never make keyless raise,
and the detectors' invariants hold for any surrounding text."""

from __future__ import annotations

import base64
import json
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyless.detect.material import (
    account_id_from_key_id,
    find_key_ids,
    find_secrets,
    mask_key_id,
    mask_secret,
)
from keyless.detect.userdata import find_credential_writes
from keyless.detect.walk import find_key_material
from keyless.lang.terraform import Block, TerraformModel, unwrap
from keyless.rules import cloudformation_scope, scan_template, scan_terraform_block, terraform_scope

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

key_ids = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(["AKIA", "ASIA", "ABIA", "ACCA"]),
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16),
)
# Surroundings that can never contain a key ID themselves (no uppercase letters).
filler = st.text(alphabet=string.ascii_lowercase + string.digits + " =:;,\"'\n\t/-_{}[]()$", max_size=60)
separator = st.sampled_from([" ", "=", ":", "\"", "'", "\n", ",", "(", "/", "-", "_"])
secrets = st.text(alphabet=string.ascii_letters + string.digits + "/+", min_size=40, max_size=40).filter(
    lambda s: any(c.islower() for c in s) and any(c.isupper() for c in s)
)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=80), key_ids)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=20), children, max_size=4)),
    max_leaves=30,
)


@FAST
@given(filler, separator, key_ids, separator, filler)
def test_a_key_id_anywhere_in_a_string_is_found(before: str, sep1: str, key: str, sep2: str, after: str) -> None:
    assert key in find_key_ids(before + sep1 + key + sep2 + after)


@FAST
@given(st.sampled_from(list(string.ascii_letters + string.digits)), key_ids, filler)
def test_a_key_id_glued_after_an_alphanumeric_token_is_not_found(glue: str, key: str, after: str) -> None:
    assert key not in find_key_ids("tok" + glue + key + " " + after)


@FAST
@given(key_ids, st.sampled_from(list(string.ascii_uppercase + string.digits)))
def test_a_key_id_glued_before_more_uppercase_or_digits_is_not_found(key: str, glue: str) -> None:
    assert find_key_ids(key + glue) == []


@FAST
@given(key_ids, secrets)
def test_masks_reveal_at_most_what_they_should(key: str, secret: str) -> None:
    masked_key = mask_key_id(key)
    assert key[4:-4] not in masked_key and len(masked_key.replace("…", "")) <= 8
    assert secret[:5] not in mask_secret(secret) and secret[:4] in mask_secret(secret)


@FAST
@given(filler, secrets, filler)
def test_a_secret_under_a_credential_name_is_found_and_only_real_substrings_are(before: str, secret: str, after: str) -> None:
    text = f"{before} aws_secret_access_key = {secret}\n{after}"
    found = find_secrets(text)
    assert secret in [m.value for m in found]
    assert all(m.value in text for m in found)


@FAST
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    find_key_ids(text)
    find_secrets(text, "secret_key")
    find_credential_writes(text)
    find_credential_writes(base64.b64encode(text.encode()).decode())


@FAST
@given(st.integers(min_value=0, max_value=10**12 - 1), st.binary(min_size=4, max_size=4))
def test_account_id_round_trip(account: int, tail: bytes) -> None:
    head = (account << 7).to_bytes(6, "big")
    key = "AKIA" + base64.b32encode(head + tail).decode()
    assert account_id_from_key_id(key) == f"{account:012d}"


@FAST
@given(json_values)
def test_walking_any_value_finds_only_what_is_in_it(value: Any) -> None:
    dumped = json.dumps(value, default=str)
    for _path, material in find_key_material(value):
        assert material.value in dumped


def _checkov_wrap(value: Any) -> Any:
    """checkov's Terraform shape: every attribute value wrapped in a list."""
    if isinstance(value, dict):
        return {k: [_checkov_wrap(v)] for k, v in value.items()}
    return value


tf_types = st.sampled_from([*terraform_scope("credentials-in-compute")["resource"], "aws_iam_access_key", "aws_s3_bucket",
                            "aws_instance"])


@FAST
@given(tf_types, st.dictionaries(st.text(max_size=20), json_values, max_size=6))
def test_terraform_core_never_raises_on_checkov_shapes(resource_type: str, config: dict[str, Any]) -> None:
    block = Block("resource", resource_type, "x", f"{resource_type}.x", unwrap(_checkov_wrap(config)))
    for finding in scan_terraform_block(block, TerraformModel(blocks=[block])):
        assert finding.resource == block.address


cfn_types = st.sampled_from([*cloudformation_scope("credentials-in-compute"), "AWS::IAM::AccessKey", "AWS::IAM::User",
                             "AWS::SSM::Parameter"])
intrinsics = st.one_of(
    json_values,
    st.builds(lambda v: {"Ref": v}, st.text(max_size=10)),
    st.builds(lambda v: {"Fn::GetAtt": [v, "SecretAccessKey"]}, st.text(max_size=10)),
    st.builds(lambda v: {"Fn::Sub": v}, st.text(max_size=40)),
    st.builds(lambda a, b: {"Fn::Join": [a, b]}, json_values, json_values),
    st.builds(lambda v: {"Fn::Base64": v}, json_values),
    st.builds(lambda v: {"Fn::Unknown": v}, json_values),
)
resources = st.dictionaries(
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=8),
    st.one_of(
        json_values,
        st.fixed_dictionaries({"Type": cfn_types, "Properties": st.one_of(
            json_values, st.dictionaries(st.text(max_size=24), intrinsics, max_size=5))}),
    ),
    max_size=5,
)


@FAST
@given(st.one_of(json_values, st.fixed_dictionaries({"Resources": st.one_of(json_values, resources),
                                                     "Outputs": json_values, "Parameters": json_values})))
def test_cloudformation_core_never_raises_on_any_shape(template: Any) -> None:
    for finding in scan_template(template):
        assert finding.rule.cfn_lint_id


@FAST
@given(st.fixed_dictionaries({"Resources": resources}))
def test_cloudformation_core_never_raises_on_cfn_lint_nodes(template: Any) -> None:
    from cfnlint.decode import decode_str

    decoded, errors = decode_str(json.dumps(template, default=str))
    if decoded is not None:
        scan_template(decoded)


@FAST
@given(tf_types, st.dictionaries(st.text(max_size=20), json_values, max_size=6))
def test_checkov_adapter_never_raises_on_checkov_shapes(resource_type: str, config: dict[str, Any]) -> None:
    from checkov.common.models.enums import CheckResult

    from keyless.engines.checkov_adapter import register

    conf = {**_checkov_wrap(config), "__address__": f"{resource_type}.x", "__start_line__": 1, "__end_line__": 2}
    for check in register("credentials-in-compute") + register("hardcoded-secret-access-key"):
        if check.block_type != "resource" or "AWS::" in str(check.supported_entities):
            continue
        check.entity_path, check.graph = f"/main.tf:{resource_type}:x", None
        assert check.scan_entity_conf(conf, resource_type) in (CheckResult.PASSED, CheckResult.FAILED, CheckResult.UNKNOWN)


@FAST
@given(st.fixed_dictionaries({"Resources": resources}))
def test_cfn_lint_rules_never_raise_on_cfn_lint_templates(template: Any) -> None:
    from cfnlint.decode import decode_str
    from cfnlint.template import Template

    from keyless import cfn_lint

    decoded, _ = decode_str(json.dumps(template, default=str))
    if decoded is None:
        return
    try:
        cfn = Template("generated.json", decoded, ["us-east-1"])
    except Exception:  # cfn-lint itself refuses the shape; nothing reaches keyless then
        return
    for name in cfn_lint.__all__:
        for match in getattr(cfn_lint, name)().match(cfn):
            assert match.message
