"""Credentials that a boot script exports or writes (EC2 user data).

Only assignments with a literal value count: `$(...)`, backticks and shell or Terraform
expansions (`$VAR`, `${var.x}`) fetch or pass the value at run time, which is not hardcoding.
A reference to an access key's secret is still flagged, whatever the expansion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from keyless.detect.material import decode_base64_text

_VALUE = r"[\"']?(?P<value>[^\s\"';&|]*)"
CREDENTIAL_WRITES = re.compile(
    r"aws\s+configure\s+set\s+(?:[\w-]+\.)?(?P<cli>aws_access_key_id|aws_secret_access_key|aws_session_token)\s+"
    + _VALUE.replace("value", "cli_value")
    + r"|(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))(?P<env>AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN)"
    r"\s*=\s*"
    + _VALUE.replace("value", "env_value")
    + r"|(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))(?P<file>aws_access_key_id|aws_secret_access_key|aws_session_token)\s*=\s*"
    + _VALUE.replace("value", "file_value")
)
# What a flattened CloudFormation script holds where it references an access key.
ACCESS_KEY_MARKER = "keyless-access-key-reference"
ACCESS_KEY_REFERENCE = re.compile(
    r"aws_iam_access_key\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?\.(?:secret|ses_smtp_password_v4|id)\b"
)


@dataclass(frozen=True)
class CredentialWrite:
    variable: str
    how: str  # "aws configure set", "environment variable" or "credentials file"


def _is_literal(value: str) -> bool:
    if not value:
        return False
    if ACCESS_KEY_MARKER in value or ACCESS_KEY_REFERENCE.search(value):
        return True
    return not value.startswith(("$", "`"))


def find_credential_writes(text: str) -> list[CredentialWrite]:
    """Credential assignments in a script, also when the script is a base64 literal."""
    texts = [text]
    decoded = decode_base64_text(text)
    if decoded is not None:
        texts.append(decoded)
    found: list[CredentialWrite] = []
    for candidate in texts:
        lower = candidate.lower()
        if "aws_" not in lower and "aws configure" not in lower:
            continue
        for m in CREDENTIAL_WRITES.finditer(candidate):
            if m.group("cli") and _is_literal(m.group("cli_value")):
                found.append(CredentialWrite(m.group("cli"), "aws configure set"))
            elif m.group("env") and _is_literal(m.group("env_value")):
                found.append(CredentialWrite(m.group("env"), "environment variable"))
            elif m.group("file") and _is_literal(m.group("file_value")):
                found.append(CredentialWrite(m.group("file"), "credentials file"))
    return found

