"""Is a configured value hardcoded, a reference to an access key, or fetched from elsewhere?"""

from __future__ import annotations

import enum
import re

from keyless.detect.userdata import ACCESS_KEY_REFERENCE


class Origin(enum.IntEnum):
    """Ordered so that max() of the parts of a composite value gives the whole value's origin."""

    EXTERNAL = 0  # variables without defaults, data sources, Secrets Manager / SSM references
    LITERAL = 1  # written in the code, directly or through a default
    ACCESS_KEY = 2  # an access key resource's ID or secret


DYNAMIC_REFERENCE = "{{resolve:"
# What checkov leaves of a Terraform reference it could not render: var.x, data.a.b.c, module.m.o,
# aws_x.y.attr, possibly inside ${...}.
_TERRAFORM_REFERENCE = re.compile(
    r"^\$?\{?\s*(?:var|local|data|module|each|count|path|self)\.[\w.\[\]\"*-]+\s*\}?$"
    r"|^\$?\{?\s*[a-z][a-z0-9]*_[\w-]+\.[\w-]+(?:\[[^\]]*\])?\.[\w.\[\]\"*-]+\s*\}?$"
)
_INTERPOLATION_ONLY = re.compile(r"^\$\{[^}]*\}$")


def terraform_origin(value: object) -> Origin:
    """Origin of a value as checkov renders Terraform (unresolved references stay as text)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return Origin.EXTERNAL
        if ACCESS_KEY_REFERENCE.search(text):
            return Origin.ACCESS_KEY
        if DYNAMIC_REFERENCE in text or _TERRAFORM_REFERENCE.match(text) or _INTERPOLATION_ONLY.match(text):
            return Origin.EXTERNAL
        return Origin.LITERAL
    if isinstance(value, dict):
        return max((terraform_origin(v) for v in value.values()), default=Origin.EXTERNAL)
    if isinstance(value, list):
        return max((terraform_origin(v) for v in value), default=Origin.EXTERNAL)
    if value is None or isinstance(value, bool):
        return Origin.EXTERNAL
    return Origin.LITERAL


_FLAG_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none", "null", "0", "1"})
_POINTER_SUFFIXES = ("arn", "name", "path", "param", "parameter", "ssm", "secretid", "file", "env", "enabled", "region")


def is_placeholder_value(name: str, value: object) -> bool:
    """Values under a credential-like name that are not credentials: flags and pointers to a store.

    `SECRET_KEY_ARN = arn:aws:secretsmanager:...` and `USE_SESSION_TOKEN = "true"` say where or
    whether a credential is used; they hand nothing over.
    """
    text = str(value).strip().lower()
    normalised = re.sub(r"[^a-z0-9]", "", name.lower())
    return text in _FLAG_VALUES or text.startswith("arn:") or normalised.endswith(_POINTER_SUFFIXES)
