"""The fast detector patterns find exactly what the patterns they replaced found, and stay linear.

The replaced patterns opened with a look-behind (or a case-insensitive letter), so the regex engine
tried them at every position of a script: 4-7 MB/s on any script holding `AWS_`. They are kept here,
unchanged, as the oracles. Generated strings are made of the pieces where the patterns could differ:
the characters before a name (letters, `_`, `\\n` escapes, non-ASCII letters), quotes, `$(`, backticks,
`=` padding, case-folding look-alikes (the long s, the Kelvin sign) and base64.

Linearity is shown by counting, never by timing: how many characters the regex engine is asked to
read, and how many times each Python-level helper runs.
"""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from keyless.detect import material, userdata
from keyless.detect.material import (
    KEY_ID,
    SECRET_CANDIDATE,
    KeyMaterial,
    decode_base64_text,
    find_key_ids,
    find_secrets,
    looks_like_secret_key,
    named_values,
    standalone_secret_candidates,
)
from keyless.detect.userdata import find_credential_writes, iter_assignments

MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the replaced patterns and functions (the oracles) -------------------------------------------

_OLD_VALUE = r"[\"']?(?P<value>[^\s\"';&|]*)"
OLD_CREDENTIAL_WRITES = re.compile(
    r"aws\s+configure\s+set\s+(?:[\w-]+\.)?(?P<cli>aws_access_key_id|aws_secret_access_key|aws_session_token)\s+"
    + _OLD_VALUE.replace("value", "cli_value")
    + r"|(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))(?P<env>AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN)"
    r"\s*=\s*"
    + _OLD_VALUE.replace("value", "env_value")
    + r"|(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))(?P<file>aws_access_key_id|aws_secret_access_key|aws_session_token)\s*=\s*"
    + _OLD_VALUE.replace("value", "file_value")
)
_OLD_NAME_IN_TEXT = (
    r"(?i:(?P<name>secret[_-]?access[_-]?key|secret[_-]?key|session[_-]?token|security[_-]?token))"
    r"[\"']?(?:\s*[:=]>?\s*|\s+)[\"']?"
)
OLD_SECRET_IN_TEXT = re.compile(_OLD_NAME_IN_TEXT + r"(?P<value>[A-Za-z0-9/+]{40})")
OLD_TOKEN_IN_TEXT = re.compile(_OLD_NAME_IN_TEXT + r"(?P<value>[A-Za-z0-9/+=]{100,})")
OLD_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def old_assignments(text: str) -> list[tuple[int, int, str, str, str]]:
    found = []
    for m in OLD_CREDENTIAL_WRITES.finditer(text):
        if m.group("cli"):
            found.append((*m.span(), m["cli"], "aws configure set", m["cli_value"]))
        elif m.group("env"):
            found.append((*m.span(), m["env"], "environment variable", m["env_value"]))
        else:
            found.append((*m.span(), m["file"], "credentials file", m["file_value"]))
    return found


def old_printable(data: bytes) -> bool:
    text = data.decode("utf-8", errors="replace")
    return sum(ch.isprintable() or ch in "\r\n\t" for ch in text) >= 0.9 * max(len(text), 1)


def old_decode_base64_text(value: str) -> str | None:
    stripped = value.strip()
    if len(stripped) < 16 or " " in stripped:
        return None
    compact = "".join(stripped.split())
    if len(compact) % 4 or not OLD_BASE64.fullmatch(compact):
        return None
    if not old_printable(base64.b64decode(compact[:4096])):
        return None
    text = base64.b64decode(compact).decode("utf-8", errors="replace")
    return text if old_printable(text.encode()) else None


def old_is_literal(value: str) -> bool:
    if not value:
        return False
    if userdata.ACCESS_KEY_MARKER in value or userdata.ACCESS_KEY_REFERENCE.search(value):
        return True
    return not value.startswith(("$", "`"))


def old_find_credential_writes(text: str) -> list[tuple[str, str]]:
    texts = [text]
    decoded = old_decode_base64_text(text)
    if decoded is not None:
        texts.append(decoded)
    found = []
    for candidate in texts:
        lower = candidate.lower()
        if "aws_" not in lower and "aws configure" not in lower:
            continue
        found += [(variable, how) for _, _, variable, how, value in old_assignments(candidate) if old_is_literal(value)]
    return found


