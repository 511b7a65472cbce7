"""The audit's options from a config file, rule selection and output targets, checked before any scan.

Everything here is cheap and runs before the engines are imported, so a typo in an option, a rule
ID or a file name is reported in a moment rather than after checkov's seconds of start-up.

Config file: `--config FILE`, else `.keyless.yaml` (or `.keyless.yml`) in the working directory,
else in the audited folder when exactly one is given. It holds the long options by name
(`skip-check: [CKV_KEYLESS_6]`); a value given on the command line wins over the file's, lists
included (a command-line list replaces the file's). File paths in it are relative to the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from keyless.catalog import RULES

CONFIG_NAMES = (".keyless.yaml", ".keyless.yml")


class UsageError(ValueError):
    """A mistake in the options: reported in one line, exit code 2, nothing scanned."""


@dataclass(frozen=True)
class Option:
    kind: type  # str, bool, int or list (of str)
    is_path: bool = False


# Long option name (as on the command line, without dashes) -> what the config file may hold.
OPTIONS = {
    "format": Option(str),
    "output": Option(str, is_path=True),
    "output-file": Option(list, is_path=True),
    "exclude": Option(list),
    "baseline": Option(str, is_path=True),
    "write-baseline": Option(str, is_path=True),
    "fail-on": Option(str),
    "soft-fail": Option(bool),
    "check": Option(list),
    "skip-check": Option(list),
    "jobs": Option(int),
    "no-progress": Option(bool),
    "compact": Option(bool),
}


def find_config(explicit: str | None, paths: Iterable[str]) -> str | None:
    """The config file that applies: the one named, the working directory's, or the one audited folder's."""
    if explicit is not None:
        if not os.path.isfile(explicit) and explicit != os.devnull:
            raise UsageError(f"--config {explicit}: no such file")
        return explicit
    folders = ["."]
    paths = list(paths)
    if len(paths) == 1:
        folders.append(paths[0])
    for folder in folders:
        for name in CONFIG_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
    return None


def load_config(path: str) -> dict[str, Any]:
    """The file's options under their command-line names, checked, with paths made usable from here."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        raise UsageError(f"{path}: cannot be read: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise UsageError(f"{path}: not valid YAML{line}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of option names to values")
    base = os.path.dirname(path)
    config: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("_", "-").lstrip("-")
        option = OPTIONS.get(name)
        if option is None:
            raise UsageError(f"{path}: unknown option {key!r} (known: {', '.join(OPTIONS)})")
        config[name] = _checked(path, name, option, value, base)
    return config


def _checked(path: str, name: str, option: Option, value: Any, base: str) -> Any:
    if option.kind is list:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, dict) and name == "output-file":  # {json: report.json, sarif: report.sarif}
            value = [f"{fmt}:{target}" for fmt, target in value.items()]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise UsageError(f"{path}: {name} must be a list of strings")
        value = [str(v) for v in value]
        if option.is_path:  # FORMAT:FILE: only the file part is a path
            value = [f"{fmt}:{_join(base, target)}" if sep else v
                     for v in value for fmt, sep, target in [v.partition(":")]]
        return value
    if option.kind is bool:
        if not isinstance(value, bool):
            raise UsageError(f"{path}: {name} must be true or false")
        return value
    if option.kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"{path}: {name} must be a whole number, 1 or more")
        return value
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise UsageError(f"{path}: {name} must be a string")
    value = str(value)
    return _join(base, value) if option.is_path else value


def _join(base: str, path: str) -> str:
    return path if os.path.isabs(path) or not base else os.path.join(base, path)


# --- rule selection ------------------------------------------------------------------------------


def patterns(values: Iterable[str]) -> list[str]:
    """Repeated options and comma lists as one list: `--check A,B --check C` -> [A, B, C]."""
    return [p.strip() for value in values for p in str(value).split(",") if p.strip()]


def _matching(pattern: str, option: str) -> set[str]:
    lowered = pattern.lower()
    found = {r.slug for r in RULES if any(fnmatchcase(i.lower(), lowered) for i in r.ids)}
    if not found:
        raise UsageError(f"{option} {pattern}: no keyless rule matches (give a slug, a CKV_KEYLESS_ or cfn-lint ID, "
                         "or a wildcard such as CKV_KEYLESS_*; `keyless rules` lists them)")
    return found


def selected_rules(check: Iterable[str], skip: Iterable[str]) -> set[str] | None:
    """The rule slugs to report, or None for all: --check keeps, --skip-check then removes (as checkov does)."""
    check, skip = patterns(check), patterns(skip)
    if not check and not skip:
        return None
    every = {r.slug for r in RULES}
    kept = set().union(*(_matching(p, "--check") for p in check)) if check else set(every)
    for pattern in skip:
        kept -= _matching(pattern, "--skip-check")
    if not kept:
        raise UsageError("--check/--skip-check leave no rule to check")
    return kept


# --- output targets ------------------------------------------------------------------------------


def output_targets(values: Iterable[str], formats: Iterable[str]) -> list[tuple[str, str]]:
    """`--output-file FORMAT:FILE` values as (format, file) pairs."""
    known = tuple(formats)
    targets = []
    for value in values:
        fmt, sep, target = value.partition(":")
        if not sep or not target:
            raise UsageError(f"--output-file {value}: expected FORMAT:FILE, e.g. sarif:keyless.sarif")
        if fmt.lower() not in known:
            raise UsageError(f"--output-file {value}: unknown format {fmt!r} (choose from {', '.join(known)})")
        targets.append((fmt.lower(), target))
    return targets


def same_file(a: str, b: str) -> bool:
    """Whether two names lead to one file (existing or not)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
