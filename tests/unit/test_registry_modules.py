"""Each knowledge-base entry: a call with the module's defaults is rule 1; each of its switches turns it off."""

from __future__ import annotations

from typing import Any

import pytest

from keyless.lang.registry_modules import REGISTRY_MODULES, RegistryModule, registry_module
from keyless.lang.terraform import Block
from keyless.rules import human_user_access_key, iam_access_key


def _call(source: str, **arguments: Any) -> Block:
    return Block(kind="module", type="module", name="ci", address="ci",
                 rendered={"source": source, "version": "1.0.0", **arguments})


@pytest.mark.parametrize("entry", REGISTRY_MODULES, ids=lambda e: e.source)
def test_defaults_create_a_key(entry: RegistryModule) -> None:
    [finding] = iam_access_key.terraform(_call(entry.source), None)
    assert finding.slug == "iam-access-key" and entry.source in finding.message
    assert iam_access_key.terraform(_call(f"registry.terraform.io/{entry.source}"), None)


@pytest.mark.parametrize(("entry", "argument", "off"),
                         [(e, s.argument, s.off) for e in REGISTRY_MODULES for s in e.switches],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_each_switch_turns_the_key_off(entry: RegistryModule, argument: str, off: Any) -> None:
    assert iam_access_key.terraform(_call(entry.source, **{argument: off}), None) == []
    opposite = True if off is False else "Active"
    assert iam_access_key.terraform(_call(entry.source, **{argument: opposite}), None)


def test_other_sources_are_not_in_the_knowledge_base() -> None:
    assert registry_module("./modules/iam-user") is None
    assert registry_module("terraform-aws-modules/iam/aws//modules/iam-role") is None
    assert iam_access_key.terraform(_call("terraform-aws-modules/iam/aws//modules/iam-role"), None) == []


LOGINS = [e for e in REGISTRY_MODULES if e.login_switches]


def test_only_modules_that_make_a_console_login_are_rule_2() -> None:
    assert [e.source for e in LOGINS] == ["terraform-aws-modules/iam/aws//modules/iam-user"]
    system_user = next(e for e in REGISTRY_MODULES if not e.login_switches)
    assert human_user_access_key.terraform(_call(system_user.source), None) == []


@pytest.mark.parametrize("entry", LOGINS, ids=lambda e: e.source)
def test_defaults_make_a_persons_key(entry: RegistryModule) -> None:
    [finding] = human_user_access_key.terraform(_call(entry.source), None)
    assert finding.slug == "human-user-access-key" and "console login profile" in finding.message


@pytest.mark.parametrize(("entry", "argument", "off"),
                         [(e, s.argument, s.off) for e in LOGINS for s in (*e.login_switches, *e.switches)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_turning_off_the_login_or_the_key_passes_rule_2(entry: RegistryModule, argument: str, off: Any) -> None:
    assert human_user_access_key.terraform(_call(entry.source, **{argument: off}), None) == []
    opposite = True if off is False else "Active"
    assert human_user_access_key.terraform(_call(entry.source, **{argument: opposite}), None)