def old_looks_like_secret_key(value: str) -> bool:
    return (material.WHOLE_SECRET.fullmatch(value) is not None and any(c.islower() for c in value)
            and any(c.isupper() for c in value) and not material.is_placeholder(value))


def old_find_secrets(text: str, name: str = "") -> list[KeyMaterial]:
    found: list[KeyMaterial] = []
    stripped = text.strip().strip("\"'")
    if name and material.is_secret_name(name) and old_looks_like_secret_key(stripped):
        found.append(KeyMaterial("secret-access-key", stripped))
    elif name and material.is_token_name(name) and material.SESSION_TOKEN_VALUE.fullmatch(stripped):
        found.append(KeyMaterial("session-token", stripped))
    if len(text) < 40:
        return found
    lower = text.lower()
    if "secret" in lower:
        for m in OLD_SECRET_IN_TEXT.finditer(text):
            if old_looks_like_secret_key(m.group("value")):
                found.append(KeyMaterial("secret-access-key", m.group("value")))
    if "token" in lower:
        for m in OLD_TOKEN_IN_TEXT.finditer(text):
            if material.is_token_name(m.group("name")):
                found.append(KeyMaterial("session-token", m.group("value")))
    if any(not material.is_placeholder(k.group(0)) for k in KEY_ID.finditer(text)):  # placeholders pair with nothing
        for m in SECRET_CANDIDATE.finditer(text):
            if old_looks_like_secret_key(m.group(0)):
                found.append(KeyMaterial("secret-access-key", m.group(0)))
    unique: dict[str, KeyMaterial] = {}
    for item in found:
        unique.setdefault(item.value, item)
    return list(unique.values())


# --- strings rich in the edge cases ------------------------------------------------------------------

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjE" + "A" * 60 + "b/c+d" * 20 + "=="
FRAGMENTS = [
    # names, whole and in part, in both cases
    "aws", "AWS", "aws_", "AWS_", "aws configure set ", "aws  configure\tset ", "aws configure ", "set ", "default.",
    "profile-1.", "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "ACCESS_KEY_ID", "access_key_id",
    "secret_key", "Secret-Access-Key", "SECRETKEY", "session_token", "security-token", "SessionToken", "token",
    "\u017fecret_key", "secret_\u212aey", "secret",
    # what may precede a name, and separators
    "x", "_", "9", "é", "\\", "\\n", "\\r", "\\t", "\\x", "n", " ", "  ", "\t", "\n", "\r\n", "=", " = ", "==", ":",
    ": ", "=>", "\"", "'", ";", "&", "|", ".", "-", "/", "+",
    # values: literal, fetched, references
    "$(", ")", "`", "${", "}", "$", "${var.key}", "aws_iam_access_key.deploy.secret", "keyless-access-key-reference",
    "AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A", SECRET, SECRET[:39], SECRET + "A", TOKEN, "QUtJQQ==",
]
edge_chars = st.text(alphabet=string.ascii_letters + string.digits + " _=\"'\\\n\t$`/+:;é\u017f\u212a", max_size=6)
scripts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), edge_chars), max_size=40).map("".join)


def _wrapped(encoded: str, width: int) -> str:
    return "\n".join(encoded[i:i + width] for i in range(0, len(encoded), width)) if width else encoded


base64_scripts = st.builds(
    lambda script, width, padding: _wrapped(base64.b64encode(script.encode()).decode(), width) + padding,
    scripts, st.sampled_from([0, 0, 4, 76]), st.sampled_from(["", "", "\n", "=", " "]),
)
texts = st.one_of(scripts, scripts, base64_scripts)


# --- equivalence ---------------------------------------------------------------------------------


@MANY
@given(texts)
@example("xAWS_ACCESS_KEY_ID=1 AWS_ACCESS_KEY_ID=2")
@example("\\nAWS_SECRET_ACCESS_KEY=abc\\taws_access_key_id = AKIAIOSFODNN7EXAMPLE")
@example("AWS_ACCESS_KEY_ID=aws_access_key_id=inside")
@example("aws configure set aws_access_key_id=x aws_access_key_id=y")
@example("aws configure set default.aws_session_token $(cat t)")
@example("éAWS_SESSION_TOKEN=`x`_aws_session_token=1")
@example("\\\\nAWS_ACCESS_KEY_ID=1")
@example("MY_AWS_ACCESS_KEY_ID=1 x_aws_access_key_id=2")
def test_credential_assignments_are_those_of_the_old_pattern(text: str) -> None:
    assert [tuple(a) for a in iter_assignments(text)] == old_assignments(text)


