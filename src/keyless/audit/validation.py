"""Reading JSON reports that come from elsewhere (CI artifacts of other repositories) as hostile input.

`keyless audit merge` builds org-wide reports from files any repository's CI job could have written, so a
report is checked against the shipped schema before any field of it is used: a wrong type, a missing field,
a rule or severity this keyless does not know becomes one line naming the file, never a traceback or a
skewed count.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from keyless.audit.model import SCHEMA_VERSION, Report, schema

_MAX_DETAIL = 200


class InvalidReport(ValueError):
    """A report file that cannot be merged; the message is one line and starts with the file's name."""


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _short(value: Any) -> str:
    """A value from the file, quoted with control characters escaped (no terminal escapes reach the log)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _where(error: ValidationError) -> str:
    where = ""
    for part in error.absolute_path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return where or "top level"


def _describe(error: ValidationError) -> str:
    where = _where(error)
    if error.validator == "enum":
        known = ", ".join(str(v) for v in error.validator_value)
        newer = " (from a newer keyless?)" if where.endswith((".rule", ".recommendation")) else ""
        return _one_line(f"{where}: {_short(error.instance)} is not one this keyless knows{newer}; known: {known}")
    if error.validator == "type":
        return f"{where}: {_short(error.instance)} is not of type {error.validator_value!r}"
    if error.validator == "pattern":
        return f"{where}: {_short(error.instance)} does not have the expected form"
    return _one_line(f"{where}: {error.message}")


def _version(data: dict[str, Any]) -> tuple[int, int] | None:
    text = data.get("schema_version")
    if not isinstance(text, str):
        return None
    major, _, minor = text.partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


def validate_report(data: Any, name: str) -> None:
    """Raise InvalidReport unless `data` is a report this keyless can read (schema version 1.x, every field valid)."""
    if not isinstance(data, dict):
        raise InvalidReport(f"{name}: not a keyless JSON report (the document is not an object)")
    ours = _version({"schema_version": SCHEMA_VERSION})
    assert ours is not None
    version = _version(data)
    if version is None:
        raise InvalidReport(f"{name}: not a keyless JSON report (no schema_version \"1.x\")")
    if version[0] != ours[0]:
        raise InvalidReport(f"{name}: unsupported report schema version {data['schema_version']!r} "
                            f"(this keyless reads {ours[0]}.x)")
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        newer = (f" (the report is schema {version[0]}.{version[1]}, newer than this keyless's {SCHEMA_VERSION}: "
                 "upgrade keyless to merge it)" if version > ours else "")
        raise InvalidReport(f"{name}: not a valid keyless report: {_describe(error)}{newer}")


def load_report(path: str) -> Report:
    """The report in the JSON file at `path`, validated; InvalidReport (one line, naming the file) otherwise."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except UnicodeDecodeError as error:
        raise InvalidReport(f"{path}: not a keyless JSON report (not UTF-8 text at byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise InvalidReport(f"{path}: not JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    except RecursionError:
        raise InvalidReport(f"{path}: not a keyless JSON report (nested too deeply)") from None
    except OSError as error:
        raise InvalidReport(f"{path}: cannot read it ({error.strerror or error})") from None
    validate_report(data, path)
    return Report.from_dict(data)
