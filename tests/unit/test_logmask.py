"""Log masking happens where records are written out: every handler that emits, none that only buffers."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from keyless.engines import logmask

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("keyless-test-logmask")
    log.propagate, log.level = False, logging.DEBUG
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)


def _stream_handler(log: logging.Logger) -> io.StringIO:
    stream = io.StringIO()
    log.addHandler(logging.StreamHandler(stream))
    return stream


def test_every_emitting_handler_writes_masked_text_even_one_added_after_install(logger: logging.Logger) -> None:
    logmask.install()
    stream = _stream_handler(logger)  # added after install, like cfn-lint's own handler
    logger.debug("Entity configuration: %s", {"secret_key": SECRET, "access_key": KEY_ID})
    try:
        raise ValueError(f"cannot evaluate {SECRET}")
    except ValueError:
        logger.warning("failed", exc_info=True)
    written = stream.getvalue()
    assert "Entity configuration" in written and "cannot evaluate" in written  # the records were written
    assert SECRET not in written and SECRET[:5] not in written and KEY_ID not in written


def test_a_record_keeps_its_own_text_for_handlers_to_format(logger: logging.Logger) -> None:
    """No work at record creation: a record no handler writes costs nothing."""
    logmask.install()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger.addHandler(Keep())
    logger.debug("key %s", KEY_ID)
    assert records[0].getMessage() == f"key {KEY_ID}"


def test_an_unread_buffer_is_not_masked_as_records_are_written(logger: logging.Logger) -> None:
    buffer = io.StringIO()
    unread = logging.StreamHandler(buffer)
    logger.addHandler(unread)
    shown = _stream_handler(logger)
    logmask.install(unread=[unread])
    logger.debug("key %s", KEY_ID)
    assert KEY_ID in buffer.getvalue(), "the buffer is masked when read (checkov_seam), not per record"
    assert KEY_ID not in shown.getvalue() and "AKIA" in shown.getvalue()
    assert logmask.installed()