@MANY
@given(texts)
def test_credential_writes_are_those_of_the_old_function(text: str) -> None:
    assert [(w.variable, w.how) for w in find_credential_writes(text)] == old_find_credential_writes(text)


@MANY
@given(texts)
@example(f"\u017fecret_key={SECRET}")
@example(f"secret_\u212aey: '{SECRET}'")
@example(f"SESSION-TOKEN => {TOKEN}")
@example(f"é secret_access_key {SECRET}")
def test_credential_names_in_text_match_the_old_patterns(text: str) -> None:
    for new, lowered, old in ((material.SECRET_IN_TEXT, material._SECRET_IN_LOWERED_TEXT, OLD_SECRET_IN_TEXT),
                              (material.TOKEN_IN_TEXT, material._TOKEN_IN_LOWERED_TEXT, OLD_TOKEN_IN_TEXT)):
        expected = [(m["name"], m["value"], m.span()) for m in old.finditer(text)]
        assert [(m["name"], m["value"], m.span()) for m in new.finditer(text)] == expected
        assert list(named_values(text, text.lower(), new, lowered)) == [(n, v) for n, v, _ in expected]


@MANY
@given(texts)
@example("xAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLE1 éASIAY34FZKBOKMUTVV7A_ABIAIOSFODNN7EXAMPLEexport")
@example("AAKIAIOSFODNN7EXAMPLE")
def test_key_ids_are_those_of_the_look_behind_pattern(text: str) -> None:
    assert find_key_ids(text) == [m.group(0) for m in KEY_ID.finditer(text)]
    assert material._contains_key_id(text) == (KEY_ID.search(text) is not None)


@MANY
@given(texts)
@example(f"AKIAIOSFODNN7EXAMPLE:{SECRET}")
@example(f"{SECRET}=")
@example(f"é{SECRET}\udc80{SECRET}")
def test_standalone_secrets_are_those_of_the_old_pattern(text: str) -> None:
    assert standalone_secret_candidates(text) == [m.group(0) for m in SECRET_CANDIDATE.finditer(text)]


@MANY
@given(texts, st.sampled_from(["", "UserData", "aws_secret_access_key", "aws_session_token", "token", "BUCKET"]))
@example(f"export AWS_SECRET_ACCESS_KEY={SECRET}\nAKIAIOSFODNN7EXAMPLE {SECRET}", "")
@example(f"  '{SECRET}'  ", "aws_secret_access_key")
@example(f"secret_key={TOKEN} (not a token)", "")
@example(f"xAKIAIOSFODNN7EXAMPLE {SECRET}", "")
def test_secrets_are_those_of_the_old_function(text: str, name: str) -> None:
    assert find_secrets(text, name) == old_find_secrets(text, name)


