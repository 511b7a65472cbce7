"""Mask key material in the code block of every record checkov writes, whichever check wrote it.

checkov prints an entity's source lines with each of its records: failed and passed, keyless's checks
and its own, Python and graph checks, in every output format (cli, json, sarif, junit...). It masks
only the values a failing SECRETS check registered, and shows up to six of their characters. So a
secret under a neutral name beside a masked key ID, a key pair in a heredoc or a commented-out
provider key reached the output of every other check of the same resource.

Once keyless is loaded in a process (its checks import this module; `keyless checkov` installs it
before checkov forks its runners), every record's code block passes through the detectors
(`detect.material.material_shown`) when the record is created, and so do the entity attributes that
graph records copy into `check_result.entity`. checkov hands one entity's records the same list of
lines, so recent blocks' answers are kept: one scan per entity, not one per record.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from keyless.detect.material import mask_known, material_shown

log = logging.getLogger(__name__)
# checkov's own masking (its SECRETS checks, its secrets scan) keeps up to six characters before ten
# asterisks; keyless shows at most four of a secret.
_CHECKOV_MASK = "*" * 10
_CHECKOV_MASKED = re.compile(r"(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{4})[A-Za-z0-9/+]{1,2}(?=\*{10})")


# Recent code blocks (held, so their identities stay valid), with their masked copies and the material found.
# checkov writes one entity's Python-check records back to back, but its graph records run check by check
# over all entities: a few hundred blocks cover both.
_RECENT: dict[int, tuple[Any, Any, frozenset[str]]] = {}
_RECENT_LIMIT = 512


def masked_code_block(block: Any) -> tuple[Any, frozenset[str]]:
    """checkov's [(line number, text), ...] with key material masked (the same list when it holds none)."""
    seen = _RECENT.get(id(block))
    if seen is not None and seen[0] is block:
        return seen[1], seen[2]
    masked, found = block, frozenset()
    if isinstance(block, list) and block:
        texts = [line for _, line in block if isinstance(line, str)]
        found = frozenset(material_shown("\n".join(texts)))
        if found or any(_CHECKOV_MASK in text for text in texts):
            masked = _masked_lines(block, texts, found)
    if len(_RECENT) >= _RECENT_LIMIT:
        _RECENT.clear()
    _RECENT[id(block)] = (block, masked, found)
    return masked, found


def _masked_lines(block: list[Any], texts: list[str], found: frozenset[str]) -> list[Any]:
    """The block with its lines masked, in one pass over the joined text (key material holds no NUL)."""
    joined = "\0".join(texts)
    parts = _masked_line(joined, found).split("\0")
    if len(parts) != len(texts) or len(texts) != len(block):  # a NUL in the code, or a line that is no text
        return [(number, _masked_line(line, found) if isinstance(line, str) else line) for number, line in block]
    return [(number, part) for (number, _), part in zip(block, parts, strict=True)]


def _masked_line(line: str, found: frozenset[str]) -> str:
    line = mask_known(line, found)
    return _CHECKOV_MASKED.sub(r"\1**", line) if _CHECKOV_MASK in line else line


def _masked_value(value: Any, found: frozenset[str]) -> Any:
    if isinstance(value, str):
        return mask_known(value, found)
    if isinstance(value, dict):
        return {k: _masked_value(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_value(v, found) for v in value]
    return value


def mask_record(record: Any) -> None:
    """Mask, in place, a record's code block and what graph records copy of the entity."""
    original = getattr(record, "code_block", None)
    block, found = masked_code_block(original)
    if block is not original:
        record.code_block = block
    if not found:
        return
    result = getattr(record, "check_result", None)
    if isinstance(result, dict) and isinstance(result.get("entity"), dict):
        result["entity"] = _masked_value(result["entity"], found)
    tags = getattr(record, "entity_tags", None)
    if isinstance(tags, dict):
        record.entity_tags = _masked_value(tags, found)


def install_code_block_masking() -> None:
    """Have every checkov Record mask its code block when it is created (once per process)."""
    try:
        from checkov.common.output.record import Record
    except ImportError:  # a checkov without this class writes records some other way
        return
    original = Record.__init__
    if getattr(original, "keyless_masking", False):
        return

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        try:
            mask_record(self)
        except Exception:  # writing a record must never fail because of keyless
            log.debug("keyless could not mask a record's code block", exc_info=True)

    __init__.keyless_masking = True  # type: ignore[attr-defined]
    Record.__init__ = __init__  # type: ignore[method-assign]



_MASKED_AT_CREATION = frozenset({"terraform", "terraform_json", "cloudformation"})
_RECORD_LISTS = ("failed_checks", "passed_checks", "skipped_checks")


def install_report_masking() -> None:
    """Mask every record of every report checkov's main process collects (once per process).

    checkov runs each framework in a forked worker. Its secrets scan loads no external checks, so no
    keyless code runs there; its records reach the main process pickled, without passing through
    `Record.__init__`. The main process imports keyless when it unpickles a keyless finding's message
    (`checkov_sarif.FindingMessage`), and from then on each collected report is masked here, except
    those of the frameworks that run keyless's checks, whose records were masked as they were created.
    """
    try:
        from checkov.common.runners.runner_registry import RunnerRegistry
    except ImportError:
        return
    original = RunnerRegistry._handle_report
    if getattr(original, "keyless_masking", False):
        return

    @functools.wraps(original)
    def _handle_report(self: Any, scan_report: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            kinds = () if getattr(scan_report, "check_type", "") in _MASKED_AT_CREATION else _RECORD_LISTS
            for kind in kinds:
                for record in getattr(scan_report, kind, None) or []:
                    mask_record(record)
        except Exception:  # reporting must never fail because of keyless
            log.debug("keyless could not mask a report's code blocks", exc_info=True)
        return original(self, scan_report, *args, **kwargs)

    _handle_report.keyless_masking = True  # type: ignore[attr-defined]
    RunnerRegistry._handle_report = _handle_report  # type: ignore[method-assign]
