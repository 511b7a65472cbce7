"""Mask AWS key material in every log record (and, for `keyless checkov`, every console write).

Engines log freely at debug level (checkov dumps whole templates and entity configurations, and
its expression evaluator prints failing expressions straight to stderr), and a CI log is exactly
where a key must not land. Once installed, every record's message and exception text are masked as
they are created, before any handler sees them.
"""

from __future__ import annotations

import logging
import re
import traceback
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


def install() -> None:
    """Wrap the log record factory once; records created afterwards carry masked text only."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
            masked = mask_text(message)
            if masked != message:
                record.msg, record.args = masked, None
            if record.exc_info and record.exc_info[0] is not None:
                record.exc_text = mask_text("".join(traceback.format_exception(*record.exc_info)).rstrip())
        except Exception:  # logging must never fail because of keyless
            pass
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class MaskingStream:
    """A text stream that masks key material in what is written, delegating everything else."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(mask_text(text) if isinstance(text, str) else text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def mask_console() -> None:
    """Wrap stdout and stderr, for processes keyless starts itself (`keyless checkov`)."""
    import sys

    if not isinstance(sys.stdout, MaskingStream):
        sys.stdout = MaskingStream(sys.stdout)
    if not isinstance(sys.stderr, MaskingStream):
        sys.stderr = MaskingStream(sys.stderr)
