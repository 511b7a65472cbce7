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

from keyless.detect.material import KEY_ID, KEY_ID_PREFIXES, SECRET_CANDIDATE, mask_key_id, mask_secret

# In logs, over-masking is harmless: any 40-character mixed-case base64 word with a digit or a
# slash could be a secret key, any 100+ character base64 run a session token.
_TOKEN = re.compile(r"[A-Za-z0-9/+=]{100,}")
# A secret or a token is a run of 40 or more of these characters.
_LONG_RUN = re.compile(r"[A-Za-z0-9/+=]{40}")
_installed = False


def _may_hold_key_material(text: str) -> bool:
    """A cheap test that every maskable text passes: checkov logs several lines per check run.

    A key ID starts with one of four literals; key material never contains whitespace, so a secret
    or token lies in a word of 40 characters or more. Substring tests and `split` run at C speed;
    the regular expressions only see the rare long word.
    """
    akia, asia, abia, acca = KEY_ID_PREFIXES
    if akia in text or asia in text or abia in text or acca in text:
        return True
    if len(text) < 40:
        return False
    words = text.split()
    if max(map(len, words), default=0) < 40:
        return False
    return any(_LONG_RUN.search(word) for word in words if len(word) >= 40)


def mask_text(text: str) -> str:
    if len(text) < 20 or not _may_hold_key_material(text):
        return text
    text = KEY_ID.sub(lambda m: mask_key_id(m.group(0)), text)
    if len(text) >= 40:
        text = SECRET_CANDIDATE.sub(_mask_secret_like, text)
        text = _TOKEN.sub(lambda m: mask_secret(m.group(0)), text)
    return text


def _mask_secret_like(match: re.Match[str]) -> str:
    value = match.group(0)
    if any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c in "0123456789/+" for c in value):
        return mask_secret(value)
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
