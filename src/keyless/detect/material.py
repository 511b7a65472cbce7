"""Recognising, masking and decoding AWS key material in text.

Every pattern here is built from fixed-width or bounded pieces (no nested quantifiers), so a
scan is linear in the input, whatever the input.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass

CREDENTIAL_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA")

# A key ID starts where no letter or digit precedes it. It ends where uppercase letters and digits
# end: key IDs are uppercase, and checkov joins heredoc lines once it renders an interpolation,
# so the next line's lowercase command may be glued on ("AKIA...EXAMPLEexport").
_PREFIX_ALTERNATION = "|".join(CREDENTIAL_PREFIXES)
KEY_ID = re.compile(rf"(?<![A-Za-z0-9])(?:{_PREFIX_ALTERNATION})[A-Z0-9]{{16}}(?![A-Z0-9])")
# The same without the look-behind: a literal first character lets the regex engine skip ahead fast;
# the character before a match is then checked by hand.
_KEY_ID_FAST = re.compile(rf"(?:{_PREFIX_ALTERNATION})[A-Z0-9]{{16}}(?![A-Z0-9])")

# A standalone 40-character secret access key candidate (base64 alphabet without padding).
SECRET_CANDIDATE = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
WHOLE_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
SESSION_TOKEN_VALUE = re.compile(r"[A-Za-z0-9/+=]{100,}")

# In free text (user data, scripts, connection strings) a credential name followed by a value.
_NAME_IN_TEXT = (
    r"(?i:(?P<name>secret[_-]?access[_-]?key|secret[_-]?key|session[_-]?token|security[_-]?token))"
    r"[\"']?(?:\s*[:=]>?\s*|\s+)[\"']?"
)
SECRET_IN_TEXT = re.compile(_NAME_IN_TEXT + r"(?P<value>[A-Za-z0-9/+]{40})")
TOKEN_IN_TEXT = re.compile(_NAME_IN_TEXT + r"(?P<value>[A-Za-z0-9/+=]{100,})")

_CREDENTIAL_NAME_PARTS = ("accesskey", "secretkey", "sessiontoken", "securitytoken")
_SECRET_NAME_PARTS = ("secretaccesskey", "secretkey", "awssecret")
_TOKEN_NAME_PARTS = ("sessiontoken", "securitytoken")
_NON_ALNUM = re.compile(r"[^a-z0-9]")


def normalise_name(name: str) -> str:
    return _NON_ALNUM.sub("", name.lower())


def is_credential_name(name: str) -> bool:
    """True for names that carry an access key, a secret key or a session token."""
    n = normalise_name(name)
    return any(part in n for part in _CREDENTIAL_NAME_PARTS)


def is_secret_name(name: str) -> bool:
    n = normalise_name(name)
    return any(part in n for part in _SECRET_NAME_PARTS)


def is_token_name(name: str) -> bool:
    """Session token names; a bare `token` too (the AWS provider's), since the value must also be long."""
    n = normalise_name(name)
    return n == "token" or any(part in n for part in _TOKEN_NAME_PARTS)


def looks_like_secret_key(value: str) -> bool:
    """A 40-character base64 string with both cases: git SHAs (hex) and IDs never qualify."""
    return (
        WHOLE_SECRET.fullmatch(value) is not None
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
    )


def is_documentation_example(value: str) -> bool:
    """AWS's documentation keys end in EXAMPLE (IDs) or EXAMPLEKEY (secrets)."""
    return "EXAMPLE" in value


def mask_key_id(key_id: str) -> str:
    return f"{key_id[:4]}…{key_id[-4:]}"


def mask_secret(secret: str) -> str:
    return f"{secret[:4]}… ({len(secret)} characters)"


def mask(value: str) -> str:
    """The one way keyless shows key material: a key ID keeps its first and last four characters,
    a secret or token its first four and its length."""
    return mask_key_id(value) if KEY_ID.fullmatch(value) else mask_secret(value)


def mask_known(text: str, secrets: Iterable[str]) -> str:
    """The text with each of the given secrets masked wherever it occurs."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, mask(secret))
    return text


@dataclass(frozen=True)
class KeyMaterial:
    kind: str  # "access-key-id", "secret-access-key" or "session-token"
    value: str

    @property
    def masked(self) -> str:
        return mask(self.value)

    @property
    def documentation_example(self) -> bool:
        return is_documentation_example(self.value)

    @property
    def account_id(self) -> str | None:
        return account_id_from_key_id(self.value) if self.kind == "access-key-id" else None

    @property
    def long_term(self) -> bool:
        return self.value.startswith("AKIA")

    def describe(self) -> str:
        label = {
            "access-key-id": "access key ID",
            "secret-access-key": "secret access key",
            "session-token": "session token",
        }[self.kind]
        note = " (AWS's documentation example)" if self.documentation_example else ""
        return f"{label} {self.masked}{note}"


def find_key_ids(text: str) -> list[str]:
    if not any(prefix in text for prefix in CREDENTIAL_PREFIXES):  # substring scans are far faster than the regex
        return []
    return [m.group(0) for m in _KEY_ID_FAST.finditer(text) if m.start() == 0 or not text[m.start() - 1].isalnum()
            or not text[m.start() - 1].isascii()]


def find_secrets(text: str, name: str = "") -> list[KeyMaterial]:
    """Secret access keys and session tokens in one string, given the name it is stored under.

    A bare 40-character string is not a secret: it needs a credential name around it (the
    attribute or key name, or an assignment inside the text) or an access key ID beside it.
    """
    found: list[KeyMaterial] = []
    stripped = text.strip().strip("\"'")
    if name and is_secret_name(name) and looks_like_secret_key(stripped):
        found.append(KeyMaterial("secret-access-key", stripped))
    elif name and is_token_name(name) and SESSION_TOKEN_VALUE.fullmatch(stripped):
        found.append(KeyMaterial("session-token", stripped))
    if len(text) < 40:
        return found
    lower = text.lower()
    if "secret" in lower:
        for m in SECRET_IN_TEXT.finditer(text):
            if looks_like_secret_key(m.group("value")):
                found.append(KeyMaterial("secret-access-key", m.group("value")))
    if "token" in lower:
        for m in TOKEN_IN_TEXT.finditer(text):
            if is_token_name(m.group("name")):
                found.append(KeyMaterial("session-token", m.group("value")))
    if find_key_ids(text):
        for m in SECRET_CANDIDATE.finditer(text):
            if looks_like_secret_key(m.group(0)):
                found.append(KeyMaterial("secret-access-key", m.group(0)))
    unique: dict[str, KeyMaterial] = {}
    for item in found:
        unique.setdefault(item.value, item)
    return list(unique.values())


def account_id_from_key_id(key_id: str) -> str | None:
    """Decode the AWS account ID that owns a key ID, offline.

    Key IDs issued since 2019 carry the account number in bits of their base32 body; older IDs
    (with characters outside base32, such as 0, 1, 8, 9) carry none, and give None.
    """
    body = key_id[4:]
    if len(body) != 16:
        return None
    try:
        raw = base64.b32decode(body)
    except ValueError:
        return None
    number = (int.from_bytes(raw[0:6], "big") & 0x7FFFFFFFFF80) >> 7
    return f"{number:012d}" if number <= _LARGEST_ACCOUNT_ID else None  # 40 bits can exceed 12 digits


_LARGEST_ACCOUNT_ID = 999_999_999_999


def decode_base64_text(value: str) -> str | None:
    """Return the text behind a base64 literal (user_data_base64, UserData), or None."""
    stripped = value.strip()
    if len(stripped) < 16 or " " in stripped:  # base64 may be wrapped in lines, never spaced
        return None
    compact = "".join(stripped.split())
    if len(compact) % 4 or not _BASE64.fullmatch(compact):
        return None
    if not _printable(base64.b64decode(compact[:4096])):  # look at the start before decoding it all
        return None
    text = base64.b64decode(compact).decode("utf-8", errors="replace")
    return text if _printable(text.encode()) else None


_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def _printable(data: bytes) -> bool:
    text = data.decode("utf-8", errors="replace")
    return sum(ch.isprintable() or ch in "\r\n\t" for ch in text) >= 0.9 * max(len(text), 1)
