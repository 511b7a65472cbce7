"""What registry modules create by default: a small, versioned knowledge base.

checkov runs offline (`--skip-download`), so a call to a registry module shows no resources at all.
For the modules below, whose public defaults create an IAM access key, rule 1 judges the call itself:
the key is created unless the call turns one of the module's switches off. Each entry says which
versions each switch belongs to (read from the module's source at those tags); an argument of another
major version would be refused by Terraform, so every switch of an entry is honoured whatever the
`version` constraint says. A local module (`./`, `../`) is followed instead, with the caller's inputs.

Adding an entry: its source address, the switches with the versions they exist in, a test in
`tests/unit/test_registry_modules.py`, and a line in `docs/rules/iam-access-key.md`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Switch:
    argument: str
    off: Any  # the value that turns the key off
    versions: str  # the module versions the argument exists in


@dataclass(frozen=True)
class RegistryModule:
    source: str  # registry address, without host and without a version
    switches: tuple[Switch, ...]
    note: str
    secret_outputs: tuple[str, ...] = ()  # outputs that carry the key's secret (rule 8 when handed to compute)
    # switches that turn the user's console login profile off (rule 2); none: the module makes no login
    login_switches: tuple[Switch, ...] = ()


KNOWLEDGE_BASE_VERSION = "2026-11-30"
REGISTRY_MODULES: tuple[RegistryModule, ...] = (
    RegistryModule(
        source="terraform-aws-modules/iam/aws//modules/iam-user",
        switches=(
            Switch("create", False, ">= 6.0.0"),
            Switch("create_access_key", False, ">= 6.0.0"),
            Switch("access_key_status", "Inactive", ">= 6.0.0"),
            Switch("create_user", False, "< 6.0.0"),
            Switch("create_iam_access_key", False, "< 6.0.0"),
            Switch("iam_access_key_status", "Inactive", ">= 5.9.0, < 6.0.0"),
        ),
        note="creates an access key (and a console login profile) unless told not to",
        secret_outputs=("access_key_secret", "access_key_ses_smtp_password_v4",  # 6.x
                        "iam_access_key_secret", "iam_access_key_ses_smtp_password_v4"),  # before 6.0
        login_switches=(
            Switch("create_login_profile", False, ">= 6.0.0"),  # default true (variables.tf, v6.5.0)
            Switch("create_iam_user_login_profile", False, "< 6.0.0"),  # default true (v4.0.0 to v5.60.0)
        ),
    ),
    RegistryModule(
        source="cloudposse/iam-system-user/aws",
        switches=(
            Switch("enabled", False, "all versions (null-label context)"),
            Switch("create_iam_access_key", False, ">= 0.20.0"),
        ),
        note="creates an access key for the system user unless told not to",
        secret_outputs=("secret_access_key", "ses_smtp_password_v4", "ses_smtp_password"),
    ),
)

_HOST = re.compile(r"^(?:registry\.terraform\.io|registry\.opentofu\.org)/", re.IGNORECASE)


def registry_module(source: Any) -> RegistryModule | None:
    """The knowledge-base entry for a module call's `source`, if the source is such a registry module."""
    if not isinstance(source, str):
        return None
    normalised = _HOST.sub("", source.strip()).rstrip("/")
    return next((m for m in REGISTRY_MODULES if m.source.lower() == normalised.lower()), None)


def switched_off(entry: RegistryModule, arguments: Mapping[str, Any]) -> Switch | None:
    """The switch a call sets to turn the key off, or None (the default: the key is created)."""
    for switch in entry.switches:
        value = arguments.get(switch.argument)
        if isinstance(switch.off, bool):
            if value is False or (isinstance(value, str) and value.strip().lower() == "false"):
                return switch
        elif isinstance(value, str) and value.strip().lower() == str(switch.off).lower():
            return switch
    return None


def login_switched_off(entry: RegistryModule, arguments: Mapping[str, Any]) -> Switch | None:
    """The switch a call sets to turn the console login profile off; None while the module makes one
    (its default)."""
    return switched_off(RegistryModule(entry.source, entry.login_switches, entry.note), arguments)
