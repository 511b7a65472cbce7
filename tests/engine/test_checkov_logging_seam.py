"""What keyless takes from checkov's logging and check registries (`checkov_seam`), on the real checkov.

checkov formats every debug record into an in-memory buffer that only `--support` reads; keyless
masks that buffer when it is read, and turns it off where nobody reads it. If a checkov release
moves the buffer or the way it is read, these fail instead of a key reaching a support upload.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from checkov.common.logger_streams import LoggerStreams
from checkov.logging_init import log_stream

from keyless.engines import checkov_seam, logmask, run_checkov

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"


@pytest.fixture
def root_at_debug() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    yield root
    root.setLevel(level)


def test_the_debug_buffer_is_found_and_exempt_from_masking_per_record(root_at_debug: logging.Logger) -> None:
    buffers = checkov_seam.debug_buffer_handlers()
    assert len(buffers) == 1 and buffers[0].stream is log_stream
    checkov_seam.install_log_masking()
    assert logmask.installed()
    logging.getLogger("keyless-seam-probe").debug("config %s", {"secret": SECRET})
    assert SECRET in log_stream.getvalue()  # written as is: masked when read, below


@pytest.mark.parametrize("read", ["get_streams", "print_to_files", "print_to_console"])
def test_the_debug_buffer_is_masked_when_support_reads_it(read: str, root_at_debug: logging.Logger, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    checkov_seam.install_log_masking()
    logging.getLogger("keyless-seam-probe").debug("config %s %s", SECRET, KEY_ID)
    streams = LoggerStreams()
    streams.add_stream("main", log_stream)  # what checkov's main does under --support
    monkeypatch.chdir(tmp_path)
    getattr(streams, read)()
    if read == "get_streams":
        text = streams.get_streams()["main"].getvalue()
    elif read == "print_to_files":
        text = (tmp_path / "checkov_debug_main.log").read_text()
    else:
        text = capsys.readouterr().err
    assert "config" in text and "AKIA" in text  # the buffer was read
    assert SECRET not in text and SECRET[:5] not in text and KEY_ID not in text


def test_unread_debug_records_are_not_created_unless_asked_for(root_at_debug: logging.Logger,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    assert checkov_seam.skip_unread_debug_log(support=True) is False
    assert root_at_debug.level == logging.DEBUG
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert checkov_seam.skip_unread_debug_log(support=False) is False
    assert root_at_debug.level == logging.DEBUG
    monkeypatch.delenv("LOG_LEVEL")
    assert checkov_seam.skip_unread_debug_log(support=False) is True
    assert not root_at_debug.isEnabledFor(logging.DEBUG)


def test_the_audit_runs_with_only_its_checks_registered_and_everything_back_after() -> None:
    from checkov.terraform.checks.resource.registry import resource_registry

    folder = str(FIXTURES / "iam-access-key" / "terraform")
    full = run_checkov(folder, frameworks=["terraform"])  # every check registered, keyless's included
    before = {entity: [c.id for c in checks] for entity, checks in resource_registry.checks.items()}
    assert any(not i.startswith("CKV_KEYLESS_") for ids in before.values() for i in ids)
    with checkov_seam.registries_holding_only(["CKV_KEYLESS_*"], ["terraform"]):
        inside = [c.id for checks in resource_registry.checks.values() for c in checks]
        assert inside and all(i.startswith("CKV_KEYLESS_") for i in inside)
        lean = run_checkov(folder, frameworks=["terraform"])
    after = {entity: [c.id for c in checks] for entity, checks in resource_registry.checks.items()}
    assert after == before
    records = [sorted((r.check_id, r.resource, r.check_result["result"].name) for r in report.failed_checks)
               for report in (lean[0], full[0])]
    assert records[0] and records[0] == records[1]
