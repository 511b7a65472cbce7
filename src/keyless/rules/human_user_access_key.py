"""Rule 2: an access key for an IAM user who also has console access (a login profile): a person."""

from __future__ import annotations

from collections.abc import Mapping

from keyless.findings import Finding, simple_finding
from keyless.lang.cloudformation import ACCESS_KEY, Template, present
from keyless.lang.terraform import Block, TerraformModel

SLUG = "human-user-access-key"
TERRAFORM = {"resource": ("aws_iam_access_key",)}
CLOUDFORMATION = (ACCESS_KEY,)


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    profile = _login_profile_for(block, model)
    if profile is None:
        return []
    return [simple_finding(
        SLUG, block.address, ("user",),
        f"{block.address} creates an access key for IAM user {block.config.get('user')!s} (user), "
        f"who also has console access through {profile}",
    )]


def _login_profile_for(block: Block, model: TerraformModel | None) -> str | None:
    """The login profile of the same user in the same module, matched by written name or by reference."""
    if model is None:
        return None
    user = block.config.get("user")
    my_users = {id(b) for b in model.targets(block, "user")}
    for other in model.in_scope(block):
        if other.kind != "resource" or other.type != "aws_iam_user_login_profile":
            continue
        same_value = isinstance(user, str) and user and other.config.get("user") == user
        same_target = bool(my_users) and not my_users.isdisjoint(id(b) for b in model.targets(other, "user"))
        if same_value or same_target:
            return other.address
    return None


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    user = tpl.properties(name).get("UserName")
    user_ref = user.get("Ref") if isinstance(user, Mapping) else None
    for other, res in tpl.resources.items():
        if res.get("Type") != "AWS::IAM::User" or not present(tpl.properties(other).get("LoginProfile"), tpl):
            continue
        if user_ref == other or (isinstance(user, str) and user == tpl.properties(other).get("UserName")):
            return [simple_finding(
                SLUG, name, ("Resources", name, "Properties", "UserName"),
                f"{name} creates an access key for IAM user {other}, who also has console access (LoginProfile)")]
    return []
