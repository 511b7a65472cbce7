"""Rule 2: an access key for an IAM user who also has console access (a login profile): a person.

Terraform compares resolved users, never the written text alone: `user = each.value.name` means a
different user in every `for_each` block, so it is resolved through the block's own `for_each` (a
literal collection, or the `aws_iam_user` resource it iterates). A login profile switched off
(`count = 0`, an empty `for_each`) gives nobody console access. Only blocks of the key's own module
instance are compared, so two roots of one tree (`envs/dev`, `envs/prod`) never mix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from keyless.findings import Finding, simple_finding
from keyless.lang.cloudformation import ACCESS_KEY, Template, present

if TYPE_CHECKING:  # Terraform helpers are imported where a Terraform block is judged (see keyless.rules)
    from keyless.lang.terraform import Block, TerraformModel

SLUG = "human-user-access-key"
TERRAFORM = {"resource": ("aws_iam_access_key",), "module": ("module",)}
CLOUDFORMATION = (ACCESS_KEY,)

_USER = "aws_iam_user"
_EACH = re.compile(r"^\s*\$?\{?\s*each\.(key|value)((?:\.[A-Za-z0-9_-]+)*)\s*\}?\s*$")
_USER_REFERENCE = re.compile(r"\baws_iam_user\.([A-Za-z0-9_-]+)")
# Text an engine left unrendered: a reference, not a name.
_REFERENCE = re.compile(r"\$\{|^\s*(?:var|local|data|module|each|count|self|aws_[a-z0-9_]+)\.")
Identity = tuple[str, ...]


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    if block.kind == "module":
        return _registry_module_call(block)
    if model is None or _switched_off(block.config):
        return []
    mine = _users(block, model)
    if not mine:
        return []
    for other in model.of_type(block, "resource", "aws_iam_user_login_profile"):
        if _switched_off(other.config):
            continue
        if not mine.isdisjoint(_users(other, model)):
            names = sorted(n for kind, *rest in mine if kind == "name" for n in rest)
            user = ", ".join(names) if names else str(block.config.get("user"))
            return [simple_finding(
                SLUG, block.address, ("user",),
                f"{block.address} creates an access key for IAM user {user} (user), "
                f"who also has console access through {other.address}",
            )]
    return []


def judges_module_call(config: Mapping[str, object]) -> bool:
    """Only calls to registry modules of the knowledge base that make a console login as well as a key;
    a local module, or one `terraform init` fetched, is followed instead."""
    from keyless.lang.registry_modules import registry_module

    entry = registry_module(config.get("source"))
    return entry is not None and bool(entry.login_switches)


def _registry_module_call(block: Block) -> list[Finding]:
    """A registry module that, by default, makes a user with both a console login profile and an access
    key (`registry_modules`), judged on the call unless the call turns one of them off."""
    from keyless.lang.registry_modules import login_switched_off, registry_module, switched_off
    from keyless.lang.terraform_modules import initialised_module_dir

    entry = registry_module(block.config.get("source"))
    if entry is None or not entry.login_switches:
        return []
    if switched_off(entry, block.config) is not None or login_switched_off(entry, block.config) is not None:
        return []
    version = block.config.get("version")
    if block.file and initialised_module_dir(os.path.dirname(block.file), str(block.config.get("source")),
                                             version if isinstance(version, str) else None):
        return []  # fetched by terraform init: checkov expands it and its resources are judged
    logins = " or ".join(f"{s.argument} = false" for s in entry.login_switches)
    return [simple_finding(
        SLUG, block.address, ("source",),
        f"module {block.name} creates, from {entry.source} (source), an IAM user with both a console login "
        f"profile and an access key by default: a person's long-term key (set {logins}, or turn the key off)")]


def _switched_off(config: Mapping[str, Any]) -> bool:
    """Whether a block creates nothing: `count` resolved to 0, or an empty literal `for_each`."""
    count = config.get("count")
    if isinstance(count, (int, float)) and not isinstance(count, bool) and count == 0:
        return True
    if isinstance(count, str) and count.strip() == "0":
        return True
    return "for_each" in config and config.get("for_each") in ({}, [])


def _users(block: Block, model: TerraformModel) -> set[Identity]:
    """Who a key's or login profile's `user` is: user names where they are known, otherwise the
    `aws_iam_user` resource, otherwise (a variable both sides share) the text as rendered. Empty when
    the user cannot be resolved (an `each.` the block's `for_each` does not explain)."""
    user = block.config.get("user")
    if not isinstance(user, str) or not user.strip():
        return set()
    each = _EACH.match(user)
    if each is not None:
        return _through_for_each(block, model, each.group(1), each.group(2))
    referenced = {m.group(1) for m in _USER_REFERENCE.finditer(user)}
    if ("each." in user or "count.index" in user) and not referenced:
        return set()  # which user depends on the instance, and nothing here names it
    targets = [t for t in model.targets(block, "user") if t.kind == "resource" and t.type == _USER]
    if referenced or targets:
        users = [u for u in _user_resources(block, model) if _resource_name(u) in referenced] or targets
        return _identities(users) if users else {("text", user)}
    return {("name", user)} if not _REFERENCE.search(user) else {("text", user)}


def _through_for_each(block: Block, model: TerraformModel, part: str, attributes: str) -> set[Identity]:
    collection = block.config.get("for_each")
    if isinstance(collection, str):
        names = {m.group(1) for m in _USER_REFERENCE.finditer(collection)}
        # `for_each = aws_iam_user.x`: each.value is a user of x (each.key its own key)
        return _identities([u for u in _user_resources(block, model) if _resource_name(u) in names])
    if isinstance(collection, list):
        items: list[tuple[Any, Any]] = [(v, v) for v in collection]
    elif isinstance(collection, Mapping):
        items = list(collection.items())
    else:
        return set()
    found: set[Identity] = set()
    for key, value in items:
        picked: Any = key if part == "key" else value
        for attribute in filter(None, attributes.split(".")):
            picked = picked.get(attribute) if isinstance(picked, Mapping) else None
        if isinstance(picked, str) and picked and not _REFERENCE.search(picked):
            found.add(("name", picked))
    return found


def _user_resources(block: Block, model: TerraformModel) -> list[Block]:
    return list(model.of_type(block, "resource", _USER))


def _resource_name(block: Block) -> str:
    found = re.search(rf"{_USER}\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?$", block.address)
    return found.group(1) if found else block.name


def _identities(users: list[Block]) -> set[Identity]:
    """Each user's name where it is written literally, else the resource itself."""
    found: set[Identity] = set()
    for user in users:
        name = user.config.get("name")
        if isinstance(name, str) and name and not _REFERENCE.search(name):
            found.add(("name", name))
        else:
            found.add(("resource", user.file, user.module, _resource_name(user)))
    return found


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
