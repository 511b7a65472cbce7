"""Mask AWS key material in what logging writes out (and, for `keyless checkov`, every console write).

Engines log freely at debug level (checkov dumps whole templates and entity configurations, and
its expression evaluator prints failing expressions straight to stderr), and a CI log is exactly
where a key must not land. Masking happens where a record is written out, in `Handler.format`,
which every standard handler calls for each record it emits (stream, file, syslog, queue...): a
record no handler writes costs nothing. checkov creates tens of thousands of debug records a run and
keeps them all in an in-memory buffer that is read only for `--support`; that buffer is exempt here
(`install(unread=...)`) and masked when it is read instead (`checkov_seam`).
"""

from __future__ import annotations

import logging
import re
import types
from collections.abc import Iterable
from typing import Any

from keyless.detect.material import CREDENTIAL_PREFIXES, KEY_ID_SHOWN, SECRET_SHOWN, SESSION_TOKEN_VALUE, mask

# In logs, over-masking is harmless: any 40-character mixed-case base64 word with a digit or a
# slash could be a secret key, any 100+ character base64 run (SESSION_TOKEN_VALUE) a session token.
_LONG_RUN = re.compile(r"[A-Za-z0-9/+=]{40}")  # what a secret or a token needs
_installed = False


def mask_text(text: str) -> str:
    """The text with every key ID, secret-like word and token masked.

    Key material never contains whitespace, so only words are examined, and only words that could
    hold some: 20 characters or more with a key ID's prefix, or 40 or more. Each distinct such word is
    masked once and replaced everywhere, so a debug dump of a whole template costs a `split`, not
    three regular-expression passes over megabytes.
    """
    if len(text) < 20:
        return text
    has_key_id = any(prefix in text for prefix in CREDENTIAL_PREFIXES)
    if not has_key_id and len(text) < 40:
        return text
    suspects = {
        word for word in text.split()
        if len(word) >= 40 or (has_key_id and len(word) >= 20 and any(prefix in word for prefix in CREDENTIAL_PREFIXES))
    }
    for word in suspects:
        masked = _mask_word(word)
        if masked != word:
            text = text.replace(word, masked)
    return text


def _mask_word(word: str) -> str:
    # The SHOWN patterns also catch a value glued to the next word by checkov's heredoc joining.
    word = KEY_ID_SHOWN.sub(lambda m: mask(m.group(0)), word)
    if len(word) >= 40 and _LONG_RUN.search(word):
        word = SESSION_TOKEN_VALUE.sub(lambda m: mask(m.group(0)), word)
        word = SECRET_SHOWN.sub(_mask_secret_like, word)
    return word


def _mask_secret_like(match: re.Match[str]) -> str:
    value = match.group(0)
    if any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c in "0123456789/+" for c in value):
        return mask(value)
    return value


_original_format = logging.Handler.format


def _masked_format(self: logging.Handler, record: logging.LogRecord) -> str:
    text = _original_format(self, record)
    try:
        return mask_text(text)
    except Exception:  # logging must never fail because of keyless
        return text


def install(unread: Iterable[logging.Handler] = ()) -> None:
    """Mask what every handler writes, now and later added (one class attribute; idempotent).

    `unread` handlers keep the plain format: buffers nobody reads unless asked, which must then be
    masked when read (checkov's debug buffer: `checkov_seam.mask_debug_buffer_when_read`).
    """
    global _installed
    if not _installed:
        logging.Handler.format = _masked_format  # type: ignore[method-assign]
        _installed = True
    for handler in unread:
        handler.format = types.MethodType(_original_format, handler)  # type: ignore[method-assign]


def installed() -> bool:
    return logging.Handler.format is _masked_format


class MaskingStream:
    """A text stream that masks key material in what is written, delegating everything else."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(mask_text(text) if isinstance(text, str) else text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def mask_console(stdout: bool = True) -> None:
    """Wrap stderr (and stdout), for processes keyless starts itself (`keyless checkov`), and for
    checkov's debug mode, where its expression evaluator prints failing expressions to stderr."""
    import sys

    if stdout and not isinstance(sys.stdout, MaskingStream):
        sys.stdout = MaskingStream(sys.stdout)
    if not isinstance(sys.stderr, MaskingStream):
        sys.stderr = MaskingStream(sys.stderr)
