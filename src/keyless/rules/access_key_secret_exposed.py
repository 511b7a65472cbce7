"""Rule 9: an access key's secret leaves the secrets store (an output, a plain SSM parameter, a file).

Terraform: the secret is followed through direct references (`aws_iam_access_key.x.secret`,
`aws_iam_access_key.x["k"].secret`, splats, `values(aws_iam_access_key.x)[*].secret`) and through
`for` expressions (`{ for k, v in aws_iam_access_key.x : k => v.secret }`). A key created with
`pgp_key` has an empty `secret` (the provider fills `encrypted_secret` instead): nothing leaks, though
rule 1 still flags the key. Only blocks of the key's own module instance are looked at, so two roots
of one tree never mix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING, Any

from keyless.detect.walk import Path
from keyless.findings import Finding, dotted, simple_finding
from keyless.lang.cloudformation import ACCESS_KEY, Template

if TYPE_CHECKING:  # Terraform helpers are imported where a Terraform block is judged (see keyless.rules)
    from keyless.lang.terraform import Block, TerraformModel

SLUG = "access-key-secret-exposed"
TERRAFORM = {"resource": ("aws_iam_access_key",)}
CLOUDFORMATION = (ACCESS_KEY,)
_SECRET = r"\.(?:secret|ses_smtp_password_v4)\b"
# Resources whose value is written out in plain text: where a secret must never go.
_PLAIN_FILES = {
    "local_file": "content", "local_sensitive_file": "content",
    "aws_s3_object": "content", "aws_s3_bucket_object": "content",
}
_UNSET_VARIABLE = re.compile(r"^\s*\$?\{?\s*var\.[A-Za-z0-9_-]+\s*\}?\s*$")


@lru_cache(maxsize=256)
def _patterns(name: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    key = rf"aws_iam_access_key\.{re.escape(name)}\b"
    direct = re.compile(rf"{key}(?:\[[^\]]*\])*\s*\)?(?:\[[^\]]*\])*{_SECRET}")
    loop = re.compile(rf"\bfor\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\s+[\w(\s]*{key}[^:]*:(.*)", re.DOTALL)
    return direct, loop


def _leaks(text: str, name: str) -> bool:
    direct, loop = _patterns(name)
    if direct.search(text):
        return True
    for match in loop.finditer(text):
        value = match.group(2) or match.group(1)
        if re.search(rf"\b{re.escape(value)}{_SECRET}", match.group(3)):
            return True
    return False


def _name(block: Block) -> str:
    found = re.search(r"aws_iam_access_key\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?$", block.address)
    return found.group(1) if found else block.name


def encrypted(config: Mapping[str, Any]) -> bool:
    """Whether the key is created with `pgp_key` (then `secret` is empty). A variable left unset
    (checkov leaves its `var.NAME` text when the default is null) is no key."""
    from keyless.lang.terraform import present

    pgp_key = config.get("pgp_key")
    return present(pgp_key) and not (isinstance(pgp_key, str) and _UNSET_VARIABLE.match(pgp_key))


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    from keyless.lang.terraform import strings

    if model is None or encrypted(block.config):
        return []
    name = _name(block)
    leaks = []
    sinks = chain(model.of_type(block, "output", "output"),
                  *(model.of_type(block, "resource", t) for t in ("aws_ssm_parameter", *_PLAIN_FILES)))
    for other in sinks:
        where = _sink(other)
        if where is None:
            continue
        prefix, note, value = where
        paths = [path for path, text in strings(value) if _leaks(text, name)]
        if paths:
            leaks.append(f"{prefix}{'.' + dotted(paths[0]) if paths[0] else ''}{note}")
    if not leaks:
        return []
    return [simple_finding(SLUG, block.address, (),
                           f"the secret of {block.address} leaves the secrets store through {', '.join(leaks)}")]


def _sink(other: Block) -> tuple[str, str, Any] | None:
    """(where, why, value to search) of a block that would expose a secret, or None."""
    if other.kind == "output":
        return f"output.{other.name}", " (an output: it is in the state, sensitive or not)", other.config
    if other.kind != "resource":
        return None
    if other.type == "aws_ssm_parameter" and str(other.config.get("type", "String")) != "SecureString":
        kind = other.config.get("type", "String")
        return other.address, f" (a plain {kind} SSM parameter)", {"value": other.config.get("value"),
                                                                  "insecure_value": other.config.get("insecure_value")}
    if other.type in _PLAIN_FILES:
        attribute = _PLAIN_FILES[other.type]
        return other.address, " (written out in plain text)", {attribute: other.config.get(attribute)}
    return None


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    leaks: list[tuple[Path, str]] = []
    outputs = tpl.raw.get("Outputs")
    for out_name, output in (outputs.items() if isinstance(outputs, dict) else ()):
        if name in tpl.secret_references(output):
            leaks.append((("Outputs", out_name, "Value"), f"output {out_name}"))
    for other, res in tpl.resources.items():
        if res.get("Type") == "AWS::SSM::Parameter" and name in tpl.secret_references(tpl.properties(other)):
            leaks.append((("Resources", other, "Properties", "Value"), f"plain SSM parameter {other}"))
    return [simple_finding(SLUG, name, path, f"The secret of {name} leaves the secrets store through {where}")
            for path, where in leaks]
