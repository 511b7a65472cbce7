"""Rules 2, 6, 7 and 9 on resolved forms, without an engine: what fixtures cannot show on their own
(a CloudFormation template cfn-lint would reject, each written form of a `for` expression)."""

from __future__ import annotations

from typing import Any

import pytest

from keyless.lang.cloudformation import Template
from keyless.lang.instance_profiles import profile_gaps
from keyless.lang.terraform import Block, TerraformModel
from keyless.rules import access_key_secret_exposed, human_user_access_key


def _template(**resources: dict[str, Any]) -> Template:
    return Template({"Resources": {name: {"Type": t, "Properties": p} for name, (t, p) in resources.items()}})


def test_profile_gaps_judge_each_branch_and_roleless_profiles() -> None:
    tpl = _template(
        Bare=("AWS::IAM::InstanceProfile", {}),  # no Roles at all (cfn-lint rejects it; CloudFormation too)
        Empty=("AWS::IAM::InstanceProfile", {"Roles": []}),
        NoValueOnly=("AWS::IAM::InstanceProfile", {"Roles": [{"Ref": "AWS::NoValue"}]}),
        Good=("AWS::IAM::InstanceProfile", {"Roles": [{"Ref": "Role"}]}),
        Role=("AWS::IAM::Role", {}),
    )
    assert profile_gaps({"Ref": "Good"}, tpl) == []
    assert profile_gaps({"Fn::GetAtt": ["Good", "Arn"]}, tpl) == []
    assert profile_gaps({"Arn": {"Fn::GetAtt": "Good.Arn"}}, tpl) == []
    for roleless in ("Bare", "Empty", "NoValueOnly"):
        assert profile_gaps({"Ref": roleless}, tpl) == [f"uses instance profile {roleless}, which has no Roles"]
    assert profile_gaps(None, tpl) == ["has no IamInstanceProfile"]
    assert profile_gaps({"Fn::If": ["C", {"Ref": "Good"}, {"Ref": "AWS::NoValue"}]}, tpl) == [
        "has no IamInstanceProfile when condition C is false"]
    assert profile_gaps({"Fn::If": ["C", {"Ref": "AWS::NoValue"}, {"Ref": "Empty"}]}, tpl) == [
        "has no IamInstanceProfile when condition C is true",
        "uses instance profile Empty, which has no Roles when condition C is false"]
    assert profile_gaps({"Arn": {"Fn::If": ["C", {"Fn::GetAtt": ["Good", "Arn"]}, {"Ref": "AWS::NoValue"}]}}, tpl) == [
        "has no IamInstanceProfile when condition C is false"]
    assert profile_gaps({"Ref": "ExternalProfileParameter"}, tpl) == []  # cannot be read: benefit of the doubt


@pytest.mark.parametrize(("text", "leaks"), [
    ("aws_iam_access_key.k.secret", True),
    ('aws_iam_access_key.k["a"].secret', True),
    ("aws_iam_access_key.k[*].secret", True),
    ("values(aws_iam_access_key.k)[*].secret", True),
    ("{for k , v in aws_iam_access_key.k : k :> v.secret}", True),
    ("[for v in values(aws_iam_access_key.k) : v.ses_smtp_password_v4]", True),
    ("{for name, key in aws_iam_access_key.k : name => key.secret}", True),
    ("{for k , v in aws_iam_access_key.k : k :> v.id}", False),
    ("{for k , v in aws_iam_access_key.k : k :> k.secret}", False),  # the key variable is no key object
    ("aws_iam_access_key.k.encrypted_secret", False),
    ("aws_iam_access_key.k2.secret", False),
    ("aws_iam_access_key.k.id", False),
])
def test_secret_references(text: str, leaks: bool) -> None:
    assert access_key_secret_exposed._leaks(text, "k") is leaks


@pytest.mark.parametrize(("pgp_key", "encrypted"), [
    ("keybase:ci", True), ("var.pgp_key", False), ("", False), (None, False), ("${var.pgp_key}", False),
    ("data.aws_ssm_parameter.pgp.value", True),
])
def test_pgp_key(pgp_key: Any, encrypted: bool) -> None:
    assert access_key_secret_exposed.encrypted({"pgp_key": pgp_key}) is encrypted


def _block(type_: str, name: str, config: dict[str, Any], file: str = "/r/main.tf") -> Block:
    return Block(kind="resource", type=type_, name=name, address=f"{type_}.{name}", rendered=config, file=file)


def test_rule_2_never_matches_unresolved_each_and_skips_switched_off_profiles() -> None:
    key = _block("aws_iam_access_key", "robots", {"for_each": "var.robots", "user": "each.value.name"})
    profile = _block("aws_iam_user_login_profile", "people", {"for_each": "var.people", "user": "each.value.name"})
    assert human_user_access_key.terraform(key, TerraformModel([key, profile])) == []
    literal = _block("aws_iam_access_key", "lit", {"for_each": {"a": {"name": "ann"}}, "user": "each.value.name"})
    on = _block("aws_iam_user_login_profile", "ann", {"user": "ann"})
    off = _block("aws_iam_user_login_profile", "ann", {"user": "ann", "count": 0})
    assert [f.slug for f in human_user_access_key.terraform(literal, TerraformModel([literal, on]))] == [
        "human-user-access-key"]
    assert human_user_access_key.terraform(literal, TerraformModel([literal, off])) == []
    other_root = _block("aws_iam_user_login_profile", "ann", {"user": "ann"}, file="/prod/main.tf")
    assert human_user_access_key.terraform(literal, TerraformModel([literal, other_root])) == []


def test_rule_2_resolves_count_index_through_the_user_resource() -> None:
    robots = _block("aws_iam_user", "robots", {"count": 2, "name": "var.robot_names"})
    people = _block("aws_iam_user", "people", {"count": 2, "name": "var.people_names"})
    key = _block("aws_iam_access_key", "robots", {"count": 2, "user": "aws_iam_user.robots[count.index].name"})
    robot_profile = _block("aws_iam_user_login_profile", "robots", {"user": "aws_iam_user.robots[count.index].name"})
    people_profile = _block("aws_iam_user_login_profile", "people", {"user": "aws_iam_user.people[count.index].name"})
    assert human_user_access_key.terraform(key, TerraformModel([robots, people, key, people_profile])) == []
    found = human_user_access_key.terraform(key, TerraformModel([robots, people, key, robot_profile]))
    assert [f.slug for f in found] == ["human-user-access-key"]