@MANY
@given(texts)
@example("QUtJQUlPU0ZPRE5ON0VYQU1QTEU=\n")
@example("QUtJQUlPU0ZPRE5ON0VYQU1QTEU===")
@example("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
@example("A" * 17 + "===")
@example("QUtJQUlPU0ZPRE5O\u00a0N0VYQU1QTEU=")
def test_base64_decoding_is_that_of_the_old_function(text: str) -> None:
    assert decode_base64_text(text) == old_decode_base64_text(text)


@MANY
@given(st.one_of(st.binary(max_size=60), st.text(max_size=60).map(lambda s: s.encode("utf-8", "surrogatepass")),
                 scripts.map(str.encode)))
@example(b"")
@example(b"\x00" * 9 + b"a" * 81)
@example("é\n\t\r".encode() * 10)
def test_printable_is_that_of_the_old_function(data: bytes) -> None:
    assert material._printable(data) == old_printable(data)


@MANY
@given(st.one_of(st.text(alphabet=string.ascii_letters + string.digits + "/+", min_size=40, max_size=40),
                 st.text(max_size=41)))
@example("0" * 40)
@example("A" * 39 + "a")
@example("a" * 40)
@example("A1/+" * 10)
def test_secret_key_shape_is_that_of_the_old_function(value: str) -> None:
    assert looks_like_secret_key(value) == old_looks_like_secret_key(value)


# --- linearity, by counting ----------------------------------------------------------------------


class CountingPattern:
    """A compiled pattern that counts the characters its searches read (from where each search starts
    to the end of the match it returns, or to the end of the text)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.read, self.scans = pattern, 0, 0

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        self.scans += 1
        for match in self.pattern.finditer(text, pos):
            self.read += match.end() - pos
            pos = match.end()
            yield match
        self.read += len(text) - pos


ADVERSARIAL = {
    # every name preceded by a letter: the old look-behind rejected each one at once
    "glued names": "xAWS_ACCESS_KEY_ID=" + "aws_access_key_id=" * 3,
    # each match's value holds the start of the other pattern's next match
    "nested assignments": "AWS_SECRET_ACCESS_KEY=aws_access_key_id=AWS_SESSION_TOKEN=aws_session_token=1 ",
    "names without values": "export AWS_SECRET_ACCESS_KEY" + " " * 50,
    "CLI forms": "aws configure set " + "aws" * 20 + " ",
}


@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_credential_scan_reads_each_character_a_bounded_number_of_times(unit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = []
    for repeats in (200, 800):
        lowercase = CountingPattern(userdata._LOWERCASE_WRITES)
        uppercase = CountingPattern(userdata._UPPERCASE_WRITES)
        monkeypatch.setattr(userdata, "_LOWERCASE_WRITES", lowercase)
        monkeypatch.setattr(userdata, "_UPPERCASE_WRITES", uppercase)
        text = unit * repeats
        found = list(iter_assignments(text))
        assert [tuple(a) for a in found] == old_assignments(text)
        counts.append((lowercase.read + uppercase.read, len(text), lowercase.scans + uppercase.scans, len(found)))
    for read, size, scans, found in counts:
        assert read <= 3 * size  # each pattern reads the text once, plus what overlapping matches re-read
        assert scans <= 2 + found  # a pattern restarts only after a match that covered its next one
    (small_read, small_size, _, _), (large_read, large_size, _, _) = counts
    assert large_read / small_read == pytest.approx(large_size / small_size, rel=0.05)


def _calls(function: Any, *args: Any) -> dict[str, int]:
    """How many times each Python function ran inside one call."""
    import sys

    calls: dict[str, int] = {}

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event == "call":
            calls[frame.f_code.co_name] = calls.get(frame.f_code.co_name, 0) + 1

    sys.setprofile(profile)
    try:
        function(*args)
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("unit", [
    "export AWS_SECRET_ACCESS_KEY=$(vault read x) AKIAIOSFODNN7EXAMPLE secret_key " + "a" * 39 + " ",
    "secret_key=" + "a" * 39 + " token " + "b" * 99 + " ",
    "AKIA" + "B" * 15 + " " + "Ab/+" * 10 + "= ",
])
def test_python_work_grows_with_the_matches_not_with_the_text(unit: str) -> None:
    """Python-level helpers run a number of times bounded by the matches: 4x the text, 4x the calls at most,
    and never once per character."""
    small, large = unit * 100, unit * 400
    for function in (lambda t: find_secrets(t, "UserData"), find_credential_writes, decode_base64_text):
        small_calls, large_calls = sum(_calls(function, small).values()), sum(_calls(function, large).values())
        assert large_calls <= 4 * small_calls + 10
        assert large_calls < len(large) / 10


def test_fast_patterns_start_on_a_literal_character() -> None:
    """What makes them fast: the regex engine finds the first character with a string search, instead of
    trying the pattern at every position. A pattern opening with a look-behind fails this test."""
    try:
        from re import _parser as parser  # type: ignore[attr-defined]  # Python 3.11+
    except ImportError:  # Python 3.10
        import sre_parse as parser  # type: ignore[no-redef]

    def first(pattern: re.Pattern[str]) -> tuple[Any, Any]:
        op, value = parser.parse(pattern.pattern, pattern.flags)[0]
        while str(op) == "SUBPATTERN":  # a group: its first element
            op, value = value[-1][0]
        return str(op), value

    assert first(userdata._LOWERCASE_WRITES) == ("LITERAL", ord("a"))
    assert first(userdata._UPPERCASE_WRITES) == ("LITERAL", ord("A"))
    assert first(material._SECRET_IN_LOWERED_TEXT) == ("LITERAL", ord("s"))
    assert first(material._TOKEN_IN_LOWERED_TEXT) == ("LITERAL", ord("s"))
    assert first(material.SECRET_IN_TEXT)[0] == "IN"  # [Ss\u017f]: a character set, not a look-behind
    assert first(OLD_CREDENTIAL_WRITES)[0] == "BRANCH"  # the oracle, for contrast: two of its branches open with look-behinds
