"""Rule 9: an access key's secret leaves the secrets store (an output, a plain SSM parameter)."""

from __future__ import annotations

import re

from keyless.detect.walk import Path
from keyless.findings import Finding, dotted, simple_finding
from keyless.lang.cloudformation import ACCESS_KEY, Template
from keyless.lang.terraform import Block, TerraformModel, strings

SLUG = "access-key-secret-exposed"
TERRAFORM = {"resource": ("aws_iam_access_key",)}
CLOUDFORMATION = (ACCESS_KEY,)


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    if model is None:
        return []
    pattern = re.compile(
        rf"aws_iam_access_key\.{re.escape(block.name)}(?:\[[^\]]*\])?\.(?:secret|ses_smtp_password_v4)\b")
    leaks = []
    for other in model.in_scope(block):
        if other.kind == "output":
            prefix, note = f"output.{other.name}", " (an output: it is in the state, sensitive or not)"
        elif other.kind == "resource" and other.type == "aws_ssm_parameter" \
                and str(other.config.get("type", "String")) != "SecureString":
            prefix, note = other.address, f" (a plain {other.config.get('type', 'String')} SSM parameter)"
        else:
            continue
        paths = [path for path, text in strings(other.config) if pattern.search(text)]
        if paths:
            leaks.append(f"{prefix}.{dotted(paths[0])}{note}")
    if not leaks:
        return []
    return [simple_finding(SLUG, block.address, (),
                           f"the secret of {block.address} leaves the secrets store through {', '.join(leaks)}")]


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
