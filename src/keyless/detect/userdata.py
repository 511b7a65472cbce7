"""Credentials that a boot script exports or writes (EC2 user data).

Only assignments with a literal value count: `$(...)`, backticks, shell or Terraform expansions
(`$VAR`, `${var.x}`) and CloudFormation dynamic references (`{{resolve:...}}`) fetch or pass the
value at run time, which is not hardcoding.
A reference to an access key's secret is still flagged, whatever the expansion.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from keyless.detect.material import decode_base64_text

_VALUE = r"[\"']?(?P<value>[^\s\"';&|]*)"
# An assignment name counts where no ASCII letter, digit or underscore precedes it, or right after a
# `\n`, `\r` or `\t` escape (printf, echo -e). Each pattern starts with its literal and checks what
# precedes it with a look-behind placed after the literal: the regex engine then skips ahead to the
# literal instead of trying the pattern at every position (a pattern that opens with a look-behind is
# tried everywhere, 10-50x slower). tests/test_detector_oracles.py keeps the single pattern these replace and
# proves they match the same spans.
_NAME_START = r"(?:(?<![A-Za-z0-9_]{literal})|(?<=\\[nrt]{literal}))"
# `aws configure set` (no boundary needed) and credentials-file lines; the CLI form is tried first.
_LOWERCASE_WRITES = re.compile(
    r"aws(?:\s+configure\s+set\s+(?:[\w-]+\.)?(?P<cli>aws_access_key_id|aws_secret_access_key|aws_session_token)\s+"
    + _VALUE.replace("value", "cli_value")
    + "|_" + _NAME_START.format(literal="aws_")
    + r"(?P<file>access_key_id|secret_access_key|session_token)\s*=\s*"
    + _VALUE.replace("value", "file_value")
    + ")"
)
# Environment variables.
_UPPERCASE_WRITES = re.compile(
    r"AWS_" + _NAME_START.format(literal="AWS_")
    + r"(?P<env>ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN)\s*=\s*"
    + _VALUE.replace("value", "env_value")
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
    if not value or value.startswith("{{resolve:"):  # CloudFormation fills a dynamic reference from a store
        return False
    if not value.startswith(("$", "`")):
        return True
    return ACCESS_KEY_MARKER in value or ACCESS_KEY_REFERENCE.search(value) is not None


class Assignment(NamedTuple):
    """One credential assignment in a script, whatever its value (literal, expansion or empty)."""

    start: int
    end: int
    variable: str
    how: str  # "aws configure set", "environment variable" or "credentials file"
    value: str


# A match's last group is its value's, which tells which form matched: (name group, name prefix, how).
_FORMS = {
    "cli_value": ("cli", "", "aws configure set"),
    "file_value": ("file", "aws_", "credentials file"),
    "env_value": ("env", "AWS_", "environment variable"),
}


def _matches(text: str) -> Iterator[re.Match[str]]:
    """Matches of both patterns left to right, none overlapping the one before: what one regex holding
    both would give (the regex this replaced, kept in tests/test_detector_oracles.py).

    Each pattern's next match is kept until the scan passes its start, so each reads the text once.
    """
    patterns = (_LOWERCASE_WRITES, _UPPERCASE_WRITES)
    scans = [pattern.finditer(text) for pattern in patterns]
    heads = [next(scan, None) for scan in scans]
    while heads[0] is not None and heads[1] is not None:
        first = 0 if heads[0].start() < heads[1].start() else 1  # never equal: "aws" and "AWS_" differ
        match, other = heads[first], 1 - first
        yield match
        heads[first] = next(scans[first], None)
        if heads[other].start() < match.end():  # inside this match: look again from its end
            scans[other] = patterns[other].finditer(text, match.end())
            heads[other] = next(scans[other], None)
    for head, scan in zip(heads, scans, strict=True):
        if head is not None:
            yield head
            yield from scan


def iter_assignments(text: str) -> Iterator[Assignment]:
    """Every credential assignment in a script, left to right, whatever its value."""
    for match in _matches(text):
        value_group = match.lastgroup or ""
        name, prefix, how = _FORMS[value_group]
        yield Assignment(*match.span(), prefix + match[name], how, match[value_group])


def find_credential_writes(text: str) -> list[CredentialWrite]:
    """Credential assignments in a script, also when the script is a base64 literal."""
    texts = [text]
    decoded = decode_base64_text(text)
    if decoded is not None:
        texts.append(decoded)
    return [CredentialWrite(a.variable, a.how) for candidate in texts for a in iter_assignments(candidate)
            if _is_literal(a.value)]

