"""Masking text shown to people: code blocks and log records (`detect.material.material_shown`).

The fast reader of secret candidates is proven equal to its regular expression (the oracle), the forms
the leak reports found are masked, and the scan stays linear (counted, never timed).
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyless.detect import material
from keyless.detect.material import SECRET_SHOWN, mask_known, material_shown, secret_candidates_shown
from keyless.engines.checkov_codeblocks import masked_code_block
from keyless.engines.logmask import mask_text

KEY_ID = "AKIA2E0A8F3B9C1D4E5F"
SECRET = "q7Ld0rN2vX8pW4sK9mJ3hF6gB1cZ5tY2uR8eA0iO"
MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_PIECES = st.sampled_from(
    ["A", "a", "Z", "9", "/", "+", "=", " ", ":", "\n", "é", "runcmd", "CREDS", SECRET, SECRET[:39], "x" * 20])


@MANY
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_fast_candidates_are_those_of_the_pattern(text: str) -> None:
    assert secret_candidates_shown(text) == [m.group(0) for m in SECRET_SHOWN.finditer(text)]


def test_secret_beside_a_key_id_under_a_neutral_name_is_masked() -> None:
    block = ["  environment {", f'    STORAGE_KEY_ID = "{KEY_ID}"', f'    STORAGE_PASS   = "{SECRET}"', "  }"]
    shown = mask_known("\n".join(block), material_shown("\n".join(block)))
    assert SECRET not in shown and KEY_ID not in shown
    assert "q7Ld… (40 characters)" in shown and "AKIA…4E5F" in shown


def test_secret_beside_a_key_id_checkov_already_masked_is_masked() -> None:
    """checkov masks a failing SECRETS check's key ID first (`AKIAE**********`): the prefix still gives the context."""
    assert SECRET in material_shown(f'STORAGE_KEY_ID = "AKIAE**********"\nSTORAGE_PASS = "{SECRET}"')


def test_commented_out_provider_keys_are_masked() -> None:
    block = ['provider "aws" {', f'  # access_key = "{KEY_ID}"', f'  # secret_key = "{SECRET}"', "}"]
    assert material_shown("\n".join(block)) == {KEY_ID, SECRET}


def test_values_glued_to_the_next_word_are_masked() -> None:
    """checkov joins an interpolated heredoc's lines: `...secret` runs into `runcmd:` or `CREDS`."""
    for tail in ("runcmd:", "CREDS", "export"):
        joined = f"[default]aws_access_key_id = {KEY_ID}aws_secret_access_key = {SECRET}{tail}"
        assert material_shown(joined) == {KEY_ID, SECRET}, tail
        logged = mask_text(joined)
        assert SECRET not in logged and SECRET[:5] not in logged, tail
    assert KEY_ID not in mask_text(f"key {KEY_ID}CREDS done")


def test_no_context_no_mask() -> None:
    """A 40-character mixed-case string alone (a name, a path) is shown as written; so are git SHAs."""
    assert material_shown(f'name = "{SECRET}"') == set()
    assert material_shown("commit 9fceb02d0ae598e95dc970b74767f19372d61af8 secret") == set()
    assert material_shown(f"secret = {SECRET}1234567890123") == set()  # a longer base64 run is no secret


def test_checkov_code_blocks_mask_and_cap_checkov_masks() -> None:
    block = [(3, f'  STORAGE_KEY_ID = "{KEY_ID}"\n'), (4, f'  STORAGE_PASS   = "{SECRET}"\n'),
             (5, '  OTHER = "8ISsWb**********"\n')]
    masked, found = masked_code_block(block)
    text = "".join(line for _, line in masked)
    assert found == {KEY_ID, SECRET}
    assert SECRET not in text and KEY_ID not in text
    assert '"8ISs************"' in text, "checkov's own masks show four characters, not six"
    assert [n for n, _ in masked] == [3, 4, 5]
    plain = [(1, "resource {\n"), (2, "}\n")]
    assert masked_code_block(plain) == (plain, frozenset())


def test_scan_reads_each_character_a_bounded_number_of_times(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Adversarial input (runs of 39 and 41, prefixes everywhere, glued words) costs linear work."""
    calls = {"n": 0}
    original = material.looks_like_secret_key

    def counting(value: str) -> bool:
        calls["n"] += 1
        return original(value)

    monkeypatch.setattr(material, "looks_like_secret_key", counting)
    for unit in ("AKIA" + "B" * 35 + " ", "a" * 41 + "=", SECRET + "runcmd ", "secret " + "Ab1" * 14 + " "):
        calls["n"] = 0
        material_shown(unit * 1000)
        small = calls["n"]
        calls["n"] = 0
        material_shown(unit * 4000)
        assert calls["n"] <= 4 * small + 4, unit


def test_shown_alphabet_is_the_secret_alphabet() -> None:
    assert set(string.ascii_letters + string.digits + "/+") == {chr(b) for b in material._SECRET_ALPHABET}
