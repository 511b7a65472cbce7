"""Recognising, masking and decoding AWS key material in text.

Every pattern here is built from fixed-width or bounded pieces (no nested quantifiers), so a
scan is linear in the input, whatever the input.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

CREDENTIAL_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA")

# A key ID starts where no letter or digit precedes it. It ends where uppercase letters and digits
# end: key IDs are uppercase, and checkov joins heredoc lines once it renders an interpolation,
# so the next line's lowercase command may be glued on ("AKIA...EXAMPLEexport").
_PREFIX_ALTERNATION = "|".join(CREDENTIAL_PREFIXES)
KEY_ID = re.compile(rf"(?<![A-Za-z0-9])(?:{_PREFIX_ALTERNATION})[A-Z0-9]{{16}}(?![A-Z0-9])")
# The prefixes share their first letter. Written with it outside the alternation, a pattern starts on a
# literal and is found by a string search (an alternation of whole prefixes is tried at every "A").
_FIRST = CREDENTIAL_PREFIXES[0][0]
if any(prefix[0] != _FIRST for prefix in CREDENTIAL_PREFIXES):
    raise ValueError("the fast key ID patterns need prefixes with one first letter")
_TAILS = "(?:" + "|".join(prefix[1:] for prefix in CREDENTIAL_PREFIXES) + ")"
# A key ID without the look-behind: the character before a match is then checked by hand.
_KEY_ID_FAST = re.compile(_FIRST + _TAILS + r"[A-Z0-9]{16}(?![A-Z0-9])")
# Where the first key ID could start: one such scan costs less than a substring search per prefix.
_KEY_ID_PREFIX = re.compile(_FIRST + _TAILS)

# A standalone 40-character secret access key candidate (base64 alphabet without padding).
SECRET_CANDIDATE = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
WHOLE_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
SESSION_TOKEN_VALUE = re.compile(r"[A-Za-z0-9/+=]{100,}")

# In free text (user data, scripts, connection strings) a credential name followed by a value.
# The name is matched case-insensitively; its first letter is spelled out ([Ss] and U+017F, the long s,
# which Unicode case-folds to s) so that the regex engine skips ahead to it instead of trying the
# whole pattern at every position.
_NAME_IN_TEXT = (
    r"(?P<name>[Ss\u017f](?i:e(?:cret[_-]?access[_-]?key|cret[_-]?key|ssion[_-]?token|curity[_-]?token)))"
    r"[\"']?(?:\s*[:=]>?\s*|\s+)[\"']?"
)
SECRET_IN_TEXT = re.compile(_NAME_IN_TEXT + r"(?P<value>[A-Za-z0-9/+]{40})")
TOKEN_IN_TEXT = re.compile(_NAME_IN_TEXT + r"(?P<value>[A-Za-z0-9/+=]{100,})")
# The same patterns for lowercased ASCII text, where every name starts with the literal "se", which the
# regex engine finds at memory speed. Lowercasing ASCII keeps every position and changes no
# character's class here (letters stay letters), so a match's spans hold in the original text too.
_NAME_IN_LOWERED_TEXT = (
    r"(?P<name>se(?:cret[_-]?access[_-]?key|cret[_-]?key|ssion[_-]?token|curity[_-]?token))"
    r"[\"']?(?:\s*[:=]>?\s*|\s+)[\"']?"
)
_SECRET_IN_LOWERED_TEXT = re.compile(_NAME_IN_LOWERED_TEXT + r"(?P<value>[a-z0-9/+]{40})")
_TOKEN_IN_LOWERED_TEXT = re.compile(_NAME_IN_LOWERED_TEXT + r"(?P<value>[a-z0-9/+=]{100,})")

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
    """A 40-character base64 string with both cases: git SHAs (hex) and IDs never qualify, nor do fills
    such as `XxXx...` (see `is_placeholder`)."""
    return (
        WHOLE_SECRET.fullmatch(value) is not None
        and value.upper() != value  # some lowercase (the value is ASCII here)
        and value.lower() != value  # some uppercase
        and not is_placeholder(value)
    )


_NOT_LETTERS = frozenset("0123456789/+")


def looks_like_secret_beside_key_id(value: str) -> bool:
    """A secret under a neutral name, trusted only for sitting beside a key ID: a secret's shape, with a
    digit, `/` or `+` as well.

    The extra character keeps out 40-letter identifiers (`PassVeryLongLogicalIdentifierOfTheBucket`);
    a random secret has none with odds of (52/64)**40, about 1 in 4,000. Git commit IDs (40 hex digits,
    one case) are never secret-shaped.
    """
    return looks_like_secret_key(value) and not _NOT_LETTERS.isdisjoint(value)


# A random key body repeats one character this many times in a row with odds below 1 in 10**9 (key IDs,
# 16 characters of 32) or 10**15 (secrets, 40 of 64); so do bodies of so few distinct characters.
_PLACEHOLDER_RUN = {"key-id": re.compile(r"(.)\1{7}"), "secret": re.compile(r"(.)\1{9}")}
_PLACEHOLDER_DISTINCT = {"key-id": 3, "secret": 4}


def is_placeholder(value: str) -> bool:
    """A key ID or secret no key can have, written to fill a slot: `AKIAXXXXXXXXXXXXXXXX`,
    `AKIA0000000000000000`, a long run of one character, a body of three or four distinct characters.

    AWS's documentation examples (`AKIAIOSFODNN7EXAMPLE`) are not placeholders here: they have a real
    key's shape and are reported, named as the example (docs/rules/hardcoded-access-key-id.md).
    """
    kind = "key-id" if len(value) == 20 and value[:4] in CREDENTIAL_PREFIXES else "secret"
    body = value[4:] if kind == "key-id" else value
    if len(set(body)) <= _PLACEHOLDER_DISTINCT[kind]:
        return True
    return _PLACEHOLDER_RUN[kind].search(body) is not None


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
    """Every key-ID-shaped string (what KEY_ID matches), placeholders included: the detector the masks use."""
    first = _KEY_ID_PREFIX.search(text)
    if first is None:
        return []
    return [m.group(0) for m in _KEY_ID_FAST.finditer(text, first.start())
            if m.start() == 0 or not text[m.start() - 1].isalnum() or not text[m.start() - 1].isascii()]


def find_real_key_ids(text: str) -> list[str]:
    """The key IDs the rules report: placeholders (`is_placeholder`) left out."""
    return [k for k in find_key_ids(text) if not is_placeholder(k)]


def _contains_key_id(text: str) -> bool:
    """bool(find_key_ids(text)), stopping at the first."""
    first = _KEY_ID_PREFIX.search(text)
    if first is None:
        return False
    return any(m.start() == 0 or not text[m.start() - 1].isalnum() or not text[m.start() - 1].isascii()
               for m in _KEY_ID_FAST.finditer(text, first.start()))


def find_secrets(text: str, name: str = "") -> list[KeyMaterial]:
    """Secret access keys and session tokens in one string, given the name it is stored under.

    A bare 40-character string is not a secret: it needs a credential name around it (the
    attribute or key name, or an assignment inside the text) or an access key ID beside it.
    """
    found: dict[str, KeyMaterial] = {}  # by value, the first kind found; a value already found is not judged again
    if name and (is_secret_name(name) or is_token_name(name)):  # stripping copies the text: only when needed
        stripped = text.strip().strip("\"'")
        if is_secret_name(name) and looks_like_secret_key(stripped):
            found[stripped] = KeyMaterial("secret-access-key", stripped)
        elif is_token_name(name) and SESSION_TOKEN_VALUE.fullmatch(stripped):
            found[stripped] = KeyMaterial("session-token", stripped)
    if len(text) < 40:
        return list(found.values())
    lower = text.lower()
    if "secret" in lower:
        for _name, value in named_values(text, lower, SECRET_IN_TEXT, _SECRET_IN_LOWERED_TEXT):
            if value not in found and looks_like_secret_key(value):
                found[value] = KeyMaterial("secret-access-key", value)
    if "token" in lower:
        for token_name, value in named_values(text, lower, TOKEN_IN_TEXT, _TOKEN_IN_LOWERED_TEXT):
            if value not in found and is_token_name(token_name):
                found[value] = KeyMaterial("session-token", value)
    if _contains_key_id(text) and find_real_key_ids(text):  # the fast test first: most texts hold none
        for candidate in standalone_secret_candidates(text):
            if candidate not in found and looks_like_secret_key(candidate):
                found[candidate] = KeyMaterial("secret-access-key", candidate)
    return list(found.values())


def named_values(text: str, lower: str, pattern: re.Pattern[str], lowered_pattern: re.Pattern[str]) -> Iterator[tuple[str, str]]:
    """(name, value) of each match of `pattern` in `text`; `lower` is text.lower().

    ASCII text is searched lowercased, where the names start with a literal (see _NAME_IN_LOWERED_TEXT).
    """
    if not text.isascii():
        yield from ((m["name"], m["value"]) for m in pattern.finditer(text))
        return
    for m in lowered_pattern.finditer(lower):
        yield text[m.start("name"):m.end("name")], text[m.start("value"):m.end("value")]


_SECRET_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+")
# Maps each byte to b"1" if it belongs to the secret alphabet, else to b"0".
_ALPHABET_MASK = bytes(0x31 if byte in _SECRET_ALPHABET else 0x30 for byte in range(256))
_FORTY_IN_ALPHABET = b"1" * 40


def standalone_secret_candidates(text: str) -> list[str]:
    """What SECRET_CANDIDATE.finditer finds: runs of exactly 40 characters of the alphabet, not followed by '='.

    The text is encoded (the alphabet is ASCII, so runs are the same in UTF-8 bytes) and mapped to a
    mask of the alphabet, in which runs of 40 are found with bytes.find at memory speed. The regex
    starts with a look-behind, so it is tried at every position (about 30 MB/s).
    """
    data = text.encode("utf-8", "surrogatepass")
    mask = data.translate(_ALPHABET_MASK)
    found: list[str] = []
    start = mask.find(_FORTY_IN_ALPHABET)
    while start != -1:  # start is where a run begins: the search starts outside a run
        end = mask.find(b"0", start + 40)
        end = len(mask) if end == -1 else end
        if end - start == 40 and data[end:end + 1] != b"=":
            found.append(data[start:end].decode("ascii"))
        start = mask.find(_FORTY_IN_ALPHABET, end)
    return found


# --- masking text shown to people (code blocks, log records) ----------------------------------------

# checkov joins a heredoc's lines once it renders an interpolation in it, so a value can run straight
# into the next line's first word ("...EXAMPLEKEYruncmd:", "...EXAMPLECREDS"). Where text is shown, a
# value is therefore also recognised at the start of a longer run when what follows it is one glued
# word (letters only, at most 20). Both patterns start on a literal or a bounded class and look ahead a
# bounded distance: linear.
_GLUED_WORD = r"(?=[A-Za-z]{0,20}(?![A-Za-z0-9/+=]))"
KEY_ID_SHOWN = re.compile(_FIRST + _TAILS + r"[A-Z0-9]{16}(?=[A-Za-z]{0,20}(?![A-Za-z0-9]))")
SECRET_SHOWN = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}" + _GLUED_WORD)
# A secret beside key material is masked in shown text when the text names a credential or holds a
# key ID's prefix, masked or not (checkov masks the key IDs of failing checks before keyless sees them).
_SHOWN_CONTEXT = ("secret", "token", "credential", "password")


def _key_id_starts(text: str, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """Matches of a key ID pattern not preceded by a letter or digit (the look-behind, checked by hand)."""
    first = _KEY_ID_PREFIX.search(text)
    if first is None:
        return
    for m in pattern.finditer(text, first.start()):
        if m.start() == 0 or not text[m.start() - 1].isalnum() or not text[m.start() - 1].isascii():
            yield m


def material_shown(text: str) -> set[str]:
    """Every piece of key material keyless recognises in text about to be shown (one resource's code, a
    log message): key IDs, secrets and tokens under a credential name, and any 40-character secret-shaped
    value (both cases) where the text holds a key ID's prefix or a credential word. Values glued to a next
    word by checkov's heredoc joining count as well (KEY_ID_SHOWN, SECRET_SHOWN).

    Over-masking shown text costs little; printing a key cannot be undone. So the context is the whole
    text, not the value's own field.
    """
    found = {m.group(0) for m in _key_id_starts(text, KEY_ID_SHOWN)}
    if len(text) < 40 or _FORTY_IN_ALPHABET not in text.encode("utf-8", "surrogatepass").translate(_ALPHABET_MASK):
        return found  # secrets and tokens are runs of 40 or more: most code blocks have none
    found.update(m.value for m in find_secrets(text))
    lower = text.lower()
    if found or _KEY_ID_PREFIX.search(text) or any(word in lower for word in _SHOWN_CONTEXT):
        found.update(value for value in secret_candidates_shown(text) if looks_like_secret_key(value))
    return found


def secret_candidates_shown(text: str) -> list[str]:
    """What SECRET_SHOWN.finditer finds, read like `standalone_secret_candidates` (at memory speed): the
    first 40 characters of each run of the alphabet whose rest is at most 20 letters, not followed by '='."""
    data = text.encode("utf-8", "surrogatepass")
    runs = data.translate(_ALPHABET_MASK)
    found: list[str] = []
    start = runs.find(_FORTY_IN_ALPHABET)
    while start != -1:
        end = runs.find(b"0", start + 40)
        end = len(runs) if end == -1 else end
        tail = data[start + 40:end]
        if len(tail) <= 20 and (not tail or tail.isalpha()) and data[end:end + 1] != b"=":
            found.append(data[start:start + 40].decode("ascii"))
        start = runs.find(_FORTY_IN_ALPHABET, end)
    return found


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
    return _decode_base64(stripped)


# What str.split() splits ASCII text on.
_ASCII_WHITESPACE = bytes(b for b in range(128) if len(f"a{chr(b)}b".split()) == 2)
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@functools.lru_cache(maxsize=4)
def _decode_base64(stripped: str) -> str | None:
    """Kept for the last few values: the rules that read user data (key material, credential writes)
    each decode the same value, and decoding is most of their cost on base64 user data."""
    if stripped.isascii():
        compact = stripped.encode("ascii").translate(None, _ASCII_WHITESPACE)
    else:  # base64 is ASCII: only Unicode whitespace may go
        joined = "".join(stripped.split())
        if not joined.isascii():
            return None
        compact = joined.encode("ascii")
    if len(compact) % 4 or not _is_base64(compact):
        return None
    if not _printable(binascii.a2b_base64(compact[:4096])):  # look at the start before decoding it all
        return None
    data = binascii.a2b_base64(compact)
    text = data.decode("utf-8", errors="replace")
    return text if _printable(data if data.isascii() else text.encode()) else None


def _is_base64(compact: bytes) -> bool:
    """Whether the regex [A-Za-z0-9+/]+={0,2} matches all of it (bytes.translate reads it 5x faster)."""
    body = compact.rstrip(b"=")
    if not body or len(compact) - len(body) > 2:
        return False
    return not body.translate(None, _BASE64_ALPHABET)


# ASCII control characters other than tab, line feed and carriage return: the ASCII that is not printable text.
_ASCII_CONTROLS = bytes(b for b in range(128) if not chr(b).isprintable() and chr(b) not in "\r\n\t")


def _printable(data: bytes) -> bool:
    """At least 90 % printable characters (tabs and line breaks count as printable)."""
    if data.isascii():  # the usual script: count the controls in C
        return len(data.translate(None, _ASCII_CONTROLS)) >= 0.9 * max(len(data), 1)
    text = data.decode("utf-8", errors="replace")
    if text and text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable():
        return True
    return sum(ch.isprintable() or ch in "\r\n\t" for ch in text) >= 0.9 * max(len(text), 1)
