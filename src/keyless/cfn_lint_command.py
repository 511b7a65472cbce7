"""`keyless cfn-lint [CFN-LINT OPTIONS] [--] PATH ...`: cfn-lint with the keyless rules, on templates only.

cfn-lint reports every file it is given as a template, so a pre-commit hook that hands it the changed
`*.yaml`/`*.json` files fails on `package.json`, workflow YAML and `.pre-commit-config.yaml` (E1001),
and a CI step with a glob fails where no template matches. This command keeps the files that are
CloudFormation or SAM templates by the audit's rule (`keyless.audit.discover.looks_like_template`: a
top-level `Resources` section plus `AWSTemplateFormatVersion` or an `AWS::Service::Type` name, which
SAM's `AWS::Serverless::*` resources are), walks folders the way the audit does, expands quoted globs,
and runs cfn-lint on what is left with the keyless rules appended. Options pass through to cfn-lint
unchanged, and so does its exit code. With no template at all it lints nothing and exits 0.
"""

from __future__ import annotations

import glob
import os
import stat
import sys
from collections.abc import Iterator, Sequence

from keyless.audit.discover import RECOGNITION_CHARS, TEMPLATE_SUFFIXES, Exclusions, looks_like_template, walk

RULES_MODULE = "keyless.cfn_lint"
_GLOB_CHARS = set("*?[")


def is_template(path: str) -> bool:
    """Whether a file is a CloudFormation/SAM template (never opens a FIFO, device or socket)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, encoding="utf-8-sig") as handle:
            return looks_like_template(handle.read(RECOGNITION_CHARS))
    except (OSError, UnicodeDecodeError):
        return False


def _candidates(path: str) -> Iterator[str]:
    if os.path.isdir(path):
        for rel in walk(path, Exclusions(path)):
            if rel.lower().endswith(TEMPLATE_SUFFIXES):
                yield os.path.join(path, rel)
    elif not os.path.lexists(path) and _GLOB_CHARS & set(path):
        yield from sorted(glob.glob(path, recursive=True))
    else:
        yield path


def templates_among(paths: Sequence[str]) -> list[str]:
    """The templates among files, folders (walked) and globs, in the order given, each once."""
    seen: dict[str, None] = {}
    for path in paths:
        for candidate in _candidates(path):
            if candidate not in seen and is_template(candidate):
                seen[candidate] = None
    return list(seen)


def split_arguments(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """cfn-lint's options and the paths, as cfn-lint's own parser tells them apart."""
    if "--" in argv:
        cut = list(argv).index("--")
        return list(argv[:cut]), list(argv[cut + 1:])
    from cfnlint.config import CliArgs

    paths = list(CliArgs(list(argv)).cli_args.templates or [])
    remaining = list(argv)
    for path in reversed(paths):  # positionals: drop the last occurrence of each, options keep theirs
        index = len(remaining) - 1 - remaining[::-1].index(path)
        del remaining[index]
    return remaining, paths


def _with_keyless_rules(options: list[str]) -> list[str]:
    """Append the keyless rules unless the options or a .cfnlintrc already do (twice is a DuplicateRuleError)."""
    from cfnlint.config import ConfigMixIn

    if RULES_MODULE in ConfigMixIn(options).append_rules:
        return options
    return ["--append-rules", RULES_MODULE, *options]


def _empty_output(options: list[str]) -> str:
    """What cfn-lint would print for no findings, where a tool reads the output (json, sarif, junit)."""
    from cfnlint.config import ConfigMixIn

    config = ConfigMixIn(options)
    if config.format == "junit":  # cfn-lint's JUnit formatter writes nothing without rules: an empty suite instead
        from junit_xml import TestSuite, to_xml_report_string

        return to_xml_report_string([TestSuite("CloudFormation Lint", [])])
    if config.format in ("json", "sarif"):
        from cfnlint.rules import Rules
        from cfnlint.runner.cli import get_formatter

        return get_formatter(config).print_matches([], Rules(), config) or ""
    return ""


def main(argv: Sequence[str]) -> int:
    options, paths = split_arguments(argv)
    if not paths:
        print("keyless cfn-lint: error: name the templates, folders or globs to lint (after --)", file=sys.stderr)
        return 2
    missing = [p for p in paths if not os.path.lexists(p) and not _GLOB_CHARS & set(p)]
    if missing:
        print(f"keyless cfn-lint: error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    templates = templates_among(paths)
    if not templates:
        print(f"keyless cfn-lint: no CloudFormation template among {', '.join(paths)}; nothing to lint",
              file=sys.stderr)
        output = _empty_output(options)
        if output:
            print(output)
        return 0
    from cfnlint.runner import main as cfn_lint_main

    saved = sys.argv
    sys.argv = ["cfn-lint", *_with_keyless_rules(options), "--", *templates]
    try:
        cfn_lint_main()
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = saved
    return 0
